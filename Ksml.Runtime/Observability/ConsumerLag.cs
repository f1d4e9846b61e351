using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace Ksml.Runtime.Observability;

/// <summary>
/// Consumer lag per partition (<c>ksml_consumer_lag</c>): how many records of each assigned partition the stream
/// threads have not read yet, from each consumer's last fetched high watermark and its position. Read when metrics
/// are collected, from librdkafka's own state: no request to the brokers.
/// </summary>
internal static class ConsumerLag
{
    private static readonly List<WeakReference<IConsumer<byte[], byte[]>>> Consumers = [];

    private static readonly ObservableGauge<long> Lag = KsmlMetrics.Meter.CreateObservableGauge("consumer.lag", Measure, "{records}",
        "Records of an assigned partition not read yet (high watermark minus position), by topic and partition");

    /// <summary>Reports <paramref name="consumer"/>'s lag until it is closed.</summary>
    public static void Track(IConsumer<byte[], byte[]> consumer)
    {
        _ = Lag;
        lock (Consumers)
            Consumers.Add(new WeakReference<IConsumer<byte[], byte[]>>(consumer));
    }

    private static IEnumerable<Measurement<long>> Measure()
    {
        List<IConsumer<byte[], byte[]>> consumers;
        lock (Consumers)
        {
            Consumers.RemoveAll(c => !c.TryGetTarget(out _));
            consumers = Consumers.Select(c => c.TryGetTarget(out var consumer) ? consumer : null).OfType<IConsumer<byte[], byte[]>>().ToList();
        }
        var measurements = new List<Measurement<long>>();
        foreach (var consumer in consumers)
        {
            try
            {
                foreach (var partition in consumer.Assignment)
                {
                    var high = consumer.GetWatermarkOffsets(partition).High;
                    var position = consumer.Position(partition);
                    if (high.Value >= 0 && position.Value >= 0)
                        measurements.Add(new Measurement<long>(Math.Max(0, high.Value - position.Value),
                            new KeyValuePair<string, object?>("topic", partition.Topic), new KeyValuePair<string, object?>("partition", partition.Partition.Value)));
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or KafkaException or InvalidOperationException)
            {
                // Closed since (a rebalance, a stop): it reports nothing any more.
            }
        }
        return measurements;
    }
}
