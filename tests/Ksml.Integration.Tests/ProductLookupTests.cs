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
}
