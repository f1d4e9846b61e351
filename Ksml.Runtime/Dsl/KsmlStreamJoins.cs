using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// KSML's <c>join</c>, <c>leftJoin</c> and <c>outerJoin</c> of two streams, built as Kafka Streams 3.x builds them
/// (Streamiz 1.8.2 still emits a record without a partner at once, as Kafka Streams 2.x did): a record that finds no
/// partner within the time difference waits in its side's store, joins a partner that arrives in time, and is emitted
/// with <c>None</c> for the other side only once stream time has passed its window plus the grace period.
/// </summary>
public static class KsmlStreamJoins
{
    /// <summary><c>join</c>/<c>leftJoin</c>/<c>outerJoin</c> of two streams within a time difference; without a grace period the window closes at its end, as in KSML.</summary>
    public static IKStream<K, VR> KsmlJoinStream<K, V, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IKStream<K, V0> other, KsmlFunctionDefinition valueJoiner, string kind,
        long timeDifferenceMs, long? graceMs, KsmlStoreDefinition? thisStore, KsmlStoreDefinition? otherStore, string name, KsmlDataType? keyType, KsmlDataType? valueType, KsmlDataType? otherValueType)
    {
        var join = new StreamJoin<VR>(kind, timeDifferenceMs, graceMs ?? 0, thisStore?.Name ?? name + "_this_store", otherStore?.Name ?? name + "_other_store", name,
            new FunctionStep<VR>(ksml, valueJoiner, name));
        AddSideStore<K, V>(ksml, join, join.ThisStore, thisStore, keyType, valueType);
        AddSideStore<K, V0>(ksml, join, join.OtherStore, otherStore, keyType, otherValueType);

        // Both sides meet in one processor, partitioned alike (after a key change each side goes through its own repartition topic).
        var left = KeyPartitioning.ByKey(stream, name + "_left", keyType, valueType).MapValues((_, v, _) => new JoinInput<V, V0>(true, v, default!), name + "_this");
        var right = KeyPartitioning.ByKey(other, name + "_right", keyType, otherValueType).MapValues((_, v, _) => new JoinInput<V, V0>(false, default!, v), name + "_other");
        var merged = left.Merge(right, name + "_merge");
        // Stores are reached through the task, so that a record without a key still reaches the join (an outer side emits it).
        StepOutcomes.ConnectStores(merged, name, [join.ThisStore, join.OtherStore]);
        var processor = TransformerBuilder.New<K, JoinInput<V, V0>, K, VR>().Transformer<StreamJoinProcessor<K, V, V0, VR>>(join).Build();
        return merged.TransformValues(processor, name);
    }

    private static void AddSideStore<K, T>(KsmlTopologyBuilder ksml, StreamJoin join, string storeName, KsmlStoreDefinition? store, KsmlDataType? keyType, KsmlDataType? valueType) =>
        // A side's records are kept whether or not a store is declared; without one they are logged, so that the records
        // waiting for a partner survive a restart.
        WindowedAggregation.AddStore(ksml, storeName, store is { Persistent: true }, store?.Logging ?? true,
            KsmlSerdes.For<K>(store?.KeyType ?? keyType), KsmlSerdes.For<T>(valueType), JoinEntry<T>.Format(join.WindowSizeMs));
}

/// <summary>One stream-stream join as built: its kind, window and stores.</summary>
internal record StreamJoin(string Kind, long TimeDifferenceMs, long GraceMs, string ThisStore, string OtherStore, string Step)
{
    /// <summary>Whether a record of the left (this) stream without a partner is emitted.</summary>
    public bool LeftOuter => Kind is "leftJoin" or "outerJoin";

    /// <summary>Whether a record of the right (other) stream without a partner is emitted.</summary>
    public bool RightOuter => Kind == "outerJoin";

    /// <summary>The span of partners a record can join: the time difference either side of it.</summary>
    public long WindowSizeMs => 2 * TimeDifferenceMs;

    /// <summary>How long a side keeps its records, as Kafka Streams' join window stores do.</summary>
    public long RetentionMs => WindowSizeMs + GraceMs;
}

/// <summary>A stream-stream join and the step that calls its joiner.</summary>
internal sealed record StreamJoin<VR>(string Kind, long TimeDifferenceMs, long GraceMs, string ThisStore, string OtherStore, string Step, FunctionStep<VR> Joiner)
    : StreamJoin(Kind, TimeDifferenceMs, GraceMs, ThisStore, OtherStore, Step);

/// <summary>A record of either side of a join, on the one stream both sides are merged into.</summary>
internal readonly record struct JoinInput<V, V0>(bool IsLeft, V Left, V0 Right);

/// <summary>A record kept by one side of a join; <paramref name="Waiting"/> while it may still be emitted without a partner.</summary>
internal readonly record struct JoinEntry<T>(long Timestamp, bool Waiting, T Value)
{
    /// <summary>How a side's records are kept (a list per key) and shown to state queries: as a window from the record on.</summary>
    public static WindowFormat<JoinEntry<T>, T> Format(long windowSizeMs) => new(
        e => (e.Timestamp, e.Waiting ? 1 : 0, e.Value), (timestamp, waiting, value) => new JoinEntry<T>(timestamp, waiting != 0, value),
        e => new TimeWindow(e.Timestamp, e.Timestamp + windowSizeMs), (start, end) => new TimeWindow(start, end));
}

/// <summary>Kafka Streams' stream-stream join, per stream task: both sides' records, stream time, and the records still waiting for a partner.</summary>
internal sealed class StreamJoinProcessor<K, V, V0, VR> : ITransformer<K, JoinInput<V, V0>, K, VR>
{
    private readonly StreamJoin<VR> _join;
    private ProcessorContext<K, VR> _context = null!;
    private ILogger _log = null!;
    private IKeyValueStore<K, List<JoinEntry<V>>> _this = null!;
    private IKeyValueStore<K, List<JoinEntry<V0>>> _other = null!;
    private long _streamTime = long.MinValue;

    /// <summary>The keys with records waiting for a partner, by the records' timestamps; rebuilt from the stores at the first record after a start.</summary>
    private SortedDictionary<long, List<(bool IsLeft, K Key)>>? _waiting;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the join given to it.</summary>
    public StreamJoinProcessor() => _join = null!;

    public StreamJoinProcessor(StreamJoin<VR> join) => _join = join;

    public void Init(ProcessorContext<K, VR> context)
    {
        if (_join is null)
            throw new InvalidOperationException($"{GetType().Name} was created without its join.");
        _context = context;
        _log = Logger.GetLogger(typeof(KsmlStreamJoins));
        _this = (IKeyValueStore<K, List<JoinEntry<V>>>)context.GetStateStore(_join.ThisStore);
        _other = (IKeyValueStore<K, List<JoinEntry<V0>>>)context.GetStateStore(_join.OtherStore);
        // A side keeps a record as long as a partner within the grace period can still arrive, as Kafka Streams' join stores retain them.
        context.Schedule(TimeSpan.FromMilliseconds(Math.Max(1_000, _join.RetentionMs)), PunctuationType.STREAM_TIME, _ =>
        {
            WindowedAggregation.RemoveFromAll(_this, Expired);
            WindowedAggregation.RemoveFromAll(_other, Expired);
        });
    }

    private bool Expired<T>(JoinEntry<T> entry) => !entry.Waiting && entry.Timestamp <= _streamTime - _join.RetentionMs;

    public Record<K, VR> Process(Record<K, JoinInput<V, V0>> record)
    {
        var input = record.Value;
        var timestamp = record.Timestamp.UnixTimestampMs;
        _streamTime = Math.Max(_streamTime, timestamp);
        var outer = input.IsLeft ? _join.LeftOuter : _join.RightOuter;
        var hasValue = input.IsLeft ? input.Left is not null : input.Right is not null;
        if (record.Key is null && outer && hasValue)
        {
            // No partner can share a null key; an outer side emits the record at once, as Kafka Streams does.
            Emit(record.Key!, input.Left, input.Right, timestamp, Source());
            return null!;
        }
        if (record.Key is null || !hasValue)
        {
            _log.LogWarning("{Step}: skipping a record with a null {What} (offset {Offset}); a join needs both", _join.Step, record.Key is null ? "key" : "value", record.TopicPartitionOffset);
            return null!;
        }

        _waiting ??= WaitingInStores();
        if (timestamp == _streamTime)
            EmitClosedWindows();
        var (key, source) = (record.Key, Source());
        if (input.IsLeft)
            Arrive(key, input.Left, timestamp, _this, _other, isLeft: true, outer, (mine, theirs, at) => Emit(key, mine, theirs, at, source));
        else
            Arrive(key, input.Right, timestamp, _other, _this, isLeft: false, outer, (mine, theirs, at) => Emit(key, theirs, mine, at, source));
        return null!; // what the record produced was forwarded
    }

    /// <summary>
    /// Joins a record with the other side's records within the time difference, and keeps it for the other side's
    /// later records; <c>emit</c> joins its value with a partner's (or none) and forwards the result at a time.
    /// </summary>
    private void Arrive<TThis, TOther>(K key, TThis value, long timestamp, IKeyValueStore<K, List<JoinEntry<TThis>>> own, IKeyValueStore<K, List<JoinEntry<TOther>>> others,
        bool isLeft, bool outer, Action<TThis, TOther, long> emit)
    {
        var matched = false;
        if (others.Get(key) is { } partners)
        {
            var joinedWaiting = false;
            for (var i = 0; i < partners.Count; i++)
            {
                var partner = partners[i];
                if (partner.Timestamp < timestamp - _join.TimeDifferenceMs || partner.Timestamp > timestamp + _join.TimeDifferenceMs)
                    continue;
                matched = true;
                if (partner.Waiting)
                {
                    partners[i] = partner with { Waiting = false };
                    joinedWaiting = true;
                }
                emit(value, partner.Value, Math.Max(timestamp, partner.Timestamp));
            }
            if (joinedWaiting)
                others.Put(key, partners);
        }

        // A record whose window has already closed is not waited for (Kafka Streams emits such an out-of-order record at once).
        var waits = outer && !matched && timestamp + _join.TimeDifferenceMs >= _streamTime;
        if (outer && !matched && !waits)
            emit(value, default!, timestamp);
        if (timestamp <= _streamTime - _join.RetentionMs)
        {
            // Too late for any partner to join it, as for Kafka Streams' join stores, which drop it.
            _log.LogWarning("{Step}: not keeping a late record at {Timestamp} (stream time {StreamTime}, time difference {Difference} ms, grace {Grace} ms)", _join.Step, timestamp, _streamTime, _join.TimeDifferenceMs, _join.GraceMs);
            return;
        }
        var kept = own.Get(key) ?? [];
        kept.Add(new JoinEntry<TThis>(timestamp, waits, value));
        own.Put(key, kept);
        if (waits)
            Wait(timestamp, isLeft, key);
    }

    private void Wait(long timestamp, bool isLeft, K key)
    {
        if (!_waiting!.TryGetValue(timestamp, out var keys))
            _waiting[timestamp] = keys = [];
        keys.Add((isLeft, key));
    }

    /// <summary>
    /// Emits, in time order, the records still waiting whose window plus grace has closed: no partner accepted now
    /// can join them any more.
    /// </summary>
    private void EmitClosedWindows()
    {
        var closed = _streamTime - _join.TimeDifferenceMs - _join.GraceMs;
        while (_waiting!.Count > 0 && _waiting.First() is var (timestamp, keys) && timestamp < closed)
        {
            _waiting.Remove(timestamp);
            foreach (var (isLeft, key) in keys)
            {
                if (isLeft)
                    EmitWaiting(key, timestamp, _this, (k, v) => Emit(k, v, default!, timestamp, null));
                else
                    EmitWaiting(key, timestamp, _other, (k, v) => Emit(k, default!, v, timestamp, null));
            }
        }
    }

    private static void EmitWaiting<T>(K key, long timestamp, IKeyValueStore<K, List<JoinEntry<T>>> store, Action<K, T> emit)
    {
        if (store.Get(key) is not { } entries)
            return;
        var emitted = false;
        for (var i = 0; i < entries.Count; i++)
        {
            // A partner may have joined it since, and a key listed twice at one time has had its records emitted already.
            if (entries[i] is not { Waiting: true } entry || entry.Timestamp != timestamp)
                continue;
            emit(key, entry.Value);
            entries[i] = entry with { Waiting = false };
            emitted = true;
        }
        if (emitted)
            store.Put(key, entries);
    }

    /// <summary>The records waiting in both sides' stores, as a start finds them (restored from the changelogs).</summary>
    private SortedDictionary<long, List<(bool IsLeft, K Key)>> WaitingInStores()
    {
        _waiting = [];
        foreach (var entry in _this.All())
            foreach (var timestamp in entry.Value.Where(e => e.Waiting).Select(e => e.Timestamp).Distinct())
                Wait(timestamp, true, entry.Key);
        foreach (var entry in _other.All())
            foreach (var timestamp in entry.Value.Where(e => e.Waiting).Select(e => e.Timestamp).Distinct())
                Wait(timestamp, false, entry.Key);
        return _waiting;
    }

    private SourceRecord Source() => new(_context.Topic, _context.Partition.Value, _context.Offset);

    /// <summary>
    /// Calls the joiner and forwards its result at <paramref name="timestamp"/>; a failure handled by its policy forwards
    /// nothing. The source is the record being processed, or null for a waiting record emitted when a later one closed its window.
    /// </summary>
    private void Emit(K key, V left, V0 right, long timestamp, SourceRecord? source)
    {
        var outcome = _join.Joiner.Call(key, (object?)left ?? right, source, null, key, left, right);
        if (outcome.Failed)
            return;
        var processing = _context.Timestamp;
        _context.ChangeTimestamp(timestamp);
        _context.Forward(key, outcome.Value);
        _context.ChangeTimestamp(processing);
    }

    public void Close() { }
}
