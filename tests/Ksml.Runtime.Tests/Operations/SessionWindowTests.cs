using Ksml.Testing;
using System.Text.Json.Nodes;
using Ksml.Runtime.Dsl;
using Ksml.Runtime.Tests.Support;
using Topics = Ksml.Runtime.Tests.SessionsKsml.Topics;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>windowBySession, which Streamiz lacks and Ksml.NET builds with Kafka Streams' semantics.</summary>
[TestFixture]
public sealed class SessionWindowTests
{
    private const long T0 = 1_700_000_000_000L;
    private KsmlDriver _driver = null!;
    private Streamiz.Kafka.Net.Mock.TestInputTopic<string, JsonNode> _clicks = null!;

    [SetUp]
    public void Start()
    {
        _driver = new KsmlDriver(new SessionsKsml());
        _clicks = _driver.Input<string, JsonNode>(Topics.clicks);
    }

    [TearDown]
    public void Stop() => _driver.Dispose();

    private void Click(string key, string user, string page, long at) =>
        _clicks.PipeInput(key, JsonNode.Parse($$"""{"user":"{{user}}","page":"{{page}}"}""")!, DateTimeOffset.FromUnixTimeMilliseconds(at).UtcDateTime);

    private static string Session(string key, long start, long end) => $"{key}@{start}-{end}";

    [Test]
    public void Count_extends_a_session_within_the_gap_starts_a_new_one_after_it_and_drops_a_late_record()
    {
        var counts = _driver.Output<string, long?>(Topics.session_counts);

        Click("a", "u", "home", T0);
        Click("a", "u", "cart", T0 + 5_000);
        Click("a", "u", "help", T0 + 30_000);
        // Stream time is now T0+30s and there is no grace: the session [T0, T0+5s] is closed.
        Click("a", "u", "late", T0 + 2_000);
        Click("b", "u", "home", T0 + 31_000);

        Assert.That(counts.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value)), Is.EqualTo(new (string, long?)[]
        {
            (Session("a", T0, T0), 1L),
            (Session("a", T0, T0), null), // retracted: the session grew
            (Session("a", T0, T0 + 5_000), 2L),
            (Session("a", T0 + 30_000, T0 + 30_000), 1L),
            (Session("b", T0 + 31_000, T0 + 31_000), 1L),
        }));
    }

    [Test]
    public void A_record_between_two_sessions_merges_them_with_the_merger_and_retracts_both()
    {
        var pages = _driver.Output<string, JsonNode?>(Topics.session_pages);

        Click("k1", "u1", "home", T0);
        Click("k2", "u1", "cart", T0 + 15_000);
        // Within the 5 s grace, and within 10 s of both sessions.
        Click("k3", "u1", "search", T0 + 8_000);

        Assert.That(pages.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value?.ToJsonString())), Is.EqualTo(new (string, string?)[]
        {
            (Session("u1", T0, T0), """{"pages":["home"]}"""),
            (Session("u1", T0 + 15_000, T0 + 15_000), """{"pages":["cart"]}"""),
            (Session("u1", T0, T0), null),
            (Session("u1", T0 + 15_000, T0 + 15_000), null),
            (Session("u1", T0, T0 + 15_000), """{"pages":["home","cart","search"]}"""),
        }));
    }

    [Test]
    public void Grace_admits_a_late_record_while_stream_time_is_within_the_gap_plus_the_grace_of_its_session_end()
    {
        var pages = _driver.Output<string, JsonNode?>(Topics.session_pages);
        var counts = _driver.Output<string, long?>(Topics.session_counts);

        Click("u1", "u1", "home", T0);
        Click("u2", "u2", "x", T0 + 14_000);
        // A session closes when stream time passes its end by the gap (10 s) plus the grace. At T0+14s
        // the session [T0, T0+1s] is within the pages' 5 s grace; the counts have none.
        Click("u1", "u1", "in grace", T0 + 1_000);
        Click("u2", "u2", "y", T0 + 40_000);
        Click("u1", "u1", "too late", T0 + 2_000);

        var written = pages.ReadKeyValueList().Where(r => r.Message.Value is not null).Select(r => (r.Message.Key, r.Message.Value!.ToJsonString())).ToList();
        Assert.That(written, Does.Contain((Session("u1", T0, T0 + 1_000), """{"pages":["home","in grace"]}""")));
        Assert.That(written.Select(w => w.Item2), Has.None.Contains("too late"));
        Assert.That(counts.ReadKeyValueList().Select(r => r.Message.Key), Is.EqualTo(new[]
        {
            Session("u1", T0, T0), Session("u2", T0 + 14_000, T0 + 14_000), Session("u2", T0 + 40_000, T0 + 40_000),
        }));
    }

    [Test]
    public void Suppressed_until_the_session_closes_only_final_sessions_come_out()
    {
        var final = _driver.Output<string, JsonNode?>(Topics.final_sessions);

        Click("k", "u1", "home", T0);
        Click("k", "u1", "search", T0 + 8_000);
        Click("k", "u1", "cart", T0 + 15_000);
        // Stream time T0+16s: the session [T0, T0+15s] could still grow until T0+25s.
        Click("k", "u2", "x", T0 + 16_000);
        Assert.That(final.ReadKeyValueList(), Is.Empty, "no session has closed yet");
        Click("k", "u2", "y", T0 + 26_000);

        Assert.That(final.ReadKeyValueList().Select(r => (r.Message.Key, r.Message.Value?.ToJsonString())), Is.EqualTo(new (string, string?)[]
        {
            (Session("u1", T0, T0 + 15_000), """{"pages":["home","search","cart"]}"""),
        }));
    }

    [Test]
    public void Closed_sessions_of_keys_that_went_quiet_are_removed_from_the_store_as_stream_time_advances()
    {
        var store = _driver.Driver.GetKeyValueStore<string, List<Session<long?>>>("sessions_count_sessions_3_count_store");

        Click("a", "u", "home", T0);
        Click("b", "u", "home", T0 + 1_000);
        Assert.That(store.All().Select(e => e.Key).Order(), Is.EqualTo(new[] { "a", "b" }));
        Click("c", "u", "home", T0 + 60_000);

        Assert.That(store.All().Select(e => (e.Key, e.Value.Single().Start)), Is.EqualTo(new[] { ("c", T0 + 60_000) }));
    }

    [Test]
    public void A_windowed_key_is_written_as_ksml_writes_it_a_json_struct_with_its_window()
    {
        var summary = _driver.Output<string, long?>(Topics.session_summary.Topic, KsmlDataTypes.Parse("string"), KsmlDataTypes.Parse("long"));

        Click("a", "u", "home", T0);
        var record = summary.ReadKeyValue();

        Assert.That(JsonNode.Parse(record.Message.Key)!.ToJsonString(), Is.EqualTo(
            $$"""{"start":{{T0}},"end":{{T0}},"startTime":"2023-11-14T22:13:20.000Z","endTime":"2023-11-14T22:13:20.000Z","key":"a"}"""));
        Assert.That(record.Message.Value, Is.EqualTo(1L));
    }

    [Test]
    public void Python_keeps_sessions_through_the_session_store_api()
    {
        var output = _driver.Output<string, JsonNode>(Topics.python_sessions);

        foreach (var (user, at) in new[] { ("a", 0L), ("a", 30_000), ("a", 200_000), ("c", 0) })
            _clicks.PipeInput(user, JsonNode.Parse($$"""{"user":"{{user}}","page":"p","at":{{at}}}""")!, DateTimeOffset.FromUnixTimeMilliseconds(T0 + at).UtcDateTime);

        Assert.That(output.ReadKeyValueList().Select(r => r.Message.Value.ToJsonString()), Is.EqualTo(new[]
        {
            """{"start":0,"end":0,"count":1,"sessions":1,"in_range":["a"],"everyone":1}""",
            """{"start":0,"end":30000,"count":2,"sessions":1,"in_range":["a"],"everyone":1}""",
            """{"start":200000,"end":200000,"count":1,"sessions":2,"in_range":["a"],"everyone":2}""",
            """{"start":0,"end":0,"count":1,"sessions":1,"in_range":["a"],"everyone":3}""",
        }), "fetch(keyFrom, keyTo) leaves c out of a..b; findSessions(None, None, ...) spans every key");
    }
}
