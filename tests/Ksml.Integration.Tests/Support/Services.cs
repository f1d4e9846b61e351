using System.Diagnostics;
using System.Reflection;

namespace Ksml.Integration.Tests.Support;

/// <summary>
/// The servers scripts/services.sh starts on loopback (PostgreSQL, RabbitMQ). scripts/test.sh has
/// run it already and exported their settings; under a plain `dotnet test` it is run here (it is idempotent).
/// </summary>
public static class Services
{
    private static readonly Lazy<bool> Started = new(Start);

    public static string Get(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            return value;
        _ = Started.Value;
        return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } started
            ? started
            : throw new InvalidOperationException($"scripts/services.sh did not export {variable}");
    }

    private static bool Start()
    {
        var root = typeof(Services).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "services.sh")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail("scripts/services.sh could not start the test servers: " + errors.Result);
        foreach (var line in output.Split('\n').Where(l => l.StartsWith("export ", StringComparison.Ordinal)))
        {
            var assignment = line["export ".Length..];
            var equals = assignment.IndexOf('=');
            Environment.SetEnvironmentVariable(assignment[..equals], assignment[(equals + 1)..].Trim('\''));
        }
        return true;
    }
}
