using Microsoft.CodeAnalysis.Diagnostics;

namespace Ksml.Generators;

/// <summary>MSBuild properties the generator reads (made visible by Ksml.Runtime.props).</summary>
internal sealed record ProjectOptions(string Namespace, string ProjectDirectory, bool GenerateEntryPoint, bool IsExecutable)
{
    public static ProjectOptions From(AnalyzerConfigOptions options)
    {
        options.TryGetValue("build_property.RootNamespace", out var rootNamespace);
        options.TryGetValue("build_property.MSBuildProjectDirectory", out var directory);
        options.TryGetValue("build_property.KsmlGenerateEntryPoint", out var entryPoint);
        options.TryGetValue("build_property.OutputType", out var outputType);
        return new ProjectOptions(
            string.IsNullOrWhiteSpace(rootNamespace) ? "Ksml.Generated" : rootNamespace!,
            directory ?? "",
            !string.Equals(entryPoint, "false", System.StringComparison.OrdinalIgnoreCase),
            string.Equals(outputType, "Exe", System.StringComparison.OrdinalIgnoreCase));
    }
}
