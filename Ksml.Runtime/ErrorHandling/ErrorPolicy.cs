namespace Ksml.Runtime.ErrorHandling;

/// <summary>What happens to a record after a failure, KSML's <c>handler</c>.</summary>
public enum ErrorHandlerKind
{
    /// <summary><c>stopOnFail</c>: the application stops; the record is neither committed nor lost.</summary>
    StopOnFail,

    /// <summary><c>continueOnFail</c>: the record is logged (and dead-lettered, if a topic is set) and skipped.</summary>
    ContinueOnFail,

    /// <summary><c>retryOnFail</c>: the step is retried with exponential backoff; when retries run out, the record is dead-lettered or the application stops.</summary>
    RetryOnFail,
}

/// <summary>The error policy of one stage (consume, process or produce), as in KSML's runner file plus retries and dead letters.</summary>
public sealed record ErrorPolicy
{
    /// <summary>The handler.</summary>
    public ErrorHandlerKind Handler { get; init; } = ErrorHandlerKind.StopOnFail;

    /// <summary>Whether failures are logged.</summary>
    public bool Log { get; init; } = true;

    /// <summary>Whether the log line includes the record's key and value.</summary>
    public bool LogPayload { get; init; }

    /// <summary>The logger category failures are written to.</summary>
    public string? LoggerName { get; init; }

    /// <summary>Retries for <see cref="ErrorHandlerKind.RetryOnFail"/>.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry's delay; each next one doubles, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between retries.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where failed records go, with headers naming the error; null for none.</summary>
    public string? DeadLetterTopic { get; init; }
}

/// <summary>The policies of the three stages a record passes.</summary>
public sealed record ErrorHandlingOptions
{
    /// <summary>Records that cannot be deserialized. Default: stop, without the payload in the log, as KSML and Kafka Streams do.</summary>
    public ErrorPolicy Consume { get; init; } = new();

    /// <summary>Failures in functions and operations. Default: stop.</summary>
    public ErrorPolicy Process { get; init; } = new();

    /// <summary>Records that cannot be produced. Default: stop.</summary>
    public ErrorPolicy Produce { get; init; } = new();

    /// <summary>
    /// Functions whose open circuit breaker would skip records with nothing but a log line: no fallback answers
    /// for it, and the process policy continues without a dead-letter topic. Each is worth a warning at start.
    /// </summary>
    public IEnumerable<string> SilentBreakerWarnings(IEnumerable<Definitions.KsmlFunctionDefinition> functions)
    {
        if (Process.Handler == ErrorHandlerKind.StopOnFail || Process.DeadLetterTopic is not null)
            yield break;
        foreach (var function in functions)
            if (function.Resilience?.CircuitBreaker is { Fallback: null } breaker)
                yield return $"{function.SourcePath}:{function.Line}: function '{function.Name}' has a circuit breaker without a fallback, and " +
                    $"ksml.errorHandling.process continues without a deadLetterTopic, so each record of a {breaker.BreakMs} ms break is skipped " +
                    "with a log line only (counted in ksml_resilience_breaker_rejections); declare a fallback or a deadLetterTopic to keep them";
    }
}
