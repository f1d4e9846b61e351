using System;
using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Checking;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Parsing;

namespace Ksml.Compiler;

/// <summary>Options that come from the consuming project rather than from the KSML file.</summary>
/// <param name="Namespace">The C# namespace of the generated types.</param>
/// <param name="RelativePath">The path shown in generated comments and runtime errors (stable across machines).</param>
public sealed record CompilerOptions(string Namespace, string RelativePath)
{
    /// <summary>The definition's name as a runner file's <c>ksml.definitions</c> key gives it, over the file's <c>name:</c> and file name.</summary>
    public string? DefinitionName { get; init; }
}

/// <summary>What compiling one KSML file produced. <see cref="Source"/> is null when there are errors.</summary>
public sealed record CompilationResult(BoundDefinition? Model, IReadOnlyList<KsmlDiagnostic> Diagnostics, string? Source, string ClassName)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>The compiler's front door: parse → bind → check → emit, for one file.</summary>
public static class KsmlCompiler
{
    public const string FileSuffix = ".ksml.yaml";

    public static CompilationResult Compile(string path, string text, CompilerOptions options)
    {
        var diagnostics = new List<KsmlDiagnostic>();
        var className = EmitNames.ClassNameFor(options.RelativePath);
        var syntax = DefinitionParser.Parse(path, text, diagnostics);
        var model = DefinitionBinder.Bind(syntax, options.DefinitionName ?? syntax.Name ?? DefinitionNameFor(options.RelativePath), diagnostics);
        DefinitionChecker.Check(model, diagnostics);
        var ordered = diagnostics
            .Distinct()
            .OrderBy(d => d.Span.Start).ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
        var source = ordered.Any(d => d.IsError) ? null : TopologyEmitter.Emit(model, options, className);
        return new CompilationResult(model, ordered, source, className);
    }

    /// <summary><c>pipelines/orders.ksml.yaml</c> → <c>orders</c>.</summary>
    public static string DefinitionNameFor(string path)
    {
        var file = path.Replace('\\', '/');
        file = file.Substring(file.LastIndexOf('/') + 1);
        if (file.EndsWith(FileSuffix, StringComparison.OrdinalIgnoreCase))
            file = file.Substring(0, file.Length - FileSuffix.Length);
        return file;
    }
}
