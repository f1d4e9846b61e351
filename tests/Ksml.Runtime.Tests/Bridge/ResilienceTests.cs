using System.Diagnostics;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>Ksml.NET's declarative resilience: timeout, retry, circuit breaker with fallback, result cache.</summary>
public sealed class ResilienceTests
{
    private static IKsmlFunction Resilient(KsmlFunctionDefinition definition, KsmlResilience resilience) =>
        ResilientFunction.Wrap(Factory.Create(definition with { Resilience = resilience }), Factory);

    private static readonly string[] KeyValue = ["key", "value"];

    [Test]
    public void A_call_past_its_timeout_gets_a_python_timeout_error_and_the_next_call_is_unaffected()
    {
        var f = Resilient(Definition("spin", "valueTransformer", KeyValue, code: "if value == 'spin':\n  while True:\n    pass", expression: "value", resultType: "string"),
            new KsmlResilience(200, null, null, null));

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "spin"))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(error.ErrorType, Is.EqualTo("TimeoutError"));
        Assert.That(error.ErrorMessage, Is.EqualTo("the call took longer than its 200 ms timeout (resilience.timeout)"));
        Assert.That(f.Invoke(null, "k", "fine"), Is.EqualTo("fine"));
        Thread.Sleep(300);
        Assert.That(f.Invoke(null, "k", "still fine"), Is.EqualTo("still fine"), "no timeout left pending for a later call");
    }

    [Test]
    public void A_rate_limit_holds_the_calls_of_many_threads_to_its_rate_over_ten_seconds_by_making_them_wait()
    {
        var f = Resilient(Definition("limited_" + Guid.NewGuid().ToString("N")[..6], "valueTransformer", KeyValue, expression: "value", resultType: "string"),
            new KsmlResilience(null, null, null, null, new KsmlRateLimitPolicy(40, 1000)));
        var calls = 0;
        var failed = 0;
        var clock = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                try
                {
                    if (Equals(f.Invoke(null, "k", "v"), "v") && clock.Elapsed < TimeSpan.FromSeconds(10))
                        Interlocked.Increment(ref calls);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());

        Assert.That(failed, Is.Zero, "calls past the limit wait; none is refused");
        Assert.That(calls, Is.InRange(380, 420), $"40 per second for 10 s, within 5 % (got {calls})");
        TestContext.Out.WriteLine($"calls in 10 s: {calls}");
    }

    [Test]
    public void Retries_the_named_exception_types_and_their_subclasses_with_backoff()
    {
        var f = Resilient(Definition("flaky", "valueTransformer", KeyValue,
                globalCode: "attempts = {}",
                code: "attempts[value] = attempts.get(value, 0) + 1\nif value == 'refused' and attempts[value] < 3:\n  raise ConnectionRefusedError('no')\nif value == 'bad':\n  raise ValueError('bad input')",
                expression: "value + ':' + str(attempts[value])", resultType: "string"),
            new KsmlResilience(null, new KsmlRetryPolicy(4, 1, 10, false, ["ConnectionError"]), null, null));

        Assert.That(f.Invoke(null, "k", "refused"), Is.EqualTo("refused:3"), "ConnectionRefusedError is a ConnectionError");
        Assert.That(() => f.Invoke(null, "k", "bad"), Throws.InstanceOf<KsmlFunctionException>().With.Property("ErrorType").EqualTo("ValueError"));
        Assert.That(f.Invoke(null, "k", "bad2"), Is.EqualTo("bad2:1"));
    }

    [Test]
    public void An_open_circuit_breaker_answers_with_the_fallback_without_calling_and_closes_after_a_success()
    {
        var f = Resilient(Definition("lookup", "valueTransformer", KeyValue,
                globalCode: "import builtins\nbuiltins.lookup_calls = 0",
                code: "import builtins\nbuiltins.lookup_calls += 1\nif value == 'down':\n  raise ConnectionError('service down')",
                expression: "'live:' + value", resultType: "string"),
            new KsmlResilience(null, null, new KsmlCircuitBreakerPolicy(0.5, 2, 10_000, 600, new PythonCode("'cached:' + value", 1, 1)), null));
        var calls = Create(Definition("lookup_calls", "valueTransformer", KeyValue, globalCode: "import builtins", expression: "builtins.lookup_calls", resultType: "long"));

        Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "down"));
        Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "down"));
        var before = calls.Invoke(null, null, null);
        Assert.That(f.Invoke(null, "k", "up"), Is.EqualTo("cached:up"), "open: the fallback answers");
        Assert.That(calls.Invoke(null, null, null), Is.EqualTo(before), "open: the function is not called");

        Thread.Sleep(800);
        Assert.That(f.Invoke(null, "k", "up"), Is.EqualTo("live:up"), "half-open: a trial call goes through and closes it");
        Assert.That(f.Invoke(null, "k", "again"), Is.EqualTo("live:again"));
    }

    [Test]
    public void An_open_circuit_breaker_without_a_fallback_fails_each_call_and_counts_it()
    {
        var breaker = new KsmlResilience(null, null, new KsmlCircuitBreakerPolicy(0.5, 2, 10_000, 60_000, null), null);
        var f = Resilient(Definition("quote", "valueTransformer", KeyValue,
            code: "if value == 'down':\n  raise ConnectionError('service down')", expression: "value", resultType: "string"), breaker);
        long rejected = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Ksml.Runtime.Observability.KsmlMetrics.MeterName && instrument.Name == "resilience.breaker.rejections")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t.Key == "function" && t.Value is string name && name.EndsWith(".quote", StringComparison.Ordinal)))
                Interlocked.Add(ref rejected, value);
        });
        listener.Start();

        Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "down"));
        Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "down"));
        var open = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", "up"))!;

        Assert.That(open.ErrorType, Is.EqualTo("CircuitOpen"));
        Assert.That(Interlocked.Read(ref rejected), Is.EqualTo(1));
    }

    [Test]
    public void A_breaker_without_a_fallback_is_warned_of_when_its_rejections_would_only_be_logged()
    {
        var functions = new[]
        {
            Definition("quote", "valueTransformer", KeyValue, expression: "value", resultType: "string") with
            {
                Resilience = new KsmlResilience(null, null, new KsmlCircuitBreakerPolicy(0.5, 2, 10_000, 30_000, null), null),
            },
            Definition("price", "valueTransformer", KeyValue, expression: "value", resultType: "string") with
            {
                Resilience = new KsmlResilience(null, null, new KsmlCircuitBreakerPolicy(0.5, 2, 10_000, 30_000, new PythonCode("None", 1, 1)), null),
            },
        };
        var continueOnFail = new ErrorPolicy { Handler = ErrorHandlerKind.ContinueOnFail };

        var warnings = new ErrorHandlingOptions { Process = continueOnFail }.SilentBreakerWarnings(functions).ToList();

        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.That(warnings[0], Does.Contain("function 'quote' has a circuit breaker without a fallback").And.Contain("30000 ms"));
        Assert.That(new ErrorHandlingOptions { Process = continueOnFail with { DeadLetterTopic = "dlq" } }.SilentBreakerWarnings(functions), Is.Empty, "dead-lettered, not lost");
        Assert.That(new ErrorHandlingOptions().SilentBreakerWarnings(functions), Is.Empty, "stopOnFail stops instead");
    }

    [Test]
    public void The_cache_answers_repeated_arguments_until_the_ttl_passes()
    {
        var f = Resilient(Definition("priced", "valueTransformer", KeyValue,
                globalCode: "calls = [0]", code: "calls[0] += 1", expression: "{'sku': value['sku'], 'call': calls[0]}", resultType: "json"),
            new KsmlResilience(null, null, null, new KsmlCachePolicy(300, 100, new PythonCode("value['sku']", 1, 1))));
        System.Text.Json.Nodes.JsonNode Sku(string sku, string noise) => System.Text.Json.Nodes.JsonNode.Parse($$"""{"sku":"{{sku}}","noise":"{{noise}}"}""")!;

        var first = f.Invoke(null, "k", Sku("a", "1"))!.ToString();
        var cached = f.Invoke(null, "k", Sku("a", "2"))!.ToString();
        var other = f.Invoke(null, "k", Sku("b", "1"))!.ToString();
        Thread.Sleep(450);
        var expired = f.Invoke(null, "k", Sku("a", "3"))!.ToString();

        Assert.That(first, Does.Contain("\"call\": 1"));
        Assert.That(cached, Is.EqualTo(first), "same key: from the cache");
        Assert.That(other, Does.Contain("\"call\": 2"));
        Assert.That(expired, Does.Contain("\"call\": 3"), "after the TTL: called again");
    }
}
