using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Ksml.Compiler;
using Ksml.Compiler.Checking;
using Ksml.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RoslynDescriptor = Microsoft.CodeAnalysis.DiagnosticDescriptor;

namespace Ksml.Generators;

public sealed partial class KsmlGenerator
{
    private static readonly Dictionary<string, RoslynDescriptor> Descriptors =
        Ksml.Compiler.Diagnostics.DiagnosticDescriptors.All.ToDictionary(
            d => d.Id,
            d => new RoslynDescriptor(d.Id, d.Title, "{0}", "Ksml",
                d.Severity == Ksml.Compiler.Diagnostics.DiagnosticSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                isEnabledByDefault: true));

    private static KsmlFileInput ReadInput(AdditionalText text, ProjectOptions options, CancellationToken cancellationToken)
    {
        var content = text.GetText(cancellationToken)?.ToString() ?? "";
        return new KsmlFileInput(text.Path, content, RelativePath(text.Path, options.ProjectDirectory), options.Namespace);
    }

    private static string RelativePath(string path, string projectDirectory)
    {
        var normalized = path.Replace('\\', '/');
        var directory = projectDirectory.Replace('\\', '/').TrimEnd('/') + "/";
        return directory.Length > 1 && normalized.StartsWith(directory, StringComparison.Ordinal)
            ? normalized.Substring(directory.Length)
            : normalized.Substring(normalized.LastIndexOf('/') + 1);
    }

    /// <summary>Runs the compiler; any exception it lets through becomes a located diagnostic, never a generator crash.</summary>
    internal static KsmlFileResult Compile(KsmlFileInput input)
    {
        var hintName = Ksml.Compiler.Emit.EntryPointEmitter.HintNameFor(input.RelativePath);
        CompilationResult result;
        try
        {
            result = KsmlCompiler.Compile(input.Path, input.Text, new CompilerOptions(input.Namespace, input.RelativePath));
        }
        catch (Exception ex)
        {
            var info = new DiagnosticInfo("KSML0000", "The KSML compiler failed on this file (" + ex.GetType().Name + ": " + ex.Message + "); please report it", true, input.Path, 0, 0, 1, 1, 1, 1);
            return new KsmlFileResult(new GeneratedSource(hintName, null, ""), new EquatableArray<DiagnosticInfo>(ImmutableArray.Create(info)), input.Path, "");
        }
        var diagnostics = result.Diagnostics.Select(Info).ToImmutableArray();
        return new KsmlFileResult(new GeneratedSource(hintName, result.Source, result.ClassName), new EquatableArray<DiagnosticInfo>(diagnostics),
            input.Path, PythonCheckReport.Fingerprint(input.Text));
    }

    private static DiagnosticInfo Info(Ksml.Compiler.Diagnostics.KsmlDiagnostic d) =>
        new(d.Id, d.Message, d.IsError, d.Path, d.Span.Start, d.Span.Length, d.Span.Line, d.Span.Column, d.Span.EndLine, d.Span.EndColumn);

    /// <summary>
    /// The file's own diagnostics plus the Python check's findings for it, when a report checked this very text;
    /// a report for an older text is ignored, so an edit never shows findings at lines that have moved.
    /// </summary>
    internal static EquatableArray<DiagnosticInfo> WithPythonFindings(KsmlFileResult result, EquatableArray<string> reports)
    {
        var found = reports
            .SelectMany(report => PythonCheckReport.Read(report).For(result.Path, result.Fingerprint))
            .Select(Info)
            .ToList();
        return found.Count == 0 ? result.Diagnostics : new EquatableArray<DiagnosticInfo>(result.Diagnostics.Concat(found).ToImmutableArray());
    }

    private static void AddSource(SourceProductionContext context, GeneratedSource source)
    {
        if (source.Source is not null)
            context.AddSource(source.HintName, SourceText.From(source.Source, Encoding.UTF8));
    }

    private static void ReportDiagnostics(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            var location = Location.Create(d.Path, new TextSpan(d.Start, d.Length),
                new LinePositionSpan(new LinePosition(Math.Max(0, d.Line - 1), Math.Max(0, d.Column - 1)), new LinePosition(Math.Max(0, d.EndLine - 1), Math.Max(0, d.EndColumn - 1))));
            context.ReportDiagnostic(Diagnostic.Create(Descriptors[d.Id], location, d.Message));
        }
    }

    /// <summary>
    /// The class names to list in the generated entry point, or null when the project has no KSML files.
    /// A file with errors still gets an entry point, so its KSML diagnostics are not buried under CS5001.
    /// </summary>
    private static EntryPointInfo? EntryPointModel(ImmutableArray<GeneratedSource> sources, bool hasOwnEntryPoint, ProjectOptions options)
    {
        if (sources.IsEmpty)
            return null;
        var classes = sources.Where(s => s.Source is not null).Select(s => s.ClassName).OrderBy(c => c, StringComparer.Ordinal).ToImmutableArray();
        return new EntryPointInfo(options.Namespace, new EquatableArray<string>(classes), !hasOwnEntryPoint && options.GenerateEntryPoint && options.IsExecutable);
    }

    private static void AddEntryPoint(SourceProductionContext context, EntryPointInfo? info)
    {
        if (info is null)
            return;
        var text = Ksml.Compiler.Emit.EntryPointEmitter.Emit(info.Namespace, info.Classes, info.GenerateMain);
        context.AddSource(Ksml.Compiler.Emit.EntryPointEmitter.HintName, SourceText.From(text, Encoding.UTF8));
    }
}

/// <summary>What the entry point file needs: plain data for caching.</summary>
internal sealed record EntryPointInfo(string Namespace, EquatableArray<string> Classes, bool GenerateMain);
