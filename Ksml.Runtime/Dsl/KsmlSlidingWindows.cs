using Ksml.Runtime.Definitions;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>KSML's <c>windowByTime</c> with <c>windowType: sliding</c>: a grouped stream (partitioned by its key) and its sliding windows.</summary>
public sealed class KsmlSlidingWindowedStream<K, V>
{
    internal KsmlSlidingWindowedStream(IKStream<K, V> stream, long timeDifferenceMs, long graceMs)
    {
        Stream = stream;
        TimeDifferenceMs = timeDifferenceMs;
        GraceMs = graceMs;
    }

    internal IKStream<K, V> Stream { get; }

    internal long TimeDifferenceMs { get; }

    internal long GraceMs { get; }
}

/// <summary>One sliding window of a key: its start (its end is start + time difference), its latest record's time and its aggregate.</summary>
public readonly record struct SlidingWindow<VA>(long Start, long LatestRecord, VA Aggregate);

/// <summary>
/// Sliding windows, which Streamiz.Kafka.Net 1.8.2 lacks, with Kafka Streams' algorithm: a window
/// [t - d, t] ends at each record and one starts right after it when later records fall within d, so
/// every distinct set of records within d of each other is aggregated once; a record whose windows
/// all closed (stream time minus grace) is dropped with a warning.
/// </summary>
public static class KsmlSlidingWindows
{
    /// <summary><c>windowByTime</c> with a sliding window; without a grace period a window closes at its end, as in KSML.</summary>
    public static KsmlSlidingWindowedStream<K, V> KsmlWindowBySliding<K, V>(this IKStream<K, V> stream, long timeDifferenceMs, long? graceMs) =>
        new(stream, timeDifferenceMs, graceMs ?? 0);

    /// <summary><c>count</c> on a sliding-windowed stream.</summary>
    public static IKTable<Windowed<K>, long?> KsmlCount<K, V>(this KsmlSlidingWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType) =>
        Aggregate(windowed, ksml, store, name, keyType, null, new SlidingAggregation<K, V, long?>(() => 0L, null, (_, _, count) => (count ?? 0) + 1));

    /// <summary><c>reduce</c> on a sliding-windowed stream: a window's first value starts it.</summary>
    public static IKTable<Windowed<K>, V> KsmlReduce<K, V>(this KsmlSlidingWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var f = new FunctionStep<V>(ksml, reducer, name);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SlidingAggregation<K, V, V>(null, value => value,
            (k, v, agg) => f.Call(k, v, null, null, agg, v).Or(agg)));
    }

    /// <summary><c>aggregate</c> on a sliding-windowed stream.</summary>
    public static IKTable<Windowed<K>, VA> KsmlAggregate<K, V, VA>(this KsmlSlidingWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator,
        KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var init = new FunctionStep<VA>(ksml, initializer, name);
        var aggregate = new FunctionStep<VA>(ksml, aggregator, name);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SlidingAggregation<K, V, VA>(
            () => init.Call((object?)null, (object?)null, null, null).Or(default!),
            null,
            (k, v, agg) => aggregate.Call(k, v, null, null, k, v, agg).Or(agg)));
    }

    private static IKTable<Windowed<K>, VA> Aggregate<K, V, VA>(KsmlSlidingWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType,
        SlidingAggregation<K, V, VA> how) =>
        WindowedAggregation.Build<K, V, VA, SlidingWindow<VA>, SlidingAggregator<K, V, VA>>(windowed.Stream, ksml, store, name, keyType, valueType,
            storeName => how with { StoreName = storeName, TimeDifferenceMs = windowed.TimeDifferenceMs, GraceMs = windowed.GraceMs, Step = name },
            new WindowFormat<SlidingWindow<VA>, VA>(
                w => (w.Start, w.LatestRecord, w.Aggregate), (start, latest, aggregate) => new SlidingWindow<VA>(start, latest, aggregate),
                w => new TimeWindow(w.Start, w.Start + windowed.TimeDifferenceMs), (start, end) => new TimeWindow(start, end)));
}

/// <summary>What a sliding-window aggregation does with a key's records.</summary>
/// <param name="Initializer">The empty aggregate; null when a window's first value starts it (reduce).</param>
/// <param name="First">The aggregate of a window's first value when there is no initializer.</param>
/// <param name="Aggregator">Adds a value to an aggregate.</param>
internal sealed record SlidingAggregation<K, V, VA>(Func<VA>? Initializer, Func<V, VA>? First, Func<K, V, VA, VA> Aggregator)
{
    public string StoreName { get; init; } = "";

    public string Step { get; init; } = "";

    public long TimeDifferenceMs { get; init; }

    public long GraceMs { get; init; }
}

/// <summary>Kafka Streams' sliding-window aggregation (KStreamSlidingWindowAggregate), per stream task.</summary>
internal sealed class SlidingAggregator<K, V, VA> : WindowAggregator<K, V, VA, SlidingWindow<VA>>
{
    private readonly SlidingAggregation<K, V, VA> _how;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the aggregation given to it.</summary>
    public SlidingAggregator() : base(null, "", 0, typeof(KsmlSlidingWindows)) => _how = null!;

    public SlidingAggregator(SlidingAggregation<K, V, VA> how) : base(how.StoreName, how.Step, how.TimeDifferenceMs + how.GraceMs, typeof(KsmlSlidingWindows)) => _how = how;

    private long Difference => _how.TimeDifferenceMs;

    /// <summary>Windows that ended before this take no more records.</summary>
    private long CloseTime => StreamTime - _how.GraceMs;

    /// <summary>A window stops mattering to a record accepted now (its records may seed new windows) once it starts before this.</summary>
    protected override bool IsExpired(SlidingWindow<VA> window) => window.Start < CloseTime - 3 * Difference - 1;

    protected override void Aggregate(K key, V value, long timestamp)
    {
        if (timestamp + 1 + Difference <= CloseTime)
        {
            Log.LogWarning("{Step}: skipping a late record at {Timestamp}: its windows closed (stream time {StreamTime}, grace {Grace} ms)", Step, timestamp, StreamTime, _how.GraceMs);
            return;
        }
        if (timestamp < Difference)
        {
            // Kafka Streams folds such records into a window starting at 0; a window cannot start before the epoch.
            Log.LogWarning("{Step}: skipping a record at {Timestamp}, less than the time difference after the epoch", Step, timestamp);
            return;
        }

        var windows = (Store.Get(key) ?? []).Where(w => !IsExpired(w)).ToDictionary(w => w.Start);
        SlidingWindow<VA>? left = null, right = null;
        var leftExists = false;
        var rightExists = false;
        long? previousRecord = null;
        foreach (var window in windows.Values.Where(w => w.Start >= timestamp - 2 * Difference && w.Start <= timestamp + 1).OrderBy(w => w.Start).ToList())
        {
            var end = window.Start + Difference;
            if (end < timestamp)
            {
                // A window ending before this record: its records are the ones before this record's own window.
                left = window;
                previousRecord = window.LatestRecord;
            }
            else if (end == timestamp)
            {
                leftExists = true;
                if (window.LatestRecord < timestamp)
                    previousRecord = window.LatestRecord;
                Add(windows, key, window, value, timestamp);
            }
            else if (window.Start <= timestamp)
            {
                right = window;
                Add(windows, key, window, value, timestamp);
            }
            else
            {
                rightExists = true; // starts right after this record
            }
        }

        // The previous record's right window, if it does not exist and holds this record.
        // Only existing windows were updated so far, so the dictionary still holds exactly the starts that existed.
        if (previousRecord is { } previous && !windows.ContainsKey(previous + 1) && previous + 1 + Difference >= timestamp)
            Add(windows, key, Empty(previous + 1), value, timestamp);
        // This record's left window [t - d, t].
        if (!leftExists)
        {
            // The last window ending before this record holds exactly the records of [t - d, t) (Kafka Streams' invariant).
            var seed = previousRecord is { } p && timestamp - Difference <= p && left is { } l
                ? new SlidingWindow<VA>(timestamp - Difference, timestamp, l.Aggregate)
                : Empty(timestamp - Difference);
            Add(windows, key, seed, value, timestamp);
        }
        // This record's right window [t + 1, t + 1 + d], when later records fall in it; it does not hold this record.
        if (!rightExists && right is { } r && r.LatestRecord > timestamp)
        {
            var window = new SlidingWindow<VA>(timestamp + 1, r.LatestRecord, r.Aggregate);
            windows[window.Start] = window;
            Forward(key, window);
        }
        Store.Put(key, windows.Values.OrderBy(w => w.Start).ToList());
    }

    /// <summary>A window with no records yet (no latest record); its first value meets the initializer, or starts it for reduce.</summary>
    private static SlidingWindow<VA> Empty(long start) => new(start, long.MinValue, default!);

    private void Add(Dictionary<long, SlidingWindow<VA>> windows, K key, SlidingWindow<VA> w, V value, long timestamp)
    {
        if (w.Start + Difference < CloseTime)
        {
            Log.LogWarning("{Step}: not updating the closed window starting at {Start} with the record at {Timestamp}", Step, w.Start, timestamp);
            return;
        }
        var empty = w.LatestRecord == long.MinValue;
        var aggregate = empty
            ? (_how.Initializer is { } initializer ? _how.Aggregator(key, value, initializer()) : _how.First!(value))
            : _how.Aggregator(key, value, w.Aggregate);
        var updated = new SlidingWindow<VA>(w.Start, Math.Max(empty ? timestamp : w.LatestRecord, timestamp), aggregate);
        windows[updated.Start] = updated;
        Forward(key, updated);
    }

    private void Forward(K key, SlidingWindow<VA> window) => Forward(key, new TimeWindow(window.Start, window.Start + Difference), window.Aggregate);
}
