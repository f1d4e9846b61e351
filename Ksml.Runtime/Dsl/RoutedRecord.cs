using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// A record on its way to a sink, with the topic a KSML function picked for it one step earlier: a sink cannot
/// drop a record, the step before it can, so a failed pick goes no further instead of reaching the sink.
/// </summary>
internal readonly record struct RoutedRecord<V>(V Value, string Topic);

/// <summary>Writes a routed record's value with the target's own serde; the route itself is not written.</summary>
internal sealed class RoutedValueSerDes<V>(ISerDes<V> value) : AbstractSerDes<RoutedRecord<V>>
{
    public override byte[] Serialize(RoutedRecord<V> data, SerializationContext context) => value.Serialize(data.Value, context);

    public override RoutedRecord<V> Deserialize(byte[] data, SerializationContext context) =>
        throw new NotSupportedException("A routed record is only written to a sink; it is never read back.");

    public override void Initialize(SerDesContext context)
    {
        value.Initialize(context);
        base.Initialize(context);
    }
}
