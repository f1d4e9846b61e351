using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The series KSML's runner serves (its metrics reference), so dashboards and alerts built on KSML keep working:
/// <c>ksml_execution_time_*</c> per function, <c>ksml_record_e2e_latency_{avg,min,max}_ms_value</c> per sink,
/// <c>ksml_user_defined_{counter,meter,timer}_*</c> from Python's <c>metrics</c>, and <c>ksml_app_value</c>. KSML
/// exports Dropwizard timers and meters through the JMX exporter, so each becomes the gauges it does there:
/// count, min, max, mean, stddev, percentiles and one-, five- and fifteen-minute rates. Served beside
/// Ksml.NET's own series at <c>/metrics</c>, written as text since user metrics carry labels of their own.
/// </summary>
public static class KsmlCompatibleMetrics
{
    private static readonly ConcurrentDictionary<(string Name, string Labels), Instrument> Instruments = new();
    private static readonly ConcurrentDictionary<string, string> Help = new(StringComparer.Ordinal);
    private static volatile bool _enabled;

    /// <summary>Whether anything serves the series (the metrics endpoint): otherwise nothing is measured for them.</summary>
    public static bool Enabled => _enabled;

    /// <summary>Starts measuring, once an endpoint serves the series.</summary>
    public static void Enable() => _enabled = true;

    /// <summary><c>ksml_app</c>: 1, with the application id, name, version and build time as labels.</summary>
    public static void Application(string applicationId)
    {
        var assembly = typeof(KsmlCompatibleMetrics).Assembly;
        var version = assembly.GetName().Version?.ToString() ?? "unknown";
        var built = File.Exists(assembly.Location) ? File.GetLastWriteTimeUtc(assembly.Location).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "unknown";
        Get<Gauge>("ksml_app", "KSML application information; the value is always 1",
            [("app_id", applicationId), ("name", "Ksml.NET"), ("version", version), ("build_time", built)]).Set(1);
    }

    /// <summary>A function call's duration, as <c>ksml_execution_time</c>.</summary>
    public static void Executed(string @namespace, string function, string functionType, double milliseconds) =>
        Get<Timer>("ksml_execution_time", "Execution time statistics of a KSML user function per invocation; durations are in milliseconds and rates are per second",
            [("function_name", function), ("function_type", functionType), ("namespace", @namespace)]).Update(milliseconds);

    /// <summary>A record's age when it reached a sink, as <c>ksml_record_e2e_latency_{avg,min,max}_ms</c>.</summary>
    public static void EndToEnd(string @namespace, string operation, double milliseconds) =>
        Get<Latency>("ksml_record_e2e_latency", "End-to-end latency of records from their timestamp to this KSML processor node, in milliseconds",
            [("namespace", @namespace), ("operation_name", operation), ("unit", "ms")]).Update(milliseconds);

    /// <summary>What Python's <c>metrics.counter|meter|timer</c> records, as <c>ksml_user_defined_*</c> with its name as <c>custom_name</c>.</summary>
    public static Action<double> UserDefined(int kind, string name, IEnumerable<KeyValuePair<string, object?>> tags)
    {
        var labels = new List<(string, string)> { ("custom_name", name) };
        labels.AddRange(tags.Select(t => (t.Key, t.Value?.ToString() ?? "")));
        return kind switch
        {
            0 => Get<Counter>("ksml_user_defined_counter", "User-defined counter metric registered from KSML user code", labels).Add,
            1 => Get<Meter>("ksml_user_defined_meter", "User-defined meter metric registered from KSML user code", labels).Mark,
            _ => Get<Timer>("ksml_user_defined_timer", "User-defined timer metric registered from KSML user code; durations are in milliseconds", labels).Update,
        };
    }

    private static T Get<T>(string name, string help, IEnumerable<(string Name, string Value)> labels) where T : Instrument, new()
    {
        Help.TryAdd(name, help);
        var text = string.Join(",", labels.Select(l => $"{Sanitize(l.Name)}=\"{Escape(l.Value)}\""));
        return (T)Instruments.GetOrAdd((name, text), _ => new T());
    }

    /// <summary>Writes every series in Prometheus' text format, each family with its HELP and TYPE.</summary>
    public static void WriteTo(TextWriter writer)
    {
        var families = new SortedDictionary<string, List<(string Labels, double Value)>>(StringComparer.Ordinal);
        foreach (var ((name, labels), instrument) in Instruments)
            foreach (var (suffix, value) in instrument.Series())
            {
                if (!families.TryGetValue(name + suffix, out var series))
                    families[name + suffix] = series = [];
                series.Add((labels, value));
            }
        foreach (var (family, series) in families)
        {
            var help = Help.FirstOrDefault(h => family.StartsWith(h.Key, StringComparison.Ordinal)).Value;
            writer.Write($"# HELP {family} {help}\n# TYPE {family} gauge\n");
            foreach (var (labels, value) in series.OrderBy(s => s.Labels, StringComparer.Ordinal))
                writer.Write($"{family}{{{labels}}} {value.ToString("R", CultureInfo.InvariantCulture)}\n");
        }
    }

    private static string Sanitize(string label)
    {
        var text = new StringBuilder(label.Length);
        foreach (var c in label)
            text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        return text.Length > 0 && char.IsAsciiDigit(text[0]) ? "_" + text : text.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>One measured thing and the series it is exported as (suffix, value).</summary>
    private abstract class Instrument
    {
        public abstract IEnumerable<(string Suffix, double Value)> Series();
    }

    private sealed class Gauge : Instrument
    {
        private double _value;

        public void Set(double value) => Volatile.Write(ref _value, value);

        public override IEnumerable<(string, double)> Series() => [("_value", Volatile.Read(ref _value))];
    }

    private sealed class Counter : Instrument
    {
        private double _count;

        public void Add(double delta)
        {
            lock (this)
                _count += delta;
        }

        public override IEnumerable<(string, double)> Series()
        {
            lock (this)
                return [("_count", _count)];
        }
    }

    /// <summary>A count with Dropwizard's rates: the mean since start and one-, five- and fifteen-minute moving averages per second.</summary>
    private class Meter : Instrument
    {
        private const long TickTicks = 5 * TimeSpan.TicksPerSecond;
        private static readonly double[] Alphas = [1 - Math.Exp(-5.0 / 60), 1 - Math.Exp(-5.0 / 300), 1 - Math.Exp(-5.0 / 900)];
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly double[] _rates = new double[3];
        private long _lastTick = Stopwatch.GetTimestamp();
        private long _uncounted;
        private bool _initialized;

        protected long Count { get; private set; }

        public void Mark(double count)
        {
            lock (this)
            {
                Tick();
                Count += (long)count;
                _uncounted += (long)count;
            }
        }

        private void Tick()
        {
            var elapsed = Stopwatch.GetElapsedTime(_lastTick).Ticks;
            for (; elapsed >= TickTicks; elapsed -= TickTicks)
            {
                var instant = _uncounted / 5.0;
                _uncounted = 0;
                for (var i = 0; i < _rates.Length; i++)
                    _rates[i] = _initialized ? _rates[i] + Alphas[i] * (instant - _rates[i]) : instant;
                _initialized = true;
                _lastTick += TickTicks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
            }
        }

        protected IEnumerable<(string, double)> Rates()
        {
            Tick();
            var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            return [("_meanrate", seconds > 0 ? Count / seconds : 0), ("_oneminuterate", _rates[0]), ("_fiveminuterate", _rates[1]), ("_fifteenminuterate", _rates[2])];
        }

        public override IEnumerable<(string, double)> Series()
        {
            lock (this)
                return [("_count", Count), .. Rates()];
        }
    }

    /// <summary>A Dropwizard timer: a meter of calls, and their durations' statistics over the latest 1 028 (its reservoir's size).</summary>
    private sealed class Timer : Meter
    {
        private readonly double[] _samples = new double[1028];
        private int _next;
        private int _filled;

        public void Update(double milliseconds)
        {
            lock (this)
            {
                Mark(1);
                _samples[_next] = milliseconds;
                _next = (_next + 1) % _samples.Length;
                _filled = Math.Min(_filled + 1, _samples.Length);
            }
        }

        public override IEnumerable<(string, double)> Series()
        {
            lock (this)
            {
                var sorted = _samples.Take(_filled).Order().ToArray();
                double Quantile(double q) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
                var mean = sorted.Length == 0 ? 0 : sorted.Average();
                var stddev = sorted.Length < 2 ? 0 : Math.Sqrt(sorted.Sum(s => (s - mean) * (s - mean)) / (sorted.Length - 1));
                return
                [
                    ("_count", Count), ("_min", sorted.Length == 0 ? 0 : sorted[0]), ("_max", sorted.Length == 0 ? 0 : sorted[^1]), ("_mean", mean), ("_stddev", stddev),
                    ("_50thpercentile", Quantile(0.5)), ("_75thpercentile", Quantile(0.75)), ("_95thpercentile", Quantile(0.95)),
                    ("_98thpercentile", Quantile(0.98)), ("_99thpercentile", Quantile(0.99)), ("_999thpercentile", Quantile(0.999)),
                    .. Rates(),
                ];
            }
        }
    }

    /// <summary>End-to-end latency over the last minute (two half-minute windows), as Kafka Streams' avg/min/max gauges report it.</summary>
    private sealed class Latency : Instrument
    {
        private const long WindowTicks = 30 * TimeSpan.TicksPerSecond;
        private (long Window, double Sum, long Count, double Min, double Max) _current, _previous;

        public void Update(double milliseconds)
        {
            lock (this)
            {
                Roll();
                _current = (_current.Window, _current.Sum + milliseconds, _current.Count + 1,
                    _current.Count == 0 ? milliseconds : Math.Min(_current.Min, milliseconds), _current.Count == 0 ? milliseconds : Math.Max(_current.Max, milliseconds));
            }
        }

        private void Roll()
        {
            var window = DateTime.UtcNow.Ticks / WindowTicks;
            if (window == _current.Window)
                return;
            _previous = window == _current.Window + 1 ? _current : default;
            _current = (window, 0, 0, 0, 0);
        }

        public override IEnumerable<(string, double)> Series()
        {
            lock (this)
            {
                Roll();
                var count = _current.Count + _previous.Count;
                if (count == 0)
                    return [("_avg_ms_value", double.NaN), ("_min_ms_value", double.NaN), ("_max_ms_value", double.NaN)];
                var min = _previous.Count == 0 ? _current.Min : _current.Count == 0 ? _previous.Min : Math.Min(_current.Min, _previous.Min);
                var max = Math.Max(_current.Count == 0 ? double.MinValue : _current.Max, _previous.Count == 0 ? double.MinValue : _previous.Max);
                return [("_avg_ms_value", (_current.Sum + _previous.Sum) / count), ("_min_ms_value", min), ("_max_ms_value", max)];
            }
        }
    }
}
