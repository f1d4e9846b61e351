using System.Buffers.Binary;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// The shape both of Ksml.NET's own windowed aggregations share: a key's windows as a list in a
/// changelogged key-value store, a transformer that updates them and forwards each changed window,
/// and a table of the latest value per window for the operations that follow.
/// </summary>
internal static class WindowedAggregation
{
    public static IKTable<Windowed<K>, VA> Build<K, V, VA, W, TTransformer>(IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType,
        Func<string, object> transformerArgument, WindowFormat<W, VA> format)
        where TTransformer : ITransformer<K, V, Windowed<K>, VA>, new()
    {
        var storeName = store?.Name ?? name + "_store";
        var keySerde = KsmlSerdes.For<K>(store?.KeyType ?? keyType);
        var valueSerde = KsmlSerdes.For<VA>(store?.ValueType ?? valueType);
        // An operation's own store logs its changes unless a store definition says otherwise.
        AddStore(ksml, storeName, store is { Persistent: true }, store is not { Logging: false }, keySerde, valueSerde, format);

        var aggregator = TransformerBuilder.New<K, V, Windowed<K>, VA>().Transformer<TTransformer>(transformerArgument(storeName)).Build();
        // The windows live in the store above; the table only carries the latest value per window downstream.
        var table = InMemory.As<Windowed<K>, VA>(name + "_windows")
            .WithKeySerdes(new WindowedKeySerDes<K>(keySerde, format.Bounds)).WithValueSerdes(valueSerde).WithLoggingDisabled();
        return stream.Transform(aggregator, name, storeName).ToTable(table, name + "_table");
    }

    /// <summary>Adds a store of a key's windows, served to state queries like a window store.</summary>
    public static void AddStore<K, W, VA>(KsmlTopologyBuilder ksml, string storeName, bool persistent, bool logging, ISerDes<K> keySerde, ISerDes<VA> valueSerde, WindowFormat<W, VA> format)
    {
        var supplier = persistent ? Stores.PersistentKeyValueStore(storeName) : Stores.InMemoryKeyValueStore(storeName);
        ksml.AddStateStore(Stores.KeyValueStoreBuilder(supplier, keySerde, new WindowListSerDes<W, VA>(valueSerde, format)), logging);
        ksml.AddQuery(Hosting.KsmlStoreQuery.KeyWindows<K, W, VA>(storeName, w => (format.Window(w), format.Split(w).Aggregate)));
    }

    /// <summary>Removes the windows <paramref name="expired"/> picks from every key's list, and keys left with none.</summary>
    public static void RemoveFromAll<K, W>(IKeyValueStore<K, List<W>> store, Func<W, bool> expired)
    {
        var changed = new List<KeyValuePair<K, List<W>>>();
        foreach (var entry in store.All())
            if (entry.Value.Any(expired))
                changed.Add(KeyValuePair.Create(entry.Key, entry.Value.Where(w => !expired(w)).ToList()));
        foreach (var (key, windows) in changed)
        {
            if (windows.Count == 0)
                store.Delete(key);
            else
                store.Put(key, windows);
        }
    }
}

/// <summary>How one kind of window is kept in the store and shown.</summary>
/// <param name="Split">The window's two stored times and its aggregate.</param>
/// <param name="Make">The window back from those.</param>
/// <param name="Window">The window's bounds as Streamiz shows them.</param>
/// <param name="Bounds">The bounds from a windowed key's start and end.</param>
internal sealed record WindowFormat<W, VA>(Func<W, (long First, long Second, VA Aggregate)> Split, Func<long, long, VA, W> Make, Func<W, Window> Window, Func<long, long, Window> Bounds);

/// <summary>
/// What the session and sliding aggregators share, per stream task: the key's windows in the store, stream
/// time, skipping records without a key, and a stream-time sweep of windows no record can reach any more.
/// </summary>
internal abstract class WindowAggregator<K, V, VA, W> : ITransformer<K, V, Windowed<K>, VA>
{
    private readonly string? _storeName;
    private readonly long _sweepIntervalMs;
    private readonly Type _logCategory;
    private ProcessorContext<Windowed<K>, VA> _context = null!;

    /// <param name="storeName">The windows' store; null when Streamiz made the instance without its aggregation, which Init reports.</param>
    /// <param name="step">The operation's name, for log messages.</param>
    /// <param name="sweepIntervalMs">Stream time between sweeps of expired windows (at least a second).</param>
    /// <param name="logCategory">The logger category of the kind of window.</param>
    protected WindowAggregator(string? storeName, string step, long sweepIntervalMs, Type logCategory)
    {
        _storeName = storeName;
        Step = step;
        _sweepIntervalMs = sweepIntervalMs;
        _logCategory = logCategory;
    }

    /// <summary>The operation's name, for log messages.</summary>
    protected string Step { get; }

    protected ILogger Log { get; private set; } = null!;

    protected IKeyValueStore<K, List<W>> Store { get; private set; } = null!;

    /// <summary>The latest record time this task has seen.</summary>
    protected long StreamTime { get; private set; } = long.MinValue;

    public void Init(ProcessorContext<Windowed<K>, VA> context)
    {
        if (_storeName is null)
            throw new InvalidOperationException($"{GetType().Name} was created without its aggregation.");
        _context = context;
        Log = Logger.GetLogger(_logCategory);
        Store = (IKeyValueStore<K, List<W>>)context.GetStateStore(_storeName);
        // Keys that stop receiving records would keep their windows forever; Kafka Streams drops expired
        // segments, this sweeps the store as stream time advances.
        context.Schedule(TimeSpan.FromMilliseconds(Math.Max(1_000, _sweepIntervalMs)), PunctuationType.STREAM_TIME, _ => WindowedAggregation.RemoveFromAll(Store, IsExpired));
    }

    /// <summary>A window no record accepted now can reach any more.</summary>
    protected abstract bool IsExpired(W window);

    /// <summary>Updates the key's windows for one record (stream time includes it) and forwards each window it changes.</summary>
    protected abstract void Aggregate(K key, V value, long timestamp);

    public Record<Windowed<K>, VA> Process(Record<K, V> record)
    {
        if (record.Key is null)
        {
            Log.LogWarning("{Step}: skipping a record with a null key (offset {Offset}); a window needs a key", Step, record.TopicPartitionOffset);
            return null!;
        }
        var timestamp = record.Timestamp.UnixTimestampMs;
        StreamTime = Math.Max(StreamTime, timestamp);
        Aggregate(record.Key, record.Value, timestamp);
        return null!; // the changed windows were forwarded
    }

    protected void Forward(K key, Window window, VA aggregate) => _context.Forward(new Windowed<K>(key, window), aggregate);

    public void Close() { }
}

/// <summary>A key's windows in the store: count, then two times and the aggregate's bytes (-1 for null) per window.</summary>
internal sealed class WindowListSerDes<W, VA>(ISerDes<VA> aggregate, WindowFormat<W, VA> format) : AbstractSerDes<List<W>>
{
    public override byte[] Serialize(List<W> data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var windows = data.Select(format.Split).ToList();
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
            windows.Add(format.Make(BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(at)), BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(at + 8)), value));
            at += 20 + Math.Max(length, 0);
        }
        return windows;
    }
}

/// <summary>A windowed key as Kafka Streams writes a session's: the key's bytes, then the window's end and start.</summary>
internal sealed class WindowedKeySerDes<K>(ISerDes<K> key, Func<long, long, Window> bounds) : AbstractSerDes<Windowed<K>>
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
        var window = bounds(BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(keyLength + 8)), BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(keyLength)));
        return new Windowed<K>(key.Deserialize(data[..keyLength], context), window);
    }
}
