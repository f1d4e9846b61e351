using System.Runtime.CompilerServices;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;

namespace Ksml.Runtime.Python;

/// <summary>The store methods KSML gives Python, numbered as the builtins encode them.</summary>
internal enum StoreOperation
{
    Get, Put, PutIfAbsent, Delete, All, ApproximateNumEntries, Fetch, FetchAll, FindSessions, FetchSession, Remove,
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
            // Ksml.NET's session stores are key-value stores of a key's sessions.
            if (definition == typeof(IKeyValueStore<,>) && type.GetGenericArguments()[1] is { IsGenericType: true } list
                && list.GetGenericTypeDefinition() == typeof(List<>) && list.GetGenericArguments()[0] is { IsGenericType: true } item
                && item.GetGenericTypeDefinition() == typeof(Dsl.Session<>))
                return (StoreAdapter)Activator.CreateInstance(typeof(SessionStoreAdapter<,>).MakeGenericType(type.GetGenericArguments()[0], item.GetGenericArguments()[0]), store)!;
            if (definition == typeof(IKeyValueStore<,>) && type.GetGenericArguments()[1] is { IsGenericType: true } versions
                && versions.GetGenericTypeDefinition() == typeof(List<>) && versions.GetGenericArguments()[0] is { IsGenericType: true } version
                && version.GetGenericTypeDefinition() == typeof(Dsl.Version<>))
                return (StoreAdapter)Activator.CreateInstance(typeof(VersionedKeyValueStoreAdapter<,>).MakeGenericType(type.GetGenericArguments()[0], version.GetGenericArguments()[0]), store)!;
            if (definition == typeof(IKeyValueStore<,>) && type.GetGenericArguments()[1] is { IsGenericType: true } stamped
                && stamped.GetGenericTypeDefinition() == typeof(ValueAndTimestamp<>))
                return (StoreAdapter)Activator.CreateInstance(typeof(TimestampedKeyValueStoreAdapter<,>).MakeGenericType(type.GetGenericArguments()[0], stamped.GetGenericArguments()[0]), store)!;
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
        StoreOperation.FindSessions => "findSessions",
        StoreOperation.FetchSession => "fetchSession",
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

/// <summary>
/// A <c>timestamped: true</c> key-value store as KSML gives it to Python: <c>get</c> and <c>delete</c> answer
/// <c>{"value": …, "timestamp": …}</c>, and <c>put</c> and <c>putIfAbsent</c> take the timestamp as a third argument.
/// </summary>
internal sealed class TimestampedKeyValueStoreAdapter<K, V>(IKeyValueStore<K, ValueAndTimestamp<V>> store) : StoreAdapter
{
    private static Dictionary<string, object?>? Stamped(ValueAndTimestamp<V>? stamped) =>
        stamped is null ? null : new Dictionary<string, object?> { ["value"] = stamped.Value, ["timestamp"] = stamped.Timestamp };

    public override object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments)
    {
        switch (operation)
        {
            case StoreOperation.Get:
                Expect(operation, arguments, 1, store.Name);
                return Stamped(store.Get(Key(arguments[0])));
            case StoreOperation.Put:
                Expect(operation, arguments, 3, store.Name);
                store.Put(Key(arguments[0]), Make(arguments[1], arguments[2]));
                return null;
            case StoreOperation.PutIfAbsent:
            {
                Expect(operation, arguments, 3, store.Name);
                var key = Key(arguments[0]);
                if (store.Get(key) is { } existing)
                    return Stamped(existing);
                store.Put(key, Make(arguments[1], arguments[2]));
                return null;
            }
            case StoreOperation.Delete:
            {
                Expect(operation, arguments, 1, store.Name);
                var key = Key(arguments[0]);
                var previous = store.Get(key);
                store.Delete(key);
                return Stamped(previous);
            }
            case StoreOperation.All:
                Expect(operation, arguments, 0, store.Name);
                return store.All().Select(kv => (object?)new object?[] { kv.Key, Stamped(kv.Value) }).ToList();
            case StoreOperation.ApproximateNumEntries:
                Expect(operation, arguments, 0, store.Name);
                return store.ApproximateNumEntries();
            default:
                throw new NotSupportedException($"Timestamped key-value store '{store.Name}' has no {Name(operation)}().");
        }
    }

    private ValueAndTimestamp<V> Make(object? value, object? timestamp) =>
        ValueAndTimestamp<V>.Make(KsmlValues.To<V>(value, $"a value for store '{store.Name}'"), KsmlValues.To<long>(timestamp, $"a timestamp for store '{store.Name}'"));

    private K Key(object? value) => KsmlValues.To<K>(value, $"a key for store '{store.Name}'");
}

/// <summary>
/// A <c>versioned: true</c> key-value store as KSML gives it to Python: <c>put(key, value, timestamp)</c>,
/// <c>get(key)</c> for the newest value and <c>get(key, asOf)</c> for the one valid then, each as
/// <c>{"value": …, "timestamp": …}</c>, and <c>delete(key, timestamp)</c>.
/// </summary>
internal sealed class VersionedKeyValueStoreAdapter<K, V>(IKeyValueStore<K, List<Dsl.Version<V>>> store) : StoreAdapter
{
    private readonly long _retention = Dsl.VersionedStores.HistoryRetentionMs(store.Name);

    // Kafka Streams measures the history retention back from the newest timestamp the store has seen.
    private long _observed = long.MinValue;

    private long OldestKept => _observed == long.MinValue || _retention == long.MaxValue ? long.MinValue : _observed - _retention;

    private static Dictionary<string, object?>? Record(Dsl.Version<V>? version) => version is null ? null
        : new Dictionary<string, object?> { ["value"] = version.Value, ["timestamp"] = version.ValidFrom, ["validTo"] = version.ValidTo == long.MaxValue ? null : version.ValidTo };

    public override object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments)
    {
        switch (operation)
        {
            case StoreOperation.Get when arguments.Length == 1:
                return Record(store.Get(Key(arguments[0])) is { Count: > 0 } versions && versions[^1].Value is not null ? versions[^1] : null);
            case StoreOperation.Get:
            {
                Expect(operation, arguments, 2, store.Name);
                var asOf = Timestamp(arguments[1]);
                return asOf < OldestKept ? null : Record(Dsl.VersionedStores.At(store.Get(Key(arguments[0])), asOf));
            }
            case StoreOperation.Put:
                Expect(operation, arguments, 3, store.Name);
                return Put(Key(arguments[0]), KsmlValues.To<V>(arguments[1], $"a value for store '{store.Name}'"), Timestamp(arguments[2]));
            case StoreOperation.Delete:
            {
                Expect(operation, arguments, 2, store.Name);
                var key = Key(arguments[0]);
                var timestamp = Timestamp(arguments[1]);
                var previous = timestamp < OldestKept ? null : Dsl.VersionedStores.At(store.Get(key), timestamp);
                Put(key, default, timestamp);
                return Record(previous);
            }
            default:
                throw new NotSupportedException($"Versioned key-value store '{store.Name}' has no {Name(operation)}().");
        }
    }

    private long Put(K key, V? value, long timestamp)
    {
        _observed = Math.Max(_observed, timestamp);
        if (timestamp < OldestKept)
            return Dsl.VersionedStores.NotPut;
        var versions = store.Get(key) ?? [];
        var validTo = Dsl.VersionedStores.Put(versions, value, timestamp, OldestKept);
        store.Put(key, versions);
        return validTo;
    }

    private K Key(object? value) => KsmlValues.To<K>(value, $"a key for store '{store.Name}'");

    private long Timestamp(object? value) => KsmlValues.To<long>(value, $"a timestamp for store '{store.Name}'");
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
            case StoreOperation.Fetch when arguments.Length == 4:
            {
                // fetch(keyFrom, keyTo, timeFrom, timeTo): every key in the range (None leaves a side open), as windowed keys.
                var range = KeyRange<K>.Of(arguments[0], arguments[1], Key);
                using var found = store.FetchAll(DateTime.UnixEpoch.AddMilliseconds(Time(arguments[2])), DateTime.UnixEpoch.AddMilliseconds(Time(arguments[3])));
                return Pairs(found).Where(pair => range.Contains(((Windowed<K>)((object?[])pair!)[0]!).Key)).ToList();
            }
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

/// <summary>
/// A session store as KSML's Python proxy shows it: <c>fetch(key)</c>, <c>findSessions(key, earliestEnd, latestStart)</c>,
/// <c>fetchSession(key, start, end)</c>, <c>put(sessionKey, value)</c> and <c>remove(sessionKey)</c>, where a session
/// key is a windowed key (<c>{key, start, end}</c>).
/// </summary>
internal sealed class SessionStoreAdapter<K, V>(IKeyValueStore<K, List<Dsl.Session<V>>> store) : StoreAdapter
{
    public override object? Call(StoreOperation operation, ReadOnlySpan<object?> arguments)
    {
        switch (operation)
        {
            case StoreOperation.Fetch when arguments.Length == 2:
                return InRange(arguments[0], arguments[1]).SelectMany(k => k.Value.Select(s => Pair(k.Key, s))).ToList();
            case StoreOperation.Fetch:
            {
                Expect(operation, arguments, 1, store.Name);
                var key = Key(arguments[0]);
                return Sessions(key).Select(s => Pair(key, s)).ToList();
            }
            case StoreOperation.FindSessions when arguments.Length == 4:
            {
                var (earliestEnd, latestStart) = (Time(arguments[2]), Time(arguments[3]));
                return InRange(arguments[0], arguments[1])
                    .SelectMany(k => k.Value.Where(s => s.End >= earliestEnd && s.Start <= latestStart).Select(s => Pair(k.Key, s))).ToList();
            }
            case StoreOperation.FindSessions:
            {
                Expect(operation, arguments, 3, store.Name);
                var key = Key(arguments[0]);
                var (earliestEnd, latestStart) = (Time(arguments[1]), Time(arguments[2]));
                return Sessions(key).Where(s => s.End >= earliestEnd && s.Start <= latestStart).Select(s => Pair(key, s)).ToList();
            }
            case StoreOperation.FetchSession:
            {
                Expect(operation, arguments, 3, store.Name);
                var (start, end) = (Time(arguments[1]), Time(arguments[2]));
                return Sessions(Key(arguments[0])).Where(s => s.Start == start && s.End == end).Select(s => (object?)s.Aggregate).FirstOrDefault();
            }
            case StoreOperation.Put:
            {
                Expect(operation, arguments, 2, store.Name);
                var session = SessionKey(arguments[0]);
                var sessions = Without(session);
                sessions.Add(new Dsl.Session<V>(session.Window.StartMs, session.Window.EndMs, KsmlValues.To<V>(arguments[1], $"a value for store '{store.Name}'")));
                store.Put(session.Key, sessions.OrderBy(s => s.Start).ToList());
                return null;
            }
            case StoreOperation.Remove:
            {
                Expect(operation, arguments, 1, store.Name);
                var session = SessionKey(arguments[0]);
                var sessions = Without(session);
                if (sessions.Count == 0)
                    store.Delete(session.Key);
                else
                    store.Put(session.Key, sessions);
                return null;
            }
            default:
                throw new NotSupportedException($"Session store '{store.Name}' has no {Name(operation)}().");
        }
    }

    private List<Dsl.Session<V>> Sessions(K key) => store.Get(key) ?? [];

    /// <summary>The keys from <paramref name="from"/> to <paramref name="to"/> (None leaves a side open) with their sessions, in key order.</summary>
    private IEnumerable<KeyValuePair<K, List<Dsl.Session<V>>>> InRange(object? from, object? to)
    {
        var range = KeyRange<K>.Of(from, to, Key);
        return store.All().Where(k => range.Contains(k.Key)).OrderBy(k => k.Key, range.Order).ToList();
    }

    /// <summary>The key's sessions other than <paramref name="session"/>.</summary>
    private List<Dsl.Session<V>> Without(Windowed<K> session) =>
        Sessions(session.Key).Where(s => (s.Start, s.End) != (session.Window.StartMs, session.Window.EndMs)).ToList();

    private static object?[] Pair(K key, Dsl.Session<V> session) =>
        [new Windowed<K>(key, new Dsl.SessionWindow(session.Start, session.End)), session.Aggregate];

    private K Key(object? value) => KsmlValues.To<K>(value, $"a key for store '{store.Name}'");
    private Windowed<K> SessionKey(object? value) => KsmlValues.To<Windowed<K>>(value, $"a session key for store '{store.Name}'");
    private long Time(object? value) => KsmlValues.To<long>(value, $"a timestamp for store '{store.Name}'");
}

/// <summary>
/// A range of keys for the key-range fetches of window and session stores: inclusive, open on a side given None, in the
/// keys' natural order (text ordinally, numbers by value; other keys by their JSON text).
/// </summary>
internal sealed class KeyRange<K>
{
    private readonly K? _from;
    private readonly K? _to;
    private readonly bool _hasFrom;
    private readonly bool _hasTo;

    private KeyRange(K? from, bool hasFrom, K? to, bool hasTo) => (_from, _hasFrom, _to, _hasTo) = (from, hasFrom, to, hasTo);

    public static KeyRange<K> Of(object? from, object? to, Func<object?, K> key) => new(from is null ? default : key(from), from is not null, to is null ? default : key(to), to is not null);

    public IComparer<K> Order { get; } = typeof(K) == typeof(string)
        ? (IComparer<K>)StringComparer.Ordinal
        : typeof(IComparable<K>).IsAssignableFrom(Nullable.GetUnderlyingType(typeof(K)) ?? typeof(K)) || typeof(IComparable).IsAssignableFrom(Nullable.GetUnderlyingType(typeof(K)) ?? typeof(K))
            ? Comparer<K>.Default
            : Comparer<K>.Create((a, b) => string.CompareOrdinal(KsmlValues.ToJsonNode(a)?.ToJsonString(), KsmlValues.ToJsonNode(b)?.ToJsonString()));

    public bool Contains(K key) => (!_hasFrom || Order.Compare(key, _from!) >= 0) && (!_hasTo || Order.Compare(key, _to!) <= 0);
}
