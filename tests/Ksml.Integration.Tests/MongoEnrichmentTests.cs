using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = MongoEnrichment.MongoEnrichmentKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>
/// The MongoEnrichment example against a MongoDB server, when one is configured. None can be
/// installed from the registries this project uses, so without KSML_MONGODB_URL the test says so
/// and does not run; it never fakes a server.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class MongoEnrichmentTests
{
    [Test]
    public async Task Events_are_enriched_from_mongodb_and_stored_there()
    {
        if (Environment.GetEnvironmentVariable("KSML_MONGODB_URL") is not { Length: > 0 } url)
        {
            Assert.Ignore("Not run: no MongoDB server. None can be installed from Debian, NuGet or npm, the package sources this project uses; set KSML_MONGODB_URL to a server to run this test.");
            return;
        }
        using var broker = EmbeddedKafkaBroker.Start();
        RunPython(url, "db = client.get_database(); db['products'].delete_many({}); db['products'].insert_one({'_id': 'p1', 'name': 'Kettle', 'category': 'kitchen', 'price': 24.95})");
        await using var app = await KsmlHost.StartAsync([new MongoEnrichment.MongoEnrichmentKsml()], Kafka.Options("mongo-" + Guid.NewGuid().ToString("N")[..8]), Kafka.Logs, broker);

        Kafka.Produce(broker, Topics.product_events, ("u1", JsonNode.Parse("""{"type":"view","product_id":"p1"}""")));
        var output = Kafka.Read<string, JsonNode>(broker, Topics.enriched_product_events, 1).Single();

        Assert.That(output.Value!["product_name"]!.GetValue<string>(), Is.EqualTo("Kettle"));
        Assert.That(output.Value!["event_id"]!.GetValue<string>(), Is.Not.Empty);
    }

    private static void RunPython(string url, string code)
    {
        using var process = System.Diagnostics.Process.Start("/usr/bin/python3", ["-c", "import sys; from pymongo import MongoClient; client = MongoClient(sys.argv[1]); " + code, url])!;
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero);
    }
}
