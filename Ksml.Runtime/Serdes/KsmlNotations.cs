using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using Avro;
using Schema = Avro.Schema;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using Confluent.SchemaRegistry;

using Json.Schema;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net.SerDes;

using Ksml.Runtime.Values;

using Ksml.Runtime.Definitions;

namespace Ksml.Runtime.Serdes;

/// <summary>How a notation is configured: KSML's <c>ksml.notations.&lt;prefix&gt;</c>.</summary>
/// <param name="Type">confluent_avro, apicurio_avro, apicurio_jsonschema, csv, xml, json or binary.</param>
/// <param name="SchemaRegistryUrl">The registry serving schemas by id (Confluent wire format): a Confluent-compatible API, or Apicurio 3's own (<c>/apis/registry/v3</c>); null reads schemas from files.</param>
public sealed record NotationOptions(string Type, string? SchemaRegistryUrl = null)
{
    /// <summary>
    /// The registry's client settings, as KSML passes them: its <c>schemaRegistries.*.config</c> with the
    /// notation's own <c>config</c> over it (basic or bearer authentication, TLS, timeouts).
    /// </summary>
    public IReadOnlyDictionary<string, string> RegistryConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>A registry to use instead of one at <see cref="SchemaRegistryUrl"/> (a test suite's, in memory).</summary>
    public IKsmlSchemaRegistry? Registry { get; init; }

    /// <summary>The registry these options name, if any.</summary>
    internal IKsmlSchemaRegistry? CreateRegistry() => Registry ?? SchemaRegistryUrl switch
    {
        null => null,
        var url when ApicurioSchemaRegistry.Serves(url) => new ApicurioSchemaRegistry(url, RegistryConfig),
        var url => new ConfluentSchemaRegistry(url, RegistryConfig),
    };

    /// <summary>Whether values are framed with a registry's schema id.</summary>
    internal bool HasRegistry => Registry is not null || SchemaRegistryUrl is not null;
}

/// <summary>
/// Serdes for KSML's schema notations (<c>avro:Schema</c>, <c>jsonschema:Schema</c>,
/// <c>csv:Schema</c>, <c>xml:Schema</c>) over the runtime's JSON data model. Schemas come from
/// <see cref="SchemaDirectory"/> (<c>Schema.avsc</c>, <c>.json</c>, <c>.csv</c>, <c>.xsd</c>) or, for
/// avro and jsonschema with a registry, from a Confluent-compatible schema registry using the
/// Confluent wire format (magic byte 0, 4-byte big-endian schema id, payload).
/// </summary>
public static class KsmlNotations
{
    private static readonly ConcurrentDictionary<string, ISerDes<JsonNode>> Cache = new(StringComparer.Ordinal);
    private static IReadOnlyDictionary<string, NotationOptions> _notations = new Dictionary<string, NotationOptions>();

    /// <summary>Where schema files are read from.</summary>
    public static string SchemaDirectory { get; private set; } = Directory.GetCurrentDirectory();

    /// <summary>Sets the schema directory and the configured notations (process-wide, before topologies are built).</summary>
    public static void Configure(string? schemaDirectory, IReadOnlyDictionary<string, NotationOptions> notations)
    {
        SchemaDirectory = schemaDirectory ?? Directory.GetCurrentDirectory();
        _notations = notations;
        Cache.Clear();
    }

    /// <summary>The serde for a notation type such as <c>avro:SensorData</c>; null for plain JSON.</summary>
    public static ISerDes<JsonNode>? For(string notation, string? schema)
    {
        if (notation is "json" or "binary")
            return null;
        return Cache.GetOrAdd(notation + ":" + schema, _ =>
        {
            var options = _notations.GetValueOrDefault(notation) ?? new NotationOptions(notation switch
            {
                "avro" => "confluent_avro",
                "jsonschema" => "apicurio_jsonschema",
                _ => notation,
            });
            return options.Type switch
            {
                "confluent_avro" or "apicurio_avro" => new AvroSerDes(notation, options.HasRegistry && schema is null
                    ? null
                    : () => Schema.Parse(File.ReadAllText(SchemaFile(schema, ".avsc", notation))), options),
                "apicurio_jsonschema" or "confluent_jsonschema" or "jsonschema" => new JsonSchemaSerDes(schema, options),
                "protobuf" or "apicurio_protobuf" or "confluent_protobuf" => new ProtobufSerDes(notation, schema, options),
                "csv" => new CsvSerDes(schema),
                "xml" => new XmlSerDes(schema),
                "json" or "binary" => throw new NotSupportedException("unreachable"),
                var other => throw new NotSupportedException(other == notation
                    ? $"Notation '{notation}' is neither built in nor defined under ksml.notations in the runner config."
                    : $"Notation '{notation}' has type '{other}', which Ksml.NET does not serve."),
            };
        });
    }

    /// <summary>Where the notations report values they pass on although they do not fit their schema (as KSML warns).</summary>
    internal static ILogger Warnings { get; set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>A serde whose notation names a schema, which values it writes were declared with.</summary>
    private interface ISchemaSerDes
    {
        /// <summary>The schema as <c>@type</c>/<c>@schema</c> show it; the schema's loading fails as the serde's does.</summary>
        ValueSchema? Declared { get; }
    }

    /// <summary>
    /// The schema a value declared as <c>notation:Schema</c> carries into Python (<c>@type</c>, <c>@schema</c>), as
    /// KSML's values typed by a function's <c>resultType</c> do: the one the notation's serde writes with. Null for
    /// a notation without a schema of its own, or a schema file that is not there (its serde says so where the
    /// value is written).
    /// </summary>
    public static ValueSchema? DeclaredSchema(string notation, string schema)
    {
        try
        {
            return (For(notation, schema) as ISchemaSerDes)?.Declared;
        }
        catch (Exception ex) when (ex is SerializationException or NotSupportedException or IOException or SchemaParseException or JsonException)
        {
            return null;
        }
    }

    /// <summary>An Avro schema as <c>@type</c>/<c>@schema</c> show it, made once per schema.</summary>
    private static ValueSchema AvroValueSchema(Schema schema) =>
        AvroValueSchemas.GetValue(schema, s => new ValueSchema(s.Name, () => JsonNode.Parse(s.ToString()), s));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Schema, ValueSchema> AvroValueSchemas = new();

    /// <summary>
    /// The serde of <c>avro:windowed(K)</c>: KSML's record of a window (start, end, startTime, endTime) and
    /// its key, the key field being a primitive or the Avro schema <c>K</c> names.
    /// </summary>
    public static ISerDes<JsonNode> WindowedAvro(KsmlDataType key) =>
        Cache.GetOrAdd("avro:windowed(" + key + ")", _ =>
            new AvroSerDes("avro", () => WindowedSchema(key), _notations.GetValueOrDefault("avro") ?? new NotationOptions("confluent_avro")));

    private static Schema WindowedSchema(KsmlDataType key)
    {
        var (keySchema, keyName) = (key, Nullable.GetUnderlyingType(key.ClrType) ?? key.ClrType) switch
        {
            ({ Notation: "avro", Schema: { } name }, _) => (JsonNode.Parse(File.ReadAllText(SchemaFile(name, ".avsc", "avro")))!, name),
            ({ Notation: null }, var clr) when AvroPrimitive(clr) is { } primitive => (JsonValue.Create(primitive.Schema) as JsonNode, primitive.Name),
            _ => throw new SerializationException($"avro:windowed({key}) needs a primitive key or an Avro schema name (avro:windowed(SensorKey))."),
        };
        var record = new JsonObject
        {
            ["type"] = "record",
            ["name"] = "Windowed" + keyName,
            ["namespace"] = "io.axual.ksml.data",
            ["fields"] = new JsonArray(
                new JsonObject { ["name"] = "start", ["type"] = "long" },
                new JsonObject { ["name"] = "end", ["type"] = "long" },
                new JsonObject { ["name"] = "startTime", ["type"] = "string" },
                new JsonObject { ["name"] = "endTime", ["type"] = "string" },
                new JsonObject { ["name"] = "key", ["type"] = keySchema }),
        };
        return Schema.Parse(record.ToJsonString());
    }

    /// <summary>The Avro schema of a primitive window key, and the name KSML gives its window record (<c>WindowedString</c>).</summary>
    private static (string Schema, string Name)? AvroPrimitive(Type clr) => clr switch
    {
        var t when t == typeof(bool) => ("boolean", "Boolean"),
        var t when t == typeof(sbyte) => ("int", "Byte"),
        var t when t == typeof(short) => ("int", "Short"),
        var t when t == typeof(int) => ("int", "Int"),
        var t when t == typeof(long) => ("long", "Long"),
        var t when t == typeof(float) => ("float", "Float"),
        var t when t == typeof(double) => ("double", "Double"),
        var t when t == typeof(string) => ("string", "String"),
        var t when t == typeof(byte[]) => ("bytes", "Bytes"),
        _ => null,
    };

    private static string SchemaFile(string? schema, string extension, string notation) =>
        schema is null
            ? throw new SerializationException($"The {notation} notation needs a schema name ({notation}:Name) unless a schema registry is configured.")
            : Path.Combine(SchemaDirectory, schema + extension) is var path && File.Exists(path)
                ? path
                : throw new SerializationException($"Schema file '{Path.Combine(SchemaDirectory, schema + extension)}' for {notation}:{schema} does not exist (ksml.schemaDirectory).");

    /// <summary>Confluent's framing: magic byte 0, then the schema id, big-endian.</summary>
    private static byte[] Frame(int schemaId, byte[] payload)
    {
        var framed = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), schemaId);
        payload.CopyTo(framed, 5);
        return framed;
    }

    private static (int SchemaId, ReadOnlyMemory<byte> Payload) Unframe(byte[] data)
    {
        if (data.Length < 5 || data[0] != 0)
            throw new SerializationException("The value is not in the schema registry's wire format (magic byte 0 and a schema id).");
        return (BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(1)), data.AsMemory(5));
    }

    private static string Subject(SerializationContext context) =>
        context.Topic + (context.Component == MessageComponentType.Key ? "-key" : "-value");

    /// <summary>
    /// Avro values; <c>schema</c> makes the schema written and read with. Without it (a bare <c>avro</c> or
    /// <c>confluent_avro</c>) each record is read with its registered schema and written, as KSML does, with the
    /// schema the value was read with, else the latest of the topic's subject.
    /// </summary>
    private sealed class AvroSerDes(string notation, Func<Schema>? schema, NotationOptions options) : AbstractSerDes<JsonNode>, ISchemaSerDes
    {
        private readonly Lazy<Schema?> _fileSchema = new(() => schema?.Invoke());
        private readonly Lazy<IKsmlSchemaRegistry?> _registry = new(options.CreateRegistry);
        private readonly ConcurrentDictionary<int, Schema> _byId = new();
        private readonly ConcurrentDictionary<(string Subject, Schema Schema), int> _ids = new();

        public ValueSchema? Declared => _fileSchema.Value is { } declared ? AvroValueSchema(declared) : null;

        public override byte[] Serialize(JsonNode data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var subject = Subject(context);
            var schema = _fileSchema.Value ?? ValueSchemas.Of(data)?.Native as Schema ?? LatestOf(subject)
                ?? throw new SerializationException(_registry.Value is null
                    ? $"Writing {notation} without a schema name needs one: write {notation}:Name."
                    : $"Writing {notation} without a schema name needs a value read with a schema, or a schema registered under subject '{subject}': write {notation}:Name.");
            using var stream = new MemoryStream();
            var plain = AvroLogicalTypes.PlainOf(schema);
            new GenericDatumWriter<object?>(plain).Write(AvroValues.FromJson(data, schema, plain), new BinaryEncoder(stream));
            if (_registry.Value is not { } registry)
                return stream.ToArray();
            // Registered once per subject and schema.
            var id = _ids.GetOrAdd((subject, schema), key => registry.IdFor(key.Subject, key.Schema.ToString(), SchemaType.Avro, options.RegistryConfig));
            return Frame(id, stream.ToArray());
        }

        private Schema? LatestOf(string subject) =>
            _registry.Value?.Latest(subject) is { } latest ? _byId.GetOrAdd(latest.Id, _ => Schema.Parse(latest.Schema)) : null;

        public override JsonNode Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return null!;
            Schema writer;
            ReadOnlyMemory<byte> payload;
            if (_registry.Value is { } registry)
            {
                var (id, body) = Unframe(data);
                writer = _byId.GetOrAdd(id, i => Schema.Parse(registry.Get(i)));
                payload = body;
            }
            else
            {
                writer = _fileSchema.Value!;
                payload = data;
            }
            var reader = _fileSchema.Value ?? writer;
            var bytes = payload.ToArray();
            using var stream = new MemoryStream(bytes);
            try
            {
                AvroDepth.Check(writer, bytes, notation);
                var value = AvroValues.ToJson(new GenericDatumReader<object?>(AvroLogicalTypes.PlainOf(writer), AvroLogicalTypes.PlainOf(reader)).Read(null, new BinaryDecoder(stream)), reader)!;
                return ValueSchemas.Attach(value, AvroValueSchema(reader));
            }
            catch (AvroException ex)
            {
                throw new SerializationException($"Not valid {notation} for schema {reader.Name}: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Protobuf from <c>{Name}.proto</c> in the schema directory. With a registry the payload is framed as
    /// the configured serde frames it: Confluent's magic byte, schema id and message-index path, or
    /// Apicurio's magic byte, 4-byte id and length-delimited <c>Ref</c> naming the message.
    /// </summary>
    private sealed class ProtobufSerDes(string notation, string? schemaName, NotationOptions options) : AbstractSerDes<JsonNode>
    {
        private readonly Lazy<ProtobufSchema?> _schema = new(() => schemaName is null
            ? !options.HasRegistry ? throw new SerializationException($"The {notation} notation needs a message name ({notation}:Name) unless a schema registry is configured.") : null
            : ProtobufSchema.Load(SchemaDirectory, schemaName));
        private readonly Lazy<IKsmlSchemaRegistry?> _registry = new(options.CreateRegistry);
        private readonly ConcurrentDictionary<string, int> _idBySubject = new();
        private readonly ConcurrentDictionary<(int, string), Google.Protobuf.Reflection.MessageDescriptor> _registered = new();
        private bool Confluent => options.Type == "confluent_protobuf";

        public override byte[] Serialize(JsonNode data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var schema = _schema.Value ?? throw new SerializationException($"Writing {notation} without a message name needs one: write {notation}:Name.");
            var payload = ProtobufValues.Write(data, schema.Message);
            if (_registry.Value is not { } registry)
                return payload;
            var id = _idBySubject.GetOrAdd(Subject(context), subject => registry.IdFor(subject, schema.FileText, SchemaType.Protobuf, options.RegistryConfig));
            using var framed = new MemoryStream();
            var header = new Google.Protobuf.CodedOutputStream(framed);
            if (Confluent)
            {
                var path = ProtobufSchema.IndexPath(schema.Message);
                // [0], the first message, is written as a single 0; otherwise the count, then each index (zig-zag varints).
                if (path is [0])
                    header.WriteSInt32(0);
                else
                {
                    header.WriteSInt32(path.Count);
                    foreach (var index in path)
                        header.WriteSInt32(index);
                }
            }
            else
            {
                // Apicurio's Ref { string name = 1; }, length-delimited.
                var name = Google.Protobuf.ByteString.CopyFromUtf8(schema.Message.Name);
                header.WriteLength(Google.Protobuf.CodedOutputStream.ComputeTagSize(1) + Google.Protobuf.CodedOutputStream.ComputeBytesSize(name));
                header.WriteTag(1, Google.Protobuf.WireFormat.WireType.LengthDelimited);
                header.WriteBytes(name);
            }
            header.Flush();
            framed.Write(payload);
            return Frame(id, framed.ToArray());
        }

        public override JsonNode Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return null!;
            if (_registry.Value is not { } registry)
                return ProtobufValues.Read(data, _schema.Value!.Message);
            var (id, body) = Unframe(data);
            try
            {
                var header = new Google.Protobuf.CodedInputStream(body.ToArray());
                List<int>? indexes = null;
                string? messageName = null;
                if (Confluent)
                {
                    var count = header.ReadSInt32();
                    indexes = [];
                    for (var i = 0; i < count; i++)
                        indexes.Add(header.ReadSInt32());
                }
                else
                {
                    var reference = new Google.Protobuf.CodedInputStream(header.ReadBytes().ToByteArray());
                    while (reference.ReadTag() is var tag and not 0)
                        if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) == 1)
                            messageName = reference.ReadString();
                        else
                            reference.SkipLastField();
                }
                var payload = body.Span[(int)header.Position..];
                // The reader's own schema when it names one; else the writer's, as the registry serves it.
                var message = _schema.Value?.Message ?? _registered.GetOrAdd((id, messageName ?? string.Join(",", indexes!)), _ =>
                    ProtobufSchema.FromRegistry(registry.Get(id), indexes, messageName));
                return ProtobufValues.Read(payload, message);
            }
            catch (Google.Protobuf.InvalidProtocolBufferException ex)
            {
                throw new SerializationException($"The value is not in the {options.Type} wire format: {ex.Message}");
            }
        }
    }

    private sealed class JsonSchemaSerDes(string? schemaName, NotationOptions options) : AbstractSerDes<JsonNode>, ISchemaSerDes
    {
        // The schema file is read once: its text is what the registry gets, its parse what validates.
        private readonly Lazy<(string Text, JsonSchema Parsed, JsonNode Tree)?> _schema = new(() => schemaName is null ? null : Load(schemaName));
        private ValueSchema? _valueSchema;

        public ValueSchema? Declared => _schema.Value is { } rules ? _valueSchema ??= new ValueSchema(schemaName!, () => rules.Tree) : null;
        private readonly ConcurrentDictionary<string, int> _idBySubject = new();
        private readonly Lazy<IKsmlSchemaRegistry?> _registry = new(options.CreateRegistry);

        public override byte[] Serialize(JsonNode data, SerializationContext context)
        {
            if (data is null)
                return null!;
            if (_schema.Value is { } rules)
                data = JsonSchemaValues.Conform(data, rules.Tree);
            Validate(data, "written");
            var json = Values.ParsedJson.Utf8(data);
            if (_registry.Value is not { } registry || _schema.Value is not { } schema)
                return json;
            var id = _idBySubject.GetOrAdd(Subject(context), subject => registry.IdFor(subject, schema.Text, SchemaType.Json, options.RegistryConfig));
            return Frame(id, json);
        }

        private static (string Text, JsonSchema Parsed, JsonNode Tree) Load(string name)
        {
            var text = File.ReadAllText(SchemaFile(name, ".json", "jsonschema"));
            return (text, JsonSchema.FromText(text), JsonNode.Parse(text, documentOptions: ValueLimits.Json)!);
        }

        public override JsonNode Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var payload = _registry.Value is null ? data : Unframe(data).Payload.ToArray();
            JsonNode node;
            try
            {
                node = JsonNode.Parse(payload, documentOptions: ValueLimits.Json)!;
            }
            catch (JsonException ex)
            {
                throw new SerializationException("Not valid JSON: " + ex.Message);
            }
            Validate(node, "read");
            return Declared is { } declared ? ValueSchemas.Attach(node, declared) : node;
        }

        private void Validate(JsonNode node, string what)
        {
            if (_schema.Value is not { } schema)
                return;
            var result = schema.Parsed.Evaluate(JsonSerializer.SerializeToElement(node), new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (result.IsValid)
                return;
            var failures = (result.Details ?? []).Where(d => d.Errors is not null)
                .SelectMany(d => d.Errors!.Select(e => (Keyword: e.Key, Text: $"{d.InstanceLocation}: {e.Value}"))).ToList();
            // As KSML 2.0 treats a uuid that is not one: refused on write, and on read only warned about, since a
            // bad value in a topic comes from another system and stopping would not mend it.
            if (what == "read" && failures.Count > 0 && failures.All(f => f.Keyword == "format"))
            {
                Warnings.LogWarning("A value read as jsonschema:{Schema} has a field that does not fit its format; passed on as it is", schemaName);
                return;
            }
            throw new SerializationException($"The value {what} does not match jsonschema:{schemaName}: {string.Join("; ", failures.Take(5).Select(f => f.Text))}");
        }
    }

    private sealed class CsvSerDes(string? schemaName) : AbstractSerDes<JsonNode>
    {
        private readonly Lazy<string[]?> _fields = new(() => schemaName is null ? null
            : ReadLine(File.ReadAllText(SchemaFile(schemaName, ".csv", "csv"))) ?? throw new SerializationException($"csv:{schemaName}: the schema file's first line must name the fields."));

        /// <summary>One RFC 4180 record: fields split on commas, double quotes around fields that hold commas, quotes or line breaks.</summary>
        private static string[]? ReadLine(string text)
        {
            if (text.Length == 0)
                return null;
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                        field.Append(text[++i]);
                    else if (c == '"')
                        quoted = false;
                    else
                        field.Append(c);
                }
                else if (c == '"')
                    quoted = true;
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else if (c is '\r' or '\n')
                    break;
                else
                    field.Append(c);
            }
            fields.Add(field.ToString());
            return fields.ToArray();
        }

        private static string Quote(string value) =>
            value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;

        public override byte[] Serialize(JsonNode data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var values = (_fields.Value, data) switch
            {
                ({ } fields, JsonObject obj) => fields.Select(f => Text(obj[f])),
                // Without a schema KSML writes a struct's values ordered by field name.
                (null, JsonObject obj) => obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Text(p.Value)),
                (_, JsonArray array) => array.Select(Text),
                _ => throw new SerializationException("A csv value must be a dict or a list."),
            };
            return Encoding.UTF8.GetBytes(string.Join(',', values.Select(Quote)));
        }

        public override JsonNode Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var values = ReadLine(Encoding.UTF8.GetString(data)) ?? [];
            if (_fields.Value is not { } fields)
                return new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            if (values.Length != fields.Length)
                throw new SerializationException($"csv:{schemaName} has {fields.Length} fields, the record has {values.Length}.");
            var result = new JsonObject();
            for (var i = 0; i < fields.Length; i++)
                result[fields[i]] = values[i];
            return result;
        }

        private static string Text(JsonNode? node) => node switch
        {
            null => "",
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            _ => node.ToJsonString(),
        };
    }

    private sealed class XmlSerDes(string? schemaName) : AbstractSerDes<JsonNode>
    {
        private readonly Lazy<XmlSchemaSet?> _schemas = new(() =>
        {
            if (schemaName is null || !File.Exists(Path.Combine(SchemaDirectory, schemaName + ".xsd")))
                return null;
            var set = new XmlSchemaSet();
            set.Add(null, Path.Combine(SchemaDirectory, schemaName + ".xsd"));
            return set;
        });

        private string Root => schemaName ?? "root";

        public override byte[] Serialize(JsonNode data, SerializationContext context)
        {
            if (data is null)
                return null!;
            var document = new XDocument(ToElement(Root, data, 0));
            Validate(document);
            return Encoding.UTF8.GetBytes(document.ToString(SaveOptions.DisableFormatting));
        }

        public override JsonNode Deserialize(byte[] data, SerializationContext context)
        {
            if (data is null)
                return null!;
            XDocument document;
            try
            {
                // No DTD: entity expansion (a billion laughs) and external entities have no place in a record.
                using var reader = XmlReader.Create(new MemoryStream(data), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
                document = XDocument.Load(new DepthLimitedReader(reader));
            }
            catch (XmlException ex)
            {
                throw new SerializationException("Not valid XML: " + ex.Message);
            }
            Validate(document);
            return FromElement(document.Root!, 0) ?? new JsonObject();
        }

        /// <summary>Stops reading at the first element past the depth limit, before XLinq builds the rest (which costs quadratic time on deep input).</summary>
        private sealed class DepthLimitedReader(XmlReader inner) : XmlReader
        {
            public override bool Read()
            {
                var read = inner.Read();
                if (read)
                    ValueLimits.Check(inner.Depth, "An XML document");
                return read;
            }

            public override int AttributeCount => inner.AttributeCount;
            public override string BaseURI => inner.BaseURI;
            public override int Depth => inner.Depth;
            public override bool EOF => inner.EOF;
            public override bool IsEmptyElement => inner.IsEmptyElement;
            public override string LocalName => inner.LocalName;
            public override string NamespaceURI => inner.NamespaceURI;
            public override XmlNameTable NameTable => inner.NameTable;
            public override XmlNodeType NodeType => inner.NodeType;
            public override string Prefix => inner.Prefix;
            public override ReadState ReadState => inner.ReadState;
            public override string Value => inner.Value;
            public override string GetAttribute(int i) => inner.GetAttribute(i);
            public override string? GetAttribute(string name) => inner.GetAttribute(name);
            public override string? GetAttribute(string name, string? namespaceURI) => inner.GetAttribute(name, namespaceURI);
            public override string? LookupNamespace(string prefix) => inner.LookupNamespace(prefix);
            public override bool MoveToAttribute(string name) => inner.MoveToAttribute(name);
            public override bool MoveToAttribute(string name, string? ns) => inner.MoveToAttribute(name, ns);
            public override bool MoveToElement() => inner.MoveToElement();
            public override bool MoveToFirstAttribute() => inner.MoveToFirstAttribute();
            public override bool MoveToNextAttribute() => inner.MoveToNextAttribute();
            public override bool ReadAttributeValue() => inner.ReadAttributeValue();
            public override void ResolveEntity() => inner.ResolveEntity();
        }

        private void Validate(XDocument document)
        {
            if (_schemas.Value is not { } schemas)
                return;
            var errors = new List<string>();
            document.Validate(schemas, (_, e) => errors.Add(e.Message));
            if (errors.Count > 0)
                throw new SerializationException($"The XML does not match {schemaName}.xsd: {string.Join("; ", errors.Take(5))}");
        }

        private static XElement ToElement(string name, JsonNode? node, int depth)
        {
            ValueLimits.Check(depth, "An XML value");
            return node switch
            {
                JsonObject obj => new XElement(name, obj.SelectMany(p => p.Value is JsonArray array
                    ? array.Select(item => ToElement(p.Key, item, depth + 1))
                    : [ToElement(p.Key, p.Value, depth + 1)])),
                JsonArray array => new XElement(name, array.Select(item => ToElement("item", item, depth + 1))),
                null => new XElement(name),
                JsonValue value when value.TryGetValue<string>(out var s) => new XElement(name, s),
                _ => new XElement(name, node.ToJsonString()),
            };
        }

        private static JsonNode? FromElement(XElement element, int depth)
        {
            ValueLimits.Check(depth, "An XML document");
            if (!element.HasElements)
                return element.IsEmpty ? null : JsonValue.Create(element.Value);
            var result = new JsonObject();
            foreach (var group in element.Elements().GroupBy(e => e.Name.LocalName))
            {
                var items = group.Select(e => FromElement(e, depth + 1)).ToList();
                result[group.Key] = items.Count == 1 ? items[0] : new JsonArray(items.ToArray());
            }
            return result;
        }
    }
}

/// <summary>Conversions between the runtime's JSON values and Avro's generic values, guided by the schema.</summary>
internal static class AvroValues
{
    /// <summary>
    /// The Avro datum for <paramref name="node"/>, built against <paramref name="plain"/> (the schema without
    /// logical annotations, <see cref="AvroLogicalTypes.PlainOf"/>) while <paramref name="schema"/> says what each value must be.
    /// </summary>
    public static object? FromJson(JsonNode? node, Schema schema, Schema plain)
    {
        switch (schema)
        {
            case UnionSchema union:
            {
                if (node is null && union.Schemas.Any(s => s.Tag == Schema.Type.Null))
                    return null;
                var plainUnion = (UnionSchema)plain;
                for (var i = 0; i < union.Count; i++)
                {
                    if (union.Schemas[i].Tag == Schema.Type.Null)
                        continue;
                    try
                    {
                        return FromJson(node, union.Schemas[i], plainUnion.Schemas[i]);
                    }
                    catch (Exception ex) when (ex is SerializationException or InvalidOperationException or FormatException)
                    {
                    }
                }
                throw new SerializationException($"{Describe(node)} matches no branch of {union}");
            }
            case RecordSchema record:
            {
                var obj = node as JsonObject ?? throw new SerializationException($"Avro record {record.Name} needs a dict, got {Describe(node)}");
                var plainRecord = (RecordSchema)plain;
                var result = new GenericRecord(plainRecord);
                for (var i = 0; i < record.Fields.Count; i++)
                {
                    var field = record.Fields[i];
                    obj.TryGetPropertyValue(field.Name, out var fieldValue);
                    if (fieldValue is null && !obj.ContainsKey(field.Name) && field.DefaultValue is not null)
                        continue;
                    result.Add(field.Name, FromJson(fieldValue, field.Schema, plainRecord.Fields[i].Schema));
                }
                return result;
            }
            case ArraySchema array:
                return (node as JsonArray ?? throw new SerializationException($"Avro array needs a list, got {Describe(node)}")).Select(i => FromJson(i, array.ItemSchema, ((ArraySchema)plain).ItemSchema)).ToArray();
            case MapSchema map:
                return (node as JsonObject ?? throw new SerializationException($"Avro map needs a dict, got {Describe(node)}")).ToDictionary(p => p.Key, p => FromJson(p.Value, map.ValueSchema, ((MapSchema)plain).ValueSchema));
            case EnumSchema enumSchema:
                return new GenericEnum((EnumSchema)plain, node?.GetValue<string>() ?? throw new SerializationException($"Avro enum {enumSchema.Name} needs a symbol"));
            case LogicalSchema logical:
                return AvroLogicalTypes.ToBase(node as JsonValue ?? throw new SerializationException($"Avro {logical.LogicalTypeName} needs a single value, got {Describe(node)}"), logical);
        }
        if (schema.Tag == Schema.Type.Null)
            return node is null ? null : throw new SerializationException($"Avro null, got {Describe(node)}");
        var value = node as JsonValue ?? throw new SerializationException($"Avro {schema.Tag} needs a single value, got {Describe(node)}");
        return schema.Tag switch
        {
            Schema.Type.Boolean => LosslessValues.ToBoolean(value),
            Schema.Type.Int => LosslessValues.ToInt32(value),
            Schema.Type.Long => LosslessValues.ToInt64(value),
            Schema.Type.Float => (float)LosslessValues.ToDouble(value),
            Schema.Type.Double => LosslessValues.ToDouble(value),
            Schema.Type.String => LosslessValues.ToText(value),
            Schema.Type.Bytes => Convert.FromBase64String(value.GetValue<string>()),
            _ => throw new SerializationException($"Avro type {schema.Tag} is not supported"),
        };
    }

    /// <summary>The value Python sees for a datum read with the plain schema; <paramref name="schema"/> (the reader's own) says where a logical type applies.</summary>
    public static JsonNode? ToJson(object? value, Schema? schema) => (value, schema) switch
    {
        (null, _) => null,
        (_, UnionSchema union) => ToJson(value, Branch(value, union)),
        (_, LogicalSchema logical) => AvroLogicalTypes.FromBase(value, logical),
        (GenericRecord record, _) => new JsonObject(record.Schema.Fields.Select(f =>
            KeyValuePair.Create(f.Name, ToJson(record[f.Name], (schema as RecordSchema)?.TryGetField(f.Name, out var own) == true ? own.Schema : null)))),
        (GenericEnum symbol, _) => JsonValue.Create(symbol.Value),
        (IDictionary<string, object?> map, _) => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value, (schema as MapSchema)?.ValueSchema)))),
        (byte[] bytes, _) => JsonValue.Create(Convert.ToBase64String(bytes)),
        (string s, _) => JsonValue.Create(s),
        (System.Collections.IEnumerable items, _) => new JsonArray(items.Cast<object?>().Select(item => ToJson(item, (schema as ArraySchema)?.ItemSchema)).ToArray()),
        (double d, _) => Values.KsmlValues.JsonNumber(d),
        (float f, _) => Values.KsmlValues.JsonNumber(f),
        _ => Values.KsmlValues.ToJsonNode(value),
    };

    /// <summary>The union branch a read datum came from: a record by its name, a primitive (or logical type) by its base type.</summary>
    private static Schema? Branch(object value, UnionSchema union) => union.Schemas.FirstOrDefault(branch => (branch, value) switch
    {
        (RecordSchema record, GenericRecord read) => record.Fullname == read.Schema.Fullname,
        (EnumSchema enumSchema, GenericEnum read) => enumSchema.Fullname == read.Schema.Fullname,
        (LogicalSchema logical, _) => BaseMatches(logical.BaseSchema.Tag, value),
        (PrimitiveSchema primitive, _) => BaseMatches(primitive.Tag, value),
        (ArraySchema, System.Collections.IList) or (MapSchema, System.Collections.IDictionary) => true,
        _ => false,
    });

    private static bool BaseMatches(Schema.Type tag, object value) => (tag, value) switch
    {
        (Schema.Type.Int, int) or (Schema.Type.Long, long) or (Schema.Type.String, string) or (Schema.Type.Bytes, byte[])
            or (Schema.Type.Boolean, bool) or (Schema.Type.Double, double) or (Schema.Type.Float, float) => true,
        _ => false,
    };

    private static string Describe(JsonNode? node) => node?.ToJsonString() ?? "null";
}

/// <summary>
/// KSML's lossless conversions to a schema's primitive field: a number given as text (KSML's sensor-data
/// generator writes <c>"timestamp": str(...)</c> for an Avro long), a whole float as an integer, a number or
/// boolean as text. A value that would lose anything is refused.
/// </summary>
internal static class LosslessValues
{
    public static long ToInt64(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.Number when value.TryGetValue<long>(out var whole) => whole,
        // A JsonValue made from a .NET int answers only to int.
        JsonValueKind.Number when value.TryGetValue<int>(out var small) => small,
        JsonValueKind.Number when value.TryGetValue<decimal>(out var exact) && exact == Math.Floor(exact) && exact is >= long.MinValue and <= long.MaxValue => (long)exact,
        JsonValueKind.Number when value.TryGetValue<double>(out var real) && real == Math.Floor(real) && Math.Abs(real) < 9.2e18 => (long)real,
        JsonValueKind.String when long.TryParse(value.GetValue<string>(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw Refused(value, "long"),
    };

    public static int ToInt32(JsonValue value)
    {
        var whole = value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? TryInt64(value) : null;
        return whole is >= int.MinValue and <= int.MaxValue ? (int)whole.Value : throw Refused(value, "int");
    }

    public static double ToDouble(JsonValue value) => value.GetValueKind() switch
    {
        // A JsonValue made from a .NET number answers only to its own type.
        JsonValueKind.Number => value.TryGetValue<double>(out var real) ? real
            : value.TryGetValue<long>(out var whole) ? whole
            : value.TryGetValue<int>(out var small) ? small
            : value.TryGetValue<decimal>(out var exact) ? (double)exact
            : value.GetValue<float>(),
        JsonValueKind.String when double.TryParse(value.GetValue<string>(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw Refused(value, "double"),
    };

    public static bool ToBoolean(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when bool.TryParse(value.GetValue<string>(), out var parsed) => parsed,
        _ => throw Refused(value, "boolean"),
    };

    public static string ToText(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
        _ => throw Refused(value, "string"),
    };

    private static long? TryInt64(JsonValue value)
    {
        try
        {
            return ToInt64(value);
        }
        catch (SerializationException)
        {
            return null;
        }
    }

    private static SerializationException Refused(JsonValue value, string type) =>
        new($"{value.ToJsonString()} cannot be converted to {type} without loss");
}
