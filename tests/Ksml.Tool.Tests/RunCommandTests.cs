using System.Diagnostics;
using static Ksml.Tool.Tests.ToolTestSupport;

namespace Ksml.Tool.Tests;

/// <summary>`ksml run` compiles in memory and runs like a compiled project: same options, same embedded broker.</summary>
public sealed class RunCommandTests
{
    [Test]
    public void Runs_a_definition_on_the_embedded_broker_and_stops_cleanly_on_sigterm()
    {
        // The producer writes a sentence a second; the pipeline's peek logs "word -> count".
        var output = RunUntilPrintedThenStop(RepositoryRoot, " -> ", TimeSpan.FromSeconds(90), "run", "examples/WordCount/word-count.ksml.yaml");

        Assert.That(output, Has.Some.Contains("Embedded Kafka broker"), string.Join('\n', output));
    }

    [Test]
    public void A_definition_of_producers_only_runs_them_without_a_stream()
    {
        var output = RunUntilPrintedThenStop(Suites, "finished after", TimeSpan.FromSeconds(60), "run", "producers/producers-only.ksml.yaml");

        Assert.That(output, Has.Some.Contains("Producer three_blobs finished after 3 messages"), string.Join('\n', output));
    }

    [TestCase("stores:\n  seen:\n    type: keyValue\n    keyType: string\n    valueType: long\npipelines:\n  main:\n    from:\n      topic: other\n      keyType: string\n      valueType: string\n    forEach:\n      stores: [seen]\n      code: seen.put(key, 1)\n",
        "b.ksml.yaml: store 'seen' is declared again; store names are shared by every definition of an application, as in KSML")]
    [TestCase("tables:\n  events_table:\n    topic: events\n    keyType: string\n    valueType: string\npipelines:\n  main:\n    from: events_table\n    via:\n      - type: toStream\n    print:\n",
        "b.ksml.yaml: 'events_table' reads topic 'events', which is already read as a stream; Kafka Streams allows one source per topic")]
    [TestCase("streams:\n  raw_events:\n    topic: events\n    keyType: string\n    valueType: bytes\npipelines:\n  main:\n    from: raw_events\n    print:\n",
        "b.ksml.yaml: 'raw_events' reads topic 'events', which is already read with other key or value types; Kafka Streams allows one source per topic")]
    public void Two_definitions_that_clash_stop_the_start_with_one_located_line(string second, string expected)
    {
        InWorkDirectory("ksml-run-", work =>
        {
            const string first = "streams:\n  events:\n    topic: events\n    keyType: string\n    valueType: string\nstores:\n  seen:\n    type: keyValue\n    keyType: string\n    valueType: long\npipelines:\n  main:\n    from: events\n    forEach:\n      stores: [seen]\n      code: seen.put(key, 1)\n";
            File.WriteAllText(Path.Combine(work, "a.ksml.yaml"), first);
            File.WriteAllText(Path.Combine(work, "b.ksml.yaml"), second);
            var (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "a.ksml.yaml", "b.ksml.yaml", "--", "--describe");

            Assert.That(exit, Is.EqualTo(2), printed);
            Assert.That(printed, Does.Contain("ksml: " + expected), printed);
            Assert.That(printed, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    [Test]
    public void Producers_get_no_consumer_settings_from_the_runner_file()
    {
        // KSML's example runner sets auto.offset.reset and group.instance.id; librdkafka's producers warned about each.
        InWorkDirectory("ksml-run-", work =>
        {
            File.Copy(Path.Combine(Suites, "producers", "producers-only.ksml.yaml"), Path.Combine(work, "producers-only.ksml.yaml"));
            File.WriteAllText(Path.Combine(work, "ksml-runner.yaml"), """
                kafka:
                  application.id: tool-producer-settings
                  auto.offset.reset: earliest
                  group.instance.id: example-instance
                  acks: all
                ksml:
                  definitions:
                    producers: producers-only.ksml.yaml
                """);
            var output = RunUntilPrintedThenStop(work, "finished after", TimeSpan.FromSeconds(60), "run", "--config", "ksml-runner.yaml", "--", "--embedded-broker");

            Assert.That(output, Has.Some.Contains("Producer three_blobs finished after 3 messages"), string.Join('\n', output));
            Assert.That(output, Has.None.Contains("CONFWARN"), string.Join('\n', output));
        });
    }

    /// <summary>Runs the tool until it prints <paramref name="expected"/>, then stops it with SIGTERM, which must end it cleanly.</summary>
    private static List<string> RunUntilPrintedThenStop(string workingDirectory, string expected, TimeSpan within, params string[] args)
    {
        using var process = Start(workingDirectory, args);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + within;
            while (!output.Any(line => line.Contains(expected, StringComparison.Ordinal)) && DateTime.UtcNow < deadline && !process.HasExited)
                Thread.Sleep(200);
            Assert.That(output, Has.Some.Contains(expected), string.Join('\n', output));
        }
        finally
        {
            if (!process.HasExited)
                Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExit();
        }
        Assert.That(process.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the tool stops on SIGTERM");
        Assert.That(process.ExitCode, Is.EqualTo(0), string.Join('\n', output));
        return output.ToList();
    }

    [Test]
    public void A_runner_file_names_the_definitions_and_the_application_options_still_apply()
    {
        InWorkDirectory("ksml-run-", work =>
        {
            Directory.CreateDirectory(Path.Combine(work, "defs"));
            File.Copy(Path.Combine(Suites, "definitions", "readings.ksml.yaml"), Path.Combine(work, "defs", "readings.ksml.yaml"));
            File.WriteAllText(Path.Combine(work, "ksml-runner.yaml"), """
                kafka:
                  application.id: tool-run-test
                ksml:
                  configDirectory: defs
                  definitions:
                    sensors: readings.ksml.yaml
                """);
            var (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "--config", "ksml-runner.yaml", "--describe");

            Assert.That(exit, Is.EqualTo(0), printed);
            Assert.That(printed, Does.Contain("Topologies:").And.Contain("readings"), printed);

            // Named as the file to run, a runner file is taken as --config.
            (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "ksml-runner.yaml", "--describe");
            Assert.That(exit, Is.EqualTo(0), printed);
            Assert.That(printed, Does.Contain("Topologies:").And.Contain("readings"), printed);

            // Definitions named beside the runner file it found run under the names it gives them; one it does not list is said.
            (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "defs/readings.ksml.yaml", "--", "--describe");
            Assert.That(exit, Is.EqualTo(0), printed);
            Assert.That(printed, Does.Contain("Topologies:"), printed);
            File.WriteAllText(Path.Combine(work, "defs", "other.ksml.yaml"), "streams:\n  s:\n    topic: other\n    keyType: string\n    valueType: string\npipelines:\n  p:\n    from: s\n    print:\n");
            (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "defs/readings.ksml.yaml", "defs/other.ksml.yaml", "--", "--describe");
            Assert.That(exit, Is.EqualTo(2), printed);
            Assert.That(printed, Does.Contain("picks the definitions that run, and defs/other.ksml.yaml not in its ksml.definitions"), printed);
        });
    }

    [Test]
    public void A_notation_the_runner_config_does_not_define_stops_the_start_with_one_located_line()
    {
        InWorkDirectory("ksml-run-", work =>
        {
            File.WriteAllText(Path.Combine(work, "orders.ksml.yaml"), """
                streams:
                  orders:
                    topic: orders
                    keyType: string
                    valueType: vendor_avro:Order
                pipelines:
                  print_orders:
                    from: orders
                    print:
                """);
            const string runner = """
                kafka:
                  application.id: tool-notation-test
                ksml:
                  definitions:
                    orders: orders.ksml.yaml

                """;
            File.WriteAllText(Path.Combine(work, "ksml-runner.yaml"), runner);
            var (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "--config", "ksml-runner.yaml", "--describe");

            Assert.That(exit, Is.EqualTo(2), printed);
            Assert.That(printed, Does.Contain("ksml: orders.ksml.yaml: stream 'orders' (topic orders): type 'vendor_avro:Order': Notation 'vendor_avro' is neither built in nor defined under ksml.notations in the runner config."), printed);
            Assert.That(printed, Does.Not.Contain("   at "), "no stack trace");

            // Defined under ksml.notations, as KSML lets any name stand for an implementation, the same definition builds.
            File.WriteAllText(Path.Combine(work, "ksml-runner.yaml"), runner.Replace("  definitions:", "  notations:\n    vendor_avro:\n      type: confluent_avro\n  definitions:", StringComparison.Ordinal));
            (exit, printed) = RunTool(work, TimeSpan.FromSeconds(120), "run", "--config", "ksml-runner.yaml", "--describe");

            Assert.That(exit, Is.EqualTo(0), printed);
            Assert.That(printed, Does.Contain("Topologies:"), printed);
        });
    }

    [Test]
    public void The_applications_own_help_lists_its_options()
    {
        var (exit, printed) = RunTool(Suites, TimeSpan.FromSeconds(60), "run", "definitions/readings.ksml.yaml", "--", "--help");

        Assert.That(printed, Does.Contain("A compiled KSML application (readings)").And.Contain("--bootstrap-servers").And.Contain("--exactly-once"), printed);
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void A_yaml_path_given_as_an_options_value_is_not_taken_for_a_definition()
    {
        // The application's own parser decides which options take a value, so a new option needs no second list in the tool.
        var (exit, printed) = RunTool(Suites, TimeSpan.FromSeconds(60), "run", "--state-dir", "state.yaml", "definitions/readings.ksml.yaml", "--set", "ksml.enableProducers=false", "--describe");

        Assert.That(printed, Does.Contain("Topologies:").And.Not.Contain("state.yaml"), printed);
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void A_definition_whose_dotnet_library_is_missing_stops_naming_it_and_the_option_to_pass()
    {
        var (exit, output) = RunTool(Suites, TimeSpan.FromSeconds(90), "run", "clr/greetings.ksml.yaml");

        Assert.That(output, Does.Contain("FileNotFoundException: Could not load file or assembly 'KsmlGreetings"), output);
        Assert.That(output, Does.Contain("'KsmlGreetings' (clr.AddReference) not found; pass --reference"), output);
        Assert.That(exit, Is.EqualTo(2));
    }

    [Test]
    public void A_definition_with_errors_is_not_run()
    {
        var (exit, printed) = RunTool(Suites, TimeSpan.FromSeconds(60), "run", "broken/broken.ksml.yaml");

        Assert.That(printed, Does.Contain("broken/broken.ksml.yaml(11,13): error KSML0103"));
        Assert.That(exit, Is.EqualTo(1));
    }
}
