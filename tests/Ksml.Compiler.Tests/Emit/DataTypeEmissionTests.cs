using System.Text.Json.Nodes;
using Ksml.Compiler.Tests.Support;
using Ksml.Runtime.Definitions;
using Streamiz.Kafka.Net.State;

namespace Ksml.Compiler.Tests.Emit;

/// <summary>
/// Generated code hands the runtime each type resolved: the C# type it travels in and its notation, schema and
/// window key, so the runtime parses no KSML type at run time.
/// </summary>
public class DataTypeEmissionTests
{
    private const string Yaml = """
        streams:
          readings:
            topic: readings
            keyType: avro:SensorKey
            valueType: avro:SensorData
          per_window:
            topic: per_window
            keyType: avro:windowed(string)
            valueType: union(null, long)
          as_struct:
            topic: as_struct
            keyType: windowed(avro:SensorKey)
            valueType: "[string]"
        stores:
          seen:
            type: keyValue
            keyType: string
            valueType: csv:Row
        functions:
          label:
            type: valueTransformer
            expression: str(value)
            resultType: protobuf:Label
        pipelines:
          p:
            from: readings
            mapValues: label
            to: readings
        """;

    [Test]
    public void Each_type_reaches_the_runtime_resolved()
    {
        var generated = Generated();
        var topics = generated.GetNestedType("Topics")!;
        var readings = (KsmlTopicDefinition)topics.GetField("readings")!.GetValue(null)!;
        var perWindow = (KsmlTopicDefinition)topics.GetField("per_window")!.GetValue(null)!;
        var asStruct = (KsmlTopicDefinition)topics.GetField("as_struct")!.GetValue(null)!;
        var seen = (KsmlStoreDefinition)generated.GetNestedType("Stores")!.GetField("seen")!.GetValue(null)!;
        var label = (KsmlFunctionDefinition)generated.GetNestedType("Functions")!.GetField("label")!.GetValue(null)!;

        Assert.That(Facts(readings.KeyType), Is.EqualTo((typeof(JsonNode), "avro:SensorKey", "avro", "SensorKey")));
        Assert.That(Facts(readings.ValueType), Is.EqualTo((typeof(JsonNode), "avro:SensorData", "avro", "SensorData")));
        Assert.That(Facts(perWindow.KeyType), Is.EqualTo((typeof(Windowed<string>), "avro:windowed(string)", "avro", (string?)null)));
        Assert.That(Facts(perWindow.KeyType.WindowKey!), Is.EqualTo((typeof(string), "string", (string?)null, (string?)null)));
        Assert.That(perWindow.ValueType.ClrType, Is.EqualTo(typeof(long?)), "an optional primitive keeps its wire format");
        Assert.That(Facts(asStruct.KeyType), Is.EqualTo((typeof(Windowed<JsonNode>), "windowed(avro:SensorKey)", (string?)null, (string?)null)));
        Assert.That(Facts(asStruct.KeyType.WindowKey!), Is.EqualTo((typeof(JsonNode), "avro:SensorKey", "avro", "SensorKey")));
        Assert.That(Facts(asStruct.ValueType), Is.EqualTo((typeof(JsonNode), "[string]", (string?)null, (string?)null)));
        Assert.That(Facts(seen.ValueType), Is.EqualTo((typeof(JsonNode), "csv:Row", "csv", "Row")));
        Assert.That(Facts(label.ResultType!), Is.EqualTo((typeof(JsonNode), "protobuf:Label", "protobuf", "Label")));
    }

    private static (Type, string, string?, string?) Facts(KsmlDataType type) => (type.ClrType, type.Text, type.Notation, type.Schema);

    private static Type Generated() => GeneratedCodeCompiler.Load(Support.Ksml.Compile(Yaml));
}
