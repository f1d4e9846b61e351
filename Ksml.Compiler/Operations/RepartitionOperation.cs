using System.Collections.Generic;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>repartition</c>: writes a stream through an internal topic, optionally with another partition count or partitioner.</summary>
public sealed class RepartitionOperation : PipelineOperation
{
    public RepartitionOperation()
        : base("repartition", NoAliases, "numberOfPartitions", new FieldSpec("numberOfPartitions", FieldKind.Integer), Fn("partitioner", FunctionKind.StreamPartitioner)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream");
        b.Function("partitioner");
        return b.Input;
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlRepartition(ksml, " + (e.Operation.Syntax.ValueOf("numberOfPartitions") ?? "null") + ", " + e.Function("partitioner") + ", " + e.Node + ", "
        + e.DataType(e.Input.Key) + ", " + e.DataType(e.Input.Value) + ")";

    public override IEnumerable<string> InternalTopics(BoundOperation operation, bool keyChanged) => new[] { "repartition" };
}
