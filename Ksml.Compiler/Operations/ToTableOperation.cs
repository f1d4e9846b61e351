using Ksml.Compiler.Binding;

namespace Ksml.Compiler.Operations;

/// <summary><c>toTable</c>: a stream's records as the latest value per key.</summary>
public sealed class ToTableOperation : PipelineOperation
{
    public ToTableOperation() : base("toTable", NoAliases, null, Store()) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.Input.Kind == StreamKind.Table ? "it is already a table" : null);
        b.Store("store", b.Input.Key, b.Input.Value);
        return b.Input with { Kind = StreamKind.Table };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlToTable(ksml, " + e.Store() + ", " + e.Node + ", " + e.DataType(e.Input.Key) + ", " + e.DataType(e.Input.Value) + ")";
}
