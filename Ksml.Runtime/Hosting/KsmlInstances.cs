using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// The application servers of every running instance of one application, so that a state query asked of any
/// instance is answered for all of them (Kafka Streams' <c>application.server</c>). Confluent's .NET client cannot
/// put an address into the consumer group's member metadata, so each instance announces its address on an internal
/// topic of the application (<c>{application.id}-ksml-servers</c>): on start, every 30 seconds, and with a tombstone on
/// a clean stop. An address not announced for 90 seconds (a crashed instance) is dropped.
/// </summary>
internal sealed class KsmlInstances : IAsyncDisposable
{
    private static readonly TimeSpan Announcement = TimeSpan.FromSeconds(30), Expiry = TimeSpan.FromSeconds(90);
    private readonly ConcurrentDictionary<string, (string Url, DateTime Seen)> _instances = new(StringComparer.Ordinal);
    private readonly string _topic;
    private readonly string _id = Guid.NewGuid().ToString("N");
    private readonly IProducer<string, string?> _producer;
    private readonly IConsumer<string, string?> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading, _announcing;
    private readonly ILogger _logger;

    private KsmlInstances(string applicationId, string url, IReadOnlyDictionary<string, string> clientConfig, ILogger logger)
    {
        Url = url;
        _logger = logger;
        _topic = applicationId + "-ksml-servers";
        var connection = Kafka.ClientConnection.Settings(clientConfig);
        _producer = new ProducerBuilder<string, string?>(new ProducerConfig(connection) { Acks = Acks.All }).Build();
        // Not in a group: every instance reads every announcement, from the start.
        _consumer = new ConsumerBuilder<string, string?>(new ConsumerConfig(connection)
        {
            GroupId = _topic + "-" + _id,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            AllowAutoCreateTopics = true,
        }).Build();
        _consumer.Assign(new TopicPartitionOffset(_topic, 0, Offset.Beginning));
        _reading = Task.Factory.StartNew(Read, TaskCreationOptions.LongRunning);
        _announcing = Task.Run(Announce);
    }

    /// <summary>This instance's application server, as the others reach it.</summary>
    public string Url { get; }

    /// <summary>Starts announcing <paramref name="url"/> and following the other instances' announcements.</summary>
    public static KsmlInstances Start(string applicationId, string url, IReadOnlyDictionary<string, string> clientConfig, EmbeddedKafkaCreate? createTopic, ILogger logger)
    {
        createTopic?.Invoke(applicationId + "-ksml-servers");
        return new KsmlInstances(applicationId, url, clientConfig, logger);
    }

    /// <summary>Creates a topic on the embedded broker (a cluster creates it on first use, or as its administrators do).</summary>
    public delegate void EmbeddedKafkaCreate(string topic);

    /// <summary>The other instances' application servers, as announced lately.</summary>
    public IReadOnlyList<string> Others() =>
        _instances.Where(i => i.Key != _id && DateTime.UtcNow - i.Value.Seen < Expiry).Select(i => i.Value.Url).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The address the others reach this instance at: <c>application.server</c> if configured, else the bound host (this machine's name for a wildcard).</summary>
    public static string Advertised(KsmlRunnerOptions options)
    {
        if (options.Kafka.TryGetValue("application.server", out var configured) && configured.Length > 0)
            return configured.Contains("://", StringComparison.Ordinal) ? configured.TrimEnd('/') : "http://" + configured;
        var host = options.ApplicationServer.Host is "0.0.0.0" or "::" or "[::]" or "*" or "+" ? System.Net.Dns.GetHostName() : options.ApplicationServer.Host;
        return $"http://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? "[" + host + "]" : host)}:{options.ApplicationServer.Port}";
    }

    private async Task Announce()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _producer.ProduceAsync(_topic, new Message<string, string?> { Key = _id, Value = Url }, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is KafkaException && !_stop.IsCancellationRequested)
            {
                _logger.LogWarning("Could not announce this instance's application server on {Topic}: {Error}", _topic, ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await Task.Delay(Announcement, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Read()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message })
                    continue;
                if (message.Value is null)
                    _instances.TryRemove(message.Key, out _);
                else
                    _instances[message.Key] = (message.Value, message.Timestamp.UtcDateTime > DateTime.UtcNow ? DateTime.UtcNow : message.Timestamp.UtcDateTime);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                // The topic may not exist yet: it is created with the first announcement.
                Thread.Sleep(200);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_reading, _announcing).ConfigureAwait(false);
        try
        {
            // Gone: the others stop asking this instance.
            _producer.Produce(_topic, new Message<string, string?> { Key = _id, Value = null });
            _producer.Flush(TimeSpan.FromSeconds(5));
        }
        catch (KafkaException)
        {
        }
        _producer.Dispose();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
