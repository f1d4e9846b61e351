using Ksml.Testing;
using System.Text.Json.Nodes;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Tests.Support;
using Streamiz.Kafka.Net.Errors;
using Topics = Ksml.Runtime.Tests.StatelessKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>stateless.ksml.yaml under TopologyTestDriver: every record goes through its Python functions.</summary>
public sealed class StatelessOperationTests
{
    private KsmlDriver _driver = null!;

    [SetUp]
    public void Start() => _driver = new KsmlDriver(new StatelessKsml());

    [TearDown]
    public void Stop() => _driver.Dispose();

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    private static string Text(JsonNode? node) => node?.ToJsonString() ?? "null";

    [Test]
    public void Filter_keeps_what_the_predicate_accepts()
    {
        var input = _driver.Input<string, JsonNode>(Topics.orders);
        var output = _driver.Output<string, JsonNode>(Topics.large_orders);

        input.PipeInput("small", Json("""{"qty":1,"price":5}"""));
        input.PipeInput("large", Json("""{"qty":10,"price":10}"""));

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "large" }));
    }

    [Test]
    public void FilterNot_with_an_inline_predicate_then_transformKey_and_transformValue()
    {
        var input = _driver.Input<string, JsonNode>(Topics.order_lines);
        var output = _driver.Output<string, double>(Topics.totals);

        input.PipeInput("o1", Json("""{"customer":"ann","qty":3,"price":1.5}"""));
        input.PipeInput("o2", Json("""{"customer":"bob","qty":1,"price":2,"cancelled":true}"""));
        input.PipeInput("o3", Json("""{"customer":"cid","qty":2,"price":0.333}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("ann", 4.5), ("cid", 0.67) }));
    }

    [Test]
    public void TransformKeyValueToKeyValueList_emits_one_record_per_pair()
    {
        var tagged = _driver.Input<string, JsonNode>(Topics.tagged);
        var totals = _driver.Output<string, double>(Topics.totals);

        tagged.PipeInput("o9", Json("""{"lines":[{"customer":"ann","qty":1,"price":2},{"customer":"bob","qty":2,"price":2}]}"""));

        // explode → order_lines → compute_totals → totals
        Assert.That(totals.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("ann", 2.0), ("bob", 4.0) }));
    }

    [Test]
    public void TransformKeyValueToValueList_then_transformKeyValue()
    {
        var input = _driver.Input<string, string>(Topics.words_in);
        var output = _driver.Output<string, string>(Topics.words_out);

        input.PipeInput("k", "hello kafka streams");

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)),
            Is.EqualTo(new[] { ("K", "HELLO"), ("K", "KAFKA"), ("K", "STREAMS") }));
    }

    [Test]
    public void Branch_sends_each_record_to_the_first_matching_branch_including_nested_ones()
    {
        var input = _driver.Input<string, JsonNode>(Topics.priority_orders);
        var large = _driver.Output<string, JsonNode>(Topics.large_orders);
        var normal = _driver.Output<string, JsonNode>(Topics.normal_orders);
        var other = _driver.Output<string, JsonNode>(Topics.other_orders);

        input.PipeInput("high-big", Json("""{"priority":"high","qty":50}"""));
        input.PipeInput("high-small", Json("""{"priority":"high","qty":1}"""));
        input.PipeInput("low", Json("""{"priority":"low","qty":50}"""));
        input.PipeInput("none", Json("""{"qty":50}"""));

        Assert.That(large.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "high-big" }));
        Assert.That(normal.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "high-small", "low" }));
        Assert.That(other.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "none" }));
    }

    [Test]
    public void ToTopicNameExtractor_writes_to_the_topic_the_function_names()
    {
        var input = _driver.Input<string, JsonNode>(Topics.routed_in);
        var eu = _driver.Output<string, JsonNode>("region_eu", KsmlDataTypes.Parse("string"), KsmlDataTypes.Parse("json"));
        var us = _driver.Output<string, JsonNode>("region_us", KsmlDataTypes.Parse("string"), KsmlDataTypes.Parse("json"));

        input.PipeInput("a", Json("""{"region":"eu"}"""));
        input.PipeInput("b", Json("""{"region":"us"}"""));
        input.PipeInput("c", Json("""{"region":"eu"}"""));

        Assert.That(eu.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "a", "c" }));
        Assert.That(us.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void TransformMetadata_changes_headers_and_timestamp()
    {
        var input = _driver.Input<string, JsonNode>(Topics.stamped_in);
        var output = _driver.Output<string, JsonNode>(Topics.stamped_out);

        input.PipeInput("k", Json("""{"x":1}"""), DateTime.UnixEpoch.AddMilliseconds(5000));

        var record = output.ReadKeyValueList().Single();
        Assert.That(record.Message.Timestamp.UnixTimestampMs, Is.EqualTo(6000));
        Assert.That(record.Message.Headers.Select(h => (h.Key, System.Text.Encoding.UTF8.GetString(h.GetValueBytes()))), Is.EqualTo(new[] { ("source", "RecordMetadata from ksml") }));
        Assert.That(Text(record.Message.Value), Is.EqualTo("""{"x":1}"""));
    }

    [Test]
    public void Merge_combines_both_streams()
    {
        var a = _driver.Input<string, string>(Topics.merge_a);
        var b = _driver.Input<string, string>(Topics.merge_b);
        var output = _driver.Output<string, string>(Topics.merged);

        a.PipeInput("1", "from a");
        b.PipeInput("2", "from b");

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Value), Is.EqualTo(new[] { "from a", "from b" }));
    }

    [Test]
    public void Merge_takes_an_earlier_pipelines_output_by_name()
    {
        var a = _driver.Input<string, string>(Topics.merge_a);
        var b = _driver.Input<string, string>(Topics.merge_b);
        var output = _driver.Output<string, string>(Topics.merged_with_pipeline);

        a.PipeInput("1", "from a");
        b.PipeInput("2", "from b");

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Value), Is.EqualTo(new[] { "from a", "FROM B" }));
    }

    [Test]
    public void A_function_with_declared_resilience_retries_transient_failures_and_caches_results()
    {
        var input = _driver.Input<string, string>(Topics.resilient_in);
        var output = _driver.Output<string, string>(Topics.resilient_out);

        input.PipeInput("k1", "order-1");
        input.PipeInput("k1", "order-1");

        // Two ConnectionErrors are retried; the second record with the same key and value comes from the cache.
        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { "order-1 after 3 calls", "order-1 after 3 calls" }));
    }

    [Test]
    public void A_result_of_the_wrong_type_names_the_function_its_yaml_line_and_both_types()
    {
        var input = _driver.Input<string, JsonNode>(Topics.bad_results_in);

        var error = Assert.Catch(() => input.PipeInput("k", Json("{}")))!;

        var cause = Unwrap(error);
        Assert.That(cause, Is.InstanceOf<Values.KsmlTypeException>());
        Assert.That(cause.Message, Does.Match(@"the result of 'returns_text' \(.*stateless\.ksml\.yaml:\d+\): expected a long, got str$"), "no payload in the message");
        Assert.That(((Values.KsmlTypeException)cause).WithPayload, Does.EndWith("got str 'not a number'"));
    }

    private static Exception Unwrap(Exception error)
    {
        while (error is StreamsException or Streamiz.Kafka.Net.Errors.ProcessorStateException && error.InnerException is not null)
            error = error.InnerException;
        return error.InnerException is KsmlFunctionException or Values.KsmlTypeException ? error.InnerException : error;
    }
}
