using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = EventRouting.EventRoutingKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The EventRouting example against the real RabbitMQ server on loopback.</summary>
[TestFixture, NonParallelizable]
public sealed class EventRoutingTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void Start()
    {
        Rabbit.Purge("alerts", "notifications");
        _broker = EmbeddedKafkaBroker.Start();
    }

    [TearDown]
    public void Stop() => _broker.Dispose();

    [Test]
    public async Task Alerts_and_notifications_land_in_their_durable_queues_as_persistent_messages()
    {
        _ = Rabbit.Url;
        await using var app = await KsmlHost.StartAsync([new EventRouting.EventRoutingKsml()],
            Kafka.Options("routing-" + Guid.NewGuid().ToString("N")[..8], "  enableProducers: false"), Kafka.Logs, _broker);

        Kafka.Produce(_broker, Topics.user_notifications,
            ("u1", JsonNode.Parse("""{"id":"n1","type":"alert","content":"disk full"}""")),
            ("u2", JsonNode.Parse("""{"id":"n2","type":"info","content":"welcome"}""")),
            ("u1", JsonNode.Parse("""{"id":"n3","type":"warning","content":"cpu hot","priority":"high"}""")));

        var queues = new JsonObject();
        await Kafka.Until(() =>
        {
            foreach (var (queue, messages) in Rabbit.Drain("alerts", "notifications"))
            {
                var list = queues[queue] as JsonArray ?? (JsonArray)(queues[queue] = new JsonArray());
                foreach (var message in messages!.AsArray())
                    list.Add(message!.DeepClone());
            }
            return ((queues["alerts"] as JsonArray)?.Count ?? 0) + ((queues["notifications"] as JsonArray)?.Count ?? 0) >= 3;
        }, "three messages in RabbitMQ");

        var alerts = queues["alerts"]!.AsArray();
        Assert.That(alerts.Select(m => m!["message_id"]!.GetValue<string>()), Is.EqualTo(new[] { "n1", "n3" }));
        Assert.That(alerts.Select(m => m!["body"]!["priority"]!.GetValue<string>()), Is.EqualTo(new[] { "normal", "high" }));
        Assert.That(alerts[0]!["body"]!["user_id"]!.GetValue<string>(), Is.EqualTo("u1"));
        Assert.That(queues["notifications"]!.AsArray().Select(m => m!["body"]!["content"]!.GetValue<string>()), Is.EqualTo(new[] { "welcome" }));
        Assert.That(alerts.Concat(queues["notifications"]!.AsArray()).Select(m => m!["persistent"]!.GetValue<bool>()), Has.All.True);
    }
}
