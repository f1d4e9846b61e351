using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The runtime's traces, on System.Diagnostics activities so OpenTelemetry (or any listener) exports them: a span
/// per record a stream reads, continuing the W3C <c>traceparent</c>/<c>tracestate</c> headers it arrived with; a span
/// per KSML function call, store access and dead letter; and the current context written into the same headers of
/// every record the application produces, so systems downstream continue one trace.
/// </summary>
public static class KsmlTracing
{
    /// <summary>The activity source to subscribe to (<c>AddSource("Ksml")</c>).</summary>
    public const string SourceName = "Ksml";

    /// <summary>W3C trace context headers.</summary>
    public const string TraceParent = "traceparent", TraceState = "tracestate";

    /// <summary>The source every KSML span starts from.</summary>
    public static readonly ActivitySource Source = new(SourceName, typeof(KsmlTracing).Assembly.GetName().Version?.ToString());

    /// <summary>The context a record arrived with, from its W3C headers; none (default) when absent or malformed.</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(TraceParent, out var parent) || parent is null)
            return default;
        var state = headers.TryGetLastBytes(TraceState, out var stateBytes) && stateBytes is not null ? Encoding.UTF8.GetString(stateBytes) : null;
        return ActivityContext.TryParse(Encoding.UTF8.GetString(parent), state, isRemote: true, out var context) ? context : default;
    }

    /// <summary>
    /// Writes <paramref name="activity"/>'s context (the current one by default) into <paramref name="headers"/>,
    /// replacing the context a forwarded record arrived with; nothing without an activity.
    /// </summary>
    public static void Inject(Headers headers, Activity? activity = null)
    {
        activity ??= Activity.Current;
        if (activity?.Id is not { } id || activity.IdFormat != ActivityIdFormat.W3C)
            return;
        headers.Remove(TraceParent);
        headers.Remove(TraceState);
        headers.Add(TraceParent, Encoding.UTF8.GetBytes(id));
        if (activity.TraceStateString is { Length: > 0 } state)
            headers.Add(TraceState, Encoding.UTF8.GetBytes(state));
    }

    /// <summary>The current context as W3C headers (what Python's <c>trace.headers()</c> answers); empty without one.</summary>
    public static Dictionary<string, string> CurrentHeaders()
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id } current)
        {
            headers[TraceParent] = id;
            if (current.TraceStateString is { Length: > 0 } state)
                headers[TraceState] = state;
        }
        return headers;
    }

    /// <summary>
    /// Marks <paramref name="activity"/> failed with the error's type: its message may quote a record's contents,
    /// which leave the application only where <c>logPayload</c> allows, and never in a trace.
    /// </summary>
    public static void Fail(Activity? activity, Exception error) =>
        Fail(activity, error is Functions.KsmlFunctionException { ErrorType: { Length: > 0 } type } ? type : error.GetType().Name);

    /// <summary>Marks <paramref name="activity"/> failed with an error of type <paramref name="errorType"/>.</summary>
    public static void Fail(Activity? activity, string errorType)
    {
        if (activity is null)
            return;
        activity.SetStatus(ActivityStatusCode.Error, errorType);
        activity.SetTag("error.type", errorType);
    }
}
