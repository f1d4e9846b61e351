using Ksml.Testing;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Python;

namespace Ksml.Runtime.Tests.Support;

/// <summary>Builds functions by hand for bridge tests: the same records the generator emits.</summary>
public static class Python
{
    public const string File = "/defs/orders.ksml.yaml";

    private static readonly Lazy<PythonFunctionFactory> DefaultFactory = new(() => new PythonFunctionFactory());

    public static PythonFunctionFactory Factory => DefaultFactory.Value;

    public static KsmlFunctionDefinition Definition(string name, string type, string[] fixedParameters, string? code = null, string? expression = null,
        string? globalCode = null, string? resultType = "json", string[]? stores = null, KsmlParameter[]? parameters = null,
        int line = 10, int codeLine = 12, int expressionLine = 20, int globalLine = 30, int column = 7) =>
        new("orders", name, type, File, line, fixedParameters, parameters ?? [],
            globalCode is null ? null : new PythonCode(globalCode, globalLine, column),
            code is null ? null : new PythonCode(code, codeLine, column),
            expression is null ? null : new PythonCode(expression, expressionLine, column + 6),
            resultType is null ? null : KsmlDataTypes.Parse(resultType), stores ?? []);

    public static IKsmlFunction Create(KsmlFunctionDefinition definition) => Factory.Create(definition);
}
