using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformKeyValue</c> (<c>map</c>): a new (key, value) for each record of a stream.</summary>
public sealed class TransformKeyValueOperation : PipelineOperation
{
    public TransformKeyValueOperation() : base("transformKeyValue", new[] { "map" }, "mapper", Fn("mapper", FunctionKind.KeyValueTransformer, true)) { }

    public override bool CallsConcurrently => true;
    public override bool ChangesKey => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.KeyChangeHint);
        var (key, value) = b.KeyValueOf(b.Function("mapper"));
        return b.Input with { Key = key, Value = value };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlTransformKeyValue" + e.Types(e.Input.Key, e.Input.Value, e.Output.Key, e.Output.Value) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
