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
/// <param name="State">Answers a <c>/state/…</c> path with a status and a JSON body.</param>
public sealed record KsmlEndpointSources(Func<bool> Ready, Func<bool> Started, Func<string, (int Status, JsonNode? Body)> State);

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

    private static void StartMeterAdapter()
    {
        lock (AdapterLock)
            if (!_adapterStarted)
            {
                // Published as ksml_<instrument>, e.g. ksml_records_in; kept for the process.
                MeterAdapter.StartListening(new MeterAdapterOptions { InstrumentFilterPredicate = instrument => instrument.Meter.Name == KsmlMetrics.MeterName });
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
            endpoints.MapGet("/state/{**path}", (HttpContext context) =>
            {
                var (status, body) = sources.State(context.Request.Path.Value ?? "");
                return Results.Text(body?.ToJsonString(Readable) ?? "null", "application/json; charset=utf-8", statusCode: status);
            });
        }
        if (metrics)
            endpoints.MapGet("/metrics", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
    }

    // Store names and keys as written ('it''s', é), not \u-escaped: an HTTP body, not HTML.
    private static readonly System.Text.Json.JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
