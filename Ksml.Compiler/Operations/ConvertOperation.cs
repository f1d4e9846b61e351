using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>convertKey</c>, <c>convertValue</c> and <c>convertKeyValue</c>: the same data in another type or notation.</summary>
public sealed class ConvertOperation : PipelineOperation
{
    public static readonly ConvertOperation ConvertKey = new("convertKey");
    public static readonly ConvertOperation ConvertValue = new("convertValue");
    public static readonly ConvertOperation ConvertKeyValue = new("convertKeyValue");

    private ConvertOperation(string name) : base(name, NoAliases, "into", new FieldSpec("into", FieldKind.Type, true)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        b.Applicable(OperationBinding.StreamOnly, "a stream");
        var into = b.Syntax.Types.TryGetValue("into", out var written) ? written.Type ?? KsmlType.Error : KsmlType.Error;
        if (this == ConvertKey)
            return b.Input with { Key = into };
        if (this == ConvertValue)
            return b.Input with { Value = into };
        if (into.Resolve() is TupleType { Elements.Count: 2 } tuple)
            return b.Input with { Key = tuple.Elements[0], Value = tuple.Elements[1] };
        if (written?.Type is not null)
            b.Report(DiagnosticDescriptors.TypeMismatch, written.Span, "convertKeyValue 'into'", "(keyType, valueType)", written.Text);
        return b.Input with { Key = KsmlType.Error, Value = KsmlType.Error };
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".KsmlConvert" + e.Types(e.Input.Key, e.Input.Value, e.Output.Key, e.Output.Value) + "(" + e.Node + ")";
}
