using System.Text.Json.Nodes;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// One state store as KSML's application server shows it: key-value stores as <c>[{key, value}]</c>,
/// window stores as <c>[{window: {start, end, startTime, endTime}, key, value}]</c>. Made where the
/// topology creates the store, so the store's own key and value types are used to query it.
/// </summary>
public abstract class KsmlStoreQuery
{
    private protected KsmlStoreQuery(string name) => Name = name;

    /// <summary>The store's name.</summary>
    public string Name { get; }

    /// <summary><c>keyValue</c> or <c>windowed</c>, the path segment KSML serves the store under.</summary>
    public abstract string Kind { get; }

    /// <summary>The store as Streamiz holds it: its key and value types, and whether it is a window store (a test driver opens it so).</summary>
    public abstract (Type Key, Type Value, bool WindowStore) Storage { get; }

    /// <summary>
    /// One page of this instance's entries: <paramref name="limit"/> of them after skipping <paramref name="offset"/>,
    /// in the store's order, and whether more follow. Only the page is held in memory.
    /// </summary>
    public (JsonArray Entries, bool More) All(KafkaStream stream, int offset, int limit)
    {
        var entries = new JsonArray();
        var more = false;
        // Skipped entries are only read, never turned into JSON.
        foreach (var (key, value, window) in Entries(stream).Skip(offset))
        {
            if (entries.Count == limit)
            {
                more = true;
                break;
            }
            entries.Add(Entry(key, value, window));
        }
        return (entries, more);
    }

    /// <summary>
    /// One page of this instance's entries in cursor order (<see cref="Cursor"/>): the <paramref name="limit"/> first
    /// after <paramref name="after"/>, and whether more follow. The store is read through once, holding only the page,
    /// so instances can be paged together by one cursor.
    /// </summary>
    public (JsonArray Entries, bool More) AllAfter(KafkaStream stream, string? after, int limit)
    {
        var page = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        var more = false;
        foreach (var (key, value, window) in Entries(stream))
        {
            var entry = Entry(key, value, window);
            var cursor = Cursor(entry);
            if (after is not null && string.CompareOrdinal(cursor, after) <= 0)
                continue;
            page[cursor] = entry;
            if (page.Count > limit)
            {
                page.Remove(page.Keys.Last());
                more = true;
            }
        }
        var entries = new JsonArray();
        foreach (var entry in page.Values)
            entries.Add(entry);
        return (entries, more);
    }

    /// <summary>Where an entry stands in the order all instances page by: its key's JSON, then its window's start.</summary>
    public static string Cursor(JsonNode entry) =>
        (entry["key"]?.ToJsonString() ?? "null") + (entry["window"]?["start"]?.GetValue<long>() is { } start ? "@" + start.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) : "");

    /// <summary>How many entries this instance's store holds (RocksDB's estimate for persistent stores); null where only a full read could tell.</summary>
    public virtual long? ApproximateEntries(KafkaStream stream) => null;

    /// <summary>Every entry of this instance's store, read lazily.</summary>
    private protected abstract IEnumerable<(object? Key, object? Value, Window? Window)> Entries(KafkaStream stream);

    /// <summary>The entry for <paramref name="key"/> (written as text; numbers and JSON are parsed); windowed stores need the window's start time.</summary>
    /// <exception cref="FormatException">The key is not of the store's key type, or a windowed store got no timestamp.</exception>
    public abstract JsonNode? Get(KafkaStream stream, string key, long? windowStart);

    internal static KsmlStoreQuery KeyValue<K, V>(string name) => new KeyValueQuery<K, V>(name);

    internal static KsmlStoreQuery Window<K, V>(string name, long windowSizeMs) => new WindowQuery<K, V>(name, windowSizeMs);

    /// <summary>Session or sliding windows, which Ksml.NET keeps as a list of windows per key; served like a window store.</summary>
    internal static KsmlStoreQuery KeyWindows<K, W, V>(string name, Func<W, (Window Window, V Value)> open) => new KeyWindowsQuery<K, W, V>(name, open);

    private protected static K ParseKey<K>(string key)
    {
        if (typeof(K) == typeof(string) || typeof(K) == typeof(object))
            return (K)(object)key;
        try
        {
            return KsmlValues.To<K>(JsonNode.Parse(key), "key");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KsmlTypeException)
        {
            throw new FormatException($"'{key}' is not a key of this store (its keys are {typeof(K).Name})", ex);
        }
    }

    private protected static JsonObject Entry(object? key, object? value, Window? window = null)
    {
        var entry = new JsonObject();
        if (window is not null)
            entry["window"] = new JsonObject
            {
                ["start"] = window.StartMs,
                ["end"] = window.EndMs,
                ["startTime"] = KsmlValues.WindowTime(window.StartMs),
                ["endTime"] = KsmlValues.WindowTime(window.EndMs),
            };
        entry["key"] = KsmlValues.ToJsonNode(key);
        entry["value"] = KsmlValues.ToJsonNode(value);
        return entry;
    }

    private sealed class KeyValueQuery<K, V>(string name) : KsmlStoreQuery(name)
    {
        public override string Kind => "keyValue";

        public override (Type Key, Type Value, bool WindowStore) Storage => (typeof(K), typeof(V), false);

        private IReadOnlyKeyValueStore<K, V> Store(KafkaStream stream) =>
            stream.Store(StoreQueryParameters.FromNameAndType(Name, QueryableStoreTypes.KeyValueStore<K, V>()));

        private protected override IEnumerable<(object? Key, object? Value, Window? Window)> Entries(KafkaStream stream) =>
            Store(stream).All().Select(pair => ((object?)pair.Key, (object?)pair.Value, (Window?)null));

        public override long? ApproximateEntries(KafkaStream stream) => Store(stream).ApproximateNumEntries();

        public override JsonNode? Get(KafkaStream stream, string key, long? windowStart) =>
            Entry(key, Store(stream).Get(ParseKey<K>(key)));
    }

    private sealed class WindowQuery<K, V>(string name, long windowSizeMs) : KsmlStoreQuery(name)
    {
        public override string Kind => "windowed";

        public override (Type Key, Type Value, bool WindowStore) Storage => (typeof(K), typeof(V), true);

        private IReadOnlyWindowStore<K, V> Store(KafkaStream stream) =>
            stream.Store(StoreQueryParameters.FromNameAndType(Name, QueryableStoreTypes.WindowStore<K, V>()));

        private protected override IEnumerable<(object? Key, object? Value, Window? Window)> Entries(KafkaStream stream)
        {
            using var all = Store(stream).All();
            while (all.MoveNext())
                if (all.Current is { } current)
                    yield return (current.Key.Key, current.Value, current.Key.Window);
        }

        public override JsonNode? Get(KafkaStream stream, string key, long? windowStart)
        {
            if (windowStart is not { } start)
                throw new FormatException("a windowed store is read at a window's start time: /get/{key}/{timestamp}");
            using var found = Store(stream).Fetch(ParseKey<K>(key), start, start);
            JsonObject? latest = null;
            while (found.MoveNext())
                if (found.Current is { } current)
                    latest = Entry(key, current.Value, new TimeWindow(current.Key, current.Key + windowSizeMs));
            return latest;
        }
    }

    private sealed class KeyWindowsQuery<K, W, V>(string name, Func<W, (Window Window, V Value)> open) : KsmlStoreQuery(name)
    {
        public override string Kind => "windowed";

        public override (Type Key, Type Value, bool WindowStore) Storage => (typeof(K), typeof(List<W>), false);

        private IReadOnlyKeyValueStore<K, List<W>> Store(KafkaStream stream) =>
            stream.Store(StoreQueryParameters.FromNameAndType(Name, QueryableStoreTypes.KeyValueStore<K, List<W>>()));

        private protected override IEnumerable<(object? Key, object? Value, Window? Window)> Entries(KafkaStream stream) =>
            from pair in Store(stream).All()
            from opened in pair.Value.Select(open)
            select ((object?)pair.Key, (object?)opened.Value, (Window?)opened.Window);

        public override JsonNode? Get(KafkaStream stream, string key, long? windowStart)
        {
            if (windowStart is not { } start)
                throw new FormatException("a windowed store is read at a window's start time: /get/{key}/{timestamp}");
            var found = (Store(stream).Get(ParseKey<K>(key)) ?? []).Select(open).Where(w => w.Window.StartMs == start).ToList();
            return found.Count == 0 ? null : Entry(key, found[^1].Value, found[^1].Window);
        }
    }
}
