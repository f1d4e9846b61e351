using System.Text.Json.Nodes;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging;
using Topics = Ksml.Integration.Tests.IntegrationKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>The compiled definitions as a real Kafka Streams application on the embedded broker.</summary>
[TestFixture, NonParallelizable]
public sealed class StreamApplicationTests
{
    private EmbeddedKafkaBroker _broker = null!;

    [SetUp]
    public void StartBroker() => _broker = EmbeddedKafkaBroker.Start();

    [TearDown]
    public void StopBroker() => _broker.Dispose();

    private static string AppId() => "it-" + TestContext.CurrentContext.Test.MethodName!.ToLowerInvariant()[..Math.Min(20, TestContext.CurrentContext.Test.MethodName!.Length)] + "-" + Guid.NewGuid().ToString("N")[..6];

    private Task<KsmlHost> Start(KsmlRunnerOptions options) => KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);

    [Test]
    public async Task A_stateless_pipeline_transforms_every_record()
    {
        await using var host = await Start(Kafka.Options(AppId()));
        Kafka.Produce(_broker, Topics.words_in, ("1", "hello"), ("2", "world"));

        var output = Kafka.Read<string, string>(_broker, Topics.words_out, 2);

        Assert.That(output, Is.EqualTo(new[] { ("1", "HELLO!"), ("2", "WORLD!") }));
    }

    [Test]
    public async Task Producers_follow_count_batch_size_condition_and_until()
    {
        await using var host = await Start(Kafka.Options(AppId()));
        await host.WhenProducersDone().WaitAsync(TimeSpan.FromSeconds(30));

        // 5 batches of 2 generate 1..10; the condition keeps the even ones.
        Assert.That(Kafka.Read<string, long>(_broker, Topics.numbers, 5).Select(r => r.Value), Is.EqualTo(new[] { 2L, 4, 6, 8, 10 }));
        // 'until' stops the producer after the message it accepts.
        Assert.That(Kafka.Read<string, long>(_broker, Topics.until_numbers, 10, TimeSpan.FromSeconds(3)).Select(r => r.Key), Is.EqualTo(new[] { "1", "2", "3" }));
        // A failing generator call is logged and skipped, as in KSML; before, the producer ended for good on the first.
        Assert.That(Kafka.Read<string, long>(_broker, Topics.flaky_numbers, 10, TimeSpan.FromSeconds(3)).Select(r => r.Value), Is.EqualTo(new[] { 1L, 3, 5 }));
    }

    [Test]
    public async Task Producers_can_be_switched_off()
    {
        await using var host = await Start(Kafka.Options(AppId(), "  enableProducers: false"));

        Assert.That(Kafka.ReadRaw(_broker, Topics.numbers.Topic, 1, TimeSpan.FromSeconds(2)), Is.Empty);
    }

    [Test]
    public async Task A_count_keeps_its_state_across_a_restart_by_restoring_the_changelog()
    {
        var options = Kafka.Options(AppId());
        await using (var first = await Start(options))
        {
            Kafka.Produce(_broker, Topics.counts_in, ("a", "x"), ("a", "x"), ("b", "x"));
            Assert.That(Kafka.Read<string, long>(_broker, Topics.counts_out, 3), Is.EqualTo(new[] { ("a", 1L), ("a", 2L), ("b", 1L) }));
        }
        // The store is in memory and any state directory is removed: the count can only come back from the changelog.
        if (Directory.Exists(options.StorageDirectory))
            Directory.Delete(options.StorageDirectory, recursive: true);
        await using var second = await Start(options);
        Kafka.Produce(_broker, Topics.counts_in, ("a", "x"));

        var output = Kafka.Read<string, long>(_broker, Topics.counts_out, 4);

        Assert.That(output[3], Is.EqualTo(("a", 3L)));
    }

    [Test]
    public async Task A_session_regrouped_through_a_repartition_topic_continues_after_a_restart_from_its_changelog()
    {
        var options = Kafka.Options(AppId(), partitions: 2);
        string session;
        await using (var first = await Start(options))
        {
            Kafka.Produce(_broker, Topics.visits_by_page, ("v1", "home"), ("v2", "home"), ("v3", "cart"));
            // A session that grows is first retracted (null) when its end moves; the visits may share a millisecond.
            var counts = Counts(Kafka.Read<string, long?>(_broker, Topics.page_sessions, 4, TimeSpan.FromSeconds(5)));
            Assert.That(counts.Select(c => (c.Key.Split('@')[0], c.Value)).Order(), Is.EqualTo(new[] { ("cart", 1L), ("home", 1L), ("home", 2L) }));
            session = counts.Last(c => c.Key.StartsWith("home@", StringComparison.Ordinal)).Key;
        }
        // The sessions are in memory and the state directory is removed: they can only come back from the changelog.
        Directory.Delete(options.StorageDirectory!, recursive: true);
        await using var second = await Start(options);
        Kafka.Produce(_broker, Topics.visits_by_page, ("v4", "home"));

        var output = Counts(Kafka.Read<string, long?>(_broker, Topics.page_sessions, 6, TimeSpan.FromSeconds(10)));

        Assert.That(output[^1], Is.EqualTo((session, 3L)), "the same session, started before the restart, now counts three visits");

        static List<(string Key, long Value)> Counts(List<(string Key, long? Value)> records) =>
            records.Where(r => r.Value is not null).Select(r => (r.Key, r.Value!.Value)).ToList();
    }

    [Test]
    public async Task Orders_join_a_table_and_a_global_table_on_the_broker()
    {
        await using var host = await Start(Kafka.Options(AppId(), partitions: 2));
        Kafka.Produce(_broker, Topics.customers, ("c1", JsonNode.Parse("""{"name": "Ada"}""")), ("c2", JsonNode.Parse("""{"name": "Bob"}""")));
        Kafka.Produce(_broker, Topics.products, ("p1", JsonNode.Parse("""{"price": 9.5}""")), ("p2", JsonNode.Parse("""{"price": 20}""")));
        // The table and the global table must have been read before the orders arrive.
        await Kafka.Until(() => host.IsReady, "the stream runs");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Kafka.Produce(_broker, Topics.order_events,
            ("c1", JsonNode.Parse("""{"product": "p2"}""")), ("c2", JsonNode.Parse("""{"product": "p1"}""")), ("c9", JsonNode.Parse("""{"product": "p1"}""")));

        var enriched = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 2);
        var late = Kafka.Read<string, JsonNode>(_broker, Topics.enriched_orders, 3, TimeSpan.FromSeconds(3));

        Assert.That(enriched.Select(r => (r.Key, r.Value.ToJsonString())).Order(), Is.EqualTo(new[]
        {
            ("c1", """{"product":"p2","customer":"Ada","price":20}"""),
            ("c2", """{"product":"p1","customer":"Bob","price":9.5}"""),
        }));
        Assert.That(late, Has.Count.EqualTo(2), "an order of an unknown customer is dropped by the inner join");
    }

    [Test]
    public async Task A_stream_rekeyed_before_a_table_join_is_repartitioned_with_its_own_serdes()
    {
        // Streamiz's repartition before the join took the default string serdes and stopped at the first record.
        await using var host = await Start(Kafka.Options(AppId(), partitions: 2));
        Kafka.Produce(_broker, Topics.customers, ("c1", JsonNode.Parse("""{"name": "Ada"}""")), ("c2", JsonNode.Parse("""{"name": "Bob"}""")));
        await Kafka.Until(() => host.IsReady, "the stream runs");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Kafka.Produce(_broker, Topics.orders_by_id,
            ("o1", JsonNode.Parse("""{"customer": "c2"}""")), ("o2", JsonNode.Parse("""{"customer": "c1"}""")), ("o3", JsonNode.Parse("""{"customer": "c9"}""")));

        var enriched = Kafka.Read<string, JsonNode>(_broker, Topics.orders_with_customer, 3);

        Assert.That(enriched.Select(r => (r.Key, r.Value.ToJsonString())).Order(), Is.EqualTo(new[]
        {
            ("c1", """{"customer":"c1","customer_name":"Ada"}"""),
            ("c2", """{"customer":"c2","customer_name":"Bob"}"""),
            ("c9", """{"customer":"c9","customer_name":null}"""),
        }));
        Assert.That(host.Failed.IsCompleted, Is.False);
    }

    [Test]
    public async Task A_foreign_key_join_meets_rows_across_partitions_through_its_subscription_and_response_topics()
    {
        // The right table has more partitions than the left: the subscription topic must take the right table's count
        // (read at start), or the rows of its last two partitions would never meet their subscriptions.
        _broker.CreateTopic(Topics.owners.Topic, 4);
        await using var host = await Start(Kafka.Options(AppId(), partitions: 2));
        await Kafka.Until(() => host.IsReady, "the stream runs");
        Kafka.Produce(_broker, Topics.owners, Enumerable.Range(0, 6).Select(i => ($"p{i}", JsonNode.Parse($$"""{"name": "Person {{i}}"}"""))).ToArray());
        // Each account's key and its owner's key hash to partitions of their own: the subscription travels to the owner's partition and back.
        Kafka.Produce(_broker, Topics.accounts, Enumerable.Range(0, 12).Select(i => ($"a{i}", JsonNode.Parse($$"""{"owner": "p{{i % 6}}"}"""))).ToArray());

        var joined = Kafka.ReadUntil<string, JsonNode>(_broker, Topics.accounts_with_owner, r => r.Select(x => x.Key).Distinct().Count() == 12);
        Assert.That(joined.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Last().Value["owner_name"]!.GetValue<string>()),
            Is.EqualTo(Enumerable.Range(0, 12).ToDictionary(i => $"a{i}", i => $"Person {i % 6}")));

        Kafka.Produce(_broker, Topics.owners, ("p1", JsonNode.Parse("""{"name": "Renamed"}""")));
        var renamed = Kafka.ReadUntil<string, JsonNode>(_broker, Topics.accounts_with_owner, r => r.Count(x => x.Value?["owner_name"]?.GetValue<string>() == "Renamed") == 2);
        Assert.That(renamed.Where(r => r.Value?["owner_name"]?.GetValue<string>() == "Renamed").Select(r => r.Key).Order(), Is.EqualTo(new[] { "a1", "a7" }),
            "the owner's change reaches both accounts that name it, in whichever partitions they are");
        Assert.That(host.Failed.IsCompleted, Is.False);
    }

    [Test]
    public async Task A_stream_join_after_a_key_change_keeps_its_waiting_records_across_a_restart()
    {
        var options = Kafka.Options(AppId(), partitions: 2);
        var t = DateTime.UtcNow.AddMinutes(-10);
        await using (var first = await Start(options))
        {
            await Kafka.Until(() => first.IsReady, "the stream runs");
            Kafka.ProduceAt(_broker, Topics.shipments_by_id, ("s1", JsonNode.Parse("""{"customer": "c1"}"""), t), ("s2", JsonNode.Parse("""{"customer": "c2"}"""), t));
            Kafka.ProduceAt(_broker, Topics.payments_by_customer, ("c1", JsonNode.Parse("""{"amount": 5}"""), t.AddSeconds(1)));

            var paid = Kafka.Read<string, JsonNode>(_broker, Topics.shipments_paid, 1);
            Assert.That(paid.Select(r => (r.Key, r.Value.ToJsonString())), Is.EqualTo(new[] { ("c1", """{"customer":"c1","paid":5}""") }));
            Assert.That(Kafka.Read<string, JsonNode>(_broker, Topics.shipments_paid, 2, TimeSpan.FromSeconds(3)), Has.Count.EqualTo(1),
                "s2 has no payment yet and its window is open: nothing for it");
        }

        // s2 waits in the left side's changelogged store; a later shipment of the same customer (so the same task) closes its window.
        await using var second = await Start(options);
        Kafka.ProduceAt(_broker, Topics.shipments_by_id, ("s3", JsonNode.Parse("""{"customer": "c2"}"""), t.AddSeconds(30)));

        var all = Kafka.Read<string, JsonNode>(_broker, Topics.shipments_paid, 2);
        Assert.That(all.Select(r => (r.Key, r.Value.ToJsonString())).Order(), Is.EqualTo(new[]
        {
            ("c1", """{"customer":"c1","paid":5}"""),
            ("c2", """{"customer":"c2","paid":null}"""),
        }), "the shipment without a payment is emitted with None after the restart, once its window closed, and only once");
        Assert.That(second.Failed.IsCompleted, Is.False);
    }

    [Test]
    public async Task A_persistent_store_keeps_its_state_on_disk_across_a_restart()
    {
        var options = Kafka.Options(AppId());
        await using (var first = await Start(options))
        {
            Kafka.Produce(_broker, Topics.visits_in, ("home", "v"), ("home", "v"), ("cart", "v"));
            Assert.That(Kafka.Read<string, long>(_broker, Topics.visits_out, 3), Is.EqualTo(new[] { ("home", 1L), ("home", 2L), ("cart", 1L) }));
        }
        Assert.That(Directory.EnumerateFiles(options.StorageDirectory!, "*", SearchOption.AllDirectories).Any(f => f.Contains("visit_counts", StringComparison.Ordinal)),
            Is.True, "RocksDB files of the store in the state directory");
        await using var second = await Start(options);
        Kafka.Produce(_broker, Topics.visits_in, ("home", "v"));

        Assert.That(Kafka.Read<string, long>(_broker, Topics.visits_out, 4)[3], Is.EqualTo(("home", 3L)));
    }

    [Test]
    public async Task A_missing_storage_directory_stops_the_start_unless_ksml_may_create_it()
    {
        var missing = TestDirectories.For("missing-" + Guid.NewGuid().ToString("N"));
        var options = Kafka.Options(AppId()) with { StorageDirectory = missing, CreateStorageDirectory = false };

        var refused = Assert.ThrowsAsync<KsmlConfigException>(() => Start(options));
        Assert.That(refused!.Message, Does.Contain(missing).And.Contain("ksml.createStorageDirectory: true"));
        Assert.That(Directory.Exists(missing), Is.False);

        await using (await Start(options with { CreateStorageDirectory = true }))
            Assert.That(Directory.Exists(missing), Is.True);
        Directory.Delete(missing, recursive: true);
    }

    [Test]
    public async Task A_group_by_goes_through_a_repartition_topic()
    {
        await using var host = await Start(Kafka.Options(AppId(), partitions: 2));
        Kafka.Produce(_broker, Topics.regroup_in,
            ("p1", JsonNode.Parse("""{"category":"fruit"}""")), ("p2", JsonNode.Parse("""{"category":"veg"}""")), ("p3", JsonNode.Parse("""{"category":"fruit"}""")));

        var latest = Kafka.Read<string, long>(_broker, Topics.regroup_out, 3).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Max(r => r.Value));

        Assert.That(latest, Is.EqualTo(new Dictionary<string, long> { ["fruit"] = 2, ["veg"] = 1 }));
    }

    [Test]
    public async Task A_sink_partitions_by_the_key_hash_as_kafka_streams_does_even_after_a_key_change()
    {
        // Streamiz's own sink would keep the source partition with this setting; KSML's `to` leaves the
        // partition to the producer, which hashes the (new) key with murmur2 like Java's producer.
        var options = Kafka.Options(AppId(), partitions: 4);
        options = options with { Kafka = new Dictionary<string, string>(options.Kafka) { ["default.partitioner.reshuffle.every.key"] = "false" } };
        await using var host = await Start(options);
        var records = Enumerable.Range(0, 24).Select(i => ($"k{i}", $"customer-{i % 7}-{i}")).ToArray();
        Kafka.Produce(_broker, Topics.rekey_in, records);

        var inputs = Kafka.ReadRaw(_broker, Topics.rekey_in.Topic, records.Length).ToDictionary(r => System.Text.Encoding.UTF8.GetString(r.Message.Value!), r => r.Partition.Value);
        var outputs = Kafka.ReadRaw(_broker, Topics.rekey_out.Topic, records.Length);

        Assert.That(outputs, Has.Count.EqualTo(records.Length));
        foreach (var output in outputs)
            Assert.That(output.Partition.Value, Is.EqualTo(Murmur2.Partition(output.Message.Key!, 4)), System.Text.Encoding.UTF8.GetString(output.Message.Key!));
        Assert.That(outputs.Count(o => o.Partition.Value != inputs[System.Text.Encoding.UTF8.GetString(o.Message.Value!)]), Is.GreaterThan(0),
            "some records moved partition, so keeping the source partition would have failed");
    }

    [Test]
    public async Task Python_partitioners_pick_the_partition_of_a_repartition_topic_and_of_a_sink()
    {
        await using var host = await Start(Kafka.Options(AppId(), partitions: 4));
        var records = Enumerable.Range(0, 20).Select(i => ($"{i}", $"v{i}")).ToArray();
        Kafka.Produce(_broker, Topics.partitioned_in, records);

        var outputs = Kafka.ReadRaw(_broker, Topics.partitioned_out.Topic, records.Length);

        Assert.That(outputs.Select(o => System.Text.Encoding.UTF8.GetString(o.Message.Value!)), Is.EquivalentTo(records.Select(r => r.Item2)));
        foreach (var output in outputs)
            Assert.That(output.Partition.Value, Is.EqualTo(int.Parse(System.Text.Encoding.UTF8.GetString(output.Message.Key!)) % 4));
    }

    [Test]
    public async Task The_embedded_broker_dropping_old_records_is_logged_as_a_warning()
    {
        var warnings = new RecordingLoggerProvider((category, level) => category == "ksml" && level >= LogLevel.Warning);
        using var loggers = LoggerFactory.Create(b => b.AddProvider(warnings));
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId(), "  enablePipelines: false\n  enableProducers: false"), loggers, _broker);
        // 7 MiB into one partition: past the mock's 5 MiB, so it prunes the oldest.
        var big = new string('x', 100 * 1024);
        Kafka.Produce(_broker, Topics.words_in, Enumerable.Range(0, 70).Select(i => ($"k{i}", big)).ToArray());

        // The definition's other start warnings (a concurrent function without a timeout) are not this test's.
        bool Dropped(string message) => message.Contains("dropped the oldest", StringComparison.Ordinal);
        await Kafka.Until(() => warnings.Messages.Any(Dropped), "the dropped records are reported");

        Assert.That(warnings.Messages.Single(Dropped), Does.Match(@"dropped the oldest \d+ records of words_in \[0\]").And.Contain("5 MiB"));
    }

    [Test]
    public async Task Two_stream_threads_share_the_partitions_and_lose_no_record()
    {
        var options = Kafka.Options(AppId(), partitions: 4);
        options = options with { Kafka = new Dictionary<string, string>(options.Kafka) { ["num.stream.threads"] = "2" } };
        var functions = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(functions));
        // Its own broker, started as an application with two threads starts it.
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, loggers);
        var words = Enumerable.Range(0, 400).Select(i => ($"k{i}", $"w{i}")).ToArray();
        var counted = Enumerable.Range(0, 200).Select(i => ($"c{i % 20}", "x")).ToArray();

        Kafka.Produce(host.Broker!, Topics.words_in, words);
        Kafka.Produce(host.Broker!, Topics.counts_in, counted);
        // Read until everything arrived, not a fixed number of records: under at-least-once a task that moves
        // between the threads while the second one joins may process its last records again (seen under load).
        var shouted = Kafka.ReadUntil<string, string>(host.Broker!, Topics.words_out,
            read => read.Select(r => r.Key).Distinct().Count() == words.Length, TimeSpan.FromSeconds(60));
        var counts = Kafka.ReadUntil<string, long>(host.Broker!, Topics.counts_out,
            read => read.Where(r => r.Value >= 10).Select(r => r.Key).Distinct().Count() == 20, TimeSpan.FromSeconds(60));

        Assert.That(shouted.Distinct().OrderBy(r => r.Key), Is.EqualTo(words.Select(w => (w.Item1, w.Item2.ToUpperInvariant() + "!")).OrderBy(r => r.Item1)),
            "every word came out, right, and nothing else did");
        var countsPerKey = counts.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Select(r => r.Value).Distinct().Order().ToList());
        Assert.That(countsPerKey.Keys, Is.EquivalentTo(Enumerable.Range(0, 20).Select(i => $"c{i}")));
        Assert.That(countsPerKey.Values, Has.All.Matches<List<long>>(values => values.Take(10).SequenceEqual(Enumerable.Range(1, 10).Select(i => (long)i))),
            "each key counted every one of its 10 records: 1 to 10 all came out (a replay may count on past 10)");
        Assert.That(functions.Threads.Keys, Has.Count.EqualTo(2), "the Python function ran on both stream threads");
    }

    [Test]
    public async Task An_application_starts_after_another_one_stopped_and_its_logger_factory_was_disposed()
    {
        // Streamiz reads a static logger factory; the second host must not reach for the first one's.
        using (var first = LoggerFactory.Create(b => b.AddProvider(new RecordingLoggerProvider())))
            await (await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId()), first, _broker)).DisposeAsync();
        using var second = LoggerFactory.Create(b => b.AddProvider(new RecordingLoggerProvider()));
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId()), second, _broker);
        Kafka.Produce(_broker, Topics.words_in, ("1", "again"));

        Assert.That(Kafka.Read<string, string>(_broker, Topics.words_out, 1), Is.EqualTo(new[] { ("1", "AGAIN!") }));
    }

    [Test]
    public async Task Exactly_once_commits_results_that_a_read_committed_consumer_sees_once()
    {
        var options = Kafka.Options(AppId()) with { Kafka = new Dictionary<string, string>(Kafka.Options(AppId()).Kafka) { ["processing.guarantee"] = "exactly_once" } };
        await using var host = await Start(options);
        Kafka.Produce(_broker, Topics.counts_in, ("k", "1"), ("k", "2"), ("k", "3"));

        var output = Kafka.Read<string, long>(_broker, Topics.counts_out, 3, readCommitted: true);

        Assert.That(output, Is.EqualTo(new[] { ("k", 1L), ("k", 2L), ("k", 3L) }));
    }

    [Test]
    public async Task Two_instances_with_one_application_id_split_the_partitions_and_lose_nothing()
    {
        var options = Kafka.Options(AppId(), partitions: 2);
        var firstLog = new RecordingLoggerProvider();
        var secondLog = new RecordingLoggerProvider();
        using var firstLoggers = LoggerFactory.Create(b => b.AddProvider(firstLog));
        using var secondLoggers = LoggerFactory.Create(b => b.AddProvider(secondLog));
        await using var first = await KsmlHost.StartAsync([new IntegrationKsml()], options, firstLoggers, _broker);
        await using var second = await KsmlHost.StartAsync([new IntegrationKsml()], options, secondLoggers, _broker);
        await Kafka.Until(() => first.IsReady && second.IsReady, "both instances run");

        var records = Enumerable.Range(0, 40).Select(i => ($"key-{i}", $"w{i}")).ToArray();
        Kafka.Produce(_broker, Topics.words_in, records);
        var output = Kafka.Read<string, string>(_broker, Topics.words_out, 40);

        Assert.That(output.Select(r => r.Key).Order(), Is.EqualTo(records.Select(r => r.Item1).Order()));
        Assert.That(firstLog.Messages, Is.Not.Empty, "the first instance processed a share");
        Assert.That(secondLog.Messages, Is.Not.Empty, "the second instance processed a share");
        // At-least-once: a late rebalance may have an instance redo a record, but between them they saw every key.
        var processed = firstLog.Messages.Concat(secondLog.Messages).Select(m => m.Replace("shouting ", "")).Distinct().Order();
        Assert.That(processed, Is.EqualTo(records.Select(r => r.Item1).Order()));
    }
}
