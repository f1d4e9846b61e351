using System.Collections.Concurrent;
using Confluent.SchemaRegistry;
using Polly;
using Polly.Retry;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// What the schema notations need of a schema registry: register a schema under a subject, fetch one by id,
/// and the latest of a subject (what a bare notation such as <c>confluent_avro</c> writes with when the value
/// carries no schema of its own).
/// </summary>
public interface IKsmlSchemaRegistry
{
    /// <summary>The id of <paramref name="schema"/> under <paramref name="subject"/>, registering it if new.</summary>
    int Register(string subject, string schema, SchemaType type);

    /// <summary>The schema with <paramref name="id"/>.</summary>
    string Get(int id);

    /// <summary>The latest schema of <paramref name="subject"/>, or null when it has none.</summary>
    (int Id, string Schema)? Latest(string subject);

    /// <summary>The id <paramref name="schema"/> already has under <paramref name="subject"/>, or null when it is not registered there.</summary>
    int? Find(string subject, string schema, SchemaType type);

    /// <summary>
    /// Whether a serializer registers its schema when no setting says (Confluent's <c>auto.register.schemas</c>
    /// defaults to true, Apicurio's <c>apicurio.registry.auto-register</c> to false).
    /// </summary>
    bool RegistersByDefault => true;
}

/// <summary>Which schema id a serializer writes with, as Confluent's serializer settings decide it.</summary>
internal static class SchemaIds
{
    /// <summary>
    /// <c>use.latest.version: true</c> writes with the subject's latest schema; <c>auto.register.schemas: false</c>
    /// with the id the schema already has (a registry run by a schema owner refuses writes); else it is registered.
    /// </summary>
    public static int IdFor(this IKsmlSchemaRegistry registry, string subject, string schema, SchemaType type, IReadOnlyDictionary<string, string> settings)
    {
        // Confluent's names, or Apicurio's (apicurio.registry.find-latest, apicurio.registry.auto-register).
        (string Key, bool Value)? Setting(params string[] keys) =>
            keys.Where(settings.ContainsKey).Select(k => (k, bool.TryParse(settings[k], out var flag) && flag)).Cast<(string, bool)?>().FirstOrDefault();
        if (Setting("use.latest.version", "apicurio.registry.find-latest") is (var latestKey, true))
            return registry.Latest(subject)?.Id ?? throw new SerializationException($"{latestKey} is set, but no schema is registered under subject '{subject}'");
        var register = Setting("auto.register.schemas", "apicurio.registry.auto-register") ?? (registry.RegistersByDefault ? "auto.register.schemas" : "apicurio.registry.auto-register", registry.RegistersByDefault);
        if (!register.Value)
            return registry.Find(subject, schema, type) ?? throw new SerializationException($"{register.Key} is false and the schema is not registered under subject '{subject}'");
        return registry.Register(subject, schema, type);
    }
}

/// <summary>
/// A registry's calls, retried while it is unavailable (a restart or a busy proxy recovers in seconds), then reported
/// as <see cref="SchemaRegistryUnavailableException"/>: a record is not to blame for it.
/// </summary>
internal static class RegistryCalls
{
    private static readonly ResiliencePipeline Retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(Unavailable),
            MaxRetryAttempts = 4,
            Delay = TimeSpan.FromMilliseconds(250),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    /// <summary>A transport error, a timeout, a 5xx answer or a refused login: the registry failed or refuses, not the record.</summary>
    public static bool Unavailable(Exception error) => error switch
    {
        // Confluent's error answers are HttpRequestExceptions too: only its 5xx mean the registry failed.
        SchemaRegistryException registry => Failed(registry.Status),
        HttpRequestException { StatusCode: { } status } => Failed(status),
        HttpRequestException or TaskCanceledException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(Unavailable),
        _ => false,
    };

    private static bool Failed(System.Net.HttpStatusCode status) =>
        (int)status >= 500 || status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden;

    public static T Run<T>(string url, string what, Func<Task<T>> call)
    {
        try
        {
            return Retry.Execute(() => call().GetAwaiter().GetResult());
        }
        catch (Exception ex) when (Unavailable(ex))
        {
            throw new SchemaRegistryUnavailableException($"The schema registry at {url} is unavailable ({what}): {ex.Message}", ex);
        }
    }
}

/// <summary>
/// The registry could not be reached or failed (a transport error, a timeout, a 5xx answer), after retries. It is
/// no fault of the record: the error policies never skip or dead-letter a record for it, the application stops
/// uncommitted and the record is read again after a restart.
/// </summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception cause) : Exception(message, cause);

/// <summary>A Confluent-compatible registry over HTTP (Confluent's own, Apicurio's ccompat API, Redpanda, Karapace).</summary>
internal sealed class ConfluentSchemaRegistry(string url, IReadOnlyDictionary<string, string> settings) : IKsmlSchemaRegistry
{
    private readonly CachedSchemaRegistryClient _client = Client(url, settings);

    // A static bearer token (Apicurio behind Keycloak, a gateway): Confluent's own bearer settings also demand a
    // Confluent Cloud logical cluster and identity pool, so the header is given by a provider of our own.
    private static CachedSchemaRegistryClient Client(string url, IReadOnlyDictionary<string, string> settings)
    {
        var config = ClientConfig(url, settings);
        var token = settings.GetValueOrDefault("bearer.auth.token") ?? settings.GetValueOrDefault("schema.registry.bearer.auth.token");
        return token is not null && config.BearerAuthLogicalCluster is null
            ? new CachedSchemaRegistryClient(config, new StaticBearerToken(token))
            : new CachedSchemaRegistryClient(config);
    }

    private sealed class StaticBearerToken(string token) : IAuthenticationHeaderValueProvider
    {
        public System.Net.Http.Headers.AuthenticationHeaderValue GetAuthenticationHeader() => new("Bearer", token);
    }

    /// <summary>
    /// KSML's registry settings (Java client names) as the .NET client takes them: basic authentication
    /// (Confluent's <c>basic.auth.*</c> or Apicurio's <c>apicurio.registry.auth.username/password</c>), a static
    /// bearer token, a PEM CA and client certificate, timeouts; <c>schema.registry.*</c> keys pass as they are.
    /// </summary>
    internal static SchemaRegistryConfig ClientConfig(string url, IReadOnlyDictionary<string, string> settings)
    {
        var config = new SchemaRegistryConfig { Url = url, RequestTimeoutMs = 10_000 };
        string? Get(params string[] keys) => keys.Select(k => settings.GetValueOrDefault(k) ?? settings.GetValueOrDefault("schema.registry." + k)).FirstOrDefault(v => v is not null);
        if (Get("basic.auth.user.info") is { } userInfo)
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = userInfo;
        }
        else if (settings.GetValueOrDefault("apicurio.registry.auth.username") is { } user)
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = user + ":" + settings.GetValueOrDefault("apicurio.registry.auth.password", "");
        }
        if (Get("bearer.auth.token") is { } token && Get("bearer.auth.logical.cluster") is { } cluster)
        {
            config.BearerAuthCredentialsSource = BearerAuthCredentialsSource.StaticToken;
            config.BearerAuthToken = token;
            config.BearerAuthLogicalCluster = cluster;
            config.BearerAuthIdentityPoolId = Get("bearer.auth.identity.pool.id");
        }
        if (Get("ssl.ca.location") is { } ca)
            config.SslCaLocation = ca;
        if (Get("ssl.keystore.location") is { } keystore)
        {
            if (keystore.EndsWith(".jks", StringComparison.OrdinalIgnoreCase))
                throw new Hosting.KsmlConfigException($"schema registry {url}: ssl.keystore.location '{keystore}' is a Java keystore; give a PKCS#12 file (.p12) instead");
            config.SslKeystoreLocation = keystore;
            config.SslKeystorePassword = Get("ssl.keystore.password");
        }
        if (Get("request.timeout.ms") is { } timeout && int.TryParse(timeout, System.Globalization.CultureInfo.InvariantCulture, out var ms))
            config.RequestTimeoutMs = ms;
        foreach (var (key, value) in settings)
            if (key.StartsWith("schema.registry.", StringComparison.Ordinal) && key != "schema.registry.url" && config.Get(key) is null)
                config.Set(key, value);
        return config;
    }

    private T Call<T>(string what, Func<Task<T>> call) => RegistryCalls.Run(url, what, call);

    public int Register(string subject, string schema, SchemaType type) =>
        Call($"registering a schema under {subject}", () => _client.RegisterSchemaAsync(subject, new Schema(schema, type)));

    public string Get(int id) => Call($"fetching schema {id}", () => _client.GetSchemaAsync(id)).SchemaString;

    public (int Id, string Schema)? Latest(string subject)
    {
        try
        {
            var latest = Call($"fetching the latest schema of {subject}", () => _client.GetLatestSchemaAsync(subject));
            return (latest.Id, latest.SchemaString);
        }
        catch (SchemaRegistryException ex) when (ex.ErrorCode is 40401 or 40402)
        {
            return null; // subject or version not found
        }
    }

    public int? Find(string subject, string schema, SchemaType type)
    {
        try
        {
            return Call($"looking up a schema under {subject}", () => _client.LookupSchemaAsync(subject, new Schema(schema, type), ignoreDeletedSchemas: true)).Id;
        }
        catch (SchemaRegistryException ex) when (ex.ErrorCode is 40401 or 40403)
        {
            return null; // subject or schema not found
        }
    }
}

/// <summary>
/// A registry in memory, for test suites: as KSML's test runner does with its mock registry, every Avro
/// notation of a suite run shares one, filled with the schemas the suite's streams name.
/// </summary>
public sealed class InMemorySchemaRegistry : IKsmlSchemaRegistry
{
    private readonly ConcurrentDictionary<string, int> _idBySchema = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, string> _schemaById = new();
    private readonly ConcurrentDictionary<string, int> _latestBySubject = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Subject, int Id), bool> _registered = new();
    private int _lastId;

    /// <inheritdoc />
    public int Register(string subject, string schema, SchemaType type)
    {
        var id = _idBySchema.GetOrAdd(type + "\n" + schema, _ =>
        {
            var created = Interlocked.Increment(ref _lastId);
            _schemaById[created] = schema;
            return created;
        });
        _latestBySubject[subject] = id;
        _registered[(subject, id)] = true;
        return id;
    }

    /// <inheritdoc />
    public int? Find(string subject, string schema, SchemaType type) =>
        _idBySchema.TryGetValue(type + "\n" + schema, out var id) && _registered.ContainsKey((subject, id)) ? id : null;

    /// <inheritdoc />
    public string Get(int id) => _schemaById.TryGetValue(id, out var schema) ? schema : throw new SerializationException($"The schema registry has no schema with id {id}.");

    /// <inheritdoc />
    public (int Id, string Schema)? Latest(string subject) => _latestBySubject.TryGetValue(subject, out var id) ? (id, _schemaById[id]) : null;
}
