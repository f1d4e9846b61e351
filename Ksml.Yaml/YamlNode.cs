using System.Collections.Generic;

namespace Ksml.Yaml;

/// <summary>
/// A located YAML node. Ksml.NET keeps its own tree rather than YamlDotNet's so that duplicate
/// keys survive (to be reported) and every node carries a <see cref="SourceSpan"/>.
/// </summary>
public abstract class YamlNode
{
    protected YamlNode(SourceSpan span) => Span = span;

    public SourceSpan Span { get; }

    /// <summary>How the node is named in messages: "a mapping", "a list", "a text value".</summary>
    public abstract string KindDescription { get; }
}

public enum ScalarStyle
{
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

public sealed class YamlScalar : YamlNode
{
    public YamlScalar(string value, ScalarStyle style, SourceSpan span, int contentLine, int contentColumn) : base(span)
    {
        Value = value;
        Style = style;
        ContentLine = contentLine;
        ContentColumn = contentColumn;
    }

    public string Value { get; }
    public ScalarStyle Style { get; }

    /// <summary>1-based line of the first character of the value's text (for block scalars, the line after '|').</summary>
    public int ContentLine { get; }

    /// <summary>1-based column of the value's text on <see cref="ContentLine"/> (for block scalars, the indentation + 1).</summary>
    public int ContentColumn { get; }

    /// <summary>A plain <c>~</c>, <c>null</c> or empty value.</summary>
    public bool IsNull => Style == ScalarStyle.Plain && (Value.Length == 0 || Value == "~" || Value == "null" || Value == "Null" || Value == "NULL");

    public override string KindDescription => IsNull ? "empty" : "a text value";

    public override string ToString() => Value;
}

public sealed class YamlSequence : YamlNode
{
    public YamlSequence(IReadOnlyList<YamlNode> items, SourceSpan span) : base(span) => Items = items;

    public IReadOnlyList<YamlNode> Items { get; }

    public override string KindDescription => "a list";
}

public sealed class YamlMapping : YamlNode
{
    public YamlMapping(IReadOnlyList<YamlEntry> entries, SourceSpan span) : base(span) => Entries = entries;

    /// <summary>Entries in document order, duplicates included.</summary>
    public IReadOnlyList<YamlEntry> Entries { get; }

    public override string KindDescription => "a mapping";

    public YamlEntry? Find(string key)
    {
        foreach (var entry in Entries)
            if (entry.Key.Value == key)
                return entry;
        return null;
    }
}

public sealed class YamlEntry
{
    public YamlEntry(YamlScalar key, YamlNode value)
    {
        Key = key;
        Value = value;
    }

    public YamlScalar Key { get; }
    public YamlNode Value { get; }

    public void Deconstruct(out YamlScalar key, out YamlNode value)
    {
        key = Key;
        value = Value;
    }
}
