using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformKey</c> (<c>mapKey</c>, <c>selectKey</c>): a new key for each record of a stream.</summary>
public sealed class TransformKeyOperation : PipelineOperation
{
    public TransformKeyOperation() : base("transformKey", new[] { "mapKey", "selectKey" }, "mapper", Fn("mapper", FunctionKind.KeyTransformer, true)) { }

    public override bool CallsConcurrently => true;
    public override bool ChangesKey => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.KeyChangeHint);
        var mapper = b.Function("mapper");
        return b.Input with { Key = mapper?.Result ?? KsmlType.Error };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlTransformKey" + e.Types(e.Input.Key, e.Input.Value, e.Output.Key) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
