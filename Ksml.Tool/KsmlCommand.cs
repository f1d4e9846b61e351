using System.CommandLine;
using Ksml.Compiler;
using Ksml.Build;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Parsing;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Ksml.Testing;
using Microsoft.Extensions.Logging;

namespace Ksml.Tool;

/// <summary>
/// The <c>ksml</c> command line. Exit codes: 0 success, 1 KSML errors or failed tests, 2 bad usage or
/// configuration (as a compiled application answers).
/// </summary>
internal static class KsmlCommand
{
    /// <summary>The generator's namespace for a project without a RootNamespace.</summary>
    private const string DefaultNamespace = "Ksml.Generated";

    public static Task<int> RunAsync(string[] args, TextWriter? output = null)
    {
        var stdout = output ?? Console.Out;
        var checkFiles = new Argument<string[]>("files") { Description = "KSML definition or test suite files", Arity = ArgumentArity.OneOrMore };
        var noPython = new Option<bool>("--no-python") { Description = "Do not check the Python of the definitions (it is checked with Python's own ast and symtable by default)" };
        var pythonExecutable = new Option<string?>("--python") { Description = "The Python to check with (default: the runner file's, KSML_PYTHON_EXECUTABLE, /usr/bin/python3, or python3 on PATH)" };
        var modulePath = new Option<DirectoryInfo?>("--module-path") { Description = "A directory of the application's own Python modules (a runner file's pythonContext.modulePath)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also say which Python checked each definition, and which functions run as C# and which in CPython" };
        var check = new Command("check", "Report the located diagnostics a build would give, without building") { checkFiles, noPython, pythonExecutable, modulePath, verbose };
        check.SetAction(parse => Check(parse.GetValue(checkFiles)!,
            new PythonCheckSettings(!parse.GetValue(noPython), parse.GetValue(pythonExecutable), parse.GetValue(modulePath)?.FullName, parse.GetValue(verbose)), stdout));

        var generateFiles = new Argument<string[]>("files") { Description = "KSML definition files", Arity = ArgumentArity.OneOrMore };
        var outputDirectory = new Option<DirectoryInfo>("--output", "-o") { Description = "Directory to write the C# into", Required = true };
        var @namespace = new Option<string>("--namespace") { Description = "Namespace of the generated types", DefaultValueFactory = _ => DefaultNamespace };
        var generate = new Command("generate", "Write the C# the source generator would produce for these files") { generateFiles, outputDirectory, @namespace };
        generate.SetAction(parse => Generate(parse.GetValue(generateFiles)!, parse.GetValue(outputDirectory)!, parse.GetValue(@namespace)!, stdout));

        var runFiles = new Argument<string[]>("files") { Description = "KSML definition files (default: the runner file's ksml.definitions)", Arity = ArgumentArity.ZeroOrMore };
        var config = new Option<FileInfo?>("--config", "-c") { Description = "KSML runner file; every other option of a compiled application applies too (ksml run FILE -- --help lists them)" };
        Option<DirectoryInfo[]> References() => new("--reference", "-r")
        {
            Description = "A directory of .NET assemblies that definitions load with clr.AddReference, e.g. a project's build output (repeatable)",
        };
        var runReferences = References();
        var run = new Command("run", "Compile definitions in memory and run them as a compiled project would (embedded broker when no cluster is configured)") { runFiles, config, runReferences };
        run.TreatUnmatchedTokensAsErrors = false;
        run.SetAction((parse, _) =>
        {
            // The application's own options pass through untouched. Its own parser tells which tokens
            // are options and their values; a YAML file left over is a definition.
            var tokens = args.SkipWhile(a => a != "run").Skip(1).Where(t => t != "--").ToList(); // `ksml run FILE -- --help`
            var leftOver = KsmlApplication.Command([]).Parse(tokens).UnmatchedTokens;
            var files = leftOver.Where(IsDefinitionFile).ToList();
            var forwarded = tokens.ToList();
            foreach (var file in files)
                forwarded.Remove(file);
            foreach (var own in new[] { "--config", "-c", "--reference", "-r" })
                for (var at = forwarded.IndexOf(own); at >= 0 && at + 1 < forwarded.Count; at = forwarded.IndexOf(own))
                    forwarded.RemoveRange(at, 2);
            ReferencedAssemblies.Use(parse.GetValue(runReferences) ?? []);
            return Run([.. files], parse.GetValue(config), forwarded);
        });

        var testPaths = new Argument<string[]>("paths") { Description = "Test suite files, or folders to search (nested folders included)", Arity = ArgumentArity.OneOrMore };
        var testReferences = References();
        var test = new Command("test", "Run KSML test suites (KSML's YAML test format) on TopologyTestDriver") { testPaths, testReferences };
        test.SetAction(parse =>
        {
            ReferencedAssemblies.Use(parse.GetValue(testReferences) ?? []);
            return Test(parse.GetValue(testPaths)!, stdout);
        });

        var port = new Option<int>("--port") { Description = "Port to listen on at 127.0.0.1 (default: a free one, printed)", DefaultValueFactory = _ => 0 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the topics it creates when asked for the broker's default, and of --topic", DefaultValueFactory = _ => 1 };
        var topics = new Option<string[]>("--topic") { Description = "A topic to create at start (repeatable)" };
        var broker = new Command("broker", "Run the embedded Kafka-protocol broker (librdkafka's mock cluster) as its own process, until stopped") { port, partitions, topics };
        broker.SetAction((parse, cancellation) => Broker(parse.GetValue(port), parse.GetValue(partitions), parse.GetValue(topics) ?? [], stdout, cancellation));

        var describeFiles = new Argument<string[]>("files") { Description = "KSML definition files", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "text, mermaid or dot (Graphviz: pipe to `dot -Tpng`)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "mermaid", "dot");
        var describe = new Command("describe", "Print the topology each definition builds: sources, operations by YAML name and line, stores, sinks, internal topics") { describeFiles, format };
        describe.SetAction(parse => Describe(parse.GetValue(describeFiles)!, parse.GetValue(format)!, stdout));
        var root = new RootCommand("ksml: check, describe, generate, run and test KSML definitions with Ksml.NET") { check, describe, generate, run, test, broker };
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static bool IsDefinitionFile(string token) =>
        !token.StartsWith('-') && (token.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || token.EndsWith(".yml", StringComparison.OrdinalIgnoreCase));

    /// <summary>How <c>ksml check</c> checks Python: whether at all, with which executable and module directory.</summary>
    private sealed record PythonCheckSettings(bool Enabled, string? Executable, string? ModulePath, bool Verbose);

    private static int Check(string[] files, PythonCheckSettings python, TextWriter output)
    {
        var errors = 0;
        var warnings = 0;
        foreach (var file in files)
            errors += CheckPath(file, python, output, ref warnings, runnerFileAllowed: true);
        output.WriteLine($"ksml check: {files.Length} file{(files.Length == 1 ? "" : "s")}, {errors} error{(errors == 1 ? "" : "s")}, {warnings} warning{(warnings == 1 ? "" : "s")}");
        return errors > 0 ? 1 : 0;
    }

    /// <summary>Checks a definition, a suite, or a runner file and the definitions it lists; prints what it finds and returns the errors.</summary>
    private static int CheckPath(string file, PythonCheckSettings python, TextWriter output, ref int warnings, bool runnerFileAllowed)
    {
        if (!File.Exists(file))
        {
            output.WriteLine(InMemoryCompiler.Missing(file));
            return 1;
        }
        var text = File.ReadAllText(file);
        if (runnerFileAllowed && KsmlRunnerConfig.LooksLikeRunnerFile(text))
            return CheckRunnerFile(file, text, python, output, ref warnings);
        var diagnostics = new List<KsmlDiagnostic>();
        var definitionErrors = 0;
        if (TestSuiteParser.LooksLikeSuite(text))
        {
            var suite = TestSuiteParser.Parse(file, text, diagnostics);
            // The definition a suite tests is checked too, with the suite's module directory, as `ksml test` runs it.
            if (runnerFileAllowed && suite.Definition is { } definition && !diagnostics.Any(d => d.IsError))
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
                var pythonOfSuite = suite.ModuleDirectory is { } modules ? python with { ModulePath = Path.Combine(directory, modules) } : python;
                definitionErrors = CheckPath(Path.Combine(directory, definition.Name), pythonOfSuite, output, ref warnings, runnerFileAllowed: false);
            }
        }
        else
        {
            var compiled = InMemoryCompiler.CompileText(file, text, DefaultNamespace);
            diagnostics.AddRange(compiled.Diagnostics);
            if (compiled.Model is { } model)
            {
                if (python.Enabled)
                    diagnostics.AddRange(CheckPython(file, text, model, python, output));
                if (python.Verbose)
                {
                    foreach (var function in model.Functions)
                    {
                        var plan = Ksml.Compiler.Lowering.NativeLowering.Plan(function, model);
                        output.WriteLine($"{InMemoryCompiler.DisplayPath(file)}({function.Syntax.Name.Span.Line},{function.Syntax.Name.Span.Column}): " +
                            (plan.IsNative ? $"'{function.Name}' runs as C#" : $"'{function.Name}' runs in CPython: {plan.Reason}"));
                    }
                }
            }
        }
        foreach (var diagnostic in diagnostics)
            output.WriteLine(diagnostic);
        warnings += diagnostics.Count(d => !d.IsError);
        return diagnostics.Count(d => d.IsError) + definitionErrors;
    }

    /// <summary>A runner file is read as the application would read it, then every definition it lists is checked.</summary>
    /// <summary>The build-time Python check of one definition, as <c>dotnet build</c> runs it; says so when it could not run.</summary>
    private static IReadOnlyList<KsmlDiagnostic> CheckPython(string file, string text, Ksml.Compiler.Binding.BoundDefinition model, PythonCheckSettings settings, TextWriter output)
    {
        var executable = PythonChecker.Find(settings.Executable);
        var modulePaths = settings.ModulePath is null ? [] : new[] { settings.ModulePath };
        var report = PythonChecker.Check([(file, text, model)], executable, modulePaths);
        if (report.NotChecked is { } reason)
        {
            output.WriteLine($"{InMemoryCompiler.DisplayPath(file)}: the Python was not checked: {reason}");
            return [];
        }
        if (settings.Verbose)
            output.WriteLine($"{InMemoryCompiler.DisplayPath(file)}: Python checked with {report.Python}");
        return report.Files.SelectMany(f => f.Diagnostics).ToList();
    }

    private static int CheckRunnerFile(string file, string text, PythonCheckSettings python, TextWriter output, ref int warnings)
    {
        KsmlRunnerOptions options;
        try
        {
            options = KsmlRunnerConfig.Parse(text, InMemoryCompiler.DisplayPath(file), Environment.GetEnvironmentVariable, []);
        }
        catch (KsmlConfigException ex)
        {
            output.WriteLine($"{ex.Location ?? InMemoryCompiler.DisplayPath(file)}: error: {ex.Problem}");
            return 1;
        }
        var errors = 0;
        // The runner file's own Python and module directory are the ones the application will run with.
        var pythonOfRunner = python with
        {
            Executable = python.Executable ?? options.Python.Executable,
            ModulePath = options.Python.ModulePath is { Length: > 0 } modules ? Path.GetFullPath(modules) : python.ModulePath, // as the runtime resolves it
        };
        foreach (var (_, path) in KsmlRunnerConfig.DefinitionPaths(options, file))
            errors += CheckPath(path, pythonOfRunner, output, ref warnings, runnerFileAllowed: false);
        return errors;
    }

    private static int Describe(string[] files, string format, TextWriter output)
    {
        var failed = false;
        foreach (var file in files)
        {
            if (InMemoryCompiler.CompileFile(file, "Ksml.Describe") is not { } result)
            {
                output.WriteLine(InMemoryCompiler.Missing(file));
                failed = true;
                continue;
            }
            foreach (var diagnostic in result.Diagnostics.Where(d => d.Severity == Ksml.Compiler.Diagnostics.DiagnosticSeverity.Error))
                output.WriteLine(diagnostic);
            if (result.Model is null || result.Source is null)
            {
                failed = true;
                continue;
            }
            output.Write(Ksml.Compiler.Emit.TopologyDiagram.Describe(result.Model, format switch
            {
                "mermaid" => Ksml.Compiler.Emit.DiagramFormat.Mermaid,
                "dot" => Ksml.Compiler.Emit.DiagramFormat.Dot,
                _ => Ksml.Compiler.Emit.DiagramFormat.Text,
            }));
        }
        return failed ? 1 : 0;
    }

    private static int Generate(string[] files, DirectoryInfo directory, string @namespace, TextWriter output)
    {
        var classes = new List<string>();
        var written = new List<(string Name, string Source)>();
        var failed = false;
        foreach (var file in files)
        {
            if (InMemoryCompiler.CompileFile(file, @namespace) is not { } result)
            {
                output.WriteLine(InMemoryCompiler.Missing(file));
                failed = true;
                continue;
            }
            foreach (var diagnostic in result.Diagnostics)
                output.WriteLine(diagnostic);
            if (result.Source is null)
            {
                failed = true;
                continue;
            }
            classes.Add(result.ClassName);
            written.Add((EntryPointEmitter.HintNameFor(InMemoryCompiler.DisplayPath(file)), result.Source));
        }
        if (failed)
            return 1;
        directory.Create();
        written.Add((EntryPointEmitter.HintName, EntryPointEmitter.Emit(@namespace, classes.Order(StringComparer.Ordinal), generateMain: false)));
        foreach (var (name, source) in written)
        {
            File.WriteAllText(Path.Combine(directory.FullName, name), source);
            output.WriteLine(Path.Combine(directory.FullName, name));
        }
        return 0;
    }

    private static async Task<int> Run(string[] files, FileInfo? config, IReadOnlyList<string> forwarded)
    {
        // A runner file named as the only file is what --config takes (KSML's examples ship one next to the definitions).
        if (config is null && files is [var only] && File.Exists(only) && KsmlRunnerConfig.LooksLikeRunnerFile(await File.ReadAllTextAsync(only).ConfigureAwait(false)))
            (files, config) = ([], new FileInfo(only));
        var arguments = forwarded.ToList();
        var configPath = config?.FullName ?? Environment.GetEnvironmentVariable("KSML_CONFIG") ?? (File.Exists("ksml-runner.yaml") ? Path.GetFullPath("ksml-runner.yaml") : null);
        if (config is not null)
            arguments.InsertRange(0, ["--config", config.FullName]);
        var paths = files.ToList();
        var names = files.Select(_ => (string?)null).ToList();
        if (paths.Count == 0)
        {
            if (configPath is null || !File.Exists(configPath))
            {
                await Console.Error.WriteLineAsync("ksml run: name the definition files, or a runner file (--config) whose ksml.definitions lists them").ConfigureAwait(false);
                return 2;
            }
            KsmlRunnerOptions options;
            try
            {
                options = KsmlRunnerConfig.Parse(await File.ReadAllTextAsync(configPath).ConfigureAwait(false), configPath, Environment.GetEnvironmentVariable, []);
            }
            catch (KsmlConfigException ex)
            {
                await Console.Error.WriteLineAsync("ksml: " + ex.Message).ConfigureAwait(false);
                return 2;
            }
            foreach (var (name, path) in KsmlRunnerConfig.DefinitionPaths(options, configPath))
            {
                paths.Add(path);
                names.Add(name);
            }
            if (paths.Count == 0)
            {
                await Console.Error.WriteLineAsync($"ksml run: {configPath} lists no ksml.definitions; name the definition files instead").ConfigureAwait(false);
                return 2;
            }
        }
        else if (configPath is not null && File.Exists(configPath) && await ListedNames(configPath, paths).ConfigureAwait(false) is { } listed)
        {
            // The runner file picks the definitions it lists by name: named files get the names it gives them,
            // and one it does not list would be left out, so that is said instead of run without.
            if (listed.Unlisted.Count > 0 || listed.Unnamed.Count > 0)
            {
                var problem = listed.Unlisted.Count > 0
                    ? $"{string.Join(", ", listed.Unlisted)} not in its ksml.definitions"
                    : $"its ksml.definitions also lists {string.Join(", ", listed.Unnamed)}";
                await Console.Error.WriteLineAsync($"ksml run: {configPath} picks the definitions that run, and {problem}; name the files it lists, or none to run them all").ConfigureAwait(false);
                return 2;
            }
            names = listed.Names;
        }
        var (definitions, errors) = InMemoryCompiler.Compile(paths, names);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
            return 1;
        }
        var exit = await KsmlApplication.RunAsync([.. arguments], definitions).ConfigureAwait(false);
        if (exit != 0 && ReferencedAssemblies.Hint() is { } hint)
            await Console.Error.WriteLineAsync(hint).ConfigureAwait(false);
        return exit;
    }

    /// <summary>
    /// The names a runner file's <c>ksml.definitions</c> gives <paramref name="paths"/>, the paths it does not list and
    /// the files it lists that are not among them; null when it lists none (or cannot be read, which the run reports).
    /// </summary>
    private static async Task<(List<string?> Names, List<string> Unlisted, List<string> Unnamed)?> ListedNames(string configPath, IReadOnlyList<string> paths)
    {
        KsmlRunnerOptions options;
        try
        {
            options = KsmlRunnerConfig.Parse(await File.ReadAllTextAsync(configPath).ConfigureAwait(false), configPath, Environment.GetEnvironmentVariable, []);
        }
        catch (KsmlConfigException)
        {
            return null;
        }
        var byPath = KsmlRunnerConfig.DefinitionPaths(options, configPath).ToDictionary(d => Path.GetFullPath(d.Path), d => d.Name, StringComparer.Ordinal);
        if (byPath.Count == 0)
            return null;
        var names = paths.Select(p => byPath.GetValueOrDefault(Path.GetFullPath(p))).ToList();
        var named = paths.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        return (names, paths.Where((_, i) => names[i] is null).ToList(), byPath.Where(d => !named.Contains(d.Key)).Select(d => Path.GetFileName(d.Key)).ToList());
    }

    private static async Task<int> Broker(int port, int partitions, string[] topics, TextWriter output, CancellationToken cancellation)
    {
        if (port is < 0 or > 65535 || partitions < 1)
        {
            await Console.Error.WriteLineAsync("ksml broker: --port must be 0 to 65535 and --partitions at least 1").ConfigureAwait(false);
            return 2;
        }
        EmbeddedKafkaBroker broker;
        try
        {
            broker = EmbeddedKafkaBroker.Serve(port, partitions);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await Console.Error.WriteLineAsync($"ksml broker: cannot listen on 127.0.0.1:{port}: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        using (broker)
        {
            foreach (var topic in topics)
                broker.CreateTopic(topic, partitions);
            output.WriteLine($"Kafka broker listening at {broker.BootstrapServers} (librdkafka's mock cluster: data in memory, at most {EmbeddedKafkaBroker.MaxBytesPerPartition / (1024 * 1024)} MiB per partition; transactions are not isolated, so exactly-once needs a Kafka cluster)");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        output.WriteLine("Kafka broker stopped");
        return 0;
    }

    private static int Test(string[] paths, TextWriter output)
    {
        LogLevel minimum;
        try
        {
            minimum = KsmlLogLevel.FromEnvironment(LogLevel.Warning); // quieter than a running application: the results are the output
        }
        catch (KsmlConfigException ex)
        {
            Console.Error.WriteLine("ksml: " + ex.Message);
            return 2;
        }
        using var loggers = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(minimum)
            .AddFilter("Streamiz", LogLevel.Error));
        var runner = new KsmlSuiteRunner(new InMemoryCompiler(), loggers);
        var suites = KsmlSuiteFiles.Find(paths);
        if (suites.Count == 0)
        {
            output.WriteLine($"ksml test: no test suites under {string.Join(", ", paths)} (a suite is a YAML file with top-level 'definition:' and 'tests:')");
            output.WriteLine("0 passed, 0 failed");
            return 1;
        }
        var passed = 0;
        var failed = 0;
        foreach (var suite in suites)
        {
            var result = runner.Run(suite);
            output.WriteLine($"{result.Name} ({suite})");
            foreach (var error in result.Errors)
                output.WriteLine("  ERROR " + error);
            if (result.Errors.Count > 0)
                failed++;
            foreach (var test in result.Tests)
            {
                output.WriteLine($"  {test.Status.ToString().ToUpperInvariant()} {test.Id}{(test.Description != test.Id ? " - " + test.Description : "")}");
                if (test.Failure is not null)
                    output.WriteLine("       " + test.Failure);
                if (test.Passed) passed++; else failed++;
            }
        }
        if (failed > 0 && ReferencedAssemblies.Hint() is { } hint)
            output.WriteLine(hint);
        // "failed" counts every test that did not pass: an assertion that did not hold (FAIL) or an error (ERROR).
        output.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
