using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// A record on its way to a sink, with the topic and partition KSML functions picked for it one step earlier: a
/// sink cannot drop a record, the step before it can, so a failed pick goes no further instead of reaching the
/// sink. A partition of -1 (<see cref="Partition.Any"/>) leaves the choice to the producer.
/// </summary>
internal readonly record struct RoutedRecord<V>(V Value, string Topic, int Partition = -1);

/// <summary>Writes a routed record's value with the target's own serde; the route itself is not written.</summary>
internal sealed class RoutedValueSerDes<V>(ISerDes<V> value) : AbstractSerDes<RoutedRecord<V>>
{
    public override byte[] Serialize(RoutedRecord<V> data, SerializationContext context) => value.Serialize(data.Value, context);

    /// <summary>Read back only from a repartition topic, where the route has been taken.</summary>
    public override RoutedRecord<V> Deserialize(byte[] data, SerializationContext context) =>
        new(value.Deserialize(data, context), context.Topic);

    public override void Initialize(SerDesContext context)
    {
        value.Initialize(context);
        base.Initialize(context);
    }
}

/// <summary>The sink's partitioner for routed records: the partition picked one step earlier.</summary>
internal sealed class RoutedPartitioner<K, V> : IStreamPartitioner<K, RoutedRecord<V>>
{
    public void Initialize(Streamiz.Kafka.Net.IStreamConfig config)
    {
    }

    public Partition Partition(string topic, K key, RoutedRecord<V> value, Partition sourcePartition, int numPartitions) => new(value.Partition);
}
