using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using static Ksml.Tool.Tests.ToolTestSupport;

namespace Ksml.Tool.Tests;

/// <summary>
/// Faults proven end to end: the broker runs in its own process (<c>ksml broker</c>), so killing the application
/// loses no data; the application is SIGKILLed mid-batch again and again and restarted each time.
/// </summary>
[NonParallelizable]
public sealed partial class FaultTests
{
    private const int Batches = 7;
    private const int BatchSize = 3000;
    private const int Keys = 100;
    private const string Input = "fault_ids_in", Checked = "fault_ids_checked", Counts = "fault_counts", DeadLetters = "fault_dead";

    // Exactly-once cannot be proven on this broker: librdkafka's mock cluster stores no offsets committed in a
    // transaction and does not hide aborted records from read_committed consumers (docs/reliability.md).
    // The assertions for it stay, for a run against a real cluster.
    [TestCase("at_least_once", "checked-and-counted")]
    [TestCase("at_least_once", "checked-concurrently-and-counted")]
    public void A_pipeline_killed_mid_batch_and_restarted_loses_nothing(string guarantee, string pipeline)
    {
        var work = Directory.CreateTempSubdirectory("ksml-faults-").FullName;
        using var broker = StartBroker(work);
        var bootstrap = broker.Bootstrap;
        File.WriteAllText(Path.Combine(work, "ksml-runner.yaml"), $"""
            kafka:
              bootstrap.servers: {bootstrap}
              application.id: faults-{guarantee.Replace('_', '-')}-{pipeline}
              processing.guarantee: {guarantee}
              commit.interval.ms: "300"
              session.timeout.ms: "6000"
            ksml:
              storageDirectory: {Path.Combine(work, "state")}
              createStorageDirectory: true
              errorHandling:
                process:
                  handler: continueOnFail
                  deadLetterTopic: {DeadLetters}
            """);
        var definition = Path.Combine(Suites, "faults", pipeline + ".ksml.yaml");
        using var progress = new Verifier(bootstrap, readCommitted: false, Checked, DeadLetters);
        var random = new Random(guarantee.Length);
        var kills = 0;
        try
        {
            for (var batch = 0; batch < Batches; batch++)
            {
                ProduceIds(bootstrap, batch * BatchSize, BatchSize);
                using var app = Start(work, "run", "--config", "ksml-runner.yaml", definition);
                Drain(app);
                var last = batch == Batches - 1;
                // Killed at a random point inside the batch, after it has processed part of it.
                var target = last ? (batch + 1) * BatchSize : batch * BatchSize + random.Next(BatchSize / 5, BatchSize * 4 / 5);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(last ? 180 : 120);
                while (progress.DistinctIds() < target && DateTime.UtcNow < deadline && !app.HasExited)
                    progress.Poll(TimeSpan.FromMilliseconds(100));
                Assert.That(app.HasExited, Is.False, $"run {batch + 1} is still running");
                Assert.That(progress.DistinctIds(), Is.GreaterThanOrEqualTo(target), $"run {batch + 1} made progress within its time");
                if (last)
                {
                    WaitForCounts(bootstrap, guarantee == "exactly_once");
                    Process.Start("kill", ["-TERM", app.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
                    Assert.That(app.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the last run stops on SIGTERM");
                }
                else
                {
                    app.Kill();
                    app.WaitForExit();
                    kills++;
                }
            }

            var total = Batches * BatchSize;
            var refused = Enumerable.Range(0, total).Count(id => id % 97 == 0);
            var exactlyOnce = guarantee == "exactly_once";
            using var final = new Verifier(bootstrap, readCommitted: exactlyOnce, Checked, DeadLetters, Counts);
            final.ReadToEnd();
            var outputs = final.Ids(Checked);
            var dead = final.Ids(DeadLetters);
            var lost = Enumerable.Range(0, total).Count(id => !outputs.Contains(id) && !dead.Contains(id));
            var duplicated = final.Records(Checked) - outputs.Count;
            var counts = final.LatestCounts();
            TestContext.Out.WriteLine($"{guarantee}, {pipeline}: {total} records, {kills} kills, {lost} lost, {duplicated} outputs duplicated, {dead.Count} of {refused} refused ids dead-lettered ({final.Records(DeadLetters) - dead.Count} dead letters duplicated)");

            Assert.That(kills, Is.GreaterThanOrEqualTo(5));
            Assert.That(lost, Is.Zero, "every input has an output or a dead letter");
            Assert.That(dead, Is.EquivalentTo(Enumerable.Range(0, total).Where(id => id % 97 == 0)), "exactly the refused ids are dead-lettered");
            Assert.That(outputs.Overlaps(dead), Is.False, "a refused id has no output");
            foreach (var (key, expected) in TrueCounts(total))
            {
                Assert.That(counts.GetValueOrDefault(key), exactlyOnce ? Is.EqualTo(expected) : Is.GreaterThanOrEqualTo(expected), $"count of {key}");
            }
            if (exactlyOnce)
                Assert.That(duplicated, Is.Zero, "no output is duplicated under exactly-once, read with read_committed");
            else
                Assert.That(duplicated, Is.LessThan(kills * BatchSize), "offsets are committed as the run goes: a kill re-reads less than a batch");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Dictionary<string, long> TrueCounts(int total) =>
        Enumerable.Range(0, total).Where(id => id % 97 != 0).GroupBy(KeyOf).ToDictionary(g => g.Key, g => (long)g.Count());

    private static string KeyOf(int id) => "k" + (id % Keys);

    private static void ProduceIds(string bootstrap, int from, int count)
    {
        using var producer = new ProducerBuilder<string, long>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true }).Build();
        for (var id = from; id < from + count; id++)
            producer.Produce(Input, new Message<string, long> { Key = KeyOf(id), Value = id });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits until the count topic holds each key's true count at least (read as the final check reads it).</summary>
    private static void WaitForCounts(string bootstrap, bool readCommitted)
    {
        var expected = TrueCounts(Batches * BatchSize);
        using var counts = new Verifier(bootstrap, readCommitted, Counts);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline && expected.Any(e => counts.LatestCounts().GetValueOrDefault(e.Key) < e.Value))
            counts.Poll(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>Reads the tool's output so its pipes never fill and block it.</summary>
    private static void Drain(Process process)
    {
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private static BrokerProcess StartBroker(string work)
    {
        var process = Start(work, "broker", "--partitions", "4", "--topic", Input, "--topic", Checked, "--topic", Counts, "--topic", DeadLetters);
        var line = process.StandardOutput.ReadLine() ?? "";
        var match = ListeningAt().Match(line);
        if (!match.Success)
        {
            process.Kill();
            Assert.Fail("ksml broker printed: " + line + process.StandardError.ReadToEnd());
        }
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return new BrokerProcess(process, match.Groups[1].Value);
    }

    [GeneratedRegex(@"listening at (\S+)")]
    private static partial Regex ListeningAt();

    private sealed record BrokerProcess(Process Process, string Bootstrap) : IDisposable
    {
        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill();
            Process.WaitForExit();
            Process.Dispose();
        }
    }

    /// <summary>A consumer of the outputs from their start: distinct ids and records per topic, latest count per key.</summary>
    private sealed class Verifier : IDisposable
    {
        private readonly IConsumer<byte[]?, byte[]?> _consumer;
        private readonly Dictionary<string, HashSet<long>> _ids = [];
        private readonly Dictionary<string, int> _records = [];
        private readonly Dictionary<string, long> _counts = [];

        public Verifier(string bootstrap, bool readCommitted, params string[] topics)
        {
            _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = "fault-verifier-" + Guid.NewGuid().ToString("N"),
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
                EnablePartitionEof = true,
                IsolationLevel = readCommitted ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted,
            }).Build();
            _consumer.Subscribe(topics);
            foreach (var topic in topics)
            {
                _ids[topic] = [];
                _records[topic] = 0;
            }
        }

        public int DistinctIds() => _ids.Where(t => t.Key != Counts).Sum(t => t.Value.Count);

        public HashSet<int> Ids(string topic) => [.. _ids[topic].Select(id => (int)id)];

        public int Records(string topic) => _records[topic];

        public Dictionary<string, long> LatestCounts() => _counts;

        public void Poll(TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (DateTime.UtcNow < deadline && _consumer.Consume(TimeSpan.FromMilliseconds(50)) is { } record)
                Add(record);
        }

        /// <summary>Reads until every assigned partition reported its end twice in a row, a second apart.</summary>
        public void ReadToEnd()
        {
            var quietSince = DateTime.UtcNow;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline && (DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(3) || _consumer.Assignment.Count == 0))
                if (_consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
                {
                    Add(record);
                    quietSince = DateTime.UtcNow;
                }
        }

        private void Add(ConsumeResult<byte[]?, byte[]?> record)
        {
            if (record.IsPartitionEOF || record.Message.Value is not { Length: 8 } value)
                return;
            var number = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(value);
            _records[record.Topic]++;
            if (record.Topic == Counts)
                _counts[Encoding.UTF8.GetString(record.Message.Key ?? [])] = number;
            else
                _ids[record.Topic].Add(number);
        }

        public void Dispose()
        {
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
