using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Operations;

/// <summary>
/// What an operation's <see cref="PipelineOperation.Bind"/> works with: its syntax, the shape it receives, the bound
/// operation its functions, topics and stores attach to, and the binder's name resolution and reporting.
/// </summary>
public sealed class OperationBinding
{
    public static readonly StreamKind[] StreamOnly = { StreamKind.Stream };
    public static readonly StreamKind[] StreamOrTable = { StreamKind.Stream, StreamKind.Table };
    public static readonly StreamKind[] TableOnly = { StreamKind.Table };
    public static readonly StreamKind[] Grouped = { StreamKind.GroupedStream, StreamKind.CogroupedStream };
    public static readonly StreamKind[] Aggregatable = { StreamKind.GroupedStream, StreamKind.GroupedTable, StreamKind.TimeWindowedStream, StreamKind.SlidingWindowedStream, StreamKind.SessionWindowedStream };

    private readonly DefinitionBinder _binder;

    internal OperationBinding(DefinitionBinder binder, BoundOperation result)
    {
        _binder = binder;
        Result = result;
    }

    public BoundOperation Result { get; }
    public OperationSyntax Syntax => Result.Syntax;
    public StreamShape Input => Result.Input;
    public string NodeName => Result.NodeName;

    /// <summary>The name the operation was written with (<c>mapValues</c>), for messages.</summary>
    public string WrittenAs => Syntax.WrittenAs.Name;

    public void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object?[] args) => _binder.Report(descriptor, span, args);

    /// <summary>Reports a field this use of the operation needs but was not written, at the operation's name.</summary>
    public void ReportMissing(string what, string field) => Report(DiagnosticDescriptors.MissingRequiredField, Syntax.WrittenAs.Span, what, field);

    public bool Written(string field) => Syntax.WrittenFields.Contains(field);

    public bool HasFunction(string field) => Syntax.Functions.ContainsKey(field);

    /// <summary>Reports the operation when its input is not of one of <paramref name="kinds"/>; true when it is (or unknown).</summary>
    public bool Applicable(StreamKind[] kinds, string needs, string? hint = null)
    {
        if (Input.IsUnknown || kinds.Contains(Input.Kind))
            return true;
        Report(DiagnosticDescriptors.OperationNotApplicable, Syntax.WrittenAs.Span, WrittenAs, StreamShape.Describe(Input.Kind), needs + (hint is null ? "" : "; " + hint));
        return false;
    }

    /// <summary>Resolves the function in <paramref name="field"/> and attaches it; null when absent or unresolved.</summary>
    public BoundFunction? Function(string field)
    {
        if (!Syntax.Functions.TryGetValue(field, out var reference))
            return null;
        var concurrent = Input.Kind == StreamKind.Stream && Syntax.Operation.CallsConcurrently;
        var function = _binder.ResolveFunction(reference, Syntax.Operation.Field(field)!.Function!, WrittenAs, concurrent);
        if (function is not null)
            Result.Functions[field] = function;
        return function;
    }

    /// <summary>Resolves the store in <paramref name="field"/>, materialising (key, value), and attaches it.</summary>
    public void Store(string field, KsmlType key, KsmlType value, string? expectedType = null, string? inlineName = null)
    {
        if (!Syntax.Stores.TryGetValue(field, out var reference))
            return;
        var store = _binder.ResolveStore(reference, expectedType ?? Syntax.Operation.Field(field)!.StoreKind, "'" + WrittenAs + "'", key, value, inlineName ?? NodeName + "_store");
        if (store is not null)
            Result.Stores[field] = store;
    }

    public BoundTopic? Topic(TopicRefSyntax reference, TopicKind? expected, string inlineName) => _binder.ResolveTopic(reference, expected, WrittenAs, inlineName);

    public bool IsDeclaredTopic(string name) => _binder.IsDeclaredTopic(name);

    /// <summary>An earlier pipeline's output or <c>as</c> name, with its shape.</summary>
    public StreamShape? NamedStream(string name) => _binder.NamedStreamShape(name);

    /// <summary>The (key, value) a key-value function returns, inferring a tuple when the result type is open.</summary>
    public (KsmlType Key, KsmlType Value) KeyValueOf(BoundFunction? function) => _binder.KeyValueOf(function, Syntax.WrittenAs.Span);

    public (KsmlType Key, KsmlType Value) KeyValueOf(KsmlType result, BoundFunction? function) => _binder.KeyValueOf(result, function, Syntax.WrittenAs.Span);

    /// <summary>Checks that a value of <paramref name="source"/> may flow where <paramref name="target"/> is expected.</summary>
    public void Flow(KsmlType source, KsmlType target, SourceSpan span, string what) => _binder.Flow(source, target, span, what);

    /// <summary>The hint for a key change on a table.</summary>
    public string? KeyChangeHint => Input.Kind == StreamKind.Table ? "convert the table with toStream first" : null;

    /// <summary>The hint for an aggregation that is not grouped yet.</summary>
    public string? GroupHint => Input.Kind switch
    {
        StreamKind.Stream => "group it first with groupByKey or groupBy",
        StreamKind.Table => "group it first with groupBy",
        _ => null,
    };
}
