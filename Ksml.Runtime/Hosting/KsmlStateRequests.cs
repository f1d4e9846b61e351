using System.Text.Json.Nodes;
using Ksml.Runtime.Observability;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// KSML's application-server paths under <c>/state</c>, answered from this instance's stores:
/// <c>/state/keyValue/{store}/all</c>, <c>/state/keyValue/{store}/get/{key}</c>,
/// <c>/state/windowed/{store}/all</c>, <c>/state/windowed/{store}/get/{key}/{windowStart}</c>, each also
/// under <c>/local/</c>, which answers from this instance alone (the endpoints ask the other instances for the rest).
/// <c>all</c> answers one page at a time (<see cref="KsmlStatePage"/>), so a large store is never held in memory whole.
/// </summary>
internal static class KsmlStateRequests
{
    public static KsmlStateAnswer Answer(string path, KsmlStatePage page, KafkaStream? stream, IReadOnlyDictionary<string, KsmlStoreQuery> stores)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToList();
        if (parts.Count >= 5 && parts[3] == "local")
            parts.RemoveAt(3);
        if (parts.Count < 4 || parts[0] != "state")
            return Error(404, "state queries are /state/keyValue/{store}/all, /state/keyValue/{store}/get/{key}, /state/windowed/{store}/all and /state/windowed/{store}/get/{key}/{windowStart}");
        var (kind, name, action) = (parts[1], parts[2], parts[3]);
        if (!stores.TryGetValue(name, out var store) || !string.Equals(store.Kind, kind, StringComparison.OrdinalIgnoreCase))
            return Error(404, $"there is no {kind} store '{name}'; the stores are {(stores.Count == 0 ? "none" : string.Join(", ", stores.Values.OrderBy(s => s.Name).Select(s => $"{s.Name} ({s.Kind})")))}");
        if (stream is null)
            return Error(503, "the pipelines are not running, so there are no stores to query");
        try
        {
            return (action, parts.Count) switch
            {
                ("all", 4) when page.After is not null => Page(store.AllAfter(stream, page.After, page.Limit)),
                ("all", 4) => Page(store.All(stream, page.Offset, page.Limit)),
                ("get", 5) => Found(store.Get(stream, parts[4], null)),
                ("get", 6) when long.TryParse(parts[5], out var windowStart) => Found(store.Get(stream, parts[4], windowStart)),
                ("get", 6) => Error(400, $"'{parts[5]}' is not a window start time in epoch milliseconds"),
                _ => Error(404, $"'{action}' is not a query of a {store.Kind} store; use all or get"),
            };
        }
        catch (FormatException ex)
        {
            return Error(400, ex.Message);
        }
        catch (Exception ex) when (ex is InvalidStateStoreException or IllegalStateException)
        {
            return Error(503, $"store '{name}' cannot be queried now (the stream is starting, rebalancing or restoring): {ex.Message}");
        }
    }

    private static KsmlStateAnswer Page((JsonArray Entries, bool More) page) => new(200, page.Entries, page.More);

    private static KsmlStateAnswer Found(JsonNode? entry) => entry is null ? Error(404, "no window starts at that time for that key") : new(200, entry);

    private static KsmlStateAnswer Error(int status, string message) => new(status, new JsonObject { ["error"] = message });
}
