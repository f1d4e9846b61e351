using System.Text.Json.Nodes;
using Ksml.Runtime.Tests.Support;
using Topics = Ksml.Runtime.Tests.MoreOperationsKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>more-operations.ksml.yaml under TopologyTestDriver.</summary>
public sealed class MoreOperationTests
{
    private KsmlDriver _driver = null!;

    [SetUp]
    public void Start() => _driver = new KsmlDriver(new MoreOperationsKsml());

    [TearDown]
    public void Stop() => _driver.Dispose();

    private static DateTime At(int seconds) => DateTime.UnixEpoch.AddSeconds(1_700_000_000 + seconds);

    [Test]
    public void ConvertValue_turns_json_into_its_text()
    {
        var input = _driver.Input<string, JsonNode>(Topics.numbers_as_text);
        var output = _driver.Output<string, string>(Topics.numbers_as_string);

        input.PipeInput("k", JsonNode.Parse("""{"n":1}""")!);

        Assert.That(output.ReadValueList(), Is.EqualTo(new[] { """{"n":1}""" }));
    }

    [Test]
    public void A_windowed_key_written_to_a_json_keyed_topic_is_its_json_struct()
    {
        _driver.Input<string, string>(Topics.words_for_counting).PipeInput("w", "x", At(0));

        var record = _driver.Output<string, long>(Topics.windowed_counts_as_json).ReadKeyValue();

        Assert.That(JsonNode.Parse(record.Message.Key)!["key"]!.GetValue<string>(), Is.EqualTo("w"));
        Assert.That(JsonNode.Parse(record.Message.Key)!["end"]!.GetValue<long>() - JsonNode.Parse(record.Message.Key)!["start"]!.GetValue<long>(), Is.EqualTo(60_000));
        Assert.That(record.Message.Value, Is.EqualTo(1L));
    }

    [Test]
    public void An_inline_target_without_types_is_written_in_the_streams_own_notation()
    {
        _driver.Input<string, JsonNode>(Topics.rows_in).PipeInput("k", JsonNode.Parse("""["x", "y,z"]""")!);

        Assert.That(_driver.Output<string, string>(Topics.rows_as_csv_to).ReadValueList(), Is.EqualTo(new[] { "x,\"y,z\"" }),
            "the record leaves as csv, the type the stream has after convertValue, not as json");
    }

    [Test]
    public void ConvertValue_converts_primitives_losslessly_both_ways_as_ksml_does()
    {
        var words = _driver.Input<string, string>(Topics.words_for_counting);
        words.PipeInput("w", "x");
        words.PipeInput("w", "x");
        var texts = _driver.Input<string, string>(Topics.counts_as_text);
        texts.PipeInput("a", "42");

        Assert.That(_driver.Output<string, string>(Topics.word_counts_as_text).ReadValueList(), Is.EqualTo(new[] { "1", "2" }));
        Assert.That(_driver.Output<string, long>(Topics.counts_as_long).ReadValueList(), Is.EqualTo(new[] { 42L }));
        Assert.That(() => texts.PipeInput("b", "4.5"), Throws.Exception.With.Message.Contains("\"4.5\" cannot be converted to long without loss"),
            "converting 4.5 to a long would lose its fraction; with no error policy (this driver's) the failure propagates");
    }

    [Test]
    public void Outer_and_left_stream_joins_emit_unmatched_records_with_none_once_their_window_closes()
    {
        var left = _driver.Input<string, string>(Topics.left_side);
        var right = _driver.Input<string, string>(Topics.right_side);
        var outer = _driver.Output<string, string>(Topics.outer_joined);
        var leftJoined = _driver.Output<string, string>(Topics.left_joined);

        left.PipeInput("a", "L1", At(0));
        right.PipeInput("a", "R1", At(10));
        right.PipeInput("b", "R2", At(20));

        Assert.That(outer.ReadValueList(), Is.EqualTo(new[] { "L1|R1" }), "L1 waits for a partner, which comes; R2 waits while its window (1m, no grace) is open");
        Assert.That(leftJoined.ReadValueList(), Is.EqualTo(new[] { "L1|R1" }), "no 'L1|None' first, as Kafka Streams 2.x and Streamiz emitted");

        left.PipeInput("z", "L9", At(81)); // stream time passes R2's window end (20 s + 1 m)

        var closed = outer.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs)).ToList();
        Assert.That(closed, Is.EqualTo(new[] { ("b", "None|R2", (1_700_000_000L + 20) * 1000) }),
            "the right-only record is emitted with its own timestamp once its window closed; L9 still waits");
        Assert.That(leftJoined.ReadValueList(), Is.Empty, "a left join never emits a right-only record, and L9's window is open");
    }

    [Test]
    public void A_left_join_emits_a_record_that_found_no_partner_only_after_the_window_and_grace()
    {
        var left = _driver.Input<string, string>(Topics.left_side);
        var right = _driver.Input<string, string>(Topics.right_side);
        var leftJoined = _driver.Output<string, string>(Topics.left_joined);

        left.PipeInput("a", "L1", At(0));
        left.PipeInput("c", "L2", At(60));
        Assert.That(leftJoined.ReadValueList(), Is.Empty, "at stream time 60 s L1's window (up to 60 s) is still open");

        right.PipeInput("a", "R1", At(61));
        Assert.That(leftJoined.ReadValueList(), Is.EqualTo(new[] { "L1|None" }), "R1 is 61 s after L1, out of its window, which closed when stream time passed 60 s");

        right.PipeInput("c", "R2", At(61));
        left.PipeInput("a", "L3", At(62));
        Assert.That(leftJoined.ReadValueList(), Is.EqualTo(new[] { "L2|R2", "L3|R1" }), "a partner within the time difference joins, whichever side comes first");

        left.PipeInput("z", "L9", At(200));
        Assert.That(leftJoined.ReadValueList(), Is.Empty, "records that joined are never emitted again without a partner");
    }

    [Test]
    public void An_out_of_order_left_record_whose_window_has_closed_is_emitted_at_once()
    {
        var left = _driver.Input<string, string>(Topics.left_side);
        var leftJoined = _driver.Output<string, string>(Topics.left_joined);

        left.PipeInput("a", "L1", At(100));
        left.PipeInput("b", "L0", At(30)); // 70 s behind stream time: its window ended at 90 s

        Assert.That(leftJoined.ReadValueList(), Is.EqualTo(new[] { "L0|None" }), "as Kafka Streams does, a record no partner can still join is not kept waiting");
    }

    [Test]
    public void A_foreign_key_join_follows_changes_on_both_sides_as_kafka_streams_does()
    {
        var orders = _driver.Input<string, JsonNode>(Topics.fk_orders);
        var customers = _driver.Input<string, JsonNode>(Topics.fk_customers);
        var joined = _driver.Output<string, JsonNode>(Topics.fk_joined);
        List<(string, string?)> Read() => joined.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value?.ToJsonString())).ToList();

        customers.PipeInput("c1", JsonNode.Parse("""{"name": "Ada"}""")!);
        orders.PipeInput("o1", JsonNode.Parse("""{"customer": "c1"}""")!);
        orders.PipeInput("o2", JsonNode.Parse("""{"customer": "c2"}""")!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o1", (string?)"""{"customer":"c1","order":"o1","name":"Ada"}""") }),
            "the joiner gets the order's key; o2's customer does not exist yet, and an inner join says nothing of it");

        customers.PipeInput("c2", JsonNode.Parse("""{"name": "Bob"}""")!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o2", (string?)"""{"customer":"c2","order":"o2","name":"Bob"}""") }), "a right row that arrives later answers the rows waiting for it");

        customers.PipeInput("c1", JsonNode.Parse("""{"name": "Ada L."}""")!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o1", (string?)"""{"customer":"c1","order":"o1","name":"Ada L."}""") }), "a change of a right row updates every row that names it");

        orders.PipeInput("o1", JsonNode.Parse("""{"customer": "c2"}""")!);
        customers.PipeInput("c1", JsonNode.Parse("""{"name": "Ada"}""")!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o1", (string?)"""{"customer":"c2","order":"o1","name":"Bob"}""") }),
            "o1 moved to c2, and c1's next change no longer reaches it");

        orders.PipeInput("o1", null!);
        customers.PipeInput("c2", null!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o1", (string?)null), ("o2", (string?)null) }),
            "a deleted order deletes its result; a deleted customer deletes the results of the orders that name it");
    }

    [Test]
    public void A_foreign_key_left_join_keeps_rows_whose_foreign_key_finds_nothing()
    {
        var orders = _driver.Input<string, JsonNode>(Topics.fk_orders);
        var customers = _driver.Input<string, JsonNode>(Topics.fk_customers);
        var joined = _driver.Output<string, JsonNode>(Topics.fk_left_joined);
        List<(string, string?)> Read() => joined.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value?.ToJsonString())).ToList();

        orders.PipeInput("o1", JsonNode.Parse("""{"customer": "c9"}""")!);
        orders.PipeInput("o2", JsonNode.Parse("""{"amount": 3}""")!);
        Assert.That(Read(), Is.EquivalentTo(new[] { ("o1", (string?)"""{"customer":"c9","name":null}"""), ("o2", """{"amount":3,"name":null}""") }),
            "an unknown customer (answered through the right side), and no foreign key at all (at once), still give a row");

        customers.PipeInput("c9", JsonNode.Parse("""{"name": "Cy"}""")!);
        customers.PipeInput("c9", null!);
        Assert.That(Read(), Is.EqualTo(new[] { ("o1", (string?)"""{"customer":"c9","name":"Cy"}"""), ("o1", """{"customer":"c9","name":null}""") }),
            "the right row's arrival and its deletion both reach the left row");
    }

    [Test]
    public void Table_groupBy_count_and_aggregate_with_adder_and_subtractor_follow_updates()
    {
        var members = _driver.Input<string, JsonNode>(Topics.members_in);
        var sizes = _driver.Output<string, long>(Topics.team_sizes);
        var points = _driver.Output<string, long>(Topics.team_points);

        members.PipeInput("ann", JsonNode.Parse("""{"team":"red","points":5}""")!);
        members.PipeInput("bob", JsonNode.Parse("""{"team":"red","points":3}""")!);
        members.PipeInput("ann", JsonNode.Parse("""{"team":"blue","points":7}""")!);

        Dictionary<string, long> Latest(Streamiz.Kafka.Net.Mock.TestOutputTopic<string, long> topic) =>
            topic.ReadKeyValueList().GroupBy(r => r.Message.Key).ToDictionary(g => g.Key, g => g.Last().Message.Value);
        Assert.That(Latest(sizes), Is.EqualTo(new Dictionary<string, long> { ["red"] = 1, ["blue"] = 1 }));
        Assert.That(Latest(points), Is.EqualTo(new Dictionary<string, long> { ["red"] = 3, ["blue"] = 7 }));
    }

    [Test]
    public void Tumbling_reduce_then_toStream_with_a_key_mapper_over_the_windowed_key()
    {
        var input = _driver.Input<string, long>(Topics.windowed_sums_in);
        var output = _driver.Output<string, long>(Topics.windowed_sums);
        var start = DateTime.UnixEpoch.AddSeconds((1_700_000_000L / 60 + 1) * 60);

        input.PipeInput("k", 2, start.AddSeconds(1));
        input.PipeInput("k", 3, start.AddSeconds(2));
        input.PipeInput("k", 4, start.AddSeconds(61));

        var windowStart = start.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var nextStart = start.AddMinutes(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[]
        {
            ($"k@{windowStart}", 2L), ($"k@{windowStart}", 5L), ($"k@{nextStart}", 4L),
        }));
    }

    [Test]
    public void Suppress_until_a_time_limit_holds_updates_back()
    {
        var input = _driver.Input<string, long>(Topics.limited_in);
        var output = _driver.Output<string, long>(Topics.limited_out);

        input.PipeInput("k", 1, At(0));
        input.PipeInput("k", 2, At(1));
        Assert.That(output.ReadValueList(), Is.Empty);
        input.PipeInput("other", 9, At(30));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("k", 2L) }));
    }

    [Test]
    public void A_null_long_is_a_delete_not_a_zero()
    {
        // KSML's long is nullable, as a Kafka value is: a tombstone read into a table of longs deletes the key
        // (before, the serde read it as 0, which the table kept and forwarded as a count of 0).
        var input = _driver.Input<string, long?>(Topics.limited_in);
        var output = _driver.Output<string, long?>(Topics.limited_out);

        input.PipeInput("k", 1, At(0));
        input.PipeInput("k", null, At(1));
        input.PipeInput("other", 9, At(30));

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("k", (long?)null) }));
    }

    [Test]
    public void Table_table_outer_join()
    {
        var a = _driver.Input<string, string>(MoreOperationsKsml.Topics.table_a);
        var b = _driver.Input<string, string>(MoreOperationsKsml.Topics.table_b);
        var output = _driver.Output<string, string>(Topics.both_tables);

        a.PipeInput("x", "A");
        b.PipeInput("y", "B");
        b.PipeInput("x", "C");

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[]
        {
            ("x", "A|None"), ("y", "None|B"), ("x", "A|C"),
        }));
    }

    [Test]
    public void Repartition_with_a_python_partitioner_passes_records_through()
    {
        var input = _driver.Input<string, string>(Topics.repartition_in);
        var output = _driver.Output<string, string>(Topics.repartition_out);

        input.PipeInput("k1", "v1");
        input.PipeInput("k2", "v2");

        Assert.That(output.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[] { ("k1", "v1"), ("k2", "v2") }));
    }
}
