using Ksml.Compiler;

namespace Ksml.Compiler.Tests.Support;

/// <summary>Compiles KSML text in tests and renders diagnostics the way MSBuild prints them.</summary>
public static class Ksml
{
    public const string Path = "/project/test.ksml.yaml";

    public static CompilationResult Compile(string yaml, string path = Path) =>
        KsmlCompiler.Compile(path, yaml, new CompilerOptions("Test.Generated", System.IO.Path.GetFileName(path)));

    /// <summary>Every diagnostic as <c>file(line,col): error KSMLnnnn: message</c>, file name only.</summary>
    public static string[] Diagnostics(string yaml) =>
        Compile(yaml).Diagnostics.Select(d => d.ToString().Replace("/project/", "")).ToArray();

    public static string Corpus(string name) =>
        File.ReadAllText(System.IO.Path.Combine(TestContext.CurrentContext.TestDirectory, "Corpus", name));

    public static string RepositoryRoot => typeof(Ksml).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
}
