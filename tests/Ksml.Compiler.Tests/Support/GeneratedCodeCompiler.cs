using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ksml.Compiler.Tests.Support;

/// <summary>Compiles generated code against Ksml.Runtime and Streamiz, so no snapshot can hold code that does not build.</summary>
public static class GeneratedCodeCompiler
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        Basic.Reference.Assemblies.Net100.References.All
            .Concat(new[]
            {
                typeof(Runtime.KsmlTopologyBuilder).Assembly,
                typeof(Streamiz.Kafka.Net.StreamBuilder).Assembly,
                typeof(Confluent.Kafka.Headers).Assembly,
            }.Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location)))
            .ToArray());

    public static MetadataReference[] All => References.Value;

    public static CSharpCompilation Create(params string[] sources) =>
        CSharpCompilation.Create("Generated",
            sources.Select(s => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest))),
            All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>The errors compiling <paramref name="source"/> gives, as text.</summary>
    public static string[] Errors(string source) =>
        Create(source).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();

    /// <summary>The class a KSML definition compiled to, built and loaded, for tests that read what it hands the runtime.</summary>
    public static Type Load(CompilationResult result)
    {
        Assert.That(result.Diagnostics.Where(d => d.IsError), Is.Empty);
        using var image = new MemoryStream();
        var emitted = Create(result.Source!).Emit(image);
        Assert.That(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return System.Reflection.Assembly.Load(image.ToArray()).GetType("Test.Generated." + result.ClassName)!;
    }
}
