using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>transformMetadata</c>: new headers and timestamp for each record of a stream.</summary>
public sealed class TransformMetadataOperation : PipelineOperation
{
    public TransformMetadataOperation() : base("transformMetadata", NoAliases, "mapper", Fn("mapper", FunctionKind.MetadataTransformer, true)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream");
        b.Function("mapper");
        return b.Input;
    }

    public override string Emit(OperationEmission e) => e.Receiver + ".KsmlTransformMetadata(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
}
