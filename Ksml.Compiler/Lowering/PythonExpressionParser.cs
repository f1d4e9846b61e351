using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Ksml.Compiler.Lowering;

/// <summary>A Python expression in the subset the compiler lowers to C#.</summary>
public abstract record PyExpr;

public sealed record PyConst(object? Value) : PyExpr;

public sealed record PyName(string Name) : PyExpr;

public sealed record PySubscript(PyExpr Target, PyExpr Index) : PyExpr;

/// <summary>A call of a builtin by name (<c>len(x)</c>, <c>dict(v, k=…)</c>).</summary>
public sealed record PyCall(string Function, IReadOnlyList<PyExpr> Arguments, IReadOnlyList<KeyValuePair<string, PyExpr>> Keywords) : PyExpr;

/// <summary><c>target.get(key[, default])</c>.</summary>
public sealed record PyGet(PyExpr Target, PyExpr Key, PyExpr? Default) : PyExpr;

public sealed record PyBinary(string Operator, PyExpr Left, PyExpr Right) : PyExpr;

public sealed record PyUnary(string Operator, PyExpr Operand) : PyExpr;

/// <summary><c>a and b and c</c> / <c>a or b</c>.</summary>
public sealed record PyBoolean(string Operator, IReadOnlyList<PyExpr> Operands) : PyExpr;

/// <summary><c>a &lt; b &lt;= c</c>: the operands, and the operators between them.</summary>
public sealed record PyCompare(IReadOnlyList<PyExpr> Operands, IReadOnlyList<string> Operators) : PyExpr;

public sealed record PyConditional(PyExpr Test, PyExpr Body, PyExpr OrElse) : PyExpr;

/// <summary>
/// Reads a Python expression when it lies within the subset the compiler lowers (names, int/float/str/bool/None
/// literals, subscripts, <c>.get</c>, builtin calls, arithmetic, comparisons, boolean logic, conditional
/// expressions); returns null for anything else, which then simply runs in CPython. It never decides Python's
/// syntax: the build-time Python check does, with Python's own parser.
/// </summary>
public sealed class PythonExpressionParser
{
    private readonly List<string> _tokens = new();
    private int _at;

    private PythonExpressionParser() { }

    public static PyExpr? Parse(string text)
    {
        var parser = new PythonExpressionParser();
        if (!parser.Tokenize(text))
            return null;
        var expression = parser.Expression();
        return expression is not null && parser._at == parser._tokens.Count ? expression : null;
    }

    // ---- tokens: names, numbers ("#123" int, "~1.5" float), strings ("'text"), operators ----

    private bool Tokenize(string text)
    {
        var depth = 0;
        var at = 0;
        while (at < text.Length)
        {
            var c = text[at];
            if (c == '\n')
            {
                at++;
                // A line break outside brackets ends a Python expression; more after it is not one expression.
                if (depth == 0 && text.Substring(at).Trim().Length > 0 && !text.Substring(at).TrimStart().StartsWith("#", System.StringComparison.Ordinal))
                    return false;
                continue;
            }
            if (c is ' ' or '\t' or '\r')
            {
                at++;
                continue;
            }
            if (c == '#')
            {
                while (at < text.Length && text[at] != '\n') at++;
                continue;
            }
            if (c == '\\')
                return false;
            if (char.IsLetter(c) || c == '_')
            {
                var start = at;
                while (at < text.Length && (char.IsLetterOrDigit(text[at]) || text[at] == '_')) at++;
                if (at < text.Length && text[at] is '\'' or '"')
                    return false; // a prefixed string (f"", b"", r"")
                _tokens.Add(text.Substring(start, at - start));
                continue;
            }
            if (char.IsDigit(c) || (c == '.' && at + 1 < text.Length && char.IsDigit(text[at + 1])))
            {
                if (Number(text, ref at) is not { } number)
                    return false;
                _tokens.Add(number);
                continue;
            }
            if (c is '\'' or '"')
            {
                if (String(text, ref at) is not { } literal)
                    return false;
                _tokens.Add(literal);
                continue;
            }
            var two = at + 1 < text.Length ? text.Substring(at, 2) : "";
            if (two is "==" or "!=" or "<=" or ">=" or "//" or "**")
            {
                _tokens.Add(two);
                at += 2;
                continue;
            }
            if ("()[]+-*/%<>.,=".IndexOf(c) < 0)
                return false;
            if (c is '(' or '[') depth++;
            if (c is ')' or ']') depth--;
            _tokens.Add(c.ToString());
            at++;
        }
        return depth == 0;
    }

    private static string? Number(string text, ref int at)
    {
        var start = at;
        while (at < text.Length && char.IsDigit(text[at])) at++;
        var isFloat = false;
        if (at < text.Length && text[at] == '.')
        {
            isFloat = true;
            at++;
            while (at < text.Length && char.IsDigit(text[at])) at++;
        }
        if (at < text.Length && text[at] is 'e' or 'E')
        {
            isFloat = true;
            at++;
            if (at < text.Length && text[at] is '+' or '-') at++;
            var digits = at;
            while (at < text.Length && char.IsDigit(text[at])) at++;
            if (at == digits) return null;
        }
        if (at < text.Length && (char.IsLetterOrDigit(text[at]) || text[at] == '_'))
            return null; // 0x1F, 1_000, 3j, 1.5f: not in the subset
        var literal = text.Substring(start, at - start);
        if (!isFloat)
        {
            if (literal.Length > 1 && literal[0] == '0')
                return null;
            return long.TryParse(literal, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "#" + literal : null;
        }
        return "~" + literal;
    }

    private static string? String(string text, ref int at)
    {
        var quote = text[at];
        if (at + 2 < text.Length && text[at + 1] == quote && text[at + 2] == quote)
            return null; // triple-quoted
        var value = new StringBuilder("'");
        at++;
        while (at < text.Length)
        {
            var c = text[at];
            if (c == quote)
            {
                at++;
                return value.ToString();
            }
            if (c == '\n')
                return null;
            if (c == '\\')
            {
                if (at + 1 >= text.Length)
                    return null;
                var escaped = text[at + 1] switch
                {
                    '\\' => '\\', '\'' => '\'', '"' => '"', 'n' => '\n', 't' => '\t', 'r' => '\r',
                    _ => (char?)null,
                };
                if (escaped is null)
                    return null;
                value.Append(escaped.Value);
                at += 2;
                continue;
            }
            value.Append(c);
            at++;
        }
        return null;
    }

    // ---- grammar, from Python's precedence table ----

    private string? Peek(int ahead = 0) => _at + ahead < _tokens.Count ? _tokens[_at + ahead] : null;

    private bool Accept(string token)
    {
        if (Peek() != token)
            return false;
        _at++;
        return true;
    }

    private static readonly HashSet<string> Keywords = new()
    {
        "and", "or", "not", "if", "else", "in", "is", "lambda", "for", "await", "yield", "True", "False", "None",
    };

    private PyExpr? Expression()
    {
        var body = Or();
        if (body is null || !Accept("if"))
            return body;
        var test = Or();
        if (test is null || !Accept("else"))
            return null;
        var orElse = Expression();
        return orElse is null ? null : new PyConditional(test, body, orElse);
    }

    private PyExpr? Or() => Boolean("or", And);

    private PyExpr? And() => Boolean("and", Not);

    private PyExpr? Boolean(string op, System.Func<PyExpr?> operand)
    {
        var first = operand();
        if (first is null || Peek() != op)
            return first;
        var operands = new List<PyExpr> { first };
        while (Accept(op))
        {
            if (operand() is not { } next)
                return null;
            operands.Add(next);
        }
        return new PyBoolean(op, operands);
    }

    private PyExpr? Not()
    {
        if (!Accept("not"))
            return Comparison();
        return Not() is { } operand ? new PyUnary("not", operand) : null;
    }

    private PyExpr? Comparison()
    {
        var first = Arithmetic();
        if (first is null)
            return null;
        var operands = new List<PyExpr> { first };
        var operators = new List<string>();
        while (true)
        {
            string op;
            if (Peek() is "<" or ">" or "==" or ">=" or "<=" or "!=" or "in")
                op = _tokens[_at++];
            else if (Peek() == "not" && Peek(1) == "in")
            {
                _at += 2;
                op = "not in";
            }
            else if (Peek() == "is")
            {
                _at++;
                op = Accept("not") ? "is not" : "is";
            }
            else
                break;
            if (Arithmetic() is not { } next)
                return null;
            operators.Add(op);
            operands.Add(next);
        }
        return operators.Count == 0 ? first : new PyCompare(operands, operators);
    }

    private PyExpr? Arithmetic() => Binary(new[] { "+", "-" }, Term);

    private PyExpr? Term() => Binary(new[] { "*", "/", "//", "%" }, Factor);

    private PyExpr? Binary(string[] operators, System.Func<PyExpr?> operand)
    {
        var left = operand();
        while (left is not null && System.Array.IndexOf(operators, Peek()) >= 0)
        {
            var op = _tokens[_at++];
            if (operand() is not { } right)
                return null;
            left = new PyBinary(op, left, right);
        }
        return left;
    }

    private PyExpr? Factor()
    {
        if (Peek() is "-" or "+")
        {
            var op = _tokens[_at++];
            return Factor() is { } operand ? new PyUnary(op, operand) : null;
        }
        var primary = Primary();
        return Peek() == "**" ? null : primary;
    }

    private PyExpr? Primary()
    {
        var expression = Atom();
        while (expression is not null)
        {
            if (Accept("["))
            {
                var index = Expression();
                if (index is null || !Accept("]"))
                    return null;
                expression = new PySubscript(expression, index);
            }
            else if (Peek() == "." && Peek(1) == "get" && Peek(2) == "(")
            {
                _at += 3;
                var arguments = Arguments(out var keywords);
                if (arguments is null || keywords.Count > 0 || arguments.Count is < 1 or > 2)
                    return null;
                expression = new PyGet(expression, arguments[0], arguments.Count == 2 ? arguments[1] : null);
            }
            else if (Peek() is "." or "(")
            {
                if (Peek() == "(" && expression is PyName { Name: var function } && !Keywords.Contains(function))
                {
                    _at++;
                    var arguments = Arguments(out var keywords);
                    if (arguments is null)
                        return null;
                    expression = new PyCall(function, arguments, keywords);
                }
                else
                    return null; // any other attribute or call
            }
            else
                break;
        }
        return expression;
    }

    /// <summary>Call arguments after '(' up to and including ')': positional, then name=value.</summary>
    private List<PyExpr>? Arguments(out List<KeyValuePair<string, PyExpr>> keywords)
    {
        keywords = new List<KeyValuePair<string, PyExpr>>();
        var positional = new List<PyExpr>();
        if (Accept(")"))
            return positional;
        while (true)
        {
            if (Peek(1) == "=" && Peek() is { } name && IsIdentifier(name))
            {
                _at += 2;
                if (Expression() is not { } value)
                    return null;
                keywords.Add(new KeyValuePair<string, PyExpr>(name, value));
            }
            else
            {
                if (keywords.Count > 0 || Expression() is not { } value)
                    return null;
                positional.Add(value);
            }
            if (Accept(")"))
                return positional;
            if (!Accept(",") || Accept(")"))
                return null; // a trailing comma is fine in Python, but rare; keep the subset small
        }
    }

    private static bool IsIdentifier(string token) =>
        token.Length > 0 && (char.IsLetter(token[0]) || token[0] == '_') && !Keywords.Contains(token);

    private PyExpr? Atom()
    {
        var token = Peek();
        if (token is null)
            return null;
        _at++;
        switch (token)
        {
            case "True": return new PyConst(true);
            case "False": return new PyConst(false);
            case "None": return new PyConst(null);
            case "(":
                var inner = Expression();
                return inner is not null && Accept(")") ? inner : null;
        }
        if (token[0] == '#')
            return new PyConst(long.Parse(token.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture));
        if (token[0] == '~')
            return new PyConst(double.Parse(token.Substring(1), NumberStyles.Float, CultureInfo.InvariantCulture));
        if (token[0] == '\'')
            return new PyConst(token.Substring(1));
        return IsIdentifier(token) ? new PyName(token) : null;
    }
}
