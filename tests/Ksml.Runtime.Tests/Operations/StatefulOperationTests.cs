using System.Text.Json.Nodes;
using Ksml.Runtime.Tests.Support;
using Microsoft.Extensions.Logging;
using Topics = Ksml.Runtime.Tests.StatefulKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>stateful.ksml.yaml under TopologyTestDriver: stores, aggregations, windows and joins.</summary>
public sealed class StatefulOperationTests
{
    private KsmlDriver _driver = null!;
    private CapturingLoggerFactory _logs = null!;

    [SetUp]
    public void Start()
    {
        _logs = new CapturingLoggerFactory();
        _driver = new KsmlDriver(new StatefulKsml(), _logs);
    }

    [TearDown]
    public void Stop()
    {
        _driver.Dispose();
        _logs.Dispose();
    }

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    private static DateTime At(int seconds) => DateTime.UnixEpoch.AddSeconds(1_700_000_000 + seconds);

    [Test]
    public void A_predicate_with_a_store_remembers_what_it_has_seen()
    {
        var input = _driver.Input<string, JsonNode>(Topics.dedup_in);
        var output = _driver.Output<string, JsonNode>(Topics.dedup_out);

        input.PipeInput("a", Json("""{"id":"o1"}"""));
        input.PipeInput("b", Json("""{"id":"o2"}"""));
        input.PipeInput("c", Json("""{"id":"o1"}"""));

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[] { "a", "b" }));
        var store = _driver.Driver.GetKeyValueStore<string, long?>("seen_orders");
        Assert.That(store.Get("o1"), Is.EqualTo(1L));
        Assert.That(store.Get("o2"), Is.EqualTo(1L));
    }

    [Test]
    public void A_record_without_a_key_reaches_a_function_that_uses_stores_as_in_Kafka_Streams()
    {
        // Streamiz's stateful transformers dropped it with a warning; KSML's example generators write null keys.
        var input = _driver.Input<string, JsonNode>(Topics.dedup_in);
        var output = _driver.Output<string, JsonNode>(Topics.dedup_out);

        input.PipeInput(null!, Json("""{"id":"keyless"}"""));
        input.PipeInput(null!, Json("""{"id":"keyless"}"""));

        var passed = output.ReadKeyValueList().ToList();
        Assert.That(passed, Has.Count.EqualTo(1));
        Assert.That(passed[0].Message.Key, Is.Null);
        Assert.That(_driver.Driver.GetKeyValueStore<string, long?>("seen_orders").Get("keyless"), Is.EqualTo(1L));
    }

    [Test]
    public void The_key_value_store_api_from_python_tells_a_missing_key_from_a_stored_zero()
    {
        var input = _driver.Input<string, string>(Topics.store_api_in);
        var output = _driver.Output<string, JsonNode>(Topics.store_api_out);

        input.PipeInput("k", "go");

        Assert.That(output.ReadValueList().Single()!.ToJsonString(),
            Is.EqualTo("""{"before":null,"zero":0,"kept":0,"entries":[["k",0],["k-new",7]],"count":2,"deleted":7,"after":null}"""));
    }

    [Test]
    public void GroupByKey_and_count()
    {
        var input = _driver.Input<string, JsonNode>(Topics.purchases);
        var output = _driver.Output<string, long>(Topics.purchase_counts);

        foreach (var key in new[] { "ann", "bob", "ann" })
            input.PipeInput(key, Json("""{"customer":"x","amount":1}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("ann", 1L), ("bob", 1L), ("ann", 2L) }));
    }

    [Test]
    public void GroupBy_and_aggregate_with_initializer_and_aggregator_into_a_named_store()
    {
        var input = _driver.Input<string, JsonNode>(Topics.purchases);
        var output = _driver.Output<string, JsonNode>(Topics.spend);

        input.PipeInput("p1", Json("""{"customer":"ann","amount":10.5}"""));
        input.PipeInput("p2", Json("""{"customer":"bob","amount":3}"""));
        input.PipeInput("p3", Json("""{"customer":"ann","amount":4.25}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())), Is.EqualTo(new[]
        {
            ("ann", """{"count":1,"total":10.5}"""),
            ("bob", """{"count":1,"total":3.0}"""),
            ("ann", """{"count":2,"total":14.75}"""),
        }));
        Assert.That(_driver.Driver.GetKeyValueStore<string, JsonNode>("spend_store").Get("ann")!.ToJsonString(), Is.EqualTo("""{"count":2,"total":14.75}"""));
    }

    [Test]
    public void Tumbling_windows_count_per_window_and_python_sees_the_windowed_key()
    {
        var input = _driver.Input<string, string>(Topics.clicks);
        var output = _driver.Output<string, long>(Topics.clicks_per_minute);
        var windowStart = (1_700_000_000L / 60 + 1) * 60;

        input.PipeInput("home", "c", DateTime.UnixEpoch.AddSeconds(windowStart + 1));
        input.PipeInput("home", "c", DateTime.UnixEpoch.AddSeconds(windowStart + 30));
        input.PipeInput("home", "c", DateTime.UnixEpoch.AddSeconds(windowStart + 61));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[]
        {
            ($"home@{windowStart * 1000}", 1L),
            ($"home@{windowStart * 1000}", 2L),
            ($"home@{(windowStart + 60) * 1000}", 1L),
        }));
    }

    [Test]
    public void Reduce_keeps_the_largest()
    {
        var input = _driver.Input<string, long>(Topics.max_in);
        var output = _driver.Output<string, long>(Topics.max_out);

        foreach (var value in new[] { 3L, 9L, 4L })
            input.PipeInput("k", value);

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { 3L, 9L, 9L }));
    }

    [Test]
    public void Stream_table_left_join()
    {
        var customers = _driver.Input<string, JsonNode>(StatefulKsml.Topics.customers);
        var shipments = _driver.Input<string, JsonNode>(Topics.shipments);
        var output = _driver.Output<string, JsonNode>(Topics.enriched_shipments);

        customers.PipeInput("ann", Json("""{"name":"Ann Smith"}"""), At(0));
        shipments.PipeInput("ann", Json("""{"item":"book"}"""), At(1));
        shipments.PipeInput("zed", Json("""{"item":"pen"}"""), At(2));

        Assert.That(output.ReadValueList().Select(v => v!.ToJsonString()), Is.EqualTo(new[]
        {
            """{"item":"book","customer_name":"Ann Smith"}""",
            """{"item":"pen","customer_name":null}""",
        }));
    }

    [Test]
    public void A_failing_joiner_under_continue_on_fail_forwards_nothing_instead_of_a_tombstone()
    {
        using var logs = new CapturingLoggerFactory();
        var continueOnFail = new Ksml.Runtime.ErrorHandling.ErrorHandlingOptions { Process = new() { Handler = Ksml.Runtime.ErrorHandling.ErrorHandlerKind.ContinueOnFail } };
        using var driver = new KsmlDriver(new StatefulKsml(), logs, new Ksml.Runtime.ErrorHandling.KsmlErrorHandler(continueOnFail, logs, null));
        var customers = driver.Input<string, JsonNode>(StatefulKsml.Topics.customers);
        var shipments = driver.Input<string, JsonNode>(Topics.shipments);
        var output = driver.Output<string, JsonNode>(Topics.enriched_shipments);

        customers.PipeInput("ann", Json("""{"name":"Ann Smith"}"""), At(0));
        shipments.PipeInput("ann", Json("\"not an object\""), At(1)); // {**value1} raises TypeError
        shipments.PipeInput("ann", Json("""{"item":"book"}"""), At(2));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value?.ToJsonString())), Is.EqualTo(new[]
        {
            ("ann", (string?)"""{"item":"book","customer_name":"Ann Smith"}"""),
        }), "the failed record is dropped, not forwarded as (ann, null)");
        Assert.That(logs.Lines.Select(l => l.Message), Has.Some.Contains("TypeError"));
    }

    [Test]
    public void Dead_letters_of_aggregators_and_joiners_carry_the_coordinates_of_the_record_that_failed()
    {
        // Streamiz calls aggregators and joiners without a record context; the dead letter must still say where
        // the record is, so it can be replayed or deduplicated.
        using var logs = new CapturingLoggerFactory();
        var deadLetters = new DeadLetterList();
        var continueOnFail = new Ksml.Runtime.ErrorHandling.ErrorHandlingOptions
        {
            Process = new() { Handler = Ksml.Runtime.ErrorHandling.ErrorHandlerKind.ContinueOnFail, DeadLetterTopic = "failed" },
        };
        using var driver = new KsmlDriver(new StatefulKsml(), logs, new Ksml.Runtime.ErrorHandling.KsmlErrorHandler(continueOnFail, logs, deadLetters));
        var customers = driver.Input<string, JsonNode>(StatefulKsml.Topics.customers);
        var shipments = driver.Input<string, JsonNode>(Topics.shipments);
        var purchases = driver.Input<string, JsonNode>(Topics.purchases);

        customers.PipeInput("ann", Json("""{"name":"Ann Smith"}"""), At(0));
        shipments.PipeInput("ann", Json("""{"item":"book"}"""), At(1));
        shipments.PipeInput("ann", Json("\"not an object\""), At(2)); // the joiner's {**value1} raises TypeError
        purchases.PipeInput("p1", Json("""{"customer":"ann","amount":"ten"}"""), At(3)); // the aggregator's + raises TypeError

        var byStep = deadLetters.Sent.Select(d => d.Headers).ToLookup(h => h["ksml.error.function"]);
        Assert.Multiple(() =>
        {
            var joined = byStep["join_customer"].Single();
            Assert.That((joined["ksml.source.topic"], joined["ksml.source.offset"]), Is.EqualTo((Topics.shipments.Topic, "1")), "the second shipment");
            var aggregated = byStep["add_spend"].Single();
            Assert.That(aggregated["ksml.source.topic"], Does.EndWith("-repartition"), "the aggregator reads the repartitioned record");
            Assert.That(aggregated["ksml.source.offset"], Is.EqualTo("0"));
            Assert.That(aggregated, Contains.Key("ksml.source.partition"));
        });
    }

    [Test]
    public void Stream_stream_join_within_the_time_difference()
    {
        var shipments = _driver.Input<string, JsonNode>(Topics.shipments);
        var payments = _driver.Input<string, JsonNode>(Topics.payments);
        var output = _driver.Output<string, JsonNode>(Topics.paid_shipments);

        shipments.PipeInput("o1", Json("""{"item":"book"}"""), At(0));
        payments.PipeInput("o1", Json("""{"amount":12}"""), At(60));
        shipments.PipeInput("o2", Json("""{"item":"pen"}"""), At(0));
        payments.PipeInput("o2", Json("""{"amount":1}"""), At(3600));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())), Is.EqualTo(new[]
        {
            ("o1", """{"item":"book","paid":12}"""),
        }));
    }

    [Test]
    public void Stream_global_table_join_through_a_key_mapper()
    {
        var countries = _driver.Input<string, JsonNode>(StatefulKsml.Topics.countries);
        var orders = _driver.Input<string, JsonNode>(Topics.country_orders);
        var output = _driver.Output<string, JsonNode>(Topics.enriched_country_orders);

        countries.PipeInput("NL", Json("""{"currency":"EUR"}"""));
        orders.PipeInput("o1", Json("""{"country":"NL"}"""));
        orders.PipeInput("o2", Json("""{"country":"XX"}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())), Is.EqualTo(new[]
        {
            ("o1", """{"country":"NL","currency":"EUR"}"""),
        }));
    }

    [Test]
    public void A_peek_using_a_store_that_fails_under_continue_on_fail_skips_the_effect_and_passes_the_record_on()
    {
        using var logs = new CapturingLoggerFactory();
        var continueOnFail = new Ksml.Runtime.ErrorHandling.ErrorHandlingOptions { Process = new() { Handler = Ksml.Runtime.ErrorHandling.ErrorHandlerKind.ContinueOnFail } };
        using var driver = new KsmlDriver(new StatefulKsml(), logs, new Ksml.Runtime.ErrorHandling.KsmlErrorHandler(continueOnFail, logs, null));
        var input = driver.Input<string, string>(Topics.tallied_in);
        var output = driver.Output<string, string>(Topics.tallied);

        input.PipeInput("a", "1");
        input.PipeInput("b", "x"); // int("x") raises ValueError inside the peek
        input.PipeInput("c", "2");

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { "1", "x", "2" }), "a peek observes; its failure does not drop the record");
        Assert.That(logs.Lines.Select(l => l.Message), Has.Some.Contains("ValueError"));
    }

    [Test]
    public void Peek_runs_the_forEach_and_passes_records_on()
    {
        var input = _driver.Input<string, string>(Topics.printed_in);
        var output = _driver.Output<string, string>(Topics.audited);

        input.PipeInput("k1", "v1");

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { "v1" }));
        Assert.That(_logs.Lines, Does.Contain(("stateful.function.audit", LogLevel.Information, "audit k1=v1")));
    }
}
