using System.Text.Json.Nodes;
using Ksml.Runtime.Tests.Support;
using Topics = Ksml.Runtime.Tests.SlidingKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>Sliding windows, which Streamiz lacks and Ksml.NET builds with Kafka Streams' algorithm.</summary>
[TestFixture]
public sealed class SlidingWindowTests
{
    private const long T0 = 1_700_000_000_000L;
    private KsmlDriver _driver = null!;
    private Streamiz.Kafka.Net.Mock.TestInputTopic<string, JsonNode> _events = null!;

    [SetUp]
    public void Start()
    {
        _driver = new KsmlDriver(new SlidingKsml());
        _events = _driver.Input<string, JsonNode>(Topics.events);
    }

    [TearDown]
    public void Stop() => _driver.Dispose();

    private void Event(long at, long amount = 1) =>
        _events.PipeInput("a", JsonNode.Parse($$"""{"amount":{{amount}}}""")!, DateTimeOffset.FromUnixTimeMilliseconds(T0 + at).UtcDateTime);

    private static string Window(long start, long end) => $"a@{T0 + start}..{T0 + end}";

    [Test]
    public void Each_record_ends_a_window_and_opens_one_after_it_and_a_late_record_updates_only_open_windows()
    {
        var counts = _driver.Output<string, long>(Topics.sliding_counts);

        Event(0);
        Event(5_000);
        Event(12_000);
        // Out of order: stream time is 12 s and there is no grace, so windows ending before 12 s are closed.
        Event(3_000);

        Assert.That(counts.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new[]
        {
            (Window(-10_000, 0), 1L),
            (Window(1, 10_001), 1L),
            (Window(-5_000, 5_000), 2L),
            (Window(5_001, 15_001), 1L),
            (Window(2_000, 12_000), 2L),
            (Window(2_000, 12_000), 3L),
            (Window(3_001, 13_001), 2L),
        }));
    }

    [Test]
    public void Reduce_with_grace_gives_every_window_the_sum_of_the_records_within_the_time_difference()
    {
        var sums = _driver.Output<string, long>(Topics.sliding_sums);

        Event(0, 1);
        Event(5_000, 10);
        Event(12_000, 100);
        Event(3_000, 1000);
        Event(80_000, 5);
        Event(2_000, 7);

        var latest = sums.ReadKeyValueList().GroupBy(r => r.Message.Key).ToDictionary(g => g.Key, g => g.Last().Message.Value);
        Assert.That(latest[Window(-10_000, 0)], Is.EqualTo(1));
        Assert.That(latest[Window(-5_000, 5_000)], Is.EqualTo(1011), "0, 3 s and 5 s");
        Assert.That(latest[Window(2_000, 12_000)], Is.EqualTo(1110), "3 s, 5 s and 12 s; 2 s came after stream time passed 12 s plus the 30 s grace");
        Assert.That(latest[Window(3_001, 13_001)], Is.EqualTo(110), "5 s and 12 s");
        Assert.That(latest.Keys, Has.None.EqualTo(Window(-8_000, 2_000)), "the record at 2 s was too late for any window");
    }
}
