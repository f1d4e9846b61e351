using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksml.Runtime.Observability;

/// <summary>
/// State queries for the whole application, as KSML's application server answers them: a key this instance does
/// not hold is asked of the others, and <c>/all</c> gathers every instance's entries, paged together by one cursor
/// (<c>?after=&amp;limit=</c>). The others are asked under <c>/local/</c>, with the caller's token. An instance that
/// does not answer makes the answer a 503 that names it, never a silently partial one.
/// </summary>
internal static class KsmlStateFanOut
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static async Task<IResult> Answer(HttpContext context, KsmlEndpointSources sources)
    {
        var path = context.Request.Path.Value ?? "";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var peers = sources.Peers?.Invoke() ?? [];
        if (peers.Count == 0 || parts.Length < 4 || parts[0] != "state" || parts[3] is not ("get" or "all")
            || !KsmlEndpointRoutes.Allowed(context, sources) || !KsmlEndpointRoutes.TryPage(context, sources, out var page, out _))
            return KsmlEndpointRoutes.AnswerState(context, sources); // this instance alone (/local/ paths included), or its error
        var local = "/" + string.Join("/", parts.Take(3).Append("local").Concat(parts.Skip(3)));
        var authorization = context.Request.Headers.Authorization.ToString();
        return parts[3] == "get"
            ? await Get(path, local, page, peers, authorization, sources, context.RequestAborted).ConfigureAwait(false)
            : await All(path, local, page, peers, authorization, sources, context).ConfigureAwait(false);
    }

    private static async Task<IResult> Get(string path, string local, KsmlStatePage page, IReadOnlyList<string> peers, string authorization, KsmlEndpointSources sources, CancellationToken cancellation)
    {
        // A key-value store answers a key it does not hold with a null value, a window store with 404.
        static bool Held(int? status, JsonNode? body) => status == 200 && body?["value"] is not null;
        var here = sources.State(path, page);
        if (Held(here.Status, here.Body) || here.Status is not (200 or 404))
            return KsmlEndpointRoutes.Json(here);
        var silent = new List<string>();
        foreach (var peer in peers)
        {
            var (status, body, _) = await Ask(peer + local, authorization, cancellation).ConfigureAwait(false);
            if (Held(status, body))
                return KsmlEndpointRoutes.Json(new KsmlStateAnswer(200, body));
            if (status is null or >= 500)
                silent.Add(peer);
        }
        return silent.Count == 0
            ? KsmlEndpointRoutes.Json(here)
            : KsmlEndpointRoutes.Json(new KsmlStateAnswer(503, new JsonObject { ["error"] = $"not held by this instance, and {string.Join(", ", silent)} did not answer" }));
    }

    private static async Task<IResult> All(string path, string local, KsmlStatePage page, IReadOnlyList<string> peers, string authorization, KsmlEndpointSources sources, HttpContext context)
    {
        // Every instance is read by the same cursor, so their pages merge into one page of the whole store.
        var cursorPage = page with { After = page.After ?? "" };
        var here = sources.State(path, cursorPage);
        if (here.Status != 200 || here.Body is not JsonArray hereEntries)
            return KsmlEndpointRoutes.Json(here);
        var merged = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var more = here.More;
        foreach (var entry in hereEntries)
            merged[Hosting.KsmlStoreQuery.Cursor(entry!)] = entry!.DeepClone();
        var query = $"?after={Uri.EscapeDataString(cursorPage.After)}&limit={page.Limit}";
        foreach (var peer in peers)
        {
            var (status, body, next) = await Ask(peer + local + query, authorization, context.RequestAborted).ConfigureAwait(false);
            if (status != 200 || body is not JsonArray entries)
                return KsmlEndpointRoutes.Json(new KsmlStateAnswer(503, new JsonObject { ["error"] = $"{peer} did not answer ({(status is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unreachable")}); the store's entries there are unknown" }));
            more |= next;
            foreach (var entry in entries)
                merged[Hosting.KsmlStoreQuery.Cursor(entry!)] = entry!.DeepClone();
        }
        more |= merged.Count > page.Limit;
        var result = new JsonArray();
        foreach (var entry in merged.Values.Take(page.Limit))
            result.Add(entry);
        if (more && result.Count > 0)
            context.Response.Headers.Link = $"<{context.Request.Path}?after={Uri.EscapeDataString(Hosting.KsmlStoreQuery.Cursor(result[^1]!))}&limit={page.Limit}>; rel=\"next\"";
        return KsmlEndpointRoutes.Json(new KsmlStateAnswer(200, result));
    }

    /// <summary>Another instance's answer: its status (null when it cannot be reached), its JSON, and whether it has more.</summary>
    private static async Task<(int? Status, JsonNode? Body, bool More)> Ask(string url, string authorization, CancellationToken cancellation)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (authorization.Length > 0)
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await Http.SendAsync(request, cancellation).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
            return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, response.Headers.Contains("Link"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (null, null, false);
        }
    }
}
