using System.Collections.Concurrent;
using Confluent.SchemaRegistry;

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

/// <summary>A Confluent-compatible registry over HTTP (Confluent's own, Apicurio's ccompat API, Redpanda, Karapace).</summary>
internal sealed class ConfluentSchemaRegistry(string url) : IKsmlSchemaRegistry
{
    private readonly CachedSchemaRegistryClient _client = new(new SchemaRegistryConfig { Url = url });

    public int Register(string subject, string schema, SchemaType type) =>
        _client.RegisterSchemaAsync(subject, new Schema(schema, type)).GetAwaiter().GetResult();

    public string Get(int id) => _client.GetSchemaAsync(id).GetAwaiter().GetResult().SchemaString;

    public (int Id, string Schema)? Latest(string subject)
    {
        try
        {
            var latest = _client.GetLatestSchemaAsync(subject).GetAwaiter().GetResult();
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
