using System.Text.Json.Nodes;
using Ksml.Compiler.Types;
using Ksml.Runtime.Definitions;

namespace Ksml.Testing;

/// <summary>
/// KSML types written as text, in test suites and tests, as the runtime's descriptors: parsed and resolved by the
/// compiler exactly as a definition's types are (<see cref="DataTypeFacts"/>), so a suite's topic reads as the
/// application's does. Generated code never needs this: it hands the runtime its descriptors ready made.
/// </summary>
public static class KsmlDataTypes
{
    /// <summary>The descriptor of <paramref name="text"/> (<c>avro:SensorData</c>, <c>windowed(string)</c>, …).</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not a KSML type.</exception>
    public static KsmlDataType Parse(string text)
    {
        var type = TypeParser.TryParse(text, out var error) ?? throw new ArgumentException($"'{text}' is not a KSML type: {error}", nameof(text));
        return From(DataTypeFacts.Of(type));
    }

    // The one place a type's C# type is found from its name; generated code names it in source instead.
    private static KsmlDataType From(DataTypeFacts facts)
    {
        if (facts.WindowKey is { } keyFacts)
        {
            var key = From(keyFacts);
            return (KsmlDataType)typeof(KsmlDataType).GetMethod(nameof(KsmlDataType.Windowed))!.MakeGenericMethod(key.ClrType)
                .Invoke(null, [facts.Text, key, facts.Notation])!;
        }
        return (KsmlDataType)typeof(KsmlDataType).GetMethod(nameof(KsmlDataType.Of))!.MakeGenericMethod(ClrTypeNamed(facts.ClrType))
            .Invoke(null, [facts.Text, facts.Notation, facts.Schema])!;
    }

    private static Type ClrTypeNamed(string name)
    {
        var type = name.TrimEnd('?') switch
        {
            "bool" => typeof(bool),
            "sbyte" => typeof(sbyte),
            "short" => typeof(short),
            "int" => typeof(int),
            "long" => typeof(long),
            "float" => typeof(float),
            "double" => typeof(double),
            "string" => typeof(string),
            "byte[]" => typeof(byte[]),
            "JsonNode" => typeof(JsonNode),
            _ => typeof(object),
        };
        return name.EndsWith('?') && type.IsValueType ? typeof(Nullable<>).MakeGenericType(type) : type;
    }
}
