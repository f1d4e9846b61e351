using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = ProductLookup.ProductLookupKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The ProductLookup example against the real PostgreSQL server on loopback.</summary>
[TestFixture, NonParallelizable]
public sealed class ProductLookupTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void Start()
    {
        _ = Postgres.ConnectionString;
        Postgres.Execute("DROP TABLE IF EXISTS products");
        Postgres.Execute("CREATE TABLE products (id text PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL)");
        Postgres.Execute("INSERT INTO products VALUES ('p1', 'Kettle', 20.00), ('p2', 'Teapot', 10.00)");
        _broker = EmbeddedKafkaBroker.Start();
    }

    [TearDown]
    public void Stop() => _broker.Dispose();

    private Task<KsmlHost> StartApp() => KsmlHost.StartAsync([new ProductLookup.ProductLookupKsml()],
        Kafka.Options("lookup-" + Guid.NewGuid().ToString("N")[..8], "  enableProducers: false"), Kafka.Logs, _broker);

    private static (string, JsonNode?) Order(string id, string product, int quantity) =>
        (id, JsonNode.Parse($$"""{"product_id":"{{product}}","quantity":{{quantity}}}"""));

    [Test]
    public async Task Orders_are_enriched_from_the_catalogue_and_a_refresh_brings_in_price_changes_without_a_restart()
    {
        await using var app = await StartApp();
        Kafka.Produce(_broker, Topics.catalog_refresh, ("catalog", "refresh"));
        Kafka.Produce(_broker, Topics.orders, Order("o1", "p1", 2), Order("o2", "p404", 1));

        var first = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 2);
        Assert.That(first.Select(r => (r.Key, r.Value!["status"]!.GetValue<string>())), Is.EqualTo(new[] { ("o1", "enriched"), ("o2", "unknown_product") }));
        Assert.That(first[0].Value!["total"]!.GetValue<double>(), Is.EqualTo(40.0));

        Postgres.Execute("UPDATE products SET price = 25.00 WHERE id = 'p1'");
        Kafka.Produce(_broker, Topics.catalog_refresh, ("catalog", "refresh"));
        await Task.Delay(1000);
        Kafka.Produce(_broker, Topics.orders, Order("o3", "p1", 2));

        var third = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 3).Last();
        Assert.That(third.Value!["total"]!.GetValue<double>(), Is.EqualTo(50.0), "the refreshed price");
        Assert.That(third.Value!["product"]!["name"]!.GetValue<string>(), Is.EqualTo("Kettle"));
    }

    [Test]
    public async Task A_product_missing_from_the_store_is_read_through_and_a_hostile_id_is_never_executed_as_sql()
    {
        await using var app = await StartApp();
        Postgres.Execute("INSERT INTO products VALUES ('p3', 'Mug', 5.00)");
        const string hostile = "x'; DROP TABLE products; --";

        Kafka.Produce(_broker, Topics.orders, Order("o1", "p3", 3), Order("o2", hostile, 1));
        var output = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 2);

        Assert.That(output[0].Value!["total"]!.GetValue<double>(), Is.EqualTo(15.0), "read through without a refresh");
        Assert.That(output[1].Value!["status"]!.GetValue<string>(), Is.EqualTo("unknown_product"));
        Assert.That(Postgres.Scalar("SELECT count(*) FROM products"), Is.EqualTo(3L), "the table is still there");
    }

    [Test]
    public async Task While_postgresql_is_down_orders_are_dead_lettered_and_once_it_is_back_the_catalogue_refreshes_again()
    {
        var options = Kafka.Options("lookup-" + Guid.NewGuid().ToString("N")[..8], """
              enableProducers: false
              errorHandling:
                process:
                  handler: continueOnFail
                  deadLetterTopic: lookup_dead_letters
            """);
        await using var app = await KsmlHost.StartAsync([new ProductLookup.ProductLookupKsml()], options, Kafka.Logs, _broker);
        _broker.CreateTopic("lookup_dead_letters");
        Kafka.Produce(_broker, Topics.catalog_refresh, ("catalog", "refresh"));
        Kafka.Produce(_broker, Topics.orders, Order("o1", "p1", 1));
        Assert.That(Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 1).Single().Value!["status"]!.GetValue<string>(), Is.EqualTo("enriched"));
        await Task.Delay(1500);   // the refresh and the order reach the task from two topics; let both be done
        Postgres.Execute("INSERT INTO products VALUES ('p3', 'Mug', 5.00)");   // after the load: only the database has it

        try
        {
            PgCtl("stop");
            Kafka.Produce(_broker, Topics.orders, Order("o2", "p3", 1));
            // If the catalogue refresh was still queued behind the first order, it fails now too and is dead-lettered as well.
            var dead = Kafka.ReadRaw(_broker, "lookup_dead_letters", 2, TimeSpan.FromSeconds(15));
            var keys = dead.Select(d => System.Text.Encoding.UTF8.GetString(d.Message.Key!)).ToList();
            Assert.That(keys, Does.Contain("o2"), string.Join("; ", dead.Select(d => Kafka.Header(d, Ksml.Runtime.ErrorHandling.DeadLetterHeaders.Message))));
            Assert.That(keys, Is.SubsetOf(new[] { "o2", "catalog" }));
            Assert.That(dead.Select(d => Kafka.Header(d, Ksml.Runtime.ErrorHandling.DeadLetterHeaders.Type)), Has.All.EqualTo("OperationalError"));
        }
        finally
        {
            PgCtl("start");
        }

        Postgres.Execute("UPDATE products SET price = 30.00 WHERE id = 'p1'");
        Kafka.Produce(_broker, Topics.catalog_refresh, ("catalog", "refresh"));
        await Task.Delay(1500);
        Kafka.Produce(_broker, Topics.orders, Order("o3", "p1", 1), Order("o4", "p3", 1));

        var after = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 3).Skip(1).ToList();
        Assert.That(after.Select(r => (r.Key, r.Value!["total"]!.GetValue<double>())), Is.EqualTo(new[] { ("o3", 30.0), ("o4", 5.0) }),
            "after the restart the pool replaced its dead connections");
    }

    private static void PgCtl(string action)
    {
        var version = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", "pg_lsclusters -h | awk 'NR==1 {print $1}'"]) { RedirectStandardOutput = true })!;
        var cluster = version.StandardOutput.ReadToEnd().Trim();
        version.WaitForExit();
        using var control = System.Diagnostics.Process.Start("pg_ctlcluster", [cluster, "main", action, .. action == "start" ? new[] { "-o", "-c listen_addresses=127.0.0.1" } : []])!;
        control.WaitForExit();
        Assert.That(control.ExitCode, Is.Zero, "pg_ctlcluster " + action);
    }
}
