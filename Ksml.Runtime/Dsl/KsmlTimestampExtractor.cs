using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// A KSML <c>timestampExtractor</c>: the function receives the record as
/// <c>{timestamp, timestampType, key, value, topic, partition, offset}</c> and the partition's
/// previous timestamp, and returns the record's event time in epoch milliseconds.
/// </summary>
internal sealed class KsmlTimestampExtractor(IKsmlFunction function) : ITimestampExtractor
{
    private readonly string _resultOf = function.Definition.DescribeResult();

    public long Extract(ConsumeResult<object, object> record, long partitionTime)
    {
        var description = new JsonObject
        {
            ["timestamp"] = record.Message.Timestamp.UnixTimestampMs,
            ["timestampType"] = record.Message.Timestamp.Type switch
            {
                TimestampType.CreateTime => "CreateTime",
                TimestampType.LogAppendTime => "LogAppendTime",
                _ => "NotAvailable",
            },
            ["key"] = KsmlValues.ToJsonNode(record.Message.Key),
            ["value"] = KsmlValues.ToJsonNode(record.Message.Value),
            ["topic"] = record.Topic,
            ["partition"] = record.Partition.Value,
            ["offset"] = record.Offset.Value,
        };
        return KsmlValues.To<long>(function.Invoke(null, description, partitionTime), _resultOf);
    }
}
