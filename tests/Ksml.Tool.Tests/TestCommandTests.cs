using static Ksml.Tool.Tests.ToolTestSupport;

namespace Ksml.Tool.Tests;

/// <summary>`ksml test`: KSML's YAML suites, compiled in memory, each test on a fresh TopologyTestDriver.</summary>
public sealed class TestCommandTests
{
    [Test]
    public void Suites_in_nested_folders_are_found_and_pass()
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, "passing"));

        Assert.That(output, Does.Contain("Readings (").And.Contain("PASS hot_readings_alert - Only readings above 30 degrees become alerts"));
        Assert.That(output, Does.Contain("PASS the_store_keeps_the_latest").And.Contain("PASS generated_readings"));
        Assert.That(output.TrimEnd(), Does.EndWith("3 passed, 0 failed"));
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void The_idioms_of_ksmls_own_examples_compile_and_run()
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, "ksml-idioms"));

        Assert.That(output, Does.Contain("PASS totals_per_area_and_minute"));
        Assert.That(output.TrimEnd(), Does.EndWith("1 passed, 0 failed"));
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void Each_test_starts_with_fresh_python_state_and_every_function_loaded()
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, "isolated"));

        Assert.That(output, Does.Contain("PASS first_run").And.Contain("PASS second_run_starts_afresh"), output);
        Assert.That(exit, Is.EqualTo(0));
    }

    [Test]
    public void A_failing_assert_is_reported_with_its_yaml_line_and_fails_the_run()
    {
        var suite = Path.Combine(Suites, "failing", "readings-failing.test.yaml");
        var line = File.ReadAllLines(suite).ToList().FindIndex(l => l.Contains("expected the alert for s9", StringComparison.Ordinal)) + 1;

        var (exit, output) = RunKsml("test", suite);

        Assert.That(output, Does.Contain("PASS passes"));
        Assert.That(output, Does.Contain("FAIL fails_on_its_second_assert"));
        Assert.That(output, Does.Contain($"{suite}:{line}: AssertionError: expected the alert for s9"));
        Assert.That(output.TrimEnd(), Does.EndWith("1 passed, 1 failed"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void A_suite_produces_to_a_stream_twice_reads_an_operations_store_and_reports_a_failure_deep_in_a_chain_against_its_test()
    {
        var suite = Path.Combine(Suites, "chains", "chained-counts.test.yaml");

        var (exit, output) = RunKsml("test", suite);

        Assert.That(output, Does.Contain("PASS two_produce_blocks_to_one_stream_and_an_operations_store"), output);
        Assert.That(output, Does.Match(@"ERROR a_record_failing_in_the_second_pipeline_is_this_tests_error\s+\S+chained-counts\.test\.yaml:\d+: producing to 'words' failed in \S*chained-counts\.ksml\.yaml:\d+: ZeroDivisionError"), output);
        Assert.That(output, Does.Contain("1 passed, 1 failed"), output);
        Assert.That(exit, Is.EqualTo(1));
    }

    // KSML behaviours a suite of its own proves, each test of it passing.
    [TestCase("stores/timestamped.test.yaml", "get_answers_the_value_and_the_timestamp_put_was_given",
        TestName = "A timestamped store takes a timestamp on put and answers value and timestamp on get, as in KSML")]
    [TestCase("stores/versioned.test.yaml", "get_answers_the_newest_value_or_the_one_valid_at_a_time_within_the_history_retention",
        TestName = "A versioned store answers the newest value or the one valid at a time, as in KSML")]
    [TestCase("avro/bare-avro.test.yaml", "records_are_read_and_written_with_the_registrys_schema",
        TestName = "Bare avro notations read and write through the suite's registry, as in KSML's test runner")]
    public void A_suite_of_a_ksml_behaviour_passes(string suite, string test)
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, suite));

        Assert.That(output, Does.Contain("PASS " + test), output);
        Assert.That(exit, Is.EqualTo(0), output);
    }

    [Test]
    public void Schema_typed_streams_use_the_suites_schema_directory_and_bad_records_fail_where_produced()
    {
        var suite = Path.Combine(Suites, "avro", "avro-readings.test.yaml");

        var (exit, output) = RunKsml("test", suite);

        Assert.That(output, Does.Contain("PASS avro_values_are_read_with_the_suites_schema"));
        Assert.That(output, Does.Contain("ERROR a_value_the_schema_refuses_fails_the_test_where_it_is_produced"), "producing failed before any assertion: an error, as KSML reports it");
        Assert.That(output, Does.Contain("PASS python_sees_the_schema_of_a_value_read_with_one_and_it_does_not_leave_with_the_value"));
        Assert.That(output, Does.Contain($"{suite}:36: producing to 'readings' failed: Avro Double needs a single value, got null"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void A_record_failing_in_the_pipeline_fails_the_test_with_the_functions_location()
    {
        var suite = Path.Combine(Suites, "raising", "ratio.test.yaml");

        var (exit, output) = RunKsml("test", suite);

        Assert.That(output, Does.Contain("PASS divides"));
        Assert.That(output, Does.Match(@"ERROR a_failing_record_fails_the_test_with_the_functions_location\s+\S+ratio\.test\.yaml:16: producing to 'pairs' failed in \S*ratio\.ksml\.yaml:18: ZeroDivisionError: division by zero"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void A_malformed_suite_gets_located_errors()
    {
        var suite = Path.Combine(Suites, "malformed", "readings-malformed.test.yaml");

        var (exit, output) = RunKsml("test", suite);

        Assert.That(output, Does.Contain($"{suite}(5,5): error KSML0001: Unknown key 'valueTyp' in stream 'readings'. Did you mean 'valueType'?"));
        Assert.That(output, Does.Contain($"{suite}(9,13): error KSML0107: Stream 'reading' is not declared in the suite's 'streams'. Did you mean 'readings'?"));
        Assert.That(output, Does.Contain($"{suite}(14,9): error KSML0002"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output.TrimEnd(), Does.EndWith("0 passed, 1 failed"));
    }

    [Test]
    public void A_suite_whose_definition_does_not_compile_reports_the_definitions_diagnostics()
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, "broken", "broken.test.yaml"));

        Assert.That(output, Does.Match(@"broken\.ksml\.yaml\(11,13\): error KSML0103: Function 'is_to_hot' is not defined"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void Check_reports_suite_errors_too()
    {
        var suite = Path.Combine(Suites, "malformed", "readings-malformed.test.yaml");

        var (exit, output) = RunKsml("check", suite);

        Assert.That(output, Does.Contain("error KSML0107"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void A_folder_without_suites_says_so_and_fails()
    {
        var (exit, output) = RunKsml("test", Path.Combine(Suites, "modules"));

        Assert.That(output, Does.Contain("no test suites"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public void Assemblies_loaded_with_clr_come_from_reference_directories_and_a_missing_one_is_named()
    {
        var library = Directory.CreateTempSubdirectory("ksml-reference-");
        try
        {
            CompileGreetingsLibrary(Path.Combine(library.FullName, "KsmlGreetings.dll"));
            var suite = Path.Combine(Suites, "clr", "greetings.test.yaml");

            // Own processes: an assembly once loaded stays loaded, which would hide the missing case.
            var (missingExit, missing) = RunTool(RepositoryRoot, TimeSpan.FromSeconds(120), "test", suite);
            var (foundExit, found) = RunTool(RepositoryRoot, TimeSpan.FromSeconds(120), "test", suite, "--reference", library.FullName);

            Assert.That(missing, Does.Contain("ERROR greets").And.Contain("'KsmlGreetings' (clr.AddReference) not found; pass --reference"), missing);
            Assert.That(missing, Does.Contain("failed with FileNotFoundException: Could not load file or assembly 'KsmlGreetings")
                .And.Not.Contain("   at System."), "the .NET exception's message without its stack trace");
            Assert.That(missingExit, Is.EqualTo(1));
            Assert.That(found, Does.Contain("PASS greets").And.Contain("1 passed, 0 failed"), found);
            Assert.That(foundExit, Is.EqualTo(0));
        }
        finally
        {
            library.Delete(recursive: true);
        }
    }

    private static void CompileGreetingsLibrary(string path)
    {
        var source = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "namespace KsmlGreetings { public static class Greeter { public static string Hello(string name) => \"hello \" + name; } }");
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is "System.Private.CoreLib.dll" or "System.Runtime.dll")
            .Select(p => Microsoft.CodeAnalysis.MetadataReference.CreateFromFile(p));
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("KsmlGreetings", [source], framework,
            new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary));
        using var file = File.Create(path);
        var emitted = compilation.Emit(file);
        Assert.That(emitted.Success, Is.True, string.Join("\n", emitted.Diagnostics));
    }
}
