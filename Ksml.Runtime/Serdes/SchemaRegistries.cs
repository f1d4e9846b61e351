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
}

/// <summary>
/// The registry could not be reached or failed (a transport error, a timeout, a 5xx answer), after retries. It is
/// no fault of the record: the error policies never skip or dead-letter a record for it, the application stops
/// uncommitted and the record is read again after a restart.
/// </summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception cause) : Exception(message, cause);

/// <summary>A Confluent-compatible registry over HTTP (Confluent's own, Apicurio's ccompat API, Redpanda, Karapace).</summary>
internal sealed class ConfluentSchemaRegistry(string url) : IKsmlSchemaRegistry
{
    private readonly CachedSchemaRegistryClient _client = new(new SchemaRegistryConfig { Url = url, RequestTimeoutMs = 10_000 });

    // A registry restarting or behind a busy proxy recovers in seconds; a record is not to blame for it.
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

    private static bool Unavailable(Exception error) => error switch
    {
        // Confluent's error answers are HttpRequestExceptions too: only its 5xx mean the registry failed.
        SchemaRegistryException registry => (int)registry.Status >= 500,
        HttpRequestException or TaskCanceledException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(Unavailable),
        _ => false,
    };

    private T Call<T>(string what, Func<Task<T>> call)
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
        return id;
    }

    /// <inheritdoc />
    public string Get(int id) => _schemaById.TryGetValue(id, out var schema) ? schema : throw new SerializationException($"The schema registry has no schema with id {id}.");

    /// <inheritdoc />
    public (int Id, string Schema)? Latest(string subject) => _latestBySubject.TryGetValue(subject, out var id) ? (id, _schemaById[id]) : null;
}
