using System.Globalization;
using Ksml.Yaml;

namespace Ksml.Compiler.Diagnostics;

/// <summary>A located compiler message; plain data so it can flow through incremental pipelines.</summary>
public sealed record KsmlDiagnostic(string Id, DiagnosticSeverity Severity, string Message, string Path, SourceSpan Span)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    /// <summary>The MSBuild form: <c>file(line,col): error KSML0103: message</c>.</summary>
    public override string ToString() =>
        string.Format(CultureInfo.InvariantCulture, "{0}({1},{2}): {3} {4}: {5}",
            Path, Span.Line, Span.Column, Severity == DiagnosticSeverity.Error ? "error" : "warning", Id, Message);
}
