using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;

namespace Ksml.Compiler.Operations;

/// <summary><c>windowByTime</c>: tumbling or hopping time windows (Streamiz's), or sliding windows (built by the runtime).</summary>
public sealed class WindowByTimeOperation : PipelineOperation
{
    public WindowByTimeOperation() : base("windowByTime", NoAliases, null,
        new FieldSpec("windowType", FieldKind.Choice, true, choices: new[] { "tumbling", "hopping", "sliding" }),
        Dur("duration"), Dur("advanceBy"), Dur("timeDifference"), Dur("grace"))
    { }

    public override bool BuildsOwnWindows(OperationSyntax syntax) => syntax.ValueOf("windowType") == "sliding";

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
        var windowType = b.Syntax.ValueOf("windowType");
        if (windowType is "tumbling" or "hopping" && !b.Written("duration"))
            b.ReportMissing("a " + windowType + " window", "duration");
        if (windowType == "hopping" && !b.Written("advanceBy"))
            b.ReportMissing("a hopping window", "advanceBy");
        if (windowType == "sliding" && !b.Written("timeDifference"))
            b.ReportMissing("a sliding window", "timeDifference");
        return b.Input with { Kind = windowType == "sliding" ? StreamKind.SlidingWindowedStream : StreamKind.TimeWindowedStream };
    }

    public override WindowExtent WindowOf(OperationSyntax syntax) => new(syntax.Milliseconds("duration"), syntax.Milliseconds("grace"));

    public override string Emit(OperationEmission e) => e.Operation.Syntax.ValueOf("windowType") switch
    {
        "sliding" => e.Receiver + ".KsmlWindowBySliding(" + e.Milliseconds("timeDifference") + ", " + e.Milliseconds("grace") + ")",
        var type => e.Receiver + ".KsmlWindowByTime(" + e.Milliseconds("duration") + ", " + (type == "hopping" ? e.Milliseconds("advanceBy") : "null") + ", " + e.Milliseconds("grace") + ")",
    };
}
