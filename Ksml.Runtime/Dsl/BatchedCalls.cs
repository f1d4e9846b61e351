using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// A <c>forEach</c> sink with <c>batch:</c>, for one task: records are gathered, and handed to one call as
/// <c>records</c> (a list of <c>{key, value, timestamp, topic, partition, offset}</c>, in order) once
/// <c>maxRecords</c> are in, <c>maxWait</c> after the first of them arrived, and before every commit, revocation
/// and close of the task (through its <see cref="PendingWorkStore"/>), so no offset commits before its record's
/// batch was written. A failed batch is retried as a whole by the process policy, and then each of its records
/// is dead-lettered with its own coordinates (or the application stops, uncommitted).
/// </summary>
internal sealed class BatchingForEach<K, V> : ITransformer<K, V, K, V>
{
    private static readonly Histogram<long> BatchSizes = Observability.KsmlMetrics.Meter.CreateHistogram<long>("batch.records", "{records}", "Records per batched call, by step and what flushed it");

    private readonly Body _body;
    private readonly List<(K Key, V Value, SourceRecord Source, long Timestamp)> _records = [];
    private long _firstArrivedAt;

    /// <summary>What a transformer needs, given through Streamiz's transformer builder.</summary>
    /// <param name="Step">The forEach, called once per batch.</param>
    /// <param name="Batch">When a batch is handed over.</param>
    /// <param name="StoreName">The task's <see cref="PendingWorkStore"/>.</param>
    public sealed record Body(FunctionStep<object?> Step, KsmlBatch Batch, string StoreName);

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the parameters given to it.</summary>
    public BatchingForEach() => _body = null!;

    public BatchingForEach(Body body) => _body = body;

    public void Init(ProcessorContext<K, V> context)
    {
        if (_body is null)
            throw new InvalidOperationException("BatchingForEach was created without its step.");
        ((PendingWorkStore)context.GetStateStore(_body.StoreName)).Drain = () => Flush("commit");
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_body.Batch.MaxWaitMs / 4, 10, 1000));
        context.Schedule(tick, PunctuationType.PROCESSING_TIME, _ =>
        {
            if (_records.Count > 0 && Environment.TickCount64 - _firstArrivedAt >= _body.Batch.MaxWaitMs)
                Flush("time");
        });
    }

    public Record<K, V>? Process(Record<K, V> record)
    {
        if (_records.Count == 0)
            _firstArrivedAt = Environment.TickCount64;
        var offset = record.TopicPartitionOffset;
        _records.Add((record.Key, record.Value, new SourceRecord(offset.Topic, offset.Partition.Value, offset.Offset.Value), record.Timestamp.UnixTimestampMs));
        if (_records.Count >= _body.Batch.MaxRecords)
            Flush("count");
        return null;
    }

    private void Flush(string why)
    {
        if (_records.Count == 0)
            return;
        var batch = new JsonArray();
        foreach (var (key, value, source, timestamp) in _records)
            batch.Add(new JsonObject
            {
                ["key"] = KsmlValues.ToJsonNode(key)?.DeepClone(),
                ["value"] = KsmlValues.ToJsonNode(value)?.DeepClone(),
                ["timestamp"] = timestamp,
                ["topic"] = source.Topic,
                ["partition"] = source.Partition,
                ["offset"] = source.Offset,
            });
        var records = _records.Select(r => (r.Key, r.Value, (SourceRecord?)r.Source)).ToList();
        BatchSizes.Record(_records.Count, new KeyValuePair<string, object?>("step", _body.Step.Name), new KeyValuePair<string, object?>("flushed_by", why));
        // Cleared first: a stop unwinds from here, and the batch must not be handed over again by the closing flush.
        _records.Clear();
        _body.Step.SettleBatch(records, () => _body.Step.Function.Invoke(null, batch));
    }

    public void Close() => Flush("close");
}
