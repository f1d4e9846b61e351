namespace Ksml.Generators.Models;

/// <summary>One KSML file as the pipeline sees it: strings only, so equality is by content.</summary>
internal sealed record KsmlFileInput(string Path, string Text, string RelativePath, string Namespace);

/// <summary>A diagnostic reduced to plain data (no Roslyn Location), positions as the compiler gives them.</summary>
internal sealed record DiagnosticInfo(string Id, string Message, bool IsError, string Path, int Start, int Length, int Line, int Column, int EndLine, int EndColumn);

/// <summary>The generated source of one file, null when it has errors.</summary>
internal sealed record GeneratedSource(string HintName, string? Source, string ClassName);

/// <summary>What compiling one file produced, split so a comment edit that only moves diagnostics does not re-emit code.</summary>
/// <param name="Fingerprint">The text's <see cref="Ksml.Compiler.Checking.PythonCheckReport.Fingerprint"/>, to match a Python check report to the text it checked.</param>
internal sealed record KsmlFileResult(GeneratedSource Source, EquatableArray<DiagnosticInfo> Diagnostics, string Path, string Fingerprint);
