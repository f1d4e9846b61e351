using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// Serdes for the C# types a generated topology carries. Numbers use Kafka's big-endian wire format
/// (Streamiz's own numeric serdes are little-endian and do not interoperate with Java clients);
/// structured values are JSON text.
/// </summary>
public static class KsmlSerdes
{
    // A notation the runner cannot serve is a configuration error, reported at start, not a crash.
    private static ISerDes<JsonNode>? NotationSerde(KsmlDataType type)
    {
        try
        {
            return KsmlNotations.For(type.Notation!, type.Schema);
        }
        catch (NotSupportedException ex)
        {
            throw new Hosting.KsmlConfigException($"type '{type}': {ex.Message}");
        }
    }

    /// <summary>
    /// A serde for <typeparamref name="T"/> in the notation of <paramref name="type"/>, as the compiler resolved it;
    /// null <paramref name="type"/> (an internal topic or store whose type only the C# type tells) takes the default
    /// wire format of <typeparamref name="T"/>.
    /// </summary>
    public static ISerDes<T> For<T>(KsmlDataType? type)
    {
        if (typeof(T) == typeof(JsonNode) && type is { Notation: not null, WindowKey: null } && NotationSerde(type) is { } notationSerde)
            return (ISerDes<T>)notationSerde;
        if (type is { WindowKey: { } key, Notation: "avro" } && typeof(T).IsGenericType && typeof(T).GetGenericTypeDefinition() == typeof(Streamiz.Kafka.Net.State.Windowed<>))
            return new WindowedAvroSerDes<T>(KsmlNotations.WindowedAvro(key));
        object serde = typeof(T) switch
        {
            var t when t == typeof(string) => new Utf8StringSerDes(),
            var t when t == typeof(byte[]) => new ByteArraySerDes(),
            var t when t == typeof(JsonNode) => new JsonNodeSerDes(),
            // union(null, long) and other optional primitives: the primitive's bytes, and null as a null record part.
            var t when Nullable.GetUnderlyingType(t) is { } underlying => NullablePrimitive(underlying) ?? new JsonObjectSerDes<T>(),
            var t => Primitive(t) ?? new JsonObjectSerDes<T>(),
        };
        return (ISerDes<T>)serde;
    }

    /// <summary>Kafka's big-endian wire format of a number or boolean; null for any other type.</summary>
    private static object? Primitive(Type type) => type switch
    {
        var t when t == typeof(long) => new BigEndianSerDes<long>(8, (s, v) => BinaryPrimitives.WriteInt64BigEndian(s, v), BinaryPrimitives.ReadInt64BigEndian),
        var t when t == typeof(int) => new BigEndianSerDes<int>(4, (s, v) => BinaryPrimitives.WriteInt32BigEndian(s, v), BinaryPrimitives.ReadInt32BigEndian),
        var t when t == typeof(short) => new BigEndianSerDes<short>(2, (s, v) => BinaryPrimitives.WriteInt16BigEndian(s, v), BinaryPrimitives.ReadInt16BigEndian),
        var t when t == typeof(sbyte) => new BigEndianSerDes<sbyte>(1, (s, v) => s[0] = unchecked((byte)v), s => unchecked((sbyte)s[0])),
        var t when t == typeof(double) => new BigEndianSerDes<double>(8, (s, v) => BinaryPrimitives.WriteDoubleBigEndian(s, v), BinaryPrimitives.ReadDoubleBigEndian),
        var t when t == typeof(float) => new BigEndianSerDes<float>(4, (s, v) => BinaryPrimitives.WriteSingleBigEndian(s, v), BinaryPrimitives.ReadSingleBigEndian),
        var t when t == typeof(bool) => new BigEndianSerDes<bool>(1, (s, v) => s[0] = v ? (byte)1 : (byte)0, s => s[0] != 0),
        _ => null,
    };

    private static object? NullablePrimitive(Type underlying) => Primitive(underlying) switch
    {
        ISerDes<long> inner => new NullableSerDes<long>(inner),
        ISerDes<int> inner => new NullableSerDes<int>(inner),
        ISerDes<short> inner => new NullableSerDes<short>(inner),
        ISerDes<sbyte> inner => new NullableSerDes<sbyte>(inner),
        ISerDes<double> inner => new NullableSerDes<double>(inner),
        ISerDes<float> inner => new NullableSerDes<float>(inner),
        ISerDes<bool> inner => new NullableSerDes<bool>(inner),
        _ => null,
    };

    private sealed class Utf8StringSerDes : AbstractSerDes<string>
    {
        public override string Deserialize(byte[] data, SerializationContext context) => data is null ? null! : Encoding.UTF8.GetString(data);
        public override byte[] Serialize(string data, SerializationContext context) => data is null ? null! : Encoding.UTF8.GetBytes(data);
    }

    private sealed class NullableSerDes<T>(ISerDes<T> inner) : AbstractSerDes<T?> where T : struct
    {
        public override T? Deserialize(byte[] data, SerializationContext context) => data is null ? null : inner.Deserialize(data, context);

        public override byte[] Serialize(T? data, SerializationContext context) => data is { } value ? inner.Serialize(value, context) : null!;
    }

    private sealed class BigEndianSerDes<T>(int size, BigEndianSerDes<T>.Writer write, BigEndianSerDes<T>.Reader read) : AbstractSerDes<T>
    {
        public delegate void Writer(Span<byte> target, T value);
        public delegate T Reader(ReadOnlySpan<byte> source);

        public override T Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return default!;
            if (data.Length != size)
                throw new SerializationException($"expected {size} bytes for a {typeof(T).Name}, got {data.Length}");
            return read(data);
        }

        public override byte[] Serialize(T data, SerializationContext context)
        {
            var bytes = new byte[size];
            write(bytes, data);
            return bytes;
        }
    }

    private sealed class JsonNodeSerDes : AbstractSerDes<JsonNode>
    {
        public override JsonNode Deserialize(byte[] data, SerializationContext context) =>
            data is null || data.Length == 0 ? null! : JsonNode.Parse(data, documentOptions: ValueLimits.Json)!;

        public override byte[] Serialize(JsonNode data, SerializationContext context) =>
            data is null ? null! : ParsedJson.Utf8(data);
    }

    /// <summary>A windowed key in its Avro record form, through the JSON struct KSML gives it.</summary>
    private sealed class WindowedAvroSerDes<T>(ISerDes<JsonNode> record) : AbstractSerDes<T>
    {
        public override T Deserialize(byte[] data, SerializationContext context) =>
            data is null ? default! : KsmlValues.To<T>(record.Deserialize(data, context), "deserialized windowed key");

        public override byte[] Serialize(T data, SerializationContext context) =>
            data is null ? null! : record.Serialize(KsmlValues.ToJsonNode(data)!, context);
    }

    private sealed class JsonObjectSerDes<T> : AbstractSerDes<T>
    {
        public override T Deserialize(byte[] data, SerializationContext context) =>
            data is null ? default! : KsmlValues.To<T>(JsonNode.Parse(data, documentOptions: ValueLimits.Json), "deserialized value");

        public override byte[] Serialize(T data, SerializationContext context) =>
            data is null ? null! : KsmlValues.ToJsonNode(data) is { } node ? ParsedJson.Utf8(node) : "null"u8.ToArray();
    }
}

/// <summary>Bytes on a topic that do not decode as the declared type.</summary>
public sealed class SerializationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SerializationException(string message) : base(message) { }
}

/// <summary>
/// The KSML serde for <typeparamref name="T"/> as a type with a parameterless constructor, for the
/// Streamiz operations that take serdes as type arguments (grouping, repartitioning).
/// </summary>
public sealed class KsmlSerDes<T> : AbstractSerDes<T>
{
    private readonly ISerDes<T> _inner = KsmlSerdes.For<T>(null);

    /// <inheritdoc />
    public override T Deserialize(byte[] data, SerializationContext context) => _inner.Deserialize(data, context);

    /// <inheritdoc />
    public override byte[] Serialize(T data, SerializationContext context) => _inner.Serialize(data, context);
}
