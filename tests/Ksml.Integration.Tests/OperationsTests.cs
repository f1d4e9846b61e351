using System.Net;
using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Topics = Ksml.Integration.Tests.IntegrationKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>What an operator sees: health endpoints, Prometheus metrics, restarts that lose nothing.</summary>
[TestFixture, NonParallelizable]
public sealed class OperationsTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void StartBroker() => _broker = EmbeddedKafkaBroker.Start();

    [TearDown]
    public void StopBroker() => _broker.Dispose();

    private static string AppId() => "ops-" + Guid.NewGuid().ToString("N")[..10];

    [Test]
    public async Task Health_endpoints_and_prometheus_metrics_are_served()
    {
        var port = Loopback.FreePort();
        var options = Kafka.Options(AppId(), $"""
              applicationServer:
                enabled: true
                port: {port}
              prometheus:
                enabled: true
                port: {port}
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        Assert.That((await http.GetAsync("live")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await Kafka.Until(() => http.GetAsync("ready").Result.StatusCode == HttpStatusCode.OK, "/ready answers 200");
        Kafka.Produce(_broker, Topics.orders_in, ("o", JsonNode.Parse("""{"total": 4, "qty": 2}""")));
        Assert.That(Kafka.Read<string, double>(_broker, Topics.orders_out, 1), Has.Count.EqualTo(1));

        var metrics = await http.GetStringAsync("metrics");
        Assert.That(metrics, Does.Contain("ksml_records_in").And.Contain("topic=\"orders_in\""));
        Assert.That(metrics, Does.Contain("ksml_records_out").And.Contain("topic=\"orders_out\""));
        Assert.That(metrics, Does.Contain("ksml_function_duration").And.Contain("function=\"unit_price\""));
        Assert.That((await http.GetAsync("nothing-here")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        // The topology as written (Mermaid in Markdown, so it renders), and Streamiz's own with its internal names.
        var topology = await http.GetStringAsync("topology");
        Assert.That(topology, Does.StartWith("## integration (").And.Contain("```mermaid\nflowchart LR\n").And.Contain("topic_orders_in[(\"orders_in\")]"));
        Assert.That(await http.GetStringAsync("topology?format=streamiz"), Does.Contain("Sub-topology"));

        // KSML's own series, as its runner serves them, for dashboards and alerts built on KSML.
        Assert.That(Series(metrics, "ksml_execution_time_count", "function_name=\"unit_price\",function_type=\"valueTransformer\",namespace=\"integration\""), Is.GreaterThanOrEqualTo(1), "metrics are the process's: other tests' calls count too");
        Assert.That(Series(metrics, "ksml_execution_time_max", "function_name=\"unit_price\""), Is.GreaterThan(0));
        Assert.That(metrics, Does.Contain("ksml_execution_time_99thpercentile{").And.Contain("ksml_execution_time_oneminuterate{"));
        Assert.That(Series(metrics, "ksml_user_defined_counter_count", "custom_name=\"priced\""), Is.GreaterThanOrEqualTo(1));
        Assert.That(Series(metrics, "ksml_user_defined_counter_count", "currency=\"EUR\""), Is.GreaterThanOrEqualTo(1), "the custom tags are labels");
        Assert.That(Series(metrics, "ksml_record_e2e_latency_avg_ms_value", "namespace=\"integration\""), Is.GreaterThanOrEqualTo(0));
        Assert.That(Series(metrics, "ksml_app_value", $"app_id=\"{options.ApplicationId}\""), Is.EqualTo(1));

        // Kafka's side: lag per assigned partition, commit durations, records read per partition (so per task).
        await Kafka.Until(() => http.GetStringAsync("metrics").Result.Contains("ksml_commit_duration_count{kind=\"offsets\"}", StringComparison.Ordinal), "a commit is timed");
        metrics = await http.GetStringAsync("metrics");
        Assert.That(Series(metrics, "ksml_consumer_lag", "partition=\"0\",topic=\"orders_in\""), Is.Zero, "every record read");
        Assert.That(Series(metrics, "ksml_records_in", "partition=\"0\",topic=\"orders_in\""), Is.GreaterThanOrEqualTo(1));
        Assert.That(Series(metrics, "ksml_store_entries", "store=\"visit_counts\""), Is.Zero, "a key-value store's size, empty here");
    }

    [Test]
    public async Task Every_series_the_shipped_dashboard_and_alert_rules_query_is_served()
    {
        var port = Loopback.FreePort();
        var options = Kafka.Options(AppId(), $"""
              prometheus:
                enabled: true
                port: {port}
              errorHandling:
                process:
                  handler: continueOnFail
                  deadLetterTopic: ops_dead_letters
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        // Traffic that makes every kind of series appear: calls, a record out, one dead-lettered (wrong type), commits.
        Kafka.Produce(_broker, Topics.orders_in, ("ok", JsonNode.Parse("""{"total": 4, "qty": 2}""")), ("bad", JsonNode.Parse("""{"total": 4, "qty": 2, "wrong_type": true}""")));
        Assert.That(Kafka.Read<string, double>(_broker, Topics.orders_out, 1), Has.Count.EqualTo(1));
        await Kafka.Until(() => http.GetStringAsync("metrics").Result.Contains("ksml_commit_duration_count", StringComparison.Ordinal), "a commit is timed");
        var served = (await http.GetStringAsync("metrics")).Split('\n').Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l[..l.IndexOfAny(['{', ' '])]).ToHashSet();

        var deploy = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "deploy");
        var queries = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(deploy, "prometheus", "ksml-alerts.yaml")), @"expr: (.+)").Select(m => m.Groups[1].Value)
            .Concat(System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(deploy, "grafana", "ksml-dashboard.json")), "\"(?:expr|query)\": \"((?:[^\"\\\\]|\\\\.)*)\"").Select(m => m.Groups[1].Value))
            .ToList();
        var named = queries.SelectMany(q => System.Text.RegularExpressions.Regex.Matches(q, @"\b(?:ksml|process)_[a-z0-9_]+\b").Select(m => m.Value)).Distinct().Order().ToList();

        Assert.That(queries, Has.Count.GreaterThan(10));
        Assert.That(named, Has.Count.GreaterThan(10));
        Assert.That(named.Where(n => !served.Contains(n)), Is.Empty, $"queried but not served; served: {string.Join(", ", served.Where(s => s.StartsWith("ksml_", StringComparison.Ordinal)).Order())}");
    }

    [Test]
    public async Task State_queries_answer_for_every_instance_and_page_all_of_them_together()
    {
        var appId = AppId();
        var (portA, portB) = (Loopback.FreePort(), Loopback.FreePort());
        KsmlRunnerOptions Instance(int port, string name) => Kafka.Options(appId, $"""
              applicationServer:
                enabled: true
                port: {port}
            """, partitions: 2) with { StorageDirectory = TestDirectories.For(appId + "-" + name) };
        await using var a = await KsmlHost.StartAsync([new IntegrationKsml()], Instance(portA, "a"), Kafka.Logs, _broker);
        await using var b = await KsmlHost.StartAsync([new IntegrationKsml()], Instance(portB, "b"), Kafka.Logs, _broker);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{portA}/") };
        await Kafka.Until(() => a.IsReady && b.IsReady, "both instances run");
        var keys = Enumerable.Range(0, 12).Select(i => $"page{i:D2}").ToArray();
        Kafka.Produce(_broker, Topics.visits_in, keys.Select(k => (k, "v")).ToArray());
        Kafka.Read<string, long>(_broker, Topics.visits_out, keys.Length);

        // Every key answered by instance A, whichever instance's partition holds it.
        await Kafka.Until(() => keys.All(k => JsonNode.Parse(http.GetStringAsync($"state/keyValue/visit_counts/get/{k}").Result)?["value"] is not null), "A answers for every key");
        var localToA = JsonNode.Parse(await http.GetStringAsync("state/keyValue/visit_counts/local/all"))!.AsArray().Count;
        Assert.That(localToA, Is.InRange(1, keys.Length - 1), "the two instances share the partitions, so A alone holds only some keys");
        Assert.That(JsonNode.Parse(await http.GetStringAsync("state/keyValue/visit_counts/get/page07"))!["value"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(JsonNode.Parse(await http.GetStringAsync("state/keyValue/visit_counts/get/nobody"))!["value"], Is.Null, "held by no instance: a null value, as for one instance");

        // /all gathers both instances, paged by one cursor through the Link header.
        var all = JsonNode.Parse(await http.GetStringAsync("state/keyValue/visit_counts/all"))!.AsArray();
        Assert.That(all.Select(e => e!["key"]!.GetValue<string>()), Is.EquivalentTo(keys));
        var paged = new List<string>();
        var next = "state/keyValue/visit_counts/all?limit=5";
        while (next is not null)
        {
            var response = await http.GetAsync(next);
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            Assert.That(page.Count, Is.LessThanOrEqualTo(5));
            paged.AddRange(page.Select(e => e!["key"]!.GetValue<string>()));
            next = response.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1].TrimStart('/') : null;
        }
        Assert.That(paged, Is.EqualTo(keys), "every key once, in key order, across pages of both instances");
    }

    /// <summary>The value of the series named <paramref name="name"/> whose labels contain <paramref name="labels"/>.</summary>
    private static double Series(string metrics, string name, string labels)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal))
            ?? throw new AssertionException($"no series {name} with {labels} in:\n{string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("ksml_", StringComparison.Ordinal)))}");
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task Kafka_settings_in_Kafkas_own_spelling_are_taken_as_KSMLs_example_runner_writes_them()
    {
        // Streamiz types auto.offset.reset, acks and security.protocol as enums; 'earliest' had stopped the start.
        var id = AppId();
        var options = KsmlRunnerConfig.Parse($"""
            kafka:
              application.id: {id}
              auto.offset.reset: earliest
              acks: all
              security.protocol: PLAINTEXT
              commit.interval.ms: "200"
            ksml:
              storageDirectory: {TestDirectories.For(id)}
              createStorageDirectory: true
            """, "ksml-runner.yaml", Environment.GetEnvironmentVariable);
        var key = "before-start-" + id;
        Kafka.Produce(_broker, Topics.orders_in, (key, JsonNode.Parse("""{"total": 6, "qty": 3}""")));
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);

        await Kafka.Until(() => Kafka.Read<string, double>(_broker, Topics.orders_out, int.MaxValue, TimeSpan.FromSeconds(1)).Any(r => r.Key == key),
            "the record written before the start is read from the earliest offset");
    }

    [TestCase("0.0.0.0", "127.0.0.1")]
    [TestCase("[::]", "[::1]")]
    [TestCase("::", "127.0.0.1")]
    public async Task Endpoints_bound_to_every_interface_answer_over_loopback(string bindAddress, string callAddress)
    {
        // KSML's default host, and what a container behind a Kubernetes probe needs; HttpListener refused it at start.
        var (healthPort, metricsPort) = (Loopback.FreePort(), Loopback.FreePort());
        var options = Kafka.Options(AppId(), $"""
              applicationServer:
                enabled: true
                host: "{bindAddress}"
                port: {healthPort}
              prometheus:
                enabled: true
                host: "{bindAddress}"
                port: {metricsPort}
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        using var health = new HttpClient { BaseAddress = new Uri($"http://{callAddress}:{healthPort}/") };
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://{callAddress}:{metricsPort}/") };

        Assert.That((await health.GetAsync("live")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await Kafka.Until(() => health.GetAsync("ready").Result.StatusCode == HttpStatusCode.OK, "/ready answers 200");
        Assert.That((await health.GetAsync("startup")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await health.GetAsync("state/keyValue/key_counts/all")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await metrics.GetStringAsync("metrics"), Does.Contain("# TYPE"));
    }

    [Test]
    public async Task Prometheus_on_its_own_port_is_served_next_to_the_application_server()
    {
        var (healthPort, metricsPort) = (Loopback.FreePort(), Loopback.FreePort());
        var options = Kafka.Options(AppId(), $"""
              applicationServer:
                enabled: true
                port: {healthPort}
              prometheus:
                enabled: true
                port: {metricsPort}
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        using var health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}/") };
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };

        Assert.That((await health.GetAsync("live")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await metrics.GetStringAsync("metrics"), Does.Contain("# TYPE"));
        Assert.That((await health.GetAsync("metrics")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "each listener serves its own");
        Assert.That((await metrics.GetAsync("live")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task State_stores_are_queried_over_http_as_ksmls_application_server_serves_them()
    {
        var port = Loopback.FreePort();
        var options = Kafka.Options(AppId(), $"""
              applicationServer:
                enabled: true
                port: {port}
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Assert.That((await http.GetAsync("startup")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Kafka.Produce(_broker, Topics.counts_in, ("a", "x"), ("a", "x"), ("b", "x"));
        Kafka.Read<string, long>(_broker, Topics.counts_out, 3);
        Kafka.Produce(_broker, Topics.clicks_in, ("u1", "home"), ("u1", "cart"));
        Kafka.Read<string, long>(_broker, Topics.clicks_per_minute, 2);
        Kafka.Produce(_broker, Topics.visits_by_page, ("v1", "home"), ("v2", "home"));
        Kafka.Read<string, long?>(_broker, Topics.page_sessions, 2);

        var all = JsonNode.Parse(await http.GetStringAsync("state/keyValue/key_counts/all"))!.AsArray();
        var one = JsonNode.Parse(await http.GetStringAsync("state/keyValue/key_counts/local/get/a"))!;
        var windows = JsonNode.Parse(await http.GetStringAsync("state/windowed/minute_clicks/all"))!.AsArray();
        var start = windows[0]!["window"]!["start"]!.GetValue<long>();
        var window = JsonNode.Parse(await http.GetStringAsync($"state/windowed/minute_clicks/get/u1/{start}"))!;
        var unknown = await http.GetAsync("state/keyValue/no_such_store/all");
        // Session windows, which Ksml.NET keeps in its own store, are served like a window store.
        var sessions = JsonNode.Parse(await http.GetStringAsync("state/windowed/integration_count_page_sessions_3_count_store/all"))!.AsArray();
        var sessionStart = sessions.Single()!["window"]!["start"]!.GetValue<long>();
        var session = JsonNode.Parse(await http.GetStringAsync($"state/windowed/integration_count_page_sessions_3_count_store/get/home/{sessionStart}"))!;

        Assert.That(all.Select(e => (e!["key"]!.GetValue<string>(), e["value"]!.GetValue<long>())).Order(), Is.EqualTo(new[] { ("a", 2L), ("b", 1L) }));
        Assert.That(one.ToJsonString(), Is.EqualTo("""{"key":"a","value":2}"""));
        Assert.That(windows, Has.Count.EqualTo(1));
        Assert.That(windows[0]!["key"]!.GetValue<string>(), Is.EqualTo("u1"));
        Assert.That(windows[0]!["value"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(windows[0]!["window"]!["end"]!.GetValue<long>() - start, Is.EqualTo(60_000));
        Assert.That(window["value"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(window["window"]!["startTime"]!.GetValue<string>(), Does.EndWith("Z"));
        Assert.That((sessions[0]!["key"]!.GetValue<string>(), sessions[0]!["value"]!.GetValue<long>()), Is.EqualTo(("home", 2L)));
        Assert.That(sessions[0]!["window"]!["end"]!.GetValue<long>(), Is.GreaterThanOrEqualTo(sessionStart));
        Assert.That(session["value"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await unknown.Content.ReadAsStringAsync(), Does.Contain("key_counts (keyValue)").And.Contain("minute_clicks (windowed)"));
    }

    [Test]
    public async Task State_queries_ask_for_the_bearer_token_and_answer_all_a_page_at_a_time()
    {
        var variable = "KSML_TEST_STATE_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "s3cret-token");
        try
        {
            var port = Loopback.FreePort();
            var options = Kafka.Options(AppId(), $"""
                  applicationServer:
                    enabled: true
                    port: {port}
                    tokenVariable: {variable}
                    pageSize: 2
                """);
            await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            Kafka.Produce(_broker, Topics.counts_in, ("a", "x"), ("b", "x"), ("c", "x"));
            Kafka.Read<string, long>(_broker, Topics.counts_out, 3);

            var anonymous = await http.GetAsync("state/keyValue/key_counts/all");
            using var wrong = new HttpRequestMessage(HttpMethod.Get, "state/keyValue/key_counts/all") { Headers = { { "Authorization", "Bearer s3cret-tokeN" } } };
            var guessed = await http.SendAsync(wrong);
            http.DefaultRequestHeaders.Add("Authorization", "Bearer s3cret-token");
            var first = await http.GetAsync("state/keyValue/key_counts/all");
            var next = first.Headers.TryGetValues("Link", out var links) ? links.Single() : "";
            var nextPath = next.Length > 0 ? next[(next.IndexOf('<') + 2)..next.IndexOf('>')] : "";
            var second = await http.GetAsync(nextPath);
            var small = JsonNode.Parse(await http.GetStringAsync("state/keyValue/key_counts/all?limit=1"))!.AsArray();
            var badLimit = await http.GetAsync("state/keyValue/key_counts/all?limit=many");
            using var probe = new HttpClient { BaseAddress = http.BaseAddress };

            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(anonymous.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer"));
            Assert.That(await anonymous.Content.ReadAsStringAsync(), Does.Not.Contain("s3cret"));
            Assert.That(guessed.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a token differing in one letter is refused");
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(next, Does.Contain("offset=2&limit=2").And.Contain("rel=\"next\""));
            Assert.That(second.Headers.Contains("Link"), Is.False, "the last page links to no next one");
            var keys = JsonNode.Parse(await first.Content.ReadAsStringAsync())!.AsArray()
                .Concat(JsonNode.Parse(await second.Content.ReadAsStringAsync())!.AsArray())
                .Select(e => e!["key"]!.GetValue<string>()).ToList();
            Assert.That(keys, Is.EquivalentTo(new[] { "a", "b", "c" }), "two pages hold every key once");
            Assert.That(small, Has.Count.EqualTo(1));
            Assert.That(badLimit.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((await probe.GetAsync("live")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "probes need no token");
            Assert.That((await probe.GetAsync("ready")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Test]
    public async Task A_restart_in_the_middle_of_a_stream_loses_nothing_under_at_least_once()
    {
        var options = Kafka.Options(AppId());
        var records = Enumerable.Range(0, 300).Select(i => ($"k{i}", $"v{i}")).ToArray();
        await using (var first = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker))
        {
            Kafka.Produce(_broker, Topics.words_in, records[..150]);
            Kafka.Read<string, string>(_broker, Topics.words_out, 50);
        }
        Kafka.Produce(_broker, Topics.words_in, records[150..]);
        await using var second = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);

        var output = Kafka.Read<string, string>(_broker, Topics.words_out, 300);

        Assert.That(output.Select(r => r.Key).Distinct().Order(), Is.EquivalentTo(records.Select(r => r.Item1)));
    }

    [Test]
    public async Task A_restart_under_exactly_once_neither_loses_nor_duplicates_counts()
    {
        var baseline = Kafka.Options(AppId());
        var options = baseline with { Kafka = new Dictionary<string, string>(baseline.Kafka) { ["processing.guarantee"] = "exactly_once" } };
        await using (var first = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker))
        {
            Kafka.Produce(_broker, Topics.counts_in, Enumerable.Range(0, 50).Select(_ => ("k", "x")).ToArray());
            Kafka.Read<string, long>(_broker, Topics.counts_out, 20, readCommitted: true);
        }
        await using var second = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        Kafka.Produce(_broker, Topics.counts_in, Enumerable.Range(0, 50).Select(_ => ("k", "x")).ToArray());

        var counts = Kafka.Read<string, long>(_broker, Topics.counts_out, 100, readCommitted: true).Select(r => r.Value).ToList();

        Assert.That(counts, Is.EqualTo(Enumerable.Range(1, 100).Select(i => (long)i)), "every count once, in order");
    }
}
