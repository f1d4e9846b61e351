using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// Runs a function that uses state stores inside a Streamiz transformer, where the stores of the
/// current task are reachable. One instance per stream task.
/// </summary>
internal sealed class StoreBoundTransformer<K, V, R> : ITransformer<K, V, K, R>, IKsmlStoreProvider
{
    /// <summary>Computes the new value of the record read at the given source.</summary>
    public delegate R Body(K key, V value, SourceRecord source, IKsmlStoreProvider stores);

    private readonly Body _body;
    private ProcessorContext<K, R>? _context;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the parameters given to it.</summary>
    public StoreBoundTransformer() => _body = (_, _, _, _) => throw new InvalidOperationException("StoreBoundTransformer was created without its function.");

    public StoreBoundTransformer(Body body) => _body = body;

    public void Init(ProcessorContext<K, R> context) => _context = context;

    public Record<K, R> Process(Record<K, V> record)
    {
        var source = _context is { } c ? new SourceRecord(c.Topic, c.Partition.Value, c.Offset) : default;
        return Record<K, R>.Create(record.Key, _body(record.Key, record.Value, source, this), record.Headers);
    }

    public IStateStore GetStore(string name) =>
        _context?.GetStateStore(name) ?? throw new InvalidOperationException($"State store '{name}' is not connected to this processor.");

    public void Close() { }
}
