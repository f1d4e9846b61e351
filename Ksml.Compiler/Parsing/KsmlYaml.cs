using System.Collections.Generic;
using Ksml.Compiler.Diagnostics;
using Ksml.Yaml;

namespace Ksml.Compiler.Parsing;

/// <summary>Reads a KSML file (a definition or a test suite) into its located YAML tree; what cannot be read is KSML0000.</summary>
internal static class KsmlYaml
{
    public static YamlNode? Read(string path, string text, ICollection<KsmlDiagnostic> diagnostics)
    {
        var problems = new List<YamlProblem>();
        var root = YamlSyntaxReader.Read(text, problems);
        foreach (var problem in problems)
            diagnostics.Add(DiagnosticDescriptors.MalformedYaml.Create(path, problem.Span, problem.Message));
        return root;
    }
}
