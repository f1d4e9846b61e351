using System.Buffers.Binary;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
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
/// The grouping before session or sliding windows, which the runtime builds from the grouped records:
/// the stream itself, partitioned by the key it is grouped on.
/// </summary>
public static class KsmlWindowGrouping
{
    /// <summary><c>groupByKey</c> before session or sliding windows: the stream itself, sent through a repartition topic when an earlier step changed its key.</summary>
    public static IKStream<K, V> KsmlGroupByKeyForOwnWindows<K, V>(this IKStream<K, V> stream, string name, string keyType, string valueType) =>
        // Streamiz marks a stream whose key a step changed; its own groupByKey repartitions on the same mark.
        stream.GetType().GetProperty("RepartitionRequired")?.GetValue(stream) is true ? Repartition(stream, name, keyType, valueType) : stream;

    /// <summary><c>groupBy</c> before session or sliding windows: the stream re-keyed by the mapper and repartitioned by the new key.</summary>
    public static IKStream<KR, V> KsmlGroupByForOwnWindows<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name, string keyType, string valueType) =>
        Repartition(KsmlOperations.SelectGroupKey<K, V, KR>(stream, ksml, mapper, name), name, keyType, valueType);

    private static IKStream<K, V> Repartition<K, V>(IKStream<K, V> stream, string name, string keyType, string valueType) =>
        stream.Repartition(Repartitioned<K, V>.As(name).WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)));
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
    public static IKTable<Windowed<K>, long?> KsmlCount<K, V>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType) =>
        Aggregate(windowed, ksml, store, name, keyType, "long", new SessionAggregation<K, V, long?>(() => 0L, null, (_, _, count) => count + 1, (_, a, b) => a + b));

    /// <summary>
    /// <c>reduce</c> on a session-windowed stream: a session's first value starts it; merged sessions are reduced
    /// together. <typeparamref name="VR"/> is the value type, nullable when it is a C# value type (for retractions).
    /// </summary>
    public static IKTable<Windowed<K>, VR> KsmlReduce<K, V, VR>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var f = ksml.Function(reducer);
        VR Reduce<T>(K key, VR a, T b) => KsmlOperations.Guard(ksml, name, f, key, b, null, () => KsmlValues.To<VR>(f.Invoke(null, a, b), KsmlOperations.ResultOf(f)), () => a);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SessionAggregation<K, V, VR>(null, value => (VR)(object)value!, (k, v, agg) => Reduce(k, agg, v), Reduce));
    }

    /// <summary><c>aggregate</c> on a session-windowed stream; the <c>merger</c> combines the aggregates of sessions a record joins.</summary>
    public static IKTable<Windowed<K>, VA> KsmlAggregate<K, V, VA>(this KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator,
        KsmlFunctionDefinition merger, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var init = ksml.Function(initializer);
        var aggregate = ksml.Function(aggregator);
        var merge = ksml.Function(merger);
        return Aggregate(windowed, ksml, store, name, keyType, valueType, new SessionAggregation<K, V, VA>(
            () => KsmlOperations.Guard(ksml, name, init, (object?)null, (object?)null, null, () => KsmlValues.To<VA>(init.Invoke(null), KsmlOperations.ResultOf(init)), () => default!),
            null,
            (k, v, agg) => KsmlOperations.Guard(ksml, name, aggregate, k, v, null, () => KsmlValues.To<VA>(aggregate.Invoke(null, k, v, agg), KsmlOperations.ResultOf(aggregate)), () => agg),
            (k, a, b) => KsmlOperations.Guard(ksml, name, merge, k, b, null, () => KsmlValues.To<VA>(merge.Invoke(null, k, a, b), KsmlOperations.ResultOf(merge)), () => a)));
    }

    private static IKTable<Windowed<K>, VA> Aggregate<K, V, VA>(KsmlSessionWindowedStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType, string valueType,
        SessionAggregation<K, V, VA> how) =>
        WindowedAggregation.Build<K, V, VA, Session<VA>, SessionAggregator<K, V, VA>>(windowed.Stream, ksml, store, name, keyType, valueType,
            (storeName, _) => how with { StoreName = storeName, InactivityGapMs = windowed.InactivityGapMs, GraceMs = windowed.GraceMs, Step = name },
            s => (s.Start, s.End, s.Aggregate), (start, end, aggregate) => new Session<VA>(start, end, aggregate), (start, end) => new SessionWindow(start, end),
            s => (new SessionWindow(s.Start, s.End), s.Aggregate));
}

/// <summary>
/// The shape both of Ksml.NET's own windowed aggregations share: a key's windows as a list in a
/// changelogged key-value store, a transformer that updates them and forwards each changed window,
/// and a table of the latest value per window for the operations that follow.
/// </summary>
internal static class WindowedAggregation
{
    public static IKTable<Windowed<K>, VA> Build<K, V, VA, W, TTransformer>(IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType, string valueType,
        Func<string, ISerDes<VA>, object> transformerArgument, Func<W, (long, long, VA)> split, Func<long, long, VA, W> make, Func<long, long, Window> window, Func<W, (Window, VA)> open)
        where TTransformer : ITransformer<K, V, Windowed<K>, VA>, new()
    {
        var storeName = store?.Name ?? name + "_store";
        var keySerde = KsmlSerdes.For<K>(store?.KeyType ?? keyType);
        var valueSerde = KsmlSerdes.For<VA>(store?.ValueType ?? valueType);
        var supplier = store is { Persistent: true } ? Stores.PersistentKeyValueStore(storeName) : Stores.InMemoryKeyValueStore(storeName);
        var windows = Stores.KeyValueStoreBuilder(supplier, keySerde, new WindowListSerDes<W, VA>(valueSerde, split, make));
        ksml.Builder.AddStateStore(store is { Logging: false } ? windows.WithLoggingDisabled() : windows.WithLoggingEnabled(new Dictionary<string, string>()));
        ksml.AddQuery(Hosting.KsmlStoreQuery.KeyWindows<K, W, VA>(storeName, open));

        var aggregator = TransformerBuilder.New<K, V, Windowed<K>, VA>().Transformer<TTransformer>(transformerArgument(storeName, valueSerde)).Build();
        // The windows live in the store above; the table only carries the latest value per window downstream.
        var table = InMemory.As<Windowed<K>, VA>(name + "_windows")
            .WithKeySerdes(new WindowedKeySerDes<K>(keySerde, window)).WithValueSerdes(valueSerde).WithLoggingDisabled();
        return stream.Transform(aggregator, name, storeName).ToTable(table, name + "_table");
    }
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
internal sealed class SessionAggregator<K, V, VA> : ITransformer<K, V, Windowed<K>, VA>
{
    private readonly SessionAggregation<K, V, VA> _how;
    private ProcessorContext<Windowed<K>, VA> _context = null!;
    private ILogger _log = null!;
    private IKeyValueStore<K, List<Session<VA>>> _store = null!;
    private long _streamTime = long.MinValue;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the aggregation given to it.</summary>
    public SessionAggregator() => _how = null!;

    public SessionAggregator(SessionAggregation<K, V, VA> how) => _how = how;

    public void Init(ProcessorContext<Windowed<K>, VA> context)
    {
        if (_how is null)
            throw new InvalidOperationException("SessionAggregator was created without its aggregation.");
        _context = context;
        _log = Logger.GetLogger(typeof(KsmlSessionWindows));
        _store = (IKeyValueStore<K, List<Session<VA>>>)context.GetStateStore(_how.StoreName);
        // Keys that stop receiving records would keep their closed sessions forever; Kafka Streams drops
        // expired segments, this sweeps the store as stream time advances.
        context.Schedule(TimeSpan.FromMilliseconds(Math.Max(1_000, _how.InactivityGapMs + _how.GraceMs)), PunctuationType.STREAM_TIME, _ => RemoveExpiredSessions());
    }

    /// <summary>Sessions that ended before this can no longer be extended or merged by a record accepted now.</summary>
    private long ExpiryTime => _streamTime - _how.GraceMs - 2 * _how.InactivityGapMs;

    private void RemoveExpiredSessions()
    {
        var expiry = ExpiryTime;
        var changed = new List<KeyValuePair<K, List<Session<VA>>>>();
        foreach (var entry in _store.All())
            if (entry.Value.Any(s => s.End < expiry))
                changed.Add(KeyValuePair.Create(entry.Key, entry.Value.Where(s => s.End >= expiry).ToList()));
        foreach (var (key, sessions) in changed)
        {
            if (sessions.Count == 0)
                _store.Delete(key);
            else
                _store.Put(key, sessions);
        }
    }

    public Record<Windowed<K>, VA> Process(Record<K, V> record)
    {
        var key = record.Key;
        var timestamp = record.Timestamp.UnixTimestampMs;
        if (key is null)
        {
            _log.LogWarning("{Step}: skipping a record with a null key (offset {Offset}); a session needs a key", _how.Step, record.TopicPartitionOffset);
            return null!;
        }
        _streamTime = Math.Max(_streamTime, timestamp);
        var gap = _how.InactivityGapMs;
        // As in Kafka Streams: a session closes once stream time is past its end by the gap (a record could
        // still extend it until then) plus the grace period.
        var closeTime = _streamTime - _how.GraceMs - gap;
        var sessions = (_store.Get(key) ?? []).Where(s => s.End >= ExpiryTime).ToList();
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
            _log.LogWarning("{Step}: skipping a late record at {Timestamp} for a session that closed (stream time {StreamTime}, gap {Gap} ms, grace {Grace} ms)", _how.Step, timestamp, _streamTime, gap, _how.GraceMs);
            return null!;
        }
        aggregate = started ? _how.Aggregator(key, record.Value, aggregate) : _how.First!(record.Value);

        sessions.RemoveAll(merged.Contains);
        sessions.Add(new Session<VA>(start, end, aggregate));
        sessions.Sort((a, b) => a.Start.CompareTo(b.Start));
        _store.Put(key, sessions);
        // Merged-away sessions are retracted with a tombstone (aggregates of C# value types are nullable here).
        if ((start, end) != (timestamp, timestamp))
            foreach (var session in merged)
                _context.Forward(new Windowed<K>(key, new SessionWindow(session.Start, session.End)), default!);
        _context.Forward(new Windowed<K>(key, new SessionWindow(start, end)), aggregate);
        return null!;
    }

    public void Close() { }
}

/// <summary>A key's windows in the store: count, then two times and the aggregate's bytes (-1 for null) per window.</summary>
internal sealed class WindowListSerDes<W, VA>(ISerDes<VA> aggregate, Func<W, (long, long, VA)> split, Func<long, long, VA, W> make) : AbstractSerDes<List<W>>
{
    public override byte[] Serialize(List<W> data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var windows = data.Select(split).ToList();
        var parts = windows.Select(w => aggregate.Serialize(w.Item3, context)).ToList();
        var bytes = new byte[4 + parts.Sum(p => 20 + (p?.Length ?? 0))];
        BinaryPrimitives.WriteInt32BigEndian(bytes, data.Count);
        var at = 4;
        for (var i = 0; i < windows.Count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at), windows[i].Item1);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 8), windows[i].Item2);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at + 16), parts[i]?.Length ?? -1);
            parts[i]?.CopyTo(bytes, at + 20);
            at += 20 + (parts[i]?.Length ?? 0);
        }
        return bytes;
    }

    public override List<W> Deserialize(byte[] data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var windows = new List<W>(BinaryPrimitives.ReadInt32BigEndian(data));
        for (var at = 4; at < data.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(at + 16));
            var value = length < 0 ? default! : aggregate.Deserialize(data.AsSpan(at + 20, length).ToArray(), context);
            windows.Add(make(BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(at)), BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(at + 8)), value));
            at += 20 + Math.Max(length, 0);
        }
        return windows;
    }
}

/// <summary>A windowed key as Kafka Streams writes a session's: the key's bytes, then the window's end and start.</summary>
internal sealed class WindowedKeySerDes<K>(ISerDes<K> key, Func<long, long, Window> window) : AbstractSerDes<Windowed<K>>
{
    public override byte[] Serialize(Windowed<K> data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var keyBytes = key.Serialize(data.Key, context) ?? [];
        var bytes = new byte[keyBytes.Length + 16];
        keyBytes.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(keyBytes.Length), data.Window.EndMs);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(keyBytes.Length + 8), data.Window.StartMs);
        return bytes;
    }

    public override Windowed<K> Deserialize(byte[] data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var keyLength = data.Length - 16;
        var bounds = window(BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(keyLength + 8)), BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(keyLength)));
        return new Windowed<K>(key.Deserialize(data[..keyLength], context), bounds);
    }
}
