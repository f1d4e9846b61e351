using System.Collections.Generic;
using Ksml.Compiler.Language;
using Ksml.Compiler.Operations;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Syntax;

/// <summary>A name written in the YAML, with where it was written.</summary>
public sealed record NameSyntax(string Name, SourceSpan Span);

/// <summary>A type expression as written, with its parsed form (null when it did not parse).</summary>
public sealed record TypeSyntax(string Text, KsmlType? Type, SourceSpan Span);

/// <summary>A duration, normalised to milliseconds.</summary>
public sealed record DurationSyntax(string Text, long Milliseconds, SourceSpan Span);

/// <summary>A Python snippet and where its text starts in the YAML (for error mapping).</summary>
public sealed record SnippetSyntax(string Text, int Line, int Column, SourceSpan Span);

/// <summary>An extra parameter of a function: <c>{name, type, defaultValue}</c>.</summary>
public sealed record ParameterSyntax(NameSyntax Name, TypeSyntax? Type, string? DefaultValue, SourceSpan Span);

/// <summary>The root of a KSML file.</summary>
public sealed class DefinitionSyntax
{
    public DefinitionSyntax(string path) => Path = path;

    public string Path { get; }
    public string? Name { get; set; }
    public string? Version { get; set; }
    public string? Description { get; set; }
    public List<TopicSyntax> Streams { get; } = new();
    public List<TopicSyntax> Tables { get; } = new();
    public List<TopicSyntax> GlobalTables { get; } = new();
    public List<StoreSyntax> Stores { get; } = new();
    public List<FunctionSyntax> Functions { get; } = new();
    public List<PipelineSyntax> Pipelines { get; } = new();
    public List<ProducerSyntax> Producers { get; } = new();
}

public enum TopicKind
{
    Stream,
    Table,
    GlobalTable,
}

/// <summary>A stream, table or globalTable definition, named or inline in <c>from</c>/<c>to</c>/a join.</summary>
public sealed class TopicSyntax
{
    public TopicSyntax(TopicKind kind, NameSyntax? name, SourceSpan span)
    {
        Kind = kind;
        Name = name;
        Span = span;
    }

    public TopicKind Kind { get; }

    /// <summary>Null for an inline definition.</summary>
    public NameSyntax? Name { get; }

    public SourceSpan Span { get; }
    public NameSyntax? Topic { get; set; }
    public TypeSyntax? KeyType { get; set; }
    public TypeSyntax? ValueType { get; set; }
    public NameSyntax? OffsetResetPolicy { get; set; }
    public FunctionRefSyntax? TimestampExtractor { get; set; }
    public FunctionRefSyntax? Partitioner { get; set; }
    public StoreRefSyntax? Store { get; set; }
}

/// <summary>A reference that is either a name or an inline definition.</summary>
public sealed record TopicRefSyntax(NameSyntax? Name, TopicSyntax? Inline, SourceSpan Span);

public sealed record FunctionRefSyntax(NameSyntax? Name, FunctionSyntax? Inline, SourceSpan Span);

public sealed record StoreRefSyntax(NameSyntax? Name, StoreSyntax? Inline, SourceSpan Span);

/// <summary>A state store definition.</summary>
public sealed class StoreSyntax
{
    public StoreSyntax(NameSyntax? name, SourceSpan span)
    {
        Name = name;
        Span = span;
    }

    /// <summary>The key under <c>stores:</c> or the <c>name:</c> field; null for an unnamed inline store.</summary>
    public NameSyntax? Name { get; set; }

    public SourceSpan Span { get; }

    /// <summary>keyValue, window or session.</summary>
    public NameSyntax? StoreType { get; set; }

    public TypeSyntax? KeyType { get; set; }
    public TypeSyntax? ValueType { get; set; }
    public bool Persistent { get; set; }
    public bool Timestamped { get; set; }
    public bool Versioned { get; set; }
    public bool Caching { get; set; }
    public bool Logging { get; set; }
    public bool RetainDuplicates { get; set; }
    public DurationSyntax? HistoryRetention { get; set; }
    public DurationSyntax? SegmentInterval { get; set; }
    public DurationSyntax? WindowSize { get; set; }
    public DurationSyntax? Retention { get; set; }
}

/// <summary>A Python function definition, named under <c>functions:</c> or inline in an operation.</summary>
public sealed class FunctionSyntax
{
    public FunctionSyntax(NameSyntax name, bool isInline, SourceSpan span)
    {
        Name = name;
        IsInline = isInline;
        Span = span;
    }

    public NameSyntax Name { get; set; }
    public bool IsInline { get; }
    public SourceSpan Span { get; }

    /// <summary>The declared type; null when none was written (generic, or implied by an inline use).</summary>
    public FunctionKind? Kind { get; set; }

    public SourceSpan? KindSpan { get; set; }
    public List<ParameterSyntax> Parameters { get; } = new();
    public SnippetSyntax? GlobalCode { get; set; }
    public SnippetSyntax? Code { get; set; }
    public SnippetSyntax? Expression { get; set; }
    public TypeSyntax? ResultType { get; set; }
    public List<NameSyntax> Stores { get; } = new();
    public SourceSpan? StoresSpan { get; set; }

    /// <summary>Ksml.NET's declarative resilience for the function (timeout, retry, circuit breaker, cache).</summary>
    public ResilienceSyntax? Resilience { get; set; }

    /// <summary>Ksml.NET's concurrent calls for the function: several records' calls in flight at once.</summary>
    public ConcurrencySyntax? Concurrency { get; set; }

    /// <summary>Ksml.NET's batched calls: one call with the list of <c>records</c> gathered.</summary>
    public BatchSyntax? Batch { get; set; }

    /// <summary><c>native: false</c> keeps a function the compiler could lower to C# in CPython; null when not written.</summary>
    public bool? Native { get; set; }
}

/// <summary>
/// A function's <c>batch:</c> block, a Ksml.NET extension to KSML: records are gathered and handed to one call as
/// <c>records</c> once <see cref="MaxRecords"/> are in, <see cref="MaxWaitMs"/> after the first, and before every commit.
/// </summary>
public sealed record BatchSyntax(int MaxRecords, long MaxWaitMs, SourceSpan Span);

/// <summary>
/// A function's <c>concurrency:</c> block, a Ksml.NET extension to KSML: at most <see cref="MaxInFlight"/> calls at
/// once per stream thread, with outputs in the <see cref="Order"/> given (key, partition or none).
/// </summary>
public sealed record ConcurrencySyntax(int MaxInFlight, string Order, SourceSpan Span);

/// <summary>A function's <c>resilience:</c> block, a Ksml.NET extension to KSML.</summary>
public sealed class ResilienceSyntax
{
    public ResilienceSyntax(SourceSpan span) => Span = span;

    public SourceSpan Span { get; }
    public DurationSyntax? Timeout { get; set; }
    public RetrySyntax? Retry { get; set; }
    public CircuitBreakerSyntax? CircuitBreaker { get; set; }
    public CacheSyntax? Cache { get; set; }
    public RateLimitSyntax? RateLimit { get; set; }
}

/// <summary>At most <see cref="Permits"/> calls per <see cref="PerMs"/>, across the whole application; calls past it wait.</summary>
public sealed record RateLimitSyntax(int Permits, long PerMs, SourceSpan Span);

/// <summary>Bounded retries with exponential backoff for the named Python exception types (all when none are named).</summary>
public sealed record RetrySyntax(int MaxAttempts, long BackoffMs, long MaxBackoffMs, bool Jitter, IReadOnlyList<string> On, SourceSpan Span);

/// <summary>A circuit breaker: opens when the failure ratio is reached, answers with the fallback (or fails) while open.</summary>
public sealed record CircuitBreakerSyntax(double FailureRatio, int MinimumThroughput, long SamplingMs, long BreakMs, SnippetSyntax? Fallback, SourceSpan Span);

/// <summary>A per-function result cache.</summary>
public sealed record CacheSyntax(long TtlMs, int MaxEntries, SnippetSyntax? Key, SourceSpan Span);

/// <summary>One operation of a pipeline, in its canonical form whichever way it was written.</summary>
public sealed class OperationSyntax
{
    public OperationSyntax(PipelineOperation operation, NameSyntax writtenAs, SourceSpan span)
    {
        Operation = operation;
        WrittenAs = writtenAs;
        Span = span;
    }

    /// <summary>The operation: its fields, binding and lowering.</summary>
    public PipelineOperation Operation { get; }

    /// <summary>The name or alias as written (<c>mapValues</c>) and where.</summary>
    public NameSyntax WrittenAs { get; }

    public SourceSpan Span { get; }
    public NameSyntax? Name { get; set; }
    public Dictionary<string, FunctionRefSyntax> Functions { get; } = new();
    public Dictionary<string, TopicRefSyntax> Topics { get; } = new();
    public Dictionary<string, StoreRefSyntax> Stores { get; } = new();
    public Dictionary<string, DurationSyntax> Durations { get; } = new();
    public Dictionary<string, TypeSyntax> Types { get; } = new();
    public Dictionary<string, NameSyntax> Values { get; } = new();

    /// <summary>Every field written, valid or not, so a bad value is not also reported as missing.</summary>
    public HashSet<string> WrittenFields { get; } = new();

    /// <summary>The choice or number written in <paramref name="field"/>, or null.</summary>
    public string? ValueOf(string field) => Values.TryGetValue(field, out var value) ? value.Name : null;

    /// <summary>The duration written in <paramref name="field"/> in milliseconds; 0 when it is not written.</summary>
    public long Milliseconds(string field) => Durations.TryGetValue(field, out var duration) ? duration.Milliseconds : 0;
}

/// <summary>Where a pipeline or branch ends.</summary>
public abstract class SinkSyntax
{
    protected SinkSyntax(NameSyntax keyword) => Keyword = keyword;

    /// <summary>The sink key as written: to, forEach, print, …</summary>
    public NameSyntax Keyword { get; }
}

public sealed class ToSinkSyntax : SinkSyntax
{
    public ToSinkSyntax(NameSyntax keyword, TopicRefSyntax target) : base(keyword) => Target = target;

    public TopicRefSyntax Target { get; }
    public FunctionRefSyntax? Partitioner { get; set; }
}

public sealed class TopicNameExtractorSinkSyntax : SinkSyntax
{
    public TopicNameExtractorSinkSyntax(NameSyntax keyword, FunctionRefSyntax extractor) : base(keyword) => Extractor = extractor;

    public FunctionRefSyntax Extractor { get; }
    public FunctionRefSyntax? Partitioner { get; set; }
}

public sealed class ForEachSinkSyntax : SinkSyntax
{
    public ForEachSinkSyntax(NameSyntax keyword, FunctionRefSyntax action) : base(keyword) => Action = action;

    public FunctionRefSyntax Action { get; }
}

public sealed class PrintSinkSyntax : SinkSyntax
{
    public PrintSinkSyntax(NameSyntax keyword) : base(keyword) { }

    public NameSyntax? Filename { get; set; }
    public NameSyntax? Label { get; set; }
    public FunctionRefSyntax? Mapper { get; set; }
}

public sealed class AsSinkSyntax : SinkSyntax
{
    public AsSinkSyntax(NameSyntax keyword, NameSyntax name) : base(keyword) => Name = name;

    public NameSyntax Name { get; }
}

public sealed class BranchSinkSyntax : SinkSyntax
{
    public BranchSinkSyntax(NameSyntax keyword) : base(keyword) { }

    public List<BranchSyntax> Branches { get; } = new();
}

/// <summary>One entry of a branch: an optional predicate, operations and a sink.</summary>
public sealed class BranchSyntax
{
    public BranchSyntax(SourceSpan span) => Span = span;

    public SourceSpan Span { get; }
    public FunctionRefSyntax? If { get; set; }
    public List<OperationSyntax> Operations { get; } = new();
    public SinkSyntax? Sink { get; set; }
}

public sealed class PipelineSyntax
{
    public PipelineSyntax(NameSyntax name, SourceSpan span)
    {
        Name = name;
        Span = span;
    }

    public NameSyntax Name { get; }
    public SourceSpan Span { get; }
    public TopicRefSyntax? From { get; set; }
    public List<OperationSyntax> Operations { get; } = new();
    public SinkSyntax? Sink { get; set; }

    /// <summary>True when operations were written directly on the pipeline (the tutorial's compact form).</summary>
    public bool UsesCompactForm { get; set; }
}

public sealed class ProducerSyntax
{
    public ProducerSyntax(NameSyntax name, SourceSpan span)
    {
        Name = name;
        Span = span;
    }

    public NameSyntax Name { get; }
    public SourceSpan Span { get; }
    public FunctionRefSyntax? Generator { get; set; }
    public TopicRefSyntax? To { get; set; }
    public DurationSyntax? Interval { get; set; }
    public long? Count { get; set; }
    public int? BatchSize { get; set; }
    public FunctionRefSyntax? Condition { get; set; }
    public FunctionRefSyntax? Until { get; set; }
}
