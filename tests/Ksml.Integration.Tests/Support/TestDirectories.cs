namespace Ksml.Integration.Tests;

/// <summary>
/// The directories the tests keep application state in: all under one root per test run, removed when the run
/// ends, so that runs do not leave hundreds of state directories behind in the machine's temp directory.
/// </summary>
[SetUpFixture]
public sealed class TestDirectories
{
    /// <summary>This run's root, named after the test process.</summary>
    public static readonly string Root = Path.Combine(Path.GetTempPath(), "ksml-it-" + Environment.ProcessId);

    /// <summary>A directory for <paramref name="name"/> under this run's root (not created).</summary>
    public static string For(string name) => Path.Combine(Root, name);

    [OneTimeTearDown]
    public void RemoveAll()
    {
        try
        {
            if (Directory.Exists(Root))
                Directory.Delete(Root, recursive: true);
        }
        catch (IOException ex)
        {
            // A child process still closing its files: say so rather than fail a run whose tests passed.
            TestContext.Progress.WriteLine($"could not remove {Root}: {ex.Message}");
        }
    }
}
