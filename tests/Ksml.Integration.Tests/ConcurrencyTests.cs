using System.Text;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = Ksml.Integration.Tests.IntegrationKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>A function with <c>concurrency:</c> has several records' calls in flight, and loses, reorders or commits past none.</summary>
[TestFixture, NonParallelizable]
public sealed class ConcurrencyTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void StartBroker() => _broker = EmbeddedKafkaBroker.Start();

    [TearDown]
    public void StopBroker() => _broker.Dispose();

    private static string AppId() => "cc-" + Guid.NewGuid().ToString("N")[..10];

    private Task<KsmlHost> Start(KsmlRunnerOptions options) => KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);

    private const string DeadLetters = """
          errorHandling:
            process:
              handler: continueOnFail
              deadLetterTopic: ksml_dead_letters
        """;

    [Test]
    public async Task Calls_overlap_and_each_keys_outputs_keep_their_offset_order_with_many_keys_and_a_hot_key()
    {
        await using var host = await Start(Kafka.Options(AppId(), partitions: 2));
        // 40 keys with 5 records each and one hot key with 200, interleaved, every call sleeping 1-20 ms at random.
        var records = Enumerable.Range(0, 400)
            .Select(i => i % 2 == 0 ? ("hot", $"hot-{i / 2}") : ($"k{i % 80 / 2}", $"k{i % 80 / 2}-{i / 80}"))
            .ToArray();
        Kafka.Produce(_broker, Topics.concurrent_in, records);

        var output = Kafka.Read<string, string>(_broker, Topics.concurrent_out, records.Length, TimeSpan.FromSeconds(60));

        Assert.That(output.Select(o => o.Value.Split('@')[0]).Order(), Is.EqualTo(records.Select(r => r.Item2).Order()), "every record once, none lost");
        foreach (var key in records.Select(r => r.Item1).Distinct())
            Assert.That(output.Where(o => o.Key == key).Select(o => o.Value.Split('@')[0]), Is.EqualTo(records.Where(r => r.Item1 == key).Select(r => r.Item2)),
                $"key {key} in offset order");
        Assert.That(output.Select(o => o.Value.Split('@')[1]).Distinct().Count(), Is.GreaterThan(1), "the calls ran on several threads");
    }

    [Test]
    public async Task A_failing_call_is_dead_lettered_with_its_coordinates_and_the_others_pass()
    {
        await using var host = await Start(Kafka.Options(AppId(), DeadLetters));
        var records = Enumerable.Range(0, 30).Select(i => ($"k{i % 5}", i == 12 ? "fail" : $"v{i}")).ToArray();
        Kafka.Produce(_broker, Topics.concurrent_in, records);

        var output = Kafka.Read<string, string>(_broker, Topics.concurrent_out, 29, TimeSpan.FromSeconds(60));
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1);

        Assert.That(output.Select(o => o.Value.Split('@')[0]), Is.EquivalentTo(records.Where(r => r.Item2 != "fail").Select(r => r.Item2)));
        var headers = dead.Single().Message.Headers.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()));
        Assert.That((Encoding.UTF8.GetString(dead.Single().Message.Key!), headers["ksml.error.type"], headers["ksml.source.topic"], headers["ksml.source.offset"]),
            Is.EqualTo(("k2", "ConnectionError", Topics.concurrent_in.Topic, "12")));
    }

    [Test]
    public async Task A_stop_in_a_call_commits_nothing_past_it_though_later_records_went_on()
    {
        var appId = AppId();
        await using (var stopping = await Start(Kafka.Options(appId)))
        {
            // The failing record's neighbours on other keys complete and are forwarded while it is in flight.
            Kafka.Produce(_broker, Topics.concurrent_in, Enumerable.Range(0, 20).Select(i => ($"k{i}", i == 5 ? "fail" : $"v{i}")).ToArray());
            var failed = await Task.WhenAny(stopping.Failed, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.That(failed, Is.SameAs(stopping.Failed), "the stream stops on the error");
        }

        // Restarted with a dead-letter policy, the failed record is read again: its offset was not committed.
        await using var restarted = await Start(Kafka.Options(appId, DeadLetters));
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1, TimeSpan.FromSeconds(60));

        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Key!)), Is.EqualTo(new[] { "k5" }));
    }
}
