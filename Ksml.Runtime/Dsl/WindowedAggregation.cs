using System.Buffers.Binary;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Serdes;
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
