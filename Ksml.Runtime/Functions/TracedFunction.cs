using System.Diagnostics;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Observability;

namespace Ksml.Runtime.Functions;

/// <summary>A KSML function whose every call is a span, named after the function and carrying its YAML file and line.</summary>
internal sealed class TracedFunction(IKsmlFunction inner) : IKsmlFunction
{
    private readonly string _name = inner.Definition.Definition + "." + inner.Definition.Name;

    public KsmlFunctionDefinition Definition => inner.Definition;

    public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments)
    {
        using var span = KsmlTracing.Source.StartActivity(_name);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("code.function.name", Definition.Name);
            span.SetTag("code.file.path", Definition.SourcePath);
            span.SetTag("code.line.number", Definition.Line);
            span.SetTag("ksml.namespace", Definition.Definition);
            span.SetTag("ksml.function.type", Definition.Type);
        }
        try
        {
            return inner.Invoke(stores, arguments);
        }
        catch (Exception ex)
        {
            KsmlTracing.Fail(span, ex);
            throw;
        }
    }

    /// <summary>Traced only while tracing is on: otherwise a call pays nothing for it.</summary>
    public static IKsmlFunction Wrap(IKsmlFunction function, bool tracing) => tracing ? new TracedFunction(function) : function;
}
