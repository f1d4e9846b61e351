using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformKeyValueToKeyValueList</c> (<c>flatMap</c>): any number of (key, value) records for each record of a stream.</summary>
public sealed class TransformKeyValueToKeyValueListOperation : PipelineOperation
{
    public TransformKeyValueToKeyValueListOperation()
        : base("transformKeyValueToKeyValueList", new[] { "flatMap" }, "mapper", Fn("mapper", FunctionKind.KeyValueToKeyValueListTransformer, true)) { }

    public override bool CallsConcurrently => true;
    public override bool ChangesKey => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.KeyChangeHint);
        var mapper = b.Function("mapper");
        var (key, value) = mapper?.Result?.Resolve() is ListType list ? b.KeyValueOf(list.Element, mapper) : (KsmlType.Error, KsmlType.Error);
        return b.Input with { Key = key, Value = value };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlTransformKeyValueToKeyValueList" + e.Types(e.Input.Key, e.Input.Value, e.Output.Key, e.Output.Value) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
