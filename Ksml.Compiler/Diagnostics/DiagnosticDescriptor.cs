using System.Globalization;
using Ksml.Yaml;

namespace Ksml.Compiler.Diagnostics;

/// <summary>One kind of diagnostic: a stable ID, a title and a message format.</summary>
public sealed class DiagnosticDescriptor
{
    public DiagnosticDescriptor(string id, string title, string messageFormat, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        Id = id;
        Title = title;
        MessageFormat = messageFormat;
        Severity = severity;
    }

    public string Id { get; }
    public string Title { get; }
    public string MessageFormat { get; }
    public DiagnosticSeverity Severity { get; }

    public KsmlDiagnostic Create(string path, SourceSpan span, params object?[] args) =>
        new(Id, Severity, string.Format(CultureInfo.InvariantCulture, MessageFormat, args), path, span);
}
