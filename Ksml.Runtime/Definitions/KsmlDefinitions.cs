namespace Ksml.Runtime.Definitions;

/// <summary>A Python snippet and the YAML position of its first character, so errors map back to the YAML.</summary>
/// <param name="Text">The Python source.</param>
/// <param name="Line">1-based YAML line of the snippet's first line.</param>
/// <param name="Column">1-based YAML column of the snippet's indentation.</param>
public sealed record PythonCode(string Text, int Line, int Column);

/// <summary>An extra parameter a KSML function declares after its fixed ones.</summary>
/// <param name="Name">Python parameter name.</param>
/// <param name="Type">KSML type expression.</param>
/// <param name="DefaultValue">Python expression for the default, if any.</param>
public sealed record KsmlParameter(string Name, string Type, string? DefaultValue);

/// <summary>A KSML function as compiled from the YAML: everything the Python bridge needs to build it.</summary>
/// <param name="Definition">The KSML definition (namespace) the function belongs to.</param>
/// <param name="Name">The function name, also its Python name.</param>
/// <param name="Type">The KSML function type, e.g. <c>valueTransformer</c>.</param>
/// <param name="SourcePath">The YAML file, as shown in errors.</param>
/// <param name="Line">The YAML line where the function is defined.</param>
/// <param name="FixedParameters">The parameters every call passes, in order (<c>key</c>, <c>value</c>, …).</param>
/// <param name="Parameters">Declared extra parameters.</param>
/// <param name="GlobalCode">Code run once when the function is built.</param>
/// <param name="Code">Statements run on every call.</param>
/// <param name="Expression">The expression whose value the call returns, KSML's per-type default already filled in by the compiler; null when the call returns nothing.</param>
/// <param name="ResultType">The declared or inferred result type, as the compiler resolved it; null when the function returns nothing.</param>
/// <param name="Stores">State stores the function may use, by name.</param>
public sealed record KsmlFunctionDefinition(
    string Definition,
    string Name,
    string Type,
    string SourcePath,
    int Line,
    IReadOnlyList<string> FixedParameters,
    IReadOnlyList<KsmlParameter> Parameters,
    PythonCode? GlobalCode,
    PythonCode? Code,
    PythonCode? Expression,
    KsmlDataType? ResultType,
    IReadOnlyList<string> Stores)
{
    /// <summary>Ksml.NET's declarative resilience for this function; null for none.</summary>
    public KsmlResilience? Resilience { get; init; }

    /// <summary>Ksml.NET's concurrent calls for this function; null for one call at a time.</summary>
    public KsmlConcurrency? Concurrency { get; init; }

    /// <summary>Ksml.NET's batched calls for this function (a forEach sink): one call per batch; null for one per record.</summary>
    public KsmlBatch? Batch { get; init; }

    /// <summary>
    /// The function's expression as the compiler lowered it to C#, run instead of CPython; null when it runs in
    /// Python (its code is more than a plain expression, or <c>native: false</c>). See <c>docs/native-python.md</c>.
    /// </summary>
    public KsmlNativeExpression? Native { get; init; }

    /// <summary>How type errors name this function's result, with its place in the YAML.</summary>
    public string DescribeResult() => $"the result of '{Name}' ({SourcePath}:{Line})";
}

/// <summary>A function's expression compiled to C#: takes the fixed parameters, returns what the bridge would return for Python's result.</summary>
/// <param name="arguments">The fixed parameters, in order.</param>
public delegate object? KsmlNativeExpression(object?[] arguments);

/// <summary>A function's batched calls (a Ksml.NET extension to KSML): Python gets <c>records</c>, a list of <c>{key, value, timestamp, topic, partition, offset}</c>.</summary>
/// <param name="MaxRecords">A batch is handed over once it holds this many records.</param>
/// <param name="MaxWaitMs">… or this long after its first record arrived; and always before a commit.</param>
public sealed record KsmlBatch(int MaxRecords, long MaxWaitMs);

/// <summary>A function's concurrent calls (a Ksml.NET extension to KSML).</summary>
/// <param name="MaxInFlight">Calls running at once for this function, per stream thread.</param>
/// <param name="Order"><c>key</c>: one key's records in offset order, keys concurrently; <c>partition</c>: outputs in offset order per partition; <c>none</c>: as calls complete.</param>
public sealed record KsmlConcurrency(int MaxInFlight, string Order);

/// <summary>A function's declared resilience (a Ksml.NET extension to KSML), applied by the runtime around every call.</summary>
/// <param name="TimeoutMs">A call running longer gets a Python TimeoutError raised inside it.</param>
/// <param name="Retry">Retries with exponential backoff.</param>
/// <param name="CircuitBreaker">Stops calling a failing dependency for a while.</param>
/// <param name="Cache">Keeps results for a time, by argument values or a key expression.</param>
/// <param name="RateLimit">At most so many calls per period, across the whole application; calls past it wait.</param>
public sealed record KsmlResilience(long? TimeoutMs, KsmlRetryPolicy? Retry, KsmlCircuitBreakerPolicy? CircuitBreaker, KsmlCachePolicy? Cache, KsmlRateLimitPolicy? RateLimit = null);

/// <summary>A rate limit shared by every call of the function in the application.</summary>
/// <param name="Permits">Calls allowed in any period.</param>
/// <param name="PerMs">The period.</param>
public sealed record KsmlRateLimitPolicy(int Permits, long PerMs);

/// <summary>Bounded retries.</summary>
/// <param name="MaxAttempts">Retries after the first call.</param>
/// <param name="BackoffMs">The first delay; each next one doubles.</param>
/// <param name="MaxBackoffMs">The longest delay.</param>
/// <param name="Jitter">Randomises delays so that instances do not retry in step.</param>
/// <param name="On">Python exception class names that are retried (a subclass matches too); empty retries every failure.</param>
public sealed record KsmlRetryPolicy(int MaxAttempts, long BackoffMs, long MaxBackoffMs, bool Jitter, IReadOnlyList<string> On);

/// <summary>A circuit breaker.</summary>
/// <param name="FailureRatio">The share of failed calls that opens it.</param>
/// <param name="MinimumThroughput">Calls in the sampling window before it may open.</param>
/// <param name="SamplingMs">The window failures are counted in.</param>
/// <param name="BreakMs">How long it stays open before trying again.</param>
/// <param name="Fallback">A Python expression over the function's parameters answered while it is open; null fails the call.</param>
public sealed record KsmlCircuitBreakerPolicy(double FailureRatio, int MinimumThroughput, long SamplingMs, long BreakMs, PythonCode? Fallback);

/// <summary>A result cache.</summary>
/// <param name="TtlMs">How long a result is kept.</param>
/// <param name="MaxEntries">How many results are kept at most.</param>
/// <param name="Key">A Python expression over the parameters giving the cache key; null keys by all argument values.</param>
public sealed record KsmlCachePolicy(long TtlMs, int MaxEntries, PythonCode? Key);

/// <summary>A stream, table or globalTable: its topic and KSML key and value types.</summary>
/// <param name="Name">The KSML name.</param>
/// <param name="Topic">The Kafka topic.</param>
/// <param name="KeyType">The key type, as the compiler resolved it.</param>
/// <param name="ValueType">The value type, as the compiler resolved it.</param>
/// <param name="OffsetResetPolicy">earliest, latest, none or by_duration:…; null for the application default.</param>
/// <param name="TimestampExtractor">Gives each record read from the topic its event time; null for the record's own timestamp.</param>
public sealed record KsmlTopicDefinition(string Name, string Topic, KsmlDataType KeyType, KsmlDataType ValueType, string? OffsetResetPolicy = null,
    KsmlFunctionDefinition? TimestampExtractor = null);

/// <summary>A state store definition.</summary>
/// <param name="Name">Store name, also the Python variable functions see it under.</param>
/// <param name="StoreType">keyValue, window or session.</param>
/// <param name="KeyType">The key type, as the compiler resolved it.</param>
/// <param name="ValueType">The value type, as the compiler resolved it.</param>
/// <param name="Persistent">RocksDB when true, in memory otherwise.</param>
/// <param name="Timestamped">Whether values carry timestamps.</param>
/// <param name="Caching">Whether the store caches writes.</param>
/// <param name="Logging">Whether the store has a changelog topic.</param>
/// <param name="WindowSizeMs">Window size (window stores).</param>
/// <param name="RetentionMs">Retention (window and session stores).</param>
/// <param name="RetainDuplicates">Whether a window store keeps duplicates.</param>
/// <param name="Versioned">Whether a key-value store keeps each key's earlier values (KSML's versioned stores).</param>
/// <param name="HistoryRetentionMs">How far back, from the newest timestamp put, a versioned store answers.</param>
public sealed record KsmlStoreDefinition(
    string Name,
    string StoreType,
    KsmlDataType KeyType,
    KsmlDataType ValueType,
    bool Persistent = false,
    bool Timestamped = false,
    bool Caching = false,
    bool Logging = false,
    long? WindowSizeMs = null,
    long? RetentionMs = null,
    bool RetainDuplicates = false,
    bool Versioned = false,
    long? HistoryRetentionMs = null);

/// <summary>A producer: a generator function writing to a topic on a schedule.</summary>
/// <param name="Name">Producer name.</param>
/// <param name="Generator">The generator function.</param>
/// <param name="Target">Where generated records go.</param>
/// <param name="IntervalMs">Pause between batches; null sends as fast as possible.</param>
/// <param name="Count">How many batches; null for unbounded (or exactly one when nothing else is set).</param>
/// <param name="BatchSize">Messages per batch (1–1000).</param>
/// <param name="Condition">Drops generated messages it rejects.</param>
/// <param name="Until">Stops the producer when it accepts a message.</param>
public sealed record KsmlProducerDefinition(
    string Name,
    KsmlFunctionDefinition Generator,
    KsmlTopicDefinition Target,
    long? IntervalMs,
    long? Count,
    int BatchSize,
    KsmlFunctionDefinition? Condition,
    KsmlFunctionDefinition? Until);
