using System.Text.Json;
using System.Text.Json.Nodes;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// What KSML does when it writes a value in a JSON Schema notation: a primitive whose kind differs from the one
/// its schema gives is converted when that loses nothing (KSML's sensor generator writes a long timestamp as str
/// into a "number" field), as for Avro fields. What cannot be converted is left for validation to refuse.
/// </summary>
internal static class JsonSchemaValues
{
    /// <summary>A copy of <paramref name="value"/> with its primitives in the types <paramref name="schema"/> gives, or the value itself when nothing changes.</summary>
    public static JsonNode Conform(JsonNode value, JsonNode schema) => Conform(value, schema, schema, 0) ?? value;

    // Returns the changed value, or null when the value already fits.
    private static JsonNode? Conform(JsonNode? value, JsonNode? schema, JsonNode root, int depth)
    {
        if (value is null || schema is not JsonObject rules)
            return null;
        ValueLimits.Check(depth, "A JSON Schema value");
        if (rules["$ref"]?.GetValue<string>() is { } reference)
            return Conform(value, Resolve(root, reference), root, depth + 1);
        switch (value)
        {
            case JsonObject record when rules["properties"] is JsonObject properties:
            {
                JsonObject? changed = null;
                foreach (var (name, field) in record)
                    if (properties[name] is { } fieldSchema && Conform(field, fieldSchema, root, depth + 1) is { } conformed)
                        (changed ??= (JsonObject)record.DeepClone())[name] = conformed;
                return changed;
            }
            case JsonArray list when rules["items"] is JsonObject items:
            {
                JsonArray? changed = null;
                for (var i = 0; i < list.Count; i++)
                    if (Conform(list[i], items, root, depth + 1) is { } conformed)
                        (changed ??= (JsonArray)list.DeepClone())[i] = conformed;
                return changed;
            }
            case JsonValue primitive:
                return Primitive(primitive, Types(rules));
            default:
                return null;
        }
    }

    private static JsonNode? Resolve(JsonNode root, string reference)
    {
        // Local references only (#/definitions/X, #/$defs/X): the notation reads one schema file.
        if (!reference.StartsWith("#", StringComparison.Ordinal))
            return null;
        JsonNode? node = root;
        foreach (var part in reference.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
            node = node is JsonObject o ? o[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)] : null;
        return node;
    }

    private static string[] Types(JsonObject rules) => rules["type"] switch
    {
        JsonValue one when one.GetValueKind() == JsonValueKind.String => [one.GetValue<string>()],
        JsonArray many => many.OfType<JsonValue>().Where(t => t.GetValueKind() == JsonValueKind.String).Select(t => t.GetValue<string>()).ToArray(),
        _ => [],
    };

    private static JsonNode? Primitive(JsonValue value, string[] types)
    {
        var kind = value.GetValueKind();
        var fits = kind switch
        {
            JsonValueKind.String => types.Contains("string"),
            JsonValueKind.Number => types.Contains("number") || (types.Contains("integer") && Whole(value) is not null),
            JsonValueKind.True or JsonValueKind.False => types.Contains("boolean"),
            _ => true,
        };
        if (fits || types.Length == 0)
            return null;
        foreach (var type in types)
        {
            try
            {
                switch (type)
                {
                    case "integer" when Whole(value) is { } whole:
                        return JsonValue.Create(whole);
                    case "number" when kind == JsonValueKind.String:
                        var text = value.GetValue<string>();
                        return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var exact)
                            ? JsonValue.Create(exact)
                            : JsonValue.Create(LosslessValues.ToDouble(value));
                    case "boolean":
                        return JsonValue.Create(LosslessValues.ToBoolean(value));
                    case "string":
                        return JsonValue.Create(LosslessValues.ToText(value));
                }
            }
            catch (SerializationException)
            {
                // Not this type without loss; the next, or validation says what is wrong.
            }
        }
        return null;
    }

    private static long? Whole(JsonValue value)
    {
        try
        {
            return LosslessValues.ToInt64(value);
        }
        catch (SerializationException)
        {
            return null;
        }
    }
}
