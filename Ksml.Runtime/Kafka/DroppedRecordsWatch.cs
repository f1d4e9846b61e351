using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// The embedded broker keeps at most 5 MiB (or 100 000 message sets) per partition and drops the
/// oldest records beyond that without telling anyone. This watch polls every partition's first
/// offset and logs a warning, once per partition, when it has moved past 0: a consumer that starts
/// late, or a restored changelog, then misses records, and the log says where and why.
/// </summary>
internal sealed class DroppedRecordsWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public DroppedRecordsWatch(string bootstrapServers, ILogger logger, TimeSpan interval) =>
        _loop = Task.Run(() => Watch(bootstrapServers, logger, interval, _stop.Token));

    private static async Task Watch(string bootstrapServers, ILogger logger, TimeSpan interval, CancellationToken stop)
    {
        var config = new ClientConfig { BootstrapServers = bootstrapServers, ClientId = "ksml-dropped-records-watch" };
        using var admin = new AdminClientBuilder(config).Build();
        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(config) { GroupId = "ksml-dropped-records-watch" }).Build();
        var reported = new HashSet<TopicPartition>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop).ConfigureAwait(false);
                foreach (var topic in admin.GetMetadata(TimeSpan.FromSeconds(5)).Topics)
                    foreach (var partition in topic.Partitions)
                    {
                        var at = new TopicPartition(topic.Topic, partition.PartitionId);
                        if (reported.Contains(at) || stop.IsCancellationRequested)
                            continue;
                        var first = offsets.QueryWatermarkOffsets(at, TimeSpan.FromSeconds(5)).Low;
                        if (first.Value > 0 && reported.Add(at))
                            logger.LogWarning(
                                "The embedded broker dropped the oldest {Count} records of {Topic} [{Partition}]: it keeps at most {Limit} MiB or 100 000 message sets per partition. Use more partitions (--partitions) or a real cluster for this volume.",
                                first.Value, topic.Topic, partition.PartitionId, EmbeddedKafkaBroker.MaxBytesPerPartition / (1024 * 1024));
                    }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (KafkaException ex)
            {
                logger.LogDebug(ex, "Checking the embedded broker's partitions failed; trying again");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
