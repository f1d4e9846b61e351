using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
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
    /// <summary>
    /// The C# type generated code carries for <paramref name="ksmlType"/>, from the compiler's own
    /// mapping (one concept, one place); used where the runtime meets a type only as text (producers).
    /// </summary>
    public static Type ClrType(string ksmlType)
    {
        var parsed = Ksml.Compiler.Types.TypeParser.TryParse(ksmlType, out var error)
            ?? throw new ArgumentException($"'{ksmlType}' is not a KSML type: {error}", nameof(ksmlType));
        return ClrTypeNamed(Ksml.Compiler.Types.ClrTypes.Of(parsed));
    }

    private static Type ClrTypeNamed(string name)
    {
        var type = NonNullClrTypeNamed(name.TrimEnd('?'));
        return name.EndsWith('?') && type.IsValueType ? typeof(Nullable<>).MakeGenericType(type) : type;
    }

    private static Type NonNullClrTypeNamed(string name) => name switch
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
        var windowed when windowed.StartsWith("Windowed<", StringComparison.Ordinal) =>
            typeof(Streamiz.Kafka.Net.State.Windowed<>).MakeGenericType(ClrTypeNamed(windowed["Windowed<".Length..^1])),
        _ => typeof(object),
    };

    // A notation the runner cannot serve is a configuration error, reported at start, not a crash.
    private static ISerDes<JsonNode>? NotationSerde(string ksmlType, Ksml.Compiler.Types.NotationType notation)
    {
        try
        {
            return KsmlNotations.For(notation.Notation, notation.Schema);
        }
        catch (NotSupportedException ex)
        {
            throw new Hosting.KsmlConfigException($"type '{ksmlType}': {ex.Message}");
        }
    }

    private static Ksml.Compiler.Types.NotationType? NotationOf(string ksmlType) =>
        ksmlType.Length > 0 && Ksml.Compiler.Types.TypeParser.TryParse(ksmlType, out _)?.Resolve() is Ksml.Compiler.Types.NotationType notation ? notation : null;

    /// <summary>The serde for <paramref name="ksmlType"/> over its C# type (<see cref="ClrType"/>), for callers that meet the type only as text (test suites).</summary>
    public static ISerDes ForType(string ksmlType) =>
        (ISerDes)typeof(KsmlSerdes).GetMethod(nameof(For))!.MakeGenericMethod(ClrType(ksmlType)).Invoke(null, [ksmlType])!;

    /// <summary>A serde for <typeparamref name="T"/> in the notation of <paramref name="ksmlType"/>.</summary>
    public static ISerDes<T> For<T>(string ksmlType)
    {
        if (typeof(T) == typeof(JsonNode) && NotationOf(ksmlType) is { } notation && NotationSerde(ksmlType, notation) is { } schemaSerde)
            return (ISerDes<T>)schemaSerde;
        if (typeof(T).IsGenericType && typeof(T).GetGenericTypeDefinition() == typeof(Streamiz.Kafka.Net.State.Windowed<>)
            && ksmlType.Length > 0 && Ksml.Compiler.Types.TypeParser.TryParse(ksmlType, out _)?.Resolve() is Ksml.Compiler.Types.WindowedType { Notation: "avro" } windowed)
            return new WindowedAvroSerDes<T>(KsmlNotations.WindowedAvro(windowed.Key));
        // union(null, long) and other optional primitives: the primitive's bytes, and null as a null record part.
        if (Nullable.GetUnderlyingType(typeof(T)) is { } underlying)
            return (ISerDes<T>)Activator.CreateInstance(typeof(NullableSerDes<>).MakeGenericType(underlying), typeof(KsmlSerdes).GetMethod(nameof(For))!.MakeGenericMethod(underlying).Invoke(null, [ksmlType]))!;
        object serde = typeof(T) switch
        {
            var t when t == typeof(string) => new Utf8StringSerDes(),
            var t when t == typeof(long) => new BigEndianSerDes<long>(8, (s, v) => BinaryPrimitives.WriteInt64BigEndian(s, v), BinaryPrimitives.ReadInt64BigEndian),
            var t when t == typeof(int) => new BigEndianSerDes<int>(4, (s, v) => BinaryPrimitives.WriteInt32BigEndian(s, v), BinaryPrimitives.ReadInt32BigEndian),
            var t when t == typeof(short) => new BigEndianSerDes<short>(2, (s, v) => BinaryPrimitives.WriteInt16BigEndian(s, v), BinaryPrimitives.ReadInt16BigEndian),
            var t when t == typeof(sbyte) => new BigEndianSerDes<sbyte>(1, (s, v) => s[0] = unchecked((byte)v), s => unchecked((sbyte)s[0])),
            var t when t == typeof(double) => new BigEndianSerDes<double>(8, (s, v) => BinaryPrimitives.WriteDoubleBigEndian(s, v), BinaryPrimitives.ReadDoubleBigEndian),
            var t when t == typeof(float) => new BigEndianSerDes<float>(4, (s, v) => BinaryPrimitives.WriteSingleBigEndian(s, v), BinaryPrimitives.ReadSingleBigEndian),
            var t when t == typeof(bool) => new BigEndianSerDes<bool>(1, (s, v) => s[0] = v ? (byte)1 : (byte)0, s => s[0] != 0),
            var t when t == typeof(byte[]) => new ByteArraySerDes(),
            var t when t == typeof(JsonNode) => new JsonNodeSerDes(),
            _ => new JsonObjectSerDes<T>(),
        };
        return (ISerDes<T>)serde;
    }

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
    private readonly ISerDes<T> _inner = KsmlSerdes.For<T>("");

    /// <inheritdoc />
    public override T Deserialize(byte[] data, SerializationContext context) => _inner.Deserialize(data, context);

    /// <inheritdoc />
    public override byte[] Serialize(T data, SerializationContext context) => _inner.Serialize(data, context);
}
