namespace Ksml.Testing;

/// <summary>What running one suite gave: problems with the suite itself, or one outcome per test.</summary>
/// <param name="Path">The suite file as given.</param>
/// <param name="Name">The suite's <c>name</c>, or its file name.</param>
/// <param name="Errors">Located problems that stopped the whole suite (malformed suite, definition that does not compile).</param>
/// <param name="Tests">One outcome per test, in file order.</param>
public sealed record KsmlSuiteResult(string Path, string Name, IReadOnlyList<string> Errors, IReadOnlyList<KsmlTestOutcome> Tests)
{
    /// <summary>No errors and every test passed.</summary>
    public bool Passed => Errors.Count == 0 && Tests.All(t => t.Passed);
}

/// <summary>One test's outcome.</summary>
/// <param name="Id">The test's key under <c>tests:</c>.</param>
/// <param name="Description">Its description, or the id.</param>
/// <param name="Passed">Whether every assertion held.</param>
/// <param name="Failure">Why it did not pass: the failing assertion with its YAML location, or the error that stopped it.</param>
public sealed record KsmlTestOutcome(string Id, string Description, bool Passed, string? Failure);
