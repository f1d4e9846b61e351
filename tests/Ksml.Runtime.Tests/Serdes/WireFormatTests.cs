using Ksml.Testing;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Serdes;

namespace Ksml.Runtime.Tests.Serdes;

/// <summary>The bytes Java Kafka clients write and read (Kafka's own serializers are big-endian; Streamiz's are not).</summary>
public sealed class WireFormatTests
{
    private static readonly SerializationContext Context = new(MessageComponentType.Value, "t");

    private static byte[] Bytes<T>(T value, string type) => KsmlSerdes.For<T>(KsmlDataTypes.Parse(type)).Serialize(value, Context);

    private static T Read<T>(byte[] bytes, string type) => KsmlSerdes.For<T>(KsmlDataTypes.Parse(type)).Deserialize(bytes, Context);

    [Test]
    public void Integers_are_big_endian_like_kafkas_long_and_integer_serializers()
    {
        Assert.That(Bytes(1L, "long"), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 }));
        Assert.That(Bytes(-2L, "long"), Is.EqualTo(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE }));
        Assert.That(Bytes(258, "int"), Is.EqualTo(new byte[] { 0, 0, 1, 2 }));
        Assert.That(Bytes((short)258, "short"), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(Read<long>([0, 0, 0, 0, 0, 0, 0x30, 0x39], "long"), Is.EqualTo(12345L));
        Assert.That(Read<int>([0x7F, 0xFF, 0xFF, 0xFF], "int"), Is.EqualTo(int.MaxValue));
    }

    [Test]
    public void An_optional_primitive_has_the_primitives_bytes_and_null_stays_a_null_record_part()
    {
        Assert.That(Bytes<long?>(1L, "union(null, long)"), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 }));
        Assert.That(Bytes<long?>(null, "union(null, long)"), Is.Null);
        Assert.That(Read<long?>([0, 0, 0, 0, 0, 0, 0x30, 0x39], "union(null, long)"), Is.EqualTo(12345L));
        Assert.That(Read<long?>(null!, "union(null, long)"), Is.Null);
        Assert.That(Bytes<double?>(1.5, "union(null, double)"), Is.EqualTo(new byte[] { 0x3F, 0xF8, 0, 0, 0, 0, 0, 0 }));
    }

    [Test]
    public void Floating_point_is_ieee754_big_endian_like_kafkas_double_and_float_serializers()
    {
        Assert.That(Bytes(1.5, "double"), Is.EqualTo(new byte[] { 0x3F, 0xF8, 0, 0, 0, 0, 0, 0 }));
        Assert.That(Bytes(1.5f, "float"), Is.EqualTo(new byte[] { 0x3F, 0xC0, 0, 0 }));
        Assert.That(Read<double>([0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18], "double"), Is.EqualTo(Math.PI));
    }

    [Test]
    public void Strings_are_utf8_and_json_is_its_text()
    {
        Assert.That(Bytes("héllo", "string"), Is.EqualTo("héllo"u8.ToArray()));
        Assert.That(Bytes(JsonNode.Parse("""{"a":[1,"x"]}"""), "json"), Is.EqualTo("""{"a":[1,"x"]}"""u8.ToArray()));
        Assert.That(Read<JsonNode>("""{"b":true}"""u8.ToArray(), "json")!.ToJsonString(), Is.EqualTo("""{"b":true}"""));
    }

    [Test]
    public void A_value_of_the_wrong_size_is_a_serialization_error_not_garbage()
    {
        Assert.That(() => Read<long>([1, 2, 3], "long"), Throws.InstanceOf<SerializationException>().With.Message.EqualTo("expected 8 bytes for a Int64, got 3"));
    }
}
