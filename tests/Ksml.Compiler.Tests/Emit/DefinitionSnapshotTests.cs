using Ksml.Compiler.Tests.Support;

namespace Ksml.Compiler.Tests.Emit;

/// <summary>
/// The generated code of every KSML file the runtime tests execute and of every example: a
/// snapshot each, and each must build against Ksml.Runtime and Streamiz. Between them these files
/// use every operation, sink and function type Streamiz can run.
/// </summary>
public sealed class DefinitionSnapshotTests
{
    public static IEnumerable<TestCaseData> Definitions() =>
        new[] { "tests/Ksml.Runtime.Tests/Definitions", "examples" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(Support.Ksml.RepositoryRoot, folder), "*.ksml.yaml", SearchOption.AllDirectories))
            .Where(path => !path.Contains("/obj/") && !path.Contains("/bin/"))
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(Path.GetRelativePath(Support.Ksml.RepositoryRoot, path)).SetArgDisplayNames(Path.GetFileName(path)));

    [TestCaseSource(nameof(Definitions))]
    public void Generates_code_that_builds_and_matches_its_snapshot(string relativePath)
    {
        var yaml = File.ReadAllText(Path.Combine(Support.Ksml.RepositoryRoot, relativePath));

        var result = Support.Ksml.Compile(yaml, "/project/" + Path.GetFileName(relativePath));

        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.Empty);
        Assert.That(GeneratedCodeCompiler.Errors(result.Source!), Is.Empty);
        Snapshot.Match(result.Source!, "Definitions." + Path.GetFileName(relativePath).Replace(".ksml.yaml", ""));
    }

    [Test]
    public void Every_definition_folder_has_files()
    {
        Assert.That(Definitions().Count(), Is.GreaterThanOrEqualTo(5));
    }
}
