using System.Diagnostics;
using System.Reflection;

namespace Ksml.Integration.Tests;

/// <summary>The WordCount example as a process, the way run-example.sh and an orchestrator run it.</summary>
[TestFixture, NonParallelizable]
public sealed class ProcessTests
{
    private static string ExampleDll => Path.GetFullPath(Path.Combine(
        typeof(ProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!,
        "examples", "WordCount", "bin", typeof(ProcessTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration, "net10.0", "WordCount.dll"));

    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ExampleDll);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    [Test]
    public async Task The_example_runs_on_the_embedded_broker_and_shuts_down_cleanly_on_sigterm()
    {
        Assert.That(File.Exists(ExampleDll), ExampleDll + " is built with the solution");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Start();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = Stopwatch.StartNew();
        // A failed wait must not leave the application running after the test (it would load every test after it).
        using var stopOnFailure = new Support.KillOnDispose(process);

        await Support.Kafka.Until(() => output.Any(l => l.Contains("word-count.function.log_count")), "the first counted word", TimeSpan.FromSeconds(60));
        TestContext.Out.WriteLine($"first output after {started.Elapsed.TotalSeconds:F1} s");
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        var exited = process.WaitForExit(TimeSpan.FromSeconds(60));
        if (exited)
            process.WaitForExit(); // lets the redirected output drain

        Assert.That(exited, Is.True, "the process ends after SIGTERM");
        Assert.That(process.ExitCode, Is.Zero, string.Join("\n", output));
        Assert.That(output, Has.Some.Contains("Embedded Kafka broker: 127.0.0.1:"));
        Assert.That(output, Has.Some.Contains("Stream state: NOT_RUNNING"), "the stream was closed, not abandoned");
        Assert.That(output, Has.None.Contains("Unhandled exception"));
    }

    [Test]
    public void Help_lists_the_options_and_a_bad_setting_is_one_line_with_exit_code_2()
    {
        using var help = Start("--help");
        var helpText = help.StandardOutput.ReadToEnd();
        help.WaitForExit();
        Assert.That(helpText, Does.Contain("--config").And.Contain("--bootstrap-servers").And.Contain("--embedded-broker").And.Contain("--set").And.Contain("--exactly-once"));

        using var bad = Start("--set", "ksml.enablePipeline=false");
        var error = bad.StandardError.ReadToEnd();
        bad.WaitForExit();
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(error.Trim(), Is.EqualTo("ksml: --set: unknown key 'ksml.enablePipeline'; did you mean 'ksml.enablePipelines'?"));
    }
}
