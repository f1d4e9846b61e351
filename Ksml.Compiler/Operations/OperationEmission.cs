using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary>
/// What an operation's <see cref="PipelineOperation.Emit"/> works with: the bound operation, the variable holding
/// its input stream, and the emitter's names for functions, stores, topics and earlier streams.
/// </summary>
public sealed class OperationEmission
{
    private readonly TopologyEmitter _emitter;

    internal OperationEmission(TopologyEmitter emitter, BoundOperation operation, string receiver, string node)
    {
        _emitter = emitter;
        Operation = operation;
        Receiver = receiver;
        Node = node;
    }

    public BoundOperation Operation { get; }

    /// <summary>The variable holding the input stream, table or grouping.</summary>
    public string Receiver { get; }

    /// <summary>The processor's name in the topology, as a C# literal.</summary>
    public string Node { get; }

    public StreamShape Input => Operation.Input;
    public StreamShape Output => Operation.Output;

    /// <summary>The CLR type arguments for the KSML types, as <c>&lt;K, V&gt;</c>.</summary>
    public string Types(params KsmlType[] types) => "<" + string.Join(", ", types.Select(ClrTypes.Of)) + ">";

    /// <summary>A KSML type as the runtime's descriptor of it, which its serdes are made from.</summary>
    public string DataType(KsmlType type) => TopologyEmitter.DataType(type);

    /// <summary>The function attached in <paramref name="field"/> (<c>Functions.x</c>), or <c>null</c>.</summary>
    public string Function(string field) => _emitter.FunctionReference(Operation.Functions.TryGetValue(field, out var function) ? function : null);

    public string Function(BoundFunction function) => _emitter.FunctionReference(function);

    /// <summary>The store attached in <paramref name="field"/> (<c>Stores.x</c>), or <c>null</c>.</summary>
    public string Store(string field = "store") => _emitter.StoreReference(Operation.Stores.TryGetValue(field, out var store) ? store : null);

    /// <summary>The duration written in <paramref name="field"/> in milliseconds, or <c>null</c>.</summary>
    public string Milliseconds(string field) =>
        Operation.Syntax.Durations.TryGetValue(field, out var duration) ? EmitNames.Number(duration.Milliseconds) : "null";

    /// <summary>The expression reading a topic as a stream, table or global table.</summary>
    public string Source(BoundTopic topic) => _emitter.SourceExpression(topic);

    /// <summary>The variable holding an earlier pipeline's output or <c>as</c> name.</summary>
    public string StreamVariable(string name) => _emitter.StreamVariable(name);

    /// <summary>The topic the input stream was read from, as a literal, or <c>null</c> when unknown.</summary>
    public string ReceiverTopic() => _emitter.VariableTopic(Receiver) is { } topic ? EmitNames.Literal(topic) : "null";

    /// <summary>A time window's size for aggregations of a time-windowed stream; empty otherwise.</summary>
    public string WindowSizeArgument() =>
        Input.Kind == StreamKind.TimeWindowedStream ? ", " + EmitNames.Number(Input.Window?.SizeMs ?? 0) : "";
}
