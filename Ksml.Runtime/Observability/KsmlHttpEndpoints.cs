using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ksml.Runtime.Observability;

/// <summary>What the application's HTTP endpoints answer from: readiness, start-up and state-store queries.</summary>
/// <param name="Ready">True while the stream is processing (<c>/ready</c>).</param>
/// <param name="Started">True once the application has started (<c>/startup</c>).</param>
/// <param name="State">Answers a <c>/state/…</c> path, for <c>all</c> one page of it.</param>
/// <param name="StateToken">When set, <c>/state/…</c> answers only requests carrying <c>Authorization: Bearer</c> this token.</param>
/// <param name="PageSize">The most entries one <c>/state/…/all</c> answer holds; a <c>limit</c> asked for is capped at it.</param>
public sealed record KsmlEndpointSources(
    Func<bool> Ready,
    Func<bool> Started,
    Func<string, KsmlStatePage, KsmlStateAnswer> State,
    string? StateToken = null,
    int PageSize = KsmlStatePage.DefaultSize)
{
    /// <summary>The other instances' application servers, which a state query not under <c>/local/</c> asks too.</summary>
    public Func<IReadOnlyList<string>>? Peers { get; init; }

    /// <summary>What <c>/topology</c> answers: the definitions' diagrams, or (<c>streamiz</c>) Streamiz's own description with its node and internal topic names.</summary>
    public Func<string?, string>? Topology { get; init; }
}

/// <summary>Which entries of a store one <c>/state/…/all</c> request reads: <c>?offset=</c> and <c>?limit=</c>.</summary>
/// <param name="Offset">Entries skipped, in the store's order.</param>
/// <param name="Limit">The most entries answered.</param>
public sealed record KsmlStatePage(int Offset, int Limit)
{
    /// <summary>The cursor (<c>?after=</c>): entries after it in key order, the way pages of all instances are read together.</summary>
    public string? After { get; init; }

    /// <summary>The page size when none is configured.</summary>
    public const int DefaultSize = 1000;
}

/// <summary>A <c>/state/…</c> answer.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The JSON body: the entries, the entry, or <c>{"error": …}</c>.</param>
/// <param name="More">For <c>all</c>: entries follow this page, so a <c>Link: rel="next"</c> header is sent.</param>
public sealed record KsmlStateAnswer(int Status, JsonNode? Body, bool More = false);

/// <summary>
/// The application's HTTP endpoints on Kestrel: KSML's application server (<c>/live</c>, <c>/ready</c>
/// and <c>/startup</c> for orchestrators, <c>/state/…</c> for the state stores) and <c>/metrics</c> in
/// Prometheus text format (the runtime's System.Diagnostics.Metrics instruments, published through
/// prometheus-net's meter adapter). Any address binds, <c>0.0.0.0</c> and <c>[::]</c> included, as in
/// a container behind a Kubernetes probe.
/// </summary>
public sealed class KsmlHttpEndpoints : IAsyncDisposable
{
    private static readonly object AdapterLock = new();
    private static bool _adapterStarted;

    private readonly WebApplication _app;

    private KsmlHttpEndpoints(WebApplication app, string address)
    {
        _app = app;
        Prefix = address;
    }

    /// <summary>The address served, such as <c>http://127.0.0.1:8080/</c> (the port actually bound when 0 was asked for).</summary>
    public string Prefix { get; }

    /// <summary>Starts serving on <paramref name="host"/>:<paramref name="port"/> (port 0 picks a free one).</summary>
    public static async Task<KsmlHttpEndpoints> StartAsync(string host, int port, bool health, bool metrics, KsmlEndpointSources sources, ILoggerFactory loggers)
    {
        if (metrics)
            StartMeterAdapter();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "ksml" });
        builder.Services.AddSingleton(loggers);
        builder.Services.AddLogging();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Listen(kestrel, host, port);
        });
        var app = builder.Build();
        app.MapKsmlEndpoints(health, metrics, sources);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new Hosting.KsmlConfigException($"cannot serve HTTP on {host}:{port}: {ex.Message}");
        }
        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return new KsmlHttpEndpoints(app, (bound ?? $"http://{host}:{port}").TrimEnd('/') + "/");
    }

    /// <summary>Binds the address as written: an IP literal (v4, or v6 with or without brackets) as is, a host name on loopback or every interface.</summary>
    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string host, int port)
    {
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(literal, out var address))
            kestrel.Listen(address, port);
        else if (host == "localhost")
            kestrel.ListenLocalhost(port);
        else if (host is "*" or "+")
            kestrel.ListenAnyIP(port);
        else
            kestrel.Listen(Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new Hosting.KsmlConfigException($"cannot serve HTTP on '{host}': the name does not resolve"), port);
    }

    /// <summary>Publishes the runtime's instruments at <c>/metrics</c> (once per process), KSML's own series with them.</summary>
    internal static void StartMeterAdapter()
    {
        lock (AdapterLock)
            if (!_adapterStarted)
            {
                // Published as ksml_<instrument>, e.g. ksml_records_in; kept for the process.
                MeterAdapter.StartListening(new MeterAdapterOptions { InstrumentFilterPredicate = instrument => instrument.Meter.Name == KsmlMetrics.MeterName });
                KsmlCompatibleMetrics.Enable();
                _adapterStarted = true;
            }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(deadline.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>KSML's HTTP endpoints as minimal-API routes, for Ksml.NET's own server or an ASP.NET Core application's.</summary>
public static class KsmlEndpointRoutes
{
    /// <summary>
    /// Maps KSML's endpoints onto <paramref name="endpoints"/>: the health and state paths when
    /// <paramref name="health"/>, <c>/metrics</c> when <paramref name="metrics"/>. An ASP.NET Core application
    /// can serve them beside its own.
    /// </summary>
    public static void MapKsmlEndpoints(this IEndpointRouteBuilder endpoints, bool health, bool metrics, KsmlEndpointSources sources)
    {
        if (health)
        {
            endpoints.MapGet("/live", () => Results.Text("live\n"));
            // As KSML answers it: no content once started, a server error until then.
            endpoints.MapGet("/startup", () => Results.StatusCode(sources.Started() ? 204 : 500));
            endpoints.MapGet("/ready", () => sources.Ready() ? Results.Text("ready\n") : Results.Text("not ready\n", statusCode: 503));
            endpoints.MapGet("/state/{**path}", (Func<HttpContext, Task<IResult>>)(context => KsmlStateFanOut.Answer(context, sources)));
            if (sources.Topology is { } topology)
                endpoints.MapGet("/topology", (string? format) => format == "streamiz"
                    ? Results.Text(topology(format), "text/plain; charset=utf-8")
                    : Results.Text(topology(null), "text/markdown; charset=utf-8"));
        }
        if (metrics)
            endpoints.MapGet("/metrics", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                // KSML's own series after Ksml.NET's, so dashboards built on KSML's runner find theirs.
                var compatible = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
                KsmlCompatibleMetrics.WriteTo(compatible);
                await context.Response.WriteAsync(compatible.ToString(), context.RequestAborted).ConfigureAwait(false);
            });
    }

    /// <summary>This instance's answer to a state query (the path under <c>/local/</c> or not alike).</summary>
    internal static IResult AnswerState(HttpContext context, KsmlEndpointSources sources)
    {
        if (sources.StateToken is { } token && !Authorized(context.Request, token))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ksml\"";
            return Json(new KsmlStateAnswer(401, new JsonObject { ["error"] = "state queries need 'Authorization: Bearer <token>' with this application's token" }));
        }
        if (!TryPage(context.Request.Query, sources.PageSize, out var page, out var problem))
            return Json(new KsmlStateAnswer(400, new JsonObject { ["error"] = problem }));
        var answer = sources.State(context.Request.Path.Value ?? "", page);
        if (answer.More)
            context.Response.Headers.Link = page.After is not null && answer.Body is JsonArray { Count: > 0 } entries
                ? $"<{context.Request.Path}?after={Uri.EscapeDataString(Hosting.KsmlStoreQuery.Cursor(entries[^1]!))}&limit={page.Limit}>; rel=\"next\""
                : $"<{context.Request.Path}?offset={page.Offset + page.Limit}&limit={page.Limit}>; rel=\"next\"";
        return Json(answer);
    }

    /// <summary>Whether the request carries this application's state token, when it has one.</summary>
    internal static bool Allowed(HttpContext context, KsmlEndpointSources sources) => sources.StateToken is not { } token || Authorized(context.Request, token);

    internal static bool TryPage(HttpContext context, KsmlEndpointSources sources, out KsmlStatePage page, out string problem) =>
        TryPage(context.Request.Query, sources.PageSize, out page, out problem);

    internal static IResult Json(KsmlStateAnswer answer) =>
        Results.Text(answer.Body?.ToJsonString(Readable) ?? "null", "application/json; charset=utf-8", statusCode: answer.Status);

    // Compared in constant time, so response timing does not reveal how much of a guess was right.
    private static bool Authorized(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        var offered = System.Text.Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        var expected = System.Text.Encoding.UTF8.GetBytes(token);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(offered, expected);
    }

    private static bool TryPage(IQueryCollection query, int pageSize, out KsmlStatePage page, out string problem)
    {
        page = new KsmlStatePage(0, pageSize);
        problem = "";
        var offset = 0;
        var limit = pageSize;
        if (query.TryGetValue("offset", out var offsetText) && (!int.TryParse(offsetText, out offset) || offset < 0))
        {
            problem = $"offset '{offsetText}' is not a whole number of entries to skip (0 or more)";
            return false;
        }
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, out limit) || limit < 1))
        {
            problem = $"limit '{limitText}' is not a number of entries (1 or more; at most {pageSize} are answered)";
            return false;
        }
        page = new KsmlStatePage(offset, Math.Min(limit, pageSize)) { After = query.TryGetValue("after", out var after) ? after.ToString() : null };
        return true;
    }

    // Store names and keys as written ('it''s', é), not \u-escaped: an HTTP body, not HTML.
    private static readonly System.Text.Json.JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
