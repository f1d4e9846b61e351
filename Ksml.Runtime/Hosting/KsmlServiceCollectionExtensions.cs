using Ksml.Runtime.Kafka;
using Ksml.Runtime.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary>What <see cref="KsmlServiceCollectionExtensions.AddKsml"/> runs, and with which settings.</summary>
public sealed class KsmlHostingOptions
{
    /// <summary>The definitions to run, usually the generated <c>KsmlDefinitions.All</c>.</summary>
    public IReadOnlyList<IKsmlDefinition> Definitions { get; set; } = [];

    /// <summary>
    /// KSML's runner file, if any (relative to the content root). The host's configuration section <c>Ksml</c> is laid
    /// over it as overrides, in the runner file's own shape: <c>Ksml:kafka:bootstrap.servers</c>,
    /// <c>Ksml:ksml:errorHandling:process:handler</c>, so settings come from appsettings.json, the environment
    /// (<c>Ksml__kafka__bootstrap.servers</c>) or the command line as in any .NET host.
    /// </summary>
    public string? RunnerFile { get; set; }

    /// <summary>An embedded broker to run on instead of the configured cluster (tests share one).</summary>
    public EmbeddedKafkaBroker? Broker { get; set; }
}

/// <summary>A KSML application on the .NET Generic Host: <c>builder.Services.AddKsml(o => o.Definitions = KsmlDefinitions.All)</c>.</summary>
public static class KsmlServiceCollectionExtensions
{
    /// <summary>
    /// Runs the definitions as a hosted service with the host's configuration, logging and shutdown, and adds a health
    /// check (<c>ksml</c>, tagged <c>ready</c>) that is healthy while the streams run. When the application stops on a
    /// failure (an error policy's stop), the host stops too, with exit code 1.
    /// </summary>
    public static IServiceCollection AddKsml(this IServiceCollection services, Action<KsmlHostingOptions> configure)
    {
        services.Configure(configure);
        services.AddSingleton<KsmlHostedService>();
        services.AddHostedService(provider => provider.GetRequiredService<KsmlHostedService>());
        services.AddHealthChecks().AddCheck<KsmlHealthCheck>("ksml", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Serves KSML's endpoints (<c>/live</c>, <c>/ready</c>, <c>/startup</c>, <c>/state/…</c>, <c>/metrics</c>) from the
    /// ASP.NET Core application beside its own, instead of a listener of their own.
    /// </summary>
    public static IEndpointRouteBuilder MapKsml(this IEndpointRouteBuilder endpoints, bool health = true, bool metrics = true)
    {
        var service = endpoints.ServiceProvider.GetRequiredService<KsmlHostedService>();
        if (metrics)
        {
            KsmlHttpEndpoints.StartMeterAdapter();
            service.ServesMetrics = true;
        }
        endpoints.MapKsmlEndpoints(health, metrics, new KsmlEndpointSources(
            () => service.Host?.IsReady ?? false,
            () => service.Host is not null,
            (path, page) => service.Host is { } host ? host.EndpointSources.State(path, page) : new KsmlStateAnswer(503, new System.Text.Json.Nodes.JsonObject { ["error"] = "the application is starting" }),
            service.Host?.Options.ApplicationServer.StateToken)
        {
            Topology = format => service.Host?.EndpointSources.Topology?.Invoke(format) ?? "the application is starting\n",
        });
        return endpoints;
    }
}

/// <summary>The KSML application as an <see cref="IHostedService"/>.</summary>
public sealed class KsmlHostedService(Microsoft.Extensions.Options.IOptions<KsmlHostingOptions> options, IConfiguration configuration, IHostEnvironment environment,
    ILoggerFactory loggers, IHostApplicationLifetime lifetime) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger("ksml");

    /// <summary>The running application, once started.</summary>
    public KsmlHost? Host { get; private set; }

    /// <summary>Whether the ASP.NET Core application serves <c>/metrics</c> (<see cref="KsmlServiceCollectionExtensions.MapKsml"/>).</summary>
    internal bool ServesMetrics { get; set; }

    /// <summary>The runner file (if any) with the <c>Ksml</c> configuration section laid over it.</summary>
    internal KsmlRunnerOptions RunnerOptions()
    {
        var file = options.Value.RunnerFile is { } path ? Path.Combine(environment.ContentRootPath, path) : null;
        if (file is not null && !File.Exists(file))
            throw new KsmlConfigException($"the runner file {file} (KsmlHostingOptions.RunnerFile, relative to the content root) does not exist");
        var text = file is not null ? File.ReadAllText(file) : "";
        var overrides = configuration.GetSection("Ksml").AsEnumerable(makePathsRelative: true)
            .Where(p => p.Value is not null)
            .Select(p => p.Key.Replace(':', '.') + "=" + p.Value);
        return KsmlRunnerConfig.Parse(text, file ?? "the Ksml configuration section", Environment.GetEnvironmentVariable, overrides);
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Host = await KsmlHost.StartAsync(options.Value.Definitions, RunnerOptions(), loggers, options.Value.Broker, cancellationToken).ConfigureAwait(false);
        if (ServesMetrics)
            KsmlCompatibleMetrics.Application(Host.Options.ApplicationId);
        // A stop on a failure (stopOnFail, a registry outage) ends the whole host, as it ends a KSML runner.
        _ = Host.Failed.ContinueWith(_ =>
        {
            _logger.LogCritical("The KSML application stopped on a failure; the host stops");
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Host is { } host)
            await host.DisposeAsync().ConfigureAwait(false);
        Host = null;
        // The host disposes its logger factory after this; Streamiz must not keep logging to it.
        StreamizLogging.Release(loggers);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}

/// <summary>Healthy while the KSML application's streams run; unhealthy while they start, rebalance or after a stop.</summary>
public sealed class KsmlHealthCheck(KsmlHostedService service) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) => Task.FromResult(service.Host switch
    {
        null => HealthCheckResult.Unhealthy("not started"),
        { Failed.IsCompleted: true } => HealthCheckResult.Unhealthy("stopped on a failure"),
        { IsReady: true } host => HealthCheckResult.Healthy($"running, state {host.State}"),
        var host => HealthCheckResult.Unhealthy($"not ready, state {host.State}"),
    });
}
