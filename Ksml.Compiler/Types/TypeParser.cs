using System;
using System.Collections.Generic;
using System.Linq;
using Ksml.Yaml;

namespace Ksml.Compiler.Types;

/// <summary>
/// Parses KSML type expressions: primitives, <c>struct</c>, <c>[T]</c>/<c>list(T)</c>, <c>map(T)</c>,
/// <c>(T1,T2)</c>/<c>tuple(…)</c>, <c>union(…)</c>, <c>enum(A,B)</c>, <c>windowed(T)</c> and <c>notation[:Schema]</c>.
/// </summary>
public static class TypeParser
{
    /// <summary>
    /// Notations every runner has: KSML's short names and, as KSML registers each implementation under its own
    /// name too, the vendor ones. Any other prefix must be defined under <c>ksml.notations</c> in the runner config.
    /// </summary>
    public static readonly IReadOnlyList<string> KnownNotations = new[]
    {
        "avro", "binary", "csv", "json", "jsonschema", "protobuf", "xml",
        "apicurio_avro", "confluent_avro", "apicurio_jsonschema", "confluent_jsonschema", "apicurio_protobuf", "confluent_protobuf",
    };

    private static readonly Dictionary<string, KsmlType> Simple = new(StringComparer.Ordinal)
    {
        ["boolean"] = KsmlType.Boolean,
        ["byte"] = KsmlType.Byte,
        ["short"] = KsmlType.Short,
        ["int"] = KsmlType.Int,
        ["integer"] = KsmlType.Int,
        ["long"] = KsmlType.Long,
        ["float"] = KsmlType.Float,
        ["double"] = KsmlType.Double,
        ["string"] = KsmlType.String,
        ["str"] = KsmlType.String,
        ["bytes"] = KsmlType.Bytes,
        ["null"] = KsmlType.Null,
        ["none"] = KsmlType.Null,
        ["any"] = KsmlType.Any,
        ["?"] = KsmlType.Any,
        ["struct"] = KsmlType.Struct,
        ["map"] = KsmlType.Struct,
        ["json"] = KsmlType.Json,
        ["binary"] = KsmlType.Binary,
    };

    /// <summary>Every word that may start a type, for "did you mean" suggestions.</summary>
    public static IEnumerable<string> KnownWords => Simple.Keys.Concat(new[] { "list", "tuple", "union", "enum", "windowed" }).Concat(KnownNotations).Distinct();

    /// <summary>Parses <paramref name="text"/>; on failure returns null and a message saying what is wrong.</summary>
    public static KsmlType? TryParse(string text, out string? error) => TryParse(text, out error, out _);

    /// <summary>
    /// Parses <paramref name="text"/>, also naming the notations it uses that are not built in
    /// (<c>mynotation:Schema</c>), which only a runner config that defines them can serve.
    /// </summary>
    public static KsmlType? TryParse(string text, out string? error, out IReadOnlyList<string> configuredNotations)
    {
        var reader = new Reader(text);
        configuredNotations = reader.ConfiguredNotations;
        try
        {
            var type = reader.ParseType();
            reader.SkipSpaces();
            if (!reader.AtEnd)
                throw new FormatException($"unexpected '{reader.Rest}' after the type");
            error = null;
            return type;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>" (did you mean 'avro'?)" for a notation name close to a built-in one, else empty.</summary>
    public static string Suggestion(string notation) =>
        NameSuggester.Closest(notation, KnownNotations) is { } best ? $" (did you mean '{best}'?)" : "";

    private sealed class Reader
    {
        private readonly string _text;
        private int _pos;

        public Reader(string text) => _text = text;

        public bool AtEnd => _pos >= _text.Length;
        public List<string> ConfiguredNotations { get; } = new();
        public string Rest => _text.Substring(_pos);

        public void SkipSpaces()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
                _pos++;
        }

        private bool TryTake(char c)
        {
            SkipSpaces();
            if (_pos < _text.Length && _text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        private void Take(char c, string context)
        {
            if (!TryTake(c))
                throw new FormatException(AtEnd ? $"missing '{c}' to close {context}" : $"expected '{c}' in {context} but found '{Rest}'");
        }

        private string Word()
        {
            SkipSpaces();
            var start = _pos;
            while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_' || _text[_pos] == '.' || _text[_pos] == '-' || _text[_pos] == '?'))
                _pos++;
            return _text.Substring(start, _pos - start);
        }

        public KsmlType ParseType()
        {
            SkipSpaces();
            if (AtEnd)
                throw new FormatException("a type is empty");
            if (TryTake('['))
            {
                var element = ParseType();
                Take(']', "a list type");
                return new ListType(element);
            }
            if (TryTake('('))
                return new TupleType(ParseList(')', "a tuple type"));

            var word = Word();
            if (word.Length == 0)
                throw new FormatException($"unexpected '{Rest}'");
            SkipSpaces();
            if (TryTake('('))
            {
                switch (word)
                {
                    case "list":
                    {
                        var element = ParseType();
                        Take(')', "list(...)");
                        return new ListType(element);
                    }
                    case "map":
                    {
                        var value = ParseType();
                        Take(')', "map(...)");
                        return new MapType(value);
                    }
                    case "windowed":
                    {
                        var key = ParseType();
                        Take(')', "windowed(...)");
                        return new WindowedType(key);
                    }
                    case "tuple":
                        return new TupleType(ParseList(')', "tuple(...)"));
                    case "union":
                        return new UnionType(ParseList(')', "union(...)"));
                    case "enum":
                    {
                        var symbols = new List<string>();
                        do
                        {
                            var symbol = Word();
                            if (symbol.Length == 0)
                                throw new FormatException("an enum symbol is empty");
                            symbols.Add(symbol);
                        }
                        while (TryTake(','));
                        Take(')', "enum(...)");
                        return new EnumType(symbols);
                    }
                    default:
                        throw new FormatException($"'{word}' takes no arguments; the generic types are list, map, tuple, union, enum and windowed");
                }
            }
            if (TryTake(':'))
            {
                if (!KnownNotations.Contains(word))
                {
                    if (!IsNotationName(word))
                        throw new FormatException($"'{word}' is no notation name{Suggest(word, KnownNotations)}; known notations are {string.Join(", ", KnownNotations)}");
                    ConfiguredNotations.Add(word);
                }
                var afterColon = _pos;
                var schema = Word();
                // KSML writes a windowed key for a topic as json:windowed(T), the key in its JSON struct form (how a
                // windowed type is written anyway), or as avro:windowed(T), an Avro record whose key field is T:
                // a primitive, or a schema of the notation (avro:windowed(SensorKey) is avro:SensorKey's).
                if (schema == "windowed" && TryTake('('))
                {
                    if (word == "json")
                    {
                        _pos = afterColon;
                        return ParseType();
                    }
                    if (word != "avro")
                        throw new FormatException($"a windowed key is written as json:windowed(...) or avro:windowed(...), not as {word}");
                    var key = ParseSchemaOrType(word);
                    Take(')', "windowed(...)");
                    return new WindowedType(key, word);
                }
                if (schema.Length == 0)
                    throw new FormatException($"the schema name after '{word}:' is missing");
                return new NotationType(word, schema);
            }
            if (Simple.TryGetValue(word, out var simple))
                return simple;
            if (KnownNotations.Contains(word))
                return new NotationType(word, null);
            throw new FormatException($"unknown type '{word}'{Suggest(word, KnownWords)}");
        }

        /// <summary>A type, where a bare name that is no KSML type is a schema of <paramref name="notation"/>.</summary>
        private KsmlType ParseSchemaOrType(string notation)
        {
            var start = _pos;
            var word = Word();
            SkipSpaces();
            var bare = word.Length > 0 && !Simple.ContainsKey(word) && !KnownWords.Contains(word) && (_pos >= _text.Length || _text[_pos] is ')' or ',');
            if (bare)
                return new NotationType(notation, word);
            _pos = start;
            return ParseType();
        }

        private List<KsmlType> ParseList(char close, string context)
        {
            var items = new List<KsmlType>();
            if (TryTake(close))
                throw new FormatException(context + " needs at least one element");
            do
                items.Add(ParseType());
            while (TryTake(','));
            Take(close, context);
            return items;
        }

        private static bool IsNotationName(string word) =>
            word.Length > 0 && (char.IsLetter(word[0]) || word[0] == '_') && word.All(c => char.IsLetterOrDigit(c) || c is '_' or '-');

        private static string Suggest(string word, IEnumerable<string> candidates)
        {
            var best = NameSuggester.Closest(word, candidates);
            return best is null ? "" : $" (did you mean '{best}'?)";
        }
    }
}
