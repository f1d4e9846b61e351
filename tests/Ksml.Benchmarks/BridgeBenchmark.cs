using System.Diagnostics;
using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Python;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.State.Enumerator;

namespace Ksml.Benchmarks;

/// <summary>
/// Per-record CPU cost of calling a KSML function through the bridge: arguments converted into
/// Python, the call, the result converted back. Two functions: a trivial predicate, and a
/// KSML-shaped valueTransformer (a 12-field JSON value, one store get and put, one disabled
/// log.debug). Median of several rounds of CPU time on one thread.
/// </summary>
internal static class BridgeBenchmark
{
    private const string Path = "/bench/bridge.ksml.yaml";

    private const string OrderJson = """
        {"order_id":"ord-000123","customer_id":"cust-42","product":"widget","quantity":3,"unit_price":19.99,
         "currency":"EUR","status":"NEW","priority":false,"created_at":1700000000123,"region":"eu-west",
         "tags":["web","promo"],"note":"leave at door"}
        """;

    // Records arrive as freshly parsed values, never seen by .NET code before: each call gets the next
    // of many parsed copies, so no cache or materialised node makes the conversion look cheaper than it is.
    private static readonly JsonNode[] Orders = Enumerable.Range(0, 4096).Select(_ => JsonNode.Parse(OrderJson)!).ToArray();
    private static int _next;

    private static readonly KsmlDataType Json = KsmlDataType.Of<JsonNode>("json", "json");

    private static JsonNode NextOrder() => Orders[_next++ & (Orders.Length - 1)];

    public static (double Trivial, double KsmlShaped, double JsonStore, double Conversion) Run(int records, int rounds)
    {
        var factory = new PythonFunctionFactory(NullLoggerFactory.Instance);
        var trivial = factory.Create(new KsmlFunctionDefinition("bench", "is_present", "predicate", Path, 1, ["key", "value"], [],
            null, null, new PythonCode("value is not None", 3, 17), KsmlDataType.Of<bool?>("boolean"), []));
        var shaped = factory.Create(new KsmlFunctionDefinition("bench", "enrich", "valueTransformer", Path, 10, ["key", "value"], [],
            null,
            new PythonCode("log.debug(\"enriching {}\", key)\nseen = order_counts.get(key) or 0\norder_counts.put(key, seen + 1)\nvalue[\"repeat\"] = seen > 0", 12, 7),
            new PythonCode("value", 16, 17), Json, ["order_counts"]));
        var identity = factory.Create(new KsmlFunctionDefinition("bench", "identity", "valueTransformer", Path, 20, ["key", "value"], [],
            null, null, new PythonCode("value", 21, 17), Json, []));
        var stores = new SingleStoreProvider(new DictionaryStore<long>("order_counts"));
        var lastOrders = factory.Create(new KsmlFunctionDefinition("bench", "remember", "valueTransformer", Path, 30, ["key", "value"], [],
            null,
            new PythonCode("log.debug(\"remembering {}\", key)\nprevious = last_orders.get(key)\nlast_orders.put(key, value)\nvalue[\"repeat\"] = previous is not None", 32, 7),
            new PythonCode("value", 36, 17), Json, ["last_orders"]));
        var jsonStores = new SingleStoreProvider(new DictionaryStore<JsonNode>("last_orders"));

        Console.Error.WriteLine($"Order value: {JsonNode.Parse(OrderJson)!.ToJsonString().Length} bytes, {JsonNode.Parse(OrderJson)!.AsObject().Count} fields");
        return (Median(rounds, records, () => trivial.Invoke(null, "k", "v")),
                Median(rounds, records, () => shaped.Invoke(stores, "cust-42", NextOrder())),
                Median(rounds, records, () => lastOrders.Invoke(jsonStores, "cust-42", NextOrder())),
                Median(rounds, records, () => identity.Invoke(null, "cust-42", NextOrder())));
    }

    /// <summary>Where a call's time goes: the same order returned as is, as ints only, as one field, and as None.</summary>
    public static IEnumerable<(string Name, double Micros)> Breakdown(int records, int rounds)
    {
        var factory = new PythonFunctionFactory(NullLoggerFactory.Instance);
        KsmlFunctionDefinition Function(string name, string expression) =>
            new("bench", name, "valueTransformer", Path, 40, ["key", "value"], [], null, null, new PythonCode(expression, 41, 17), Json, []);
        foreach (var (name, expression) in new[]
        {
            ("returns None", "None"),
            ("returns one field", "{'quantity': value['quantity']}"),
            ("returns the order", "value"),
            ("returns 12 ints", "{k: 1 for k in value}"),
            ("returns 12 short strings", "{k: 'x' for k in value}"),
        })
        {
            var function = factory.Create(Function(name.Replace(' ', '_'), expression));
            yield return (name, Median(rounds, records, () => function.Invoke(null, "cust-42", NextOrder())));
        }
    }

    private static double Median(int rounds, int records, Action call)
    {
        // Warm up for a second, not a number of calls: tiered JIT promotes hot methods only after a quiet
        // delay, and a short warm-up measured tier-0 code (the quick run showed twice the real cost).
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(1))
            for (var i = 0; i < 1000; i++)
                call(); // also Python's specialising interpreter and the thread's pinned state
        var perRecord = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var start = CpuClock.ThreadNanoseconds();
            for (var i = 0; i < records; i++)
                call();
            perRecord.Add((CpuClock.ThreadNanoseconds() - start) / records / 1000.0);
        }
        perRecord.Sort();
        return perRecord[perRecord.Count / 2];
    }

    private sealed class SingleStoreProvider(IStateStore store) : IKsmlStoreProvider
    {
        public IStateStore GetStore(string name) => store;
    }

    /// <summary>A typed in-memory store, so the benchmark measures the bridge rather than Streamiz's serde layers.</summary>
    private sealed class DictionaryStore<V>(string name) : IKeyValueStore<string, V>
    {
        private readonly Dictionary<string, V> _entries = new(StringComparer.Ordinal);

        public string Name => name;
        public bool Persistent => false;
        public bool IsLocally => true;
        public bool IsOpen => true;
        public void Init(ProcessorContext context, IStateStore root) { }
        public void Flush() { }
        public void Close() { }
        public V Get(string key) => _entries.GetValueOrDefault(key)!;
        public void Put(string key, V value) => _entries[key] = value;
        public V PutIfAbsent(string key, V value) => _entries.TryAdd(key, value) ? default! : _entries[key];
        public void PutAll(IEnumerable<KeyValuePair<string, V>> entries)
        {
            foreach (var (key, value) in entries)
                _entries[key] = value;
        }
        public V Delete(string key) => _entries.Remove(key, out var value) ? value : default!;
        public IEnumerable<KeyValuePair<string, V>> All() => _entries.ToList();
        public IEnumerable<KeyValuePair<string, V>> ReverseAll() => _entries.Reverse().ToList();
        public long ApproximateNumEntries() => _entries.Count;
        public IKeyValueEnumerator<string, V> Range(string from, string to) => new Single<V>(from, _entries.TryGetValue(from, out var v), v);
        public IKeyValueEnumerator<string, V> ReverseRange(string from, string to) => throw new NotSupportedException();
    }

    private sealed class Single<V>(string key, bool found, V? value) : IKeyValueEnumerator<string, V>
    {
        private bool _done;
        public KeyValuePair<string, V>? Current { get; private set; }
        object? System.Collections.IEnumerator.Current => Current;
        public bool MoveNext()
        {
            if (_done || !found)
                return false;
            _done = true;
            Current = new(key, value!);
            return true;
        }
        public string PeekNextKey() => key;
        public void Reset() => _done = false;
        public void Dispose() { }
    }
}
