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
/// <param name="Status">Passed, failed an assertion, or stopped by an error before its assertions could say.</param>
/// <param name="Failure">Why it did not pass: the failing assertion with its YAML location, or the error that stopped it.</param>
public sealed record KsmlTestOutcome(string Id, string Description, KsmlTestStatus Status, string? Failure)
{
    /// <summary>Every assertion held.</summary>
    public bool Passed => Status == KsmlTestStatus.Pass;
}

/// <summary>KSML's test statuses: an assertion that does not hold fails a test; anything else that stops it is an error.</summary>
public enum KsmlTestStatus
{
    /// <summary>Every assertion held.</summary>
    Pass,

    /// <summary>An assertion raised AssertionError.</summary>
    Fail,

    /// <summary>The definition did not build, producing failed, or an assertion raised something other than AssertionError.</summary>
    Error,
}
