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

/// <summary><c>target.method(arguments)</c> for the str methods the subset knows (<see cref="PythonExpressionParser.StrMethods"/>).</summary>
public sealed record PyMethod(PyExpr Target, string Method, IReadOnlyList<PyExpr> Arguments) : PyExpr;

/// <summary><c>target.get(key[, default])</c>.</summary>
public sealed record PyGet(PyExpr Target, PyExpr Key, PyExpr? Default) : PyExpr;

public sealed record PyBinary(string Operator, PyExpr Left, PyExpr Right) : PyExpr;

public sealed record PyUnary(string Operator, PyExpr Operand) : PyExpr;

/// <summary><c>a and b and c</c> / <c>a or b</c>.</summary>
public sealed record PyBoolean(string Operator, IReadOnlyList<PyExpr> Operands) : PyExpr;

/// <summary><c>a &lt; b &lt;= c</c>: the operands, and the operators between them.</summary>
public sealed record PyCompare(IReadOnlyList<PyExpr> Operands, IReadOnlyList<string> Operators) : PyExpr;

public sealed record PyConditional(PyExpr Test, PyExpr Body, PyExpr OrElse) : PyExpr;

/// <summary>A list display <c>[a, b]</c>.</summary>
public sealed record PyList(IReadOnlyList<PyExpr> Items) : PyExpr;

/// <summary>A tuple display <c>(a, b)</c>.</summary>
public sealed record PyTuple(IReadOnlyList<PyExpr> Items) : PyExpr;

/// <summary>A dict display <c>{k: v, …}</c>.</summary>
public sealed record PyDict(IReadOnlyList<KeyValuePair<PyExpr, PyExpr>> Entries) : PyExpr;

/// <summary>
/// <c>[element for variable in iterable if condition …]</c>, or the same in parentheses (a generator expression,
/// <see cref="IsGenerator"/>): one <c>for</c> over one name, any number of <c>if</c>s.
/// </summary>
public sealed record PyComprehension(bool IsGenerator, PyExpr Element, string Variable, PyExpr Iterable, IReadOnlyList<PyExpr> Conditions) : PyExpr;

/// <summary>One part of an f-string: literal text, or a replacement field with its format spec.</summary>
public sealed record PyFormatPart(string? Literal, PyExpr? Expression, string Spec);

/// <summary><c>f"…{expression:spec}…"</c>.</summary>
public sealed record PyFString(IReadOnlyList<PyFormatPart> Parts) : PyExpr;

/// <summary>
/// Reads a Python expression when it lies within the subset the compiler lowers (names, int/float/str/bool/None
/// literals, f-strings, list/tuple/dict displays, comprehensions with one <c>for</c>, subscripts, <c>.get</c>,
/// builtin calls, arithmetic, comparisons, boolean logic, conditional expressions); returns null for anything else, which then simply runs in CPython. It never decides Python's
/// syntax: the build-time Python check does, with Python's own parser.
/// </summary>
public sealed class PythonExpressionParser
{
    private readonly List<string> _tokens = new();
    private readonly List<PyFString> _fStrings = new();
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

    // ---- tokens: names, numbers ("#123" int, "~1.5" float), strings ("'text"), f-strings ("$index"), operators ----

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
                {
                    // f"…" is read here; other prefixes (b"", r"", rf"") stay in Python.
                    if (at - start != 1 || text[start] is not ('f' or 'F') || FString(text, ref at) is not { } formatted)
                        return false;
                    _tokens.Add("$" + _fStrings.Count.ToString(CultureInfo.InvariantCulture));
                    _fStrings.Add(formatted);
                    continue;
                }
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
            if ("()[]{}+-*/%<>.,=:".IndexOf(c) < 0)
                return false;
            if (c is '(' or '[' or '{') depth++;
            if (c is ')' or ']' or '}') depth--;
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
                if (at + 1 >= text.Length || Escaped(text[at + 1]) is not { } escaped)
                    return null;
                value.Append(escaped);
                at += 2;
                continue;
            }
            value.Append(c);
            at++;
        }
        return null;
    }

    /// <summary>The escapes the subset reads; any other (\x, \u, \N, octal, a line continuation) stays in Python.</summary>
    private static char? Escaped(char c) => c switch
    {
        '\\' => '\\', '\'' => '\'', '"' => '"', 'n' => '\n', 't' => '\t', 'r' => '\r',
        _ => (char?)null,
    };

    /// <summary>
    /// An f-string from its opening quote: literal parts (with <c>{{</c>, <c>}}</c> and escapes), and fields
    /// <c>{expression}</c> or <c>{expression:spec}</c> whose expression is in the subset and whose spec is empty,
    /// <c>d</c> or <c>.Nf</c>. Conversions (<c>!r</c>), <c>{x=}</c> and nested specs stay in Python.
    /// </summary>
    private static PyFString? FString(string text, ref int at)
    {
        var quote = text[at];
        if (at + 2 < text.Length && text[at + 1] == quote && text[at + 2] == quote)
            return null; // triple-quoted
        // As Python 3.11 does: the string ends at the first unescaped quote of its kind, then its fields are read.
        var end = at + 1;
        while (end < text.Length && text[end] != quote)
        {
            if (text[end] == '\n')
                return null;
            end += text[end] == '\\' ? 2 : 1;
        }
        if (end >= text.Length)
            return null;
        var body = text.Substring(at + 1, end - at - 1);
        at = end + 1;
        var parts = new List<PyFormatPart>();
        var literal = new StringBuilder();
        for (var i = 0; i < body.Length;)
        {
            var c = body[i];
            if (c == '\\')
            {
                if (i + 1 >= body.Length || Escaped(body[i + 1]) is not { } escaped)
                    return null;
                literal.Append(escaped);
                i += 2;
            }
            else if ((c == '{' || c == '}') && i + 1 < body.Length && body[i + 1] == c)
            {
                literal.Append(c);
                i += 2;
            }
            else if (c == '}')
                return null;
            else if (c == '{')
            {
                if (literal.Length > 0)
                    parts.Add(new PyFormatPart(literal.ToString(), null, ""));
                literal.Clear();
                if (Field(body, ref i) is not { } field)
                    return null;
                parts.Add(field);
            }
            else
            {
                literal.Append(c);
                i++;
            }
        }
        if (literal.Length > 0)
            parts.Add(new PyFormatPart(literal.ToString(), null, ""));
        return new PyFString(parts);
    }

    /// <summary>A replacement field from its '{' to past its '}'.</summary>
    private static PyFormatPart? Field(string body, ref int at)
    {
        var depth = 0;
        var start = at + 1;
        var colon = -1;
        char? inString = null;
        var i = start;
        for (; i < body.Length; i++)
        {
            var c = body[i];
            if (inString is { } open)
            {
                if (c == open) inString = null;
                continue;
            }
            if (c is '\'' or '"') inString = c;
            else if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']') depth--;
            else if (c == '}' && depth > 0) depth--;
            else if (c == '}' && depth == 0) break;
            else if (depth == 0 && c == '!' && (i + 1 >= body.Length || body[i + 1] != '='))
                return null; // a conversion
            else if (depth == 0 && c == ':')
            {
                colon = i;
                while (i < body.Length && body[i] != '}') i++;
                break;
            }
        }
        if (i >= body.Length || inString is not null)
            return null;
        var expressionText = body.Substring(start, (colon < 0 ? i : colon) - start);
        var spec = colon < 0 ? "" : body.Substring(colon + 1, i - colon - 1);
        at = i + 1;
        var trimmed = expressionText.TrimEnd();
        if (trimmed.EndsWith("=", System.StringComparison.Ordinal) && !(trimmed.Length > 1 && "=!<>".IndexOf(trimmed[trimmed.Length - 2]) >= 0))
            return null; // {x=}, which also writes the expression's text
        if (!IsSpec(spec) || Parse(expressionText) is not { } expression)
            return null;
        return new PyFormatPart(null, expression, spec);
    }

    private static bool IsSpec(string spec)
    {
        if (spec.Length == 0 || spec == "d")
            return true;
        if (spec.Length < 3 || spec.Length > 4 || spec[0] != '.' || spec[spec.Length - 1] != 'f')
            return false;
        for (var i = 1; i < spec.Length - 1; i++)
            if (spec[i] is < '0' or > '9')
                return false;
        return true;
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

    /// <summary>The str methods the subset reads; the lowering decides which argument counts it takes.</summary>
    public static readonly HashSet<string> StrMethods = new() { "lower", "upper", "strip", "split", "startswith", "endswith" };

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
            else if (Peek() == "." && Peek(1) is { } method && StrMethods.Contains(method) && Peek(2) == "(")
            {
                _at += 3;
                var arguments = Arguments(out var keywords);
                if (arguments is null || keywords.Count > 0)
                    return null;
                expression = new PyMethod(expression, method, arguments);
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
                // f(x for x in xs): a generator expression as the only argument needs no parentheses of its own.
                if (Peek() == "for")
                    return positional.Count == 0 && Comprehension(value, isGenerator: true) is { } generator && Accept(")")
                        ? new List<PyExpr> { generator }
                        : null;
                positional.Add(value);
            }
            if (Accept(")"))
                return positional;
            if (!Accept(",") || Accept(")"))
                return null; // a trailing comma is fine in Python, but rare; keep the subset small
        }
    }

    /// <summary>After '(': a parenthesized expression, a tuple, or a generator expression.</summary>
    private PyExpr? Parenthesized()
    {
        if (Accept(")"))
            return new PyTuple(new List<PyExpr>());
        var first = Expression();
        if (first is null)
            return null;
        if (Peek() == "for")
            return Comprehension(first, isGenerator: true) is { } generator && Accept(")") ? generator : null;
        if (!Accept(","))
            return Accept(")") ? first : null;
        var items = Items(first, ")");
        return items is null ? null : new PyTuple(items);
    }

    /// <summary>After '[': a list display or a list comprehension.</summary>
    private PyExpr? ListDisplay()
    {
        if (Accept("]"))
            return new PyList(new List<PyExpr>());
        var first = Expression();
        if (first is null)
            return null;
        if (Peek() == "for")
            return Comprehension(first, isGenerator: false) is { } comprehension && Accept("]") ? comprehension : null;
        if (Accept("]"))
            return new PyList(new List<PyExpr> { first });
        if (!Accept(","))
            return null;
        var items = Items(first, "]");
        return items is null ? null : new PyList(items);
    }

    /// <summary>The items after "first," up to and including <paramref name="close"/>; a trailing comma is allowed.</summary>
    private List<PyExpr>? Items(PyExpr first, string close)
    {
        var items = new List<PyExpr> { first };
        while (!Accept(close))
        {
            if (Expression() is not { } item)
                return null;
            items.Add(item);
            if (!Accept(",") && Peek() != close)
                return null;
        }
        return items;
    }

    /// <summary>After '{': a dict display; sets, <c>**spread</c> and dict comprehensions stay in Python.</summary>
    private PyExpr? DictDisplay()
    {
        var entries = new List<KeyValuePair<PyExpr, PyExpr>>();
        while (!Accept("}"))
        {
            if (Expression() is not { } key || !Accept(":") || Expression() is not { } value)
                return null;
            entries.Add(new KeyValuePair<PyExpr, PyExpr>(key, value));
            if (!Accept(",") && Peek() != "}")
                return null;
        }
        return new PyDict(entries);
    }

    /// <summary>At 'for', after the element: <c>for name in iterable</c> and any <c>if</c>s; a second <c>for</c> or a tuple target stays in Python.</summary>
    private PyComprehension? Comprehension(PyExpr element, bool isGenerator)
    {
        if (!Accept("for") || Peek() is not { } variable || !IsIdentifier(variable))
            return null;
        _at++;
        if (!Accept("in") || Or() is not { } iterable)
            return null;
        var conditions = new List<PyExpr>();
        while (Accept("if"))
        {
            if (Or() is not { } condition)
                return null;
            conditions.Add(condition);
        }
        return Peek() is "for" or "async" ? null : new PyComprehension(isGenerator, element, variable, iterable, conditions);
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
                return Parenthesized();
            case "[":
                return ListDisplay();
            case "{":
                return DictDisplay();
        }
        if (token[0] == '$')
            return _fStrings[int.Parse(token.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture)];
        if (token[0] == '#')
            return new PyConst(long.Parse(token.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture));
        if (token[0] == '~')
            return new PyConst(double.Parse(token.Substring(1), NumberStyles.Float, CultureInfo.InvariantCulture));
        if (token[0] == '\'')
            return new PyConst(token.Substring(1));
        return IsIdentifier(token) ? new PyName(token) : null;
    }
}
