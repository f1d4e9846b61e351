using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Parsing;

/// <summary>
/// Reads the fields of one YAML mapping against the keys it may hold: reports unknown keys (with a
/// suggestion), duplicate keys, missing required fields and values of the wrong kind, each at its span.
/// </summary>
internal sealed class MappingReader
{
    private readonly ParseContext _context;
    private readonly Dictionary<string, YamlEntry> _entries = new(StringComparer.Ordinal);

    public MappingReader(ParseContext context, YamlMapping mapping, string description, IEnumerable<string> knownKeys, bool reportUnknown = true)
    {
        _context = context;
        Mapping = mapping;
        Description = description;
        var known = new HashSet<string>(knownKeys, StringComparer.Ordinal);
        foreach (var entry in mapping.Entries)
        {
            var key = entry.Key.Value;
            if (_entries.ContainsKey(key))
            {
                context.Report(DiagnosticDescriptors.DuplicateKey, entry.Key.Span, key, description);
                continue;
            }
            _entries[key] = entry;
            if (reportUnknown && !known.Contains(key))
                context.Report(DiagnosticDescriptors.UnknownKey, entry.Key.Span, key, description, NameSuggester.Hint(key, known));
        }
    }

    public YamlMapping Mapping { get; }
    public string Description { get; }

    public bool Has(string key) => _entries.ContainsKey(key);

    public YamlEntry? Entry(string key) => _entries.TryGetValue(key, out var entry) ? entry : null;

    public YamlNode? Node(string key, bool required = false)
    {
        if (_entries.TryGetValue(key, out var entry))
            return entry.Value;
        if (required)
            _context.Report(DiagnosticDescriptors.MissingRequiredField, Mapping.Span.Line == 0 ? SourceSpan.None : HeaderSpan, Description, key);
        return null;
    }

    /// <summary>Where to report a missing field: the first line of the mapping.</summary>
    private SourceSpan HeaderSpan => Mapping.Entries.Count > 0 ? Mapping.Entries[0].Key.Span : Mapping.Span;

    /// <summary>A scalar field; a mapping or list there is reported as the wrong kind.</summary>
    public YamlScalar? Scalar(string key, bool required = false, string expected = "a text value")
    {
        var node = Node(key, required);
        if (node is null)
            return null;
        if (node is YamlScalar scalar)
        {
            if (scalar.IsNull && required)
            {
                _context.Report(DiagnosticDescriptors.WrongValueKind, scalar.Span, key, expected, "empty");
                return null;
            }
            return scalar.IsNull ? null : scalar;
        }
        _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, expected, node.KindDescription);
        return null;
    }

    public NameSyntax? Name(string key, bool required = false)
    {
        var scalar = Scalar(key, required);
        return scalar is null ? null : new NameSyntax(scalar.Value, scalar.Span);
    }

    public TypeSyntax? Type(string key, bool required = false)
    {
        var scalar = Scalar(key, required, "a type such as 'string' or 'json'");
        return scalar is null ? null : TypeOf(_context, scalar);
    }

    public static TypeSyntax TypeOf(ParseContext context, YamlScalar scalar)
    {
        var type = TypeParser.TryParse(scalar.Value, out var error, out var configuredNotations);
        if (type is null)
            context.Report(DiagnosticDescriptors.InvalidType, scalar.Span, scalar.Value, error);
        else
            foreach (var notation in configuredNotations.Distinct())
                context.Report(DiagnosticDescriptors.ConfiguredNotation, scalar.Span, notation, TypeParser.Suggestion(notation), string.Join(", ", TypeParser.KnownNotations));
        return new TypeSyntax(scalar.Value, type, scalar.Span);
    }

    public DurationSyntax? Duration(string key, bool required = false)
    {
        var scalar = Scalar(key, required, "a duration such as '5m' or '500ms'");
        return scalar is null ? null : DurationOf(_context, scalar);
    }

    public static DurationSyntax? DurationOf(ParseContext context, YamlScalar scalar)
    {
        if (DurationParser.TryParse(scalar.Value, out var ms))
            return new DurationSyntax(scalar.Value, ms, scalar.Span);
        context.Report(DiagnosticDescriptors.InvalidValue, scalar.Span, scalar.Value, "duration",
            "a whole number with an optional unit ms, s, m, h, d or w (no unit means milliseconds)");
        return null;
    }

    public bool Boolean(string key)
    {
        var scalar = Scalar(key, false, "true or false");
        if (scalar is null)
            return false;
        switch (scalar.Value)
        {
            case "true": case "True": case "TRUE": return true;
            case "false": case "False": case "FALSE": return false;
            default:
                _context.Report(DiagnosticDescriptors.InvalidValue, scalar.Span, scalar.Value, "boolean", "true or false");
                return false;
        }
    }

    public long? Integer(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        var scalar = Scalar(key, false, "a whole number");
        if (scalar is null)
            return null;
        if (long.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        var range = min == long.MinValue ? "a whole number" : $"a whole number from {min} to {max}";
        _context.Report(DiagnosticDescriptors.InvalidValue, scalar.Span, scalar.Value, "number for '" + key + "'", range);
        return null;
    }

    public NameSyntax? Choice(string key, IReadOnlyList<string> choices, bool required = false)
    {
        var name = Name(key, required);
        if (name is null || choices.Contains(name.Name))
            return name;
        _context.Report(DiagnosticDescriptors.InvalidValue, name.Span, name.Name, "value for '" + key + "'",
            string.Join(", ", choices) + NameSuggester.Hint(name.Name, choices));
        return null;
    }

    /// <summary>
    /// Python code: a string, number or boolean scalar. A mapping or list stands for the Python literal of the
    /// same data, as KSML reads it (its own examples write an initializer's expression as a YAML mapping).
    /// </summary>
    public SnippetSyntax? Snippet(string key)
    {
        if (Node(key, false) is { } data and (YamlMapping or YamlSequence))
            return new SnippetSyntax(PythonLiteral(data), data.Span.Line, data.Span.Column, data.Span);
        var scalar = Scalar(key, false, "Python code");
        return scalar is null ? null : new SnippetSyntax(scalar.Value, scalar.ContentLine, scalar.ContentColumn, scalar.Span);
    }

    private static string PythonLiteral(YamlNode node) => node switch
    {
        YamlMapping mapping => "{" + string.Join(", ", mapping.Entries.Select(e => PythonString(e.Key.Value) + ": " + PythonLiteral(e.Value))) + "}",
        YamlSequence sequence => "[" + string.Join(", ", sequence.Items.Select(PythonLiteral)) + "]",
        YamlScalar { IsNull: true } => "None",
        YamlScalar { Style: ScalarStyle.Plain, Value: "true" or "True" or "TRUE" } => "True",
        YamlScalar { Style: ScalarStyle.Plain, Value: "false" or "False" or "FALSE" } => "False",
        YamlScalar { Style: ScalarStyle.Plain } scalar when long.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            || double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !scalar.Value.Any(char.IsLetter) => scalar.Value,
        YamlScalar scalar => PythonString(scalar.Value),
        _ => "None",
    };

    private static string PythonString(string text)
    {
        var literal = new System.Text.StringBuilder("\"");
        foreach (var c in text)
            literal.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        return literal.Append('"').ToString();
    }

    /// <summary>A mapping field; returns null (and reports) when it holds something else.</summary>
    public YamlMapping? MappingField(string key, bool required = false)
    {
        var node = Node(key, required);
        if (node is null || node is YamlMapping)
            return (YamlMapping?)node;
        if (node is YamlScalar { IsNull: true })
            return null;
        _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "a mapping", node.KindDescription);
        return null;
    }

    public YamlSequence? Sequence(string key, bool required = false)
    {
        var node = Node(key, required);
        if (node is null || node is YamlSequence)
            return (YamlSequence?)node;
        if (node is YamlScalar { IsNull: true })
            return null;
        _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "a list", node.KindDescription);
        return null;
    }
}
