using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.ErrorHandling;

/// <summary>
/// Applies the error policies: around every function call of every operation (process), and as
/// Streamiz's deserialization, production and processing exception handlers (consume, produce).
/// Every record either gets through, is dead-lettered or logged and skipped as configured, or
/// stops the application.
/// </summary>
public sealed class KsmlErrorHandler
{
    private readonly ILoggerFactory _loggers;
    private readonly IDeadLetterSink? _deadLetters;
    // Null without retries: a record's step then runs as a plain call, not through an empty Polly pipeline.
    private readonly ResiliencePipeline? _processRetry;

    /// <summary>Creates the handler; <paramref name="deadLetters"/> is required when a policy names a dead-letter topic.</summary>
    public KsmlErrorHandler(ErrorHandlingOptions options, ILoggerFactory loggers, IDeadLetterSink? deadLetters)
    {
        Options = options;
        _loggers = loggers;
        _deadLetters = deadLetters;
        foreach (var (stage, policy) in new[] { ("consume", options.Consume), ("process", options.Process), ("produce", options.Produce) })
            if (policy.DeadLetterTopic is not null && deadLetters is null)
                throw new ArgumentException($"errorHandling.{stage}.deadLetterTopic is set but no dead-letter producer is available.");
        var process = options.Process;
        _processRetry = process.Handler == ErrorHandlerKind.RetryOnFail && process.MaxRetries > 0
            ? new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = process.MaxRetries,
                Delay = process.InitialBackoff,
                MaxDelay = process.MaxBackoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not KsmlStopException),
                OnRetry = args =>
                {
                    Logger(process, "process").LogWarning("Retry {Attempt} of {Max} after {Delay} ms: {Error}",
                        args.AttemptNumber + 1, process.MaxRetries, (long)args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message);
                    return default;
                },
            }).Build()
            : null;
    }

    /// <summary>The policies in force.</summary>
    public ErrorHandlingOptions Options { get; }

    /// <summary>
    /// Raised on the failing thread when a policy says stop, before the stop unwinds it. The host stops the
    /// whole application then, as KSML's SHUTDOWN_CLIENT does: Streamiz ends only the failing stream thread.
    /// </summary>
    public event Action<KsmlStopException>? Stopping;

    /// <summary>Narrowed by every stop before the stream thread closes and commits (see <see cref="Kafka.CommitGate"/>).</summary>
    public Kafka.CommitGate Commits { get; } = new();

    private KsmlStopException Stop(KsmlStopException stop)
    {
        Commits.AbortTransactions();
        Stopping?.Invoke(stop);
        return stop;
    }

    /// <summary>
    /// Writes a dead letter. One that cannot be written stops the application instead, so the record is
    /// neither lost nor committed: a restart handles it again.
    /// </summary>
    private bool TryDeadLetter(string topic, byte[]? key, byte[]? value, Headers headers, string what, out KsmlStopException stop)
    {
        // The dead letter is a span of the record's trace, and carries it, so whoever replays it continues that trace.
        // Outside a record's span (a record that could not be read) the trace is the one its own headers carry.
        using var span = KsmlTracing.Source.StartActivity("dead letter " + topic, System.Diagnostics.ActivityKind.Producer,
            System.Diagnostics.Activity.Current is null ? KsmlTracing.Extract(headers) : default);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "kafka");
            span.SetTag("messaging.operation.type", "send");
            span.SetTag("messaging.destination.name", topic);
            span.SetTag("ksml.dead_letter.for", what);
        }
        if (span is not null)
            KsmlTracing.Inject(headers, span);
        try
        {
            _deadLetters!.Send(topic, key, value, headers);
            stop = null!;
            return true;
        }
        catch (Exception ex) when (ex is KafkaException or InvalidOperationException or ObjectDisposedException)
        {
            KsmlTracing.Fail(span, ex);
            stop = Stop(new KsmlStopException($"Stopping: the dead letter for {what} could not be written to {topic}: {ex.Message}", ex, showsCause: false));
            return false;
        }
    }

    private static readonly Counter<long> FailedRecords = KsmlMetrics.Meter.CreateCounter<long>("records.failed", null, "Records an error policy handled, by stage, step and outcome");

    /// <summary>
    /// Runs one step of one record under the process policy. False means the policy handled a
    /// failure (logged, dead-lettered) and the caller must skip the record: Streamiz cannot skip it
    /// for us, since its CONTINUE re-joins the group and processes the same record again.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public bool TryProcess<K, V, T>(string step, KsmlFunctionDefinition? function, K key, V value, SourceRecord? source, Func<T> body, out T result) =>
        TryProcess(step, function, key, value, source, body, static body => body(), out result);

    /// <summary>
    /// <see cref="TryProcess{K,V,T}(string,KsmlFunctionDefinition?,K,V,SourceRecord?,Func{T},out T)"/> with the step's
    /// state passed in rather than captured, so that a record's call allocates no closure.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public bool TryProcess<K, V, TState, T>(string step, KsmlFunctionDefinition? function, K key, V value, SourceRecord? source, TState state, Func<TState, T> body, out T result)
    {
        try
        {
            result = _processRetry is null ? body(state) : _processRetry.Execute(body, state);
            return true;
        }
        catch (Exception ex) when (ex is not KsmlStopException)
        {
            Handle(ex, step, function, [(key, value, source ?? SourceRecord.Current())]);
            result = default!;
            return false;
        }
    }

    /// <summary>
    /// Runs one step of a batch of records (a <c>batch:</c> function's one call) under the process policy: it is
    /// retried as a whole; a failure is logged once and each record is dead-lettered with its own coordinates.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public bool TryProcessBatch<K, V, T>(string step, KsmlFunctionDefinition? function, IReadOnlyList<(K Key, V Value, SourceRecord? Source)> records, Func<T> body, out T result)
    {
        try
        {
            result = _processRetry is null ? body() : _processRetry.Execute(body);
            return true;
        }
        catch (Exception ex) when (ex is not KsmlStopException)
        {
            Handle(ex, step, function, records);
            result = default!;
            return false;
        }
    }

    private void Handle<K, V>(Exception ex, string step, KsmlFunctionDefinition? function, IReadOnlyList<(K Key, V Value, SourceRecord? Source)> records)
    {
        var policy = Options.Process;
        var located = Locate(ex, function, policy.LogPayload);
        var (key, value, source) = records[0];
        if (policy.Log)
            Logger(policy, "process").LogError(policy.LogPayload ? ex : null,
                "Processing failed in step {Step} at {File}:{Line} (function {Function}): {Error}{Payload}{Source}{Traceback}",
                step, located.File, located.Line, located.Function, located.Message,
                policy.LogPayload && records.Count == 1 ? $"; key={KsmlValues.DescribeValue(key)} value={KsmlValues.DescribeValue(value)}" : "",
                source is { } from ? $"; from {from.Topic}[{from.Partition}]@{from.Offset}" + (records.Count > 1 ? $" and the {records.Count - 1} records after it in its batch" : "") : "",
                !policy.LogPayload && Payloads.TracebackOf(ex, false) is { } traceback ? Environment.NewLine + traceback : "");
        if (policy.DeadLetterTopic is { } topic)
            foreach (var record in records)
            {
                var headers = Headers("process", located, step);
                if (record.Source is { } at)
                {
                    DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourceTopic, at.Topic);
                    DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourcePartition, at.Partition);
                    DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourceOffset, at.Offset);
                }
                if (!TryDeadLetter(topic, Serialize(record.Key), Serialize(record.Value), headers, $"step {step}", out var stop))
                    throw stop;
            }
        if (policy.Handler == ErrorHandlerKind.StopOnFail || (policy.Handler == ErrorHandlerKind.RetryOnFail && policy.DeadLetterTopic is null))
        {
            Count("process", step, "stopped");
            throw Stop(new KsmlStopException($"Stopping: step {step} at {located.File}:{located.Line} failed: {located.Message}", ex, showsCause: policy.LogPayload));
        }
        Count("process", step, policy.DeadLetterTopic is null ? "skipped" : "dead-lettered");
    }

    /// <summary>Streamiz's deserialization handler: the consume policy, with the raw record for the dead letter.</summary>
    public ExceptionHandlerResponse OnDeserializationError(ProcessorContext context, ConsumeResult<byte[], byte[]> record, Exception error)
    {
        var policy = Options.Consume;
        var message = Payloads.MessageOf(error, policy.LogPayload);
        if (Cause<Serdes.SchemaRegistryUnavailableException>(error) is { } registry)
        {
            // Not the record's fault: no policy skips or dead-letters it, it is read again after a restart.
            Count("consume", record.Topic, "stopped");
            Stop(new KsmlStopException($"Stopping: the record at {record.Topic}[{record.Partition.Value}]@{record.Offset.Value} could not be read: {registry.Message}", registry));
            return ExceptionHandlerResponse.FAIL;
        }
        if (policy.Log)
            Logger(policy, "consume").LogError(policy.LogPayload ? error : null, "Could not deserialize the record at {Topic}[{Partition}]@{Offset}: {Error}{Payload}",
                record.Topic, record.Partition.Value, record.Offset.Value, message,
                policy.LogPayload ? $"; key={Describe(record.Message.Key)} value={Describe(record.Message.Value)}" : "");
        if (policy.DeadLetterTopic is { } topic)
        {
            var headers = Headers("consume", new Location(error.GetType().Name, message, null, 0, null), "source");
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourceTopic, record.Topic);
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourcePartition, record.Partition.Value);
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourceOffset, record.Offset.Value);
            if (!TryDeadLetter(topic, record.Message.Key, record.Message.Value, headers, $"the record at {record.Topic}[{record.Partition.Value}]@{record.Offset.Value}", out _))
                return ExceptionHandlerResponse.FAIL;
            Count("consume", record.Topic, "dead-lettered");
            return ExceptionHandlerResponse.CONTINUE;
        }
        // Deserializing again gives the same answer, so retrying is continuing or stopping.
        var outcome = policy.Handler == ErrorHandlerKind.ContinueOnFail ? ExceptionHandlerResponse.CONTINUE : ExceptionHandlerResponse.FAIL;
        Count("consume", record.Topic, outcome == ExceptionHandlerResponse.CONTINUE ? "skipped" : "stopped");
        if (outcome == ExceptionHandlerResponse.FAIL)
            Stop(new KsmlStopException($"Stopping: the record at {record.Topic}[{record.Partition.Value}]@{record.Offset.Value} cannot be deserialized: {message}", error, showsCause: policy.LogPayload));
        return outcome;
    }

    /// <summary>Streamiz's production handler: the produce policy.</summary>
    public ProductionExceptionHandlerResponse OnProductionError(DeliveryReport<byte[], byte[]> report)
    {
        var policy = Options.Produce;
        if (policy.Log)
            Logger(policy, "produce").LogError("Could not produce to {Topic}: {Error}", report.Topic, report.Error.Reason);
        if (policy.DeadLetterTopic is { } topic && topic != report.Topic)
        {
            var headers = new Headers();
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.Stage, "produce");
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.Type, report.Error.Code.ToString());
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.Message, report.Error.Reason);
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.SourceTopic, report.Topic);
            if (!TryDeadLetter(topic, report.Message.Key, report.Message.Value, headers, $"a record for {report.Topic}", out _))
            {
                Commits.Close();
                return ProductionExceptionHandlerResponse.FAIL;
            }
            Count("produce", report.Topic, "dead-lettered");
            return ProductionExceptionHandlerResponse.CONTINUE;
        }
        // retryOnFail has had its retries in the producer (KsmlHost.ProduceRetries): what still fails stops, uncommitted.
        if (policy.Handler == ErrorHandlerKind.ContinueOnFail)
            return ProductionExceptionHandlerResponse.CONTINUE;
        Commits.Close();
        var retried = policy.Handler == ErrorHandlerKind.RetryOnFail ? $" (retryOnFail: resent up to {policy.MaxRetries} times where the error allows a resend)" : "";
        Stop(new KsmlStopException($"Stopping: a record could not be produced to {report.Topic}{retried}: {report.Error.Reason}", new KafkaException(report.Error)));
        return ProductionExceptionHandlerResponse.FAIL;
    }

    /// <summary>
    /// Streamiz's handler for an exception that ends a stream thread: always FAIL, and no commit after it.
    /// Its CONTINUE closes the tasks and re-joins the group, which processes the failed record again, forever;
    /// records are skipped by the operations instead. A policy's stop has set what may still commit; any other
    /// error, such as one Streamiz counts as fatal when producing (a topic authorization failure), reached no
    /// policy and may have left a processed record unwritten, so nothing commits after it.
    /// </summary>
    public ExceptionHandlerResponse OnProcessingError(Exception error)
    {
        if (Cause<KsmlStopException>(error) is null)
            Commits.Close();
        return ExceptionHandlerResponse.FAIL;
    }

    /// <summary>The first <typeparamref name="T"/> in <paramref name="error"/>'s chain of inner exceptions (Streamiz wraps what it catches).</summary>
    private static T? Cause<T>(Exception error) where T : Exception
    {
        for (var e = error; e is not null; e = e.InnerException)
            if (e is T cause)
                return cause;
        return null;
    }

    private sealed record Location(string Type, string Message, string? File, int Line, string? Function);

    private static Location Locate(Exception error, KsmlFunctionDefinition? function, bool logPayload)
    {
        var message = Payloads.MessageOf(error, logPayload);
        if (Cause<KsmlFunctionException>(error) is { } f)
            return new Location(f.ErrorType, message, f.SourcePath, f.Line, f.Function);
        return new Location(error is KsmlTypeException ? "TypeError" : error.GetType().Name, message, function?.SourcePath, function?.Line ?? 0, function?.Name);
    }

    private static Headers Headers(string stage, Location located, string step)
    {
        var headers = new Headers();
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.Stage, stage);
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.Type, located.Type);
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.Message, located.Message);
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.File, located.File);
        if (located.Line > 0)
            DeadLetterHeaders.Add(headers, DeadLetterHeaders.Line, located.Line);
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.Function, located.Function);
        DeadLetterHeaders.Add(headers, DeadLetterHeaders.Step, step);
        return headers;
    }

    private static byte[]? Serialize<T>(T value) =>
        value is null ? null : KsmlSerdes.For<T>(null).Serialize(value, new SerializationContext(MessageComponentType.Value, ""));

    private static string Describe(byte[]? bytes) => bytes is null ? "null" : System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 200)));

    private ILogger Logger(ErrorPolicy policy, string stage) => _loggers.CreateLogger(policy.LoggerName ?? "ksml.errors." + stage);

    private static void Count(string stage, string step, string outcome) =>
        FailedRecords.Add(1, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("step", step), new KeyValuePair<string, object?>("outcome", outcome));
}
