using System.Globalization;
using System.Text.Json.Nodes;
using Ksml.Compiler.Syntax;
using Ksml.Yaml;

namespace Ksml.Testing;

/// <summary>A message key or value written in a suite, as the runtime's data model for the stream's type.</summary>
internal static class YamlValues
{
    /// <summary>
    /// YAML's core schema for plain scalars (null, booleans, integers, floats), quoted scalars as text,
    /// mappings and lists as JSON; a scalar for a string-typed stream is its text as written.
    /// </summary>
    public static object? For(YamlNode node, Type target) => node switch
    {
        YamlScalar { IsNull: true } => null,
        YamlScalar scalar when target == typeof(string) => scalar.Value,
        YamlScalar scalar => Scalar(scalar),
        _ => Json(node),
    };

    private static object? Scalar(YamlScalar scalar)
    {
        if (scalar.Style != ScalarStyle.Plain)
            return scalar.Value;
        var text = scalar.Value;
        if (text is "true" or "True" or "TRUE") return true;
        if (text is "false" or "False" or "FALSE") return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return integer;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
        return text;
    }

    private static JsonNode? Json(YamlNode node) => node switch
    {
        YamlScalar { IsNull: true } => null,
        YamlScalar scalar => Scalar(scalar) switch
        {
            bool b => JsonValue.Create(b),
            long l => JsonValue.Create(l),
            double d => Runtime.Values.KsmlValues.JsonNumber(d),
            var other => JsonValue.Create((string)other!),
        },
        YamlSequence sequence => new JsonArray(sequence.Items.Select(Json).ToArray()),
        YamlMapping mapping => ToObject(mapping),
        _ => null,
    };

    private static JsonObject ToObject(YamlMapping mapping)
    {
        var result = new JsonObject();
        foreach (var entry in mapping.Entries)
            result[entry.Key.Value] = Json(entry.Value);
        return result;
    }
}
