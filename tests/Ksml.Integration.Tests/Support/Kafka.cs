using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Ksml.Runtime.Serdes;
using Microsoft.Extensions.Logging;

namespace Ksml.Integration.Tests.Support;

/// <summary>Produces to and reads from the embedded broker with the topics' KSML serdes, as any other Kafka client would.</summary>
public static class Kafka
{
    public static readonly ILoggerFactory Logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));

    public static KsmlRunnerOptions Options(string applicationId, string? extraYaml = null, int partitions = 1) =>
        KsmlRunnerConfig.Parse($$"""
            kafka:
              application.id: {{applicationId}}
              session.timeout.ms: "6000"
              commit.interval.ms: "200"
            ksml:
              embeddedBroker:
                enabled: true
                partitions: {{partitions}}
              storageDirectory: {{TestDirectories.For(applicationId)}}
              createStorageDirectory: true
            {{extraYaml}}
            """, "test-runner.yaml", Environment.GetEnvironmentVariable);

    public static void Produce<K, V>(EmbeddedKafkaBroker broker, KsmlTopicDefinition topic, params (K Key, V Value)[] records) =>
        ProduceRaw(broker, topic.Topic, records.Select(r => (Serialize(r.Key, topic.KeyType), Serialize(r.Value, topic.ValueType))).ToArray());

    public static void ProduceRaw(EmbeddedKafkaBroker broker, string topic, params (byte[]? Key, byte[]? Value)[] records) =>
        ProduceRawAt(broker, topic, records.Select(r => (r.Key, r.Value, (DateTime?)null)).ToArray());

    /// <summary>Produces records with the timestamps given (the producer's clock where none is).</summary>
    public static void ProduceAt<K, V>(EmbeddedKafkaBroker broker, KsmlTopicDefinition topic, params (K Key, V Value, DateTime At)[] records) =>
        ProduceRawAt(broker, topic.Topic, records.Select(r => (Serialize(r.Key, topic.KeyType), Serialize(r.Value, topic.ValueType), (DateTime?)r.At)).ToArray());

    private static void ProduceRawAt(EmbeddedKafkaBroker broker, string topic, (byte[]? Key, byte[]? Value, DateTime? At)[] records)
    {
        // Keys are hashed as Java's producers (and the application's) hash them, so a key lands where a KSML application expects it.
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, Acks = Acks.All, Partitioner = Partitioner.Murmur2Random }).Build();
        foreach (var (key, value, at) in records)
            producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Timestamp = at is { } t ? new Timestamp(t) : Timestamp.Default });
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    private static byte[]? Serialize<T>(T value, KsmlDataType type) =>
        value is null ? null : KsmlSerdes.For<T>(type).Serialize(value, new SerializationContext(MessageComponentType.Value, ""));

    /// <summary>Reads records from the start of <paramref name="topic"/> until <paramref name="count"/> arrived or the time is up.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadRaw(EmbeddedKafkaBroker broker, string topic, int count, TimeSpan? timeout = null, bool readCommitted = false) =>
        ReadRawUntil(broker, topic, records => records.Count >= count, timeout, readCommitted);

    /// <summary>Reads records from the start of <paramref name="topic"/> until <paramref name="done"/> holds for what arrived or the time is up.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadRawUntil(EmbeddedKafkaBroker broker, string topic, Func<List<ConsumeResult<byte[]?, byte[]?>>, bool> done, TimeSpan? timeout = null, bool readCommitted = false)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "verifier-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            IsolationLevel = readCommitted ? IsolationLevel.ReadCommitted : IsolationLevel.ReadUncommitted,
        }).Build();
        consumer.Subscribe(topic);
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!done(records) && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
                records.Add(record);
        consumer.Close();
        return records;
    }

    public static List<(K Key, V Value)> Read<K, V>(EmbeddedKafkaBroker broker, KsmlTopicDefinition topic, int count, TimeSpan? timeout = null, bool readCommitted = false) =>
        ReadRaw(broker, topic.Topic, count, timeout, readCommitted)
            .Select(r => (Deserialize<K>(r.Message.Key, topic.KeyType), Deserialize<V>(r.Message.Value, topic.ValueType))).ToList();

    /// <summary>Reads decoded records until <paramref name="done"/> holds for what arrived or the time is up.</summary>
    public static List<(K Key, V Value)> ReadUntil<K, V>(EmbeddedKafkaBroker broker, KsmlTopicDefinition topic, Func<List<(K Key, V Value)>, bool> done, TimeSpan? timeout = null)
    {
        var decoded = new List<(K Key, V Value)>();
        ReadRawUntil(broker, topic.Topic, raw =>
        {
            for (var i = decoded.Count; i < raw.Count; i++)
                decoded.Add((Deserialize<K>(raw[i].Message.Key, topic.KeyType), Deserialize<V>(raw[i].Message.Value, topic.ValueType)));
            return done(decoded);
        }, timeout);
        return decoded;
    }

    private static T Deserialize<T>(byte[]? bytes, KsmlDataType type) =>
        KsmlSerdes.For<T>(type).Deserialize(bytes!, new SerializationContext(MessageComponentType.Value, ""));

    public static string Header(ConsumeResult<byte[]?, byte[]?> record, string key) =>
        record.Message.Headers.TryGetLastBytes(key, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : "";

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("Timed out waiting until " + what);
            await Task.Delay(100);
        }
    }
}
