extern alias ProtoNet;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Ksml.Runtime.Values;
using ParsedProtoFiles = ProtoNet::Google.Protobuf.Reflection.FileDescriptorSet;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// A protobuf message type read from a <c>.proto</c> file: protobuf-net.Reflection parses the text,
/// Google.Protobuf builds the descriptors the codec walks (.NET has no dynamic message type).
/// </summary>
internal sealed record ProtobufSchema(MessageDescriptor Message, string FileText)
{
    /// <summary>
    /// Loads <c>{name}.proto</c> from <paramref name="directory"/> (imports resolve there too, and the
    /// well-known google/protobuf types always): its message <paramref name="name"/>, or its only message.
    /// </summary>
    public static ProtobufSchema Load(string directory, string name)
    {
        var path = Path.Combine(directory, name + ".proto");
        if (!File.Exists(path))
            throw new SerializationException($"Schema file '{path}' for protobuf:{name} does not exist (ksml.schemaDirectory).");
        var file = Parse(File.ReadAllText(path), name + ".proto", directory);
        var messages = file.MessageTypes;
        var message = messages.FirstOrDefault(m => m.Name == name || m.FullName == name)
            ?? (messages.Count == 1 ? messages[0] : throw new SerializationException(
                $"{path} has no message '{name}'; its messages are {string.Join(", ", messages.Select(m => m.Name))}"));
        return new ProtobufSchema(message, File.ReadAllText(path));
    }

    /// <summary>A schema a registry served: the message its wire format names, by index path (Confluent) or by name (Apicurio).</summary>
    public static MessageDescriptor FromRegistry(string text, IReadOnlyList<int>? indexes, string? messageName)
    {
        var file = Parse(text, "registered.proto", null);
        if (messageName is not null)
            return file.MessageTypes.FirstOrDefault(m => m.Name == messageName || m.FullName == messageName)
                ?? throw new SerializationException($"The registered protobuf schema has no message '{messageName}'");
        IList<MessageDescriptor> level = file.MessageTypes;
        MessageDescriptor? message = null;
        foreach (var index in indexes is { Count: > 0 } ? indexes : [0])
        {
            message = index >= 0 && index < level.Count ? level[index] : throw new SerializationException($"The record names message index {index}, which the registered protobuf schema does not have");
            level = message.NestedTypes;
        }
        return message!;
    }

    /// <summary>The index path of <paramref name="message"/> in its file, as Confluent's wire format writes it.</summary>
    public static IReadOnlyList<int> IndexPath(MessageDescriptor message)
    {
        var path = new List<int>();
        for (var m = message; m is not null; m = m.ContainingType)
            path.Insert(0, (m.ContainingType?.NestedTypes ?? m.File.MessageTypes).IndexOf(m));
        return path;
    }

    private static FileDescriptor Parse(string text, string fileName, string? importDirectory)
    {
        var parsed = new ParsedProtoFiles();
        if (importDirectory is not null)
            parsed.AddImportPath(importDirectory);
        parsed.Add(fileName, includeInOutput: true, new StringReader(text));
        parsed.Process();
        var errors = parsed.GetErrors().Where(e => e.IsError).ToList();
        if (errors.Count > 0)
            throw new SerializationException($"{fileName} is not valid protobuf: " + string.Join("; ", errors.Take(5).Select(e => $"{e.File}:{e.LineNumber}:{e.ColumnNumber}: {e.Message}")));
        parsed.ApplyFileDependencyOrder();
        using var bytes = new MemoryStream();
        parsed.Serialize(ParsedProtoFiles.Serializer, bytes, true);
        var files = FileDescriptor.BuildFromByteStrings(FileDescriptorSet.Parser.ParseFrom(bytes.ToArray()).File.Select(f => f.ToByteString()));
        return files.Single(f => f.Name == fileName);
    }
}

/// <summary>
/// Protobuf messages as the dicts KSML's Python sees, both ways, guided by the descriptor: enums by
/// symbol, bytes as base64 text (as for Avro), maps as dicts, absent optional fields as None and absent
/// proto3 scalars as their defaults. Values convert to a field's type only without loss.
/// </summary>
internal static class ProtobufValues
{
    public static byte[] Write(JsonNode? node, MessageDescriptor message)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        WriteMessage(output, node, message, 0);
        output.Flush();
        return buffer.ToArray();
    }

    public static JsonObject Read(ReadOnlySpan<byte> payload, MessageDescriptor message)
    {
        try
        {
            return ReadMessage(payload.ToArray(), message, 0);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new SerializationException($"Not valid protobuf for {message.FullName}: {ex.Message}");
        }
    }

    private static void WriteMessage(CodedOutputStream output, JsonNode? node, MessageDescriptor message, int depth)
    {
        ValueLimits.Check(depth, "A protobuf message");
        var fields = node as JsonObject ?? throw new SerializationException($"protobuf message {message.FullName} needs a dict, got {Describe(node)}");
        foreach (var name in fields.Select(p => p.Key))
            if (message.FindFieldByName(name) is null && name is not ("@type" or "@schema"))
                throw new SerializationException($"protobuf message {message.FullName} has no field '{name}'");
        foreach (var field in message.Fields.InFieldNumberOrder())
        {
            if (!fields.TryGetPropertyValue(field.Name, out var value) || value is null)
                continue;
            if (field.IsMap)
            {
                var entries = value as JsonObject ?? throw new SerializationException($"protobuf map {field.FullName} needs a dict, got {Describe(value)}");
                var keyField = field.MessageType.FindFieldByNumber(1);
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var (key, entryValue) in entries)
                {
                    using var entry = new MemoryStream();
                    var entryOutput = new CodedOutputStream(entry);
                    WriteField(entryOutput, keyField, JsonValue.Create(key), depth + 1);
                    if (entryValue is not null)
                        WriteField(entryOutput, valueField, entryValue, depth + 1);
                    entryOutput.Flush();
                    output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
                }
            }
            else if (field.IsRepeated)
            {
                var items = value as JsonArray ?? throw new SerializationException($"protobuf repeated field {field.FullName} needs a list, got {Describe(value)}");
                if (field.IsPacked && IsPackable(field.FieldType))
                {
                    if (items.Count == 0)
                        continue;
                    using var packed = new MemoryStream();
                    var packedOutput = new CodedOutputStream(packed);
                    foreach (var item in items)
                        WriteScalar(packedOutput, field, item as JsonValue ?? throw Mismatch(field, item));
                    packedOutput.Flush();
                    output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(packed.ToArray()));
                }
                else
                    foreach (var item in items)
                        WriteField(output, field, item ?? throw Mismatch(field, item), depth + 1);
            }
            else if (field.HasPresence || !IsDefault(field, value))
                WriteField(output, field, value, depth + 1);
        }
    }

    private static void WriteField(CodedOutputStream output, FieldDescriptor field, JsonNode value, int depth)
    {
        if (field.FieldType == FieldType.Message)
        {
            using var nested = new MemoryStream();
            var nestedOutput = new CodedOutputStream(nested);
            WriteMessage(nestedOutput, value, field.MessageType, depth);
            nestedOutput.Flush();
            output.WriteTag(field.FieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(nested.ToArray()));
            return;
        }
        var scalar = value as JsonValue ?? throw Mismatch(field, value);
        output.WriteTag(field.FieldNumber, WireTypeOf(field.FieldType));
        WriteScalar(output, field, scalar);
    }

    private static void WriteScalar(CodedOutputStream output, FieldDescriptor field, JsonValue value)
    {
        try
        {
            switch (field.FieldType)
            {
                case FieldType.Double: output.WriteDouble(LosslessValues.ToDouble(value)); break;
                case FieldType.Float: output.WriteFloat((float)LosslessValues.ToDouble(value)); break;
                case FieldType.Int64: output.WriteInt64(LosslessValues.ToInt64(value)); break;
                case FieldType.SInt64: output.WriteSInt64(LosslessValues.ToInt64(value)); break;
                case FieldType.SFixed64: output.WriteSFixed64(LosslessValues.ToInt64(value)); break;
                case FieldType.UInt64: output.WriteUInt64(checked((ulong)LosslessValues.ToInt64(value))); break;
                case FieldType.Fixed64: output.WriteFixed64(checked((ulong)LosslessValues.ToInt64(value))); break;
                case FieldType.Int32: output.WriteInt32(LosslessValues.ToInt32(value)); break;
                case FieldType.SInt32: output.WriteSInt32(LosslessValues.ToInt32(value)); break;
                case FieldType.SFixed32: output.WriteSFixed32(LosslessValues.ToInt32(value)); break;
                case FieldType.UInt32: output.WriteUInt32(checked((uint)LosslessValues.ToInt64(value))); break;
                case FieldType.Fixed32: output.WriteFixed32(checked((uint)LosslessValues.ToInt64(value))); break;
                case FieldType.Bool: output.WriteBool(LosslessValues.ToBoolean(value)); break;
                case FieldType.String: output.WriteString(LosslessValues.ToText(value)); break;
                case FieldType.Bytes: output.WriteBytes(ByteString.FromBase64(value.GetValue<string>())); break;
                case FieldType.Enum: output.WriteEnum(EnumNumber(field, value)); break;
                default: throw new SerializationException($"protobuf field {field.FullName} of type {field.FieldType} is not supported");
            }
        }
        catch (Exception ex) when (ex is OverflowException or FormatException or InvalidOperationException)
        {
            throw Mismatch(field, value);
        }
        catch (SerializationException ex)
        {
            throw new SerializationException($"protobuf field {field.FullName}: {ex.Message}");
        }
    }

    private static int EnumNumber(FieldDescriptor field, JsonValue value)
    {
        if (value.GetValueKind() == JsonValueKind.String)
            return field.EnumType.FindValueByName(value.GetValue<string>())?.Number
                ?? throw new SerializationException($"'{value.GetValue<string>()}' is no symbol of protobuf enum {field.EnumType.FullName}; its symbols are {string.Join(", ", field.EnumType.Values.Select(v => v.Name))}");
        return LosslessValues.ToInt32(value);
    }

    private static bool IsDefault(FieldDescriptor field, JsonNode value) => value is JsonValue scalar && field.FieldType switch
    {
        FieldType.String => scalar.GetValueKind() == JsonValueKind.String && scalar.GetValue<string>().Length == 0,
        FieldType.Bool => scalar.GetValueKind() == JsonValueKind.False,
        FieldType.Bytes => scalar.GetValueKind() == JsonValueKind.String && scalar.GetValue<string>().Length == 0,
        FieldType.Enum => scalar.GetValueKind() == JsonValueKind.String ? field.EnumType.FindValueByName(scalar.GetValue<string>())?.Number == 0 : IsZero(scalar),
        FieldType.Message => false,
        _ => IsZero(scalar),
    };

    private static bool IsZero(JsonValue value) => value.GetValueKind() == JsonValueKind.Number && value.GetValue<double>() == 0 && !double.IsNegative(value.GetValue<double>());

    private static bool IsPackable(FieldType type) => type is not (FieldType.String or FieldType.Bytes or FieldType.Message or FieldType.Group);

    private static WireFormat.WireType WireTypeOf(FieldType type) => type switch
    {
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireFormat.WireType.Fixed64,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireFormat.WireType.Fixed32,
        FieldType.String or FieldType.Bytes or FieldType.Message => WireFormat.WireType.LengthDelimited,
        _ => WireFormat.WireType.Varint,
    };

    private static JsonObject ReadMessage(byte[] payload, MessageDescriptor message, int depth)
    {
        ValueLimits.Check(depth, "A protobuf message");
        var result = new JsonObject();
        foreach (var field in message.Fields.InFieldNumberOrder())
            result[field.Name] = field.IsMap ? new JsonObject() : field.IsRepeated ? new JsonArray() : field.HasPresence ? null : DefaultOf(field);
        var input = new CodedInputStream(payload);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = message.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
            if (field is null || field.FieldType == FieldType.Group)
            {
                input.SkipLastField();
                continue;
            }
            if (field.IsMap)
            {
                var entry = ReadMessage(input.ReadBytes().ToByteArray(), field.MessageType, depth + 1);
                var key = entry[field.MessageType.FindFieldByNumber(1).Name] is JsonValue k ? LosslessValues.ToText(k) : "";
                result[field.Name]![key] = entry[field.MessageType.FindFieldByNumber(2).Name]?.DeepClone();
            }
            else if (field.IsRepeated)
            {
                var items = result[field.Name]!.AsArray();
                if (IsPackable(field.FieldType) && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                {
                    var packed = new CodedInputStream(input.ReadBytes().ToByteArray());
                    while (!packed.IsAtEnd)
                        items.Add(ReadValue(packed, field, depth));
                }
                else
                    items.Add(ReadValue(input, field, depth));
            }
            else
            {
                // A oneof holds one member: the last one read.
                if (field.RealContainingOneof is { } oneof)
                    foreach (var member in oneof.Fields)
                        result[member.Name] = null;
                result[field.Name] = ReadValue(input, field, depth);
            }
        }
        return result;
    }

    private static JsonNode? ReadValue(CodedInputStream input, FieldDescriptor field, int depth) => field.FieldType switch
    {
        FieldType.Double => KsmlValues.JsonNumber(input.ReadDouble()),
        FieldType.Float => KsmlValues.JsonNumber(input.ReadFloat()),
        FieldType.Int64 => JsonValue.Create(input.ReadInt64()),
        FieldType.SInt64 => JsonValue.Create(input.ReadSInt64()),
        FieldType.SFixed64 => JsonValue.Create(input.ReadSFixed64()),
        FieldType.UInt64 => JsonValue.Create(input.ReadUInt64()),
        FieldType.Fixed64 => JsonValue.Create(input.ReadFixed64()),
        FieldType.Int32 => JsonValue.Create(input.ReadInt32()),
        FieldType.SInt32 => JsonValue.Create(input.ReadSInt32()),
        FieldType.SFixed32 => JsonValue.Create(input.ReadSFixed32()),
        FieldType.UInt32 => JsonValue.Create(input.ReadUInt32()),
        FieldType.Fixed32 => JsonValue.Create(input.ReadFixed32()),
        FieldType.Bool => JsonValue.Create(input.ReadBool()),
        FieldType.String => JsonValue.Create(input.ReadString()),
        FieldType.Bytes => JsonValue.Create(input.ReadBytes().ToBase64()),
        FieldType.Enum => EnumValue(field, input.ReadEnum()),
        FieldType.Message => ReadMessage(input.ReadBytes().ToByteArray(), field.MessageType, depth + 1),
        _ => throw new SerializationException($"protobuf field {field.FullName} of type {field.FieldType} is not supported"),
    };

    // An enum number the schema does not name (a newer writer's) stays a number rather than failing the record.
    private static JsonValue EnumValue(FieldDescriptor field, int number) =>
        field.EnumType.FindValueByNumber(number) is { } symbol ? JsonValue.Create(symbol.Name) : JsonValue.Create(number);

    private static JsonNode? DefaultOf(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String or FieldType.Bytes => JsonValue.Create(""),
        FieldType.Bool => JsonValue.Create(false),
        FieldType.Enum => EnumValue(field, 0),
        FieldType.Double or FieldType.Float => KsmlValues.JsonNumber(0),
        FieldType.Message => null,
        _ => JsonValue.Create(0),
    };

    private static SerializationException Mismatch(FieldDescriptor field, JsonNode? value) =>
        new($"protobuf field {field.FullName} ({field.FieldType.ToString().ToLower(CultureInfo.InvariantCulture)}) cannot hold {Describe(value)}");

    private static string Describe(JsonNode? node) => node?.ToJsonString() ?? "null";
}
