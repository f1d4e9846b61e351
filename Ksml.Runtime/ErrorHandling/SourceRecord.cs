using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.ErrorHandling;

/// <summary>Where a record was read: what a dead letter needs to be replayed or deduplicated.</summary>
public readonly record struct SourceRecord(string Topic, int Partition, long Offset)
{
    /// <summary>The coordinates of the record Streamiz is processing.</summary>
    public static SourceRecord Of(IRecordContext context) => new(context.Topic, context.Partition, context.Offset);
}
