using OpenTelemetry.Trace;
using Ksml.Benchmarks;
using Streamiz.Kafka.Net.Stream;

// Prints one `name: value` line per figure, so scripts can collect them.

// The generator project is referenced both as an analyzer (for bench.ksml.yaml) and as a library (for
// the generator benchmark), which leaves Ksml.Compiler out of deps.json; it sits next to this assembly.
System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (context, name) =>
    name.Name is "Ksml.Compiler" && File.Exists(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"))
        ? context.LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"))
        : null;
var what = args.FirstOrDefault() ?? "bridge";
var quick = args.Contains("--quick");
switch (what)
{
    case "bridge":
    {
        var (trivial, shaped, jsonStore, conversion) = BridgeBenchmark.Run(records: quick ? 20_000 : 100_000, rounds: quick ? 5 : 9);
        Console.WriteLine($"bridge us per record: {shaped:F2}");
        Console.WriteLine($"bridge trivial us per record: {trivial:F2}");
        Console.WriteLine($"bridge json store us per record: {jsonStore:F2}");
        Console.WriteLine($"bridge conversion only us per record: {conversion:F2}");
        return 0;
    }
    case "calls":
    {
        // The same function synchronously and with concurrency, 50 keys, one stream thread, in one run.
        var runs = new List<(string, int, int)> { ("sync", 20, quick ? 100 : 250) };
        foreach (var inFlight in new[] { 1, 4, 16, 64, 256 })
            runs.Add(($"c{inFlight}", 20, quick ? Math.Min(2_000, 100 * inFlight) : Math.Min(6_000, 250 * inFlight)));
        foreach (var latency in new[] { 5, 100 })
            runs.Add(("c64", latency, quick ? 1_000 : 3_000));
        runs.Add(("hsync", 20, quick ? 100 : 250));
        runs.Add(("h64", 20, quick ? 2_000 : 6_000));
        // --runs pipeline:latency:records,... measures just those (to look into one figure).
        if (args.SkipWhile(a => a != "--runs").Skip(1).FirstOrDefault() is { } only)
            runs = only.Split(',').Select(r => r.Split(':')).Select(r => (r[0], int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture))).ToList();
        // --csv FILE also writes the two series plot_calls.py draws: against maxInFlight (at 20 ms) and against latency (at 64).
        var csvPath = args.SkipWhile(a => a != "--csv").Skip(1).FirstOrDefault();
        var rows = new List<string> { "series,x,records_per_second,ceiling" };
        foreach (var (pipeline, latency, perSecond, cpu) in ExternalCallsBenchmark.Run(runs))
        {
            Console.WriteLine(FormattableString.Invariant($"calls {pipeline} {latency} ms records per second: {perSecond:F0} (cpu {cpu:F2} ms per call)"));
            if (pipeline.StartsWith('c') && int.TryParse(pipeline[1..], System.Globalization.CultureInfo.InvariantCulture, out var inFlight))
            {
                // The ceiling: min(maxInFlight, keys) calls per latency (50 keys).
                var ceiling = Math.Min(inFlight, 50) * 1000.0 / latency;
                if (latency == 20)
                    rows.Add(FormattableString.Invariant($"in_flight,{inFlight},{perSecond:F0},{ceiling:F0}"));
                if (inFlight == 64)
                    rows.Add(FormattableString.Invariant($"latency,{latency},{perSecond:F0},{ceiling:F0}"));
            }
            else if (pipeline == "sync")
                rows.Add(FormattableString.Invariant($"sync,{latency},{perSecond:F0},{1000.0 / latency:F0}"));
        }
        if (csvPath is not null)
            File.WriteAllLines(csvPath, rows);
        return 0;
    }
    case "writes":
    {
        foreach (var (pipeline, perSecond) in WritesBenchmark.Run(quick ? 1_000 : 3_000, quick ? 10_000 : 30_000))
            Console.WriteLine(FormattableString.Invariant($"writes {pipeline} records per second: {perSecond:F0}"));
        return 0;
    }
    case "bridge-breakdown":
        foreach (var (name, micros) in BridgeBenchmark.Breakdown(quick ? 20_000 : 100_000, quick ? 5 : 9))
            Console.WriteLine($"bridge breakdown {name}: {micros:F2}");
        return 0;
    case "pipeline":
    {
        var (compiled, hand, ratio) = PipelineBenchmark.Run(quick ? 5_000 : 20_000, quick ? 5 : 11);
        Console.WriteLine($"pipeline us per record compiled: {compiled:F2}");
        Console.WriteLine($"pipeline us per record hand-written: {hand:F2}");
        Console.WriteLine($"pipeline ratio: {ratio:F2}");
        return 0;
    }
    case "driver":
    {
        var records = quick ? 5_000 : 20_000;
        // --same-sink: against the hand-written topology given KSML's sink, as `throughput ratio broker same sink` compares.
        Func<Topology> baseline = args.Contains("--same-sink") ? ThroughputBenchmark.HandWrittenWithKsmlSink : ThroughputBenchmark.HandWritten;
        var (compiled, hand, ratio) = ThroughputBenchmark.Alternate(quick ? 3 : args.Contains("--same-sink") ? 9 : 5, c => ThroughputBenchmark.Driver(c ? ThroughputBenchmark.Compiled : baseline, records));
        Console.WriteLine($"driver records per second compiled: {compiled:F0}");
        Console.WriteLine($"driver records per second hand-written: {hand:F0}");
        Console.WriteLine($"throughput ratio driver: {ratio:F2}");
        if (args.Contains("--diagnose"))
        {
            var (runtimeOnly, _, runtimeRatio) = ThroughputBenchmark.Alternate(3, c => ThroughputBenchmark.Driver(c ? ThroughputBenchmark.CompiledWithoutPython : ThroughputBenchmark.HandWritten, records));
            Console.WriteLine($"driver records per second compiled without python: {runtimeOnly:F0} (ratio {runtimeRatio:F2})");
        }
        return 0;
    }
    case "allocations":
    {
        // What the compiled topology allocates per record beyond the same topology written by hand with KSML's sink:
        // the per-record machinery around each function call, measured exactly rather than timed on a shared machine.
        // Fourth runs count: tiered JIT's optimised code allocates less (it can keep objects that do not escape on the stack).
        double hand = 0, compiled = 0;
        for (var round = 0; round < 4; round++)
        {
            ThroughputBenchmark.Driver(ThroughputBenchmark.HandWrittenWithKsmlSink, 20_000);
            hand = ThroughputBenchmark.LastDriverBytesPerRecord;
            ThroughputBenchmark.Driver(ThroughputBenchmark.Compiled, 20_000);
            compiled = ThroughputBenchmark.LastDriverBytesPerRecord;
        }
        Console.WriteLine($"driver bytes per record compiled: {compiled:F0}");
        Console.WriteLine($"driver bytes per record hand-written with the ksml sink: {hand:F0}");
        return 0;
    }
    case "tracing":
    {
        // The same topology with tracing off and on, every span recorded (no exporter: what a span costs the stream thread).
        var records = quick ? 5_000 : 20_000;
        using var tracer = OpenTelemetry.Sdk.CreateTracerProviderBuilder().AddSource(Ksml.Runtime.Observability.KsmlTracing.SourceName)
            .SetSampler(new OpenTelemetry.Trace.AlwaysOnSampler()).Build();
        var (on, off, ratio) = ThroughputBenchmark.Alternate(quick ? 3 : 5, traced => ThroughputBenchmark.Driver(traced ? ThroughputBenchmark.CompiledTraced : ThroughputBenchmark.Compiled, records));
        Console.WriteLine($"tracing records per second off: {off:F0}");
        Console.WriteLine($"tracing records per second on: {on:F0}");
        Console.WriteLine($"tracing us per record added: {1e6 / on - 1e6 / off:F2} (3 spans per record: the record and its two function calls)");
        Console.WriteLine($"tracing throughput ratio: {ratio:F2}");
        // What one recorded span costs on its own, the part of the above too small to stand out of a record's Python work.
        const int spans = 200_000;
        var started = CpuClock.ThreadNanoseconds();
        for (var i = 0; i < spans; i++)
        {
            using var span = Ksml.Runtime.Observability.KsmlTracing.Source.StartActivity("bench");
            span?.SetTag("code.function.name", "f");
        }
        Console.WriteLine($"tracing us per span: {(CpuClock.ThreadNanoseconds() - started) / spans / 1000.0:F2}");
        return 0;
    }
    case "broker":
    {
        var records = quick ? 20_000 : 80_000;
        Func<double> Run(Func<Topology> build) => () => ThroughputBenchmark.Broker(build, records);
        // Five rounds in the quick run too: with three, one slow round on this shared machine was the median.
        var medians = ThroughputBenchmark.Rounds(5,
            Run(ThroughputBenchmark.HandWritten), Run(ThroughputBenchmark.Compiled), Run(ThroughputBenchmark.HandWrittenWithKsmlSink));
        var (hand, compiled, handSameSink) = (medians[0], medians[1], medians[2]);
        Console.WriteLine($"broker records per second compiled: {compiled:F0}");
        Console.WriteLine($"broker records per second hand-written: {hand:F0}");
        Console.WriteLine($"broker records per second hand-written with the ksml sink: {handSameSink:F0}");
        Console.WriteLine($"throughput ratio broker: {compiled / hand:F2}");
        Console.WriteLine($"throughput ratio broker same sink: {compiled / handSameSink:F2}");
        double ThreadMedian(Func<Topology> build) => ThroughputBenchmark.BrokerRuns.Where(r => r.Build == build).Select(r => r.ThreadMicros).Order().ElementAt(2);
        Console.WriteLine($"broker stream thread us per record compiled: {ThreadMedian(ThroughputBenchmark.Compiled):F2}");
        Console.WriteLine($"broker stream thread us per record hand-written: {ThreadMedian(ThroughputBenchmark.HandWritten):F2}");
        Console.WriteLine($"broker stream thread us per record hand-written with the ksml sink: {ThreadMedian(ThroughputBenchmark.HandWrittenWithKsmlSink):F2}");
        // Each round runs the three back to back, so a round's own pair shares the machine's state of the moment:
        // the median of the per-round ratios drifts less than the ratio of two medians taken apart.
        var compiledThread = ThroughputBenchmark.BrokerRuns.Where(r => r.Build == ThroughputBenchmark.Compiled).Select(r => r.ThreadMicros);
        var sameSinkThread = ThroughputBenchmark.BrokerRuns.Where(r => r.Build == ThroughputBenchmark.HandWrittenWithKsmlSink).Select(r => r.ThreadMicros);
        var paired = compiledThread.Zip(sameSinkThread, (c, h) => h / c);
        double BytesMedian(Func<Topology> build) => ThroughputBenchmark.BrokerRuns.Where(r => r.Build == build).Select(r => r.Bytes).Order().ElementAt(2);
        Console.WriteLine($"broker process bytes per record compiled: {BytesMedian(ThroughputBenchmark.Compiled):F0}");
        Console.WriteLine($"broker process bytes per record hand-written with the ksml sink: {BytesMedian(ThroughputBenchmark.HandWrittenWithKsmlSink):F0}");
        Console.WriteLine($"broker stream thread ratio same sink, paired rounds: {MedianOfRounds(paired)}");
        SideBySide(records, quick ? 5 : 7);
        if (args.Contains("--diagnose"))
        {
            var (runtimeOnly, _, runtimeRatio) = ThroughputBenchmark.Alternate(3, c => ThroughputBenchmark.Broker(c ? ThroughputBenchmark.CompiledWithoutPython : ThroughputBenchmark.HandWritten, records));
            Console.WriteLine($"broker records per second compiled without python: {runtimeOnly:F0} (ratio {runtimeRatio:F2})");
        }
        return 0;
    }
    case "broker-side-by-side":
        // --a-a: the same-sink hand-written topology against itself, to show the harness's own bias and spread.
        SideBySide(quick ? 20_000 : 80_000, quick ? 5 : 9, args.Contains("--a-a") ? ThroughputBenchmark.HandWrittenWithKsmlSink : ThroughputBenchmark.Compiled);
        return 0;
    case "profile":
    {
        // One topology on the broker, round after round, for a sampling profiler to attach to: profile compiled|same-sink [records].
        Func<Streamiz.Kafka.Net.Stream.Topology> build = args.ElementAtOrDefault(1) == "same-sink" ? ThroughputBenchmark.HandWrittenWithKsmlSink : ThroughputBenchmark.Compiled;
        var records = int.Parse(args.ElementAtOrDefault(2) ?? "80000", System.Globalization.CultureInfo.InvariantCulture);
        for (var round = 0; round < 5; round++)
            Console.WriteLine($"profile records per second: {ThroughputBenchmark.Broker(build, records):F0}");
        return 0;
    }
    case "generator":
    {
        var (ms, cached, lines) = GeneratorBenchmark.Run(quick ? 5 : 15);
        Console.Error.WriteLine($"generator input: {lines} lines");
        Console.WriteLine($"generator ms per file: {ms:F1}");
        Console.WriteLine($"incremental: {(cached ? "cached" : "recomputed")}");
        return cached ? 0 : 1;
    }
    case "startup":
        Console.WriteLine($"startup seconds: {ProcessBenchmark.Median(quick ? 3 : 5, "startup"):F2}");
        return 0;
    case "rss":
    {
        var records = quick ? "10000" : "40000";
        var compiledMb = ProcessBenchmark.Median(quick ? 1 : 3, "rss-compiled", records);
        var handMb = ProcessBenchmark.Median(quick ? 1 : 3, "rss-hand", records);
        Console.WriteLine($"peak rss mb compiled: {compiledMb:F0}");
        Console.WriteLine($"peak rss mb hand-written: {handMb:F0}");
        Console.WriteLine($"peak rss ratio: {compiledMb / handMb:F2}");
        return 0;
    }
    case "sweep":
        SweepBenchmark.Run(quick ? 2_000 : 10_000, args.SkipWhile(a => a != "--csv").Skip(1).FirstOrDefault() ?? "sweep.csv");
        return 0;
    case "child":
        return ProcessBenchmark.Child(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0);
    default:
        Console.Error.WriteLine($"unknown benchmark '{what}'; known: bridge, bridge-breakdown, calls, writes, pipeline, driver, allocations, tracing, broker, broker-side-by-side, profile, generator, startup, rss, sweep");
        return 2;
}

// The compiled topology and the hand-written one with KSML's sink measured at the same moment, each on its own broker
// with its own feed and reader: the machine's swings fall on both alike, so a round's ratio holds still.
static void SideBySide(int records, int rounds, Func<Topology>? first = null)
{
    first ??= ThroughputBenchmark.Compiled;
    var measured = Enumerable.Range(0, rounds).Select(round => ThroughputBenchmark.SideBySide(
        first, ThroughputBenchmark.HandWrittenWithKsmlSink, records, warmSecondFirst: round % 2 == 1)).ToList();
    var (name, firstName) = first == ThroughputBenchmark.Compiled ? ("same sink", "compiled") : ("a-a", "hand-written with the ksml sink");
    Console.WriteLine($"throughput ratio broker {name}, side by side: {MedianOfRounds(measured.Select(r => r.First.PerSecond / r.Second.PerSecond))}");
    Console.WriteLine($"broker stream thread ratio {name}, side by side: {MedianOfRounds(measured.Select(r => r.Second.ThreadMicros / r.First.ThreadMicros))}");
    Console.WriteLine($"broker stream thread us per record, side by side: {firstName} {measured.Select(r => r.First.ThreadMicros).Order().ElementAt(rounds / 2):F2}, hand-written with the ksml sink {measured.Select(r => r.Second.ThreadMicros).Order().ElementAt(rounds / 2):F2}");
}

// A ratio's median over rounds, with every round's value beside it.
static string MedianOfRounds(IEnumerable<double> ratios)
{
    var sorted = ratios.Order().ToList();
    return $"{sorted[sorted.Count / 2]:F2} (rounds {string.Join(", ", sorted.Select(r => r.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))})";
}
