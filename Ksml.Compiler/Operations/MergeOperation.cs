using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary><c>merge</c>: the records of this stream and of another stream with the same types, as one stream.</summary>
public sealed class MergeOperation : PipelineOperation
{
    public MergeOperation() : base("merge", NoAliases, "stream", new FieldSpec("stream", FieldKind.Stream, true)) { }

    public override StreamShape Bind(OperationBinding b)
    {
        var input = b.Input;
        b.Applicable(OperationBinding.StreamOnly, "a stream");
        if (!b.Syntax.Topics.TryGetValue("stream", out var reference))
            return input;
        // As in KSML, the other stream may be a declared stream or an earlier pipeline's output or `as` name.
        (string Name, KsmlType Key, KsmlType Value)? other = null;
        if (reference.Name is { } name && !b.IsDeclaredTopic(name.Name) && b.NamedStream(name.Name) is { } named)
        {
            if (named.Kind == StreamKind.Stream || named.IsUnknown)
            {
                b.Result.NamedStreams["stream"] = name.Name;
                other = (name.Name, named.Key, named.Value);
            }
            else
                b.Report(DiagnosticDescriptors.OperationNotApplicable, name.Span, "merge", StreamShape.Describe(named.Kind) + " '" + name.Name + "'", "a stream");
        }
        else if (b.Topic(reference, TopicKind.Stream, b.NodeName + "_stream") is { } topic)
        {
            b.Result.Topics["stream"] = topic;
            other = (topic.Name, topic.Key, topic.Value);
        }
        if (other is { } o && (!TypeRelations.SameKey(o.Key, input.Key) || !TypeRelations.Unify(o.Value, input.Value) || ClrTypes.Of(o.Value) != ClrTypes.Of(input.Value)))
            b.Report(DiagnosticDescriptors.TypeMismatch, reference.Span, "merge with '" + o.Name + "'",
                "(" + input.Key.Resolve() + ", " + input.Value.Resolve() + ")", "(" + o.Key.Resolve() + ", " + o.Value.Resolve() + ")");
        return input;
    }

    public override string Emit(OperationEmission e) =>
        e.Receiver + ".Merge(" + (e.Operation.NamedStreams.TryGetValue("stream", out var named) ? e.StreamVariable(named) : e.Source(e.Operation.Topics["stream"])) + ", " + e.Node + ")";
}
