using System.Net;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ksml.Runtime.Observability;

/// <summary>
/// The application's HTTP endpoints: KSML's application server (<c>/live</c>, <c>/ready</c> and
/// <c>/startup</c> for orchestrators, <c>/state/…</c> for the state stores) and <c>/metrics</c> in
/// Prometheus text format (the runtime's System.Diagnostics.Metrics instruments, published through
/// prometheus-net's meter adapter).
/// </summary>
public sealed class KsmlHttpEndpoints : IAsyncDisposable
{
    private static readonly object AdapterLock = new();
    private static bool _adapterStarted;

    private readonly HttpListener _listener = new();
    private readonly Func<bool> _ready;
    private readonly Func<bool> _started;
    private readonly Func<string, (int Status, System.Text.Json.Nodes.JsonNode? Body)> _state;
    private readonly bool _metrics;
    private readonly bool _health;
    private readonly ILogger _logger;
    private readonly Task _serving;
    private volatile bool _stopping;

    private KsmlHttpEndpoints(string prefix, bool health, bool metrics, Func<bool> ready, Func<bool> started,
        Func<string, (int, System.Text.Json.Nodes.JsonNode?)> state, ILogger logger)
    {
        _health = health;
        _metrics = metrics;
        _ready = ready;
        _started = started;
        _state = state;
        _logger = logger;
        _listener.Prefixes.Add(prefix);
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The address served, such as <c>http://127.0.0.1:8080/</c>.</summary>
    public string Prefix => _listener.Prefixes.Single();

    /// <summary>
    /// Starts serving on <paramref name="host"/>:<paramref name="port"/>. <paramref name="started"/> answers
    /// <c>/startup</c> (true once the application has started); <paramref name="state"/> answers a <c>/state/…</c> path.
    /// </summary>
    public static KsmlHttpEndpoints Start(string host, int port, bool health, bool metrics, Func<bool> ready, Func<bool> started,
        Func<string, (int Status, System.Text.Json.Nodes.JsonNode? Body)> state, ILogger logger)
    {
        if (metrics)
            lock (AdapterLock)
                if (!_adapterStarted)
                {
                    // Published as ksml_<instrument>, e.g. ksml_records_in; kept for the process.
                    MeterAdapter.StartListening(new MeterAdapterOptions { InstrumentFilterPredicate = instrument => instrument.Meter.Name == KsmlMetrics.MeterName });
                    _adapterStarted = true;
                }
        return new KsmlHttpEndpoints($"http://{host}:{port}/", health, metrics, ready, started, state, logger);
    }

    private async Task ServeAsync()
    {
        while (!_stopping)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stopping)
            {
                // Closing the listener ends the pending accept with ObjectDisposedException or HttpListenerException.
                return;
            }
            catch (HttpListenerException ex)
            {
                _logger.LogWarning(ex, "HTTP endpoint failed to accept a request");
                continue;
            }
            _ = Task.Run(() => RespondAsync(context));
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url?.AbsolutePath ?? "";
            switch (path)
            {
                case "/live" when _health:
                    await Text(response, 200, "live\n").ConfigureAwait(false);
                    break;
                case "/startup" when _health:
                    // As KSML answers it: no content once started, a server error until then.
                    response.StatusCode = _started() ? 204 : 500;
                    break;
                case not null when _health && path.StartsWith("/state/", StringComparison.Ordinal):
                    var (status, body) = _state(path);
                    response.StatusCode = status;
                    response.ContentType = "application/json; charset=utf-8";
                    await response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body?.ToJsonString(Readable) ?? "null")).ConfigureAwait(false);
                    break;
                case "/ready" when _health:
                    var ready = _ready();
                    await Text(response, ready ? 200 : 503, ready ? "ready\n" : "not ready\n").ConfigureAwait(false);
                    break;
                case "/metrics" when _metrics:
                    response.StatusCode = 200;
                    response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(response.OutputStream).ConfigureAwait(false);
                    break;
                default:
                    await Text(response, 404, "not found\n").ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "HTTP endpoint failed to answer {Path}", context.Request.Url?.AbsolutePath);
        }
        finally
        {
            response.Close();
        }
    }

    // Store names and keys as written ('it''s', é), not \u-escaped: an HTTP body, not HTML.
    private static readonly System.Text.Json.JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static async Task Text(HttpListenerResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _listener.Stop();
        _listener.Close();
        await _serving.ConfigureAwait(false);
    }
}
