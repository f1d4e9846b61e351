using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Ksml.Compiler.Emit;

/// <summary>C# identifiers and literals for names and text that come from YAML.</summary>
public static class EmitNames
{
    private static readonly HashSet<string> Keywords = new()
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>A valid C# identifier for a YAML name (<c>order-events</c> → <c>order_events</c>, <c>class</c> → <c>@class</c>).</summary>
    public static string Identifier(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
            builder.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        if (builder.Length == 0 || char.IsDigit(builder[0]))
            builder.Insert(0, '_');
        var identifier = builder.ToString();
        return Keywords.Contains(identifier) ? "@" + identifier : identifier;
    }

    /// <summary><c>pipelines/order-flow.ksml.yaml</c> → <c>OrderFlowKsml</c>.</summary>
    public static string ClassNameFor(string path)
    {
        var name = KsmlCompiler.DefinitionNameFor(path);
        var builder = new StringBuilder();
        var upper = true;
        foreach (var c in name)
        {
            if (!char.IsLetterOrDigit(c))
            {
                upper = true;
                continue;
            }
            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (builder.Length == 0 || char.IsDigit(builder[0]))
            builder.Insert(0, 'K');
        return builder + "Ksml";
    }

    /// <summary>A C# string literal; verbatim for multi-line text so embedded Python stays readable.</summary>
    public static string Literal(string? text)
    {
        if (text is null)
            return "null";
        if (text.IndexOf('\n') >= 0)
            return "@\"" + text.Replace("\r\n", "\n").Replace("\"", "\"\"") + "\"";
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\t': builder.Append("\\t"); break;
                case '\r': builder.Append("\\r"); break;
                default:
                    if (char.IsControl(c))
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
