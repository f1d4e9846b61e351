using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Ksml.Compiler.Lowering;
using Ksml.Compiler.Tests.Support;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Functions.Native;
using Ksml.Runtime.Python;
using Microsoft.CodeAnalysis;

namespace Ksml.Compiler.Tests.Lowering;

/// <summary>
/// Every lowerable construct run through the C# the compiler emits and through CPython on thousands of generated
/// records; results must agree bit for bit (type, value, float bits, dict key order) and so must the exceptions.
/// </summary>
[NonParallelizable]
public class NativeDifferentialTests
{
    /// <summary>Each construct of the subset, and the corners where Python's semantics differ from C#'s.</summary>
    private static readonly string[] Expressions =
    [
        "value[\"a\"] > 0",
        "value[\"a\"] + value[\"b\"]",
        "value[\"a\"] - 7 * value[\"a\"]",
        "value[\"a\"] * value[\"a\"] * value[\"a\"]",
        "value[\"a\"] / 3",
        "value[\"a\"] // -3",
        "value[\"a\"] % -3",
        "-value[\"a\"] // 7 + value[\"a\"] % 7",
        "value[\"b\"] / value[\"a\"]",
        "round(value[\"b\"], 2)",
        "round(value[\"b\"] * 3, 1)",
        "round(value[\"b\"])",
        "round(value[\"a\"] * value[\"b\"], 2)",
        "abs(value[\"a\"]) + abs(value[\"b\"])",
        "min(value[\"a\"], value[\"b\"], 3)",
        "max(value[\"b\"], value[\"a\"])",
        "int(value[\"b\"])",
        "float(value[\"a\"])",
        "str(value[\"b\"])",
        "str(value[\"a\"]) + \"/\" + str(value[\"t\"]) + str(value.get(\"n\"))",
        "len(value[\"s\"])",
        "len(value)",
        "value[\"s\"] + key",
        "value[\"s\"] < key",
        "\"x\" in value[\"s\"]",
        "\"d\" in value and \"zz\" not in value",
        "value.get(\"missing\", 5)",
        "value.get(\"a\") is None",
        "value.get(\"n\") is not None",
        "value[\"t\"] and value[\"a\"]",
        "value[\"s\"] or value[\"a\"] or \"empty\"",
        "not value[\"s\"]",
        "value[\"a\"] if value[\"t\"] else value[\"b\"]",
        "0 < value[\"a\"] <= 100 < value[\"a\"] * 2",
        "value[\"a\"] == value[\"b\"]",
        "value[\"t\"] + 1",
        "value[\"d\"][\"x\"] * 2",
        "value[\"l\"][-1]",
        "value[\"l\"][value[\"a\"]]",
        "dict(value, total=round(value[\"a\"] * value[\"b\"], 2))",
        "dict(value, a=None, extra=str(value[\"b\"]))",
        "value[\"d\"]",
        "1e400 > value[\"b\"]",
        // f-strings: str() of each field, "d" and ".Nf" specs, escapes and doubled braces.
        "f\"{key}-{value['a']}\"",
        "f\"{value['b']:.2f} and {value['a']:d}\"",
        "f\"total={value.get('b', 0):.1f}!{{x}}\\t{value['t']}{value.get('n')}\"",
        "f\"{value['b']:.0f}|{value['b'] * 1e10:.3f}|{value['a']:.12f}\"",
        "f\"{value['s']}\" + f'{len(value)}'",
        // Displays: lists, tuples, dicts (a repeated key keeps its place and takes the last value), nesting.
        "[value[\"s\"], value.get(\"n\"), [value.get(\"a\")]]",
        "(key, dict(value, seen=True))",
        "{\"id\": key, \"a\": value.get(\"a\"), \"tags\": [value.get(\"s\"), (1, 2.5)], \"d\": value.get(\"d\")}",
        "{\"k\": value.get(\"a\"), \"j\": 1, \"k\": value.get(\"b\")}",
        "value[\"l\"]",
        "value[\"s\"] in [\"x\", \"abc\", \"\"] or value.get(\"a\") in (1, 2, 3, 7)",
        "value.get(\"b\") not in value[\"l\"]",
        "len([1, 2]) + len(()) + len((key,)) if [] else [1][-1]",
        // str methods: exact on ASCII, Python's beyond it.
        "value[\"s\"].lower() + key.upper()",
        "value[\"s\"].strip().split() + key.split(\"1\")",
        "[(w, w) for w in value[\"s\"].lower().split() if w]",
        "value[\"s\"].startswith(\"a\") or value[\"s\"].endswith(\"y\")",
        // Comprehensions and the builtins that consume them.
        "[x * 2 for x in value[\"l\"]]",
        "[x for x in value[\"l\"] if x > 1 if x < 4]",
        "[value for value in value[\"l\"]]",
        "[k for k in value if k != \"d\"]",
        "len([c for c in value[\"s\"] if c != \"x\"])",
        "sum(len(k) for k in value) + sum([value[\"a\"], 1])",
        "sum(x for x in value[\"l\"])",
        "any(x > 2 for x in value[\"l\"]) and all([x >= 0 for x in value[\"l\"]])",
        "max(value[\"l\"]) - min(x for x in value[\"l\"])",
        "[{\"v\": x, \"w\": [x]} for x in value.get(\"d\", {\"y\": []})[\"y\"]]",
        // Always raise: the C# hands every record to CPython, whose KeyError, ZeroDivisionError and TypeError are the result.
        "value[\"missing\"]",
        "value[\"a\"] / 0",
        "value[\"s\"] + value[\"a\"]",
    ];

    private const int AlwaysRaising = 3;

    private static readonly Lazy<PythonFunctionFactory> Python = new(() => new PythonFunctionFactory());

    [Test]
    public void Every_construct_agrees_with_CPython_on_generated_records()
    {
        var lowered = Lower(Expressions);
        var records = Records(1500, seed: 20261205);
        var disagreements = new List<string>();
        long native = 0, total = 0;
        for (var e = 0; e < Expressions.Length; e++)
        {
            var python = Python.Value.Create(Definition(e, Expressions[e]));
            var compiled = new NativeFunction(lowered[e], python);
            foreach (var (key, json) in records)
            {
                var expected = Outcome(() => python.Invoke(null, key, JsonNode.Parse(json)));
                var actual = Outcome(() => compiled.Invoke(null, key, JsonNode.Parse(json)));
                if (expected != actual && disagreements.Count < 20)
                    disagreements.Add($"{Expressions[e]} on {json}: CPython {expected}, C# {actual}");
            }
            var (calls, inPython) = compiled.Counts;
            if (e >= Expressions.Length - AlwaysRaising)
                continue;
            Assert.That(calls - inPython, Is.GreaterThan(0), () => $"'{Expressions[e]}' never ran as C#: " + FirstFailure(lowered[e], records));
            native += calls - inPython;
            total += calls;
        }
        Assert.That(disagreements, Is.Empty);
        // The records are made to hit the corners, so many go to Python; still most are decided in C#.
        Assert.That((double)native / total, Is.GreaterThan(0.6), $"{native} of {total} calls ran as C#");
    }

    [Test]
    public void Float_repr_and_round_match_CPython_on_hard_values()
    {
        var values = new List<double> { 0.1, 2.675, 1.005, 0.125, 0.375, -0.0, 1e16, 1e15, 123456789.125, 5e-324, 1.7976931348623157e308, 1e-5, 0.0001, 9007199254740993, -2.5, 2.5, 0.5, 1.5 };
        var random = new Random(7);
        for (var i = 0; i < 3000; i++)
            values.Add(BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : random.NextDouble() * 1000);
        for (var i = 0; i < 3000; i++)
            values.Add(Math.Round((random.NextDouble() - 0.5) * 2000, random.Next(0, 6)) + random.Next(0, 3) * 0.005);
        var repr = Python.Value.Create(Definition(900, "str(value[\"b\"])"));
        var round2 = Python.Value.Create(Definition(901, "round(value[\"b\"], 2)"));
        var round0 = Python.Value.Create(Definition(902, "round(value[\"b\"], 0)"));
        var wrong = new List<string>();
        foreach (var d in values)
        {
            var json = new JsonObject { ["b"] = JsonValue.Create(d) };
            if ((string)repr.Invoke(null, "k", json)! != PythonSemantics.FloatRepr(d))
                wrong.Add($"str({d:R}): CPython {repr.Invoke(null, "k", json)}, C# {PythonSemantics.FloatRepr(d)}");
            foreach (var (function, digits) in new[] { (round2, 2L), (round0, 0L) })
            {
                var expected = (double)function.Invoke(null, "k", json)!;
                var actual = (double)PythonSemantics.Round(d, digits);
                if (BitConverter.DoubleToInt64Bits(expected) != BitConverter.DoubleToInt64Bits(actual))
                    wrong.Add($"round({d:R}, {digits}): CPython {expected:R}, C# {actual:R}");
            }
        }
        Assert.That(wrong.Take(20), Is.Empty);
    }

    [Test]
    public void A_call_decided_in_CSharp_is_timed_like_a_Python_call()
    {
        var recorded = new List<(double Milliseconds, string? Function)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // By name: the instrument may be published while KsmlMetrics' static fields are still being set.
            if (instrument.Meter.Name == Ksml.Runtime.Observability.KsmlMetrics.MeterName && instrument.Name == "function.duration")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, ms, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "function" && tag.Value is "f950")
                    lock (recorded) recorded.Add((ms, (string)tag.Value));
        });
        listener.Start();
        var python = Python.Value.Create(Definition(950, "value[\"a\"] > 0"));
        var compiled = new NativeFunction(Lower(["value[\"a\"] > 0"])[0], python);

        Assert.That(compiled.Invoke(null, "k", JsonNode.Parse("{\"a\": 3}")), Is.True);
        Assert.That(compiled.Counts, Is.EqualTo((1L, 0L)), "decided in C#");
        Assert.That(recorded, Has.Count.EqualTo(1), "ksml_execution_time and function.duration count the call");
    }

    [Test]
    public void Only_the_subset_is_lowered_and_the_reason_is_given_otherwise()
    {
        Assert.That(PythonExpressionParser.Parse("f\"{value}\""), Is.Not.Null);
        Assert.That(PythonExpressionParser.Parse("f\"{value!r}\""), Is.Null, "a conversion");
        Assert.That(PythonExpressionParser.Parse("f\"{value=}\""), Is.Null, "a self-documenting field");
        Assert.That(PythonExpressionParser.Parse("f\"{value:>5}\""), Is.Null, "a spec beyond d and .Nf");
        Assert.That(PythonExpressionParser.Parse("f\"{value['a'] != 1}\""), Is.Not.Null);
        Assert.That(PythonExpressionParser.Parse("rf\"{value}\""), Is.Null);
        Assert.That(PythonExpressionParser.Parse("value ** 2"), Is.Null);
        Assert.That(PythonExpressionParser.Parse("[x for x in value]"), Is.Not.Null);
        Assert.That(PythonExpressionParser.Parse("[x for x in value for y in x]"), Is.Null, "a second for");
        Assert.That(PythonExpressionParser.Parse("[a for a, b in value]"), Is.Null, "a tuple target");
        Assert.That(PythonExpressionParser.Parse("{x for x in value}"), Is.Null, "a set comprehension");
        Assert.That(PythonExpressionParser.Parse("{**value}"), Is.Null);
        Assert.That(PythonExpressionParser.Parse("value[1:2]"), Is.Null, "a slice");
        Assert.That(PythonExpressionParser.Parse("value['a']\nvalue['b']"), Is.Null);
        Assert.That(PythonExpressionParser.Parse("value['a'] >\n 0"), Is.Null, "a line break outside brackets");
        Assert.That(PythonExpressionParser.Parse("(value['a'] >\n 0)  # fine"), Is.Not.Null);

        Assert.That(Plan("value['a'] > 0"), Is.EqualTo((true, (string?)null)));
        Assert.That(Plan("value['a'] > 0", "\n    native: false"), Is.EqualTo((false, "native: false")));
        Assert.That(Plan("value['a'] > limit"), Is.EqualTo((false, "reads 'limit'")));
        Assert.That(Plan("len(value) > 0", "\n    globalCode: x = 1"), Is.EqualTo((false, "not a plain expression")));
        Assert.That(Plan("value['a'] ** 2"), Is.EqualTo((false, "uses Python beyond the compiled subset")));
        Assert.That(Plan("[x for x in value['l'] if x > limit]"), Is.EqualTo((false, "reads 'limit'")), "free names inside a comprehension");
        Assert.That(Plan("[x for x in value['l']] + [x]"), Is.EqualTo((false, "reads 'x'")), "the variable is bound only inside");
        Assert.That(Plan("(x for x in value)"), Is.EqualTo((false, "uses Python beyond the compiled subset")), "a generator outside sum/any/all/min/max");
    }

    private static (bool, string?) Plan(string expression, string extra = "")
    {
        var model = Support.Ksml.Compile(KsmlWith(expression).Replace("    type: valueTransformer", "    type: valueTransformer" + extra)).Model!;
        var plan = NativeLowering.Plan(model.Functions.Single(), model);
        return (plan.IsNative, plan.Reason);
    }

    private static string FirstFailure(KsmlNativeExpression native, List<(string Key, string Json)> records)
    {
        try
        {
            native([records[0].Key, JsonNode.Parse(records[0].Json)]);
            return "no failure on " + records[0].Json;
        }
        catch (Exception ex)
        {
            return ex.ToString();
        }
    }

    /// <summary>The lowered method for each expression, compiled with Roslyn as the generated code is.</summary>
    private static KsmlNativeExpression[] Lower(string[] expressions)
    {
        var source = new System.Text.StringBuilder("using Ksml.Runtime.Functions.Native;\npublic static class Lowered\n{\n");
        for (var i = 0; i < expressions.Length; i++)
        {
            var model = Support.Ksml.Compile(KsmlWith(expressions[i])).Model!;
            var plan = NativeLowering.Plan(model.Functions.Single(), model);
            Assert.That(plan.IsNative, $"'{expressions[i]}' should lower: {plan.Reason}");
            source.Append("    public static object? F").Append(i).Append("(object?[] arguments)\n    {\n");
            foreach (var line in plan.Body!)
                source.Append("        ").Append(line).Append('\n');
            source.Append("    }\n");
        }
        source.Append("}\n");
        using var image = new MemoryStream();
        var emitted = GeneratedCodeCompiler.Create(source.ToString()).Emit(image);
        Assert.That(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        var type = Assembly.Load(image.ToArray()).GetType("Lowered")!;
        return [.. expressions.Select((_, i) => type.GetMethod("F" + i)!.CreateDelegate<KsmlNativeExpression>())];
    }

    private static string KsmlWith(string expression) => $$"""
        streams:
          s:
            topic: s
            keyType: string
            valueType: json
        functions:
          f:
            type: valueTransformer
            expression: '{{expression.Replace("'", "''")}}'
        pipelines:
          p:
            from: s
            mapValues: f
            to: s
        """;

    private static KsmlFunctionDefinition Definition(int index, string expression) =>
        new("differential", "f" + index.ToString(CultureInfo.InvariantCulture), "valueTransformer", "differential.ksml.yaml", 1,
            ["key", "value"], [], null, null, new PythonCode(expression, 1, 1), null, []);

    /// <summary>A result as text that tells types and float bits apart; an exception by its type and message.</summary>
    private static string Outcome(Func<object?> call)
    {
        try
        {
            return Describe(call());
        }
        catch (KsmlFunctionException ex)
        {
            return "raised " + ex.Message;
        }
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        bool b => "bool " + b,
        long l => "int " + l.ToString(CultureInfo.InvariantCulture),
        double d => "float " + BitConverter.DoubleToInt64Bits(d).ToString("x16", CultureInfo.InvariantCulture),
        string s => "str " + s,
        JsonNode node => "json " + Json(node),
        object?[] tuple => "tuple (" + string.Join(", ", tuple.Select(Describe)) + ")",
        System.Collections.IEnumerable list => "list [" + string.Join(", ", list.Cast<object?>().Select(Describe)) + "]",
        _ => value.GetType().Name + " " + value,
    };

    private static readonly Confluent.Kafka.SerializationContext ValueContext = new(Confluent.Kafka.MessageComponentType.Value, "out");

    /// <summary>A JSON result as the bytes the json serde writes to Kafka (key order, number text and escapes included).</summary>
    private static string Json(JsonNode node)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(KsmlDataType.Of<JsonNode>("json", "json").Serde().Serialize(node, ValueContext));
        }
        catch (ArgumentException ex)
        {
            return "unwritable: " + ex.GetType().Name; // infinity has no JSON form, on either side
        }
    }

    /// <summary>Orders whose fields cover the corners: negatives, zero, 2^53 and beyond, ties, -0.0, unicode, missing fields.</summary>
    private static List<(string Key, string Json)> Records(int count, int seed)
    {
        var random = new Random(seed);
        long[] ints = [0, 1, -1, 2, -3, 7, 100, -100, 3, 9007199254740993, -9007199254740993, 4611686018427387904, long.MaxValue, long.MinValue + 1, 123456789];
        string[] floats = ["0.5", "1.5", "2.675", "-0.0", "0.0", "1e16", "1e-5", "19.99", "-2.5", "3.0", "1.005", "1e308", "7", "-7", "12345.678", "1.50", "-0", "1E2", "0.10", "1e15", "123456789012345678"];
        string[] strings = ["", "x", "abc", "héllo", "x😀y", "😀", "Zx", "a\\nb", "\\u00e9", " Two  words\\t", "\\u001fA b\\u00a0C ", "ß İ \\u0085x", "x,y,,z"];
        var records = new List<(string, string)>();
        for (var i = 0; i < count; i++)
        {
            var fields = new List<string>();
            long a = random.Next(4) == 0 ? ints[random.Next(ints.Length)] : random.Next(-1000, 1000);
            if (random.Next(30) != 0) fields.Add($"\"a\": {(random.Next(10) == 0 ? a + ".0" : a.ToString(CultureInfo.InvariantCulture))}");
            var b = random.Next(3) == 0 ? floats[random.Next(floats.Length)] : (random.NextDouble() * 200 - 100).ToString("R", CultureInfo.InvariantCulture);
            if (random.Next(30) != 0) fields.Add($"\"b\": {(random.Next(15) == 0 ? "\"text\"" : b)}");
            if (random.Next(20) != 0) fields.Add($"\"s\": \"{strings[random.Next(strings.Length)]}\"");
            if (random.Next(2) == 0) fields.Add("\"n\": null");
            fields.Add($"\"t\": {(random.Next(2) == 0 ? "true" : "false")}");
            if (random.Next(3) != 0) fields.Add($"\"d\": {{\"x\": {random.Next(-5, 5)}, \"y\": [1, 2.5, \"z\"]}}");
            fields.Add($"\"l\": [{string.Join(", ", Enumerable.Range(0, random.Next(0, 4)).Select(n => (n * 1.5).ToString("R", CultureInfo.InvariantCulture)))}]");
            records.Add((strings[random.Next(strings.Length)] + i.ToString(CultureInfo.InvariantCulture), "{" + string.Join(", ", fields.OrderBy(_ => random.Next())) + "}"));
        }
        return records;
    }
}
