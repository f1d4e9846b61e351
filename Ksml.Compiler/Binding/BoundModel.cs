using System.Collections.Generic;
using Ksml.Compiler.Language;
using Ksml.Compiler.Operations;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Binding;

/// <summary>What a stage of a pipeline is in Kafka Streams terms.</summary>
public enum StreamKind
{
    Stream,
    Table,
    GlobalTable,
    GroupedStream,
    GroupedTable,
    TimeWindowedStream,
    SlidingWindowedStream,
    SessionWindowedStream,
    CogroupedStream,
}

/// <summary>The kind and record types of one stage of a pipeline.</summary>
/// <param name="IsUnknown">True after an error upstream: later checks of kind are skipped so one mistake gives one diagnostic.</param>
/// <summary>A window's size, and how long after a window's end a record can still change it (grace, plus a session's gap).</summary>
public sealed record WindowExtent(long SizeMs, long ClosesAfterMs);

public sealed record StreamShape(StreamKind Kind, KsmlType Key, KsmlType Value, bool IsUnknown = false)
{
    /// <summary>After <c>windowByTime</c> or <c>windowBySession</c>, and everything downstream of it: the window's extent.</summary>
    public WindowExtent? Window { get; init; }

    /// <summary>After <c>cogroup</c> (and a window on it): the aggregator the closing <c>aggregate</c> applies.</summary>
    public BoundFunction? CogroupAggregator { get; init; }

    public static StreamShape Unknown(StreamKind kind = StreamKind.Stream) => new(kind, KsmlType.Error, KsmlType.Error, true);

    public static string Describe(StreamKind kind) => kind switch
    {
        StreamKind.Stream => "stream",
        StreamKind.Table => "table",
        StreamKind.GlobalTable => "globalTable",
        StreamKind.GroupedStream => "grouped stream",
        StreamKind.GroupedTable => "grouped table",
        StreamKind.TimeWindowedStream => "time-windowed grouped stream",
        StreamKind.SlidingWindowedStream => "sliding-windowed grouped stream",
        StreamKind.SessionWindowedStream => "session-windowed grouped stream",
        _ => "cogrouped stream",
    };
}

/// <summary>The semantic model of one KSML file: names resolved, types known (or inferred).</summary>
public sealed class BoundDefinition
{
    public BoundDefinition(string path, string name)
    {
        Path = path;
        Name = name;
    }

    public string Path { get; }

    /// <summary>The definition's namespace: its <c>name:</c> or the file name without <c>.ksml.yaml</c>.</summary>
    public string Name { get; }

    public List<BoundTopic> Topics { get; } = new();
    public List<BoundStore> Stores { get; } = new();
    public List<BoundFunction> Functions { get; } = new();
    public List<BoundPipeline> Pipelines { get; } = new();
    public List<BoundProducer> Producers { get; } = new();
}

public sealed class BoundTopic
{
    public BoundTopic(string name, TopicKind kind, string topic, KsmlType key, KsmlType value, SourceSpan span, bool isInline)
    {
        Name = name;
        Kind = kind;
        Topic = topic;
        Key = key;
        Value = value;
        Span = span;
        IsInline = isInline;
    }

    public string Name { get; }
    public TopicKind Kind { get; }
    public string Topic { get; }
    public KsmlType Key { get; }
    public KsmlType Value { get; }
    public SourceSpan Span { get; }
    public bool IsInline { get; }
    public string? OffsetResetPolicy { get; set; }
    public BoundFunction? TimestampExtractor { get; set; }
    public BoundFunction? Partitioner { get; set; }
    public BoundStore? Store { get; set; }
}

public sealed class BoundStore
{
    public BoundStore(string name, string storeType, StoreSyntax syntax)
    {
        Name = name;
        StoreType = storeType;
        Syntax = syntax;
    }

    public string Name { get; }

    /// <summary>keyValue, window or session.</summary>
    public string StoreType { get; }

    public StoreSyntax Syntax { get; }
    public KsmlType? Key { get; set; }
    public KsmlType? Value { get; set; }
}

public sealed class BoundFunction
{
    public BoundFunction(FunctionSyntax syntax, FunctionKind kind, KsmlType? result)
    {
        Syntax = syntax;
        Kind = kind;
        Result = result;
    }

    public FunctionSyntax Syntax { get; }
    public string Name => Syntax.Name.Name;

    /// <summary>The function type; a generic function takes the type of the first place that uses it.</summary>
    public FunctionKind Kind { get; set; }

    /// <summary>The declared or inferred result type; null for forEach.</summary>
    public KsmlType? Result { get; }

    /// <summary>The parameters every call passes first: the function type's, or <c>records</c> for a batched function, called once per batch.</summary>
    public IReadOnlyList<string> FixedParameters => Syntax.Batch is null ? Kind.Parameters : new[] { "records" };

    /// <summary>
    /// The expression a call returns, as KSML decides it: none for a function type without a result (forEach), and
    /// the type's default (predicate: <c>True</c>, valueTransformer: <c>value</c>, …) at the function's line when none is written.
    /// </summary>
    public SnippetSyntax? ReturnedExpression =>
        Kind.Result == ResultShape.None ? null
        : Syntax.Expression ?? (Kind.DefaultExpression is { } fallback ? new SnippetSyntax(fallback, Syntax.Name.Span.Line, 1, Syntax.Name.Span) : null);

    public List<BoundStore> Stores { get; } = new();
    public List<SourceSpan> Uses { get; } = new();
}

public sealed class BoundOperation
{
    public BoundOperation(OperationSyntax syntax, string nodeName, StreamShape input, StreamShape output)
    {
        Syntax = syntax;
        NodeName = nodeName;
        Input = input;
        Output = output;
    }

    public OperationSyntax Syntax { get; }
    public PipelineOperation Operation => Syntax.Operation;

    /// <summary>A unique processor name for Streamiz, derived from the pipeline and operation.</summary>
    public string NodeName { get; }

    public StreamShape Input { get; }
    /// <summary>Set once the operation's functions are bound and its result type is known.</summary>
    public StreamShape Output { get; internal set; }

    /// <summary>
    /// A grouping of a stream right before session or sliding windows: the runtime builds those windows from the
    /// grouped records, so the grouping stays a stream.
    /// </summary>
    public bool GroupsForOwnWindows { get; internal set; }
    public Dictionary<string, BoundFunction> Functions { get; } = new();
    public Dictionary<string, BoundTopic> Topics { get; } = new();
    /// <summary>Fields naming an earlier pipeline's output or <c>as</c> name instead of a declared topic (merge's <c>stream</c>).</summary>
    public Dictionary<string, string> NamedStreams { get; } = new();
    public Dictionary<string, BoundStore> Stores { get; } = new();
}

public abstract class BoundSink
{
    protected BoundSink(SinkSyntax syntax, StreamShape input)
    {
        Syntax = syntax;
        Input = input;
    }

    public SinkSyntax Syntax { get; }
    public StreamShape Input { get; }
}

public sealed class BoundToSink : BoundSink
{
    public BoundToSink(SinkSyntax syntax, StreamShape input, BoundTopic target) : base(syntax, input) => Target = target;

    public BoundTopic Target { get; }
    public BoundFunction? Partitioner { get; set; }
}

public sealed class BoundTopicNameExtractorSink : BoundSink
{
    public BoundTopicNameExtractorSink(SinkSyntax syntax, StreamShape input, BoundFunction extractor) : base(syntax, input) => Extractor = extractor;

    public BoundFunction Extractor { get; }
    public BoundFunction? Partitioner { get; set; }
}

public sealed class BoundForEachSink : BoundSink
{
    public BoundForEachSink(SinkSyntax syntax, StreamShape input, BoundFunction action) : base(syntax, input) => Action = action;

    public BoundFunction Action { get; }
}

public sealed class BoundPrintSink : BoundSink
{
    public BoundPrintSink(PrintSinkSyntax syntax, StreamShape input) : base(syntax, input) => Print = syntax;

    public PrintSinkSyntax Print { get; }
    public BoundFunction? Mapper { get; set; }
}

public sealed class BoundAsSink : BoundSink
{
    public BoundAsSink(AsSinkSyntax syntax, StreamShape input) : base(syntax, input) => Name = syntax.Name.Name;

    public string Name { get; }
}

public sealed class BoundBranchSink : BoundSink
{
    public BoundBranchSink(SinkSyntax syntax, StreamShape input) : base(syntax, input) { }

    public List<BoundBranch> Branches { get; } = new();
}

public sealed class BoundBranch
{
    public BoundBranch(string name, BranchSyntax syntax)
    {
        Name = name;
        Syntax = syntax;
    }

    public string Name { get; }
    public BranchSyntax Syntax { get; }
    public BoundFunction? Predicate { get; set; }
    public List<BoundOperation> Operations { get; } = new();
    public BoundSink? Sink { get; set; }
}

/// <summary>Where a pipeline reads from: a declared topic or the output of an earlier pipeline.</summary>
public sealed class BoundSource
{
    public BoundSource(BoundTopic? topic, BoundPipeline? pipeline, StreamShape shape, SourceSpan span)
    {
        Topic = topic;
        Pipeline = pipeline;
        Shape = shape;
        Span = span;
    }

    public BoundTopic? Topic { get; }
    public BoundPipeline? Pipeline { get; }
    public StreamShape Shape { get; }
    public SourceSpan Span { get; }
}

public sealed class BoundPipeline
{
    public BoundPipeline(PipelineSyntax syntax) => Syntax = syntax;

    public PipelineSyntax Syntax { get; }
    public string Name => Syntax.Name.Name;
    public BoundSource? Source { get; set; }
    public List<BoundOperation> Operations { get; } = new();
    public BoundSink? Sink { get; set; }

    /// <summary>The shape at the end of the operations (what the sink receives, or what later pipelines read).</summary>
    public StreamShape? Output { get; set; }
}

public sealed class BoundProducer
{
    public BoundProducer(ProducerSyntax syntax, BoundFunction generator, BoundTopic target)
    {
        Syntax = syntax;
        Generator = generator;
        Target = target;
    }

    public ProducerSyntax Syntax { get; }
    public string Name => Syntax.Name.Name;
    public BoundFunction Generator { get; }
    public BoundTopic Target { get; }
    public BoundFunction? Condition { get; set; }
    public BoundFunction? Until { get; set; }
}
