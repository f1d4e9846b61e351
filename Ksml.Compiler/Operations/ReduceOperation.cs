using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>reduce</c>: values combined per key (and window) with a reducer, or with an adder and subtractor on a grouped table.</summary>
public sealed class ReduceOperation : AggregatingOperation
{
    public ReduceOperation() : base("reduce", "reducer",
        Fn("reducer", FunctionKind.Reducer), Fn("adder", FunctionKind.Reducer), Fn("subtractor", FunctionKind.Reducer), Store(null))
    { }

    public override StreamShape Bind(OperationBinding b)
    {
        var input = b.Input;
        NotCogrouped(b);
        b.Applicable(OperationBinding.Aggregatable, "a grouped or windowed stream, or a grouped table", b.GroupHint);
        if (input.Kind == StreamKind.GroupedTable)
            RequireAdderAndSubtractor(b, "reduce on a grouped table");
        else if (!b.HasFunction("reducer"))
            b.ReportMissing("reduce on a grouped stream", "reducer");
        FunctionsReturn(b, input.Value, "a reducer returns the value type", "reducer", "adder", "subtractor");
        b.Store("store", input.Key, input.Value, StoreTypeFor(input));
        return ResultTable(input, input.Value);
    }

    public override string Emit(OperationEmission e)
    {
        var input = e.Input;
        var types = e.DataType(input.Key) + ", " + e.DataType(e.Output.Value);
        if (input.Kind == StreamKind.SessionWindowedStream)
            return e.Receiver + ".KsmlReduce" + e.Types(input.Key, input.Value, e.Output.Value) + "(ksml, " + e.Function("reducer") + ", " + e.Store() + ", " + e.Node + ", " + types + ")";
        return input.Kind == StreamKind.GroupedTable
            ? e.Receiver + ".KsmlReduce(ksml, " + e.Function("adder") + ", " + e.Function("subtractor") + ", " + e.Store() + ", " + e.Node + ", " + types + ")"
            : e.Receiver + ".KsmlReduce(ksml, " + e.Function("reducer") + ", " + e.Store() + ", " + e.Node + ", " + types + e.WindowSizeArgument() + ")";
    }
}
