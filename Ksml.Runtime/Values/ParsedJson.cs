using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ksml.Runtime.Values;

/// <summary>
/// The parsed document behind a JsonObject or JsonArray that nobody has read or changed yet.
/// System.Text.Json keeps such a node backed by its JsonElement and builds the node dictionary on
/// first access, dropping the element. While the element is there the node is exactly the parsed
/// text, so the Python bridge can walk the element and the serializer can copy the raw bytes,
/// skipping the dictionary that was the largest single cost per record (docs/benchmarks.md).
/// </summary>
internal static class ParsedJson
{
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_jsonElement")]
    private static extern ref JsonElement? ObjectElement(JsonObject node);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_jsonElement")]
    private static extern ref JsonElement? ArrayElement(JsonArray node);

    private static bool _accessMissing;

    /// <summary>The backing element, or null when the node was materialized (or on a System.Text.Json without the field).</summary>
    public static JsonElement? Element(JsonNode node)
    {
        if (_accessMissing)
            return null;
        try
        {
            return node switch
            {
                JsonObject obj => ObjectElement(obj),
                JsonArray array => ArrayElement(array),
                _ => null,
            };
        }
        catch (MissingFieldException)
        {
            _accessMissing = true; // the node walk is always correct, only slower
            return null;
        }
    }

    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Utf8JsonWriter? _writer;

    /// <summary>The UTF-8 JSON of <paramref name="node"/>: the parsed bytes as they came when unchanged, else written once without a string between.</summary>
    public static byte[] Utf8(JsonNode node)
    {
        if (Element(node) is { } element)
            return System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).ToArray();
        var buffer = _buffer ??= new System.Buffers.ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = _writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        node.WriteTo(writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
