using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;

namespace Ksml.Testing;

/// <summary>
/// An assert block's view of a store Streamiz's driver only hands out read-only (an operation's timestamped
/// store, as a count's or a table's <c>store:</c> is): reads pass through, a write is an error an assertion sees.
/// </summary>
internal sealed class ReadOnlyStoreView<K, V>(string name, IReadOnlyKeyValueStore<K, V> store) : IKeyValueStore<K, V>
{
    public string Name => name;
    public bool Persistent => false;
    public bool IsLocally => true;
    public bool IsOpen => true;

    public V Get(K key) => store.Get(key);
    public IKeyValueEnumerator<K, V> Range(K from, K to) => store.Range(from, to);
    public IKeyValueEnumerator<K, V> ReverseRange(K from, K to) => store.ReverseRange(from, to);
    public IEnumerable<KeyValuePair<K, V>> All() => store.All();
    public IEnumerable<KeyValuePair<K, V>> ReverseAll() => store.ReverseAll();
    public long ApproximateNumEntries() => store.ApproximateNumEntries();

    public void Put(K key, V value) => throw ReadOnly();
    public V PutIfAbsent(K key, V value) => throw ReadOnly();
    public void PutAll(IEnumerable<KeyValuePair<K, V>> entries) => throw ReadOnly();
    public V Delete(K key) => throw ReadOnly();

    public void Init(ProcessorContext context, IStateStore root) { }
    public void Flush() { }
    public void Close() { }

    private InvalidOperationException ReadOnly() => new($"store '{name}' belongs to an operation and is read-only in an assert block");
}
