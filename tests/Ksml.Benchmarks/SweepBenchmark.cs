using System.Globalization;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Python;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Benchmarks;

/// <summary>
/// Throughput under TopologyTestDriver (CPU time of the processing thread) against record size, for
/// the compiled pipeline and the hand-written one, and against the number of Python functions in a
/// pipeline; written as CSV for docs/benchmarks.png.
/// </summary>
internal static class SweepBenchmark
{
    public static void Run(int records, string csvPath)
    {
        using var csv = new StreamWriter(csvPath);
        csv.WriteLine("series,x,records_per_second");
        foreach (var padding in new[] { 0, 800, 3_800, 15_800 })
        {
            var size = ThroughputBenchmark.Order(0, padding).Length;
            // Median of three alternating runs: a single run on a shared machine is too noisy to plot.
            var (compiled, hand, _) = ThroughputBenchmark.Alternate(3, c => ThroughputBenchmark.Driver(c ? ThroughputBenchmark.Compiled : ThroughputBenchmark.HandWritten, records, padding));
            csv.WriteLine(FormattableString.Invariant($"size_compiled,{size},{compiled:F0}"));
            csv.WriteLine(FormattableString.Invariant($"size_hand,{size},{hand:F0}"));
            Console.WriteLine(FormattableString.Invariant($"sweep size {size} bytes: compiled {compiled:F0}/s, hand-written {hand:F0}/s"));
        }
        var topology = KsmlApplication.BuildTopology([new ChainsKsml()], new PythonFunctionFactory(NullLoggerFactory.Instance));
        var config = new StreamConfig<StringSerDes, StringSerDes> { ApplicationId = "sweep-" + Guid.NewGuid().ToString("N")[..8], Logger = NullLoggerFactory.Instance };
        using var driver = new TopologyTestDriver(topology, config);
        var value = ThroughputBenchmark.Order(0);
        foreach (var functions in new[] { 1, 2, 4, 8 })
        {
            var input = driver.CreateInputTopic<string, byte[]>($"chain{functions}_in", new StringSerDes(), new ByteArraySerDes());
            var output = driver.CreateOutputTopic<string, byte[]>($"chain{functions}_out", TimeSpan.FromSeconds(1), new StringSerDes(), new ByteArraySerDes());
            for (var i = 0; i < 200; i++)
                input.PipeInput("warm", value);
            output.ReadKeyValueList().ToList();
            var started = CpuClock.ThreadNanoseconds();
            for (var i = 0; i < records; i++)
                input.PipeInput(i.ToString(CultureInfo.InvariantCulture), value);
            var produced = output.ReadKeyValueList().Count();
            var rate = records / ((CpuClock.ThreadNanoseconds() - started) / 1e9);
            if (produced != records)
                throw new InvalidOperationException($"chain{functions}: {produced} of {records}");
            csv.WriteLine(FormattableString.Invariant($"functions,{functions},{rate:F0}"));
            Console.WriteLine(FormattableString.Invariant($"sweep {functions} python functions: {rate:F0}/s"));
        }
    }
}
