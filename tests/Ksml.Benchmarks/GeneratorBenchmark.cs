using System.Diagnostics;
using System.Text;
using Ksml.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Ksml.Benchmarks;

/// <summary>
/// Time for the generator to turn a 300-line KSML file into code inside Roslyn's generator driver
/// (median of several full runs on a fresh driver), and whether an unrelated C# edit re-runs any KSML step.
/// </summary>
internal static class GeneratorBenchmark
{
    public static string ThreeHundredLines()
    {
        var yaml = new StringBuilder("streams:\n");
        for (var i = 0; i < 10; i++)
            yaml.Append($"  s{i}:\n    topic: t{i}\n    keyType: string\n    valueType: json\n");
        yaml.Append("functions:\n");
        for (var i = 0; i < 10; i++)
            yaml.Append($"  keep{i}:\n    type: predicate\n    expression: value.get(\"n\", 0) > {i}\n  map{i}:\n    type: valueTransformer\n    expression: dict(value, step={i})\n    resultType: json\n");
        yaml.Append("pipelines:\n");
        for (var i = 0; yaml.ToString().Count(c => c == '\n') < 295; i++)
            yaml.Append($"  p{i}:\n    from: s{i % 10}\n    via:\n      - type: filter\n        if: keep{i % 10}\n      - type: transformValue\n        mapper: map{(i + 3) % 10}\n    to: s{(i + 1) % 10}\n");
        return yaml.ToString();
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    public static (double MillisecondsPerFile, bool UnrelatedEditCached, int Lines) Run(int rounds)
    {

        var yaml = ThreeHundredLines();
        var compilation = CSharpCompilation.Create("Bench", [CSharpSyntaxTree.ParseText("namespace App; public static class Program { public static void Main() { } }")],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)], new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create([new KsmlGenerator().AsSourceGenerator()],
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true))
            .AddAdditionalTexts([new Text("/src/big.ksml.yaml", yaml)]);
        NewDriver().RunGenerators(compilation); // JIT
        var times = new List<double>();
        GeneratorDriver driver = null!;
        for (var i = 0; i < rounds; i++)
        {
            var fresh = NewDriver();
            var clock = Stopwatch.StartNew();
            driver = fresh.RunGenerators(compilation);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        var result = driver.GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) || result.Results[0].GeneratedSources.Length == 0)
            throw new InvalidOperationException("the benchmark file did not compile: " + string.Join("\n", result.Diagnostics));
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { }")));
        var steps = driver.GetRunResult().Results[0].TrackedSteps;
        var cached = new[] { KsmlGenerator.Steps.Files, KsmlGenerator.Steps.Compile, KsmlGenerator.Steps.Sources, KsmlGenerator.Steps.Diagnostics }
            .All(step => steps[step].SelectMany(s => s.Outputs).All(o => o.Reason == IncrementalStepRunReason.Cached));
        return (times.Order().ElementAt(times.Count / 2), cached, yaml.Count(c => c == '\n'));
    }
}
