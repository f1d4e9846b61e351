using System.Reflection;
using Ksml.Runtime;
using NUnit.Framework;

namespace Ksml.Testing.NUnit;

/// <summary>
/// NUnit test cases for every KSML test suite in a compiled project, one per test:
/// <code>
/// public static IEnumerable&lt;TestCaseData&gt; Suites() => KsmlTestSuites.In(typeof(KsmlDefinitions).Assembly);
///
/// [TestCaseSource(nameof(Suites))]
/// public void Suite(KsmlSuiteTest test) => test.Run();
/// </code>
/// The suites run against the definitions compiled into the project, so the tests exercise the
/// build's own code in the format KSML users already write.
/// </summary>
public static class KsmlTestSuites
{
    /// <summary>
    /// Cases for the suites under <paramref name="directory"/> (default: the project's folder, nested
    /// folders included) of the project compiled into <paramref name="project"/>.
    /// </summary>
    public static IEnumerable<TestCaseData> In(Assembly project, string? directory = null)
    {
        var projectDirectory = project.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "KsmlProjectDirectory")?.Value
            ?? throw new InvalidOperationException($"{project.GetName().Name} has no KsmlProjectDirectory metadata: is it a project that references Ksml.Runtime?");
        var all = project.GetTypes().FirstOrDefault(t => t.Name == "KsmlDefinitions")?.GetProperty("All", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IReadOnlyList<IKsmlDefinition>
            ?? throw new InvalidOperationException($"{project.GetName().Name} has no generated KsmlDefinitions class: does it contain *.ksml.yaml files?");
        var definitions = new CompiledDefinitions(projectDirectory, all);
        var root = directory is null ? projectDirectory : Path.Combine(projectDirectory, directory);
        foreach (var suite in KsmlSuiteFiles.Find([root]))
        {
            var (name, tests, errors) = KsmlSuiteRunner.Describe(suite);
            var shown = Path.GetRelativePath(projectDirectory, suite);
            if (errors.Count > 0)
            {
                yield return new TestCaseData(new KsmlSuiteTest(suite, null, definitions, errors)).SetName($"{shown}: malformed suite");
                continue;
            }
            foreach (var test in tests)
                yield return new TestCaseData(new KsmlSuiteTest(suite, test, definitions, [])).SetName($"{name}: {test}").SetCategory("KsmlSuite");
        }
    }
}

/// <summary>One test of a suite (or a suite that cannot run), for NUnit to call <see cref="Run"/> on.</summary>
public sealed class KsmlSuiteTest(string suitePath, string? testId, IKsmlDefinitionSource definitions, IReadOnlyList<string> errors)
{
    /// <summary>Runs the test; a failing assertion or error fails the NUnit test with its YAML location.</summary>
    public void Run()
    {
        if (errors.Count > 0)
            Assert.Fail(string.Join(Environment.NewLine, errors));
        var result = new KsmlSuiteRunner(definitions).Run(suitePath, testId);
        if (result.Errors.Count > 0)
            Assert.Fail(string.Join(Environment.NewLine, result.Errors));
        var outcome = result.Tests.Single();
        if (!outcome.Passed)
            Assert.Fail(outcome.Failure ?? "failed");
    }

    /// <inheritdoc />
    public override string ToString() => testId is null ? suitePath : $"{suitePath}#{testId}";
}
