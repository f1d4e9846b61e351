using Ksml.Runtime.Definitions;
using Ksml.Runtime.Serdes;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// The grouping before session or sliding windows, which the runtime builds from the grouped records:
/// the stream itself, partitioned by the key it is grouped on.
/// </summary>
public static class KsmlWindowGrouping
{
    /// <summary><c>groupByKey</c> before session or sliding windows: the stream itself, sent through a repartition topic when an earlier step changed its key.</summary>
    public static IKStream<K, V> KsmlGroupByKeyForOwnWindows<K, V>(this IKStream<K, V> stream, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        KeyPartitioning.ByKey(stream, name, keyType, valueType);

    /// <summary><c>groupBy</c> before session or sliding windows: the stream re-keyed by the mapper and repartitioned by the new key.</summary>
    public static IKStream<KR, V> KsmlGroupByForOwnWindows<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        KeyPartitioning.Repartition(KsmlOperations.SelectGroupKey<K, V, KR>(stream, ksml, mapper, name), name, keyType, valueType);
}

/// <summary>Partitioning by key before the runtime's own stateful processors (its windows and stream joins), as Streamiz does before its own.</summary>
internal static class KeyPartitioning
{
    /// <summary>The stream itself, sent through a repartition topic when an earlier step changed its key.</summary>
    public static IKStream<K, V> ByKey<K, V>(IKStream<K, V> stream, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        // Streamiz marks a stream whose key a step changed; its own groupByKey and joins repartition on the same mark.
        stream.GetType().GetProperty("RepartitionRequired")?.GetValue(stream) is true ? Repartition(stream, name, keyType, valueType) : stream;

    /// <summary>The stream through a repartition topic, so each key reaches the task of its partition.</summary>
    public static IKStream<K, V> Repartition<K, V>(IKStream<K, V> stream, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        stream.Repartition(Repartitioned<K, V>.As(name).WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)));
}
