using Ksml.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using static Ksml.Tool.Tests.ToolTestSupport;

namespace Ksml.Tool.Tests;

/// <summary>`ksml check` and `ksml generate` give exactly what the build's source generator gives.</summary>
public sealed class CheckAndGenerateTests
{
    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private static GeneratorDriverRunResult Generate(params string[] paths) =>
        CSharpGeneratorDriver.Create(new KsmlGenerator())
            .AddAdditionalTexts([.. paths.Select(p => (AdditionalText)new InMemoryText(p, File.ReadAllText(p)))])
            .RunGenerators(CSharpCompilation.Create("App"))
            .GetRunResult();

    [Test]
    public void Check_prints_the_diagnostics_the_build_reports()
    {
        var file = Path.Combine(Suites, "broken", "broken.ksml.yaml");
        var build = Generate(file).Diagnostics.Select(d => d.ToString()).ToList();

        var (exit, output) = RunKsml("check", file);

        Assert.That(build, Has.Count.EqualTo(1));
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0], Is.EqualTo(build[0]));
        Assert.That(output, Does.Contain("ksml check: 1 file, 1 error, 0 warnings"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void Check_reads_a_runner_file_as_the_application_would_and_checks_the_definitions_it_lists()
    {
        var work = Directory.CreateTempSubdirectory("ksml-check-runner-");
        try
        {
            var runner = Path.Combine(work.FullName, "ksml-runner.yaml");
            File.WriteAllText(runner, $$"""
                kafka:
                  application.id: checked
                ksml:
                  configDirectory: {{Suites}}
                  definitions:
                    readings: definitions/readings.ksml.yaml
                    broken: broken/broken.ksml.yaml
                    gone: nowhere/missing.ksml.yaml
                """);

            var (exit, output) = RunKsml("check", "--module-path", Path.Combine(Suites, "modules"), runner);

            Assert.That(output, Does.Contain("broken.ksml.yaml(11,13): error KSML0103"), output);
            Assert.That(output, Does.Contain("missing.ksml.yaml").And.Contain("ksml check: 1 file, 2 errors"), output);
            Assert.That(output, Does.Not.Contain("readings.ksml.yaml("), "the valid definition has nothing to report");
            Assert.That(exit, Is.EqualTo(1));

            File.WriteAllText(runner, "ksml:\n  errorHandling:\n    process:\n      handler: stopOnFial\n");
            (exit, output) = RunKsml("check", runner);

            Assert.That(output, Does.Contain("ksml-runner.yaml(4,16): error: ksml.errorHandling.process.handler: 'stopOnFial' is not one of stopOnFail"), output);
            Assert.That(exit, Is.EqualTo(1));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Test]
    public void Check_runs_the_python_check_the_build_runs_and_says_which_python_checked()
    {
        var work = Directory.CreateTempSubdirectory("ksml-check-python-");
        try
        {
            var file = Path.Combine(work.FullName, "orders.ksml.yaml");
            File.WriteAllText(file, File.ReadAllText(Path.Combine(RepositoryRoot, "examples", "WordCount", "word-count.ksml.yaml"))
                .Replace("expression: len(key) > 2", "expression: len(key) > 2 and uuid.uuid4() is not None"));
            var line = File.ReadAllLines(file).ToList().FindIndex(l => l.Contains("uuid.uuid4()")) + 1;
            Assert.That(line, Is.GreaterThan(0), "the example still has its length filter");

            var (exit, output) = RunKsml("check", "--verbose", file);
            Assert.That(output, Does.Contain($"orders.ksml.yaml({line},").And.Contain("error KSML0500: 'uuid' is not defined; add 'import uuid' to globalCode"), output);
            Assert.That(output, Does.Contain("Python checked with 3."), output);
            Assert.That(output, Does.Contain("ksml check: 1 file, 1 error, 0 warnings"), output);
            Assert.That(exit, Is.EqualTo(1));

            (exit, output) = RunKsml("check", "--no-python", file);
            Assert.That(output.Trim(), Is.EqualTo("ksml check: 1 file, 0 errors, 0 warnings"));
            Assert.That(exit, Is.Zero);

            // --verbose also says which functions run as C# and which stay in CPython, and why.
            (_, output) = RunKsml("check", "--verbose", "--no-python", Path.Combine(RepositoryRoot, "examples", "WordCount", "word-count.ksml.yaml"));
            Assert.That(output, Does.Contain("word-count.ksml.yaml(26,3): 'is_long_enough' runs as C#"), output);
            Assert.That(output, Does.Contain("'split_words' runs as C#"), output);
            Assert.That(output, Does.Contain("'make_sentence' runs in CPython: not a plain expression"), output);

            (exit, output) = RunKsml("check", "--python", "/nonexistent/python3", file);
            Assert.That(output, Does.Contain("the Python was not checked: /nonexistent/python3 could not run the check"), output);
            Assert.That(exit, Is.Zero, "no Python is not an error in the definition");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Test]
    public void Check_passes_valid_files()
    {
        // readings imports its threshold from the suite's own module directory.
        var (exit, output) = RunKsml("check", "--module-path", Path.Combine(Suites, "modules"),
            Path.Combine(Suites, "definitions", "readings.ksml.yaml"), Path.Combine(RepositoryRoot, "examples", "WordCount", "word-count.ksml.yaml"));

        Assert.That(output.Trim(), Is.EqualTo("ksml check: 2 files, 0 errors, 0 warnings"));
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void Check_of_a_suite_checks_the_definition_it_tests_with_the_suites_module_directory()
    {
        // readings imports its threshold from the module directory the suite names, so without it the check
        // would report the module missing; before, a suite was only parsed and its definition never looked at.
        var (exit, output) = RunKsml("check", "--verbose", Path.Combine(Suites, "passing", "nested", "deeper", "readings.test.yaml"));

        Assert.That(output, Does.Contain("readings.ksml.yaml: Python checked with"));
        Assert.That(output, Does.Contain("ksml check: 1 file, 0 errors, 0 warnings"));
        Assert.That(exit, Is.Zero);

        var (brokenExit, brokenOutput) = RunKsml("check", Path.Combine(Suites, "broken", "broken.test.yaml"));
        Assert.That(brokenOutput, Does.Contain("broken.ksml.yaml(").And.Contain("ksml check: 1 file, 1 error"));
        Assert.That(brokenExit, Is.EqualTo(1));
    }

    [Test]
    public void Generate_writes_the_files_the_generator_adds()
    {
        var work = Directory.CreateTempSubdirectory("ksml-generate-").FullName;
        var previous = Directory.GetCurrentDirectory();
        try
        {
            File.Copy(Path.Combine(Suites, "definitions", "readings.ksml.yaml"), Path.Combine(work, "readings.ksml.yaml"));
            File.Copy(Path.Combine(RepositoryRoot, "examples", "WordCount", "word-count.ksml.yaml"), Path.Combine(work, "word-count.ksml.yaml"));
            Directory.SetCurrentDirectory(work);
            var expected = Generate("readings.ksml.yaml", "word-count.ksml.yaml").Results[0].GeneratedSources
                .ToDictionary(s => s.HintName, s => s.SourceText.ToString());

            var (exit, _) = RunKsml("generate", "readings.ksml.yaml", "word-count.ksml.yaml", "-o", "out");

            Assert.That(exit, Is.EqualTo(0));
            var written = Directory.GetFiles(Path.Combine(work, "out")).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
            Assert.That(written.Keys, Is.EquivalentTo(expected.Keys));
            foreach (var (name, text) in expected)
                Assert.That(written[name], Is.EqualTo(text), name);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void Generate_refuses_files_with_errors_and_writes_nothing()
    {
        var output = Path.Combine(Path.GetTempPath(), "ksml-generate-" + Guid.NewGuid().ToString("N"));

        var (exit, printed) = RunKsml("generate", Path.Combine(Suites, "broken", "broken.ksml.yaml"), "-o", output);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(printed, Does.Contain("error KSML0103"));
        Assert.That(Directory.Exists(output), Is.False);
    }
}
