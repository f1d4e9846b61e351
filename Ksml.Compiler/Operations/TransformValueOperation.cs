using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformValue</c> (<c>mapValue</c>, <c>mapValues</c>): a new value for each record, on a stream or a table.</summary>
public sealed class TransformValueOperation : PipelineOperation
{
    public TransformValueOperation() : base("transformValue", new[] { "mapValue", "mapValues" }, "mapper", Fn("mapper", FunctionKind.ValueTransformer, true), Store()) { }

    public override bool CallsConcurrently => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOrTable, "a stream or table");
        var mapper = b.Function("mapper");
        return b.Input with { Value = mapper?.Result ?? KsmlType.Error, Kind = b.Input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlTransformValue" + e.Types(e.Input.Key, e.Input.Value, e.Output.Value) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
