using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.SchemaRegistry;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// Apicurio Registry 3 through its own REST API (<c>/apis/registry/v3</c>), as KSML 2.0's Apicurio serdes use it: a
/// subject is an artifact of the configured group (<c>default</c>), and the id in a record is the content id (KSML
/// pins <c>apicurio.registry.use-id: contentId</c> with the 4-byte id handler; <c>globalId</c> is honoured when set).
/// Logs in with <c>apicurio.registry.auth.username/password</c>, or with an OAuth2 client's credentials at
/// <c>apicurio.registry.auth.service.token.endpoint</c>.
/// </summary>
internal sealed class ApicurioSchemaRegistry : IKsmlSchemaRegistry, IDisposable
{
    private readonly string _url;
    private readonly HttpClient _http;
    private readonly string _group;
    private readonly string _idKind;
    private readonly string _ifExists;
    private readonly ApicurioLogin? _login;
    private readonly ConcurrentDictionary<int, string> _schemas = new();

    public ApicurioSchemaRegistry(string url, IReadOnlyDictionary<string, string> settings)
    {
        _url = url.TrimEnd('/');
        string? Get(string key) => settings.GetValueOrDefault("apicurio.registry." + key);
        _http = new HttpClient(Handler(url, Get)) { BaseAddress = new Uri(_url + "/"), Timeout = TimeSpan.FromMilliseconds(int.TryParse(Get("request.timeout.ms"), out var ms) ? ms : 10_000) };
        _group = Get("artifact.group-id") ?? "default";
        _idKind = Get("use-id") switch
        {
            null or "contentId" => "contentIds",
            "globalId" => "globalIds",
            var other => throw new Hosting.KsmlConfigException($"schema registry {url}: apicurio.registry.use-id '{other}' is not one of contentId, globalId"),
        };
        _ifExists = Get("auto-register.if-exists") ?? "FIND_OR_CREATE_VERSION";
        if (Get("auth.username") is { } user)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + Get("auth.password"))));
        else if (Get("auth.service.token.endpoint") is { } tokenEndpoint)
            _login = new ApicurioLogin(_http, tokenEndpoint, Get("auth.client.id") ?? "", Get("auth.client.secret") ?? "", Get("auth.client.scope"));
    }

    /// <summary>Whether an address is Apicurio 3's own API rather than a Confluent-compatible one.</summary>
    public static bool Serves(string url) => url.Contains("/apis/registry/v3", StringComparison.Ordinal);

    /// <summary>Apicurio's serializer looks its schema up unless <c>apicurio.registry.auto-register</c> is true.</summary>
    public bool RegistersByDefault => false;

    // A PEM CA to trust (Java truststores cannot be read here) and a PKCS#12 client certificate.
    private static SocketsHttpHandler Handler(string url, Func<string, string?> get)
    {
        var handler = new SocketsHttpHandler();
        if (get("request.ssl.truststore.location") is { } truststore)
        {
            if (!truststore.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) && !truststore.EndsWith(".crt", StringComparison.OrdinalIgnoreCase) && get("request.ssl.truststore.type") is not "PEM")
                throw new Hosting.KsmlConfigException($"schema registry {url}: apicurio.registry.request.ssl.truststore.location '{truststore}' is not a PEM file; give the CA as PEM (apicurio.registry.request.ssl.truststore.type: PEM)");
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(truststore);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                    return true;
                if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        if (get("request.ssl.keystore.location") is { } keystore)
        {
            if (keystore.EndsWith(".jks", StringComparison.OrdinalIgnoreCase) || get("request.ssl.keystore.type") is "JKS")
                throw new Hosting.KsmlConfigException($"schema registry {url}: apicurio.registry.request.ssl.keystore.location '{keystore}' is a Java keystore; give a PKCS#12 file (.p12) instead");
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(keystore, get("request.ssl.keystore.password"))];
        }
        return handler;
    }

    public int Register(string subject, string schema, SchemaType type) =>
        Call($"registering a schema under {subject}", async () =>
        {
            var body = new JsonObject
            {
                ["artifactId"] = subject,
                ["artifactType"] = ArtifactType(type),
                ["firstVersion"] = new JsonObject { ["content"] = new JsonObject { ["content"] = schema, ["contentType"] = ContentType(type) } },
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, $"groups/{Uri.EscapeDataString(_group)}/artifacts?ifExists={_ifExists}&canonical=true")
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            var created = await Json(request).ConfigureAwait(false);
            var id = Id(created?["version"], subject);
            _schemas.TryAdd(id, schema);
            return id;
        });

    public string Get(int id) =>
        _schemas.TryGetValue(id, out var cached) ? cached : _schemas.GetOrAdd(id, Call($"fetching schema {id}", async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"ids/{_idKind}/{id}");
            return await Text(request).ConfigureAwait(false) ?? throw new SerializationException($"The schema registry at {_url} has no schema with {(_idKind == "contentIds" ? "content" : "global")} id {id}.");
        }));

    public (int Id, string Schema)? Latest(string subject)
    {
        var latest = Call($"fetching the latest schema of {subject}", async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"groups/{Uri.EscapeDataString(_group)}/artifacts/{Uri.EscapeDataString(subject)}/versions/branch=latest");
            return await Json(request).ConfigureAwait(false);
        });
        if (latest is null)
            return null; // no such artifact
        var id = Id(latest, subject);
        return (id, Get(id));
    }

    public int? Find(string subject, string schema, SchemaType type) =>
        Call($"looking up a schema under {subject}", async () =>
        {
            var query = $"search/versions?groupId={Uri.EscapeDataString(_group)}&artifactId={Uri.EscapeDataString(subject)}&canonical=true&artifactType={ArtifactType(type)}&orderby=globalId&order=desc";
            using var request = new HttpRequestMessage(HttpMethod.Post, query) { Content = new StringContent(schema, Encoding.UTF8, ContentType(type)) };
            var found = (await Json(request).ConfigureAwait(false))?["versions"]?.AsArray().FirstOrDefault(v => v?["state"]?.GetValue<string>() != "DISABLED");
            return found is null ? (int?)null : Id(found, subject);
        });

    private int Id(JsonNode? version, string subject)
    {
        var id = version?[_idKind == "contentIds" ? "contentId" : "globalId"]?.GetValue<long>()
            ?? throw new SerializationException($"The schema registry at {_url} answered for {subject} without a {(_idKind == "contentIds" ? "contentId" : "globalId")}.");
        // The 4-byte id handler KSML pins cannot frame larger ids.
        return id is >= 0 and <= int.MaxValue ? (int)id : throw new SerializationException($"The schema registry at {_url} gave {subject} the id {id}, which does not fit the 4-byte id in a record.");
    }

    private static string ArtifactType(SchemaType type) => type switch
    {
        SchemaType.Avro => "AVRO",
        SchemaType.Protobuf => "PROTOBUF",
        _ => "JSON",
    };

    private static string ContentType(SchemaType type) => type == SchemaType.Protobuf ? "application/x-protobuf" : "application/json";

    private T Call<T>(string what, Func<Task<T>> call) => RegistryCalls.Run(_url, what, call);

    /// <summary>The answer's JSON, or null for 404; another error answer throws (a 5xx as the registry's failure).</summary>
    private async Task<JsonNode?> Json(HttpRequestMessage request) => await Text(request).ConfigureAwait(false) is { } text ? JsonNode.Parse(text) : null;

    private async Task<string?> Text(HttpRequestMessage request)
    {
        if (_login is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _login.Token().ConfigureAwait(false));
        using var response = await _http.SendAsync(request).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return text;
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return null;
        // Apicurio's ProblemDetails carry a title and a detail; what it refuses (409, 400) is the record's fault.
        var problem = text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text) : null;
        var message = problem?["detail"]?.GetValue<string>() ?? problem?["title"]?.GetValue<string>() ?? response.ReasonPhrase;
        throw new HttpRequestException($"{(int)response.StatusCode} {message}", null, response.StatusCode);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An OAuth2 client-credentials login (Keycloak in front of Apicurio): a token, fetched again shortly before it expires.</summary>
internal sealed class ApicurioLogin(HttpClient http, string endpoint, string clientId, string clientSecret, string? scope)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (string Token, DateTimeOffset Expires)? _current;

    public async Task<string> Token()
    {
        if (_current is { } current && current.Expires > DateTimeOffset.UtcNow)
            return current.Token;
        await _refresh.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_current is { } fresh && fresh.Expires > DateTimeOffset.UtcNow)
                return fresh.Token;
            var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = clientSecret };
            if (scope is not null)
                form["scope"] = scope;
            using var response = await http.PostAsync(endpoint, new FormUrlEncodedContent(form)).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"{(int)response.StatusCode}: the token endpoint {endpoint} refused client '{clientId}'", null, response.StatusCode);
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false))!;
            var token = answer["access_token"]!.GetValue<string>();
            var lifetime = answer["expires_in"]?.GetValue<long>() ?? 60;
            _current = (token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(1, lifetime - 30)));
            return token;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
