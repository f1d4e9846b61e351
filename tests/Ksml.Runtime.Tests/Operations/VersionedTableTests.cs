using System.Text.Json.Nodes;
using Ksml.Runtime.Tests.Support;
using Topics = Ksml.Runtime.Tests.VersionedTablesKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>versioned-tables.ksml.yaml under TopologyTestDriver: a table kept in a versioned store.</summary>
public sealed class VersionedTableTests
{
    private KsmlDriver _driver = null!;

    [SetUp]
    public void Start() => _driver = new KsmlDriver(new VersionedTablesKsml());

    [TearDown]
    public void Stop() => _driver.Dispose();

    private static DateTime At(long ms) => DateTime.UnixEpoch.AddMilliseconds(ms);

    private void Prices()
    {
        var prices = _driver.Input<string, long>(Topics.prices);
        prices.PipeInput("p1", 10, At(1_000));
        prices.PipeInput("p1", 20, At(3_000));
        prices.PipeInput("p1", 15, At(2_000)); // late: history between 2 s and 3 s
    }

    [Test]
    public void A_stream_joined_with_a_versioned_table_meets_the_version_valid_at_each_records_time()
    {
        Prices();
        var orders = _driver.Input<string, JsonNode>(Topics.orders);
        orders.PipeInput("p1", JsonNode.Parse("""{"n": 1}""")!, At(500));
        orders.PipeInput("p1", JsonNode.Parse("""{"n": 2}""")!, At(1_500));
        orders.PipeInput("p1", JsonNode.Parse("""{"n": 3}""")!, At(2_500));
        orders.PipeInput("p1", JsonNode.Parse("""{"n": 4}""")!, At(3_500));

        Assert.That(_driver.Output<string, JsonNode>(Topics.priced_orders).ReadValueList().Select(v => v["price"]?.GetValue<long>()), Is.EqualTo(new long?[] { null, 10, 15, 20 }),
            "before the first version none; then the version of each order's time, the late 15 included, although the table holds 20 for all of them");
    }

    [Test]
    public void Only_updates_in_time_order_reach_the_table_a_late_one_becomes_history()
    {
        Prices();

        Assert.That(_driver.Output<string, long>(Topics.latest_prices).ReadValueList(), Is.EqualTo(new[] { 10L, 20L }));
    }

    [Test]
    public void Functions_read_the_tables_history_from_its_store()
    {
        Prices();
        var lookups = _driver.Input<string, JsonNode>(Topics.price_lookups);
        foreach (var at in new[] { 999, 1_000, 2_999, 3_000 })
            lookups.PipeInput("p1", JsonNode.Parse($$"""{"at": {{at}}}""")!);

        Assert.That(_driver.Output<string, JsonNode>(Topics.price_lookups_answered).ReadValueList().Select(v => v["price"]?.GetValue<long>()), Is.EqualTo(new long?[] { null, 10, 15, 20 }));
    }
}
