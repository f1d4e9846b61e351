using System;
using System.Collections.Generic;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ksml.Yaml;

/// <summary>
/// Reads KSML text into a located <see cref="YamlNode"/> tree. Never throws: YamlDotNet raises
/// <see cref="YamlException"/> for most bad input but a bare <see cref="InvalidOperationException"/>
/// for unclosed flow collections, so every exception becomes a located <see cref="YamlProblem"/> at the last good position.
/// Hostile input is bounded: nesting deeper than <see cref="MaxDepth"/> and aliases that expand to more
/// than <see cref="MaxExpandedNodes"/> nodes (a "billion laughs" document) are located errors, not a
/// stack overflow or an exponential walk in whatever reads the tree.
/// </summary>
public sealed class YamlSyntaxReader
{
    /// <summary>How deep collections may nest; KSML files and runner files need a dozen levels.</summary>
    public const int MaxDepth = 200;

    /// <summary>How many nodes the document may hold once every alias is expanded.</summary>
    public const long MaxExpandedNodes = 1_000_000;

    private readonly string _text;
    private readonly int[] _lineStarts;
    private readonly Dictionary<string, (YamlNode Node, long Weight)> _anchors = new(StringComparer.Ordinal);
    private IParser _parser = null!;
    private Mark _lastEnd = Mark.Empty;

    private YamlSyntaxReader(string text)
    {
        _text = text;
        _lineStarts = ComputeLineStarts(text);
    }

    /// <summary>The located tree of <paramref name="text"/>; null for an empty or unreadable document, whose problems are added to <paramref name="problems"/>.</summary>
    public static YamlNode? Read(string text, ICollection<YamlProblem> problems) =>
        new YamlSyntaxReader(text).Read(problems);

    private YamlNode? Read(ICollection<YamlProblem> problems)
    {
        try
        {
            _parser = new Parser(new StringReader(_text));
            Expect<StreamStart>();
            if (_parser.Accept<StreamEnd>(out _))
                return null;
            Expect<DocumentStart>();
            var root = _parser.Accept<DocumentEnd>(out _) ? null : ReadNode(0, out _);
            Expect<DocumentEnd>();
            if (!_parser.Accept<StreamEnd>(out _))
            {
                var next = _parser.Current!;
                problems.Add(new YamlProblem(SpanOf(next.Start, next.End),
                    "a KSML file holds one YAML document; remove this second one or move it to its own file"));
            }
            return root;
        }
        catch (YamlException ex)
        {
            var start = ex.Start.Line > 0 ? ex.Start : _lastEnd;
            var end = ex.End.Line > 0 && ex.End.Index >= start.Index ? ex.End : start;
            problems.Add(PythonInPlainScalar(start, Describe(ex)) ?? new YamlProblem(SpanOf(start, end), Describe(ex)));
        }
        catch (Exception ex)
        {
            // YamlDotNet's scanner throws non-YAML exceptions on some inputs (aaubry/YamlDotNet#541).
            var at = _lastEnd.Line > 0 ? _lastEnd : new Mark(0, 1, 1);
            problems.Add(new YamlProblem(SpanOf(at, at),
                "the YAML cannot be read after this point (" + ex.Message.TrimEnd('.') + "); check for an unclosed '[', '{' or quote"));
        }
        return null;
    }

    // Keys whose values are Python: an unquoted one with ': ' in it ("expression: ("k", {"n": n})") is no YAML scalar.
    private static readonly System.Text.RegularExpressions.Regex PythonKey = new(
        @"^(?<indent>\s*(?:-\s+)?)(?<key>expression|code|globalCode|if|condition|until)\s*:\s+(?<value>\S.*)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// YAML's own message for a plain scalar holding <c>: </c> says nothing a Python writer recognises; where the line is
    /// a Python-valued key, say what happened, where the <c>: </c> is, and how to write it instead.
    /// </summary>
    private YamlProblem? PythonInPlainScalar(Mark at, string message)
    {
        if (message.IndexOf("mapping", StringComparison.OrdinalIgnoreCase) < 0 || at.Line < 1 || at.Line > _lineStarts.Length)
            return null;
        for (var line = (int)at.Line; line >= Math.Max(1, at.Line - 20); line--)
        {
            var text = LineText(line);
            var match = PythonKey.Match(text);
            if (!match.Success)
                continue;
            var value = match.Groups["value"];
            if (value.Value.StartsWith("'", StringComparison.Ordinal) || value.Value.StartsWith("\"", StringComparison.Ordinal) || value.Value.StartsWith("|", StringComparison.Ordinal) || value.Value.StartsWith(">", StringComparison.Ordinal))
                return null;
            var colon = text.IndexOf(": ", value.Index, StringComparison.Ordinal);
            if (colon < 0)
                return null;
            var key = match.Groups["key"].Value;
            var column = colon + 1;
            return new YamlProblem(new SourceSpan(_lineStarts[line - 1] + colon, 2, line, column, line, column + 2),
                $"the Python of '{key}' holds ': ' at column {column}, which YAML reads as the start of a mapping; quote the whole value ({key}: '{Shorten(value.Value)}', doubling any ' inside) or write it as a block ({key}: | with the code on the lines below, indented)");
        }
        return null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text.Substring(0, 37) + "...";

    private string LineText(int line)
    {
        var start = _lineStarts[line - 1];
        var end = line < _lineStarts.Length ? _lineStarts[line] : _text.Length;
        return _text.Substring(start, end - start).TrimEnd('\r', '\n');
    }

    private static string Describe(YamlException ex)
    {
        var message = ex.InnerException?.Message ?? ex.Message;
        // YamlDotNet prefixes its own "(Line: 3, Col: 5, Idx: 20) - (…): " location; ours is already in the diagnostic.
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && cut > 0)
            message = message.Substring(cut + 3);
        return message.TrimEnd('.');
    }

    private T Expect<T>() where T : ParsingEvent
    {
        var current = _parser.Consume<T>();
        _lastEnd = current.End;
        return current;
    }

    /// <summary>Reads one node; <paramref name="weight"/> is how many nodes it stands for with its aliases expanded.</summary>
    private YamlNode ReadNode(int depth, out long weight)
    {
        if (_parser.TryConsume<AnchorAlias>(out var alias))
        {
            _lastEnd = alias.End;
            if (_anchors.TryGetValue(alias.Value.Value, out var target))
            {
                weight = target.Weight;
                return target.Node;
            }
            throw new YamlException(alias.Start, alias.End, $"the alias '*{alias.Value.Value}' refers to no anchor defined before it");
        }

        if (depth > MaxDepth && _parser.Current is { } deep)
            throw new YamlException(deep.Start, deep.End, $"the YAML nests deeper than {MaxDepth} levels");

        YamlNode node;
        string anchor;
        weight = 1;
        if (_parser.TryConsume<Scalar>(out var scalar))
        {
            _lastEnd = scalar.End;
            node = CreateScalar(scalar);
            anchor = scalar.Anchor.IsEmpty ? "" : scalar.Anchor.Value;
        }
        else if (_parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            _lastEnd = sequenceStart.End;
            var items = new List<YamlNode>();
            while (!_parser.Accept<SequenceEnd>(out _))
            {
                items.Add(ReadNode(depth + 1, out var itemWeight));
                weight = Add(weight, itemWeight, sequenceStart);
            }
            var end = Expect<SequenceEnd>();
            node = new YamlSequence(items, SpanOf(sequenceStart.Start, end.End));
            anchor = sequenceStart.Anchor.IsEmpty ? "" : sequenceStart.Anchor.Value;
        }
        else if (_parser.TryConsume<MappingStart>(out var mappingStart))
        {
            _lastEnd = mappingStart.End;
            var entries = new List<YamlEntry>();
            while (!_parser.Accept<MappingEnd>(out _))
            {
                var keyNode = ReadNode(depth + 1, out var keyWeight);
                var valueNode = ReadNode(depth + 1, out var valueWeight);
                weight = Add(Add(weight, keyWeight, mappingStart), valueWeight, mappingStart);
                if (keyNode is YamlScalar key)
                {
                    if (key.Value == "<<" && key.Style == ScalarStyle.Plain && valueNode is YamlMapping merged)
                        entries.AddRange(merged.Entries); // YAML merge key: inherit the anchored mapping's entries
                    else
                        entries.Add(new YamlEntry(key, valueNode));
                }
                else
                {
                    throw new YamlException(ToMark(keyNode.Span), ToMark(keyNode.Span), "KSML keys must be plain text, not " + keyNode.KindDescription);
                }
            }
            var end = Expect<MappingEnd>();
            node = new YamlMapping(entries, SpanOf(mappingStart.Start, end.End));
            anchor = mappingStart.Anchor.IsEmpty ? "" : mappingStart.Anchor.Value;
        }
        else
        {
            var current = _parser.Current;
            throw new YamlException(current?.Start ?? _lastEnd, current?.End ?? _lastEnd, "unexpected " + (current?.GetType().Name ?? "end of input"));
        }

        if (anchor.Length > 0)
            _anchors[anchor] = (node, weight);
        return node;
    }

    private static long Add(long weight, long more, ParsingEvent collection)
    {
        var total = weight + more;
        if (total > MaxExpandedNodes)
            throw new YamlException(collection.Start, collection.End,
                $"aliases here expand to more than {MaxExpandedNodes:N0} nodes; a KSML file needs far fewer, so this looks like an alias bomb");
        return total;
    }

    private Mark ToMark(SourceSpan span) => new(span.Start, span.Line, span.Column);

    private YamlScalar CreateScalar(Scalar scalar)
    {
        var span = SpanOf(scalar.Start, scalar.End);
        var style = scalar.Style switch
        {
            YamlDotNet.Core.ScalarStyle.SingleQuoted => ScalarStyle.SingleQuoted,
            YamlDotNet.Core.ScalarStyle.DoubleQuoted => ScalarStyle.DoubleQuoted,
            YamlDotNet.Core.ScalarStyle.Literal => ScalarStyle.Literal,
            YamlDotNet.Core.ScalarStyle.Folded => ScalarStyle.Folded,
            _ => ScalarStyle.Plain,
        };
        var (line, column) = ContentStart(span, style);
        return new YamlScalar(scalar.Value, style, span, line, column);
    }

    /// <summary>Where the text of a scalar begins, so Python line and column numbers can map back into the YAML.</summary>
    private (int Line, int Column) ContentStart(SourceSpan span, ScalarStyle style)
    {
        switch (style)
        {
            case ScalarStyle.SingleQuoted:
            case ScalarStyle.DoubleQuoted:
                return (span.Line, span.Column + 1);
            case ScalarStyle.Literal:
            case ScalarStyle.Folded:
                // The content starts on the first non-blank line after the indicator; its indentation is the block's.
                for (var line = span.Line + 1; line <= _lineStarts.Length; line++)
                {
                    var start = _lineStarts[line - 1];
                    var end = line < _lineStarts.Length ? _lineStarts[line] : _text.Length;
                    var indent = 0;
                    while (start + indent < end && _text[start + indent] == ' ')
                        indent++;
                    if (start + indent < end && _text[start + indent] != '\n' && _text[start + indent] != '\r')
                        return (line, indent + 1);
                }
                return (span.Line + 1, 1);
            default:
                return (span.Line, span.Column);
        }
    }

    private SourceSpan SpanOf(Mark start, Mark end)
    {
        var startIndex = (int)start.Index;
        var endIndex = Math.Max(startIndex, (int)end.Index);
        return new SourceSpan(startIndex, endIndex - startIndex, (int)start.Line, (int)start.Column, (int)end.Line, (int)end.Column);
    }

    private static int[] ComputeLineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n')
                starts.Add(i + 1);
        return starts.ToArray();
    }
}
