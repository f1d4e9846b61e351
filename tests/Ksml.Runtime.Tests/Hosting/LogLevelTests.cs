using Ksml.Runtime.Hosting;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Tests.Hosting;

/// <summary>KSML_LOG_LEVEL is read in one place, and a typo is an error rather than a silent default.</summary>
[NonParallelizable]
public sealed class LogLevelTests
{
    private string? _saved;

    [SetUp]
    public void Save() => _saved = Environment.GetEnvironmentVariable(KsmlLogLevel.Variable);

    [TearDown]
    public void Restore() => Environment.SetEnvironmentVariable(KsmlLogLevel.Variable, _saved);

    [TestCase(null, LogLevel.Information)]
    [TestCase("debug", LogLevel.Debug)]
    [TestCase("Warning", LogLevel.Warning)]
    public void The_variable_names_the_level_and_the_caller_gives_the_default(string? value, LogLevel expected)
    {
        Environment.SetEnvironmentVariable(KsmlLogLevel.Variable, value);

        Assert.That(KsmlLogLevel.FromEnvironment(LogLevel.Information), Is.EqualTo(expected));
    }

    [TestCase("verbose")]
    [TestCase("3")]
    public void A_value_that_is_no_level_is_an_error_listing_the_levels(string value)
    {
        Environment.SetEnvironmentVariable(KsmlLogLevel.Variable, value);

        var error = Assert.Throws<KsmlConfigException>(() => KsmlLogLevel.FromEnvironment(LogLevel.Information))!;

        Assert.That(error.Message, Does.StartWith($"KSML_LOG_LEVEL: '{value}' is not a log level").And.Contain("Debug").And.Contain("Warning"));
    }
}
