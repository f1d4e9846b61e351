using Ksml.Compiler.Binding;
using Ksml.Compiler.Syntax;

namespace Ksml.Compiler.Operations;

/// <summary><c>windowBySession</c>: session windows, built by the runtime from the grouped records.</summary>
public sealed class WindowBySessionOperation : PipelineOperation
{
    public WindowBySessionOperation() : base("windowBySession", NoAliases, "inactivityGap", Dur("inactivityGap", true), Dur("grace")) { }

    public override bool BuildsOwnWindows(OperationSyntax syntax) => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
        return b.Input with { Kind = StreamKind.SessionWindowedStream };
    }

    // A session can still grow until the gap has passed after its end.
    public override WindowExtent WindowOf(OperationSyntax syntax) => new(0, syntax.Milliseconds("grace") + syntax.Milliseconds("inactivityGap"));

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlWindowBySession(" + e.Milliseconds("inactivityGap") + ", " + e.Milliseconds("grace") + ")";
}
