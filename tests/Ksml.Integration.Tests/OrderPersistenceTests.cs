using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = OrderPersistence.OrderPersistenceKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The OrderPersistence example against the real PostgreSQL server: psycopg2 transactions and Npgsql through clr.</summary>
[TestFixture, NonParallelizable]
public sealed class OrderPersistenceTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void Start()
    {
        _ = Postgres.ConnectionString;
        Postgres.Execute("DROP TABLE IF EXISTS order_lines, order_audit, order_archive, orders");
        Postgres.Execute(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schema.sql")));
        _broker = EmbeddedKafkaBroker.Start();
    }

    [TearDown]
    public void Stop() => _broker.Dispose();

    [Test]
    public async Task Orders_and_their_lines_are_written_in_one_transaction_once_each_and_audited_through_npgsql()
    {
        await using var app = await KsmlHost.StartAsync([new OrderPersistence.OrderPersistenceKsml()],
            Kafka.Options("persist-" + Guid.NewGuid().ToString("N")[..8], "  enableProducers: false"), Kafka.Logs, _broker);
        var hostile = "c1'); DROP TABLE orders; --";
        JsonNode? Order(string id, string customer, params (string Sku, int Quantity)[] lines) => new JsonObject
        {
            ["id"] = id,
            ["customer"] = customer,
            ["lines"] = new JsonArray(lines.Select(l => (JsonNode?)new JsonObject { ["sku"] = l.Sku, ["quantity"] = l.Quantity, ["price"] = 2.5 }).ToArray()),
        };

        Kafka.Produce(_broker, Topics.orders_to_persist,
            ("o1", Order("o1", "c1", ("p1", 2), ("p2", 1))),
            ("o2", Order("o2", hostile, ("p3", 4))),
            ("o1", Order("o1", "c1", ("p1", 2), ("p2", 1))));
        var persisted = Kafka.Read<string, JsonNode>(_broker, Topics.persisted_orders, 3);

        Assert.That(persisted.Select(r => r.Value!["total"]!.GetValue<double>()), Is.EqualTo(new[] { 7.5, 10.0, 7.5 }));
        Assert.That(Postgres.Scalar("SELECT count(*) FROM orders"), Is.EqualTo(2L), "the re-delivered o1 is written once");
        Assert.That(Postgres.Scalar("SELECT count(*) FROM order_lines WHERE order_id = 'o1'"), Is.EqualTo(2L));
        Assert.That(Postgres.Scalar("SELECT customer FROM orders WHERE id = 'o2'"), Is.EqualTo(hostile), "stored as data, not run as SQL");
        Assert.That(Postgres.Scalar("SELECT count(*) FROM order_audit"), Is.EqualTo(2L), "the Npgsql path wrote its rows");
        Assert.That(Postgres.Scalar("SELECT total FROM order_audit WHERE order_id = 'o2'"), Is.EqualTo(10.00m));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((long)Postgres.Scalar("SELECT count(*) FROM order_archive")! < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.That(Postgres.Scalar("SELECT string_agg(order_id, ',' ORDER BY kafka_offset) FROM order_archive"), Is.EqualTo("o1,o2,o1"),
            "each persisted record archived once, in a batch");
    }
}
