using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Operations;

/// <summary><c>filter</c> and <c>filterNot</c>: keep the records the predicate accepts (or rejects).</summary>
public sealed class FilterOperation : PipelineOperation
{
    public static readonly FilterOperation Filter = new("filter", negate: false);
    public static readonly FilterOperation FilterNot = new("filterNot", negate: true);

    private readonly bool _negate;

    private FilterOperation(string name, bool negate) : base(name, NoAliases, "if", Fn("if", FunctionKind.Predicate, true), Store()) => _negate = negate;

    public override bool CallsConcurrently => true;

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOrTable, "a stream or table");
        b.Function("if");
        return b.Input;
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlFilter(ksml, " + e.Function("if") + ", " + e.Node + (_negate ? ", negate: true" : "") + ")";
}
