using Ksml.Compiler.Binding;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>count</c>: the number of records per key (and window).</summary>
public sealed class CountOperation : AggregatingOperation
{
    public CountOperation() : base("count", null, Store(null)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        NotCogrouped(b);
        b.Applicable(OperationBinding.Aggregatable, "a grouped or windowed stream", b.GroupHint);
        b.Store("store", b.Input.Key, KsmlType.Long, StoreTypeFor(b.Input));
        return ResultTable(b.Input, KsmlType.Long);
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlCount(ksml, " + e.Store() + ", " + e.Node + ", " + e.DataType(e.Input.Key) + e.WindowSizeArgument() + ")";
}
