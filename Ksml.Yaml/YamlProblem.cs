namespace Ksml.Yaml;

/// <summary>Why YAML text could not be read, and where: the compiler reports it as KSML0000, the runner as a configuration error.</summary>
/// <param name="Span">Where the problem is.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record YamlProblem(SourceSpan Span, string Message);
