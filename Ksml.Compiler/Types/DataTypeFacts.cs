namespace Ksml.Compiler.Types;

/// <summary>
/// What the runtime needs to know of a KSML type: the C# type it travels in and the notation its bytes are in.
/// Generated code hands these over as descriptors (Ksml.Runtime's <c>KsmlDataType</c>), so the runtime never parses a type.
/// </summary>
/// <param name="Text">The type as KSML writes it, for messages.</param>
/// <param name="ClrType">The C# type, as <see cref="ClrTypes.Of"/> names it.</param>
/// <param name="Notation">The notation of a notation type or of <c>avro:windowed(K)</c>; null otherwise.</param>
/// <param name="Schema">The schema a notation type names; null otherwise.</param>
/// <param name="WindowKey">The key of a windowed key; null otherwise.</param>
public sealed record DataTypeFacts(string Text, string ClrType, string? Notation, string? Schema, DataTypeFacts? WindowKey)
{
    public static DataTypeFacts Of(KsmlType type)
    {
        var resolved = type.Resolve();
        var (notation, schema, windowKey) = resolved switch
        {
            WindowedType windowed => (windowed.Notation, null, Of(windowed.Key)),
            NotationType named => (named.Notation, named.Schema, (DataTypeFacts?)null),
            _ => ((string?)null, (string?)null, (DataTypeFacts?)null),
        };
        return new DataTypeFacts(resolved.ToString(), ClrTypes.Of(resolved), notation, schema, windowKey);
    }
}
