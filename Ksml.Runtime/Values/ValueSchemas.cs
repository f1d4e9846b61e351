using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Ksml.Runtime.Values;

/// <summary>
/// The schema a record's value was read with. As in KSML, a Python function sees a value read with a schema as a
/// dict with two more keys, <c>@type</c> (the schema's name) and <c>@schema</c> (the schema), and the pair is
/// taken out again of every dict it returns (KSML's examples <c>del value["@type"]</c>). The value's own data
/// is not changed: the schema rides beside it, for as long as the value lives.
/// </summary>
public static class ValueSchemas
{
    /// <summary>The key naming the schema.</summary>
    public const string TypeKey = "@type";

    /// <summary>The key holding the schema.</summary>
    public const string SchemaKey = "@schema";

    private static readonly ConditionalWeakTable<JsonNode, ValueSchema> Schemas = new();

    /// <summary>Records that <paramref name="value"/> was read with <paramref name="schema"/>; returns the value.</summary>
    public static JsonNode Attach(JsonNode value, ValueSchema schema)
    {
        if (value is JsonObject)
            Schemas.AddOrUpdate(value, schema);
        return value;
    }

    /// <summary>The schema <paramref name="value"/> was read with, if any.</summary>
    public static ValueSchema? Of(JsonNode value) => Schemas.TryGetValue(value, out var schema) ? schema : null;
}

/// <summary>A named schema in its JSON form (Avro's schema JSON, a JSON Schema), made once and shared.</summary>
/// <param name="name">The schema's name.</param>
/// <param name="json">Makes the schema's JSON form, when first asked for.</param>
/// <param name="native">The notation's own schema object (an Avro schema), for writing the value back with it.</param>
public sealed class ValueSchema(string name, Func<JsonNode?> json, object? native = null)
{
    /// <summary>The notation's own schema object, when the notation keeps one.</summary>
    public object? Native { get; } = native;

    private readonly Lazy<JsonNode?> _json = new(json);

    /// <summary>The schema's name, what <c>@type</c> holds.</summary>
    public string Name { get; } = name;

    /// <summary>The schema, what <c>@schema</c> holds.</summary>
    public JsonNode? Json => _json.Value;
}
