using Confluent.Kafka;
using Ksml.Runtime.Kafka;

namespace Ksml.Runtime.Observability;

/// <summary>
/// A producer that writes the current trace context into every record it sends (sinks, topic name extractors,
/// repartition topics), replacing the context a forwarded record arrived with, so the next reader continues this
/// trace. Changelog topics, which only this application restores from, are left as they are.
/// </summary>
public sealed class TracedProducer(IProducer<byte[], byte[]> inner) : ForwardingProducer(inner)
{
    /// <inheritdoc />
    public override void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
        Inner.Produce(topic, Traced(topic, message), deliveryHandler);

    /// <inheritdoc />
    public override void Produce(TopicPartition topicPartition, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
        Inner.Produce(topicPartition, Traced(topicPartition.Topic, message), deliveryHandler);

    /// <inheritdoc />
    public override Task<DeliveryResult<byte[], byte[]>> ProduceAsync(string topic, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
        Inner.ProduceAsync(topic, Traced(topic, message), cancellationToken);

    /// <inheritdoc />
    public override Task<DeliveryResult<byte[], byte[]>> ProduceAsync(TopicPartition topicPartition, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
        Inner.ProduceAsync(topicPartition, Traced(topicPartition.Topic, message), cancellationToken);

    private static Message<byte[], byte[]> Traced(string topic, Message<byte[], byte[]> message)
    {
        if (!topic.EndsWith("-changelog", StringComparison.Ordinal))
            message.Headers = WithCurrentContext(message.Headers);
        return message;
    }

    /// <summary>A copy of <paramref name="headers"/> with the current context: the forwarded record's own headers object stays as it arrived.</summary>
    internal static Headers WithCurrentContext(Headers? headers)
    {
        var copy = new Headers();
        if (headers is not null)
            foreach (var header in headers)
                copy.Add(header.Key, header.GetValueBytes());
        KsmlTracing.Inject(copy);
        return copy;
    }
}
