using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Caching.Memory;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Ksml.Runtime.Functions;

/// <summary>
/// A function's declared resilience (Ksml.NET's <c>resilience:</c> block) around every call, with
/// Polly: retries with exponential backoff for the named Python exception types, then a circuit
/// breaker that answers with the fallback expression while open, and a result cache with a TTL.
/// (The timeout is the bridge's: it must interrupt Python itself.) Breaker state, retries and
/// cache hits are metrics.
/// </summary>
public sealed class ResilientFunction : IKsmlFunction, IDisposable
{
    private static readonly Counter<long> Retries = KsmlMetrics.Meter.CreateCounter<long>("resilience.retries", null, "Retries of KSML function calls");
    private static readonly Counter<long> BreakerTransitions = KsmlMetrics.Meter.CreateCounter<long>("resilience.breaker.transitions", null, "Circuit breaker state changes, by new state");
    private static readonly Counter<long> Rejections = KsmlMetrics.Meter.CreateCounter<long>("resilience.breaker.rejections", null, "Calls refused by an open circuit breaker with no fallback; each fails to the process policy");
    private static readonly Counter<long> Fallbacks = KsmlMetrics.Meter.CreateCounter<long>("resilience.fallbacks", null, "Calls answered by a circuit breaker's fallback");
    private static readonly Counter<long> CacheLookups = KsmlMetrics.Meter.CreateCounter<long>("resilience.cache.lookups", null, "Result cache lookups, by outcome");
    private static readonly ConcurrentDictionary<string, int> OpenBreakers = new(StringComparer.Ordinal);
    private static readonly ObservableGauge<int> BreakerOpen = KsmlMetrics.Meter.CreateObservableGauge("resilience.breaker.open",
        () => OpenBreakers.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("function", p.Key))), null, "1 while a function's circuit breaker is open");

    private readonly IKsmlFunction _inner;
    private readonly IKsmlFunction? _fallback;
    private readonly IKsmlFunction? _cacheKey;
    private readonly ResiliencePipeline<object?> _pipeline;
    private readonly MemoryCache? _cache;
    private readonly TimeSpan _ttl;
    private readonly KeyValuePair<string, object?> _tag;

    private ResilientFunction(IKsmlFunction inner, IKsmlFunction? fallback, IKsmlFunction? cacheKey)
    {
        _inner = inner;
        _fallback = fallback;
        _cacheKey = cacheKey;
        var resilience = inner.Definition.Resilience!;
        var name = inner.Definition.Definition + "." + inner.Definition.Name;
        _tag = new("function", name);
        var builder = new ResiliencePipelineBuilder<object?>();
        if (resilience.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions<object?>
            {
                MaxRetryAttempts = retry.MaxAttempts,
                Delay = TimeSpan.FromMilliseconds(retry.BackoffMs),
                MaxDelay = TimeSpan.FromMilliseconds(retry.MaxBackoffMs),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = retry.Jitter,
                ShouldHandle = new PredicateBuilder<object?>().Handle<KsmlFunctionException>(e => retry.On.Count == 0 || retry.On.Any(e.IsOfType)),
                OnRetry = _ =>
                {
                    Retries.Add(1, _tag);
                    return default;
                },
            });
        }
        if (resilience.CircuitBreaker is { } breaker)
        {
            // Reported closed (0) from the start, so an alert on it has its series before the first failure.
            OpenBreakers.TryAdd(name, 0);
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<object?>
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = TimeSpan.FromMilliseconds(Math.Max(500, breaker.SamplingMs)),
                BreakDuration = TimeSpan.FromMilliseconds(Math.Max(500, breaker.BreakMs)),
                ShouldHandle = new PredicateBuilder<object?>().Handle<KsmlFunctionException>().Handle<KsmlTypeException>(),
                OnOpened = _ => Transition(name, "open", 1),
                OnHalfOpened = _ => Transition(name, "half-open", 0),
                OnClosed = _ => Transition(name, "closed", 0),
            });
        }
        if (resilience.RateLimit is { } limit)
        {
            // Innermost, so every attempt (retries too) takes a permit; one limiter per function for the whole
            // application, shared by its stream threads and workers. Calls past the limit wait their turn in order.
            // A sliding window gives a permit back when the segment it was taken in leaves the window, which is up
            // to one segment early. The window is one segment longer than the period, so a permit comes back no
            // sooner than the period after it was taken: no run of one period ever holds more than the permits.
            var segments = (int)Math.Clamp(limit.PerMs / 10, 1, 100);
            var segmentMs = Math.Max(1, limit.PerMs / segments);
            var limiter = RateLimiters.GetOrAdd(name, _ => new System.Threading.RateLimiting.SlidingWindowRateLimiter(new System.Threading.RateLimiting.SlidingWindowRateLimiterOptions
            {
                PermitLimit = limit.Permits,
                Window = TimeSpan.FromMilliseconds(segmentMs * (segments + 1)),
                SegmentsPerWindow = segments + 1,
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = System.Threading.RateLimiting.QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            }));
            builder.AddRateLimiter(new Polly.RateLimiting.RateLimiterStrategyOptions
            {
                RateLimiter = args => WaitFor(limiter, args.Context.CancellationToken),
            });
        }
        _pipeline = builder.Build();
        if (resilience.Cache is { } cache)
        {
            _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = cache.MaxEntries });
            _ttl = TimeSpan.FromMilliseconds(cache.TtlMs);
        }
    }

    private static readonly ConcurrentDictionary<string, System.Threading.RateLimiting.RateLimiter> RateLimiters = new(StringComparer.Ordinal);
    private static readonly Histogram<double> RateLimitWaits = KsmlMetrics.Meter.CreateHistogram<double>("resilience.rate_limit.wait", "ms", "How long calls waited for a rate limit's permit");

    private async ValueTask<System.Threading.RateLimiting.RateLimitLease> WaitFor(System.Threading.RateLimiting.RateLimiter limiter, CancellationToken cancellation)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var lease = await limiter.AcquireAsync(1, cancellation).ConfigureAwait(false);
        RateLimitWaits.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tag);
        return lease;
    }

    private ValueTask Transition(string function, string state, int open)
    {
        OpenBreakers[function] = open;
        BreakerTransitions.Add(1, _tag, new KeyValuePair<string, object?>("state", state));
        return default;
    }

    /// <summary>
    /// Wraps <paramref name="inner"/> when its definition declares resilience; its fallback and
    /// cache key expressions are compiled by <paramref name="functions"/> as functions of the same parameters.
    /// </summary>
    public static IKsmlFunction Wrap(IKsmlFunction inner, IKsmlFunctionFactory functions)
    {
        var definition = inner.Definition;
        if (definition.Resilience is not { } resilience || (resilience.Retry, resilience.CircuitBreaker, resilience.Cache, resilience.RateLimit) is (null, null, null, null))
            return inner;
        IKsmlFunction? Helper(string suffix, PythonCode? expression) => expression is null ? null : functions.Create(definition with
        {
            Name = definition.Name + "_" + suffix,
            Type = "generic",
            Code = null,
            Expression = expression,
            Stores = [],
            Resilience = null,
            Native = null,
        });
        return new ResilientFunction(inner, Helper("fallback", resilience.CircuitBreaker?.Fallback), Helper("cache_key", resilience.Cache?.Key));
    }

    /// <inheritdoc />
    public KsmlFunctionDefinition Definition => _inner.Definition;

    /// <inheritdoc />
    public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments)
    {
        string? key = null;
        if (_cache is not null)
        {
            key = _cacheKey is null
                ? KsmlValues.ToJsonNode(arguments)?.ToJsonString() ?? "null"
                : Convert.ToString(_cacheKey.Invoke(null, arguments), System.Globalization.CultureInfo.InvariantCulture) ?? "null";
            if (_cache.TryGetValue(key, out var cached))
            {
                CacheLookups.Add(1, _tag, new KeyValuePair<string, object?>("outcome", "hit"));
                return Copy(cached);
            }
            CacheLookups.Add(1, _tag, new KeyValuePair<string, object?>("outcome", "miss"));
        }
        object? result;
        try
        {
            result = _pipeline.Execute(static state => state.Self._inner.Invoke(state.Stores, state.Arguments), (Self: this, Stores: stores, Arguments: arguments));
        }
        catch (BrokenCircuitException open)
        {
            if (_fallback is null)
            {
                Rejections.Add(1, _tag);
                throw new KsmlFunctionException(Definition.Name, Definition.SourcePath, Definition.Line, 0, "CircuitOpen",
                    "the circuit breaker is open after repeated failures (resilience.circuitBreaker); no fallback is declared", null, open);
            }
            Fallbacks.Add(1, _tag);
            return _fallback.Invoke(null, arguments);
        }
        if (key is not null)
            _cache!.Set(key, Copy(result), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _ttl });
        return result;
    }

    /// <summary>JSON nodes belong to one parent; a cached one is handed out as a copy.</summary>
    private static object? Copy(object? value) => value is JsonNode node ? node.DeepClone() : value;

    /// <inheritdoc />
    public void Dispose() => _cache?.Dispose();
}
