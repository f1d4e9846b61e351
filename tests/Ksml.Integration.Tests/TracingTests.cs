using System.Diagnostics;
using System.Net;
using System.Text;
using Confluent.Kafka;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Topics = Ksml.Integration.Tests.IntegrationKsml.Topics;

namespace Ksml.Integration.Tests;

/// <summary>Every record's path is one trace: W3C headers in, spans per record and function call, headers out, to HTTP and dead letters.</summary>
[TestFixture, NonParallelizable]
public sealed class TracingTests
{
    private EmbeddedKafkaBroker _broker = null!;
    private readonly List<Activity> _spans = [];
    private TracerProvider _exporter = null!;

    [SetUp]
    public void Start()
    {
        _broker = EmbeddedKafkaBroker.Start();
        _spans.Clear();
        _exporter = Sdk.CreateTracerProviderBuilder().AddSource(Ksml.Runtime.Observability.KsmlTracing.SourceName).AddInMemoryExporter(_spans).Build()!;
    }

    [TearDown]
    public void Stop()
    {
        _exporter.Dispose();
        _broker.Dispose();
    }

    private static string AppId() => "tr-" + Guid.NewGuid().ToString("N")[..10];

    private readonly ActivityTraceId _traceId = ActivityTraceId.CreateRandom();
    private readonly ActivitySpanId _upstream = ActivitySpanId.CreateRandom();

    /// <summary>A record as a traced upstream service writes it: with its own span's context in <c>traceparent</c>.</summary>
    private void ProduceTraced(string value)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, Acks = Acks.All }).Build();
        var headers = new Headers { { "traceparent", Encoding.UTF8.GetBytes($"00-{_traceId}-{_upstream}-01") } };
        producer.Produce(Topics.traced_in.Topic, new Message<string, string> { Key = "k", Value = value, Headers = headers });
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    private List<Activity> Trace() { lock (_spans) return _spans.Where(s => s.TraceId == _traceId).ToList(); }

    private Activity Span(Func<Activity, bool> which, string what) => Trace().SingleOrDefault(which) ?? throw new AssertionException($"no single span {what} in: {string.Join(", ", Trace().Select(s => s.DisplayName))}");

    private static string? TraceParent(ConsumeResult<byte[]?, byte[]?> record) =>
        record.Message.Headers.TryGetLastBytes("traceparent", out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    [Test]
    public async Task A_record_continues_the_trace_it_arrived_with_through_two_pipelines_connected_by_a_topic()
    {
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId()), Kafka.Logs, _broker);
        ProduceTraced("x");

        var output = Kafka.ReadRaw(_broker, Topics.traced_out.Topic, 1).Single();
        await Kafka.Until(() => Trace().Any(s => s.DisplayName == "process traced_mid") && Trace().Count(s => s.DisplayName.EndsWith("_mapper", StringComparison.Ordinal)) == 2, "both hops' spans exported");

        var first = Span(s => s.DisplayName == "process traced_in", "for the record read from traced_in");
        var firstCall = Span(s => s.DisplayName.Contains("trace_first_hop", StringComparison.Ordinal), "for the first hop's function");
        var lookup = Span(s => s.DisplayName == "lookup", "opened by trace.span in Python");
        var second = Span(s => s.DisplayName == "process traced_mid", "for the record read from traced_mid");
        var secondCall = Span(s => s.DisplayName.Contains("trace_second_hop", StringComparison.Ordinal), "for the second hop's function");
        Assert.Multiple(() =>
        {
            Assert.That(first.ParentSpanId, Is.EqualTo(_upstream), "the record's span continues the context it arrived with");
            Assert.That(first.Kind, Is.EqualTo(ActivityKind.Consumer));
            Assert.That(first.GetTagItem("messaging.destination.name"), Is.EqualTo("traced_in"));
            Assert.That(firstCall.ParentSpanId, Is.EqualTo(first.SpanId), "a function call is a child of its record's span");
            Assert.That(firstCall.GetTagItem("code.file.path")?.ToString(), Does.EndWith("integration.ksml.yaml"));
            Assert.That(firstCall.GetTagItem("code.line.number"), Is.GreaterThan(0));
            Assert.That(lookup.ParentSpanId, Is.EqualTo(firstCall.SpanId), "Python's span is a child of the function's");
            Assert.That(second.ParentSpanId, Is.EqualTo(first.SpanId), "the record written to traced_mid carried the first record's context");
            Assert.That(secondCall.ParentSpanId, Is.EqualTo(second.SpanId));
            Assert.That(Encoding.UTF8.GetString(output.Message.Value!), Is.EqualTo($"x|00-{_traceId}-{lookup.SpanId}-01"), "trace.headers() inside the span gives its context");
            Assert.That(TraceParent(output), Is.EqualTo($"00-{_traceId}-{second.SpanId}-01"), "the output carries the trace on, replacing the header it arrived with");
        });
    }

    [Test]
    public async Task A_record_that_fails_is_dead_lettered_in_its_own_trace()
    {
        var options = Kafka.Options(AppId(), """
              errorHandling:
                process:
                  handler: continueOnFail
                  deadLetterTopic: traced_dead_letters
            """);
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker);
        ProduceTraced("fail");

        var dead = Kafka.ReadRaw(_broker, "traced_dead_letters", 1).Single();
        await Kafka.Until(() => Trace().Any(s => s.DisplayName == "dead letter traced_dead_letters"), "the dead letter's span exported");

        var record = Span(s => s.DisplayName == "process traced_in", "for the record");
        var call = Span(s => s.DisplayName.Contains("trace_first_hop", StringComparison.Ordinal), "for the failing call");
        var letter = Span(s => s.DisplayName == "dead letter traced_dead_letters", "for the dead letter");
        Assert.Multiple(() =>
        {
            Assert.That(call.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(call.GetTagItem("error.type"), Is.EqualTo("ValueError"));
            Assert.That(call.StatusDescription, Does.Not.Contain("refused on purpose"), "an error's message may quote the record; the trace gets its type only");
            Assert.That(letter.ParentSpanId, Is.EqualTo(record.SpanId));
            Assert.That(TraceParent(dead), Is.EqualTo($"00-{_traceId}-{letter.SpanId}-01"), "whoever replays the dead letter continues the trace");
        });
    }

    [Test]
    public async Task Spans_are_exported_over_otlp_http_to_the_collector_the_runner_file_names()
    {
        using var collector = new HttpListener();
        var url = Loopback.HttpUrl();
        collector.Prefixes.Add(url + "/");
        collector.Start();
        var export = collector.GetContextAsync().ContinueWith(t =>
        {
            var request = t.Result.Request;
            using var body = new MemoryStream();
            request.InputStream.CopyTo(body);
            t.Result.Response.StatusCode = 200;
            t.Result.Response.Close();
            return (request.HttpMethod, request.Url!.AbsolutePath, request.ContentType, Body: body.ToArray());
        });
        var options = Kafka.Options(AppId(), $"""
              tracing:
                sampleRatio: 1.0
                otlp:
                  endpoint: {url}/v1/traces
                  protocol: http/protobuf
            """);
        await using (var host = await KsmlHost.StartAsync([new IntegrationKsml()], options, Kafka.Logs, _broker))
        {
            ProduceTraced("x");
            Kafka.ReadRaw(_broker, Topics.traced_out.Topic, 1);
        } // stopping exports what is left

        var (method, path, contentType, body) = await export.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That((method, path, contentType), Is.EqualTo(("POST", "/v1/traces", "application/x-protobuf")));
        Assert.That(Convert.ToHexString(body).ToLowerInvariant(), Does.Contain(_traceId.ToHexString()), "the record's trace id is in the exported spans");
    }

    [Test]
    public async Task An_http_call_from_python_carries_the_trace_of_the_record_being_processed()
    {
        using var server = new HttpListener();
        var url = Loopback.HttpUrl() + "/";
        server.Prefixes.Add(url);
        server.Start();
        var received = server.GetContextAsync().ContinueWith(t =>
        {
            var header = t.Result.Request.Headers["traceparent"];
            t.Result.Response.Close();
            return header;
        });
        await using var host = await KsmlHost.StartAsync([new IntegrationKsml()], Kafka.Options(AppId()), Kafka.Logs, _broker);
        ProduceTraced(url);

        var traceparent = await received.WaitAsync(TimeSpan.FromSeconds(60));
        await Kafka.Until(() => Trace().Any(s => s.DisplayName.Contains("trace_second_hop", StringComparison.Ordinal)), "the second hop's span exported");

        var call = Span(s => s.DisplayName.Contains("trace_second_hop", StringComparison.Ordinal), "for the calling function");
        Assert.That(traceparent, Is.EqualTo($"00-{_traceId}-{call.SpanId}-01"), "the server sees the record's trace, with the calling function as the parent");
    }
}
