using System.Net;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Topics = HostedGreetings.GreetingsKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The HostedGreetings example's wiring: KSML on the Generic Host inside an ASP.NET Core application.</summary>
[TestFixture, NonParallelizable]
public sealed class HostingTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void StartBroker() => _broker = EmbeddedKafkaBroker.Start();

    [TearDown]
    public void StopBroker() => _broker.Dispose();

    [Test]
    public async Task AddKsml_runs_the_definitions_as_a_hosted_service_with_the_hosts_configuration_health_and_endpoints()
    {
        var port = Loopback.FreePort();
        var applicationId = "hosted-" + Guid.NewGuid().ToString("N")[..8];
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = Path.Combine(TestContext.CurrentContext.TestDirectory) });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        // The runner file's settings, laid over by the host's configuration, as appsettings.json or Ksml__… variables would.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ksml:kafka:application.id"] = applicationId,
            ["Ksml:ksml:storageDirectory"] = TestDirectories.For(applicationId),
            ["Ksml:ksml:createStorageDirectory"] = "true",
        });
        builder.Services.AddKsml(ksml =>
        {
            ksml.Definitions = HostedGreetings.KsmlDefinitions.All;
            ksml.RunnerFile = Path.Combine(AppContext.BaseDirectory, "greetings-runner.yaml"); // as the example gives it
            ksml.Broker = _broker;
        });
        await using var app = builder.Build();
        app.MapHealthChecks("/health");
        app.MapKsml();
        app.MapGet("/", () => "the app's own endpoint");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var service = app.Services.GetRequiredService<KsmlHostedService>();

        await Kafka.Until(() => http.GetAsync("health").Result.StatusCode == HttpStatusCode.OK, "the host's health check says healthy");
        Kafka.Produce(_broker, Topics.names, ("1", " ada lovelace"), ("2", ""));
        var greetings = Kafka.Read<string, string>(_broker, Topics.greetings, 1);

        Assert.Multiple(async () =>
        {
            Assert.That(greetings, Is.EqualTo(new[] { ("1", "Hello, Ada Lovelace!") }));
            Assert.That(service.Host!.Options.ApplicationId, Is.EqualTo(applicationId), "the host's configuration is laid over the runner file");
            Assert.That(service.Host.Options.EnableProducers, Is.False, "what the runner file says stays where the configuration is silent");
            Assert.That(await http.GetStringAsync("health"), Is.EqualTo("Healthy"));
            Assert.That(await http.GetStringAsync(""), Is.EqualTo("the app's own endpoint"));
            Assert.That((await http.GetAsync("ready")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "KSML's endpoints beside the app's");
            Assert.That(await http.GetStringAsync("metrics"), Does.Contain("ksml_records_in").And.Contain($"ksml_app_value{{app_id=\"{applicationId}\""));
        });

        await app.StopAsync();
        Assert.That(service.Host, Is.Null, "the host's shutdown stopped the KSML application");
    }
}
