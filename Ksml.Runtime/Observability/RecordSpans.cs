using System.Diagnostics;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The span of each record a stream reads, as OpenTelemetry's messaging conventions name a Kafka consumer's
/// processing: it continues the context the record's headers carry (a new trace without one), and lasts while
/// the record goes through the pipelines, which run inside it (Streamiz processes a record depth first).
/// </summary>
internal static class RecordSpans
{
    /// <summary><paramref name="stream"/> with a span around each record's processing.</summary>
    public static IKStream<K, V> Traced<K, V>(IKStream<K, V> stream, string topic) =>
        stream.TransformValues(TransformerBuilder.New<K, V, K, V>().Transformer<RecordSpan<K, V>>(topic).Build(), topic + "_traced");
}

/// <summary>Opens a record's span, forwards the record within it, and closes it once every step has run.</summary>
internal sealed class RecordSpan<K, V> : ITransformer<K, V, K, V>
{
    private readonly string _topic;
    private readonly string _name;
    private ProcessorContext<K, V> _context = null!;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the topic given to it.</summary>
    public RecordSpan() : this("") { }

    public RecordSpan(string topic) => (_topic, _name) = (topic, "process " + topic);

    public void Init(ProcessorContext<K, V> context) => _context = context;

    public Record<K, V> Process(Record<K, V> record)
    {
        using var span = KsmlTracing.Source.StartActivity(_name, ActivityKind.Consumer, KsmlTracing.Extract(record.Headers));
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "kafka");
            span.SetTag("messaging.operation.type", "process");
            span.SetTag("messaging.destination.name", _topic);
            span.SetTag("messaging.destination.partition.id", record.TopicPartitionOffset.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            span.SetTag("messaging.kafka.offset", record.TopicPartitionOffset.Offset.Value);
        }
        try
        {
            _context.Forward(record.Key, record.Value);
        }
        catch (Exception ex)
        {
            KsmlTracing.Fail(span, ex);
            throw;
        }
        return null!; // forwarded above, inside the span
    }

    public void Close() { }
}
