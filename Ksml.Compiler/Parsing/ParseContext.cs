using System.Collections.Generic;
using Ksml.Compiler.Diagnostics;
using Ksml.Yaml;

namespace Ksml.Compiler.Parsing;

/// <summary>What every parsing step shares: the file path and the diagnostics bag.</summary>
internal sealed class ParseContext
{
    public ParseContext(string path, List<KsmlDiagnostic> diagnostics)
    {
        Path = path;
        Diagnostics = diagnostics;
    }

    public string Path { get; }
    public List<KsmlDiagnostic> Diagnostics { get; }

    public void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object?[] args) =>
        Diagnostics.Add(descriptor.Create(Path, span, args));
}
