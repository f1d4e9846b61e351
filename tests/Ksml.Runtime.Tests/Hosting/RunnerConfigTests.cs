using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Hosting;

namespace Ksml.Runtime.Tests.Hosting;

/// <summary>KSML's runner file: environment substitution, overrides, and one clear line for every bad value.</summary>
public sealed class RunnerConfigTests
{
    private static readonly Dictionary<string, string> Environment = new() { ["KAFKA_PASSWORD"] = "s3cret", ["BROKERS"] = "kafka-1:9092", ["REGISTRY_USER_INFO"] = "svc:from-env" };

    private static KsmlRunnerOptions Parse(string yaml, params string[] overrides) =>
        KsmlRunnerConfig.Parse(yaml, "ksml-runner.yaml", name => Environment.GetValueOrDefault(name), overrides);

    private static string Error(string yaml, params string[] overrides) =>
        Assert.Throws<KsmlConfigException>(() => Parse(yaml, overrides))!.Message;

    private const string Full = """
        kafka:
          bootstrap.servers: ${BROKERS}
          application.id: orders-app
          security.protocol: SASL_SSL
          sasl.mechanism: PLAIN
          sasl.username: ${KAFKA_USER:-orders}
          sasl.password: ${KAFKA_PASSWORD}
        ksml:
          definitions:
            orders: orders.ksml.yaml
          storageDirectory: /var/lib/ksml
          createStorageDirectory: true
          enableProducers: false
          errorHandling:
            consume:
              handler: continueOnFail
              logPayload: true
              deadLetterTopic: orders_dlq
            process:
              handler: retryOnFail
              maxRetries: 5
              initialBackoff: 200ms
              maxBackoff: 10s
              loggerName: OrderErrors
          prometheus:
            enabled: true
            port: 9999
          applicationServer:
            enabled: true
            host: 0.0.0.0
            port: 8080
        """;

    [Test]
    public void A_full_runner_file_with_secrets_from_the_environment()
    {
        var options = Parse(Full);

        Assert.That(options.Kafka["sasl.password"], Is.EqualTo("s3cret"));
        Assert.That(options.Kafka["sasl.username"], Is.EqualTo("orders"), "the default after :-");
        Assert.That(options.BootstrapServers, Is.EqualTo("kafka-1:9092"));
        Assert.That(options.UsesEmbeddedBroker, Is.False);
        Assert.That(options.ApplicationId, Is.EqualTo("orders-app"));
        Assert.That(options.Definitions, Is.EqualTo(new[] { "orders" }));
        Assert.That(options.EnableProducers, Is.False);
        Assert.That((options.StorageDirectory, options.CreateStorageDirectory), Is.EqualTo(("/var/lib/ksml", true)));
        Assert.That(options.ErrorHandling.Consume, Is.EqualTo(new ErrorPolicy { Handler = ErrorHandlerKind.ContinueOnFail, LogPayload = true, DeadLetterTopic = "orders_dlq" }));
        Assert.That(options.ErrorHandling.Process, Is.EqualTo(new ErrorPolicy
        {
            Handler = ErrorHandlerKind.RetryOnFail, MaxRetries = 5, InitialBackoff = TimeSpan.FromMilliseconds(200), MaxBackoff = TimeSpan.FromSeconds(10), LoggerName = "OrderErrors",
        }));
        Assert.That(options.Prometheus, Is.EqualTo(new EndpointOptions(true, "127.0.0.1", 9999)));
        Assert.That(options.ApplicationServer, Is.EqualTo(new EndpointOptions(true, "0.0.0.0", 8080)));
    }

    [Test]
    public void Runner_durations_take_every_unit_a_definition_takes()
    {
        var options = Parse(Full.Replace("initialBackoff: 200ms", "initialBackoff: 1d").Replace("maxBackoff: 10s", "maxBackoff: 2w"));
        Assert.That((options.ErrorHandling.Process.InitialBackoff, options.ErrorHandling.Process.MaxBackoff),
            Is.EqualTo((TimeSpan.FromDays(1), TimeSpan.FromDays(14))));
    }

    [TestCase("apicurio.auth.username: me", "ksml-runner.yaml(6,9): ksml.schemaRegistries.apicurio.config.apicurio.auth.username: Apicurio 3 renamed this key to apicurio.registry.auth.username")]
    [TestCase("apicurio.registry.auto-register.if-exists: RETURN", "ksml-runner.yaml(6,9): ksml.schemaRegistries.apicurio.config.apicurio.registry.auto-register.if-exists: 'RETURN' is not one of Apicurio 3's values FAIL, CREATE_VERSION, FIND_OR_CREATE_VERSION")]
    [TestCase("apicurio.registry.as-confluent: true", "ksml-runner.yaml(6,9): ksml.schemaRegistries.apicurio.config.apicurio.registry.as-confluent: Apicurio 3 removed this key")]
    [TestCase("apicurio.registry.id-handler: io.apicurio.registry.serde.Legacy4ByteIdHandler", "ksml-runner.yaml(6,9): ksml.schemaRegistries.apicurio.config.apicurio.registry.id-handler: Apicurio 3 removed Legacy4ByteIdHandler")]
    public void Apicurio_2_settings_stop_the_start_as_in_KSML_2(string setting, string expected)
    {
        var yaml = $"""
            ksml:
              schemaRegistries:
                apicurio:
                  config:
                    apicurio.registry.url: http://registry:8080/apis/ccompat/v7
                    {setting}
              notations:
                avro:
                  type: apicurio_avro
                  schemaRegistry: apicurio
            """;

        Assert.That(Error(yaml), Does.StartWith(expected));
        Assert.That(Error(yaml.Replace("/apis/ccompat/v7", "/apis/registry/v2", StringComparison.Ordinal).Replace(setting, "x: y", StringComparison.Ordinal)),
            Does.Contain("apicurio.registry.url: Apicurio 2's API is not supported"));
        Assert.That(Parse(yaml.Replace("/apis/ccompat/v7", "/apis/registry/v3", StringComparison.Ordinal).Replace(setting, "x: y", StringComparison.Ordinal)).Notations["avro"].SchemaRegistryUrl,
            Is.EqualTo("http://registry:8080/apis/registry/v3"), "KSML 2.0's own examples name Apicurio 3's API");
    }

    [Test]
    public void Notations_resolve_their_schema_registry()
    {
        var options = Parse("""
            ksml:
              schemaDirectory: /schemas
              schemaRegistries:
                confluent:
                  config:
                    schema.registry.url: http://registry:8081
                    basic.auth.credentials.source: USER_INFO
                    basic.auth.user.info: ${REGISTRY_USER_INFO}
                    request.timeout.ms: 5000
              notations:
                avro:
                  type: confluent_avro
                  schemaRegistry: confluent
                  config:
                    request.timeout.ms: 2000
                    normalize.schemas: true
                csv:
                  type: csv
            """);

        Assert.That(options.SchemaDirectory, Is.EqualTo("/schemas"));
        var avro = options.Notations["avro"];
        Assert.That((avro.Type, avro.SchemaRegistryUrl), Is.EqualTo(("confluent_avro", "http://registry:8081")));
        Assert.That(avro.RegistryConfig, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["schema.registry.url"] = "http://registry:8081",
            ["basic.auth.credentials.source"] = "USER_INFO",
            ["basic.auth.user.info"] = "svc:from-env",
            ["request.timeout.ms"] = "2000",
            ["normalize.schemas"] = "true",
        }), "the registry's settings, the notation's own over them, secrets from the environment");
        Assert.That((options.Notations["csv"].Type, options.Notations["csv"].SchemaRegistryUrl), Is.EqualTo(("csv", (string?)null)));
        Assert.That(Error("ksml:\n  notations:\n    avro:\n      type: confluent_avro\n      schemaRegistry: nowhere\n"),
            Is.EqualTo("ksml-runner.yaml(4,7): ksml.notations.avro.schemaRegistry: no registry 'nowhere' under ksml.schemaRegistries"));
    }

    [Test]
    public void Python_context_takes_a_module_path_and_accepts_the_graalpy_sandbox_switches()
    {
        var options = Parse("""
            ksml:
              pythonContext:
                modulePath: /opt/ksml/modules
                allowHostFileAccess: true
            """);

        Assert.That(options.Python.ModulePath, Is.EqualTo("/opt/ksml/modules"));
        Assert.That(options.Python.UnenforcedRestrictions, Is.Empty, "allowing is what CPython does anyway");
    }

    [Test]
    public void A_graalpy_sandbox_switch_set_to_false_is_kept_to_warn_that_nothing_enforces_it()
    {
        var options = Parse("""
            ksml:
              pythonContext:
                allowHostFileAccess: false
                allowCreateProcess: false
                allowNativeAccess: true
            """);

        Assert.That(options.Python.UnenforcedRestrictions, Is.EqualTo(new[] { "allowHostFileAccess", "allowCreateProcess" }));
    }

    [Test]
    public void No_file_and_no_bootstrap_servers_means_the_embedded_broker()
    {
        Assert.That(Parse("").UsesEmbeddedBroker, Is.True);
    }

    [Test]
    public void Overrides_replace_file_values_including_nested_ksml_settings()
    {
        var options = Parse(Full, "kafka.bootstrap.servers=other:9092", "ksml.errorHandling.process.handler=continueOnFail", "ksml.enableProducers=true", "ksml.embeddedBroker.partitions=3");

        Assert.That(options.BootstrapServers, Is.EqualTo("other:9092"));
        Assert.That(options.ErrorHandling.Process.Handler, Is.EqualTo(ErrorHandlerKind.ContinueOnFail));
        Assert.That(options.ErrorHandling.Process.MaxRetries, Is.EqualTo(5), "untouched siblings stay");
        Assert.That(options.EnableProducers, Is.True);
        Assert.That(options.EmbeddedBrokerPartitions, Is.EqualTo(3));
    }

    [Test]
    public void Several_overrides_build_one_section_together()
    {
        // What --health-port and --metrics-port pass: two keys of a section the file does not have.
        var options = Parse("", "ksml.applicationServer.enabled=true", "ksml.applicationServer.port=18089", "ksml.prometheus.enabled=true", "ksml.prometheus.port=19999");

        Assert.That(options.ApplicationServer, Is.EqualTo(new EndpointOptions(true, "127.0.0.1", 18089)));
        Assert.That(options.Prometheus, Is.EqualTo(new EndpointOptions(true, "127.0.0.1", 19999)));
    }

    [Test]
    public void A_missing_environment_variable_names_the_line_and_how_to_default_it()
    {
        Assert.That(Error("kafka:\n  sasl.password: ${NOPE}\n"),
            Is.EqualTo("ksml-runner.yaml(2,18): environment variable NOPE is not set and ${NOPE} has no default (write ${NOPE:-value} for one)"));
    }

    [TestCase("pass: word")]
    [TestCase("pass #not a comment")]
    [TestCase("*alias")]
    [TestCase("line one\nline two")]
    [TestCase("'quoted'")]
    [TestCase("${NESTED}")]
    public void A_secret_is_the_value_it_is_whatever_it_holds(string secret)
    {
        // Substituted into the parsed value: before, the text was substituted and then parsed, so these changed the file.
        var options = KsmlRunnerConfig.Parse("kafka:\n  sasl.password: ${SECRET}\n  sasl.username: u\n", "ksml-runner.yaml",
            name => name == "SECRET" ? secret : null);

        Assert.That(options.Kafka["sasl.password"], Is.EqualTo(secret));
        Assert.That(options.Kafka["sasl.username"], Is.EqualTo("u"));
    }

    [Test]
    public void The_nesting_limit_of_values_is_configured_and_bounded()
    {
        Assert.That(Parse("").MaxNestingDepth, Is.EqualTo(100));
        Assert.That(Parse("ksml:\n  limits:\n    maxNestingDepth: 500\n").MaxNestingDepth, Is.EqualTo(500));
        Assert.That(Error("ksml:\n  limits:\n    maxNestingDepth: 5000\n"), Is.EqualTo("ksml-runner.yaml(3,22): ksml.limits.maxNestingDepth: '5000' is not a whole number from 1 to 1000"));
    }

    [Test]
    public void A_runner_file_nested_past_the_limit_is_a_located_error()
    {
        Assert.That(Error("kafka:\n  a: " + new string('[', 100_000) + new string(']', 100_000) + "\n"), Does.StartWith("ksml-runner.yaml(2,").And.Contain("nests deeper than 200 levels"));
    }

    [TestCase("ksml:\n  enableProducer: false\n", "ksml-runner.yaml(2,3): unknown key 'ksml.enableProducer'; did you mean 'ksml.enableProducers'?")]
    [TestCase("kafak:\n  a: b\n", "ksml-runner.yaml(1,1): unknown key 'kafak'; did you mean 'kafka'?")]
    [TestCase("ksml:\n  errorHandling:\n    process:\n      handler: stopOnFial\n", "ksml-runner.yaml(4,16): ksml.errorHandling.process.handler: 'stopOnFial' is not one of stopOnFail, continueOnFail, retryOnFail")]
    [TestCase("ksml:\n  prometheus:\n    port: 99999\n", "ksml-runner.yaml(3,11): ksml.prometheus.port: '99999' is not a whole number from 1 to 65535")]
    [TestCase("ksml:\n  enablePipelines: maybe\n", "ksml-runner.yaml(2,20): ksml.enablePipelines: 'maybe' is not true or false")]
    [TestCase("ksml:\n  errorHandling:\n    process:\n      initialBackoff: soon\n", "ksml-runner.yaml(4,23): ksml.errorHandling.process.initialBackoff: 'soon' is not a duration such as 500ms, 10s, 5m, 1h, 2d or 1w")]
    [TestCase("kafka: [a, b]\n", "ksml-runner.yaml(1,8): kafka must be a mapping")]
    [TestCase("kafka:\n  a: {b: c\n", "ksml-runner.yaml(3,1): malformed YAML")]
    [TestCase("ksml:\n  enableProducers: true\n  enableProducers: false\n", "ksml-runner.yaml(3,3): malformed YAML: the key 'enableProducers' appears twice in one mapping")]
    [TestCase("ksml:\n  schemaRegistries:\n    unused:\n      config:\n        url: ${NOT_SET_ANYWHERE}\n", "ksml-runner.yaml(5,14): environment variable NOT_SET_ANYWHERE is not set")]
    public void Every_bad_value_is_one_line_with_its_location(string yaml, string expected)
    {
        Assert.That(Error(yaml), Does.StartWith(expected));
        Assert.That(Error(yaml), Does.Not.Contain("\n"));
    }

    [Test]
    public void A_bad_override_says_what_form_it_needs()
    {
        Assert.That(Error("", "bootstrap.servers=x"), Is.EqualTo("--set bootstrap.servers=x: the key must start with kafka. or ksml."));
        Assert.That(Error("", "ksml.enablePipelines"), Is.EqualTo("--set ksml.enablePipelines: expected key=value, such as kafka.bootstrap.servers=localhost:9092"));
        Assert.That(Error("", "ksml.prometheus.port=x"), Is.EqualTo("--set: ksml.prometheus.port: 'x' is not a whole number from 1 to 65535"));
    }

    [Test]
    public void Mutated_runner_files_fail_only_with_a_config_error()
    {
        // A runner file is hand-edited: whatever is wrong with it must come back as one located
        // configuration error, never as an exception from deeper down.
        var random = new Random(20261127);
        var lines = Full.Split('\n');
        var failures = new List<string>();
        for (var i = 0; i < 2000; i++)
        {
            var copy = lines.ToList();
            var at = random.Next(copy.Count);
            var line = copy[at];
            var colon = line.IndexOf(':');
            copy[at] = random.Next(5) switch
            {
                0 => line[..random.Next(line.Length + 1)],
                1 => new string(' ', random.Next(8)) + line.TrimStart(),
                2 when colon > 0 => line[..(colon + 1)] + new[] { " [a, b]", " {x: 1}", "", " -1", " 99999999999", " ${", " *alias", " |" }[random.Next(8)],
                3 => "",
                _ => line.Replace(':', random.Next(2) == 0 ? '=' : ' '),
            };
            try
            {
                Parse(string.Join('\n', copy));
            }
            catch (KsmlConfigException)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"#{i} line {at + 1} '{copy[at]}': {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void The_state_token_is_read_from_the_variable_named_and_never_shown()
    {
        var options = Parse("""
            ksml:
              applicationServer:
                enabled: true
                tokenVariable: KAFKA_PASSWORD
                pageSize: 50
            """);
        var missing = Error("""
            ksml:
              applicationServer:
                tokenVariable: NO_SUCH_TOKEN
            """);
        var onMetrics = Error("""
            ksml:
              prometheus:
                tokenVariable: KAFKA_PASSWORD
            """);

        Assert.That(options.ApplicationServer.StateToken, Is.EqualTo("s3cret"));
        Assert.That(options.ApplicationServer.PageSize, Is.EqualTo(50));
        Assert.That(options.ToString(), Does.Not.Contain("s3cret"), "options are logged and printed; the token is not");
        Assert.That(missing, Does.Contain("NO_SUCH_TOKEN").And.Contain("ksml.applicationServer.tokenVariable"));
        Assert.That(onMetrics, Does.Contain("tokenVariable"), "metrics carry no store contents and take no token");
    }
}
