using System.Runtime.Loader;
using System.Text;
using Ksml.Compiler;
using Ksml.Runtime;
using Ksml.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ksml.Tool;

/// <summary>
/// Compiles KSML files the way a project build does (the same compiler and emitted C#), then the C#
/// with Roslyn in memory, and instantiates the definitions: what `ksml run` and `ksml test` execute.
/// </summary>
internal sealed class InMemoryCompiler : IKsmlDefinitionSource
{
    private const string Namespace = "Ksml.Tool.Compiled";
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        Basic.Reference.Assemblies.Net100.References.All
            .Concat(new[] { typeof(IKsmlDefinition).Assembly, typeof(Streamiz.Kafka.Net.StreamBuilder).Assembly, typeof(Confluent.Kafka.Headers).Assembly }
                .Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location)))
            .ToArray());

    private readonly Dictionary<string, KsmlDefinitionLookup> _compiled = new(StringComparer.Ordinal);

    /// <summary>The path a definition reports as its source: relative to the working directory when below it.</summary>
    public static string DisplayPath(string path)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.GetFullPath(path));
        return relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : relative;
    }

    /// <summary>What a missing file is reported as, by every command.</summary>
    public static string Missing(string path) => $"{path}: error: the file does not exist";

    /// <summary>
    /// One file through the compiler as the build would compile it, reporting its path relative to
    /// the working directory; null when the file does not exist.
    /// </summary>
    public static CompilationResult? CompileFile(string path, string @namespace, string? definitionName = null) =>
        File.Exists(path) ? CompileText(path, File.ReadAllText(path), @namespace, definitionName) : null;

    /// <summary>The text of the file at <paramref name="path"/> through the compiler, as <see cref="CompileFile"/> compiles it.</summary>
    public static CompilationResult CompileText(string path, string text, string @namespace, string? definitionName = null) =>
        KsmlCompiler.Compile(path, text, new CompilerOptions(@namespace, DisplayPath(path)) { DefinitionName = definitionName });

    /// <summary>Compiles <paramref name="paths"/>; errors are the build's located diagnostics, one per line.</summary>
    public static (IReadOnlyList<IKsmlDefinition> Definitions, IReadOnlyList<string> Errors) Compile(IReadOnlyList<string> paths, IReadOnlyList<string?>? names = null)
    {
        var errors = new List<string>();
        var sources = new List<(string Source, string ClassName)>();
        for (var i = 0; i < paths.Count; i++)
        {
            if (CompileFile(paths[i], Namespace, names?[i]) is not { } result)
            {
                errors.Add(Missing(paths[i]));
                continue;
            }
            errors.AddRange(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
            if (result.Source is not null)
                sources.Add((result.Source, result.ClassName));
        }
        if (errors.Count > 0)
            return ([], errors);

        var compilation = CSharpCompilation.Create("Ksml.Tool.Compiled." + Guid.NewGuid().ToString("N"),
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Source, new CSharpParseOptions(LanguageVersion.Latest))),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success)
            return ([], ["the C# generated from the KSML files does not compile (please report this):", .. emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => "  " + d)]);
        image.Position = 0;
        var assembly = AssemblyLoadContext.Default.LoadFromStream(image);
        var definitions = sources
            .Select(s => (IKsmlDefinition)Activator.CreateInstance(assembly.GetType(Namespace + "." + s.ClassName, throwOnError: true)!)!)
            .ToList();
        return (definitions, []);
    }

    /// <inheritdoc />
    public KsmlDefinitionLookup Find(string path)
    {
        var full = Path.GetFullPath(path);
        if (!_compiled.TryGetValue(full, out var lookup))
        {
            var (definitions, errors) = Compile([path]);
            _compiled[full] = lookup = definitions.Count == 1 ? KsmlDefinitionLookup.Found(definitions[0]) : new KsmlDefinitionLookup(null, errors);
        }
        return lookup;
    }
}
