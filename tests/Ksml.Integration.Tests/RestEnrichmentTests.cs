using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = RestEnrichment.RestEnrichmentKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The RestEnrichment example against a real HTTP server that is healthy, fails, hangs and recovers.</summary>
[TestFixture, NonParallelizable]
public sealed class RestEnrichmentTests
{
    private EmbeddedKafkaBroker _broker = null!;
    private FaultyHttpApi _api = null!;

    [SetUp]
    public void Start()
    {
        _broker = EmbeddedKafkaBroker.Start();
        _api = new FaultyHttpApi(id => id is "c1" or "c2" or "c3" ? new JsonObject { ["id"] = id, ["name"] = "Customer " + id } : null, "token-" + Guid.NewGuid().ToString("N"));
        // The example reads its API address and token from the environment, as a deployment would.
        Environment.SetEnvironmentVariable("CUSTOMER_API_URL", _api.Url);
        Environment.SetEnvironmentVariable("CUSTOMER_API_TOKEN", _api.Token);
    }

    [TearDown]
    public void Stop()
    {
        _api.Dispose();
        _broker.Dispose();
    }

    private Task<KsmlHost> StartApp() => KsmlHost.StartAsync([new RestEnrichment.RestEnrichmentKsml()], Kafka.Options("rest-" + Guid.NewGuid().ToString("N")[..8], """
          enableProducers: false
          errorHandling:
            process:
              handler: continueOnFail
              deadLetterTopic: enrich_dead_letters
        """), Kafka.Logs, _broker);

    private static (string Key, JsonNode? Value) Event(string customer, int n) => (customer, JsonNode.Parse($$"""{"type":"view","n":{{n}}}"""));

    [Test]
    public async Task Enriches_from_the_api_falls_back_while_it_fails_or_hangs_and_recovers_without_losing_a_record()
    {
        await using var app = await StartApp();
        _broker.CreateTopic("enrich_dead_letters");

        // Healthy: known customers are found, unknown ones are marked; the cache spares the second c1 call.
        Kafka.Produce(_broker, Topics.user_events, Event("c1", 1), Event("c9", 2), Event("c1", 3));
        var healthy = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_events, 3);
        // Calls run concurrently (concurrency: order key): c1's events stay in order, c9's may come first.
        Assert.That(healthy.Select(r => (r.Key, r.Value!["n"]!.GetValue<int>(), r.Value!["enrichment"]!.GetValue<string>())),
            Is.EquivalentTo(new[] { ("c1", 1, "found"), ("c9", 2, "unknown_customer"), ("c1", 3, "found") }));
        Assert.That(healthy.Where(r => r.Key == "c1").Select(r => r.Value!["n"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 3 }));
        Assert.That(healthy.First(r => r.Key == "c1").Value!["customer"]!["name"]!.GetValue<string>(), Is.EqualTo("Customer c1"));
        var requestsWhenHealthy = _api.Requests;
        Assert.That(requestsWhenHealthy, Is.EqualTo(2), "c1 the second time came from the TTL cache");

        // Failing: retried, then dead-lettered until the breaker opens; then the fallback answers at once.
        _api.Behaviour = FaultyHttpApi.Mode.Failing;
        var failing = Enumerable.Range(0, 8).Select(i => Event("c2", 10 + i)).ToArray();
        Kafka.Produce(_broker, Topics.user_events, failing);
        await Kafka.Until(() => Kafka.ReadRaw(_broker, Topics.enriched_events.Topic, 11, TimeSpan.FromSeconds(1)).Count
                                + Kafka.ReadRaw(_broker, "enrich_dead_letters", 8, TimeSpan.FromSeconds(1)).Count == 11,
            "every failing-phase record is enriched with the fallback or dead-lettered", TimeSpan.FromSeconds(60));
        var afterFailing = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_events, 11).Skip(3).ToList();
        var deadLetters = Kafka.ReadRaw(_broker, "enrich_dead_letters", 8, TimeSpan.FromSeconds(2));
        Assert.That(afterFailing.Select(r => r.Value!["enrichment"]!.GetValue<string>()), Has.All.EqualTo("unavailable"));
        Assert.That(afterFailing, Is.Not.Empty, "the breaker opened and the fallback answered");
        Assert.That(deadLetters, Is.Not.Empty, "records that failed before the breaker opened are dead-lettered");
        Assert.That(Kafka.Header(deadLetters[0], Ksml.Runtime.ErrorHandling.DeadLetterHeaders.Type), Is.EqualTo("HTTPError"));
        Assert.That(_api.Requests - requestsWhenHealthy, Is.LessThan(8 * 3), "the open breaker stopped calling the failing API");

        // Recovered: once the break is over, a trial call succeeds and enrichment resumes.
        _api.Behaviour = FaultyHttpApi.Mode.Healthy;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Kafka.Produce(_broker, Topics.user_events, Event("c3", 30));
        var recovered = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_events, 12).Last();
        Assert.That(recovered.Value!["enrichment"]!.GetValue<string>(), Is.EqualTo("found"));
    }

    [Test]
    public async Task The_api_call_carries_the_trace_of_the_event_it_enriches()
    {
        await using var app = await StartApp();
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, string>(new Confluent.Kafka.ProducerConfig { BootstrapServers = _broker.BootstrapServers }).Build())
        {
            var headers = new Confluent.Kafka.Headers { { "traceparent", System.Text.Encoding.UTF8.GetBytes($"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01") } };
            producer.Produce(Topics.user_events.Topic, new Confluent.Kafka.Message<string, string> { Key = "c2", Value = """{"type":"view","n":1}""", Headers = headers });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        Kafka.Read<string, JsonNode>(_broker, Topics.enriched_events, 1);

        Assert.That(_api.TraceParents.Single(), Does.StartWith($"00-{traceId}-"), "trace.headers() passed the event's trace to the API, from a concurrent call's worker thread");
    }

    [Test]
    public async Task A_hanging_api_is_cut_off_by_the_client_timeout_and_retried()
    {
        await using var app = await StartApp();
        _broker.CreateTopic("enrich_dead_letters");
        _api.Behaviour = FaultyHttpApi.Mode.Hanging;
        var started = DateTime.UtcNow;

        Kafka.Produce(_broker, Topics.user_events, Event("c1", 1));
        var dead = Kafka.ReadRaw(_broker, "enrich_dead_letters", 1, TimeSpan.FromSeconds(30));

        Assert.That(dead, Has.Count.EqualTo(1));
        Assert.That(Kafka.Header(dead[0], Ksml.Runtime.ErrorHandling.DeadLetterHeaders.Type), Is.EqualTo("ReadTimeout"));
        Assert.That(_api.Requests, Is.EqualTo(3), "the first call and two retries");
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(15)), "each call gave up after the 1 s read timeout, not the API's 5 s");
    }
}
