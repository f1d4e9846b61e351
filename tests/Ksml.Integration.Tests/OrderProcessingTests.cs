using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ksml.Integration.Tests.Support;

namespace Ksml.Integration.Tests;

/// <summary>
/// The tutorial's multi-system order flow as its example runs it: PostgreSQL catalogue, simulated
/// payment and inventory services, shipment notifications to a REST endpoint, every order accounted for.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class OrderProcessingTests
{
    private static string Root => typeof(OrderProcessingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    private static string ExampleDll => Path.GetFullPath(Path.Combine(Root, "examples", "OrderProcessing", "bin",
        typeof(OrderProcessingTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration, "net10.0", "OrderProcessing.dll"));

    [Test]
    public async Task Every_order_is_accounted_for_and_every_shipment_is_notified()
    {
        Postgres.Execute("DROP TABLE IF EXISTS catalogue_products");
        Postgres.Execute(File.ReadAllText(Path.Combine(Root, "examples", "OrderProcessing", "catalogue.sql")));
        using var notifications = new NotificationEndpoint("token-" + Guid.NewGuid().ToString("N"));

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { ExampleDll, "--orders", "80", "--timeout", "90" })
            start.ArgumentList.Add(argument);
        start.Environment["KSML_POSTGRES_DSN"] = Postgres.ConnectionString;
        start.Environment["NOTIFICATION_API_URL"] = notifications.Url;
        start.Environment["NOTIFICATION_API_TOKEN"] = notifications.Token;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        var output = await stdout + await stderr;

        var summary = Regex.Match(output, @"orders: (\d+) in, (\d+) ready_for_shipment, (\d+) payment_failed, (\d+) inventory_failed, (\d+) invalid, (\d+) lost");
        Assert.That(summary.Success, output);
        int Group(int i) => int.Parse(summary.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(process.ExitCode, Is.Zero, output);
        Assert.That(Group(1), Is.EqualTo(80));
        Assert.That(Group(6), Is.Zero, "no order lost");
        Assert.That(Group(2) + Group(3) + Group(4) + Group(5), Is.EqualTo(80));
        Assert.That(Group(2), Is.GreaterThan(0));
        Assert.That(Group(5), Is.GreaterThan(0), "the generator includes invalid orders");
        Assert.That(notifications.Orders, Has.Count.EqualTo(Group(2)), "one shipment notification per order ready for shipment");
    }

    /// <summary>The shipment-notification REST endpoint, recording what it receives.</summary>
    private sealed class NotificationEndpoint : IDisposable
    {
        private readonly HttpListener _listener = new();

        public NotificationEndpoint(string token)
        {
            Token = token;
            Url = Loopback.HttpUrl();
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch { return; }
                    var authorized = context.Request.Headers["Authorization"] == "Bearer " + Token;
                    if (authorized && context.Request.HttpMethod == "POST" && context.Request.Url!.AbsolutePath == "/api/v1/shipment")
                    {
                        var body = JsonNode.Parse(await new StreamReader(context.Request.InputStream).ReadToEndAsync())!;
                        Orders[body["order_id"]!.GetValue<string>()] = true;
                        context.Response.StatusCode = 202;
                    }
                    else
                        context.Response.StatusCode = authorized ? 404 : 401;
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public string Token { get; }

        public ConcurrentDictionary<string, bool> Orders { get; } = new();

        public void Dispose() => _listener.Close();
    }
}
