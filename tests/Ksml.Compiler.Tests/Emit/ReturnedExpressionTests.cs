using Ksml.Compiler.Tests.Support;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Python;

namespace Ksml.Compiler.Tests.Emit;

/// <summary>
/// KSML's per-type default result (predicate: True, valueTransformer: value, …) is decided by the compiler and
/// handed to the runtime in the generated definition; the bridge only runs what it is given.
/// </summary>
[NonParallelizable]
public class ReturnedExpressionTests
{
    private const string Yaml = """
        streams:
          s:
            topic: s
            keyType: string
            valueType: string
        functions:
          keep_all:
            type: predicate
            code: unused = 1
          same_value:
            resultType: string
            type: valueTransformer
            code: unused = 1
          same_key:
            resultType: string
            type: keyTransformer
            code: unused = 1
          keep_aggregate:
            resultType: string
            type: aggregator
            code: unused = 1
          each:
            type: forEach
            code: x = 1
            expression: "'ignored'"
        pipelines:
          p:
            from: s
            filter: keep_all
            mapValues: same_value
            forEach: each
        """;

    [TestCase("keep_all", new object[] { "k", "v" }, true)]
    [TestCase("same_value", new object[] { "k", "v" }, "v")]
    [TestCase("same_key", new object[] { "k", "v" }, "k")]
    [TestCase("keep_aggregate", new object[] { "k", "v", "agg" }, "agg")]
    [TestCase("each", new object[] { "k", "v" }, null)]
    public void A_generated_function_returns_what_KSML_returns_for_its_type(string name, object[] arguments, object? expected)
    {
        var function = Generated(name);

        Assert.That(new PythonFunctionFactory().Create(function).Invoke(null, arguments), Is.EqualTo(expected));
    }

    [Test]
    public void The_default_points_at_the_function_and_a_forEach_expression_is_dropped()
    {
        Assert.That(Generated("same_value").Expression, Is.EqualTo(new PythonCode("value", 10, 1)));
        Assert.That(Generated("each").Expression, Is.Null, "forEach returns nothing, as in KSML");
    }

    private static KsmlFunctionDefinition Generated(string name) =>
        (KsmlFunctionDefinition)GeneratedCodeCompiler.Load(Support.Ksml.Compile(Yaml)).GetNestedType("Functions")!.GetField(name)!.GetValue(null)!;
}
