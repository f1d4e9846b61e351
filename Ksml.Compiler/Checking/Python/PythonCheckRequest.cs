using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Syntax;

namespace Ksml.Compiler.Checking;

/// <summary>
/// What the build-time Python check is asked: every function of some definitions, as the bridge will build it
/// (its snippets with their YAML places, its parameters, the names injected into it and into the shared
/// namespace). The check itself is <c>ksml_python_check.py</c>, run by whoever may start a process
/// (the MSBuild task, the <c>ksml</c> tool); the compiler only writes the question and reads the answer.
/// </summary>
public static class PythonCheckRequest
{
    /// <summary>The checker script, to run with <c>python3 -c</c> and the request on stdin.</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>Names every function of a definition reaches through the shared namespace, besides its stores.</summary>
    public static readonly IReadOnlyList<string> SharedNames = new[] { "log", "metrics", "trace" };

    /// <summary>The request, as JSON, for <paramref name="definitions"/> with <paramref name="modulePaths"/> put first on the import path.</summary>
    public static string Write(IReadOnlyList<BoundDefinition> definitions, IReadOnlyList<string> modulePaths)
    {
        var json = new StringBuilder();
        json.Append("{\"modulePaths\":[").Append(string.Join(",", modulePaths.Select(Quote))).Append("],\"definitions\":[");
        for (var i = 0; i < definitions.Count; i++)
        {
            if (i > 0)
                json.Append(',');
            WriteDefinition(json, definitions[i]);
        }
        return json.Append("]}").ToString();
    }

    private static void WriteDefinition(StringBuilder json, BoundDefinition definition)
    {
        var stores = definition.Functions.SelectMany(f => f.Stores).Select(s => s.Name).Distinct().OrderBy(n => n, System.StringComparer.Ordinal);
        json.Append("{\"path\":").Append(Quote(definition.Path))
            .Append(",\"shared\":[").Append(string.Join(",", SharedNames.Concat(stores).Select(Quote))).Append("],\"functions\":[");
        var first = true;
        foreach (var function in definition.Functions)
        {
            var syntax = function.Syntax;
            var extras = syntax.Parameters.Select(p => p.Name.Name).ToList();
            var bindings = new[] { "log", "metrics", "stores" }.Concat(function.Stores.Select(s => s.Name)).ToList();
            WriteFunction(json, ref first, function.Name, syntax.Name.Span.Line, function.FixedParameters, extras, bindings,
                callable: !syntax.IsInline, syntax.GlobalCode, syntax.Code, syntax.Expression);
            // A circuit breaker's fallback and a cache's key are expressions over the same parameters (ResilientFunction.Wrap).
            var resilience = syntax.Resilience;
            if (resilience?.CircuitBreaker?.Fallback is { } fallback)
                WriteFunction(json, ref first, function.Name + "_fallback", fallback.Span.Line, function.FixedParameters, extras,
                    new[] { "log", "metrics", "stores" }, callable: false, null, null, fallback);
            if (resilience?.Cache?.Key is { } cacheKey)
                WriteFunction(json, ref first, function.Name + "_cache_key", cacheKey.Span.Line, function.FixedParameters, extras,
                    new[] { "log", "metrics", "stores" }, callable: false, null, null, cacheKey);
        }
        json.Append("]}");
    }

    private static void WriteFunction(StringBuilder json, ref bool first, string name, int line, IEnumerable<string> fixedParameters,
        IEnumerable<string> extras, IEnumerable<string> bindings, bool callable, SnippetSyntax? globalCode, SnippetSyntax? code, SnippetSyntax? expression)
    {
        if (!first)
            json.Append(',');
        first = false;
        json.Append("{\"name\":").Append(Quote(name))
            .Append(",\"line\":").Append(line.ToString(CultureInfo.InvariantCulture))
            .Append(",\"callable\":").Append(callable ? "true" : "false")
            .Append(",\"fixed\":[").Append(string.Join(",", fixedParameters.Select(Quote)))
            .Append("],\"extras\":[").Append(string.Join(",", extras.Select(Quote)))
            .Append("],\"bindings\":[").Append(string.Join(",", bindings.Select(Quote))).Append(']');
        Snippet(json, "globalCode", globalCode);
        Snippet(json, "code", code);
        Snippet(json, "expression", expression);
        json.Append('}');
    }

    private static void Snippet(StringBuilder json, string part, SnippetSyntax? snippet)
    {
        if (snippet is null)
            return;
        json.Append(",\"").Append(part).Append("\":{\"text\":").Append(Quote(snippet.Text))
            .Append(",\"line\":").Append(snippet.Line.ToString(CultureInfo.InvariantCulture))
            .Append(",\"column\":").Append(snippet.Column.ToString(CultureInfo.InvariantCulture)).Append('}');
    }

    private static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (c < ' ' || char.IsSurrogate(c))
                        quoted.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        quoted.Append(c);
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }

    private static string ReadScript()
    {
        using var stream = typeof(PythonCheckRequest).Assembly.GetManifestResourceStream("Ksml.Compiler.Checking.Python.ksml_python_check.py")!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
