using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary>What <c>count</c>, <c>reduce</c> and <c>aggregate</c> share: a table out of a grouped or windowed stream.</summary>
public abstract class AggregatingOperation : PipelineOperation
{
    protected AggregatingOperation(string name, string? primaryField, params FieldSpec[] fields) : base(name, NoAliases, primaryField, fields) { }

    /// <summary>The result table's key: the group's key, windowed when the stream is.</summary>
    protected static KsmlType AggregateKey(StreamShape input) =>
        input.Kind is StreamKind.TimeWindowedStream or StreamKind.SlidingWindowedStream or StreamKind.SessionWindowedStream ? new WindowedType(input.Key) : input.Key;

    /// <summary>
    /// A session aggregation retracts merged-away sessions with null, so a primitive aggregate (a count)
    /// becomes optional there: C# carries it as <c>long?</c>, which can be null.
    /// </summary>
    protected static KsmlType Retractable(StreamShape input, KsmlType aggregate) =>
        input.Kind == StreamKind.SessionWindowedStream && aggregate.Resolve() is PrimitiveType { Kind: not (PrimitiveKind.String or PrimitiveKind.Bytes or PrimitiveKind.Null or PrimitiveKind.Any) }
            ? new UnionType(new[] { KsmlType.Null, aggregate })
            : aggregate;

    /// <summary>The result table's shape, holding <paramref name="aggregate"/>.</summary>
    protected static StreamShape ResultTable(StreamShape input, KsmlType aggregate) =>
        new(StreamKind.Table, AggregateKey(input), Retractable(input, aggregate), input.IsUnknown);

    /// <summary>The store type the aggregation materialises into.</summary>
    protected static string StoreTypeFor(StreamShape input) => input.Kind switch
    {
        StreamKind.TimeWindowedStream or StreamKind.SlidingWindowedStream => "window",
        StreamKind.SessionWindowedStream => "session",
        _ => "keyValue",
    };

    /// <summary>A cogrouped stream ends in aggregate, which applies cogroup's aggregator (count and reduce have none).</summary>
    protected static void NotCogrouped(OperationBinding b)
    {
        if (b.Input.CogroupAggregator is not null && b.Input.Kind != StreamKind.CogroupedStream)
            b.Report(DiagnosticDescriptors.OperationNotApplicable, b.Syntax.WrittenAs.Span, b.WrittenAs, "cogrouped " + StreamShape.Describe(b.Input.Kind),
                "a grouped or windowed stream; a cogrouped stream ends in aggregate");
    }

    /// <summary>Checks that each function in <paramref name="fields"/> returns <paramref name="type"/>.</summary>
    protected static void FunctionsReturn(OperationBinding b, KsmlType type, string why, params string[] fields)
    {
        foreach (var field in fields)
        {
            if (b.Function(field)?.Result is { } result)
                b.Flow(result, type, b.Syntax.Functions[field].Span, "the result of " + field + " '" + b.Result.Functions[field].Name + "' (" + why + ")");
        }
    }

    /// <summary>Requires adder and subtractor on a grouped table.</summary>
    protected static void RequireAdderAndSubtractor(OperationBinding b, string what)
    {
        if (!b.HasFunction("adder") || !b.HasFunction("subtractor"))
            b.ReportMissing(what, b.HasFunction("adder") ? "subtractor" : "adder");
    }
}
