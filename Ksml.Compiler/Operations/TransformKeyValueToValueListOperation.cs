using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformKeyValueToValueList</c> (<c>flatMapValues</c>): any number of values, each with the record's key.</summary>
public sealed class TransformKeyValueToValueListOperation : PipelineOperation
{
    public TransformKeyValueToValueListOperation()
        : base("transformKeyValueToValueList", new[] { "flatMapValues" }, "mapper", Fn("mapper", FunctionKind.KeyValueToValueListTransformer, true)) { }

    public override bool CallsConcurrently => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.KeyChangeHint);
        var mapper = b.Function("mapper");
        return b.Input with { Value = mapper?.Result?.Resolve() is ListType list ? list.Element : KsmlType.Error };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlTransformKeyValueToValueList" + e.Types(e.Input.Key, e.Input.Value, e.Output.Value) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
