using System.Text.Json.Nodes;
using Ksml.Runtime.Tests.Support;
using Microsoft.Extensions.Logging;
using Topics = Ksml.Runtime.Tests.TablesKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>tables.ksml.yaml under TopologyTestDriver: tables, suppressed hopping windows, event time, partitioners, print and forEach.</summary>
public sealed class TableAndWindowTests
{
    private KsmlDriver _driver = null!;
    private CapturingLoggerFactory _logs = null!;

    [SetUp]
    public void Start()
    {
        File.Delete("printed-records.txt");
        _logs = new CapturingLoggerFactory();
        _driver = new KsmlDriver(new TablesKsml(), _logs);
    }

    [TearDown]
    public void Stop()
    {
        _driver.Dispose();
        _logs.Dispose();
    }

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    [Test]
    public void Hopping_windows_on_event_time_from_a_timestamp_extractor_emit_once_when_they_close()
    {
        var input = _driver.Input<string, JsonNode>(Topics.readings);
        var output = _driver.Output<string, JsonNode>(Topics.readings_per_window);
        var t0 = 1_700_000_000_000L; // a multiple of 10 s and of 5 s

        // The record timestamp is ignored: event time comes from measured_at.
        input.PipeInput("s1", Json($$"""{"v":1,"measured_at":{{t0 + 1000}}}"""), DateTime.UnixEpoch);
        Assert.That(output.ReadKeyValueList(), Is.Empty, "suppressed until the window closes");
        // Event time t0+6s closes [t0-5s, t0+5s) and nothing else.
        input.PipeInput("s1", Json($$"""{"v":2,"measured_at":{{t0 + 6000}}}"""), DateTime.UnixEpoch);
        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())),
            Is.EqualTo(new[] { ($"s1@{t0 - 5000}", """{"n":1,"sum":1}""") }));
        input.PipeInput("s1", Json($$"""{"v":4,"measured_at":{{t0 + 30000}}}"""), DateTime.UnixEpoch);

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())), Is.EqualTo(new[]
        {
            ($"s1@{t0}", """{"n":2,"sum":3}"""),
            ($"s1@{t0 + 5000}", """{"n":1,"sum":2}"""),
        }));
    }

    [Test]
    public void Suppression_until_a_window_closes_waits_for_its_grace_period()
    {
        var input = _driver.Input<string, JsonNode>(Topics.readings);
        var output = _driver.Output<string, long>(Topics.final_counts_with_grace);
        var t0 = 1_700_000_000_000L;

        input.PipeInput("s1", Json($$"""{"v":1,"measured_at":{{t0 + 1000}}}"""));
        input.PipeInput("s1", Json($$"""{"v":1,"measured_at":{{t0 + 11000}}}"""));
        // Past the end of [t0, t0+10s) but within its 5 s grace: counted, and nothing final yet.
        input.PipeInput("s1", Json($$"""{"v":1,"measured_at":{{t0 + 2000}}}"""));
        Assert.That(output.ReadKeyValueList(), Is.Empty);
        input.PipeInput("s1", Json($$"""{"v":1,"measured_at":{{t0 + 16000}}}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ($"s1@{t0}", 2L) }));
    }

    [Test]
    public void Cogroup_then_aggregate_applies_the_cogroup_aggregator_also_per_window()
    {
        var input = _driver.Input<string, JsonNode>(Topics.readings);
        var totals = _driver.Output<string, JsonNode>(Topics.reading_totals);
        var windowTotals = _driver.Output<string, JsonNode>(Topics.reading_window_totals);
        var t0 = 1_700_000_000_000L;

        foreach (var (v, at) in new[] { (1, t0 + 1000), (2, t0 + 2000), (4, t0 + 12000) })
            input.PipeInput("s1", Json($$"""{"v":{{v}},"measured_at":{{at}}}"""));

        Assert.That(totals.ReadKeyValueList().Select(r => r.Message.Value.ToJsonString()),
            Is.EqualTo(new[] { """{"n":1,"sum":1}""", """{"n":2,"sum":3}""", """{"n":3,"sum":7}""" }));
        Assert.That(windowTotals.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value.ToJsonString())), Is.EqualTo(new[]
        {
            ($"s1@{t0}", """{"n":1,"sum":1}"""), ($"s1@{t0}", """{"n":2,"sum":3}"""), ($"s1@{t0 + 10000}", """{"n":1,"sum":4}"""),
        }));
    }

    [Test]
    public void ToTable_as_then_table_filter_groupBy_and_reduce_with_adder_and_subtractor()
    {
        var input = _driver.Input<string, JsonNode>(Topics.stock_in);
        var output = _driver.Output<string, long>(Topics.category_totals);

        input.PipeInput("apple", Json("""{"category":"fruit","stock":5}"""));
        input.PipeInput("pear", Json("""{"category":"fruit","stock":3}"""));
        input.PipeInput("apple", Json("""{"category":"fruit","stock":1}"""));
        input.PipeInput("leek", Json("""{"category":"veg","stock":2}"""));

        var latest = output.ReadKeyValueList().GroupBy(r => r.Message.Key).ToDictionary(g => g.Key, g => g.Last().Message.Value);
        Assert.That(latest, Is.EqualTo(new Dictionary<string, long> { ["fruit"] = 4, ["veg"] = 2 }));
    }

    [Test]
    public void Table_transformValue_then_table_table_join()
    {
        var products = _driver.Input<string, JsonNode>(TablesKsml.Topics.products);
        var prices = _driver.Input<string, double>(TablesKsml.Topics.prices);
        var output = _driver.Output<string, string>(Topics.labelled_products);

        products.PipeInput("p1", Json("""{"name":"green tea"}"""));
        prices.PipeInput("p1", 3.5);
        prices.PipeInput("p1", 4.0);

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { "Green Tea @ 3.5", "Green Tea @ 4.0" }));
    }

    private KsmlDriver ContinueOnFail()
    {
        var continueOnFail = new Ksml.Runtime.ErrorHandling.ErrorHandlingOptions { Process = new() { Handler = Ksml.Runtime.ErrorHandling.ErrorHandlerKind.ContinueOnFail } };
        return new KsmlDriver(new TablesKsml(), _logs, new Ksml.Runtime.ErrorHandling.KsmlErrorHandler(continueOnFail, _logs, null));
    }

    [Test]
    public void A_table_filter_that_fails_under_continue_on_fail_leaves_the_key_as_it_was_instead_of_deleting_it()
    {
        using var driver = ContinueOnFail();
        var input = driver.Input<string, JsonNode>(Topics.stock_in);
        var output = driver.Output<string, long>(Topics.category_totals);

        input.PipeInput("apple", Json("""{"category":"fruit","stock":5}"""));
        input.PipeInput("apple", Json("""{"category":"fruit"}""")); // value["stock"] raises KeyError in the filter
        input.PipeInput("pear", Json("""{"category":"fruit","stock":3}"""));

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { 5L, 8L }),
            "apple's 5 stays in the total: a deleted apple would have made it 0, then 3");
        Assert.That(_logs.Lines.Select(l => l.Message), Has.Some.Contains("KeyError"));
    }

    [Test]
    public void A_table_groupBy_mapper_that_fails_under_continue_on_fail_keeps_the_row_in_its_previous_group()
    {
        using var driver = ContinueOnFail();
        var input = driver.Input<string, JsonNode>(Topics.stock_in);
        var output = driver.Output<string, long>(Topics.category_totals);

        input.PipeInput("apple", Json("""{"category":"fruit","stock":5}"""));
        input.PipeInput("apple", Json("""{"stock":7}""")); // value["category"] raises KeyError in the groupBy mapper
        input.PipeInput("pear", Json("""{"category":"fruit","stock":3}"""));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("fruit", 5L), ("fruit", 8L) }),
            "apple's 5 stays in fruit: a failed mapping regrouped it under a null key, taking fruit to 0");
        Assert.That(_logs.Lines.Select(l => l.Message), Has.Some.Contains("KeyError"));
    }

    [Test]
    public void A_table_transformValue_that_fails_under_continue_on_fail_keeps_the_previous_value_for_the_join()
    {
        using var driver = ContinueOnFail();
        var products = driver.Input<string, JsonNode>(TablesKsml.Topics.products);
        var prices = driver.Input<string, double>(TablesKsml.Topics.prices);
        var output = driver.Output<string, string>(Topics.labelled_products);

        products.PipeInput("p1", Json("""{"name":"green tea"}"""));
        prices.PipeInput("p1", 3.5);
        products.PipeInput("p1", Json("""{"name":5}""")); // 5.title() raises AttributeError
        prices.PipeInput("p1", 4.0);

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Value), Is.EqualTo(new[] { "Green Tea @ 3.5", "Green Tea @ 4.0" }),
            "no tombstone for p1, and the join still finds its product");
        Assert.That(_logs.Lines.Select(l => l.Message), Has.Some.Contains("AttributeError"));
    }

    [Test]
    public void A_to_with_a_python_partitioner_writes_to_the_partition_it_returns()
    {
        var input = _driver.Input<string, string>(Topics.partitioned_in);
        var output = _driver.Output<string, string>(Topics.partitioned_out);

        input.PipeInput("7", "a");

        // The mock cluster gives an auto-created topic one partition, so 7 % 1 == 0 is all it can show.
        var record = output.ReadKeyValueList().Single();
        Assert.That((record.Message.Key, record.Partition.Value), Is.EqualTo(("7", 0)));
    }

    [Test]
    public void A_record_whose_partitioner_fails_is_dead_lettered_and_not_also_written()
    {
        // The partitioner ran in the sink, which cannot drop a record: a failed one was dead-lettered and then
        // written anyway, to whichever partition the producer picked.
        using var logs = new CapturingLoggerFactory();
        var deadLetters = new DeadLetterList();
        var continueOnFail = new Ksml.Runtime.ErrorHandling.ErrorHandlingOptions
        {
            Process = new() { Handler = Ksml.Runtime.ErrorHandling.ErrorHandlerKind.ContinueOnFail, DeadLetterTopic = "failed" },
        };
        using var driver = new KsmlDriver(new TablesKsml(), logs, new Ksml.Runtime.ErrorHandling.KsmlErrorHandler(continueOnFail, logs, deadLetters));
        var input = driver.Input<string, string>(Topics.partitioned_in);
        var output = driver.Output<string, string>(Topics.partitioned_out);

        input.PipeInput("not a number", "a"); // int(key) raises ValueError
        input.PipeInput("7", "b");

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Value), Is.EqualTo(new[] { "b" }));
        Assert.That(deadLetters.Sent.Select(d => (d.Topic, d.Headers["ksml.error.type"], d.Headers["ksml.source.offset"])),
            Is.EqualTo(new[] { ("failed", "ValueError", "0") }));
    }

    [Test]
    public void Print_writes_what_the_key_value_printer_returns_to_the_file()
    {
        var input = _driver.Input<string, string>(Topics.printed);

        input.PipeInput("k1", "hello");
        input.PipeInput("k2", "world");

        // Kafka Streams prefixes printed lines with the label, which defaults to the processor name.
        Assert.That(File.ReadAllLines("printed-records.txt"), Is.EqualTo(new[] { "[tables_print_records_print]: k1 => HELLO", "[tables_print_records_print]: k2 => WORLD" }));
    }

    [Test]
    public void ForEach_as_a_sink_runs_for_every_record_keeping_its_global_state()
    {
        var input = _driver.Input<string, string>(Topics.consumed);

        input.PipeInput("a", "x");
        input.PipeInput("b", "y");

        Assert.That(_logs.Lines.Where(l => l.Category == "tables.function.remember").Select(l => l.Message),
            Is.EqualTo(new[] { "consumed x (1 so far)", "consumed y (2 so far)" }));
    }

    [Test]
    public void A_window_store_from_python_puts_and_fetches_by_window()
    {
        var input = _driver.Input<string, long>(Topics.recent_in);
        var output = _driver.Output<string, JsonNode>(Topics.recent_out);

        input.PipeInput("k", 61_000L);
        input.PipeInput("z", 62_000L);
        input.PipeInput("k", 130_000L);

        Assert.That(output.ReadValueList().Select(v => v!.ToJsonString()), Is.EqualTo(new[]
        {
            """{"same_window":61000,"history":[[60000,61000]],"newest":60000,"in_range":["k"]}""",
            """{"same_window":62000,"history":[[60000,62000]],"newest":60000,"in_range":["k"]}""",
            """{"same_window":130000,"history":[[60000,61000],[120000,130000]],"newest":120000,"in_range":["k"]}""",
        }), "fetch(keyFrom, keyTo, timeFrom, timeTo) spans the keys from a to m: z is left out");
    }
}
