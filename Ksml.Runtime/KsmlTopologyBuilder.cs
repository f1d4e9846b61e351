using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Serdes;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors;
using Ksml.Runtime.Dsl;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime;

/// <summary>
/// What generated topology code builds with: the Streamiz <see cref="StreamBuilder"/>, the function
/// factory (the Python bridge), serdes for the declared KSML types, and the stores the YAML defines.
/// </summary>
public sealed class KsmlTopologyBuilder
{
    private readonly IKsmlFunctionFactory _functionFactory;
    private readonly Dictionary<KsmlFunctionDefinition, IKsmlFunction> _functions = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, object> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KsmlStoreDefinition> _stores = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Hosting.KsmlStoreQuery> _queries = new(StringComparer.Ordinal);

    /// <summary>Creates a builder over <paramref name="builder"/> whose functions come from <paramref name="functions"/>.</summary>
    public KsmlTopologyBuilder(StreamBuilder builder, IKsmlFunctionFactory functions, KsmlErrorHandler? errors = null)
    {
        Builder = builder;
        _functionFactory = functions;
        Errors = errors;
    }

    /// <summary>
    /// The topology runs under Streamiz's TopologyTestDriver, whose topics have one partition: a repartition's
    /// <c>numberOfPartitions</c> is left out there, since the driver refuses a topic it made with one partition.
    /// </summary>
    public bool UnderTestDriver { get; init; }

    /// <summary>The definition being built (its name), for what metrics label with it.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>
    /// Whether records are traced (<c>ksml.tracing.enabled</c>, on by default in an application): a span per record
    /// read and per function call, and the trace context in the headers of what the application writes.
    /// </summary>
    public bool Tracing { get; init; }

    /// <summary>
    /// The partition count of a topic as the cluster has it at start, or null where unknown (no cluster, or no such
    /// topic yet). Internal topics that must meet a table's partitions (a foreign-key join's) take it.
    /// </summary>
    public Func<string, int?>? PartitionCount { get; init; }

    /// <summary>The process-stage error policy; null lets failures propagate (as in unit tests).</summary>
    public KsmlErrorHandler? Errors { get; }

    /// <summary>The Streamiz builder the topology is added to.</summary>
    public StreamBuilder Builder { get; }

    /// <summary>The stores added so far, by name.</summary>
    public IReadOnlyDictionary<string, KsmlStoreDefinition> Stores => _stores;

    /// <summary>Every state store the topology creates, declared or not, by name, ready to be queried (KSML's application server).</summary>
    public IReadOnlyDictionary<string, Hosting.KsmlStoreQuery> StoreQueries => _queries;

    /// <summary>The callable form of a function, created once per definition.</summary>
    public IKsmlFunction Function(KsmlFunctionDefinition definition)
    {
        if (!_functions.TryGetValue(definition, out var function))
            _functions[definition] = function = TracedFunction.Wrap(ResilientFunction.Wrap(_functionFactory.Create(definition), _functionFactory), Tracing);
        return function;
    }

    /// <summary>A stream over a topic; several KSML names for one topic share one source, as in KSML.</summary>
    public IKStream<K, V> Stream<K, V>(KsmlTopicDefinition topic) =>
        Source(topic, () =>
        {
            var tag = new KeyValuePair<string, object?>("topic", topic.Topic);
            var stream = Builder.Stream(topic.Topic, KsmlSerdes.For<K>(topic.KeyType), KsmlSerdes.For<V>(topic.ValueType), TimestampExtractor(topic))
                .Peek((_, _, c) => KsmlMetrics.RecordsIn.Add(1, tag, new KeyValuePair<string, object?>("partition", c.Partition)), topic.Topic + "_records_in");
            return Tracing ? RecordSpans.Traced(stream, topic.Topic) : stream;
        });

    /// <summary>A table over a topic, materialised in <paramref name="store"/> or, as in KSML, a store named after the topic.</summary>
    public IKTable<K, V> Table<K, V>(KsmlTopicDefinition topic, KsmlStoreDefinition? store = null) =>
        Source(topic, () => store is { Versioned: true }
            ? Dsl.VersionedTables.Table<K, V>(this, topic, store, TimestampExtractor(topic))
            : Builder.Table(topic.Topic, KsmlSerdes.For<K>(topic.KeyType), KsmlSerdes.For<V>(topic.ValueType),
                KeyValueMaterialized<K, V>(store, topic.Topic, topic.KeyType, topic.ValueType), null, TimestampExtractor(topic)));

    /// <summary>A global table over a topic.</summary>
    public IGlobalKTable<K, V> GlobalTable<K, V>(KsmlTopicDefinition topic, KsmlStoreDefinition? store = null) =>
        Source(topic, () => Builder.GlobalTable(topic.Topic, KsmlSerdes.For<K>(topic.KeyType), KsmlSerdes.For<V>(topic.ValueType),
            KeyValueMaterialized<K, V>(store, topic.Topic, topic.KeyType, topic.ValueType), null, TimestampExtractor(topic)));

    private ITimestampExtractor? TimestampExtractor(KsmlTopicDefinition topic) =>
        topic.TimestampExtractor is { } extractor ? new KsmlTimestampExtractor(Function(extractor)) : null;

    private T Source<T>(KsmlTopicDefinition topic, Func<T> create) where T : class
    {
        if (_sources.TryGetValue(topic.Topic, out var existing))
            return existing as T ?? throw new Hosting.KsmlConfigException(
                $"'{topic.Name}' reads topic '{topic.Topic}', which is already read {(Kind(existing) == Kind(typeof(T)) ? "with other key or value types" : "as a " + Kind(existing))}; Kafka Streams allows one source per topic");
        T source;
        try
        {
            source = create();
        }
        catch (Hosting.KsmlConfigException ex) when (ex.Location is null)
        {
            throw new Hosting.KsmlConfigException($"{Kind(typeof(T))} '{topic.Name}' (topic {topic.Topic}): {ex.Message}");
        }
        _sources[topic.Topic] = source;
        return source;
    }

    private static string Kind(object source) => Kind(source.GetType());

    private static string Kind(Type type) =>
        type.GetInterfaces().Append(type).Any(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IGlobalKTable<,>)) ? "global table"
        : type.GetInterfaces().Append(type).Any(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IKTable<,>)) ? "table"
        : "stream";

    /// <summary>Adds a store that Python functions use by name.</summary>
    public void AddStore<K, V>(KsmlStoreDefinition store)
    {
        if (_stores.ContainsKey(store.Name))
            throw new Hosting.KsmlConfigException($"store '{store.Name}' is declared again; store names are shared by every definition of an application, as in KSML");
        _stores[store.Name] = store;
        var keySerde = KsmlSerdes.For<K>(store.KeyType);
        var valueSerde = KsmlSerdes.For<V>(store.ValueType);
        switch (store.StoreType)
        {
            case "keyValue":
            {
                if (store.Versioned)
                {
                    Dsl.VersionedStores.Add(this, store.Name, store.Persistent, store.Logging, store.HistoryRetentionMs, keySerde, valueSerde);
                    break;
                }
                _queries[store.Name] = Hosting.KsmlStoreQuery.KeyValue<K, V>(store.Name);
                var supplier = store.Persistent ? Streamiz.Kafka.Net.State.Stores.PersistentKeyValueStore(store.Name) : Streamiz.Kafka.Net.State.Stores.InMemoryKeyValueStore(store.Name);
                if (store.Timestamped)
                    AddStateStore(Streamiz.Kafka.Net.State.Stores.TimestampedKeyValueStoreBuilder(supplier, keySerde, valueSerde), store.Logging);
                else
                    AddStateStore(Streamiz.Kafka.Net.State.Stores.KeyValueStoreBuilder(supplier, keySerde, valueSerde), store.Logging);
                break;
            }
            case "window":
            {
                var retention = TimeSpan.FromMilliseconds(store.RetentionMs ?? store.WindowSizeMs ?? 86_400_000);
                var size = TimeSpan.FromMilliseconds(store.WindowSizeMs ?? retention.TotalMilliseconds);
                _queries[store.Name] = Hosting.KsmlStoreQuery.Window<K, V>(store.Name, (long)size.TotalMilliseconds);
                var supplier = store.Persistent
                    ? Streamiz.Kafka.Net.State.Stores.PersistentWindowStore(store.Name, retention, size, Math.Max(60_000, (long)retention.TotalMilliseconds / 2), store.RetainDuplicates)
                    : Streamiz.Kafka.Net.State.Stores.InMemoryWindowStore(store.Name, retention, size, store.RetainDuplicates);
                AddStateStore(Streamiz.Kafka.Net.State.Stores.WindowStoreBuilder(supplier, keySerde, valueSerde), store.Logging);
                break;
            }
            case "session":
                // Streamiz has no session store; Ksml.NET keeps a key's sessions as a list, as its session windows do.
                Dsl.WindowedAggregation.AddStore(this, store.Name, store.Persistent, store.Logging, keySerde, valueSerde, Dsl.KsmlSessionWindows.Format<V>());
                break;
            default:
                throw new NotSupportedException($"Store '{store.Name}': {store.StoreType} stores are not supported by Streamiz.Kafka.Net 1.8.2.");
        }
    }

    /// <summary>Adds a store to the topology, with a changelog topic when <paramref name="logging"/>.</summary>
    internal void AddStateStore<T>(Streamiz.Kafka.Net.State.IStoreBuilder<T> builder, bool logging) where T : IStateStore =>
        Builder.AddStateStore(logging ? builder.WithLoggingEnabled(new Dictionary<string, string>()) : builder.WithLoggingDisabled());

    /// <summary>Serves a store the runtime builds itself (session and sliding windows) to state queries.</summary>
    internal void AddQuery(Hosting.KsmlStoreQuery query) => _queries[query.Name] = query;

    /// <summary>How a stateful operation materialises its key-value state.</summary>
    public Materialized<K, V, IKeyValueStore<Bytes, byte[]>> KeyValueMaterialized<K, V>(KsmlStoreDefinition? store, string fallbackName, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var name = store?.Name ?? fallbackName;
        _queries[name] = Hosting.KsmlStoreQuery.KeyValue<K, V>(name);
        var materialized = store is { Persistent: true } ? RocksDb.As<K, V>(name) : InMemory.As<K, V>(name);
        materialized = materialized.WithKeySerdes(KsmlSerdes.For<K>(store?.KeyType ?? keyType)).WithValueSerdes(KsmlSerdes.For<V>(store?.ValueType ?? valueType));
        if (store is not null)
        {
            // Never cached (KSML0015): Streamiz forwards cached records from an eviction callback that catches every
            // exception, so a failing step downstream would neither stop the application nor reach its error policy.
            materialized = materialized.WithCachingDisabled();
            if (!store.Logging)
                materialized = materialized.WithLoggingDisabled();
        }
        return materialized;
    }

    /// <summary>How a windowed aggregation materialises its state.</summary>
    public Materialized<K, V, IWindowStore<Bytes, byte[]>> WindowMaterialized<K, V>(KsmlStoreDefinition? store, string fallbackName, KsmlDataType? keyType, KsmlDataType? valueType, long windowSizeMs)
    {
        var name = store?.Name ?? fallbackName;
        _queries[name] = Hosting.KsmlStoreQuery.Window<K, V>(name, windowSizeMs);
        var materialized = store is { Persistent: true }
            ? RocksDbWindows.As<K, V>(name)
            : InMemoryWindows.As<K, V>(name, TimeSpan.FromMilliseconds(windowSizeMs));
        materialized = materialized.WithKeySerdes(KsmlSerdes.For<K>(store?.KeyType ?? keyType)).WithValueSerdes(KsmlSerdes.For<V>(store?.ValueType ?? valueType));
        if (store?.RetentionMs is { } retention)
            materialized = materialized.WithRetention(TimeSpan.FromMilliseconds(retention));
        return materialized;
    }
}
