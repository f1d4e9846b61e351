namespace Ksml.Compiler.Diagnostics;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}
