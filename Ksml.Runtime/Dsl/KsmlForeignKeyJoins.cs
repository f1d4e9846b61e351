using System.Buffers.Binary;
using System.Security.Cryptography;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
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
/// KSML's foreign-key table joins (<c>join</c>/<c>leftJoin</c> of a table with <c>foreignKeyExtractor</c>), which
/// Streamiz 1.8.2 lacks, built as Kafka Streams builds them: each left row subscribes, through a subscription topic
/// partitioned like the right table, to the right row its foreign key names; the right side answers each
/// subscription, and every change of a right row, through a response topic partitioned like the left table; the left
/// side joins a response only while it still answers the row's current value (a hash of it travels both ways), so a
/// response overtaken by a later change of the row is dropped.
/// </summary>
public static class KsmlForeignKeyJoins
{
    /// <summary>
    /// <c>join</c>/<c>leftJoin</c> of <paramref name="table"/> with <paramref name="other"/> on the key
    /// <paramref name="foreignKeyExtractor"/> finds in each left value. The subscription and response topics get the
    /// partition counts of <paramref name="otherTopic"/> and <paramref name="topic"/> as found at start, so each
    /// meets its table's partitions.
    /// </summary>
    public static IKTable<K, VR> KsmlForeignKeyJoin<K, V, KO, VO, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, IKTable<KO, VO> other,
        KsmlFunctionDefinition foreignKeyExtractor, KsmlFunctionDefinition valueJoiner, string kind, KsmlStoreDefinition? store, string name,
        string? topic, string otherTopic, KsmlDataType? keyType, KsmlDataType? valueType, KsmlDataType? otherKeyType, KsmlDataType? otherValueType, KsmlDataType? resultType)
    {
        var keySerde = KsmlSerdes.For<K>(keyType);
        var foreignKeySerde = KsmlSerdes.For<KO>(otherKeyType);
        var join = new ForeignKeyJoin<K, V, KO, VO, VR>(kind == "leftJoin", name + "_left_rows", name + "_left_foreign_keys", name + "_subscriptions", name + "_right_rows", name,
            new FunctionStep<KO>(ksml, foreignKeyExtractor, name + "_foreign_key"), new FunctionStep<VR>(ksml, valueJoiner, name),
            keySerde, foreignKeySerde, KsmlSerdes.For<V>(null));
        // The join keeps its own copy of both tables' rows, and each left row's foreign key, to unsubscribe from when it changes.
        ksml.AddStateStore(Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(join.LeftRows), keySerde, KsmlSerdes.For<V>(valueType)), logging: true);
        ksml.AddStateStore(Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(join.LeftForeignKeys), keySerde, foreignKeySerde), logging: true);
        ksml.AddStateStore(Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(join.RightRows), foreignKeySerde, KsmlSerdes.For<VO>(otherValueType)), logging: true);
        ksml.AddStateStore(Stores.KeyValueStoreBuilder(Stores.InMemoryKeyValueStore(join.Subscriptions), foreignKeySerde, new SubscribersSerDes<K>(keySerde)), logging: true);

        // Left: each change of a row subscribes to its foreign key (and unsubscribes from the previous one).
        var leftOut = table.ToStream(name + "_left_changes")
            .TransformValues(Transformer<K, V, K, ForeignKeyJoinOutput<K, KO, VR>, LeftRowChanges<K, V, KO, VO, VR>>(join), name + "_subscribe", join.LeftRows, join.LeftForeignKeys);
        var subscriptions = leftOut.Filter((_, o, _) => o.IsSubscription, name + "_subscriptions_only")
            .Map((k, o, _) => KeyValuePair.Create(o.ForeignKey, new Subscription<K>(k, o.Hash, o.Subscribe, o.PropagateNone)), name + "_by_foreign_key")
            .Repartition(Partitioned(ksml, Repartitioned<KO, Subscription<K>>.As(name + "_subscription").WithKeySerdes(foreignKeySerde)
                .WithValueSerdes(new SubscriptionSerDes<K>(keySerde)), otherTopic));

        // Right: a subscription is answered with the right row as it is, and a change of a right row answers every subscriber.
        var answers = subscriptions.Transform(Transformer<KO, Subscription<K>, K, Response<VO>, SubscriptionAnswers<K, V, KO, VO, VR>>(join), name + "_answer", join.Subscriptions, join.RightRows);
        var updates = other.ToStream(name + "_right_changes")
            .Transform(Transformer<KO, VO, K, Response<VO>, RightRowChanges<K, V, KO, VO, VR>>(join), name + "_notify", join.Subscriptions, join.RightRows);
        var responses = answers.Merge(updates, name + "_responses")
            .Repartition(Partitioned(ksml, Repartitioned<K, Response<VO>>.As(name + "_response").WithKeySerdes(keySerde)
                .WithValueSerdes(new ResponseSerDes<VO>(KsmlSerdes.For<VO>(otherValueType))), topic));

        // Left again: a response still meant for the row's current value is joined with it.
        // The left steps keep the key, so nothing after them is repartitioned again (Streamiz marks every Transform as re-keying).
        var joined = responses.TransformValues(Transformer<K, Response<VO>, K, VR, ResponseJoins<K, V, KO, VO, VR>>(join), name + "_join", join.LeftRows);
        return leftOut.Filter((_, o, _) => !o.IsSubscription, name + "_results_only").MapValues((_, o, _) => o.Result, name + "_results")
            .Merge(joined, name + "_all_results")
            .ToTable(ksml.KeyValueMaterialized<K, VR>(store, name + "_store", keyType, resultType), name);
    }

    private static TransformerSupplier<K, V, K1, V1> Transformer<K, V, K1, V1, T>(object join) where T : ITransformer<K, V, K1, V1>, new() =>
        TransformerBuilder.New<K, V, K1, V1>().Transformer<T>(join).Build();

    /// <summary>A topic of the join gets the partitions of the table it meets, as found at start; without them Streamiz's own count applies.</summary>
    private static Repartitioned<K, V> Partitioned<K, V>(KsmlTopologyBuilder ksml, Repartitioned<K, V> repartitioned, string? partitionedLike) =>
        repartitioned.Partitions(ksml, ksml.UnderTestDriver || partitionedLike is null ? null : ksml.PartitionCount?.Invoke(partitionedLike));
}

/// <summary>One foreign-key join as built: its stores and the steps that call its functions.</summary>
internal sealed record ForeignKeyJoin<K, V, KO, VO, VR>(bool IsLeftJoin, string LeftRows, string LeftForeignKeys, string Subscriptions, string RightRows, string Step,
    FunctionStep<KO> ForeignKey, FunctionStep<VR> Joiner, ISerDes<K> KeySerde, ISerDes<KO> ForeignKeySerde, ISerDes<V> ValueBytes)
{
    /// <summary>A digest of a left value: a response is joined only with the value it was asked for.</summary>
    public byte[] Hash(V value) => SHA256.HashData(ValueBytes.Serialize(value, new SerializationContext(MessageComponentType.Value, Step)) ?? []).AsSpan(0, 16).ToArray();

    /// <summary>Keys compare by their bytes: a json key is a new object per record.</summary>
    public bool SameForeignKey(KO a, KO b) => Bytes(ForeignKeySerde, a).AsSpan().SequenceEqual(Bytes(ForeignKeySerde, b));

    public bool SameKey(K a, K b) => Bytes(KeySerde, a).AsSpan().SequenceEqual(Bytes(KeySerde, b));

    private static byte[] Bytes<T>(ISerDes<T> serde, T value) => serde.Serialize(value, new SerializationContext(MessageComponentType.Key, "")) ?? [];

    /// <summary>The joiner's result for a row and its right row (or none); a failure its policy handled gives nothing.</summary>
    public StepOutcome<VR> Join(K key, V value, VO? right, SourceRecord source) => Joiner.Call(key, value, source, null, key, value, right);
}

/// <summary>What the left side sends on: a subscription for the right side, or a result of the join.</summary>
internal readonly record struct ForeignKeyJoinOutput<K, KO, VR>(bool IsSubscription, KO ForeignKey, byte[] Hash, bool Subscribe, bool PropagateNone, VR Result);

/// <summary>A left row's (un)subscription to a foreign key; <paramref name="PropagateNone"/> asks for an answer even when no right row exists.</summary>
internal readonly record struct Subscription<K>(K Key, byte[] Hash, bool Subscribe, bool PropagateNone);

/// <summary>A right row (or none) answering the left value whose hash it carries.</summary>
internal readonly record struct Response<VO>(byte[] Hash, VO? Value);

/// <summary>A left row that subscribes to a foreign key, and the hash of the value it subscribed with.</summary>
internal readonly record struct Subscriber<K>(K Key, byte[] Hash);

/// <summary>The base of the join's processors: the join, the task's context and a located source for dead letters.</summary>
internal abstract class ForeignKeyJoinProcessor<K, V, KO, VO, VR, KIn, VIn, KOut, VOut> : ITransformer<KIn, VIn, KOut, VOut>
{
    protected ForeignKeyJoinProcessor(object? join) => Join = (ForeignKeyJoin<K, V, KO, VO, VR>)join!;

    protected ForeignKeyJoin<K, V, KO, VO, VR> Join { get; }

    protected ProcessorContext<KOut, VOut> Context { get; private set; } = null!;

    public virtual void Init(ProcessorContext<KOut, VOut> context)
    {
        if (Join is null)
            throw new InvalidOperationException($"{GetType().Name} was created without its join.");
        Context = context;
    }

    protected SourceRecord Source() => new(Context.Topic, Context.Partition.Value, Context.Offset);

    protected T Store<T>(string name) => (T)Context.GetStateStore(name);

    public abstract Record<KOut, VOut> Process(Record<KIn, VIn> record);

    public void Close() { }
}

/// <summary>A change of a left row: unsubscribe from the previous foreign key, subscribe to the new one, and settle what needs no answer.</summary>
internal sealed class LeftRowChanges<K, V, KO, VO, VR>(object? join) : ForeignKeyJoinProcessor<K, V, KO, VO, VR, K, V, K, ForeignKeyJoinOutput<K, KO, VR>>(join)
{
    public LeftRowChanges() : this(null) { }

    public override Record<K, ForeignKeyJoinOutput<K, KO, VR>> Process(Record<K, V> record)
    {
        var (key, value, source) = (record.Key, record.Value, Source());
        KO? foreignKey = default;
        if (value is not null)
        {
            // A failed extraction leaves the row's join as it was, as a failed table step does.
            if (Join.ForeignKey.Call(key, value, source, null, value) is not { Failed: false } outcome)
                return null!;
            foreignKey = outcome.Value;
        }
        var rows = Store<IKeyValueStore<K, V>>(Join.LeftRows);
        var foreignKeys = Store<IKeyValueStore<K, KO>>(Join.LeftForeignKeys);
        var previous = rows.Get(key);
        var previousForeignKey = foreignKeys.Get(key);
        Keep(rows, key, value);
        Keep(foreignKeys, key, value is null ? default : foreignKey);

        if (previousForeignKey is not null && (foreignKey is null || !Join.SameForeignKey(previousForeignKey, foreignKey)))
            Forward(key, new ForeignKeyJoinOutput<K, KO, VR>(true, previousForeignKey, [], false, false, default!));
        if (value is not null && foreignKey is not null)
        {
            // An inner join answers a row without a right row only when an earlier result of it must be deleted.
            Forward(key, new ForeignKeyJoinOutput<K, KO, VR>(true, foreignKey, Join.Hash(value), true, Join.IsLeftJoin || previous is not null, default!));
            return null!;
        }
        if (value is not null && Join.IsLeftJoin)
        {
            if (Join.Join(key, value, default, source) is { Failed: false, Value: var joined })
                Forward(key, new ForeignKeyJoinOutput<K, KO, VR>(false, default!, [], false, false, joined));
            return null!;
        }
        // A deleted row, or an inner join's row without a foreign key, has no result: a tombstone deletes an earlier one.
        if (previous is not null)
            Forward(key, new ForeignKeyJoinOutput<K, KO, VR>(false, default!, [], false, false, default!));
        return null!;
    }

    private static void Keep<T>(IKeyValueStore<K, T> store, K key, T? value)
    {
        if (value is null)
            store.Delete(key);
        else
            store.Put(key, value);
    }

    private void Forward(K key, ForeignKeyJoinOutput<K, KO, VR> output) => Context.Forward(key, output);
}

/// <summary>A subscription reaching the right side: remember the subscriber and answer with the right row as it is.</summary>
internal sealed class SubscriptionAnswers<K, V, KO, VO, VR>(object? join) : ForeignKeyJoinProcessor<K, V, KO, VO, VR, KO, Subscription<K>, K, Response<VO>>(join)
{
    public SubscriptionAnswers() : this(null) { }

    public override Record<K, Response<VO>> Process(Record<KO, Subscription<K>> record)
    {
        var subscriptions = Store<IKeyValueStore<KO, List<Subscriber<K>>>>(Join.Subscriptions);
        var subscription = record.Value;
        var subscribers = subscriptions.Get(record.Key) ?? [];
        subscribers.RemoveAll(s => Join.SameKey(s.Key, subscription.Key));
        if (subscription.Subscribe)
            subscribers.Add(new Subscriber<K>(subscription.Key, subscription.Hash));
        if (subscribers.Count == 0)
            subscriptions.Delete(record.Key);
        else
            subscriptions.Put(record.Key, subscribers);

        var right = Store<IKeyValueStore<KO, VO>>(Join.RightRows).Get(record.Key);
        if (subscription.Subscribe && (right is not null || subscription.PropagateNone))
            Context.Forward(subscription.Key, new Response<VO>(subscription.Hash, right));
        return null!;
    }
}

/// <summary>A change of a right row: keep it, and answer every row subscribed to it.</summary>
internal sealed class RightRowChanges<K, V, KO, VO, VR>(object? join) : ForeignKeyJoinProcessor<K, V, KO, VO, VR, KO, VO, K, Response<VO>>(join)
{
    public RightRowChanges() : this(null) { }

    public override Record<K, Response<VO>> Process(Record<KO, VO> record)
    {
        var rows = Store<IKeyValueStore<KO, VO>>(Join.RightRows);
        if (record.Value is null)
            rows.Delete(record.Key);
        else
            rows.Put(record.Key, record.Value);
        foreach (var subscriber in Store<IKeyValueStore<KO, List<Subscriber<K>>>>(Join.Subscriptions).Get(record.Key) ?? [])
            Context.Forward(subscriber.Key, new Response<VO>(subscriber.Hash, record.Value));
        return null!;
    }
}

/// <summary>A response reaching the left side: joined with the row's value if it still answers that value.</summary>
internal sealed class ResponseJoins<K, V, KO, VO, VR>(object? join) : ForeignKeyJoinProcessor<K, V, KO, VO, VR, K, Response<VO>, K, VR>(join)
{
    public ResponseJoins() : this(null) { }

    public override Record<K, VR> Process(Record<K, Response<VO>> record)
    {
        var value = Store<IKeyValueStore<K, V>>(Join.LeftRows).Get(record.Key);
        // The row changed (or went) since it asked: a later response answers its current value.
        if (value is null || !Join.Hash(value).AsSpan().SequenceEqual(record.Value.Hash))
            return null!;
        if (record.Value.Value is null && !Join.IsLeftJoin)
        {
            Context.Forward(record.Key, default!); // the right row went: an inner join's result goes too
            return null!;
        }
        if (Join.Join(record.Key, value, record.Value.Value, Source()) is { Failed: false, Value: var joined })
            Context.Forward(record.Key, joined);
        return null!;
    }
}

/// <summary>A subscription on its topic: instruction flags, the hash, then the left key's bytes.</summary>
internal sealed class SubscriptionSerDes<K>(ISerDes<K> key) : AbstractSerDes<Subscription<K>>
{
    public override byte[] Serialize(Subscription<K> data, SerializationContext context)
    {
        var keyBytes = key.Serialize(data.Key, context) ?? [];
        var bytes = new byte[2 + data.Hash.Length + keyBytes.Length];
        bytes[0] = (byte)((data.Subscribe ? 1 : 0) | (data.PropagateNone ? 2 : 0));
        bytes[1] = (byte)data.Hash.Length;
        data.Hash.CopyTo(bytes, 2);
        keyBytes.CopyTo(bytes, 2 + data.Hash.Length);
        return bytes;
    }

    public override Subscription<K> Deserialize(byte[] data, SerializationContext context)
    {
        var hashLength = data[1];
        return new Subscription<K>(key.Deserialize(data[(2 + hashLength)..], context), data[2..(2 + hashLength)], (data[0] & 1) != 0, (data[0] & 2) != 0);
    }
}

/// <summary>A response on its topic: the hash, then the right value's bytes (none for no right row).</summary>
internal sealed class ResponseSerDes<VO>(ISerDes<VO> value) : AbstractSerDes<Response<VO>>
{
    public override byte[] Serialize(Response<VO> data, SerializationContext context)
    {
        var valueBytes = data.Value is null ? null : value.Serialize(data.Value, context);
        var bytes = new byte[1 + data.Hash.Length + (valueBytes?.Length ?? 0) + 1];
        bytes[0] = (byte)data.Hash.Length;
        data.Hash.CopyTo(bytes, 1);
        bytes[1 + data.Hash.Length] = valueBytes is null ? (byte)0 : (byte)1;
        valueBytes?.CopyTo(bytes, 2 + data.Hash.Length);
        return bytes;
    }

    public override Response<VO> Deserialize(byte[] data, SerializationContext context)
    {
        var hashLength = data[0];
        var hasValue = data[1 + hashLength] != 0;
        return new Response<VO>(data[1..(1 + hashLength)], hasValue ? value.Deserialize(data[(2 + hashLength)..], context) : default);
    }
}

/// <summary>A foreign key's subscribers in the store: count, then per subscriber the hash, the key's length and bytes.</summary>
internal sealed class SubscribersSerDes<K>(ISerDes<K> key) : AbstractSerDes<List<Subscriber<K>>>
{
    public override byte[] Serialize(List<Subscriber<K>> data, SerializationContext context)
    {
        if (data is null)
            return null!;
        using var bytes = new MemoryStream();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Count);
        bytes.Write(number);
        foreach (var subscriber in data)
        {
            var keyBytes = key.Serialize(subscriber.Key, context) ?? [];
            bytes.WriteByte((byte)subscriber.Hash.Length);
            bytes.Write(subscriber.Hash);
            BinaryPrimitives.WriteInt32BigEndian(number, keyBytes.Length);
            bytes.Write(number);
            bytes.Write(keyBytes);
        }
        return bytes.ToArray();
    }

    public override List<Subscriber<K>> Deserialize(byte[] data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var subscribers = new List<Subscriber<K>>(BinaryPrimitives.ReadInt32BigEndian(data));
        for (var at = 4; at < data.Length;)
        {
            var hash = data[(at + 1)..(at + 1 + data[at])];
            at += 1 + hash.Length;
            var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(at));
            subscribers.Add(new Subscriber<K>(key.Deserialize(data[(at + 4)..(at + 4 + length)], context), hash));
            at += 4 + length;
        }
        return subscribers;
    }
}
