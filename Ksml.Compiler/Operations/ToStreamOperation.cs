using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>toStream</c>: a table's updates as a stream, optionally with a new key.</summary>
public sealed class ToStreamOperation : PipelineOperation
{
    public ToStreamOperation() : base("toStream", NoAliases, "mapper", Fn("mapper", FunctionKind.KeyTransformer)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        var input = b.Input;
        b.Applicable(OperationBinding.TableOnly, "a table", input.Kind == StreamKind.Stream ? "it is already a stream" : b.GroupHint);
        var mapper = b.Function("mapper");
        var key = mapper is null ? (b.HasFunction("mapper") ? KsmlType.Error : input.Key) : mapper.Result ?? KsmlType.Error;
        return new StreamShape(StreamKind.Stream, key, input.Value, input.IsUnknown);
    }

    public override string Emit(OperationEmission e) => e.Operation.Functions.ContainsKey("mapper")
        ? e.Receiver + ".KsmlToStream" + e.Types(e.Input.Key, e.Input.Value, e.Output.Key) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")"
        : e.Receiver + ".ToStream(" + e.Node + ")";
}
