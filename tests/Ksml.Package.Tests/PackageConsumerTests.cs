using System.Diagnostics;
using System.Reflection;

namespace Ksml.Package.Tests;

/// <summary>
/// What a user does: pack Ksml.Runtime into a folder feed, reference it from a fresh
/// <c>dotnet new console</c> project, drop a .ksml.yaml file in, and build. Each run packs a
/// unique version so the NuGet cache can never hand back an older build of the package.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class PackageConsumerTests
{
    private string _work = "";
    private string _feed = "";
    private string _version = "";

    [OneTimeSetUp]
    public void PackRuntime()
    {
        _work = Path.Combine(Path.GetTempPath(), "ksml-package-" + Guid.NewGuid().ToString("N")[..8]);
        _feed = Path.Combine(_work, "feed");
        _version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        var root = RepositoryRoot();
        var pack = Run(root, "dotnet", "pack", Path.Combine(root, "Ksml.Runtime", "Ksml.Runtime.csproj"),
            "-c", "Release", "-o", _feed, "-p:PackageVersion=" + _version, "--nologo");
        Assert.That(pack.ExitCode, Is.Zero, pack.Output);
        var packTool = Run(root, "dotnet", "pack", Path.Combine(root, "Ksml.Tool", "Ksml.Tool.csproj"),
            "-c", "Release", "-o", _feed, "-p:PackageVersion=" + _version, "--nologo");
        Assert.That(packTool.ExitCode, Is.Zero, packTool.Output);
        var packTesting = Run(root, "dotnet", "pack", Path.Combine(root, "Ksml.Testing", "Ksml.Testing.csproj"),
            "-c", "Release", "-o", _feed, "-p:PackageVersion=" + _version, "--nologo");
        Assert.That(packTesting.ExitCode, Is.Zero, packTesting.Output);
    }

    [Test]
    public void The_ksml_tool_installs_from_the_packed_output_and_checks_and_tests_without_a_project()
    {
        var tools = Path.Combine(_work, "tools");
        var install = Run(_work, "dotnet", "tool", "install", "Ksml.Tool", "--tool-path", tools, "--add-source", _feed, "--version", _version);
        Assert.That(install.ExitCode, Is.Zero, install.Output);
        var ksml = Path.Combine(tools, "ksml");
        var project = Path.Combine(_work, "no-project");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "orders.ksml.yaml"), WordCount.Replace("if: is_long_enough", "if: is_long_enuf"));
        File.WriteAllText(Path.Combine(project, "word-count.ksml.yaml"), WordCount);
        File.WriteAllText(Path.Combine(project, "word-count.test.yaml"), """
            definition: word-count.ksml.yaml
            streams:
              sentences: {topic: sentences}
              counts: {topic: word_counts, valueType: long}
            tests:
              counts:
                produce:
                  - to: sentences
                    messages:
                      - {key: s1, value: the fox and the dog}
                assert:
                  - on: counts
                    code: |
                      assert {r["key"]: r["value"] for r in records} == {"the": 2, "fox": 1, "and": 1, "dog": 1}, records
            """);

        var check = Run(project, ksml, "check", "orders.ksml.yaml");
        Assert.That(check.ExitCode, Is.EqualTo(1), check.Output);
        Assert.That(check.Output, Does.Contain("orders.ksml.yaml(28,13): error KSML0103: Function 'is_long_enuf' is not defined. Did you mean 'is_long_enough'?"));

        var test = Run(project, ksml, "test", ".");
        Assert.That(test.ExitCode, Is.Zero, test.Output);
        Assert.That(test.Output, Does.Contain("PASS counts").And.Contain("1 passed, 0 failed"));
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        if (Directory.Exists(_work))
            Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void The_runtime_package_carries_the_compiler_for_the_build_only()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_feed, $"Ksml.Runtime.{_version}.nupkg"));
        var entries = package.Entries.Select(e => e.FullName).ToList();

        Assert.That(entries, Does.Contain("lib/net10.0/Ksml.Runtime.dll").And.Contain("lib/net10.0/Ksml.Yaml.dll"));
        Assert.That(entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)), Has.None.EndsWith("Ksml.Compiler.dll"),
            "applications run without the compiler");
        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Ksml.Compiler.dll").And.Contain("analyzers/dotnet/cs/Ksml.Yaml.dll"));
        Assert.That(entries, Does.Contain("tasks/netstandard2.0/Ksml.Compiler.dll").And.Contain("tasks/netstandard2.0/Ksml.Yaml.dll"));
    }

    [Test]
    public void The_testing_package_carries_the_compiler_it_parses_suites_with_and_depends_only_on_packages_that_exist()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_feed, $"Ksml.Testing.{_version}.nupkg"));
        var entries = package.Entries.Select(e => e.FullName).ToList();
        using var nuspec = new StreamReader(package.GetEntry("Ksml.Testing.nuspec")!.Open());
        var dependencies = System.Text.RegularExpressions.Regex.Matches(nuspec.ReadToEnd(), "<dependency id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();

        Assert.That(entries, Does.Contain("lib/net10.0/Ksml.Testing.dll").And.Contain("lib/net10.0/Ksml.Compiler.dll"));
        Assert.That(dependencies, Is.EqualTo(new[] { "Ksml.Runtime" }), "Ksml.Compiler is no package; a dependency on it could not be restored");
    }

    [Test]
    public void A_fresh_console_project_with_only_a_ksml_file_builds_into_a_runnable_application()
    {
        var app = NewConsoleProject("Valid", deleteProgram: true);
        File.WriteAllText(Path.Combine(app, "word-count.ksml.yaml"), WordCount);

        var build = Run(app, "dotnet", "build", "--nologo");
        Assert.That(build.ExitCode, Is.Zero, build.Output);

        var describe = Run(app, "dotnet", "run", "--no-build", "--", "--describe");
        Assert.That(describe.ExitCode, Is.Zero, describe.Output);
        Assert.That(describe.Output, Does.Contain("Source: ").And.Contain("(topics: [sentences])"));
        Assert.That(describe.Output, Does.Contain("Sink: ").And.Contain("(topic: word_counts)"));
    }

    [Test]
    public void A_project_with_its_own_program_builds_the_topology_through_the_generated_types()
    {
        var app = NewConsoleProject("OwnMain", deleteProgram: false);
        File.WriteAllText(Path.Combine(app, "word-count.ksml.yaml"), WordCount);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            foreach (var definition in OwnMain.KsmlDefinitions.All)
                Console.WriteLine("definition " + definition.Name);
            Console.WriteLine("topic " + OwnMain.WordCountKsml.Topics.sentences.Topic);
            """);

        var build = Run(app, "dotnet", "build", "--nologo");
        Assert.That(build.ExitCode, Is.Zero, build.Output);
        var run = Run(app, "dotnet", "run", "--no-build");
        Assert.That(run.Output, Does.Contain("definition word-count").And.Contain("topic sentences"), run.Output);
    }

    [Test]
    public void An_undefined_function_fails_the_build_with_a_located_diagnostic()
    {
        var app = NewConsoleProject("Invalid", deleteProgram: true);
        File.WriteAllText(Path.Combine(app, "orders.ksml.yaml"), WordCount.Replace("if: is_long_enough", "if: is_long_enuf"));

        var build = Run(app, "dotnet", "build", "--nologo");
        Assert.That(build.ExitCode, Is.Not.Zero, build.Output);
        Assert.That(build.Output, Does.Contain(
            "orders.ksml.yaml(28,13): error KSML0103: Function 'is_long_enuf' is not defined. Did you mean 'is_long_enough'?"));
        Assert.That(build.Output, Does.Not.Contain("error CS"), "KSML errors must not be buried under C# errors");
    }

    [Test]
    public void A_python_name_never_imported_fails_the_build_at_its_line_and_column()
    {
        var app = NewConsoleProject("UndefinedPython", deleteProgram: true);
        File.WriteAllText(Path.Combine(app, "orders.ksml.yaml"), WordCount.Replace("expression: len(key) > 2", "expression: len(key) > 2 and time.time() > 0"));

        var build = Run(app, "dotnet", "build", "--nologo");
        Assert.That(build.ExitCode, Is.Not.Zero, build.Output);
        Assert.That(build.Output, Does.Contain(
            "orders.ksml.yaml(19,34): error KSML0500: 'time' is not defined; add 'import time' to globalCode"));

        // Turned off, the build goes through: the check lives in the package's MSBuild task, nowhere else.
        var withoutCheck = Run(app, "dotnet", "build", "--nologo", "-p:KsmlPythonCheck=false");
        Assert.That(withoutCheck.ExitCode, Is.Zero, withoutCheck.Output);
    }

    private string NewConsoleProject(string name, bool deleteProgram)
    {
        var app = Path.Combine(_work, name);
        Directory.CreateDirectory(app);
        var created = Run(app, "dotnet", "new", "console", "-n", name, "-o", ".");
        Assert.That(created.ExitCode, Is.Zero, created.Output);
        if (deleteProgram)
            File.Delete(Path.Combine(app, "Program.cs"));
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="ksml-local" value="{_feed}" />
              </packageSources>
            </configuration>
            """);
        var added = Run(app, "dotnet", "add", "package", "Ksml.Runtime", "--version", _version);
        Assert.That(added.ExitCode, Is.Zero, added.Output);
        return app;
    }

    private const string WordCount = """
        streams:
          sentences:
            topic: sentences
            keyType: string
            valueType: string
          word_counts:
            topic: word_counts
            keyType: string
            valueType: long

        functions:
          split_words:
            type: keyValueToKeyValueListTransformer
            expression: "[(word, word) for word in value.lower().split() if word]"
            resultType: "[(string, string)]"

          is_long_enough:
            type: predicate
            expression: len(key) > 2

        pipelines:
          count_words:
            from: sentences
            via:
              - type: flatMap
                mapper: split_words
              - type: filter
                if: is_long_enough
              - type: groupByKey
              - type: count
              - type: toStream
            to: word_counts
        """;

    private static string RepositoryRoot() => Path.GetFullPath(typeof(PackageConsumerTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    private static (int ExitCode, string Output) Run(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The consumer must not inherit this repository's build settings or the test host's MSBuild.
        start.Environment.Remove("MSBuildSDKsPath");
        start.Environment.Remove("MSBUILD_EXE_PATH");
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish in 5 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
