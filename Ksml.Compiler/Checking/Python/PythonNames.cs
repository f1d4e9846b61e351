using System.Collections.Generic;
using System.Text;

namespace Ksml.Compiler.Checking;

/// <summary>
/// The names a Python snippet mentions, read lexically: identifiers outside comments and string literals,
/// plus those inside an f-string's braces. Enough to tell whether a snippet uses a parameter at all.
/// </summary>
public static class PythonNames
{
    public static HashSet<string> In(string code)
    {
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        var at = 0;
        while (at < code.Length)
        {
            var c = code[at];
            if (c == '#')
            {
                while (at < code.Length && code[at] != '\n')
                    at++;
            }
            else if (c is '\'' or '"')
            {
                at = SkipString(code, at, names);
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = at;
                while (at < code.Length && (char.IsLetterOrDigit(code[at]) || code[at] == '_'))
                    at++;
                var word = code.Substring(start, at - start);
                // A string prefix (f, rb, ...) right before a quote belongs to the literal.
                if (at < code.Length && code[at] is '\'' or '"' && IsStringPrefix(word))
                    at = SkipString(code, at, names, formatted: word.IndexOf('f') >= 0 || word.IndexOf('F') >= 0);
                else if (start == 0 || code[start - 1] != '.')
                    names.Add(word); // an attribute (x.value) is not a use of a name
            }
            else
            {
                at++;
            }
        }
        return names;
    }

    private static bool IsStringPrefix(string word) =>
        word.Length <= 2 && word.ToLowerInvariant() is "f" or "r" or "b" or "u" or "rb" or "br" or "fr" or "rf";

    private static int SkipString(string code, int at, HashSet<string> names, bool formatted = false)
    {
        var quote = code[at];
        var triple = at + 2 < code.Length && code[at + 1] == quote && code[at + 2] == quote;
        at += triple ? 3 : 1;
        var expression = new StringBuilder();
        var depth = 0;
        while (at < code.Length)
        {
            var c = code[at];
            if (depth == 0 && c == '\\')
            {
                at += 2;
                continue;
            }
            if (depth == 0 && c == quote && (!triple || (at + 2 < code.Length && code[at + 1] == quote && code[at + 2] == quote)))
            {
                at += triple ? 3 : 1;
                break;
            }
            if (!triple && depth == 0 && c == '\n')
                break;
            if (formatted && c == '{')
            {
                if (depth == 0 && at + 1 < code.Length && code[at + 1] == '{')
                {
                    at += 2;
                    continue;
                }
                depth++;
            }
            else if (formatted && c == '}' && depth > 0)
            {
                depth--;
                if (depth == 0)
                {
                    names.UnionWith(In(expression.ToString()));
                    expression.Clear();
                }
            }
            else if (depth > 0)
            {
                expression.Append(c);
            }
            at++;
        }
        return at;
    }
}
