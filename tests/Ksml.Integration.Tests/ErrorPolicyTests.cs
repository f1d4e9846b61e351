using System.Text;
using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging;
using Topics = Ksml.Integration.Tests.IntegrationKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>Every failing record is dead-lettered, retried, skipped with a log line, or stops the application; none is lost.</summary>
[TestFixture, NonParallelizable]
public sealed class ErrorPolicyTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void StartBroker() => _broker = EmbeddedKafkaBroker.Start();

    [TearDown]
    public void StopBroker() => _broker.Dispose();

    private static string AppId() => "ep-" + Guid.NewGuid().ToString("N")[..10];

    private Task<KsmlHost> Start(KsmlRunnerOptions options) => KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    private const string DeadLetters = """
          errorHandling:
            consume:
              handler: continueOnFail
              deadLetterTopic: ksml_dead_letters
            process:
              handler: continueOnFail
              deadLetterTopic: ksml_dead_letters
        """;

    [Test]
    public async Task Poison_json_goes_to_the_dead_letter_topic_as_it_was_read_and_the_stream_goes_on()
    {
        await using var host = await Start(Kafka.Options(AppId(), DeadLetters));
        Kafka.ProduceRaw(_broker, Topics.orders_in.Topic,
            (Encoding.UTF8.GetBytes("o1"), Json("""{"total": 10, "qty": """)),
            (Encoding.UTF8.GetBytes("o2"), Json("""{"total": 10, "qty": 4}""")));

        var output = Kafka.Read<string, double>(_broker, Topics.orders_out, 1);
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1).Single();

        Assert.That(output, Is.EqualTo(new[] { ("o2", 2.5) }));
        Assert.That(dead.Message.Value, Is.EqualTo(Json("""{"total": 10, "qty": """)), "the original bytes");
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Stage), Is.EqualTo("consume"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.SourceTopic), Is.EqualTo("orders_in"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.SourceOffset), Is.EqualTo("0"));
    }

    [Test]
    public async Task A_python_exception_is_dead_lettered_with_the_yaml_location_and_the_next_record_is_processed()
    {
        await using var host = await Start(Kafka.Options(AppId(), DeadLetters));
        Kafka.Produce(_broker, Topics.orders_in,
            ("zero", JsonNode.Parse("""{"total": 10, "qty": 0}""")),
            ("fine", JsonNode.Parse("""{"total": 9, "qty": 3}""")));

        var output = Kafka.Read<string, double>(_broker, Topics.orders_out, 1);
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1).Single();

        Assert.That(output, Is.EqualTo(new[] { ("fine", 3.0) }));
        Assert.That(Encoding.UTF8.GetString(dead.Message.Key!), Is.EqualTo("zero"));
        Assert.That(JsonNode.Parse(dead.Message.Value)!.ToJsonString(), Is.EqualTo("""{"total":10,"qty":0}"""));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Stage), Is.EqualTo("process"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Type), Is.EqualTo("ZeroDivisionError"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Function), Is.EqualTo("unit_price"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.File), Does.EndWith("integration.ksml.yaml"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Line), Is.EqualTo(LineOf("expression: value[\"total\"] / value[\"qty\"]")));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.SourceTopic), Is.EqualTo("orders_in"));
    }

    [Test]
    public async Task A_result_of_the_wrong_type_is_dead_lettered_as_a_type_error()
    {
        await using var host = await Start(Kafka.Options(AppId(), DeadLetters));
        Kafka.Produce(_broker, Topics.orders_in, ("bad", JsonNode.Parse("""{"wrong_type": true}""")), ("good", JsonNode.Parse("""{"total": 1, "qty": 1}""")));

        var output = Kafka.Read<string, double>(_broker, Topics.orders_out, 1);
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1).Single();

        Assert.That(output, Is.EqualTo(new[] { ("good", 1.0) }));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Type), Is.EqualTo("TypeError"));
        Assert.That(Kafka.Header(dead, DeadLetterHeaders.Message), Does.EndWith("expected a double, got str"), "no payload without logPayload");
    }

    [Test]
    public async Task Retry_on_fail_retries_a_failing_function_with_backoff_until_it_succeeds()
    {
        await using var host = await Start(Kafka.Options(AppId(), """
              errorHandling:
                process:
                  handler: retryOnFail
                  maxRetries: 4
                  initialBackoff: 10ms
            """));
        Kafka.Produce(_broker, Topics.flaky_in, ("k", "done"));

        var output = Kafka.Read<string, string>(_broker, Topics.flaky_out, 1);

        Assert.That(output, Is.EqualTo(new[] { ("k", "done after 3 attempts") }));
    }

    [Test]
    public async Task Stop_on_fail_stops_the_application_and_the_failed_record_is_processed_after_a_restart()
    {
        var appId = AppId();
        await using (var stopping = await Start(Kafka.Options(appId)))
        {
            Kafka.Produce(_broker, Topics.orders_in, ("zero", JsonNode.Parse("""{"total": 10, "qty": 0}""")));
            var failed = await Task.WhenAny(stopping.Failed, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.That(failed, Is.SameAs(stopping.Failed), "the stream stops on the error");
        }
        Assert.That(Kafka.ReadRaw(_broker, Topics.orders_out.Topic, 1, TimeSpan.FromSeconds(1)), Is.Empty);

        // The same application with a dead-letter policy picks the uncommitted record up again.
        await using var restarted = await Start(Kafka.Options(appId, DeadLetters));
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1);

        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Key!)), Is.EqualTo(new[] { "zero" }));
    }

    [Test]
    public async Task After_a_stop_under_exactly_once_the_next_start_wipes_local_state_that_holds_aborted_writes()
    {
        // The stop aborts the transaction, but the persistent store already holds the failed record's count (2),
        // which Streamiz would restore on top of and count again. A clean close keeps the state.
        var appId = AppId();
        var baseline = Kafka.Options(appId);
        var options = baseline with { Kafka = new Dictionary<string, string>(baseline.Kafka) { ["processing.guarantee"] = "exactly_once" } };
        var stateOfApp = Path.Combine(options.StorageDirectory!, appId);
        await using (var stopping = await Start(options))
        {
            Kafka.Produce(_broker, Topics.cached_counts_in, ("a", "x"), ("a", "x")); // the second count raises
            var failed = await Task.WhenAny(stopping.Failed, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.That(failed, Is.SameAs(stopping.Failed), "the stream stops on the error");
        }
        Assert.That(Directory.Exists(stateOfApp), "the store left state behind");

        var warnings = new RecordingLoggerProvider((category, level) => category == "ksml" && level >= LogLevel.Warning);
        using (var loggers = LoggerFactory.Create(b => b.AddProvider(warnings)))
        {
            await using var restarted = await KsmlHost.StartAsync([new IntegrationKsml()], options, loggers, _broker);
            Assert.That(warnings.Messages, Has.Some.Contains("did not close cleanly").And.Contains(stateOfApp));
        }

        // That run closed cleanly, so the next keeps its state.
        warnings.Messages.Clear();
        using (var loggers = LoggerFactory.Create(b => b.AddProvider(warnings)))
        {
            await using var third = await KsmlHost.StartAsync([new IntegrationKsml()], options, loggers, _broker);
            Assert.That(warnings.Messages, Has.None.Contains("did not close cleanly"));
        }
    }

    [Test]
    public async Task With_no_error_handling_a_poison_record_stops_the_application_uncommitted_as_in_ksml()
    {
        // KSML's and Kafka Streams' default for the consume stage; a skip would lose the record silently.
        var appId = AppId();
        await using (var stopping = await Start(Kafka.Options(appId)))
        {
            Kafka.ProduceRaw(_broker, Topics.orders_in.Topic, (Encoding.UTF8.GetBytes("o1"), Json("""{"total": 10, "qty": """)));
            var failed = await Task.WhenAny(stopping.Failed, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.That(failed, Is.SameAs(stopping.Failed), "the stream stops on the poison record");
        }

        await using var restarted = await Start(Kafka.Options(appId, DeadLetters));
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1);

        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Key!)), Is.EqualTo(new[] { "o1" }), "not committed: read again after the restart");
    }

    [Test]
    public async Task A_record_the_broker_keeps_refusing_under_produce_retry_on_fail_stops_the_application_uncommitted()
    {
        // Streamiz's RETRY queue is resent at each flush, cleared after commits and on close: the record's offset
        // was committed while it waited there, and a restart never produced it.
        var appId = AppId();
        var retrying = Kafka.Options(appId, """
              errorHandling:
                produce:
                  handler: retryOnFail
                  maxRetries: 2
                  initialBackoff: 10ms
                  maxBackoff: 50ms
            """);
        retrying = retrying with { Kafka = new Dictionary<string, string>(retrying.Kafka) { ["commit.interval.ms"] = "100" } };
        _broker.CreateTopic(Topics.orders_out.Topic);
        _broker.FailTopic(Topics.orders_out.Topic, Confluent.Kafka.ErrorCode.TopicAuthorizationFailed);
        Kafka.Produce(_broker, Topics.orders_in, ("o1", JsonNode.Parse("""{"total": 10, "qty": 4}""")));
        await using (var refused = await Start(retrying))
        {
            var failed = await Task.WhenAny(refused.Failed, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.That(failed, Is.SameAs(refused.Failed), "a record that cannot be written stops the application");
        }

        _broker.FailTopic(Topics.orders_out.Topic, Confluent.Kafka.ErrorCode.NoError);
        await using var restarted = await Start(retrying);
        var output = Kafka.Read<string, double>(_broker, Topics.orders_out, 1);

        Assert.That(output, Is.EqualTo(new[] { ("o1", 2.5) }), "not committed while refused: produced after the restart");
    }

    [Test]
    public async Task A_stop_on_one_of_two_stream_threads_stops_the_whole_application()
    {
        // Streamiz ends only the failing thread; KSML's SHUTDOWN_CLIENT stops the client, and /ready must say so.
        var appId = AppId();
        var options = Kafka.Options(appId, partitions: 2);
        options = options with { Kafka = new Dictionary<string, string>(options.Kafka) { ["num.stream.threads"] = "2" } };
        await using (var stopping = await Start(options))
        {
            await Kafka.Until(() => stopping.IsReady, "the stream runs");
            Kafka.Produce(_broker, Topics.orders_in, Enumerable.Range(0, 20).Select(i => ($"k{i}", JsonNode.Parse("""{"total": 4, "qty": 2}"""))).ToArray());
            Kafka.Read<string, double>(_broker, Topics.orders_out, 20);
            Kafka.Produce(_broker, Topics.orders_in, ("zero", JsonNode.Parse("""{"total": 10, "qty": 0}""")));

            var failed = await Task.WhenAny(stopping.Failed, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.That(failed, Is.SameAs(stopping.Failed), "the application reports the stop");
            Assert.That(stopping.IsReady, Is.False, "not ready once stopped");
            await Kafka.Until(() => stopping.State == Streamiz.Kafka.Net.KafkaStream.State.NOT_RUNNING || stopping.State == Streamiz.Kafka.Net.KafkaStream.State.ERROR,
                "every stream thread stops, not only the failing one", TimeSpan.FromSeconds(30));
        }

        // The restart is a new process in production. In this one, Streamiz leaves a thread's RocksDB stores open
        // when its closing commit meets the rebalance the other thread's exit began, and RocksDB locks per process.
        var restart = Kafka.Options(appId, DeadLetters, partitions: 2);
        await using var restarted = await Start(restart with { StorageDirectory = restart.StorageDirectory + "-restarted" });
        var dead = Kafka.ReadRaw(_broker, "ksml_dead_letters", 1);

        Assert.That(dead.Select(d => Encoding.UTF8.GetString(d.Message.Key!)), Is.EqualTo(new[] { "zero" }), "the failed record was not committed");
    }

    [TestCase("consume")]
    [TestCase("process")]
    [TestCase("produce")]
    public void A_dead_letter_topic_the_pipelines_read_is_refused_at_start_in_every_stage(string stage)
    {
        var options = Kafka.Options(AppId(), $"""
              errorHandling:
                {stage}:
                  handler: continueOnFail
                  deadLetterTopic: orders_in
            """);

        var error = Assert.ThrowsAsync<KsmlConfigException>(() => Start(options))!;

        Assert.That(error.Message, Does.StartWith($"ksml.errorHandling.{stage}.deadLetterTopic: 'orders_in' is a topic the pipelines read"));
    }

    [Test]
    public async Task A_step_failing_after_a_cached_store_stops_the_application_at_once()
    {
        // Streamiz forwards cached records from an eviction callback that swallows exceptions: the stop was
        // only logged at shutdown. Caching has no effect (KSML0015), so the policy sees the failure when it happens.
        await using var host = await Start(Kafka.Options(AppId()));
        Kafka.Produce(_broker, Topics.cached_counts_in, ("k", "x"), ("k", "x"));

        Assert.That(Kafka.Read<string, long>(_broker, Topics.cached_counts_out, 1), Is.EqualTo(new[] { ("k", 1L) }));
        var failed = await Task.WhenAny(host.Failed, Task.Delay(TimeSpan.FromSeconds(15)));
        Assert.That(failed, Is.SameAs(host.Failed), "the stop happens when the step fails");
        Assert.That(Kafka.ReadRaw(_broker, Topics.cached_counts_out.Topic, 2, TimeSpan.FromSeconds(1)), Has.Count.EqualTo(1));
    }

    private static string LineOf(string text)
    {
        var lines = File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "Definitions", "integration.ksml.yaml"));
        return (Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal)) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
