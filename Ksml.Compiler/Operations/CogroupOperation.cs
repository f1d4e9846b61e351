using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary>
/// <c>cogroup</c>. KSML cogroups one grouped stream (a pipeline has one input), so cogroup + aggregate is an
/// aggregation whose aggregator is given first; Streamiz's lack of CogroupedKStream does not matter.
/// </summary>
public sealed class CogroupOperation : PipelineOperation
{
    public CogroupOperation() : base("cogroup", NoAliases, "aggregator", Fn("aggregator", FunctionKind.Aggregator, true)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        if (b.Input.Kind == StreamKind.CogroupedStream)
            b.Report(DiagnosticDescriptors.OperationNotApplicable, b.Syntax.WrittenAs.Span, "cogroup", "cogrouped stream", "a grouped stream; KSML cogroups one grouped stream");
        else
            b.Applicable(OperationBinding.Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
        return b.Input with { Kind = StreamKind.CogroupedStream, CogroupAggregator = b.Function("aggregator") };
    }

    // Its aggregator is applied by the aggregate that closes it.
    public override string Emit(OperationEmission e) => e.Receiver;
}
