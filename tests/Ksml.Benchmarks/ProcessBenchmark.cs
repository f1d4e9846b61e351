using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Benchmarks;

/// <summary>
/// Figures that need a process of their own: time from process start to the first output record,
/// and peak memory (VmHWM) of the compiled app against the hand-written one under the same load.
/// The parent starts this executable again with `child ...` and reads one number from it.
/// </summary>
internal static class ProcessBenchmark
{
    public static double Median(int runs, params string[] childArguments)
    {
        var values = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { typeof(ProcessBenchmark).Assembly.Location }.Where(_ => Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)).Concat(["child", .. childArguments]))
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            var last = output.Trim().Split('\n').Last();
            if (process.ExitCode != 0 || !double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new InvalidOperationException($"child {string.Join(' ', childArguments)} failed: {output} {errors.Result}");
            values.Add(value);
        }
        return values.Order().ElementAt(values.Count / 2);
    }

    /// <summary>In the child: runs the measurement and prints its number.</summary>
    public static int Child(string what, int records)
    {
        switch (what)
        {
            case "startup":
            {
                var processStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();
                using var broker = EmbeddedKafkaBroker.Start();
                var options = KsmlRunnerConfig.Parse("", "(bench)", _ => null, ["kafka.application.id=startup-" + Guid.NewGuid().ToString("N")[..8], "ksml.embeddedBroker.enabled=true"]);
                var host = KsmlHost.StartAsync([new BenchKsml()], options, NullLoggerFactory.Instance, broker).GetAwaiter().GetResult();
                Produce(broker, 1, 1);
                ReadOutputs(broker, 1);
                Console.WriteLine((DateTime.UtcNow - processStart).TotalSeconds.ToString("F2", CultureInfo.InvariantCulture));
                host.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return 0;
            }
            case "rss-compiled":
            case "rss-hand":
            {
                using var broker = EmbeddedKafkaBroker.Start();
                broker.CreateTopic("bench_in", 4);   // the mock keeps at most 5 MiB per partition
                broker.CreateTopic("bench_out", 4);
                Produce(broker, records, 0);
                var config = new StreamConfig<StringSerDes, StringSerDes>
                {
                    ApplicationId = "rss-" + Guid.NewGuid().ToString("N")[..8], BootstrapServers = broker.BootstrapServers,
                    AutoOffsetReset = AutoOffsetReset.Earliest, Logger = NullLoggerFactory.Instance,
                };
                using var stream = new KafkaStream(what == "rss-compiled" ? ThroughputBenchmark.Compiled() : ThroughputBenchmark.HandWritten(), config, new KsmlKafkaClients(config, broker));
                stream.StartAsync().GetAwaiter().GetResult();
                ReadOutputs(broker, records * 4 / 5);
                var peak = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                Console.WriteLine(long.Parse(peak.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0);
                return 0;
            }
            default:
                return 2;
        }
    }

    private static void Produce(EmbeddedKafkaBroker broker, int records, int first)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build();
        for (var i = first; i < first + records; i++)
            producer.Produce("bench_in", new Message<string, byte[]> { Key = i.ToString(CultureInfo.InvariantCulture), Value = ThroughputBenchmark.Order(i) });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private static void ReadOutputs(EmbeddedKafkaBroker broker, int count)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "reader-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("bench_out");
        ThroughputBenchmark.ReadOutputs(consumer, count, TimeSpan.FromMinutes(2));
    }
}
