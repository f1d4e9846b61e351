using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace Ksml.Runtime.ErrorHandling;

/// <summary>Where dead letters are written: a Kafka producer in an application, a list in tests.</summary>
public interface IDeadLetterSink
{
    /// <summary>Writes one record and returns once it is acknowledged, so a skipped record is never lost.</summary>
    void Send(string topic, byte[]? key, byte[]? value, Headers headers);
}

/// <summary>A dead-letter sink producing to the application's cluster with acks from all replicas.</summary>
public sealed class KafkaDeadLetterSink : IDeadLetterSink, IDisposable
{
    private readonly IProducer<byte[]?, byte[]?> _producer;

    /// <summary>Creates a producer from the application's client settings.</summary>
    public KafkaDeadLetterSink(IEnumerable<KeyValuePair<string, string>> clientConfig)
    {
        var config = new ProducerConfig(clientConfig.ToDictionary(p => p.Key, p => p.Value)) { Acks = Acks.All, EnableIdempotence = true };
        _producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
    }

    /// <inheritdoc />
    public void Send(string topic, byte[]? key, byte[]? value, Headers headers) =>
        _producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers }).GetAwaiter().GetResult();

    /// <inheritdoc />
    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}

/// <summary>The headers a dead letter carries: what failed, where in the YAML, and where the record came from.</summary>
public static class DeadLetterHeaders
{
    /// <summary>consume, process or produce.</summary>
    public const string Stage = "ksml.error.stage";
    /// <summary>The exception type (Python's, for Python errors).</summary>
    public const string Type = "ksml.error.type";
    /// <summary>The error message.</summary>
    public const string Message = "ksml.error.message";
    /// <summary>The KSML file.</summary>
    public const string File = "ksml.error.file";
    /// <summary>The YAML line.</summary>
    public const string Line = "ksml.error.line";
    /// <summary>The KSML function.</summary>
    public const string Function = "ksml.error.function";
    /// <summary>The pipeline step (processor name).</summary>
    public const string Step = "ksml.error.step";
    /// <summary>The topic the record was read from.</summary>
    public const string SourceTopic = "ksml.source.topic";
    /// <summary>Its partition.</summary>
    public const string SourcePartition = "ksml.source.partition";
    /// <summary>Its offset.</summary>
    public const string SourceOffset = "ksml.source.offset";

    internal static void Add(Headers headers, string key, object? value)
    {
        if (value is null)
            return;
        headers.Add(key, Encoding.UTF8.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
    }
}
