using System.Runtime.CompilerServices;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// Tables materialized in a versioned key-value store, as Kafka Streams 3.5+ has them (Streamiz has none): every
/// record of the topic is kept as a version of its key, within the history retention; only updates in time order
/// reach the table that later operations see (an out-of-order record becomes history, as Kafka Streams' versioned
/// table source drops it downstream); and a stream joined with the table meets the version valid at each stream
/// record's timestamp, not whatever the table holds when the record happens to be processed.
/// </summary>
public static class VersionedTables
{
    // Which tables are versioned, and in which store: a stream-table join looks its table up here.
    private static readonly ConditionalWeakTable<object, string> Stores = new();

    /// <summary>The table over <paramref name="topic"/>, kept in the versioned <paramref name="store"/>.</summary>
    internal static IKTable<K, V> Table<K, V>(KsmlTopologyBuilder ksml, KsmlTopicDefinition topic, KsmlStoreDefinition store, ITimestampExtractor? timestamps)
    {
        // A function may use the same store (get as of a time); it is then added already.
        if (!ksml.Stores.ContainsKey(store.Name))
            ksml.AddStore<K, V>(store);
        var keySerde = KsmlSerdes.For<K>(topic.KeyType);
        var valueSerde = KsmlSerdes.For<V>(topic.ValueType);
        var source = new VersionedTableSource(store.Name, store.HistoryRetentionMs ?? long.MaxValue);
        var table = ksml.Builder.Stream(topic.Topic, keySerde, valueSerde, timestamps)
            .TransformValues(TransformerBuilder.New<K, V, K, V>().Transformer<VersionedTableUpdates<K, V>>(source).Build(), topic.Topic + "_versions", store.Name)
            // The latest value per key, for the table operations and joins that follow.
            .ToTable(InMemory.As<K, V>(store.Name + "_latest").WithKeySerdes(keySerde).WithValueSerdes(valueSerde), topic.Topic + "_latest");
        Stores.AddOrUpdate(table, store.Name);
        return table;
    }

    /// <summary>The versioned store <paramref name="table"/> is kept in, or null when it is an ordinary table.</summary>
    internal static string? StoreOf(object table) => Stores.TryGetValue(table, out var name) ? name : null;

    /// <summary>
    /// <c>join</c>/<c>leftJoin</c> of a stream with a versioned table: each record meets the table's version valid at
    /// its own timestamp (none before the first version or past the history retention).
    /// </summary>
    internal static IKStream<K, VR> Join<K, V, V0, VR>(IKStream<K, V> stream, KsmlTopologyBuilder ksml, string store, KsmlFunctionDefinition valueJoiner, bool leftJoin, string name)
    {
        var partitioned = KeyPartitioning.ByKey(stream, name + "_left", null, null);
        // Connected through the task, so that a record without a key still reaches a left join.
        StepOutcomes.ConnectStores(partitioned, name, [store]);
        var join = new VersionedJoin<VR>(store, leftJoin, new FunctionStep<VR>(ksml, valueJoiner, name));
        return partitioned.TransformValues(TransformerBuilder.New<K, V, K, StepOutcome<VR>>().Transformer<VersionedJoinProcessor<K, V, V0, VR>>(join).Build(), name)
            .Passed(name + "_joined");
    }
}

/// <summary>A versioned table's store and history retention.</summary>
internal sealed record VersionedTableSource(string Store, long HistoryRetentionMs);

/// <summary>A stream join with a versioned table: the table's store, the kind of join and its joiner.</summary>
internal sealed record VersionedJoin<VR>(string Store, bool LeftJoin, FunctionStep<VR> Joiner);

/// <summary>Keeps each record of a versioned table's topic as a version of its key and passes on the updates in time order.</summary>
internal sealed class VersionedTableUpdates<K, V> : ITransformer<K, V, K, V>
{
    private readonly VersionedTableSource _source;
    private IKeyValueStore<K, List<Version<V>>> _store = null!;
    private ILogger _log = null!;

    // Kafka Streams measures the history retention back from the newest timestamp the store has seen.
    private long _observed = long.MinValue;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the source given to it.</summary>
    public VersionedTableUpdates() => _source = null!;

    public VersionedTableUpdates(VersionedTableSource source) => _source = source;

    public void Init(ProcessorContext<K, V> context)
    {
        if (_source is null)
            throw new InvalidOperationException($"{GetType().Name} was created without its store.");
        _store = (IKeyValueStore<K, List<Version<V>>>)context.GetStateStore(_source.Store);
        _log = Logger.GetLogger(typeof(VersionedTables));
    }

    public Record<K, V> Process(Record<K, V> record)
    {
        var timestamp = record.Timestamp.UnixTimestampMs;
        _observed = Math.Max(_observed, timestamp);
        var oldestKept = _observed == long.MinValue || _source.HistoryRetentionMs == long.MaxValue ? long.MinValue : _observed - _source.HistoryRetentionMs;
        if (timestamp < oldestKept)
        {
            _log.LogWarning("{Store}: skipping a record at {Timestamp}, older than the history retention ({Retention} ms before {Observed})", _source.Store, timestamp, _source.HistoryRetentionMs, _observed);
            return null!;
        }
        var versions = _store.Get(record.Key) ?? [];
        var newest = versions.Count > 0 ? versions[^1].ValidFrom : long.MinValue;
        VersionedStores.Put(versions, record.Value, timestamp, oldestKept);
        _store.Put(record.Key, versions);
        // An out-of-order record is history: the table keeps its newer value.
        return timestamp >= newest ? Record<K, V>.Create(record.Key, record.Value, record.Headers) : null!;
    }

    public void Close() { }
}

/// <summary>A stream record meeting the versioned table's value valid at its timestamp.</summary>
internal sealed class VersionedJoinProcessor<K, V, V0, VR> : ITransformer<K, V, K, StepOutcome<VR>>
{
    private readonly VersionedJoin<VR> _join;
    private ProcessorContext<K, StepOutcome<VR>> _context = null!;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the join given to it.</summary>
    public VersionedJoinProcessor() => _join = null!;

    public VersionedJoinProcessor(VersionedJoin<VR> join) => _join = join;

    public void Init(ProcessorContext<K, StepOutcome<VR>> context)
    {
        if (_join is null)
            throw new InvalidOperationException($"{GetType().Name} was created without its join.");
        _context = context;
    }

    public Record<K, StepOutcome<VR>> Process(Record<K, V> record)
    {
        var store = (IKeyValueStore<K, List<Version<V0>>>)_context.GetStateStore(_join.Store);
        var version = record.Key is null ? null : VersionedStores.At(store.Get(record.Key), record.Timestamp.UnixTimestampMs);
        if (version is null && !_join.LeftJoin)
            return null!;
        var source = new SourceRecord(_context.Topic, _context.Partition.Value, _context.Offset);
        var outcome = _join.Joiner.Call(record.Key, record.Value, source, null, record.Key, record.Value, version is null ? default : version.Value);
        return Record<K, StepOutcome<VR>>.Create(record.Key, outcome, record.Headers);
    }

    public void Close() { }
}
