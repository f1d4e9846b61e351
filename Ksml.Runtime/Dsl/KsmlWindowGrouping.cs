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
    public static IKStream<K, V> KsmlGroupByKeyForOwnWindows<K, V>(this IKStream<K, V> stream, string name, string keyType, string valueType) =>
        // Streamiz marks a stream whose key a step changed; its own groupByKey repartitions on the same mark.
        stream.GetType().GetProperty("RepartitionRequired")?.GetValue(stream) is true ? Repartition(stream, name, keyType, valueType) : stream;

    /// <summary><c>groupBy</c> before session or sliding windows: the stream re-keyed by the mapper and repartitioned by the new key.</summary>
    public static IKStream<KR, V> KsmlGroupByForOwnWindows<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name, string keyType, string valueType) =>
        Repartition(KsmlOperations.SelectGroupKey<K, V, KR>(stream, ksml, mapper, name), name, keyType, valueType);

    private static IKStream<K, V> Repartition<K, V>(IKStream<K, V> stream, string name, string keyType, string valueType) =>
        stream.Repartition(Repartitioned<K, V>.As(name).WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)));
}
