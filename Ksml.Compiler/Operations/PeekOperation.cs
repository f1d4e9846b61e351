using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>peek</c>: calls a forEach function for each record and passes the record on.</summary>
public sealed class PeekOperation : PipelineOperation
{
    public PeekOperation() : base("peek", NoAliases, "forEach", Fn("forEach", FunctionKind.ForEach, true)) { }

    public override bool CallsConcurrently => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream");
        b.Function("forEach");
        return b.Input;
    }

    public override string Emit(OperationEmission e) => e.Receiver + ".KsmlPeek(ksml, " + e.Function("forEach") + ", " + e.Node + ")";
}
