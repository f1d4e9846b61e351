using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary><c>KSML_LOG_LEVEL</c>: the minimum level of a compiled application's logs and of the <c>ksml</c> tool's.</summary>
public static class KsmlLogLevel
{
    /// <summary>The environment variable's name.</summary>
    public const string Variable = "KSML_LOG_LEVEL";

    /// <summary>The level the variable names (any case), or <paramref name="fallback"/> when it is not set.</summary>
    /// <exception cref="KsmlConfigException">The variable is set to something that is not a level.</exception>
    public static LogLevel FromEnvironment(LogLevel fallback) => Environment.GetEnvironmentVariable(Variable) switch
    {
        null or "" => fallback,
        var text when Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level) && Enum.IsDefined(level) && !char.IsDigit(text[0]) => level,
        var text => throw new KsmlConfigException($"{Variable}: '{text}' is not a log level; use one of {string.Join(", ", Enum.GetNames<LogLevel>())}"),
    };
}
