using System.Globalization;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Parsing;
using Ksml.Compiler.Syntax;
using Ksml.Runtime;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Python;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Testing;

/// <summary>
/// Runs KSML test suites: each test gets a fresh TopologyTestDriver over the definition's topology,
/// built by the same runtime a compiled project runs on; produce blocks are serialized with the
/// stream's declared types; assert blocks are Python functions (so failures carry their YAML line)
/// that see <c>records</c> and the listed stores with the API pipeline code has.
/// </summary>
public sealed class KsmlSuiteRunner(IKsmlDefinitionSource definitions, ILoggerFactory? loggers = null)
{
    private readonly ILoggerFactory _loggers = loggers ?? NullLoggerFactory.Instance;

    /// <summary>Parses and runs the suite at <paramref name="suitePath"/>; <paramref name="testId"/> runs only that test.</summary>
    public KsmlSuiteResult Run(string suitePath, string? testId = null)
    {
        var (suite, name, errors) = Parse(suitePath);
        if (suite?.Definition is null || errors.Count > 0)
            return new KsmlSuiteResult(suitePath, name, errors, []);

        var directory = Path.GetDirectoryName(Path.GetFullPath(suitePath))!;
        var lookup = definitions.Find(Path.Combine(directory, suite.Definition.Name));
        if (lookup.Definition is not { } definition)
            return new KsmlSuiteResult(suitePath, name, lookup.Errors.ToList(), []);

        var schemaDirectory = suite.SchemaDirectory is { } schemas ? Path.Combine(directory, schemas) : directory;
        if (suite.ModuleDirectory is { } modules)
            PythonRuntime.AddModuleDirectory(Path.Combine(directory, modules));
        return new KsmlSuiteResult(suitePath, name, [], suite.Tests.Where(t => testId is null || t.Id.Name == testId).Select(test =>
        {
            UseSchemaRegistry(suite, schemaDirectory);
            return RunTest(suite, test, definition);
        }).ToList());
    }

    private static readonly string[] AvroNotations = ["avro", "confluent_avro", "apicurio_avro"];

    /// <summary>
    /// As KSML's test runner does, every Avro notation of a test (avro, confluent_avro, apicurio_avro) shares one
    /// registry in memory, which holds, under each topic's subject, the schema the suite's streams name for it:
    /// a definition that reads a bare <c>confluent_avro</c> gets the records' schemas from there. Each test has its own.
    /// </summary>
    private static void UseSchemaRegistry(TestSuiteSyntax suite, string schemaDirectory)
    {
        var registry = new InMemorySchemaRegistry();
        var avro = new NotationOptions("confluent_avro") { Registry = registry };
        KsmlNotations.Configure(schemaDirectory, AvroNotations.ToDictionary(notation => notation, _ => avro));
        foreach (var stream in suite.Streams)
            foreach (var (type, subject) in new[] { (stream.KeyType.Type, stream.Topic + "-key"), (stream.ValueType.Type, stream.Topic + "-value") })
                if (type?.Resolve() is Compiler.Types.NotationType { Schema: { } name } notation && AvroNotations.Contains(notation.Notation)
                    && Path.Combine(schemaDirectory, name + ".avsc") is var file && File.Exists(file))
                    registry.Register(subject, Avro.Schema.Parse(File.ReadAllText(file)).ToString(), Confluent.SchemaRegistry.SchemaType.Avro);
    }

    /// <summary>The test ids of a suite, in file order, and the located errors that keep it from running.</summary>
    public static (string Name, IReadOnlyList<string> TestIds, IReadOnlyList<string> Errors) Describe(string suitePath)
    {
        var (suite, name, errors) = Parse(suitePath);
        return (name, suite?.Tests.Select(t => t.Id.Name).ToList() ?? [], errors);
    }

    private static (TestSuiteSyntax? Suite, string Name, IReadOnlyList<string> Errors) Parse(string suitePath)
    {
        var fallbackName = Path.GetFileNameWithoutExtension(suitePath);
        string text;
        try { text = File.ReadAllText(suitePath); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, fallbackName, [$"{suitePath}: cannot read the suite: {ex.Message}"]);
        }
        var diagnostics = new List<KsmlDiagnostic>();
        var suite = TestSuiteParser.Parse(suitePath, text, diagnostics);
        return (suite, suite.Name ?? fallbackName, diagnostics.Where(d => d.IsError).Select(d => d.ToString()).ToList());
    }

    private KsmlTestOutcome RunTest(TestSuiteSyntax suite, TestCaseSyntax test, IKsmlDefinition definition)
    {
        // Each test gets its own functions, so Python state (globals a definition's functions share) never leaks between tests.
        var functions = new PythonFunctionFactory(_loggers);
        var description = test.Description ?? test.Id.Name;
        KsmlTestOutcome Fail(string why) => new(test.Id.Name, description, KsmlTestStatus.Fail, why);
        KsmlTestOutcome Error(string why) => new(test.Id.Name, description, KsmlTestStatus.Error, why);
        var streams = suite.Streams.ToDictionary(s => s.Id.Name, StringComparer.Ordinal);

        StreamizLogging.Use(_loggers);
        var config = new StreamConfig<ByteArraySerDes, ByteArraySerDes>
        {
            ApplicationId = "ksml-test-" + test.Id.Name,
            Logger = _loggers,
        };
        var builder = new StreamBuilder();
        var ksml = new KsmlTopologyBuilder(builder, functions) { UnderTestDriver = true };
        try
        {
            KsmlApplication.LoadFunctions(definition, functions);
            definition.Build(ksml);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException) // a suite reports, it never takes the run down
        {
            return Error($"the definition does not build: {Innermost(ex).Message}");
        }
        TopologyTestDriver driver;
        try
        {
            driver = new TopologyTestDriver(builder.Build(), config);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Error($"the topology does not start under the test driver: {Innermost(ex).Message}");
        }
        using var _ = driver;

        // One input per topic: Streamiz's driver refuses a second for the same topic, and a test may produce to it twice.
        var inputs = new Dictionary<string, TestInputTopic<byte[]?, byte[]?>>(StringComparer.Ordinal);
        foreach (var produce in test.Produce)
        {
            var stream = streams[produce.To.Name];
            var where = $"{suite.Path}:{produce.Span.Line}";
            try
            {
                if (!inputs.TryGetValue(stream.Topic, out var input))
                    inputs[stream.Topic] = input = driver.CreateInputTopic<byte[]?, byte[]?>(stream.Topic, new ByteArraySerDes(), new ByteArraySerDes());
                var keys = new Serializer(KsmlDataTypes.Parse(stream.KeyType.Text), stream.Topic, MessageComponentType.Key);
                var values = new Serializer(KsmlDataTypes.Parse(stream.ValueType.Text), stream.Topic, MessageComponentType.Value);
                foreach (var (key, value, timestamp) in Records(suite, test, produce, keys.Type, values.Type, functions))
                {
                    var keyBytes = keys.Serialize(key);
                    var valueBytes = values.Serialize(value);
                    if (timestamp is { } ms)
                        input.PipeInput(keyBytes, valueBytes, DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime, new Headers());
                    else
                        input.PipeInput(keyBytes, valueBytes, new Headers());
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Innermost(ex) is KsmlFunctionException inner
                    ? Error($"{where}: producing to '{produce.To.Name}' failed in {inner.SourcePath}:{inner.Line}: {inner.ErrorType}: {inner.ErrorMessage}")
                    : Error($"{where}: producing to '{produce.To.Name}' failed: {Innermost(ex).Message}");
            }
        }

        var records = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
        var stores = new DriverStores(driver, ksml.StoreQueries);
        for (var i = 0; i < test.Asserts.Count; i++)
        {
            var assertion = test.Asserts[i];
            var arguments = new List<object?>();
            try
            {
                if (assertion.On is { } on)
                {
                    var stream = streams[on.Name];
                    if (!records.TryGetValue(stream.Topic, out var read))
                        records[stream.Topic] = read = ReadOutput(driver, stream);
                    arguments.Add(read);
                }
                var function = functions.Create(new KsmlFunctionDefinition(
                    suite.Name ?? Path.GetFileNameWithoutExtension(suite.Path), $"{test.Id.Name}_assert_{i + 1}", "generic", suite.Path, assertion.Code.Line,
                    assertion.On is null ? [] : ["records"], [], null,
                    new PythonCode(assertion.Code.Text, assertion.Code.Line, assertion.Code.Column), null, null,
                    assertion.Stores.Select(s => s.Name).ToList()));
                function.Invoke(stores, [.. arguments]);
            }
            catch (KsmlFunctionException ex)
            {
                var message = ex.ErrorType == "AssertionError" && ex.ErrorMessage.Length == 0 ? "assertion failed" : ex.ErrorMessage;
                var located = $"{ex.SourcePath}:{ex.Line}: {ex.ErrorType}: {message}";
                return ex.ErrorType == "AssertionError" ? Fail(located) : Error(located);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Error($"{suite.Path}:{assertion.Span.Line}: {Innermost(ex).Message}");
            }
        }
        return new KsmlTestOutcome(test.Id.Name, description, KsmlTestStatus.Pass, null);
    }

    /// <summary>What went wrong under reflection and Streamiz's wrappers: a KSML function's failure if there is one.</summary>
    private static Exception Innermost(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is KsmlFunctionException)
                return e;
        return ex is System.Reflection.TargetInvocationException { InnerException: { } inner } ? Innermost(inner) : ex;
    }

    /// <summary>The (key, value, timestamp) of every record a produce block gives: its messages, or its generator's results.</summary>
    private static IEnumerable<(object? Key, object? Value, long? Timestamp)> Records(TestSuiteSyntax suite, TestCaseSyntax test, TestProduceSyntax produce, Type keyType, Type valueType, PythonFunctionFactory functions)
    {
        foreach (var message in produce.Messages)
            yield return (YamlValues.For(message.Key, keyType), YamlValues.For(message.Value, valueType), message.Timestamp);
        if (produce.Generator is not { } generator)
            yield break;
        static PythonCode? Code(SnippetSyntax? snippet) => snippet is null ? null : new PythonCode(snippet.Text, snippet.Line, snippet.Column);
        var function = functions.Create(new KsmlFunctionDefinition(
            suite.Name ?? Path.GetFileNameWithoutExtension(suite.Path), $"{test.Id.Name}_generator", "generator", suite.Path, generator.Span.Line,
            [], [], Code(generator.GlobalCode), Code(generator.Code), Code(generator.Expression), generator.ResultType is { } resultType ? KsmlDataTypes.Parse(resultType.Text) : null, []));
        for (var i = 0; i < produce.Count; i++)
        {
            var result = function.Invoke(null);
            // A generator returns (key, value), a list of them, or None for nothing this time.
            var pairs = result switch
            {
                null => [],
                object?[] { Length: 2 } pair => [pair],
                IEnumerable<object?> list => list.Select(item => item as object?[] ?? throw new KsmlTypeException($"{suite.Path}:{generator.Span.Line}: the generator returned a list holding {KsmlValues.DescribeValue(item)}; expected (key, value) tuples")).ToList(),
                _ => throw new KsmlTypeException($"{suite.Path}:{generator.Span.Line}: the generator returned {KsmlValues.DescribeValue(result)}; expected a (key, value) tuple, a list of them, or None"),
            };
            foreach (var pair in pairs)
                yield return (pair[0], pair[1], null);
        }
    }

    /// <summary>A stream's key or value side: a suite's value converted to the declared type, then serialized.</summary>
    private sealed class Serializer(KsmlDataType type, string topic, MessageComponentType component)
    {
        private readonly ISerDes _serde = type.Serde();
        private readonly string _what = $"the {component.ToString().ToLowerInvariant()} for topic '{topic}'";

        /// <summary>The C# type the suite's values are read as before they are serialized.</summary>
        public Type Type => type.ClrType;

        public byte[]? Serialize(object? value) => type.Serialize(_serde, value, new SerializationContext(component, topic), _what);
    }

    /// <summary>Everything written to the stream's topic, as <c>{key, value, timestamp}</c> dicts, the shape KSML's runner gives.</summary>
    private static List<object?> ReadOutput(TopologyTestDriver driver, TestStreamSyntax stream)
    {
        var output = driver.CreateOutputTopic<byte[]?, byte[]?>(stream.Topic, TimeSpan.FromSeconds(1), new ByteArraySerDes(), new ByteArraySerDes());
        var keySerde = KsmlDataTypes.Parse(stream.KeyType.Text).Serde();
        var valueSerde = KsmlDataTypes.Parse(stream.ValueType.Text).Serde();
        return output.ReadKeyValueList().Select(record => (object?)new Dictionary<string, object?>
        {
            ["key"] = record.Message.Key is null ? null : keySerde.DeserializeObject(record.Message.Key, new SerializationContext(MessageComponentType.Key, stream.Topic)),
            ["value"] = record.Message.Value is null ? null : valueSerde.DeserializeObject(record.Message.Value, new SerializationContext(MessageComponentType.Value, stream.Topic)),
            ["timestamp"] = record.Message.Timestamp.UnixTimestampMs,
        }).ToList();
    }

    /// <summary>The stores an assert block names: declared ones and those operations create (a count's or a table's <c>store:</c>).</summary>
    private sealed class DriverStores(TopologyTestDriver driver, IReadOnlyDictionary<string, KsmlStoreQuery> stores) : IKsmlStoreProvider
    {
        public IStateStore GetStore(string name)
        {
            if (!stores.TryGetValue(name, out var store))
                throw new UnknownStoreException($"store '{name}' is not in the topology (its stores: {string.Join(", ", stores.Keys.Order(StringComparer.Ordinal))})");
            var (key, value, windowStore) = store.Storage;
            var method = windowStore ? nameof(TopologyTestDriver.GetWindowStore) : nameof(TopologyTestDriver.GetKeyValueStore);
            return typeof(TopologyTestDriver).GetMethod(method)!.MakeGenericMethod(key, value).Invoke(driver, [name]) switch
            {
                IStateStore stateStore => stateStore,
                // A timestamped store comes back as a read-only facade.
                { } readOnly when !windowStore => (IStateStore)Activator.CreateInstance(typeof(ReadOnlyStoreView<,>).MakeGenericType(key, value), name, readOnly)!,
                _ => throw new UnknownStoreException($"store '{name}' is not in the topology"),
            };
        }
    }

    private sealed class UnknownStoreException(string message) : Exception(message);
}
