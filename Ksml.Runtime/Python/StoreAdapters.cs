using System.Runtime.CompilerServices;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;

namespace Ksml.Runtime.Python;

/// <summary>The store methods KSML gives Python, numbered as the builtins encode them.</summary>
internal enum StoreOperation
{
    Get, Put, PutIfAbsent, Delete, All, ApproximateNumEntries, Fetch, FetchAll,
}

/// <summary>A typed Streamiz store behind KSML's untyped Python API.</summary>
internal abstract class StoreAdapter
{
    private static readonly ConditionalWeakTable<IStateStore, StoreAdapter> Adapters = new();

    public abstract object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments);

    /// <summary>The adapter for <paramref name="store"/>, made once per store instance.</summary>
    public static StoreAdapter For(IStateStore store) => Adapters.GetValue(store, Create);

    private static StoreAdapter Create(IStateStore store)
    {
        foreach (var type in store.GetType().GetInterfaces().Where(i => i.IsGenericType))
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(IKeyValueStore<,>))
                return (StoreAdapter)Activator.CreateInstance(typeof(KeyValueStoreAdapter<,>).MakeGenericType(type.GetGenericArguments()), store)!;
            if (definition == typeof(IWindowStore<,>))
                return (StoreAdapter)Activator.CreateInstance(typeof(WindowStoreAdapter<,>).MakeGenericType(type.GetGenericArguments()), store)!;
        }
        throw new NotSupportedException($"State store '{store.Name}' ({store.GetType().Name}) is neither a key-value nor a window store.");
    }

    protected static void Expect(StoreOperation operation, ReadOnlySpan<object?> arguments, int count, string store)
    {
        if (arguments.Length != count)
            throw new ArgumentException($"{store}.{Name(operation)}() takes {count} argument{(count == 1 ? "" : "s")}, got {arguments.Length}.");
    }

    /// <summary>An enumerator's (key, value) pairs as the list of tuples Python receives.</summary>
    protected static List<object?> Pairs<TKey, TValue>(IEnumerator<KeyValuePair<TKey, TValue>?> enumerator)
    {
        var pairs = new List<object?>();
        while (enumerator.MoveNext())
            if (enumerator.Current is { } pair)
                pairs.Add(new object?[] { pair.Key, pair.Value });
        return pairs;
    }

    protected static string Name(StoreOperation operation) => operation switch
    {
        StoreOperation.PutIfAbsent => "putIfAbsent",
        StoreOperation.ApproximateNumEntries => "approximateNumEntries",
        StoreOperation.FetchAll => "fetchAll",
        _ => operation.ToString().ToLowerInvariant(),
    };
}

internal sealed class KeyValueStoreAdapter<K, V>(IKeyValueStore<K, V> store) : StoreAdapter
{
    // Streamiz answers a missing key with default(V); for a long store that is 0, not KSML's None.
    private static readonly bool ValueIsStruct = typeof(V).IsValueType && Nullable.GetUnderlyingType(typeof(V)) is null;

    private object? Lookup(K key)
    {
        if (!ValueIsStruct)
            return store.Get(key);
        using var range = store.Range(key, key);
        return range.MoveNext() && range.Current is { } found ? found.Value : null;
    }

    public override object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments)
    {
        switch (operation)
        {
            case StoreOperation.Get:
                Expect(operation, arguments, 1, store.Name);
                return Lookup(Key(arguments[0]));
            case StoreOperation.Put:
                Expect(operation, arguments, 2, store.Name);
                store.Put(Key(arguments[0]), Value(arguments[1]));
                return null;
            case StoreOperation.PutIfAbsent:
            {
                Expect(operation, arguments, 2, store.Name);
                var key = Key(arguments[0]);
                if (Lookup(key) is { } existing)
                    return existing;
                store.Put(key, Value(arguments[1]));
                return null;
            }
            case StoreOperation.Delete:
            {
                Expect(operation, arguments, 1, store.Name);
                var key = Key(arguments[0]);
                var previous = Lookup(key);
                store.Delete(key);
                return previous;
            }
            case StoreOperation.All:
                Expect(operation, arguments, 0, store.Name);
                return store.All().Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList();
            case StoreOperation.ApproximateNumEntries:
                Expect(operation, arguments, 0, store.Name);
                return store.ApproximateNumEntries();
            default:
                throw new NotSupportedException($"Key-value store '{store.Name}' has no {Name(operation)}().");
        }
    }

    private K Key(object? value) => KsmlValues.To<K>(value, $"a key for store '{store.Name}'");
    private V Value(object? value) => KsmlValues.To<V>(value, $"a value for store '{store.Name}'");
}

internal sealed class WindowStoreAdapter<K, V>(IWindowStore<K, V> store) : StoreAdapter
{
    public override object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments)
    {
        switch (operation)
        {
            case StoreOperation.Put:
                Expect(operation, arguments, 3, store.Name);
                store.Put(Key(arguments[0]), Value(arguments[1]), Time(arguments[2]));
                return null;
            case StoreOperation.Fetch when arguments.Length == 2:
                return store.Fetch(Key(arguments[0]), Time(arguments[1]));
            case StoreOperation.Fetch:
            {
                Expect(operation, arguments, 3, store.Name);
                using var found = store.Fetch(Key(arguments[0]), Time(arguments[1]), Time(arguments[2]));
                return Pairs(found);
            }
            case StoreOperation.FetchAll:
            {
                Expect(operation, arguments, 2, store.Name);
                using var found = store.FetchAll(DateTime.UnixEpoch.AddMilliseconds(Time(arguments[0])), DateTime.UnixEpoch.AddMilliseconds(Time(arguments[1])));
                return Pairs(found);
            }
            case StoreOperation.All:
            {
                Expect(operation, arguments, 0, store.Name);
                using var all = store.All();
                return Pairs(all);
            }
            default:
                throw new NotSupportedException($"Window store '{store.Name}' has no {Name(operation)}().");
        }
    }

    private K Key(object? value) => KsmlValues.To<K>(value, $"a key for store '{store.Name}'");
    private V Value(object? value) => KsmlValues.To<V>(value, $"a value for store '{store.Name}'");
    private long Time(object? value) => KsmlValues.To<long>(value, $"a timestamp for store '{store.Name}'");
}
