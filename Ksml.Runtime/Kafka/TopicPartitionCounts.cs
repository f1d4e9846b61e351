using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// The partition counts of topics as the cluster has them while the topology is built, for internal topics that
/// must meet a table's partitions. Asked only when such a topic is built; the admin client closes with this.
/// </summary>
internal sealed class TopicPartitionCounts(IReadOnlyDictionary<string, string> clientConfig, ILogger logger) : IDisposable
{
    private IAdminClient? _admin;

    /// <summary>The topic's partition count, or null when it is not known (no such topic, or the cluster does not answer).</summary>
    public int? Of(string topic)
    {
        try
        {
            _admin ??= new AdminClientBuilder(ClientConnection.Settings(clientConfig)).Build();
            var metadata = _admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.FirstOrDefault(t => t.Topic == topic);
            if (metadata is { Error.IsError: false, Partitions.Count: > 0 })
                return metadata.Partitions.Count;
            logger.LogWarning("The partition count of topic {Topic} is not known at start ({Error}); the internal topics partitioned like it take Streamiz's own count", topic, metadata?.Error.Reason ?? "no metadata");
        }
        catch (KafkaException ex)
        {
            logger.LogWarning("The partition count of topic {Topic} could not be read at start ({Error}); the internal topics partitioned like it take Streamiz's own count", topic, ex.Error.Reason);
        }
        return null;
    }

    public void Dispose() => _admin?.Dispose();
}

/// <summary>
/// What a client of the application's own (an admin client, the instances' announcements) needs to reach the cluster:
/// the address and the security settings, without the Streams and producer settings a runner file may also hold
/// (librdkafka refuses a key it does not know, such as <c>default.partitioner.reshuffle.every.key</c>).
/// </summary>
internal static class ClientConnection
{
    private static readonly string[] Prefixes = ["bootstrap.servers", "security.protocol", "sasl.", "ssl.", "socket.", "client.dns.lookup", "broker.address.family", "enable.ssl.certificate.verification"];

    public static Dictionary<string, string> Settings(IReadOnlyDictionary<string, string> clientConfig) =>
        clientConfig.Where(p => Prefixes.Any(prefix => p.Key.StartsWith(prefix, StringComparison.Ordinal))).ToDictionary(p => p.Key, p => p.Value);
}
