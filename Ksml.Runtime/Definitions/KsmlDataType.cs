using Confluent.Kafka;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Definitions;

/// <summary>
/// A KSML data type as the compiler resolved it: the C# type that carries it through a topology and the notation its
/// bytes are in. Generated code hands these to the runtime, so nothing parses a KSML type at run time and nothing
/// picks a generic method by reflection; <see cref="KsmlDataType{T}"/> carries the C# type itself.
/// </summary>
public abstract class KsmlDataType
{
    private protected KsmlDataType(string text, string? notation, string? schema, KsmlDataType? windowKey)
    {
        Text = text;
        Notation = notation;
        Schema = schema;
        WindowKey = windowKey;
    }

    /// <summary>The type as KSML writes it (<c>avro:SensorData</c>, <c>windowed(string)</c>), for messages.</summary>
    public string Text { get; }

    /// <summary>
    /// The notation the bytes are in: <c>avro</c>, <c>json</c>, <c>csv</c>, … for a notation type, <c>avro</c> for
    /// <c>avro:windowed(K)</c>; null for primitives, untyped structures and the JSON form of a windowed key.
    /// </summary>
    public string? Notation { get; }

    /// <summary>The schema a notation type names (<c>SensorData</c> in <c>avro:SensorData</c>); null for none.</summary>
    public string? Schema { get; }

    /// <summary>The key type of a windowed key (<c>windowed(K)</c>); null for every other type.</summary>
    public KsmlDataType? WindowKey { get; }

    /// <summary>The C# type generated code carries values of this type in.</summary>
    public abstract Type ClrType { get; }

    /// <summary>The serde of this type, for callers that hold it without its C# type (producers, test suites).</summary>
    public abstract ISerDes Serde();

    /// <summary>
    /// A value a function returned or a test wrote, converted to this type as KSML's types convert and serialized;
    /// null for a null value. <paramref name="serde"/> is this type's <see cref="Serde"/>, made once by the caller.
    /// </summary>
    public abstract byte[]? Serialize(ISerDes serde, object? value, SerializationContext context, string what);

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>A primitive, structured or notation type carried as <typeparamref name="T"/>.</summary>
    public static KsmlDataType<T> Of<T>(string text, string? notation = null, string? schema = null) => new(text, notation, schema, null);

    /// <summary>A windowed key (<c>windowed(K)</c>, or <c>avro:windowed(K)</c> with <paramref name="notation"/> <c>avro</c>).</summary>
    public static KsmlDataType<Streamiz.Kafka.Net.State.Windowed<K>> Windowed<K>(string text, KsmlDataType<K> key, string? notation = null) =>
        new(text, notation, null, key);
}

/// <summary>A KSML data type carried as <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The C# type generated code carries the type in.</typeparam>
public sealed class KsmlDataType<T> : KsmlDataType
{
    internal KsmlDataType(string text, string? notation, string? schema, KsmlDataType? windowKey)
        : base(text, notation, schema, windowKey)
    {
    }

    /// <inheritdoc />
    public override Type ClrType => typeof(T);

    /// <inheritdoc />
    public override ISerDes<T> Serde() => KsmlSerdes.For<T>(this);

    /// <inheritdoc />
    public override byte[]? Serialize(ISerDes serde, object? value, SerializationContext context, string what) =>
        KsmlValues.To<T>(value, what) is { } typed ? ((ISerDes<T>)serde).Serialize(typed, context) : null;
}
