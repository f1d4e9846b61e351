using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.ErrorHandling;

/// <summary>Where a record was read: what a dead letter needs to be replayed or deduplicated.</summary>
public readonly record struct SourceRecord(string Topic, int Partition, long Offset)
{
    /// <summary>The coordinates of the record Streamiz is processing.</summary>
    public static SourceRecord Of(IRecordContext context) => new(context.Topic, context.Partition, context.Offset);

    /// <summary>
    /// The coordinates of the record the stream thread is processing, for the functions Streamiz calls without a
    /// record context (reducers, aggregators, initializers, joiners, partitioners). Read only when a failure needs
    /// them; null outside a task.
    /// </summary>
    public static SourceRecord? Current() =>
        Kafka.StreamizTask.CurrentRecord() is { Topic.Length: > 0, Offset: >= 0 } record ? Of(record) : null;
}
