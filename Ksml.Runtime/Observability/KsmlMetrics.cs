using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The runtime's metrics, on System.Diagnostics.Metrics so any exporter (Prometheus, OpenTelemetry,
/// dotnet-counters) can read them. Functions report their execution time; snippets add their own
/// counters, meters and timers through KSML's <c>metrics</c> object.
/// </summary>
public static class KsmlMetrics
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "Ksml";

    /// <summary>The meter all KSML instruments live on.</summary>
    public static readonly Meter Meter = new(MeterName, typeof(KsmlMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Time spent in a KSML function per call, in milliseconds, tagged by namespace and function.</summary>
    public static readonly Histogram<double> FunctionDuration =
        Meter.CreateHistogram<double>("function.duration", "ms", "Time spent in a KSML function per call");

    /// <summary>
    /// One call of <paramref name="definition"/> that took <paramref name="elapsedMs"/>: Ksml.NET's histogram and KSML's
    /// <c>ksml_execution_time</c>, whether the call ran in CPython or as C#.
    /// </summary>
    internal static void FunctionCalled(Definitions.KsmlFunctionDefinition definition, KeyValuePair<string, object?> namespaceTag, KeyValuePair<string, object?> functionTag, double elapsedMs)
    {
        FunctionDuration.Record(elapsedMs, namespaceTag, functionTag);
        if (KsmlCompatibleMetrics.Enabled)
            KsmlCompatibleMetrics.Executed(definition.Definition, definition.Name, definition.Type, elapsedMs);
    }

    /// <summary>Calls to a KSML function that raised, tagged by namespace, function and error type.</summary>
    public static readonly Counter<long> FunctionErrors =
        Meter.CreateCounter<long>("function.errors", null, "Calls to a KSML function that failed");

    /// <summary>Records read from a KSML stream, tagged by topic and partition (so per task).</summary>
    public static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("records.in", "{records}", "Records read by pipelines, by topic and partition");

    /// <summary>Records written by a <c>to</c> sink, tagged by topic.</summary>
    public static readonly Counter<long> RecordsOut = Meter.CreateCounter<long>("records.out", "{records}", "Records written by pipelines, by topic");

    private static readonly ConcurrentDictionary<string, Counter<long>> Counters = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Counter<long>> Meters = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Histogram<double>> Timers = new(StringComparer.Ordinal);

    /// <summary>
    /// How a snippet's <c>metrics.counter|meter|timer(name, tags)</c> is recorded: kind 0 a counter,
    /// 1 a meter (a counter whose rate the backend derives), 2 a timer (a histogram in ms).
    /// </summary>
    public static Action<double> UserInstrument(int kind, string name, KeyValuePair<string, object?>[] tags)
    {
        var record = Instrument(kind, name, tags);
        if (!KsmlCompatibleMetrics.Enabled)
            return record;
        // Also as KSML's runner serves them (ksml_user_defined_*), for dashboards built on KSML.
        var compatible = KsmlCompatibleMetrics.UserDefined(kind, name, tags);
        return value =>
        {
            record(value);
            compatible(value);
        };
    }

    private static Action<double> Instrument(int kind, string name, KeyValuePair<string, object?>[] tags)
    {
        var instrumentName = "user." + name;
        var tagList = new TagList(tags);
        switch (kind)
        {
            case 0:
            {
                var counter = Counters.GetOrAdd(instrumentName, n => Meter.CreateCounter<long>(n, null, "KSML user counter"));
                return value => counter.Add((long)value, tagList);
            }
            case 1:
            {
                var meter = Meters.GetOrAdd(instrumentName, n => Meter.CreateCounter<long>(n, "{events}", "KSML user meter"));
                return value => meter.Add((long)value, tagList);
            }
            case 2:
            {
                var timer = Timers.GetOrAdd(instrumentName, n => Meter.CreateHistogram<double>(n, "ms", "KSML user timer"));
                return value => timer.Record(value, tagList);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown metric kind");
        }
    }
}
