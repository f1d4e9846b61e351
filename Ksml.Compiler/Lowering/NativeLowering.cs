using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Checking;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Language;

namespace Ksml.Compiler.Lowering;

/// <summary>
/// A function's expression in C#, or why it stays in CPython. <see cref="Body"/> is the body of a method taking
/// <c>object?[] arguments</c> that calls <c>PythonSemantics</c>; <see cref="Reason"/> is set when it is null.
/// </summary>
public sealed record NativeFunctionPlan(IReadOnlyList<string>? Body, string? Reason)
{
    public bool IsNative => Body is not null;
}

/// <summary>
/// Decides which functions run as C#: a plain expression over the fixed parameters and literals, in the subset
/// <see cref="PythonExpressionParser"/> reads, whose builtins no snippet of the definition could have rebound.
/// Everything else runs in CPython, and a definition mixes both freely.
/// </summary>
public static class NativeLowering
{
    private static readonly HashSet<string> Builtins = new() { "len", "str", "int", "float", "round", "abs", "min", "max", "dict", "sum", "any", "all" };

    public static NativeFunctionPlan Plan(BoundFunction function, BoundDefinition definition)
    {
        var syntax = function.Syntax;
        if (syntax.Native == false)
            return Python("native: false");
        if (syntax.Expression is null || syntax.Code is not null || syntax.GlobalCode is not null)
            return Python("not a plain expression");
        if (function.Kind.Result == ResultShape.None || syntax.Parameters.Count > 0 || function.Stores.Count > 0 || syntax.Batch is not null || syntax.Concurrency is not null)
            return Python("its function type, parameters, stores or calls need the bridge");
        if (PythonExpressionParser.Parse(syntax.Expression.Text) is not { } expression)
            return Python("uses Python beyond the compiled subset");
        var parameters = function.FixedParameters;
        var names = new HashSet<string>();
        Collect(expression, names, new HashSet<string>());
        // Names any snippet of the definition mentions could rebind a builtin in the shared globals.
        var rebindable = new HashSet<string>(definition.Functions.Select(f => f.Name));
        foreach (var other in definition.Functions)
            foreach (var snippet in new[] { other.Syntax.GlobalCode, other.Syntax.Code })
                if (snippet is not null)
                    rebindable.UnionWith(PythonNames.In(snippet.Text));
        foreach (var name in names)
        {
            var isParameter = parameters.Contains(name);
            if (!isParameter && !Builtins.Contains(name))
                return Python("reads '" + name + "'");
            if (!isParameter && rebindable.Contains(name))
                return Python("'" + name + "' may be rebound by the definition's Python");
        }
        var lowering = new ExpressionEmitter();
        if (lowering.Emit(expression) is not { } result)
            return Python("uses Python beyond the compiled subset");
        var body = new List<string>();
        for (var i = 0; i < parameters.Count; i++)
            if (names.Contains(parameters[i]))
                body.Add("var " + Local(parameters[i]) + " = PythonSemantics.Argument(arguments[" + i + "]);");
        // dict(...) and {…} already build the fresh JSON object the bridge would return; other results are converted.
        body.Add(expression is PyCall { Function: "dict" } or PyDict ? "return " + result + ";" : "return PythonSemantics.Result(" + result + ");");
        return new NativeFunctionPlan(body, null);
    }

    private static NativeFunctionPlan Python(string reason) => new(null, reason);

    private static string Local(string parameter) => "@" + parameter;

    /// <summary>The free names an expression reads; a comprehension's variable is bound within it.</summary>
    private static void Collect(PyExpr expression, HashSet<string> names, HashSet<string> bound)
    {
        void Each(IEnumerable<PyExpr> all)
        {
            foreach (var e in all) Collect(e, names, bound);
        }
        switch (expression)
        {
            case PyName name when !bound.Contains(name.Name): names.Add(name.Name); break;
            case PySubscript s: Each(new[] { s.Target, s.Index }); break;
            case PyCall c:
                names.Add(c.Function);
                Each(c.Arguments);
                Each(c.Keywords.Select(k => k.Value));
                break;
            case PyGet g: Each(new[] { g.Target, g.Key }); if (g.Default is not null) Collect(g.Default, names, bound); break;
            case PyMethod m: Collect(m.Target, names, bound); Each(m.Arguments); break;
            case PyBinary b: Each(new[] { b.Left, b.Right }); break;
            case PyUnary u: Collect(u.Operand, names, bound); break;
            case PyBoolean b: Each(b.Operands); break;
            case PyCompare c: Each(c.Operands); break;
            case PyConditional c: Each(new[] { c.Test, c.Body, c.OrElse }); break;
            case PyList l: Each(l.Items); break;
            case PyTuple t: Each(t.Items); break;
            case PyDict d: Each(d.Entries.SelectMany(e => new[] { e.Key, e.Value })); break;
            case PyFString f: Each(f.Parts.Where(p => p.Expression is not null).Select(p => p.Expression!)); break;
            case PyComprehension c:
                Collect(c.Iterable, names, bound);
                var inner = new HashSet<string>(bound) { c.Variable };
                Collect(c.Element, names, inner);
                foreach (var condition in c.Conditions) Collect(condition, names, inner);
                break;
        }
    }

    /// <summary>C# for an expression; null when a construct has no exact lowering (then the function stays in Python).</summary>
    private sealed class ExpressionEmitter
    {
        private int _temporaries;
        private readonly Dictionary<string, string> _comprehensionVariables = new();

        private string Temporary() => "t" + (++_temporaries).ToString(CultureInfo.InvariantCulture);

        public string? Emit(PyExpr expression)
        {
            switch (expression)
            {
                case PyConst c:
                    return Constant(c.Value);
                case PyName n:
                    return _comprehensionVariables.TryGetValue(n.Name, out var variable) ? variable : Local(n.Name);
                case PySubscript s:
                    return Call("Item", s.Target, s.Index);
                case PyGet g:
                    return Both(Emit(g.Target), Emit(g.Key), g.Default is null ? "null" : Emit(g.Default), (t, k, d) => "PythonSemantics.Get(" + t + ", " + k + ", " + d + ")");
                case PyMethod m:
                    return StrMethod(m);
                case PyUnary u:
                    var operand = Emit(u.Operand);
                    return operand is null ? null : "PythonSemantics." + (u.Operator switch { "not" => "Not", "-" => "Negate", _ => "Plus" }) + "(" + operand + ")";
                case PyBinary b:
                    var method = b.Operator switch { "+" => "Add", "-" => "Subtract", "*" => "Multiply", "/" => "Divide", "//" => "FloorDivide", "%" => "Modulo", _ => null };
                    return method is null ? null : Call(method, b.Left, b.Right);
                case PyBoolean b:
                    return Boolean(b);
                case PyCompare c:
                    return Compare(c);
                case PyConditional c:
                    return Both(Emit(c.Test), Emit(c.Body), Emit(c.OrElse), (t, y, n) => "(PythonSemantics.Truthy(" + t + ") ? " + y + " : " + n + ")");
                case PyCall c:
                    return BuiltinCall(c);
                case PyList l:
                    return Items(l.Items) is { } items ? "PythonSemantics.ListOf(" + items + ")" : null;
                case PyTuple t:
                    return Items(t.Items) is { } tupleItems ? "PythonSemantics.TupleOf(" + tupleItems + ")" : null;
                case PyDict d:
                    return DictDisplay(d);
                case PyFString f:
                    return FString(f);
                case PyComprehension { IsGenerator: false } c:
                    return Generate(c) is { } generated ? "PythonSemantics.ListOf(" + generated + ")" : null;
                default:
                    return null; // a generator expression outside the builtins that consume one
            }
        }

        private string? StrMethod(PyMethod call)
        {
            var arguments = new[] { call.Target }.Concat(call.Arguments).ToArray();
            return (call.Method, call.Arguments.Count) switch
            {
                ("lower", 0) => Call("Lower", arguments),
                ("upper", 0) => Call("Upper", arguments),
                ("strip", 0) => Call("Strip", arguments),
                ("split", 0 or 1) => Call("Split", arguments),
                ("startswith", 1) => Call("StartsWith", arguments),
                ("endswith", 1) => Call("EndsWith", arguments),
                _ => null,
            };
        }

        private string? Items(IReadOnlyList<PyExpr> items)
        {
            var emitted = items.Select(Emit).ToList();
            return emitted.Any(e => e is null) ? null : "new object?[] { " + string.Join(", ", emitted) + " }";
        }

        private string? DictDisplay(PyDict dict)
        {
            var keys = dict.Entries.Select(e => Emit(e.Key)).ToList();
            var values = dict.Entries.Select(e => Emit(e.Value)).ToList();
            if (keys.Any(k => k is null) || values.Any(v => v is null))
                return null;
            return "PythonSemantics.Dict(new object?[] { " + string.Join(", ", keys) + " }, new object?[] { " + string.Join(", ", values) + " })";
        }

        private string? FString(PyFString f)
        {
            var parts = new List<string>();
            foreach (var part in f.Parts)
            {
                if (part.Expression is null)
                {
                    parts.Add(EmitNames.Literal(part.Literal!));
                    continue;
                }
                if (Emit(part.Expression) is not { } value)
                    return null;
                parts.Add("PythonSemantics.Format(" + value + ", " + EmitNames.Literal(part.Spec) + ")");
            }
            return parts.Count == 0 ? "(object)\"\"" : "(object)string.Concat(new string[] { " + string.Join(", ", parts) + " })";
        }

        /// <summary>A comprehension as a lazy sequence: its variable is a lambda parameter, named apart from the parameters.</summary>
        private string? Generate(PyComprehension comprehension)
        {
            if (Emit(comprehension.Iterable) is not { } iterable)
                return null;
            var parameter = "c" + (++_temporaries).ToString(CultureInfo.InvariantCulture);
            var shadowed = _comprehensionVariables.TryGetValue(comprehension.Variable, out var outer) ? outer : null;
            _comprehensionVariables[comprehension.Variable] = parameter;
            try
            {
                var element = Emit(comprehension.Element);
                var conditions = comprehension.Conditions.Select(Emit).ToList();
                if (element is null || conditions.Any(c => c is null))
                    return null;
                var where = conditions.Count == 0
                    ? "null"
                    : "(object? " + parameter + ") => " + string.Join(" && ", conditions.Select(c => "PythonSemantics.Truthy(" + c + ")"));
                return "PythonSemantics.Generate(" + iterable + ", " + where + ", (object? " + parameter + ") => " + element + ")";
            }
            finally
            {
                if (shadowed is null) _comprehensionVariables.Remove(comprehension.Variable);
                else _comprehensionVariables[comprehension.Variable] = shadowed;
            }
        }

        private string? Call(string method, params PyExpr[] arguments)
        {
            var emitted = arguments.Select(Emit).ToList();
            return emitted.Any(e => e is null) ? null : "PythonSemantics." + method + "(" + string.Join(", ", emitted) + ")";
        }

        private static string? Both(string? a, string? b, string? c, System.Func<string, string, string, string> combine) =>
            a is null || b is null || c is null ? null : combine(a, b, c);

        private string? BuiltinCall(PyCall call)
        {
            var count = call.Arguments.Count;
            if (call.Function == "dict")
            {
                if (count != 1 || call.Keywords.Count == 0 || call.Keywords.Select(k => k.Key).Distinct().Count() != call.Keywords.Count)
                    return null;
                var source = Emit(call.Arguments[0]);
                var values = call.Keywords.Select(k => Emit(k.Value)).ToList();
                if (source is null || values.Any(v => v is null))
                    return null;
                return "PythonSemantics.Dict(" + source + ", new[] { " + string.Join(", ", call.Keywords.Select(k => EmitNames.Literal(k.Key))) + " }, new object?[] { " + string.Join(", ", values) + " })";
            }
            if (call.Keywords.Count > 0)
                return null;
            var arguments = call.Arguments.ToArray();
            if (count == 1 && call.Function is "sum" or "any" or "all" or "min" or "max")
            {
                // One iterable argument; a generator expression is consumed lazily, as Python consumes it.
                var iterable = arguments[0] is PyComprehension { IsGenerator: true } generator ? Generate(generator) : Emit(arguments[0]);
                return iterable is null ? null : "PythonSemantics." + call.Function switch
                {
                    "sum" => "Sum", "any" => "Any", "all" => "All", "min" => "MinOf", _ => "MaxOf",
                } + "(" + iterable + ")";
            }
            return (call.Function, count) switch
            {
                ("len", 1) => Call("Len", arguments),
                ("str", 1) => Call("ToStr", arguments),
                ("int", 1) => Call("ToInt", arguments),
                ("float", 1) => Call("ToFloat", arguments),
                ("abs", 1) => Call("Abs", arguments),
                ("round", 1 or 2) => Call("Round", arguments),
                ("min", >= 2) => Call("Min", arguments),
                ("max", >= 2) => Call("Max", arguments),
                _ => null,
            };
        }

        /// <summary>Python returns the deciding operand: <c>a and b</c> is a when a is falsy, else b.</summary>
        private string? Boolean(PyBoolean boolean)
        {
            var emitted = boolean.Operands.Select(Emit).ToList();
            if (emitted.Any(e => e is null))
                return null;
            var result = emitted[emitted.Count - 1]!;
            for (var i = emitted.Count - 2; i >= 0; i--)
            {
                var t = Temporary();
                var keep = boolean.Operator == "and" ? "!PythonSemantics.Truthy(" + t + ")" : "PythonSemantics.Truthy(" + t + ")";
                result = "((" + emitted[i] + ") is var " + t + " && " + keep + " ? " + t + " : " + result + ")";
            }
            return result;
        }

        /// <summary><c>a &lt; b &lt; c</c> is <c>a &lt; b and b &lt; c</c>, each operand evaluated once and only while the chain holds.</summary>
        private string? Compare(PyCompare compare)
        {
            var operands = compare.Operands.Select(Emit).ToList();
            if (operands.Any(o => o is null))
                return null;
            var count = compare.Operators.Count;
            if (count == 1)
                return Test(compare, 0, operands[0]!, operands[1]!);
            var conditions = new List<string>();
            var left = Temporary();
            conditions.Add("(" + operands[0] + ") is var " + left);
            for (var i = 0; i < count - 1; i++)
            {
                var right = Temporary();
                conditions.Add("(" + operands[i + 1] + ") is var " + right);
                if (Test(compare, i, left, right) is not { } test)
                    return null;
                conditions.Add("(bool)" + test);
                left = right;
            }
            var last = Test(compare, count - 1, left, operands[count]!);
            return last is null ? null : "(" + string.Join(" && ", conditions) + " ? " + last + " : PythonSemantics.False)";
        }

        private static string? Test(PyCompare compare, int index, string left, string right) => compare.Operators[index] switch
        {
            "is" when compare.Operands[index + 1] is PyConst { Value: null } => "PythonSemantics.IsNone(" + left + ")",
            "is not" when compare.Operands[index + 1] is PyConst { Value: null } => "PythonSemantics.IsNotNone(" + left + ")",
            "is" or "is not" => null, // identity beyond None depends on CPython's object caching
            var op => "PythonSemantics." + op switch
            {
                "<" => "Lt", "<=" => "LtE", ">" => "Gt", ">=" => "GtE", "==" => "Eq", "!=" => "NotEq", "in" => "In", _ => "NotIn",
            } + "(" + left + ", " + right + ")",
        };

        private static string Constant(object? value) => value switch
        {
            null => "(object?)null",
            bool b => b ? "PythonSemantics.True" : "PythonSemantics.False",
            long l => "(object)" + l.ToString(CultureInfo.InvariantCulture) + "L",
            double d when double.IsPositiveInfinity(d) => "(object)double.PositiveInfinity",
            double d => "(object)" + d.ToString("R", CultureInfo.InvariantCulture) + "D",
            string s => EmitNames.Literal(s),
            _ => "null",
        };
    }
}
