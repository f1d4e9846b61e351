using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Streamiz.Kafka.Net.SerDes;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// Runs one KSML producer: every <c>interval</c> it calls the generator <c>batchSize</c> times,
/// drops messages the <c>condition</c> rejects, stops after <c>count</c> batches or when
/// <c>until</c> accepts a message, and writes to the target topic with its declared serdes.
/// </summary>
public sealed class KsmlProducerRunner
{
    private readonly KsmlProducerDefinition _definition;
    private readonly IKsmlFunction _generator;
    private readonly IKsmlFunction? _condition;
    private readonly IKsmlFunction? _until;
    private readonly ILogger _logger;
    private readonly bool _tracing;

    /// <summary>Builds the producer's functions; with <paramref name="tracing"/> each generator call is a trace its messages carry.</summary>
    public KsmlProducerRunner(KsmlProducerDefinition definition, IKsmlFunctionFactory functions, ILoggerFactory loggers, bool tracing = false)
    {
        _definition = definition;
        _tracing = tracing;
        _generator = ResilientFunction.Wrap(functions.Create(definition.Generator), functions);
        _condition = definition.Condition is null ? null : functions.Create(definition.Condition);
        _until = definition.Until is null ? null : functions.Create(definition.Until);
        _logger = loggers.CreateLogger($"ksml.producer.{definition.Name}");
    }

    /// <summary>Messages written so far.</summary>
    public long Produced { get; private set; }

    /// <summary>Generator calls that failed (logged and skipped) so far.</summary>
    public long Failed { get; private set; }

    private static readonly System.Diagnostics.Metrics.Counter<long> Failures =
        Observability.KsmlMetrics.Meter.CreateCounter<long>("producer.failures", null, "Producer messages that failed to be generated or produced, by producer");

    /// <summary>Produces until done or cancelled.</summary>
    public async Task RunAsync(IEnumerable<KeyValuePair<string, string>> clientConfig, CancellationToken cancellation)
    {
        var config = new ProducerConfig(clientConfig.ToDictionary(p => p.Key, p => p.Value)) { EnableIdempotence = true, Acks = Acks.All };
        var keySerde = _definition.Target.KeyType.Serde();
        var valueSerde = _definition.Target.ValueType.Serde();
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        var topic = _definition.Target.Topic;
        // KSML: with neither count nor interval nor until, a producer sends exactly one batch.
        var batches = _definition.Count ?? (_definition.IntervalMs is null && _until is null ? 1 : long.MaxValue);
        var what = $"producer '{_definition.Name}'";
        _logger.LogInformation("Producer {Producer} writes to {Topic}", _definition.Name, topic);
        for (long batch = 0; batch < batches && !cancellation.IsCancellationRequested; batch++)
        {
            for (var i = 0; i < _definition.BatchSize; i++)
            {
                try
                {
                    if (await GenerateAsync(producer, keySerde, valueSerde, what, cancellation).ConfigureAwait(false))
                    {
                        _logger.LogInformation("Producer {Producer} stops: 'until' accepted a message after {Count} messages", _definition.Name, Produced);
                        return;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellation.IsCancellationRequested)
                {
                    // As KSML does: the failed message is logged and the producer goes on with the next one.
                    Failed++;
                    Failures.Add(1, new KeyValuePair<string, object?>("producer", _definition.Name));
                    _logger.LogError("Producer {Producer} could not produce a message ({Failed} failed, {Count} produced so far): {Error}",
                        _definition.Name, Failed, Produced, Payloads.MessageOf(ex, logPayload: false));
                }
            }
            if (_definition.IntervalMs is { } interval && batch + 1 < batches)
                await Task.Delay(TimeSpan.FromMilliseconds(interval), cancellation).ConfigureAwait(false);
        }
        producer.Flush(cancellation);
        _logger.LogInformation("Producer {Producer} finished after {Count} messages", _definition.Name, Produced);
    }

    /// <summary>One call of the generator, its messages filtered, converted and produced; true when 'until' accepted one.</summary>
    private async Task<bool> GenerateAsync(IProducer<byte[]?, byte[]?> producer, ISerDes keySerde, ISerDes valueSerde, string what, CancellationToken cancellation)
    {
        var topic = _definition.Target.Topic;
        // Each generator call starts a trace; its messages carry it, so their readers continue it.
        using var span = _tracing ? Observability.KsmlTracing.Source.StartActivity("generate " + topic, System.Diagnostics.ActivityKind.Producer) : null;
        span?.SetTag("messaging.system", "kafka");
        span?.SetTag("messaging.destination.name", topic);
        span?.SetTag("ksml.producer", _definition.Name);
        foreach (var (key, value) in Messages(_generator.Invoke(null), what))
        {
            if (_condition is not null && !KsmlValues.IsTrue(_condition.Invoke(null, key, value), what + " condition"))
                continue;
            var target = _definition.Target;
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?>
            {
                Key = target.KeyType.Serialize(keySerde, key, new SerializationContext(MessageComponentType.Key, topic), what + " key"),
                Value = target.ValueType.Serialize(valueSerde, value, new SerializationContext(MessageComponentType.Value, topic), what + " value"),
                Headers = span is null ? null : Observability.TracedProducer.WithCurrentContext(null),
            }, cancellation).ConfigureAwait(false);
            Produced++;
            if (_until is not null && KsmlValues.IsTrue(_until.Invoke(null, key, value), what + " until"))
                return true;
        }
        return false;
    }

    /// <summary>A generator returns one (key, value) tuple or a list of them; None produces nothing.</summary>
    private static IEnumerable<(object? Key, object? Value)> Messages(object? generated, string what)
    {
        switch (generated)
        {
            case null:
                yield break;
            case object[] { Length: 2 } pair when pair[0] is not object[]:
                yield return (pair[0], pair[1]);
                break;
            default:
                foreach (var item in KsmlValues.ToList(generated, what))
                {
                    var pair = KsmlValues.ToKeyValue<object?, object?>(item, what);
                    yield return (pair.Key, pair.Value);
                }
                break;
        }
    }
}
