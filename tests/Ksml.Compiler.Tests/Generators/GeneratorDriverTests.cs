using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Ksml.Build;
using Ksml.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Ksml.Compiler.Tests.Support;

namespace Ksml.Compiler.Tests.Generators;

/// <summary>The generator in a real driver: located diagnostics, compiling output, and incremental caching.</summary>
public class GeneratorDriverTests
{
    private const string Valid = """
        streams:
          a:
            topic: a
            keyType: string
            valueType: json
        functions:
          keep:
            type: predicate
            expression: True
        pipelines:
          p:
            from: a
            filter: keep
            to: a
        """;

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private static GeneratorDriver Driver() => CSharpGeneratorDriver.Create(
        new[] { new KsmlGenerator().AsSourceGenerator() },
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    private static CSharpCompilation Compilation() =>
        GeneratedCodeCompiler.Create("namespace App; public static class Program { public static void Main() { } }");

    [Test]
    public void Reports_yaml_located_errors_through_roslyn()
    {
        var bad = Valid.Replace("filter: keep", "filter: kep");
        var driver = Driver().AddAdditionalTexts([new InMemoryText("/src/bad.ksml.yaml", bad)]).RunGenerators(Compilation());
        var result = driver.GetRunResult();
        Assert.That(result.Results[0].Exception, Is.Null);
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "/src/bad.ksml.yaml(13,13): error KSML0103: Function 'kep' is not defined. Did you mean 'keep'?",
        }));
    }

    [Test]
    public void Reports_the_python_check_findings_only_for_the_text_that_was_checked()
    {
        var bad = Valid.Replace("expression: True", "expression: len(value) > limit");
        var report = PythonChecker.Check([("/src/p.ksml.yaml", bad)], PythonChecker.Find(null), []);
        Assert.That(report.NotChecked, Is.Null, "the build machine has a Python");
        var file = new InMemoryText("/src/p.ksml.yaml", bad);
        var reportFile = new InMemoryText("/obj/App" + Ksml.Compiler.Checking.PythonCheckReport.FileSuffix, report.Write());

        var driver = Driver().AddAdditionalTexts([file, reportFile]).RunGenerators(Compilation());
        Assert.That(driver.GetRunResult().Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "/src/p.ksml.yaml(9,30): error KSML0500: 'limit' is not defined",
        }));

        // Edited in the IDE since the build: the report checked another text, so its lines may have moved.
        driver = driver.ReplaceAdditionalText(file, new InMemoryText("/src/p.ksml.yaml", "# moved\n" + bad)).RunGenerators(Compilation());
        Assert.That(driver.GetRunResult().Diagnostics, Is.Empty);
    }

    [Test]
    public void Generated_code_compiles_with_the_runtime()
    {
        var driver = Driver().AddAdditionalTexts([new InMemoryText("/src/orders.ksml.yaml", Valid)]);
        driver.RunGeneratorsAndUpdateCompilation(Compilation(), out var output, out var diagnostics);
        Assert.That(diagnostics, Is.Empty);
        Assert.That(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()), Is.Empty);
        Assert.That(output.SyntaxTrees.Select(t => Path.GetFileName(t.FilePath)), Does.Contain("orders.ksml.yaml.g.cs"));
    }

    [Test]
    public void Never_throws_on_garbage()
    {
        var driver = Driver().AddAdditionalTexts([new InMemoryText("/src/x.ksml.yaml", "\0\u0001{[}: - ]\n\t- ?")]).RunGenerators(Compilation());
        Assert.That(driver.GetRunResult().Results[0].Exception, Is.Null);
        Assert.That(driver.GetRunResult().Diagnostics, Is.Not.Empty);
    }

    [Test]
    public void An_unrelated_csharp_edit_leaves_every_ksml_step_cached()
    {
        var compilation = Compilation();
        var driver = Driver().AddAdditionalTexts([new InMemoryText("/src/a.ksml.yaml", Valid), new InMemoryText("/src/b.ksml.yaml", Valid.Replace("topic: a", "topic: b"))]).RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated {}")));
        var steps = driver.GetRunResult().Results[0].TrackedSteps;
        foreach (var step in new[] { KsmlGenerator.Steps.Files, KsmlGenerator.Steps.Compile, KsmlGenerator.Steps.Sources, KsmlGenerator.Steps.Diagnostics })
            Assert.That(steps[step].SelectMany(s => s.Outputs).Select(o => o.Reason), Is.All.EqualTo(IncrementalStepRunReason.Cached), step);
    }

    [Test]
    public void Editing_one_file_recomputes_only_that_file()
    {
        var a = new InMemoryText("/src/a.ksml.yaml", Valid);
        var b = new InMemoryText("/src/b.ksml.yaml", Valid.Replace("topic: a", "topic: b"));
        var driver = Driver().AddAdditionalTexts([a, b]).RunGenerators(Compilation());
        driver = driver.ReplaceAdditionalText(b, new InMemoryText("/src/b.ksml.yaml", Valid.Replace("topic: a", "topic: c"))).RunGenerators(Compilation());
        var reasons = driver.GetRunResult().Results[0].TrackedSteps[KsmlGenerator.Steps.Compile].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
        Assert.That(reasons, Is.EqualTo(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }));
    }

    [Test]
    public void A_comment_edit_re_emits_no_code()
    {
        // The file has an error so its diagnostics are non-empty: an empty array would hide broken equality.
        var text = Valid.Replace("filter: keep", "filter: keep\n    peek: missing");
        var file = new InMemoryText("/src/a.ksml.yaml", text);
        var driver = Driver().AddAdditionalTexts([file]).RunGenerators(Compilation());
        driver = driver.ReplaceAdditionalText(file, new InMemoryText("/src/a.ksml.yaml", text + "\n# a trailing comment\n")).RunGenerators(Compilation());
        var steps = driver.GetRunResult().Results[0].TrackedSteps;
        Assert.That(steps[KsmlGenerator.Steps.Files].SelectMany(s => s.Outputs).Select(o => o.Reason), Is.All.EqualTo(IncrementalStepRunReason.Modified), "the edit must be seen");
        foreach (var step in new[] { KsmlGenerator.Steps.Sources, KsmlGenerator.Steps.Diagnostics })
            Assert.That(steps[step].SelectMany(s => s.Outputs).Select(o => o.Reason), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged), step);
    }

    [Test]
    public void Pipeline_values_hold_no_roslyn_symbols_or_syntax()
    {
        var driver = Driver().AddAdditionalTexts([new InMemoryText("/src/a.ksml.yaml", Valid)]).RunGenerators(Compilation());
        foreach (var step in driver.GetRunResult().Results[0].TrackedSteps)
            foreach (var run in step.Value)
                foreach (var output in run.Outputs)
                    AssertNoRoslynObjects(output.Value, step.Key, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || !seen.Add(value))
            return;
        Assert.That(value, Is.Not.InstanceOf<ISymbol>().And.Not.InstanceOf<Compilation>().And.Not.InstanceOf<SyntaxNode>(), step);
        if (value is IEnumerable items)
        {
            foreach (var item in items)
                AssertNoRoslynObjects(item, step, seen);
            return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoRoslynObjects(field.GetValue(value), step, seen);
    }
}
