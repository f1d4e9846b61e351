using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = AsyncPayments.PaymentsKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The AsyncPayments example: the app and the payment service as two applications on one broker.</summary>
[TestFixture, NonParallelizable]
public sealed class AsyncPaymentsTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void Start()
    {
        _broker = EmbeddedKafkaBroker.Start();
        Environment.SetEnvironmentVariable("PAYMENT_TIMEOUT_MS", "1500");
    }

    [TearDown]
    public void Stop() => _broker.Dispose();

    private Task<KsmlHost> App() => KsmlHost.StartAsync([new AsyncPayments.PaymentsKsml()],
        Kafka.Options("payments-" + Guid.NewGuid().ToString("N")[..8], "  enableProducers: false"), Kafka.Logs, _broker);

    private Task<KsmlHost> Service() => KsmlHost.StartAsync([new AsyncPayments.PaymentServiceKsml()],
        Kafka.Options("payment-service-" + Guid.NewGuid().ToString("N")[..8]), Kafka.Logs, _broker);

    private static (string, JsonNode?) Order(string id, int amount) => (id, JsonNode.Parse($$"""{"amount":{{amount}}}"""));

    [Test]
    public async Task Responses_are_matched_by_correlation_id_and_failures_go_to_the_dead_letter_topic()
    {
        await using var app = await App();
        await using var service = await Service();

        Kafka.Produce(_broker, Topics.payment_orders, Order("o1", 50), Order("o2", 5000), Order("o3", 20));

        var completed = Kafka.Read<string, JsonNode>(_broker, Topics.payments_completed, 2);
        var dead = Kafka.Read<string, JsonNode>(_broker, Topics.payment_dead_letters, 1);
        Assert.That(completed.Select(r => r.Key), Is.EquivalentTo(new[] { "o1", "o3" }));
        Assert.That(completed.Select(r => r.Value!["payment"]!["status"]!.GetValue<string>()), Has.All.EqualTo("approved"));
        Assert.That(completed.Select(r => r.Value!["correlation_id"]!.GetValue<string>()).Distinct().Count(), Is.EqualTo(2), "each request has its own correlation id");
        Assert.That(dead.Single().Key, Is.EqualTo("o2"));
        Assert.That(dead.Single().Value!["outcome"]!.GetValue<string>(), Is.EqualTo("payment_failed"));
    }

    [Test]
    public async Task A_response_that_never_arrives_is_dead_lettered_as_timed_out_and_a_stray_response_is_flagged()
    {
        await using var app = await App();   // no payment service running

        Kafka.Produce(_broker, Topics.payment_orders, Order("o9", 10));
        Kafka.Read<string, JsonNode>(_broker, Topics.payment_requests, 1);
        Kafka.Produce(_broker, Topics.payment_responses, ("no-such-id", JsonNode.Parse("""{"status":"approved"}""")));
        await Task.Delay(2500);   // past the 1.5 s timeout for both the request and the stray response
        Kafka.Produce(_broker, Topics.payment_sweeps, ("sweep", "tick"));

        var dead = Kafka.Read<string, JsonNode>(_broker, Topics.payment_dead_letters, 2);
        Assert.That(dead.Select(r => (r.Key, r.Value!["outcome"]!.GetValue<string>())), Is.EquivalentTo(new[] { ("o9", "timed_out"), ("no-such-id", "unmatched_response") }));
        Assert.That(Kafka.ReadRaw(_broker, Topics.payments_completed.Topic, 1, TimeSpan.FromSeconds(1)), Is.Empty);
    }
}
