using Ksml.Testing;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Runtime.Serdes;

namespace Ksml.Runtime.Tests.Serdes;

/// <summary>KSML's schema notations over the JSON data model, with the byte layouts other clients use.</summary>
[TestFixture, NonParallelizable]
public sealed class NotationTests
{
    private string _schemas = "";

    [SetUp]
    public void WriteSchemas()
    {
        _schemas = Path.Combine(Path.GetTempPath(), "ksml-schemas-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_schemas);
        File.WriteAllText(Path.Combine(_schemas, "Reading.avsc"), """
            {"type":"record","name":"Reading","fields":[
              {"name":"sensor","type":"string"},
              {"name":"value","type":"long"},
              {"name":"unit","type":["null","string"],"default":null},
              {"name":"tags","type":{"type":"array","items":"string"}}]}
            """);
        File.WriteAllText(Path.Combine(_schemas, "Order.json"), """
            {"type":"object","required":["id","qty"],"properties":{"id":{"type":"string"},"qty":{"type":"integer","minimum":1}}}
            """);
        File.WriteAllText(Path.Combine(_schemas, "Measurement.json"), """
            {"type":"object","$defs":{"tag":{"type":"object","properties":{"weight":{"type":"number"}}}},
             "properties":{"timestamp":{"type":"number"},"count":{"type":"integer"},"label":{"type":"string"},"on":{"type":"boolean"},"id":{"type":"string","format":"uuid"},
                           "tags":{"type":"array","items":{"$ref":"#/$defs/tag"}},"free":{}}}
            """);
        File.WriteAllText(Path.Combine(_schemas, "Payment.avsc"), """
            {"type": "record", "name": "Payment", "fields": [
              {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}},
              {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
              {"name": "day", "type": {"type": "int", "logicalType": "date"}},
              {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
              {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
              {"name": "refund", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}], "default": null}]}
            """);
        File.WriteAllText(Path.Combine(_schemas, "Person.csv"), "name,city,note\n");
        File.WriteAllText(Path.Combine(_schemas, "Book.xsd"), """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
              <xs:element name="Book"><xs:complexType><xs:sequence>
                <xs:element name="title" type="xs:string"/>
                <xs:element name="pages" type="xs:int"/>
              </xs:sequence></xs:complexType></xs:element>
            </xs:schema>
            """);
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions>());
    }

    [TearDown]
    public void Remove()
    {
        KsmlNotations.Configure(null, new Dictionary<string, NotationOptions>());
        Directory.Delete(_schemas, recursive: true);
    }

    private static readonly SerializationContext Value = new(MessageComponentType.Value, "readings");

    private static byte[] Write(string type, JsonNode node) => KsmlSerdes.For<JsonNode>(KsmlDataTypes.Parse(type)).Serialize(node, Value);

    private static JsonNode Read(string type, byte[] bytes) => KsmlSerdes.For<JsonNode>(KsmlDataTypes.Parse(type)).Deserialize(bytes, Value);

    [Test]
    public void Avro_from_a_schema_file_writes_avro_binary_and_reads_it_back()
    {
        var reading = JsonNode.Parse("""{"sensor":"ab","value":1,"unit":null,"tags":["x"]}""")!;

        var bytes = Write("avro:Reading", reading);

        // Avro binary: zig-zag varints and length-prefixed strings; union index 0 for null; one array block.
        Assert.That(bytes, Is.EqualTo(new byte[] { 4, (byte)'a', (byte)'b', 2, 0, 2, 2, (byte)'x', 0 }));
        Assert.That(Read("avro:Reading", bytes).ToJsonString(), Is.EqualTo("""{"sensor":"ab","value":1,"unit":null,"tags":["x"]}"""));
    }

    [Test]
    public void Avro_rejects_a_value_that_does_not_fit_its_schema()
    {
        Assert.That(() => Write("avro:Reading", JsonNode.Parse("""{"sensor":"ab","value":"many","tags":[]}""")!),
            Throws.InstanceOf<Exception>().With.Message.Contains("many").Or.Message.Contains("Int64"));
    }

    [Test]
    public void Avro_takes_what_converts_without_loss_as_ksml_does_and_refuses_the_rest()
    {
        // KSML's sensor-data generator writes "timestamp": str(...) for an Avro long.
        var written = Write("avro:Reading", JsonNode.Parse("""{"sensor":12,"value":"1700000000000","tags":[]}""")!);

        Assert.That(Read("avro:Reading", written).ToJsonString(), Is.EqualTo("""{"sensor":"12","value":1700000000000,"unit":null,"tags":[]}"""));
        Assert.That(() => Write("avro:Reading", JsonNode.Parse("""{"sensor":"s","value":"1.5","tags":[]}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("\"1.5\" cannot be converted to long without loss"));
        Assert.That(() => Write("avro:Reading", JsonNode.Parse("""{"sensor":"s","value":2.5,"tags":[]}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("2.5 cannot be converted to long"));
    }

    [Test]
    public void A_windowed_key_is_written_as_ksmls_avro_windowed_record_around_a_primitive_or_a_schema()
    {
        File.WriteAllText(Path.Combine(_schemas, "SensorKey.avsc"), """
            {"type":"record","name":"SensorKey","fields":[{"name":"type","type":"string"},{"name":"city","type":"string"}]}
            """);
        var key = new SerializationContext(MessageComponentType.Key, "counts");
        var text = KsmlSerdes.For<Streamiz.Kafka.Net.State.Windowed<string>>(KsmlDataTypes.Parse("avro:windowed(string)"));
        var window = new Streamiz.Kafka.Net.Stream.TimeWindow(1_000, 21_000);
        var structured = KsmlSerdes.For<Streamiz.Kafka.Net.State.Windowed<JsonNode>>(KsmlDataTypes.Parse("avro:windowed(SensorKey)"));

        var bytes = text.Serialize(new Streamiz.Kafka.Net.State.Windowed<string>("alice", window), key);
        var back = text.Deserialize(bytes, key);
        var sensor = structured.Deserialize(structured.Serialize(
            new Streamiz.Kafka.Net.State.Windowed<JsonNode>(JsonNode.Parse("""{"type":"AREA","city":"Utrecht"}""")!, window), key), key);

        // Avro binary of WindowedString: start and end as zig-zag longs, the two ISO times, then the key.
        Assert.That(bytes[..4], Is.EqualTo(new byte[] { 0xD0, 0x0F, 0x90, 0xC8 }));
        Assert.That(Encoding.UTF8.GetString(bytes), Does.Contain("1970-01-01T00:00:01.000Z").And.EndWith("alice"));
        Assert.That((back.Key, back.Window.StartMs, back.Window.EndMs), Is.EqualTo(("alice", 1_000L, 21_000L)));
        Assert.That(sensor.Key.ToJsonString(), Is.EqualTo("""{"type":"AREA","city":"Utrecht"}"""));
        Assert.That(() => KsmlSerdes.For<Streamiz.Kafka.Net.State.Windowed<JsonNode>>(KsmlDataTypes.Parse("avro:windowed(Missing)")).Serialize(
            new Streamiz.Kafka.Net.State.Windowed<JsonNode>(JsonNode.Parse("{}")!, window), key), Throws.InstanceOf<SerializationException>().With.Message.Contains("Missing.avsc"));
    }

    [Test]
    public async Task Avro_with_a_schema_registry_uses_confluents_wire_format()
    {
        using var registry = new FakeSchemaRegistry();
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions> { ["avro"] = new("confluent_avro", registry.Url) });
        var reading = JsonNode.Parse("""{"sensor":"s","value":5,"unit":"C","tags":[]}""")!;

        var bytes = Write("avro:Reading", reading);

        Assert.That(bytes[..5], Is.EqualTo(new byte[] { 0, 0, 0, 0, 7 }), "magic byte and the registry's schema id");
        Assert.That(registry.Subjects, Is.EqualTo(new[] { "readings-value" }));
        Assert.That(Read("avro:Reading", bytes).ToJsonString(), Is.EqualTo("""{"sensor":"s","value":5,"unit":"C","tags":[]}"""));
        await Task.CompletedTask;
    }

    [TestCase("basic.auth.user.info", "alice:s3cret", "Basic YWxpY2U6czNjcmV0")]
    [TestCase("apicurio.registry.auth.username", "alice", "Basic YWxpY2U6czNjcmV0")]
    [TestCase("bearer.auth.token", "t0ken", "Bearer t0ken")]
    public void The_registrys_credentials_from_the_runner_config_reach_it(string key, string value, string authorization)
    {
        using var registry = new FakeSchemaRegistry();
        var settings = new Dictionary<string, string> { [key] = value };
        if (key.StartsWith("apicurio", StringComparison.Ordinal))
            settings["apicurio.registry.auth.password"] = "s3cret";
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions> { ["avro"] = new("confluent_avro", registry.Url) { RegistryConfig = settings } });

        Write("avro:Reading", JsonNode.Parse("""{"sensor":"s","value":5,"unit":"C","tags":[]}""")!);

        Assert.That(registry.Authorizations, Is.Not.Empty.And.All.EqualTo(authorization));
    }

    [Test]
    public void A_serializer_registers_its_schema_unless_told_to_use_the_registered_one_or_the_latest_as_Confluents_settings_say()
    {
        var registry = new InMemorySchemaRegistry();
        var reading = JsonNode.Parse("""{"sensor":"s","value":5,"unit":"C","tags":[]}""")!;
        var schema = Avro.Schema.Parse(File.ReadAllText(Path.Combine(_schemas, "Reading.avsc"))).ToString();
        int IdWritten(params (string Key, string Value)[] settings)
        {
            KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions>
            {
                ["avro"] = new("confluent_avro") { Registry = registry, RegistryConfig = settings.ToDictionary(s => s.Key, s => s.Value) },
            });
            return System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Write("avro:Reading", reading).AsSpan(1, 4));
        }

        Assert.That(() => IdWritten(("auto.register.schemas", "false")), Throws.InstanceOf<SerializationException>()
            .With.Message.EqualTo("auto.register.schemas is false and the schema is not registered under subject 'readings-value'"));
        var registered = IdWritten();
        Assert.That(IdWritten(("auto.register.schemas", "false")), Is.EqualTo(registered), "found, not registered again");
        var newer = registry.Register("readings-value", schema.Replace("\"Reading\"", "\"Reading\",\"doc\":\"v2\"", StringComparison.Ordinal), Confluent.SchemaRegistry.SchemaType.Avro);
        Assert.That(IdWritten(("use.latest.version", "true")), Is.EqualTo(newer));
        Assert.That(newer, Is.Not.EqualTo(registered));
    }

    [Test]
    public void A_registry_that_cannot_be_reached_is_reported_as_unavailable_not_as_a_bad_record()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        } // closed again: nothing listens there
        KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions> { ["avro"] = new("confluent_avro", $"http://127.0.0.1:{port}") });

        var error = Assert.Throws<SchemaRegistryUnavailableException>(() => Read("avro", [0, 0, 0, 0, 3, 2]))!;

        Assert.That(error.Message, Does.StartWith($"The schema registry at http://127.0.0.1:{port} is unavailable (fetching schema 3)"));
    }

    [Test]
    public void Avro_logical_types_are_what_KSML_2_gives_python_a_decimal_as_its_exact_text_the_others_as_their_base_values()
    {
        var payment = JsonNode.Parse("""
            {"amount": "123.45", "id": "0b8f3c1e-4a57-4d2b-9d0e-6f1c2a3b4c5d", "day": 19700, "at": 1234,
             "ts": 1700000000123, "local": 1700000000123456, "refund": "-0.50"}
            """)!;

        var back = Read("avro:Payment", Write("avro:Payment", payment));

        Assert.That(back.ToJsonString(), Is.EqualTo(payment.ToJsonString()));
        Assert.That(Read("avro:Payment", Write("avro:Payment", With(payment, "amount", JsonValue.Create(7))))["amount"]!.GetValue<string>(), Is.EqualTo("7.00"));
        Assert.That(Read("avro:Payment", Write("avro:Payment", With(payment, "refund", null)))["refund"], Is.Null);
    }

    [TestCase("amount", "1.234", "decimal(5,2): expected at most 2 digits after the point")]
    [TestCase("amount", "1234.5", "decimal(5,2): expected at most 5 digits")]
    [TestCase("amount", "12,5", "decimal(5,2): expected a number")]
    [TestCase("id", "not-a-uuid", "uuid: expected a UUID")]
    public void A_value_that_does_not_fit_its_logical_type_is_refused_on_write(string field, string value, string expected)
    {
        var payment = JsonNode.Parse("""{"amount": "1.00", "id": "0b8f3c1e-4a57-4d2b-9d0e-6f1c2a3b4c5d", "day": 1, "at": 1, "ts": 1, "local": 1}""")!;

        Assert.That(() => Write("avro:Payment", With(payment, field, JsonValue.Create(value))),
            Throws.InstanceOf<SerializationException>().With.Message.Contains(expected));
        Assert.That(() => Write("avro:Payment", With(payment, "at", JsonValue.Create(86_400_000))),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("time-millis"));
    }

    private static JsonNode With(JsonNode value, string field, JsonNode? replacement)
    {
        var copy = value.DeepClone();
        copy[field] = replacement;
        return copy;
    }

    [Test]
    public void Jsonschema_validates_what_is_written_and_read()
    {
        var good = JsonNode.Parse("""{"id":"o1","qty":2}""")!;
        Assert.That(Encoding.UTF8.GetString(Write("jsonschema:Order", good)), Is.EqualTo("""{"id":"o1","qty":2}"""));

        var error = Assert.Throws<SerializationException>(() => Read("jsonschema:Order", """{"id":"o1","qty":0}"""u8.ToArray()))!;
        Assert.That(error.Message, Does.StartWith("The value read does not match jsonschema:Order"));
    }

    [Test]
    public void Jsonschema_converts_what_is_written_into_the_schemas_types_when_nothing_is_lost_as_KSML_does()
    {
        // KSML's jsonschema sensor generator writes its long timestamp as str into a "number" field.
        var written = JsonNode.Parse("""{"timestamp":"1796407558180","count":"7","label":12,"on":"true","tags":[{"weight":"2.5"}],"free":"as is"}""")!;
        var original = written.ToJsonString();

        Assert.That(Encoding.UTF8.GetString(Write("jsonschema:Measurement", written)),
            Is.EqualTo("""{"timestamp":1796407558180,"count":7,"label":"12","on":true,"tags":[{"weight":2.5}],"free":"as is"}"""));
        Assert.That(written.ToJsonString(), Is.EqualTo(original), "the record's own value is not changed");
        Assert.That(() => Write("jsonschema:Measurement", JsonNode.Parse("""{"count":"7.5"}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("/count"), "7.5 is no integer: validation refuses it");
    }

    [Test]
    public void Jsonschema_format_uuid_is_checked_as_KSML_2_checks_it_refused_on_write_passed_on_read()
    {
        Assert.That(Encoding.UTF8.GetString(Write("jsonschema:Measurement", JsonNode.Parse("""{"id":"0b8f3c1e-4a57-4d2b-9d0e-6f1c2a3b4c5d"}""")!)), Does.Contain("0b8f3c1e"));
        Assert.That(() => Write("jsonschema:Measurement", JsonNode.Parse("""{"id":"not-a-uuid"}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("/id: Value does not match format \"uuid\""));
        Assert.That(Read("jsonschema:Measurement", """{"id":"not-a-uuid"}"""u8.ToArray())["id"]!.GetValue<string>(), Is.EqualTo("not-a-uuid"),
            "a bad value from another system is warned about, not a stop");
    }

    [Test]
    public void Csv_maps_the_schema_header_to_fields_and_quotes_what_needs_it()
    {
        var person = JsonNode.Parse("""{"name":"Ann","city":"Utrecht, NL","note":"says \"hi\""}""")!;

        var bytes = Write("csv:Person", person);

        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo("Ann,\"Utrecht, NL\",\"says \"\"hi\"\"\""));
        Assert.That(Read("csv:Person", bytes).ToJsonString(), Is.EqualTo(person.ToJsonString()));
        Assert.That(() => Read("csv:Person", "a,b"u8.ToArray()), Throws.InstanceOf<SerializationException>().With.Message.EqualTo("csv:Person has 3 fields, the record has 2."));
    }

    [Test]
    public void Csv_without_a_schema_writes_a_dicts_values_by_field_name_as_ksml_does()
    {
        var bytes = Write("csv", JsonNode.Parse("""{"name":"Ann","city":"Utrecht, NL","age":40}""")!);

        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo("40,\"Utrecht, NL\",Ann"));
        Assert.That(Read("csv", bytes).ToJsonString(), Is.EqualTo("""["40","Utrecht, NL","Ann"]"""));
    }

    [Test]
    public void Xml_maps_elements_to_fields_and_checks_the_xsd()
    {
        var book = JsonNode.Parse("""{"title":"Dune","pages":"412"}""")!;

        var bytes = Write("xml:Book", book);

        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo("<Book><title>Dune</title><pages>412</pages></Book>"));
        Assert.That(Read("xml:Book", bytes).ToJsonString(), Is.EqualTo("""{"title":"Dune","pages":"412"}"""));
        Assert.That(() => Read("xml:Book", "<Book><title>Dune</title><pages>many</pages></Book>"u8.ToArray()),
            Throws.InstanceOf<SerializationException>().With.Message.StartsWith("The XML does not match Book.xsd"));
    }

    private void WriteProtos()
    {
        // KSML's own example schema (examples/sensor_data.proto), and one with every kind of field.
        File.WriteAllText(Path.Combine(_schemas, "sensor_data.proto"), """
            syntax = "proto3";
            package io.axual.ksml.example;
            message sensor_data {
              string name = 1;
              int64 timestamp = 2;
              string value = 3;
              SensorType type = 4;
              string unit = 5;
              optional string color = 6;
              optional string city = 7;
              enum SensorType { UNSPECIFIED = 0; AREA = 1; HUMIDITY = 2; }
            }
            """);
        File.WriteAllText(Path.Combine(_schemas, "Order.proto"), """
            syntax = "proto3";
            package shop;
            import "google/protobuf/timestamp.proto";
            import "sensor_data.proto";
            message Order {
              string id = 1;
              repeated int32 quantities = 2;
              map<string, double> prices = 3;
              repeated Line lines = 4;
              google.protobuf.Timestamp placed = 5;
              oneof payment { string card = 6; int64 voucher = 7; }
              io.axual.ksml.example.sensor_data sensor = 8;
              bytes note = 9;
              message Line { string sku = 1; uint32 count = 2; }
            }
            """);
        File.WriteAllText(Path.Combine(_schemas, "Node.proto"), "syntax = \"proto3\";\nmessage Node { Node next = 1; }\n");
    }

    [Test]
    public void Protobuf_from_a_proto_file_is_the_dict_ksmls_python_sees_and_standard_protobuf_on_the_wire()
    {
        WriteProtos();
        var reading = JsonNode.Parse("""{"name":"s1","timestamp":"1700000000000","value":"12","type":"AREA","unit":"","color":"red"}""")!;

        var bytes = Write("protobuf:sensor_data", reading);

        // name = 1 (length-delimited "s1"), then timestamp = 2 as a varint; the empty unit, a proto3 default, is not written.
        Assert.That(bytes[..5], Is.EqualTo(new byte[] { 0x0A, 2, (byte)'s', (byte)'1', 0x10 }));
        Assert.That(Encoding.UTF8.GetString(bytes), Does.Not.Contain("unit"));
        Assert.That(Read("protobuf:sensor_data", bytes).ToJsonString(),
            Is.EqualTo("""{"name":"s1","timestamp":1700000000000,"value":"12","type":"AREA","unit":"","color":"red","city":null}"""),
            "absent optional fields are None, absent proto3 scalars their defaults, enums their symbols");
    }

    [Test]
    public void Protobuf_messages_with_repeated_map_nested_oneof_imported_and_bytes_fields_round_trip()
    {
        WriteProtos();
        var order = JsonNode.Parse("""
            {"id":"o1","quantities":[1,2,300],"prices":{"apple":0.5,"pear":2.0},"lines":[{"sku":"a","count":2},{"sku":"b","count":0}],
             "placed":{"seconds":1700000000,"nanos":5},"voucher":42,"sensor":{"name":"x","type":"HUMIDITY"},"note":"AQID"}
            """)!;

        var back = Read("protobuf:Order", Write("protobuf:Order", order));

        Assert.That(back.ToJsonString(), Is.EqualTo(
            """{"id":"o1","quantities":[1,2,300],"prices":{"apple":0.5,"pear":2.0},"lines":[{"sku":"a","count":2},{"sku":"b","count":0}],"placed":{"seconds":1700000000,"nanos":5},"card":null,"voucher":42,"sensor":{"name":"x","timestamp":0,"value":"","type":"HUMIDITY","unit":"","color":null,"city":null},"note":"AQID"}"""));
    }

    [Test]
    public void Protobuf_refuses_what_its_schema_cannot_hold_and_bytes_that_are_not_its_message()
    {
        WriteProtos();

        Assert.That(() => Write("protobuf:sensor_data", JsonNode.Parse("""{"name":"s","type":"SOLAR"}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("'SOLAR' is no symbol of protobuf enum io.axual.ksml.example.sensor_data.SensorType"));
        Assert.That(() => Write("protobuf:sensor_data", JsonNode.Parse("""{"name":"s","colour":"red"}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("has no field 'colour'"), "a misspelt field is not silently dropped");
        Assert.That(() => Write("protobuf:sensor_data", JsonNode.Parse("""{"timestamp":"soon"}""")!),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("sensor_data.timestamp"));
        Assert.That(() => Read("protobuf:sensor_data", [0x0A, 0x7F, (byte)'s']),
            Throws.InstanceOf<SerializationException>().With.Message.StartsWith("Not valid protobuf for io.axual.ksml.example.sensor_data"));
        Assert.That(() => Write("protobuf:Missing", new JsonObject()),
            Throws.InstanceOf<SerializationException>().With.Message.Contains("Missing.proto"));
    }

    [Test]
    public void A_protobuf_message_nested_past_the_limit_is_refused_without_exhausting_the_stack()
    {
        WriteProtos();
        // Node { next: Node { next: ... } }, 5 000 levels, past the limit of 100: each level is tag 0x0A and a varint length.
        var inner = new List<byte>();
        for (var i = 0; i < 5_000; i++)
        {
            var length = inner.Count;
            var framed = new List<byte> { 0x0A };
            while (length >= 0x80) { framed.Add((byte)(length | 0x80)); length >>= 7; }
            framed.Add((byte)length);
            framed.AddRange(inner);
            inner = framed;
        }

        Assert.That(() => Read("protobuf:Node", inner.ToArray()), Throws.InstanceOf<Ksml.Runtime.Values.KsmlTypeException>().With.Message.Contains("nests deeper than"));
    }

    [Test]
    public void Protobuf_with_a_registry_frames_as_confluent_with_message_indexes_or_as_apicurio_with_a_ref()
    {
        WriteProtos();
        var reading = JsonNode.Parse("""{"name":"s1","type":"AREA"}""")!;
        byte[] confluent, apicurio;
        JsonNode confluentBack, bareBack, apicurioBack;
        using (var registry = new FakeSchemaRegistry())
        {
            KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions> { ["protobuf"] = new("confluent_protobuf", registry.Url) });
            confluent = Write("protobuf:sensor_data", reading);
            confluentBack = Read("protobuf:sensor_data", confluent);
            bareBack = Read("protobuf", confluent);
        }
        using (var registry = new FakeSchemaRegistry())
        {
            KsmlNotations.Configure(_schemas, new Dictionary<string, NotationOptions> { ["protobuf"] = new("apicurio_protobuf", registry.Url) });
            apicurio = Write("protobuf:sensor_data", reading);
            apicurioBack = Read("protobuf", apicurio);
        }
        var payload = new byte[] { 0x0A, 2, (byte)'s', (byte)'1', 0x20, 1 };

        Assert.That(confluent, Is.EqualTo(new byte[] { 0, 0, 0, 0, 7, 0 }.Concat(payload)), "magic byte, schema id, message index [0] as a single 0, payload");
        Assert.That(apicurio, Is.EqualTo(new byte[] { 0, 0, 0, 0, 7, 13, 0x0A, 11 }.Concat("sensor_data"u8.ToArray()).Concat(payload)),
            "magic byte, schema id, the length-delimited Ref naming the message, payload");
        const string expected = """{"name":"s1","timestamp":0,"value":"","type":"AREA","unit":"","color":null,"city":null}""";
        Assert.That((confluentBack.ToJsonString(), bareBack.ToJsonString(), apicurioBack.ToJsonString()), Is.EqualTo((expected, expected, expected)),
            "a bare protobuf type reads with the schema the registry serves for the record's id");
    }

    [Test]
    public void A_missing_schema_file_is_named()
    {
        Assert.That(() => Write("avro:Missing", new JsonObject()),
            Throws.InstanceOf<SerializationException>().With.Message.EqualTo($"Schema file '{Path.Combine(_schemas, "Missing.avsc")}' for avro:Missing does not exist (ksml.schemaDirectory)."));
    }

    /// <summary>
    /// The two registry calls the serdes make, answered the way Confluent's Schema Registry answers them.
    /// No registry can be installed from the package sources here; the client under test is Confluent's own.
    /// </summary>
    private sealed class FakeSchemaRegistry : IDisposable
    {
        private readonly HttpListener _listener = new();
        private string? _schema;

        public FakeSchemaRegistry()
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
            }
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _ = Task.Run(Serve);
        }

        public string Url { get; }

        public List<string> Subjects { get; } = [];

        public List<string?> Authorizations { get; } = [];

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch { return; }
                var path = context.Request.Url!.AbsolutePath;
                Authorizations.Add(context.Request.Headers["Authorization"]);
                string body;
                if (context.Request.HttpMethod == "POST" && path.StartsWith("/subjects/", StringComparison.Ordinal) && path.EndsWith("/versions", StringComparison.Ordinal))
                {
                    Subjects.Add(path.Split('/')[2]);
                    _schema = JsonNode.Parse(await new StreamReader(context.Request.InputStream).ReadToEndAsync())!["schema"]!.GetValue<string>();
                    body = """{"id":7}""";
                }
                else if (path == "/schemas/ids/7" && _schema is not null)
                    body = new JsonObject { ["schema"] = _schema }.ToJsonString();
                else
                {
                    context.Response.StatusCode = 404;
                    body = """{"error_code":40401,"message":"not found"}""";
                }
                context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}
