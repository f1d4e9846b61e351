using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Syntax;
using Ksml.Yaml;

namespace Ksml.Compiler.Parsing;

/// <summary>
/// Reads a KSML test suite with the same located diagnostics as a definition: unknown and duplicate
/// keys, missing fields, wrong kinds of value, ids that are not identifiers, and <c>to:</c>/<c>on:</c>
/// naming a stream the suite does not declare.
/// </summary>
public sealed class TestSuiteParser
{
    private static readonly string[] RootKeys = { "name", "definition", "schemaDirectory", "moduleDirectory", "streams", "tests" };
    private static readonly string[] StreamKeys = { "topic", "keyType", "valueType" };
    private static readonly string[] TestKeys = { "description", "produce", "assert" };
    private static readonly string[] ProduceKeys = { "to", "messages", "generator", "count" };
    private static readonly string[] MessageKeys = { "key", "value", "timestamp" };
    private static readonly string[] GeneratorKeys = { "type", "name", "globalCode", "code", "expression", "resultType" };
    private static readonly string[] AssertKeys = { "on", "stores", "code" };
    private static readonly Regex Identifier = new(@"^[a-zA-Z]\w*$");

    private readonly ParseContext _context;

    private TestSuiteParser(string path, List<KsmlDiagnostic> diagnostics) => _context = new ParseContext(path, diagnostics);

    /// <summary>True when the YAML text is shaped like a suite (top-level <c>definition</c> and <c>tests</c>), to tell suites from definitions in a folder.</summary>
    public static bool LooksLikeSuite(string text) =>
        Regex.IsMatch(text, @"^definition\s*:", RegexOptions.Multiline) && Regex.IsMatch(text, @"^tests\s*:", RegexOptions.Multiline);

    public static TestSuiteSyntax Parse(string path, string text, List<KsmlDiagnostic> diagnostics)
    {
        var parser = new TestSuiteParser(path, diagnostics);
        var root = KsmlYaml.Read(path, text, diagnostics);
        if (root is YamlMapping mapping)
            return parser.ParseRoot(mapping);
        if (root is null or YamlScalar { IsNull: true })
        {
            // An empty suite would otherwise pass with no tests run.
            parser._context.Report(DiagnosticDescriptors.MissingRequiredField, root?.Span ?? SourceSpan.None, "the test suite", "definition");
            parser._context.Report(DiagnosticDescriptors.MissingRequiredField, root?.Span ?? SourceSpan.None, "the test suite", "tests");
        }
        else
            parser._context.Report(DiagnosticDescriptors.WrongValueKind, root.Span, "the test suite", "a mapping with 'definition' and 'tests'", root.KindDescription);
        return new TestSuiteSyntax(path, null, null, null, null, new List<TestStreamSyntax>(), new List<TestCaseSyntax>());
    }

    private TestSuiteSyntax ParseRoot(YamlMapping root)
    {
        var reader = new MappingReader(_context, root, "the test suite", RootKeys);
        var name = reader.Scalar("name")?.Value;
        var definition = reader.Name("definition", required: true);
        var schemaDirectory = reader.Scalar("schemaDirectory")?.Value;
        var moduleDirectory = reader.Scalar("moduleDirectory")?.Value;
        var streams = new List<TestStreamSyntax>();
        if (reader.MappingField("streams") is { } streamMapping)
            foreach (var entry in Unique(streamMapping, "'streams'"))
                if (Id(entry.Key, "stream id") && entry.Value is YamlMapping stream)
                {
                    var parsed = ParseStream(entry.Key, stream);
                    // A suite's stream names what a test produces to and reads back: one topic, one stream.
                    if (streams.FirstOrDefault(s => s.Topic == parsed.Topic && parsed.Topic.Length > 0) is { } other)
                        _context.Report(DiagnosticDescriptors.InvalidValue, stream.Span, parsed.Topic, "topic for stream '" + entry.Key.Value + "'",
                            "a topic no other stream of the suite has; '" + other.Id.Name + "' already reads and writes it");
                    else
                        streams.Add(parsed);
                }
                else if (entry.Value is not YamlMapping)
                    _context.Report(DiagnosticDescriptors.WrongValueKind, entry.Value.Span, entry.Key.Value, "a mapping with 'topic', 'keyType' and 'valueType'", entry.Value.KindDescription);
        var tests = new List<TestCaseSyntax>();
        if (reader.MappingField("tests", required: true) is { } testMapping)
        {
            if (testMapping.Entries.Count == 0)
                _context.Report(DiagnosticDescriptors.MissingRequiredField, testMapping.Span, "'tests'", "at least one test");
            var declared = streams.Select(s => s.Id.Name).ToList();
            foreach (var entry in Unique(testMapping, "'tests'"))
            {
                if (!Id(entry.Key, "test id"))
                    continue;
                if (entry.Value is YamlMapping test)
                    tests.Add(ParseTest(entry.Key, test, declared));
                else
                    _context.Report(DiagnosticDescriptors.WrongValueKind, entry.Value.Span, entry.Key.Value, "a mapping with 'produce' and 'assert'", entry.Value.KindDescription);
            }
        }
        return new TestSuiteSyntax(_context.Path, name, definition, schemaDirectory, moduleDirectory, streams, tests);
    }

    private IEnumerable<YamlEntry> Unique(YamlMapping mapping, string description)
    {
        var seen = new HashSet<string>();
        foreach (var entry in mapping.Entries)
            if (seen.Add(entry.Key.Value))
                yield return entry;
            else
                _context.Report(DiagnosticDescriptors.DuplicateKey, entry.Key.Span, entry.Key.Value, description);
    }

    private bool Id(YamlScalar key, string what)
    {
        if (Identifier.IsMatch(key.Value))
            return true;
        _context.Report(DiagnosticDescriptors.InvalidValue, key.Span, key.Value, what, "a letter followed by letters, digits or '_'");
        return false;
    }

    private TestStreamSyntax ParseStream(YamlScalar id, YamlMapping stream)
    {
        var reader = new MappingReader(_context, stream, "stream '" + id.Value + "'", StreamKeys);
        var topic = reader.Scalar("topic", required: true)?.Value ?? "";
        var keyType = reader.Type("keyType") ?? new TypeSyntax("string", Types.TypeParser.TryParse("string", out _), id.Span);
        var valueType = reader.Type("valueType") ?? new TypeSyntax("string", Types.TypeParser.TryParse("string", out _), id.Span);
        return new TestStreamSyntax(new NameSyntax(id.Value, id.Span), topic, keyType, valueType, stream.Span);
    }

    private TestCaseSyntax ParseTest(YamlScalar id, YamlMapping test, IReadOnlyList<string> streams)
    {
        var description = "test '" + id.Value + "'";
        var reader = new MappingReader(_context, test, description, TestKeys);
        var produce = new List<TestProduceSyntax>();
        if (reader.Sequence("produce", required: true) is { } produceList)
            foreach (var item in produceList.Items)
                if (Mapping(item, "a produce block") is { } block)
                    produce.Add(ParseProduce(block, streams));
        var asserts = new List<TestAssertSyntax>();
        if (reader.Sequence("assert", required: true) is { } assertList)
            foreach (var item in assertList.Items)
                if (Mapping(item, "an assert block") is { } block && ParseAssert(block, streams) is { } assertion)
                    asserts.Add(assertion);
        return new TestCaseSyntax(new NameSyntax(id.Value, id.Span), reader.Scalar("description")?.Value, produce, asserts, test.Span);
    }

    private YamlMapping? Mapping(YamlNode node, string expected)
    {
        if (node is YamlMapping mapping)
            return mapping;
        _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, "list item", expected, node.KindDescription);
        return null;
    }

    private NameSyntax? Stream(MappingReader reader, string key, IReadOnlyList<string> streams, bool required)
    {
        var name = reader.Name(key, required);
        if (name is not null && !streams.Contains(name.Name))
            _context.Report(DiagnosticDescriptors.UndefinedSuiteStream, name.Span, name.Name, NameSuggester.Hint(name.Name, streams));
        return name;
    }

    private TestProduceSyntax ParseProduce(YamlMapping block, IReadOnlyList<string> streams)
    {
        var reader = new MappingReader(_context, block, "a produce block", ProduceKeys);
        var to = Stream(reader, "to", streams, required: true) ?? new NameSyntax("", block.Span);
        var messages = new List<TestMessageSyntax>();
        if (reader.Sequence("messages") is { } list)
            foreach (var item in list.Items)
                if (Mapping(item, "a message with 'key' and 'value'") is { } message)
                {
                    var fields = new MappingReader(_context, message, "a message", MessageKeys);
                    var key = fields.Node("key", required: true);
                    var value = fields.Node("value", required: true);
                    if (key is not null && value is not null)
                        messages.Add(new TestMessageSyntax(key, value, fields.Integer("timestamp"), message.Span));
                }
        TestGeneratorSyntax? generator = null;
        if (reader.MappingField("generator") is { } function)
        {
            var fields = new MappingReader(_context, function, "the generator", GeneratorKeys);
            if (fields.Name("name") is { } generatorName && !DefinitionParser.IsIdentifier(generatorName.Name))
                _context.Report(DiagnosticDescriptors.InvalidPythonIdentifier, generatorName.Span, "the generator's name", generatorName.Name);
            if (fields.Scalar("type") is { Value: not "generator" } type)
                _context.Report(DiagnosticDescriptors.InvalidValue, type.Span, type.Value, "function type for a test generator", "generator");
            var code = fields.Snippet("code");
            var expression = fields.Snippet("expression");
            if (code is null && expression is null)
                _context.Report(DiagnosticDescriptors.FunctionWithoutBody, function.Span, "generator", "generator");
            generator = new TestGeneratorSyntax(fields.Snippet("globalCode"), code, expression, fields.Type("resultType"), function.Span);
        }
        if (reader.Has("messages") && reader.Has("generator"))
            _context.Report(DiagnosticDescriptors.ConflictingFields, reader.Entry("generator")!.Key.Span, "messages", "generator", "a produce block");
        else if (!reader.Has("messages") && !reader.Has("generator"))
            _context.Report(DiagnosticDescriptors.MissingRequiredField, block.Span, "the produce block", "messages' or 'generator");
        var count = reader.Integer("count", 0, int.MaxValue) ?? 1;
        if (reader.Has("count") && !reader.Has("generator"))
            _context.Report(DiagnosticDescriptors.InvalidValue, reader.Entry("count")!.Key.Span, "count", "field here", "'count' only with 'generator'");
        return new TestProduceSyntax(to, messages, generator, count, block.Span);
    }

    private TestAssertSyntax? ParseAssert(YamlMapping block, IReadOnlyList<string> streams)
    {
        var reader = new MappingReader(_context, block, "an assert block", AssertKeys);
        var on = Stream(reader, "on", streams, required: false);
        var stores = new List<NameSyntax>();
        if (reader.Sequence("stores") is { } list)
            foreach (var item in list.Items)
                if (item is YamlScalar { IsNull: false } store)
                    stores.Add(new NameSyntax(store.Value, store.Span));
                else
                    _context.Report(DiagnosticDescriptors.WrongValueKind, item.Span, "stores", "store names", item.KindDescription);
        if (!reader.Has("on") && stores.Count == 0)
            _context.Report(DiagnosticDescriptors.MissingRequiredField, block.Span, "the assert block", reader.Has("stores") ? "on' or a non-empty 'stores" : "on' or 'stores");
        var code = reader.Snippet("code");
        if (code is null)
        {
            if (!reader.Has("code"))
                reader.Node("code", required: true);
            return null;
        }
        return new TestAssertSyntax(on, stores, code, block.Span);
    }
}
