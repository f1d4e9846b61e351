using System.Collections.Generic;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>groupBy</c>: groups a stream by a new key, or a table by a new (key, value), for an aggregation or windows.</summary>
public sealed class GroupByOperation : PipelineOperation
{
    public GroupByOperation() : base("groupBy", NoAliases, "mapper", Fn("mapper", FunctionKind.KeyValueMapper, true), Store()) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOrTable, "a stream or table");
        var mapper = b.Function("mapper");
        StreamShape output;
        if (b.Input.Kind == StreamKind.Table && !b.Input.IsUnknown)
        {
            var (key, value) = b.KeyValueOf(mapper);
            output = new StreamShape(StreamKind.GroupedTable, key, value);
        }
        else
        {
            output = new StreamShape(StreamKind.GroupedStream, mapper?.Result ?? KsmlType.Error, b.Input.Value, b.Input.IsUnknown);
        }
        b.Store("store", output.Key, output.Value);
        return output;
    }

    public override string Emit(OperationEmission e)
    {
        var input = e.Input;
        var output = e.Output;
        if (e.Operation.GroupsForOwnWindows)
            return e.Receiver + ".KsmlGroupByForOwnWindows" + e.Types(input.Key, input.Value, output.Key) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ", "
                + e.DataType(output.Key) + ", " + e.DataType(output.Value) + ")";
        return input.Kind == StreamKind.Table
            ? e.Receiver + ".KsmlGroupBy" + e.Types(input.Key, input.Value, output.Key, output.Value) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")"
            : e.Receiver + ".KsmlGroupBy" + e.Types(input.Key, input.Value, output.Key) + "(ksml, " + e.Function("mapper") + ", " + e.Node + ")";
    }

    public override IEnumerable<string> InternalTopics(BoundOperation operation, bool keyChanged) => new[] { "repartition" };
}
