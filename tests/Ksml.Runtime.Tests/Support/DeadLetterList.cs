using Ksml.Runtime.ErrorHandling;

namespace Ksml.Runtime.Tests.Support;

/// <summary>A dead-letter sink that keeps what it is sent, headers as text, for tests to read.</summary>
public sealed class DeadLetterList : IDeadLetterSink
{
    public List<(string Topic, Dictionary<string, string> Headers)> Sent { get; } = [];

    public void Send(string topic, byte[]? key, byte[]? value, Confluent.Kafka.Headers headers) =>
        Sent.Add((topic, headers.ToDictionary(h => h.Key, h => System.Text.Encoding.UTF8.GetString(h.GetValueBytes()))));
}
