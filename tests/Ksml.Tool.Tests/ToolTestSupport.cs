using System.Diagnostics;
using System.Reflection;

namespace Ksml.Tool.Tests;

internal static class ToolTestSupport
{
    public static string RepositoryRoot { get; } = Path.GetFullPath(typeof(ToolTestSupport).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    public static string Suites => Path.Combine(RepositoryRoot, "tests", "Ksml.Tool.Tests", "Suites");

    /// <summary>Runs the ksml command in this process; returns its exit code and what it printed.</summary>
    /// <summary>Runs <paramref name="body"/> in a new temporary directory, removed afterwards whatever happens.</summary>
    public static void InWorkDirectory(string prefix, Action<string> body)
    {
        var work = Directory.CreateTempSubdirectory(prefix).FullName;
        try
        {
            body(work);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    public static (int ExitCode, string Output) RunKsml(params string[] args)
    {
        var output = new StringWriter();
        var exit = KsmlCommand.RunAsync(args, output).GetAwaiter().GetResult();
        return (exit, output.ToString());
    }

    /// <summary>Starts the built tool as its own process, as `ksml` would run after dotnet tool install.</summary>
    public static Process Start(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ksml.Tool.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("KSML_BOOTSTRAP_SERVERS");
        return Process.Start(start)!;
    }

    /// <summary>Runs the built tool to its end; returns its exit code and everything it printed (both streams, read together so neither can block).</summary>
    public static (int ExitCode, string Output) RunTool(string workingDirectory, TimeSpan within, params string[] args)
    {
        using var process = Start(workingDirectory, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(within), Is.True, $"ksml {string.Join(' ', args)} ends within {within.TotalSeconds:F0} s");
        return (process.ExitCode, output.Result + errors.Result);
    }
}
