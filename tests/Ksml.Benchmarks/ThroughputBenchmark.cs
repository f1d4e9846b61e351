using Ksml.Runtime.Definitions;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Ksml.Runtime.Python;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Benchmarks;

/// <summary>
/// Records per second of the compiled KSML pipeline against the same topology written by hand with
/// Streamiz and C# lambdas: under TopologyTestDriver (the bridge's share shows) and on the embedded
/// broker (what an application sees). The two run alternately; the median of the rounds is reported.
/// </summary>
internal static class ThroughputBenchmark
{
    public static byte[] Order(int i, int padding = 0) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["order_id"] = $"ord-{i:D7}", ["customer_id"] = $"cust-{i % 97}", ["product"] = "widget", ["quantity"] = i % 5,
        ["unit_price"] = 19.99, ["currency"] = "EUR", ["status"] = "NEW", ["created_at"] = 1_700_000_000_000L + i,
        ["region"] = "eu-west", ["note"] = new string('x', 10 + padding),
    }.ToJsonString());

    /// <summary>The hand-written equivalent of bench.ksml.yaml.</summary>
    public static Topology HandWritten() => HandWritten(producerPartitions: false);

    /// <summary>
    /// The same, with the sink KSML's <c>to</c> uses: no stream partitioner, so Streamiz does not look
    /// up the topic's partition count per record. Against this one the ratio shows the bridge's share alone.
    /// </summary>
    public static Topology HandWrittenWithKsmlSink() => HandWritten(producerPartitions: true);

    private static Topology HandWritten(bool producerPartitions)
    {
        var builder = new StreamBuilder();
        var json = KsmlDataType.Of<JsonNode>("json", "json").Serde();
        var stream = builder.Stream("bench_in", new StringSerDes(), json)
            .Filter((_, v, _) => v["quantity"]!.GetValue<int>() > 0)
            .MapValues((_, v, _) =>
            {
                var copy = v.DeepClone();
                copy["total"] = Math.Round(v["quantity"]!.GetValue<int>() * v["unit_price"]!.GetValue<double>(), 2);
                return copy;
            });
        if (producerPartitions)
            stream.To(new FixedTopic("bench_out"), (IStreamPartitioner<string, JsonNode>?)null, new StringSerDes(), json);
        else
            stream.To("bench_out", new StringSerDes(), json);
        return builder.Build();
    }

    private sealed class FixedTopic(string topic) : ITopicNameExtractor<string, JsonNode>
    {
        public string Extract(string key, JsonNode value, IRecordContext recordContext) => topic;
    }

    /// <summary>The compiled topology with C# stand-ins for the Python functions: the runtime's own share.</summary>
    public static Topology CompiledWithoutPython() =>
        KsmlApplication.BuildTopology([new BenchKsml()], new CSharpFunctions());

    private sealed class CSharpFunctions : Ksml.Runtime.Functions.IKsmlFunctionFactory
    {
        public Ksml.Runtime.Functions.IKsmlFunction Create(Ksml.Runtime.Definitions.KsmlFunctionDefinition definition) => new Function(definition);

        private sealed class Function(Ksml.Runtime.Definitions.KsmlFunctionDefinition definition) : Ksml.Runtime.Functions.IKsmlFunction
        {
            public Ksml.Runtime.Definitions.KsmlFunctionDefinition Definition => definition;

            public object? Invoke(Ksml.Runtime.Functions.IKsmlStoreProvider? stores, params object?[] arguments)
            {
                var value = (JsonNode)arguments[1]!;
                if (definition.Name == "is_relevant")
                    return value["quantity"]!.GetValue<int>() > 0;
                var copy = value.DeepClone();
                copy["total"] = Math.Round(value["quantity"]!.GetValue<int>() * value["unit_price"]!.GetValue<double>(), 2);
                return copy;
            }
        }
    }

    public static Topology Compiled() =>
        KsmlApplication.BuildTopology([new BenchKsml()], new PythonFunctionFactory(NullLoggerFactory.Instance));

    /// <summary>The compiled topology with tracing on: a span per record and per function call.</summary>
    public static Topology CompiledTraced() =>
        KsmlApplication.BuildTopology([new BenchKsml()], new PythonFunctionFactory(NullLoggerFactory.Instance), tracing: true);

    /// <summary>
    /// Bytes the last <see cref="Driver"/> run allocated per record while piping its records through: exact and
    /// independent of the machine's load, unlike its time (the driver processes on the calling thread).
    /// </summary>
    public static double LastDriverBytesPerRecord { get; private set; }

    /// <summary>Records per second through TopologyTestDriver.</summary>
    public static double Driver(Func<Topology> topology, int records, int padding = 0)
    {
        var config = new StreamConfig<StringSerDes, StringSerDes> { ApplicationId = "bench-" + Guid.NewGuid().ToString("N")[..8], Logger = NullLoggerFactory.Instance };
        using var driver = new TopologyTestDriver(topology(), config);
        var input = driver.CreateInputTopic<string, byte[]>("bench_in", new StringSerDes(), new ByteArraySerDes());
        var output = driver.CreateOutputTopic<string, byte[]>("bench_out", TimeSpan.FromSeconds(1), new StringSerDes(), new ByteArraySerDes());
        var values = Enumerable.Range(0, records).Select(i => Order(i, padding)).ToArray();
        for (var i = 0; i < 200; i++)
            input.PipeInput("warm", values[i % values.Length]);
        output.ReadKeyValueList().ToList();
        // TopologyTestDriver processes on the calling thread, so its CPU time is the cost, whatever the neighbours do.
        var started = CpuClock.ThreadNanoseconds();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < records; i++)
            input.PipeInput(i.ToString(), values[i]);
        LastDriverBytesPerRecord = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)records;
        var produced = output.ReadKeyValueList().Count();
        var seconds = (CpuClock.ThreadNanoseconds() - started) / 1e9;
        if (produced != records * 4 / 5)
            throw new InvalidOperationException($"expected {records * 4 / 5} outputs, got {produced}");
        return records / seconds;
    }

    /// <summary>
    /// Each broker run's stream-thread CPU time per record (a steadier view of the same cost) and the bytes the whole
    /// process allocated per record (exact; the feeding producer and the reader allocate the same in every run, so
    /// differences are the stream's).
    /// </summary>
    public static readonly List<(Func<Topology> Build, double ThreadMicros, double Bytes)> BrokerRuns = [];

    /// <summary>
    /// Records per second on the embedded broker once the application runs: the stream is started and
    /// warmed up on a first batch, then the clock runs from producing the measured records to reading the last output.
    /// </summary>
    public static double Broker(Func<Topology> build, int records)
    {
        using var run = new BrokerRun(build, records);
        var (seconds, streamThreadSeconds, bytes) = run.Measure();
        BrokerRuns.Add((build, streamThreadSeconds * 1e6 / records, bytes / records));
        return records / seconds;
    }

    /// <summary>
    /// The compiled application's clients are gated after a stop (<see cref="CommitGate"/>), as KsmlHost runs them;
    /// the hand-written ones keep Streamiz's own. <c>KSML_BENCH_NO_COMMIT_GATE</c> leaves the gate out, to measure it.
    /// </summary>
    private static CommitGate? CommitsFor(Func<Topology> build) =>
        build == Compiled && Environment.GetEnvironmentVariable("KSML_BENCH_NO_COMMIT_GATE") is null ? new CommitGate() : null;

    /// <summary>
    /// Two topologies measured at the same moment, each on its own embedded broker with its own feed and reader: whatever
    /// the machine does meanwhile (neighbours, frequency, the other's threads) falls on both alike, which a comparison of
    /// runs taken one after the other cannot promise on a shared 2-core machine. Returns each one's records per second
    /// and its stream thread's CPU microseconds per record.
    /// </summary>
    public static ((double PerSecond, double ThreadMicros) First, (double PerSecond, double ThreadMicros) Second) SideBySide(
        Func<Topology> first, Func<Topology> second, int records, bool warmSecondFirst)
    {
        // The one warmed up first has waited longer once both run; alternating it leaves no order in the ratio.
        using var b0 = warmSecondFirst ? new BrokerRun(second, records) : null;
        using var a = new BrokerRun(first, records);
        using var b = b0 ?? new BrokerRun(second, records);
        using var start = new Barrier(2);
        (double, double, double) Measure(BrokerRun run)
        {
            start.SignalAndWait();
            return run.Measure();
        }
        var measuredA = Task.Factory.StartNew(() => Measure(a), TaskCreationOptions.LongRunning);
        var measuredB = Task.Factory.StartNew(() => Measure(b), TaskCreationOptions.LongRunning);
        var (secondsA, threadA, _) = measuredA.GetAwaiter().GetResult();
        var (secondsB, threadB, _) = measuredB.GetAwaiter().GetResult();
        return ((records / secondsA, threadA * 1e6 / records), (records / secondsB, threadB * 1e6 / records));
    }

    /// <summary>One topology running on its own embedded broker, fed by its own producer and read by its own consumer.</summary>
    private sealed class BrokerRun : IDisposable
    {
        private const int WarmUp = 10_000; // long enough for tiered JIT to settle in the quick run too
        private readonly EmbeddedKafkaBroker _broker;
        private readonly IProducer<string, byte[]> _producer;
        private readonly IConsumer<string, byte[]> _reader;
        private readonly KafkaStream _stream;
        private readonly string _applicationId;
        private readonly byte[][] _values;
        private readonly int _records;

        public BrokerRun(Func<Topology> build, int records)
        {
            _records = records;
            _broker = EmbeddedKafkaBroker.Start();
            // Eight partitions: the mock keeps at most 5 MiB per partition and drops older data beyond that.
            _broker.CreateTopic("bench_in", 8);
            _broker.CreateTopic("bench_out", 8);
            _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, LingerMs = 5 }).Build();
            _values = Enumerable.Range(0, WarmUp + records).Select(i => Order(i)).ToArray();
            // Named after the topology, so a profiler tells the stream threads apart (Linux keeps 15 characters of a thread name).
            _applicationId = "bench-" + build.Method.Name[..Math.Min(4, build.Method.Name.Length)].ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
            var config = new StreamConfig<StringSerDes, StringSerDes>
            {
                ApplicationId = _applicationId,
                BootstrapServers = _broker.BootstrapServers,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                Logger = NullLoggerFactory.Instance,
                // The mock broker holds an empty fetch for the whole fetch.wait.max.ms (500 ms by default)
                // even when data arrives, which quantised the timings into half seconds.
                FetchWaitMaxMs = 10,
            };
            _reader = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = _broker.BootstrapServers, GroupId = "bench-reader-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
                FetchWaitMaxMs = 10,
            }).Build();
            _reader.Subscribe("bench_out");
            _stream = new KafkaStream(build(), config, new KsmlKafkaClients(config, _broker, CommitsFor(build)));
            // Group join, task creation, JIT and Python start are start-up (`startup seconds`), not throughput.
            _stream.StartAsync().GetAwaiter().GetResult();
            Produce(0, WarmUp);
            ReadOutputs(_reader, WarmUp * 4 / 5, TimeSpan.FromMinutes(3));
        }

        private void Produce(int from, int count)
        {
            for (var i = from; i < from + count; i++)
                _producer.Produce("bench_in", new Message<string, byte[]> { Key = i.ToString(), Value = _values[i] });
            _producer.Flush(TimeSpan.FromSeconds(30));
        }

        /// <summary>
        /// Produces the measured records and reads their outputs: the wall seconds from the first produce to the last
        /// output read, the stream thread's CPU seconds meanwhile, and the bytes the whole process allocated.
        /// </summary>
        public (double Seconds, double StreamThreadSeconds, double AllocatedBytes) Measure()
        {
            var cpu = ThreadCpu.Snapshot();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            Produce(WarmUp, _records);
            ReadOutputs(_reader, _records * 4 / 5, TimeSpan.FromMinutes(3));
            clock.Stop();
            var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            var after = ThreadCpu.Snapshot();
            if (Environment.GetEnvironmentVariable("KSML_BENCH_THREADS") is not null)
                Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds:F2}s wall; CPU " + ThreadCpu.Diff(cpu, after));
            // Streamiz names its stream thread after the application id (Linux keeps the first 15 characters).
            double StreamThread(Dictionary<string, double> snapshot) => snapshot.Where(t => t.Key.StartsWith(_applicationId[..Math.Min(15, _applicationId.Length)], StringComparison.Ordinal)).Sum(t => t.Value);
            return (clock.Elapsed.TotalSeconds, StreamThread(after) - StreamThread(cpu), bytes);
        }

        public void Dispose()
        {
            _stream.Dispose();
            _reader.Dispose();
            _producer.Dispose();
            _broker.Dispose();
        }
    }

    /// <summary>Reads <paramref name="expected"/> records with <paramref name="consumer"/>, or fails after <paramref name="within"/>.</summary>
    public static void ReadOutputs(IConsumer<string, byte[]> consumer, int expected, TimeSpan within)
    {
        var read = 0;
        var deadline = DateTime.UtcNow + within;
        while (read < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false })
                read++;
        if (read < expected)
            throw new InvalidOperationException($"only {read} of {expected} outputs within {within.TotalMinutes:F0} minutes");
    }

    /// <summary>Runs compiled and hand-written alternately and returns the median of each and their ratio.</summary>
    public static (double Compiled, double HandWritten, double Ratio) Alternate(int rounds, Func<bool, double> measure)
    {
        var medians = Rounds(rounds, () => measure(false), () => measure(true));
        return (medians[1], medians[0], medians[1] / medians[0]);
    }

    /// <summary>Runs every measurement once per round, in turn, and returns the median of each.</summary>
    public static double[] Rounds(int rounds, params Func<double>[] measurements)
    {
        var results = measurements.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var i = 0; i < measurements.Length; i++)
                results[i].Add(measurements[i]());
        return results.Select(values => values.Order().ElementAt(values.Count / 2)).ToArray();
    }
}
