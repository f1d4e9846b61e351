using System.Text;
using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging;
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
    public async Task Under_exactly_once_a_transaction_commits_only_offsets_whose_records_outputs_it_carries()
    {
        // librdkafka's mock cluster runs transactions but does not isolate them, so 0 duplicates after a crash cannot be
        // shown here; what can: every offset a transaction commits comes after the outputs of all records before it were
        // produced into that transaction or an earlier one, while calls overlap.
        RecordingClients? recorder = null;
        var baseline = Kafka.Options(AppId());
        var options = baseline with { Kafka = new Dictionary<string, string>(baseline.Kafka) { ["processing.guarantee"] = "exactly_once", ["commit.interval.ms"] = "100" } };
        var records = Enumerable.Range(0, 300).Select(i => ($"k{i % 25}", $"v{i:D3}")).ToArray();
        await using (var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker, clients: c => recorder = new RecordingClients(c)))
        {
            Kafka.Produce(_broker, Topics.concurrent_in, records);
            await Kafka.Until(() => recorder!.Events.Count(e => e is { Kind: "produce", Topic: "concurrent_out" }) >= records.Length, "every output produced", TimeSpan.FromSeconds(60));
            await Task.Delay(500); // a last commit
        }

        var events = recorder!.Events.ToList();
        var produced = new HashSet<string>();
        var transactions = 0;
        foreach (var e in events)
        {
            if (e is { Kind: "produce", Topic: "concurrent_out", Value: { } value })
                produced.Add(System.Text.Encoding.UTF8.GetString(value).Split('@')[0]);
            if (e is { Kind: "offsets", Offsets: { } offsets } && offsets.FirstOrDefault(o => o.Topic == "concurrent_in") is { } committed)
            {
                transactions++;
                var before = records.Take((int)committed.Offset.Value).Select(r => r.Item2).ToList();
                Assert.That(before.Where(v => !produced.Contains(v)), Is.Empty, $"offset {committed.Offset.Value} committed before these records' outputs were produced");
            }
        }
        Assert.That(transactions, Is.GreaterThan(1), "several transactions committed while calls ran");
        Assert.That(produced, Has.Count.EqualTo(records.Length));
    }

    [Test]
    public async Task A_rebalance_while_calls_are_in_flight_loses_nothing_and_keeps_each_keys_order()
    {
        // The second instance joins while the first has calls in flight: the revoked partition's calls are
        // finished and forwarded, and its offsets committed, before the other instance takes it over.
        var appId = AppId();
        var options = Kafka.Options(appId, partitions: 2);
        var records = Enumerable.Range(0, 600).Select(i => ($"k{i % 30}", $"k{i % 30}-{i / 30:D3}")).ToArray();
        await using var first = await Start(options);
        Kafka.Produce(_broker, Topics.concurrent_in, records[..300]);
        await Task.Delay(300);
        await using var second = await Start(options);
        Kafka.Produce(_broker, Topics.concurrent_in, records[300..]);

        var output = Kafka.ReadUntil<string, string>(_broker, Topics.concurrent_out,
            read => read.Select(r => r.Value.Split('@')[0]).Distinct().Count() == records.Length, TimeSpan.FromSeconds(90));

        Assert.That(output.Select(o => o.Value.Split('@')[0]).Distinct().Order(), Is.EqualTo(records.Select(r => r.Item2).Order()), "none lost");
        foreach (var key in records.Select(r => r.Item1).Distinct())
        {
            // At-least-once: a record may come out twice around the rebalance, never before one that preceded it.
            var firsts = output.Where(o => o.Key == key).Select(o => o.Value.Split('@')[0]).Distinct().ToList();
            Assert.That(firsts, Is.Ordered, $"key {key} in offset order");
        }
    }

    [Test]
    public async Task A_concurrent_function_without_a_timeout_is_warned_about_at_start()
    {
        var warnings = new RecordingLoggerProvider((category, level) => category == "ksml" && level >= LogLevel.Warning);
        using var loggers = LoggerFactory.Create(b => b.AddProvider(warnings));
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId(), "  enablePipelines: false"), loggers, _broker);

        Assert.That(warnings.Messages, Has.One.Contains("has concurrency but no resilience.timeout").And.Contains("300000 ms"));
    }

    [Test]
    public async Task Json_keys_that_are_equal_keep_their_order()
    {
        await using var host = await Start(Kafka.Options(AppId()));
        var records = Enumerable.Range(0, 200).Select(i => ((JsonNode?)JsonNode.Parse($$"""{"id":{{i % 5}}}"""), $"{i % 5}-{i / 5:D3}")).ToArray();
        Kafka.Produce(_broker, Topics.concurrent_json_in, records);

        var output = Kafka.Read<JsonNode, string>(_broker, Topics.concurrent_json_out, records.Length, TimeSpan.FromSeconds(60));

        foreach (var id in Enumerable.Range(0, 5))
            Assert.That(output.Where(o => o.Key["id"]!.GetValue<int>() == id).Select(o => o.Value), Is.EqualTo(records.Where(r => r.Item2.StartsWith($"{id}-", StringComparison.Ordinal)).Select(r => r.Item2)),
                $"key {{\"id\":{id}}} in offset order");
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
    public async Task Retry_on_fail_retries_each_call_on_its_worker_and_dead_letters_what_keeps_failing()
    {
        await using var host = await Start(Kafka.Options(AppId(), """
              errorHandling:
                process:
                  handler: retryOnFail
                  maxRetries: 4
                  initialBackoff: 10ms
                  deadLetterTopic: ksml_dead_letters
            """));
        Kafka.Produce(_broker, Topics.concurrent_in, ("a", "flaky-1"), ("b", "fail"), ("c", "v2"), ("a", "v3"));

        var output = Kafka.Read<string, string>(_broker, Topics.concurrent_out, 3, TimeSpan.FromSeconds(60));
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1, TimeSpan.FromSeconds(30));

        Assert.That(output.Select(o => (o.Key, o.Value.Split('@')[0])), Is.EquivalentTo(new[] { ("a", "flaky-1"), ("c", "v2"), ("a", "v3") }), "flaky-1 got through on its third attempt");
        Assert.That(output.Where(o => o.Key == "a").Select(o => o.Value.Split('@')[0]), Is.EqualTo(new[] { "flaky-1", "v3" }), "a's next record waited for its retries");
        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Key!)), Is.EqualTo(new[] { "b" }));
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

    private static KsmlRunnerOptions WithCommitInterval(KsmlRunnerOptions options, int ms) =>
        options with { Kafka = new Dictionary<string, string>(options.Kafka) { ["commit.interval.ms"] = ms.ToString(System.Globalization.CultureInfo.InvariantCulture) } };

    private static async Task<List<string>> Batches(RecordingLoggerProvider logs, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (logs.Messages.Count(m => m.StartsWith("batch of", StringComparison.Ordinal)) < count && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return logs.Messages.Where(m => m.StartsWith("batch of", StringComparison.Ordinal)).ToList();
    }

    private static (string Key, string Value)[] Values(int count) => Enumerable.Range(0, count).Select(i => ($"k{i}", $"v{i}")).ToArray();

    [Test]
    public async Task A_batch_is_handed_over_when_full_and_when_its_first_record_has_waited_max_wait()
    {
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        // No commit comes within the test: only the count and the time can flush.
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], WithCommitInterval(Kafka.Options(AppId()), 600_000), loggers, _broker);
        Kafka.Produce(_broker, Topics.batch_soon_in, Values(12));

        Assert.That(await Batches(logs, 3), Is.EqualTo(new[]
        {
            "batch of 5: v0@0,v1@1,v2@2,v3@3,v4@4",
            "batch of 5: v5@5,v6@6,v7@7,v8@8,v9@9",
            "batch of 2: v10@10,v11@11",
        }));
    }

    [Test]
    public async Task A_batch_is_handed_over_before_every_commit()
    {
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        // maxWait is an hour: only a commit (every 200 ms here) hands the last two over.
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId()), loggers, _broker);
        Kafka.Produce(_broker, Topics.batch_late_in, Values(12));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<string> handed;
        do
        {
            await Task.Delay(50);
            handed = (await Batches(logs, 0)).SelectMany(b => b.Split(": ")[1].Split(',')).ToList();
        }
        while (handed.Count < 12 && DateTime.UtcNow < deadline);

        // Commits fall between records, so they cut batches short; none waited for its hour.
        Assert.That(handed, Is.EqualTo(Values(12).Select(v => v.Value)), "every record once, in order");
        Assert.That((await Batches(logs, 0)).Select(b => int.Parse(b.Split(' ')[2].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture)), Has.All.InRange(1, 5));
    }

    [Test]
    public async Task A_batch_is_handed_over_at_shutdown()
    {
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using (var host = await KsmlHost.StartAsync([new IntegrationKsml()], WithCommitInterval(Kafka.Options(AppId()), 600_000), loggers, _broker))
        {
            Kafka.Produce(_broker, Topics.batch_late_in, Values(7));
            Assert.That(await Batches(logs, 1), Is.EqualTo(new[] { "batch of 5: v0,v1,v2,v3,v4" }));
            await Task.Delay(500);
            Assert.That(await Batches(logs, 1), Has.Count.EqualTo(1), "neither full nor timed out nor committed");
        }

        Assert.That(await Batches(logs, 2), Is.EqualTo(new[] { "batch of 5: v0,v1,v2,v3,v4", "batch of 2: v5,v6" }));
    }

    [Test]
    public async Task A_failed_batch_dead_letters_each_of_its_records_with_its_coordinates()
    {
        // No commit within the test, so the five make one batch.
        await using var host = await Start(WithCommitInterval(Kafka.Options(AppId(), DeadLetters), 600_000));
        Kafka.Produce(_broker, Topics.batch_soon_in, ("a", "v0"), ("b", "fail"), ("c", "v2"), ("d", "v3"), ("e", "v4"));

        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 5, TimeSpan.FromSeconds(30));

        Assert.That(dead.Select(d => (Encoding.UTF8.GetString(d.Message.Key!), Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("ksml.source.offset")))),
            Is.EqualTo(new[] { ("a", "0"), ("b", "1"), ("c", "2"), ("d", "3"), ("e", "4") }));
        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("ksml.error.type"))), Is.All.EqualTo("ConnectionError"));
    }
}
