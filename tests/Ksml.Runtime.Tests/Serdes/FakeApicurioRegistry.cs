using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Ksml.Runtime.Tests.Serdes;

/// <summary>
/// Apicurio Registry 3's REST API (<c>/apis/registry/v3</c>) as far as schema serdes use it, answered as Apicurio's
/// OpenAPI document describes it: creating an artifact (with <c>ifExists</c>), content by content or global id, an
/// artifact's latest version, versions searched by content, and an OAuth2 token endpoint. No Apicurio server can be
/// installed from the package sources here.
/// </summary>
internal sealed class FakeApicurioRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, long> _contentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _contents = new();
    private readonly Dictionary<string, List<(long GlobalId, long ContentId)>> _artifacts = new(StringComparer.Ordinal);
    private long _nextGlobalId = 1001;

    public FakeApicurioRegistry()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Root = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }
        _listener.Prefixes.Add(Root + "/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    public string Root { get; }

    /// <summary>The address KSML 2.0's runner files give: Apicurio 3's own API.</summary>
    public string Url => Root + "/apis/registry/v3";

    /// <summary>Every request: method, path and query.</summary>
    public List<string> Requests { get; } = [];

    public List<string?> Authorizations { get; } = [];

    /// <summary>While set, every request is answered with this status (an outage, a refused login).</summary>
    public HttpStatusCode? FailWith { get; set; }

    /// <summary>Adds a version of <paramref name="artifactId"/> in group <c>default</c>, as another producer would; its content id.</summary>
    public long Register(string artifactId, string content)
    {
        lock (_artifacts)
            return AddVersion("default/" + artifactId, content).ContentId;
    }

    private (long GlobalId, long ContentId) AddVersion(string artifact, string content)
    {
        if (!_contentIds.TryGetValue(content, out var contentId))
        {
            contentId = 41 + _contentIds.Count;
            _contentIds[content] = contentId;
            _contents[contentId] = content;
        }
        var version = (_nextGlobalId++, contentId);
        if (!_artifacts.TryGetValue(artifact, out var versions))
            _artifacts[artifact] = versions = [];
        versions.Add(version);
        return version;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch { return; }
            var request = context.Request;
            var path = request.Url!.AbsolutePath;
            var query = System.Web.HttpUtility.ParseQueryString(request.Url.Query);
            var body = await new StreamReader(request.InputStream).ReadToEndAsync();
            lock (_artifacts)
            {
                Requests.Add($"{request.HttpMethod} {path}{request.Url.Query}");
                Authorizations.Add(request.Headers["Authorization"]);
            }
            var (status, answer) = FailWith is { } failure ? ((int)failure, """{"title":"failing on purpose"}""") : Answer(request.HttpMethod, path, query, body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(answer);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private (int Status, string Body) Answer(string method, string path, System.Collections.Specialized.NameValueCollection query, string body)
    {
        const string Api = "/apis/registry/v3/";
        var parts = path.StartsWith(Api, StringComparison.Ordinal) ? path[Api.Length..].Split('/').Select(Uri.UnescapeDataString).ToArray() : [];
        lock (_artifacts)
        {
            switch (method, parts)
            {
                case ("POST", ["groups", var group, "artifacts"]):
                {
                    var create = JsonNode.Parse(body)!;
                    var artifact = group + "/" + create["artifactId"]!.GetValue<string>();
                    var content = create["firstVersion"]!["content"]!["content"]!.GetValue<string>();
                    var exists = _artifacts.TryGetValue(artifact, out var versions);
                    switch (query["ifExists"] ?? "FAIL")
                    {
                        case "FAIL" when exists:
                            return (409, """{"title":"Artifact already exists"}""");
                        case "FIND_OR_CREATE_VERSION" when exists && versions!.FirstOrDefault(v => _contents[v.ContentId] == content) is { GlobalId: > 0 } found:
                            return (200, Created(group, create["artifactId"]!.GetValue<string>(), found));
                    }
                    return (200, Created(group, create["artifactId"]!.GetValue<string>(), AddVersion(artifact, content)));
                }
                case ("GET", ["ids", "contentIds", var id]) when _contents.TryGetValue(long.Parse(id), out var content):
                    return (200, content);
                case ("GET", ["ids", "globalIds", var id]) when _artifacts.Values.SelectMany(v => v).FirstOrDefault(v => v.GlobalId == long.Parse(id)) is { GlobalId: > 0 } version:
                    return (200, _contents[version.ContentId]);
                case ("GET", ["groups", var group, "artifacts", var artifactId, "versions", "branch=latest"]) when _artifacts.TryGetValue(group + "/" + artifactId, out var versions):
                    return (200, Version(group, artifactId, versions[^1]).ToJsonString());
                case ("POST", ["search", "versions"]):
                {
                    var artifact = (query["groupId"] ?? "default") + "/" + query["artifactId"];
                    var found = _artifacts.GetValueOrDefault(artifact, []).Where(v => _contents[v.ContentId].Trim() == body.Trim()).OrderByDescending(v => v.GlobalId)
                        .Select(v => (JsonNode)Version(query["groupId"]!, query["artifactId"]!, v)).ToArray();
                    return (200, new JsonObject { ["count"] = found.Length, ["versions"] = new JsonArray(found) }.ToJsonString());
                }
                case ("POST", _) when path == "/token" && body.Contains("grant_type=client_credentials", StringComparison.Ordinal) && body.Contains("client_secret=s3cret", StringComparison.Ordinal):
                    return (200, """{"access_token":"t0ken","token_type":"Bearer","expires_in":300}""");
                case ("POST", _) when path == "/token":
                    return (401, """{"error":"unauthorized_client"}""");
                default:
                    return (404, """{"title":"not found","status":404}""");
            }
        }
    }

    private static string Created(string group, string artifactId, (long GlobalId, long ContentId) version) =>
        new JsonObject { ["artifact"] = new JsonObject { ["groupId"] = group, ["artifactId"] = artifactId }, ["version"] = Version(group, artifactId, version) }.ToJsonString();

    private static JsonObject Version(string group, string artifactId, (long GlobalId, long ContentId) version) => new()
    {
        ["groupId"] = group, ["artifactId"] = artifactId, ["version"] = version.GlobalId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["globalId"] = version.GlobalId, ["contentId"] = version.ContentId, ["state"] = "ENABLED",
    };

    public void Dispose() => _listener.Close();
}
