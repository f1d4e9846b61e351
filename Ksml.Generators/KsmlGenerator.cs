using System.Linq;
using Ksml.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ksml.Generators;

/// <summary>
/// Turns every <c>*.ksml.yaml</c> AdditionalFile into a typed Streamiz topology. The pipeline only
/// moves strings; the work is in <see cref="Ksml.Compiler.KsmlCompiler"/> (see KsmlGenerator.Execute.cs).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class KsmlGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the incremental steps, asserted by the caching tests.</summary>
    public static class Steps
    {
        public const string Files = "KsmlFiles";
        public const string Compile = "KsmlCompile";
        public const string Sources = "KsmlSources";
        public const string Diagnostics = "KsmlDiagnostics";
        public const string PythonCheck = "KsmlPythonCheck";
        public const string EntryPoint = "KsmlEntryPoint";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var options = context.AnalyzerConfigOptionsProvider.Select((provider, _) => ProjectOptions.From(provider.GlobalOptions));

        var files = context.AdditionalTextsProvider
            .Where(text => text.Path.EndsWith(Ksml.Compiler.KsmlCompiler.FileSuffix, System.StringComparison.OrdinalIgnoreCase))
            .Combine(options)
            .Select((pair, cancellationToken) => ReadInput(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(Steps.Files);

        var results = files.Select((input, _) => Compile(input)).WithTrackingName(Steps.Compile);

        // The build-time Python check's findings, written by the MSBuild task that runs before the compiler.
        var pythonChecks = context.AdditionalTextsProvider
            .Where(text => text.Path.EndsWith(Ksml.Compiler.Checking.PythonCheckReport.FileSuffix, System.StringComparison.OrdinalIgnoreCase))
            .Select((text, cancellationToken) => text.GetText(cancellationToken)?.ToString() ?? "")
            .Collect()
            .Select((reports, _) => new EquatableArray<string>(reports))
            .WithTrackingName(Steps.PythonCheck);

        var sources = results.Select((result, _) => result.Source).WithTrackingName(Steps.Sources);
        var diagnostics = results.Combine(pythonChecks)
            .Select((pair, _) => WithPythonFindings(pair.Left, pair.Right))
            .WithTrackingName(Steps.Diagnostics);

        context.RegisterSourceOutput(sources, AddSource);
        context.RegisterSourceOutput(diagnostics, ReportDiagnostics);

        var hasOwnEntryPoint = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is GlobalStatementSyntax || node is MethodDeclarationSyntax { Identifier.ValueText: "Main" },
                static (_, _) => true)
            .Collect()
            .Select((found, _) => found.Length > 0);

        var entryPoint = sources.Collect()
            .Combine(hasOwnEntryPoint)
            .Combine(options)
            .Select((pair, _) => EntryPointModel(pair.Left.Left, pair.Left.Right, pair.Right))
            .WithTrackingName(Steps.EntryPoint);
        context.RegisterSourceOutput(entryPoint, AddEntryPoint);
    }
}
