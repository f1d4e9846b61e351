using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>suppress</c>: holds a table's updates back until a time limit passes or their window closes.</summary>
public sealed class SuppressOperation : PipelineOperation
{
    public SuppressOperation() : base("suppress", NoAliases, null,
        new FieldSpec("until", FieldKind.Choice, true, choices: new[] { "timeLimit", "windowCloses" }), Dur("duration"),
        new FieldSpec("maxBytes", FieldKind.Text), new FieldSpec("maxRecords", FieldKind.Integer),
        new FieldSpec("bufferFullStrategy", FieldKind.Choice, choices: new[] { "emitEarlyWhenFull", "shutdownWhenFull" }))
    { }

    public override StreamShape Bind(OperationBinding b)
    {
        var input = b.Input;
        b.Applicable(OperationBinding.TableOnly, "a table", "suppress follows count, reduce or aggregate");
        var until = b.Syntax.Values.TryGetValue("until", out var written) ? written : null;
        if (until?.Name == "timeLimit" && !b.Written("duration"))
            b.ReportMissing("suppress until timeLimit", "duration");
        if (until?.Name == "windowCloses" && !input.IsUnknown && input.Key.Resolve() is not WindowedType and not ErrorType)
            b.Report(DiagnosticDescriptors.OperationNotApplicable, until.Span, "suppress until windowCloses", "table keyed by '" + input.Key.Resolve() + "'", "the result of a windowed count, reduce or aggregate");
        return input;
    }

    public override string Emit(OperationEmission e)
    {
        var input = e.Input;
        var maxRecords = e.Operation.Syntax.ValueOf("maxRecords") ?? "null";
        var shutdown = e.Operation.Syntax.ValueOf("bufferFullStrategy") == "shutdownWhenFull" ? "true" : "false";
        var rest = maxRecords + ", " + shutdown + ", " + e.Node + ", " + e.DataType(input.Key) + ", " + e.DataType(input.Value) + ")";
        // Until its window closes means until stream time passes the window's end plus what may still change it.
        return e.Operation.Syntax.ValueOf("until") == "windowCloses"
            ? e.Receiver + ".KsmlSuppressUntilWindowCloses(" + EmitNames.Number(input.Window?.ClosesAfterMs ?? 0) + ", " + rest
            : e.Receiver + ".KsmlSuppressUntilTimeLimit(" + e.Milliseconds("duration") + ", " + rest;
    }
}
