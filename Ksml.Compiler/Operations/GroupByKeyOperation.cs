using Ksml.Compiler.Binding;

namespace Ksml.Compiler.Operations;

/// <summary><c>groupByKey</c>: groups a stream's records by their key, for an aggregation or windows.</summary>
public sealed class GroupByKeyOperation : PipelineOperation
{
    public GroupByKeyOperation() : base("groupByKey", NoAliases, null, Store()) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream", b.Input.Kind == StreamKind.Table ? "a table is grouped with groupBy" : null);
        var output = b.Input with { Kind = StreamKind.GroupedStream };
        b.Store("store", output.Key, output.Value);
        return output;
    }

    public override string Emit(OperationEmission e) => e.Operation.GroupsForOwnWindows
        ? e.Receiver + ".KsmlGroupByKeyForOwnWindows(" + e.Node + ", " + e.DataType(e.Output.Key) + ", " + e.DataType(e.Output.Value) + ")"
        : e.Receiver + ".KsmlGroupByKey(" + e.Node + ")";

    public override System.Collections.Generic.IEnumerable<string> InternalTopics(BoundOperation operation, bool keyChanged) =>
        keyChanged && operation.Input.Kind == StreamKind.Stream ? new[] { "repartition" } : base.InternalTopics(operation, keyChanged);
}
