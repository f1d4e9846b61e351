using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary>
/// <c>aggregate</c>: an aggregate per key (and window) from an initializer and an aggregator (a merger for sessions,
/// adder and subtractor on a grouped table, cogroup's aggregator after cogroup).
/// </summary>
public sealed class AggregateOperation : AggregatingOperation
{
    private static readonly StreamKind[] AggregatableOrCogrouped = OperationBinding.Aggregatable.Concat(new[] { StreamKind.CogroupedStream }).ToArray();

    public AggregateOperation() : base("aggregate", null,
        Fn("initializer", FunctionKind.Initializer, true), Fn("aggregator", FunctionKind.Aggregator), Fn("merger", FunctionKind.Merger),
        Fn("adder", FunctionKind.Aggregator), Fn("subtractor", FunctionKind.Aggregator), Store(null))
    { }

    public override StreamShape Bind(OperationBinding b)
    {
        var input = b.Input;
        b.Applicable(AggregatableOrCogrouped, "a grouped or windowed stream, or a grouped table", b.GroupHint);
        var initializer = b.Function("initializer");
        var aggregateType = initializer?.Result ?? KsmlType.Error;
        if (input.Kind == StreamKind.GroupedTable)
        {
            RequireAdderAndSubtractor(b, "aggregate on a grouped table");
        }
        else if (input.CogroupAggregator is { } cogrouped)
        {
            if (b.Syntax.Functions.TryGetValue("aggregator", out var second))
                b.Report(DiagnosticDescriptors.OperationNotApplicable, second.Span, "aggregate's aggregator", "cogrouped stream", "a grouped stream; after cogroup, its aggregator is the one applied");
            if (cogrouped.Result is { } cogroupResult)
                b.Flow(cogroupResult, aggregateType, b.Syntax.WrittenAs.Span, "the result of cogroup's aggregator '" + cogrouped.Name + "' (it must match the initializer's)");
        }
        else if (!b.HasFunction("aggregator"))
        {
            b.ReportMissing("aggregate on a grouped stream", "aggregator");
        }
        if (input.Kind == StreamKind.SessionWindowedStream && !b.HasFunction("merger"))
            b.ReportMissing("aggregate on a session-windowed stream", "merger");
        FunctionsReturn(b, aggregateType, "it must match the initializer's", "aggregator", "adder", "subtractor", "merger");
        b.Store("store", input.Key, aggregateType, StoreTypeFor(input));
        return ResultTable(input, aggregateType);
    }

    public override string Emit(OperationEmission e)
    {
        var input = e.Input;
        var start = e.Receiver + ".KsmlAggregate" + e.Types(input.Key, input.Value, e.Output.Value) + "(ksml, " + e.Function("initializer") + ", ";
        var end = e.Store() + ", " + e.Node + ", " + e.DataType(input.Key) + ", " + e.DataType(e.Output.Value);
        if (input.Kind == StreamKind.GroupedTable)
            return start + e.Function("adder") + ", " + e.Function("subtractor") + ", " + end + ")";
        var aggregator = input.CogroupAggregator is { } cogrouped ? e.Function(cogrouped) : e.Function("aggregator");
        var merger = input.Kind == StreamKind.SessionWindowedStream ? e.Function("merger") + ", " : "";
        return start + aggregator + ", " + merger + end + e.WindowSizeArgument() + ")";
    }
}
