using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Python;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksml.Benchmarks;

/// <summary>
/// The per-record value work of bench.ksml.yaml without Streamiz around it: deserialize, the
/// predicate, the valueTransformer, serialize; against the hand-written lambdas doing the same with
/// the same serde. Both run on this thread, alternating, so the machine's drift cancels out of the
/// ratio, and the difference is exactly what the Python bridge adds to a record (the broker run's
/// stream thread adds Streamiz and the client on top of this).
/// </summary>
internal static class PipelineBenchmark
{
    public static (double CompiledMicros, double HandMicros, double Ratio) Run(int records, int rounds)
    {
        var functions = CompiledFunctions();
        var predicate = functions["is_relevant"];
        var transformer = functions["with_total"];
        var serde = KsmlDataType.Of<JsonNode>("json", "json").Serde();
        var context = new SerializationContext(MessageComponentType.Value, "bench_out");
        var inputs = Enumerable.Range(0, records).Select(i => ThroughputBenchmark.Order(i)).ToArray();
        var keys = Enumerable.Range(0, records).Select(i => i.ToString()).ToArray();
        long written = 0;

        void Compiled(int i)
        {
            var value = serde.Deserialize(inputs[i], context);
            if (!(bool)predicate.Invoke(null, keys[i], value)!)
                return;
            written += serde.Serialize((JsonNode)transformer.Invoke(null, keys[i], value)!, context).Length;
        }

        void HandWritten(int i)
        {
            var value = serde.Deserialize(inputs[i], context);
            if (!(value["quantity"]!.GetValue<int>() > 0))
                return;
            var copy = value.DeepClone();
            copy["total"] = Math.Round(value["quantity"]!.GetValue<int>() * value["unit_price"]!.GetValue<double>(), 2);
            written += serde.Serialize(copy, context).Length;
        }

        double Micros(Action<int> record)
        {
            var started = CpuClock.ThreadNanoseconds();
            for (var i = 0; i < records; i++)
                record(i);
            return (CpuClock.ThreadNanoseconds() - started) / records / 1000.0;
        }

        // Warm up for a few seconds: tiered JIT promotes hot methods only after a quiet delay.
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(3))
        {
            Micros(Compiled);
            Micros(HandWritten);
        }
        var medians = ThroughputBenchmark.Rounds(rounds, () => Micros(HandWritten), () => Micros(Compiled));
        GC.KeepAlive(written);
        return (medians[1], medians[0], medians[0] / medians[1]);
    }

    /// <summary>bench.ksml.yaml's functions, compiled into Python as the generated topology compiles them.</summary>
    private static Dictionary<string, IKsmlFunction> CompiledFunctions()
    {
        var capture = new CapturingFactory(new PythonFunctionFactory(NullLoggerFactory.Instance));
        KsmlApplication.BuildTopology([new BenchKsml()], capture);
        return capture.Created;
    }

    private sealed class CapturingFactory(IKsmlFunctionFactory inner) : IKsmlFunctionFactory
    {
        public Dictionary<string, IKsmlFunction> Created { get; } = [];

        public IKsmlFunction Create(KsmlFunctionDefinition definition) => Created[definition.Name] = inner.Create(definition);
    }
}
