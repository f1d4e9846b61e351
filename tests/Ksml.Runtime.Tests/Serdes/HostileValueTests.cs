using Ksml.Testing;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.Tests.Serdes;

/// <summary>
/// Records built to crash a consumer: nested far too deep, or expanding entities. Each is an exception
/// the consume policy handles (skip, dead-letter or stop), never a stack overflow that ends the process
/// and meets the same record again after a restart.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class HostileValueTests
{
    private string _schemas = "";
    private static readonly SerializationContext Value = new(MessageComponentType.Value, "hostile");

    [SetUp]
    public void WriteSchemas()
    {
        _schemas = Path.Combine(Path.GetTempPath(), "ksml-hostile-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_schemas);
        File.WriteAllText(Path.Combine(_schemas, "Link.avsc"), """
            {"type":"record","name":"Link","fields":[{"name":"next","type":["null","Link"]}]}
            """);
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions>());
    }

    [TearDown]
    public void Remove()
    {
        KsmlNotations.Configure(null, new Dictionary<string, NotationOptions>());
        Directory.Delete(_schemas, recursive: true);
    }

    private static JsonNode Read(string type, byte[] bytes) => KsmlSerdes.For<JsonNode>(KsmlDataTypes.Parse(type)).Deserialize(bytes, Value);

    private static byte[] NestedXml(int depth) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<a>", depth)) + "x" + string.Concat(Enumerable.Repeat("</a>", depth)));

    /// <summary>A linked list of <paramref name="depth"/> links in Avro binary: union branch 1 (a Link) each time, then branch 0 (null).</summary>
    private static byte[] NestedAvro(int depth) => Enumerable.Repeat((byte)2, depth).Append((byte)0).ToArray();

    [Test]
    public void Xml_nested_a_hundred_thousand_levels_is_a_type_error()
    {
        Assert.That(() => Read("xml", NestedXml(100_000)),
            Throws.InstanceOf<KsmlTypeException>().With.Message.StartsWith("An XML document nests deeper than 100 levels"));
        Assert.That(Read("xml", NestedXml(50)), Is.Not.Null, "within the limit");
    }

    [Test]
    public void Xml_with_a_dtd_is_refused_so_entities_cannot_expand()
    {
        var laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
            <lolz>&lol3;</lolz>
            """;

        Assert.That(() => Read("xml", Encoding.UTF8.GetBytes(laughs)),
            Throws.Exception.With.Message.StartsWith("Not valid XML").And.Message.Contains("DTD"));
    }

    [Test]
    public void Avro_of_a_recursive_schema_nested_past_the_limit_is_a_type_error()
    {
        Assert.That(() => Read("avro:Link", NestedAvro(200_000)),
            Throws.InstanceOf<KsmlTypeException>().With.Message.StartsWith("A avro value nests deeper than 100 levels"));
        var shallow = Read("avro:Link", NestedAvro(3));
        Assert.That(shallow.ToJsonString(), Is.EqualTo("""{"next":{"next":{"next":{"next":null}}}}"""));
    }

    [Test]
    public void Json_is_read_to_the_configured_depth_and_no_deeper()
    {
        // System.Text.Json stops at 64 by default; the limit is the runtime's, and it can be raised.
        var eighty = Encoding.UTF8.GetBytes(new string('[', 80) + new string(']', 80));
        Assert.That(Read("json", eighty), Is.Not.Null);
        ValueLimits.Configure(70);
        try
        {
            Assert.That(() => Read("json", eighty), Throws.InstanceOf<System.Text.Json.JsonException>().With.Message.Contains("70"));
        }
        finally
        {
            ValueLimits.Configure(ValueLimits.DefaultMaxDepth);
        }
    }
}
