using System.Reflection;
using Ksml.Testing;
using Ksml.Testing.NUnit;

namespace Ksml.Examples.Tests;

/// <summary>Each example ships a KSML test suite; every test in it is an NUnit case here, run against the example's compiled definitions.</summary>
public sealed class ExampleSuiteTests
{
    private static readonly Assembly[] Examples =
    [
        typeof(AsyncPayments.KsmlDefinitions).Assembly,
        typeof(EventRouting.KsmlDefinitions).Assembly,
        typeof(HostedGreetings.KsmlDefinitions).Assembly,
        typeof(MongoEnrichment.KsmlDefinitions).Assembly,
        typeof(OrderPersistence.KsmlDefinitions).Assembly,
        typeof(OrderProcessing.KsmlDefinitions).Assembly,
        typeof(ProductLookup.KsmlDefinitions).Assembly,
        typeof(RestEnrichment.KsmlDefinitions).Assembly,
        typeof(WordCount.KsmlDefinitions).Assembly,
    ];

    public static IEnumerable<TestCaseData> Suites() => Examples.SelectMany(example => KsmlTestSuites.In(example));

    [TestCaseSource(nameof(Suites))]
    public void Suite(KsmlSuiteTest test)
    {
        // No MongoDB server can be installed here (not in Debian, NuGet or npm); with one, set KSML_MONGODB_URL.
        if (test.ToString().Contains("MongoEnrichment", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("KSML_MONGODB_URL") is null)
            Assert.Ignore("MongoEnrichment needs a MongoDB server (KSML_MONGODB_URL); none can be installed on this machine");
        test.Run();
    }

    [Test]
    public void Every_example_ships_a_suite_and_every_suite_runs_here()
    {
        var examples = Directory.GetDirectories(Path.Combine(ExampleServices.RepositoryRoot, "examples"));
        Assert.That(examples.Where(example => KsmlSuiteFiles.Find([example]).Count == 0).Select(Path.GetFileName), Is.Empty, "examples without a KSML test suite");
        var covered = Examples.Select(a => Path.GetFileName(a.GetCustomAttributes<AssemblyMetadataAttribute>().Single(m => m.Key == "KsmlProjectDirectory").Value!));
        Assert.That(examples.Select(Path.GetFileName), Is.EquivalentTo(covered), "examples whose suites this project does not run");
    }
}
