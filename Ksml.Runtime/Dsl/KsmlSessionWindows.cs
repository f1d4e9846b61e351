using Ksml.Runtime.Definitions;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>A session: the span from the first to the last record of a key whose records are no more than the inactivity gap apart.</summary>
public sealed class SessionWindow(long startMs, long endMs) : Window(startMs, endMs)
{
    /// <inheritdoc />
    public override bool Overlap(Window other) => other is SessionWindow && StartMs <= other.EndMs && other.StartMs <= EndMs;
}

/// <summary>KSML's <c>windowBySession</c>: a grouped stream (already partitioned by its key) and its session windows.</summary>
public sealed class KsmlSessionWindowedStream<K, V>
{
    internal KsmlSessionWindowedStream(IKStream<K, V> stream, long inactivityGapMs, long graceMs)
    {
        Stream = stream;
        InactivityGapMs = inactivityGapMs;
        GraceMs = graceMs;
    }

    internal IKStream<K, V> Stream { get; }

    internal long InactivityGapMs { get; }

    internal long GraceMs { get; }
}

/// <summary>
/// Session windows, which Streamiz.Kafka.Net 1.8.2 lacks, built as Kafka Streams builds them: a
/// key's sessions live in a changelogged store; a record extends or merges the sessions within the
/// inactivity gap, the merged-away sessions are retracted with a tombstone (so a count is a <c>long?</c>),
/// and a record whose session ended more than the gap plus the
/// grace period before stream time is dropped with a warning.
/// </summary>
public static class KsmlSessionWindows
{
    /// <summary><c>windowBySession</c>; without a grace period a session closes as soon as stream time passes its end, as in KSML.</summary>
    public static KsmlSessionWindowedStream<K, V> KsmlWindowBySession<K, V>(this IKStream<K, V> stream, long inactivityGapMs, long? graceMs) =>
        new(stream, inactivityGapMs, graceMs ?? 0);

    /// <summary><c>count</c> on a session-windowed stream; nullable, because a merged-away session is retracted with null.</summary>
    public static IKTable<Windowed<K>, long?> KsmlCount<K, V>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType) =>
        Aggregate(windowed, ksml, store, name, keyType, null, new SessionAggregation<K, V, long?>(() => 0L, null, (_, _, count) => count + 1, (_, a, b) => a + b));

    /// <summary>
    /// <c>reduce</c> on a session-windowed stream: a session's first value starts it; merged sessions are reduced
    /// together. <typeparamref name="VR"/> is the value type, nullable when it is a C# value type (for retractions).
    /// </summary>
    public static IKTable<Windowed<K>, VR> KsmlReduce<K, V, VR>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var f = new FunctionStep<VR>(ksml, reducer, name);
        VR Reduce<T>(K key, VR a, T b) => f.Call(key, b, null, null, a, b).Or(a);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SessionAggregation<K, V, VR>(null, value => (VR)(object)value!, (k, v, agg) => Reduce(k, agg, v), Reduce));
    }

    /// <summary><c>aggregate</c> on a session-windowed stream; the <c>merger</c> combines the aggregates of sessions a record joins.</summary>
    public static IKTable<Windowed<K>, VA> KsmlAggregate<K, V, VA>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator,
        KsmlFunctionDefinition merger, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var init = new FunctionStep<VA>(ksml, initializer, name);
        var aggregate = new FunctionStep<VA>(ksml, aggregator, name);
        var merge = new FunctionStep<VA>(ksml, merger, name);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SessionAggregation<K, V, VA>(
            () => init.Call((object?)null, (object?)null, null, null).Or(default!),
            null,
            (k, v, agg) => aggregate.Call(k, v, null, null, k, v, agg).Or(agg),
            (k, a, b) => merge.Call(k, b, null, null, k, a, b).Or(a)));
    }

    /// <summary>How sessions are kept in the store: start, end and aggregate.</summary>
    internal static WindowFormat<Session<VA>, VA> Format<VA>() => new(
        s => (s.Start, s.End, s.Aggregate), (start, end, aggregate) => new Session<VA>(start, end, aggregate),
        s => new SessionWindow(s.Start, s.End), (start, end) => new SessionWindow(start, end));

    private static IKTable<Windowed<K>, VA> Aggregate<K, V, VA>(KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType,
        SessionAggregation<K, V, VA> how) =>
        WindowedAggregation.Build<K, V, VA, Session<VA>, SessionAggregator<K, V, VA>>(windowed.Stream, ksml, store, name, keyType, valueType,
            storeName => how with { StoreName = storeName, InactivityGapMs = windowed.InactivityGapMs, GraceMs = windowed.GraceMs, Step = name },
            Format<VA>());
}

/// <summary>What a session aggregation does with a key's records and sessions.</summary>
/// <param name="Initializer">The empty aggregate; null when the first value starts it (reduce).</param>
/// <param name="First">The aggregate of a session's first value when there is no initializer.</param>
/// <param name="Aggregator">Adds a value to an aggregate.</param>
/// <param name="Merger">Combines two sessions' aggregates.</param>
internal sealed record SessionAggregation<K, V, VA>(Func<VA>? Initializer, Func<V, VA>? First, Func<K, V, VA, VA> Aggregator, Func<K, VA, VA, VA> Merger)
{
    public string StoreName { get; init; } = "";

    public string Step { get; init; } = "";

    public long InactivityGapMs { get; init; }

    public long GraceMs { get; init; }
}

/// <summary>One session of a key and its aggregate, as the session store keeps it (a list per key).</summary>
public readonly record struct Session<VA>(long Start, long End, VA Aggregate);

/// <summary>Kafka Streams' session aggregation, per stream task.</summary>
internal sealed class SessionAggregator<K, V, VA> : WindowAggregator<K, V, VA, Session<VA>>
{
    private readonly SessionAggregation<K, V, VA> _how;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the aggregation given to it.</summary>
    public SessionAggregator() : base(null, "", 0, typeof(KsmlSessionWindows)) => _how = null!;

    public SessionAggregator(SessionAggregation<K, V, VA> how) : base(how.StoreName, how.Step, how.InactivityGapMs + how.GraceMs, typeof(KsmlSessionWindows)) => _how = how;

    /// <summary>Sessions that ended before this can no longer be extended or merged by a record accepted now.</summary>
    protected override bool IsExpired(Session<VA> session) => session.End < StreamTime - _how.GraceMs - 2 * _how.InactivityGapMs;

    protected override void Aggregate(K key, V value, long timestamp)
    {
        var gap = _how.InactivityGapMs;
        // As in Kafka Streams: a session closes once stream time is past its end by the gap (a record could
        // still extend it until then) plus the grace period.
        var closeTime = StreamTime - _how.GraceMs - gap;
        var sessions = (Store.Get(key) ?? []).Where(s => !IsExpired(s)).ToList();
        var merged = sessions.Where(s => s.End >= timestamp - gap && s.Start <= timestamp + gap).ToList();

        var (start, end) = (timestamp, timestamp);
        var started = _how.Initializer is not null;
        var aggregate = _how.Initializer is { } initializer ? initializer() : default!;
        foreach (var session in merged)
        {
            aggregate = started ? _how.Merger(key, aggregate, session.Aggregate) : session.Aggregate;
            started = true;
            (start, end) = (Math.Min(start, session.Start), Math.Max(end, session.End));
        }
        if (end < closeTime)
        {
            Log.LogWarning("{Step}: skipping a late record at {Timestamp} for a session that closed (stream time {StreamTime}, gap {Gap} ms, grace {Grace} ms)", Step, timestamp, StreamTime, gap, _how.GraceMs);
            return;
        }
        aggregate = started ? _how.Aggregator(key, value, aggregate) : _how.First!(value);

        sessions.RemoveAll(merged.Contains);
        sessions.Add(new Session<VA>(start, end, aggregate));
        sessions.Sort((a, b) => a.Start.CompareTo(b.Start));
        Store.Put(key, sessions);
        // Merged-away sessions are retracted with a tombstone (aggregates of C# value types are nullable here).
        if ((start, end) != (timestamp, timestamp))
            foreach (var session in merged)
                Forward(key, new SessionWindow(session.Start, session.End), default!);
        Forward(key, new SessionWindow(start, end), aggregate);
    }
}
