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
    /// Records per second on the embedded broker once the application runs: the stream is started and
    /// warmed up on a first batch (group join, task creation, JIT, Python start are start-up, measured by
    /// `startup seconds`), then the clock runs from producing the measured records to reading the last output.
    /// </summary>
    /// <summary>CPU time of the stream thread per record in each broker run, a steadier view of the same cost.</summary>
    public static readonly List<(Func<Topology> Build, double Micros)> StreamThreadMicrosPerRecord = [];

    public static double Broker(Func<Topology> build, int records, CommitGate? commits = null)
    {
        const int warmUp = 10_000; // long enough for tiered JIT to settle in the quick run too
        using var broker = EmbeddedKafkaBroker.Start();
        // Eight partitions: the mock keeps at most 5 MiB per partition and drops older data beyond that.
        broker.CreateTopic("bench_in", 8);
        broker.CreateTopic("bench_out", 8);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build();
        var values = Enumerable.Range(0, warmUp + records).Select(i => Order(i)).ToArray();
        void Produce(int from, int count)
        {
            for (var i = from; i < from + count; i++)
                producer.Produce("bench_in", new Message<string, byte[]> { Key = i.ToString(), Value = values[i] });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        var config = new StreamConfig<StringSerDes, StringSerDes>
        {
            ApplicationId = "bench-" + Guid.NewGuid().ToString("N")[..8],
            BootstrapServers = broker.BootstrapServers,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            Logger = NullLoggerFactory.Instance,
            // The mock broker holds an empty fetch for the whole fetch.wait.max.ms (500 ms by default)
            // even when data arrives, which quantised the timings into half seconds.
            FetchWaitMaxMs = 10,
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "bench-reader-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 10,
        }).Build();
        consumer.Subscribe("bench_out");
        void Read(int expected) => ReadOutputs(consumer, expected, TimeSpan.FromMinutes(3));
        using var stream = new KafkaStream(build(), config, new KsmlKafkaClients(config, broker, commits));
        stream.StartAsync().GetAwaiter().GetResult();
        Produce(0, warmUp);
        Read(warmUp * 4 / 5);

        var cpu = ThreadCpu.Snapshot();
        var clock = Stopwatch.StartNew();
        Produce(warmUp, records);
        Read(records * 4 / 5);
        clock.Stop();
        var after = ThreadCpu.Snapshot();
        if (Environment.GetEnvironmentVariable("KSML_BENCH_THREADS") is not null)
            Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds:F2}s wall; CPU " + ThreadCpu.Diff(cpu, after));
        // Streamiz names its stream thread after the application id (Linux keeps the first 15 characters).
        double StreamThread(Dictionary<string, double> snapshot) => snapshot.Where(t => t.Key.StartsWith(config.ApplicationId, StringComparison.Ordinal)).Sum(t => t.Value);
        StreamThreadMicrosPerRecord.Add((build, (StreamThread(after) - StreamThread(cpu)) * 1e6 / records));
        return records / clock.Elapsed.TotalSeconds;
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
