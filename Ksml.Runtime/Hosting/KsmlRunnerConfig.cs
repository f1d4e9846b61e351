using System.Globalization;
using System.Text.RegularExpressions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Python;
using Ksml.Yaml;

namespace Ksml.Runtime.Hosting;

/// <summary>A configuration value that cannot be used; the message is one line naming the key and what is accepted.</summary>
public sealed class KsmlConfigException : Exception
{
    /// <summary>A configuration error not tied to a place in the file.</summary>
    public KsmlConfigException(string message) : base(message) => Problem = message;

    /// <summary>A configuration error at <paramref name="location"/> (<c>file(line,col)</c>, or <c>--set</c>); the message is both.</summary>
    public KsmlConfigException(string location, string problem) : base($"{location}: {problem}")
    {
        Location = location;
        Problem = problem;
    }

    /// <summary>Where the error is, when it is in the file or an override.</summary>
    public string? Location { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }
}

/// <summary>
/// Reads KSML's runner file: <c>${VAR}</c> and <c>${VAR:-default}</c> in its values are replaced from the
/// environment (so secrets live there, never in the file or the code), then the
/// <c>kafka:</c> section is kept as given and the <c>ksml:</c> section is checked key by key.
/// </summary>
public static partial class KsmlRunnerConfig
{
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?<default>[^}]*))?\}")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^(ksml|kafka)\s*:", RegexOptions.Multiline)]
    private static partial Regex RunnerSection();

    /// <summary>True when the YAML text is shaped like a runner file (a top-level <c>ksml:</c> or <c>kafka:</c>), which no definition has.</summary>
    public static bool LooksLikeRunnerFile(string text) => RunnerSection().IsMatch(text);

    /// <summary>
    /// The definition files <paramref name="options"/> (read from <paramref name="runnerFile"/>) names, by
    /// name, with their paths: relative to <c>ksml.configDirectory</c>, itself relative to the runner file's folder.
    /// </summary>
    public static IEnumerable<(string Name, string Path)> DefinitionPaths(KsmlRunnerOptions options, string runnerFile)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(runnerFile))!;
        var directory = options.ConfigDirectory is { } configured ? System.IO.Path.Combine(folder, configured) : folder;
        return options.DefinitionFiles.Select(d => (d.Key, System.IO.Path.Combine(directory, d.Value)));
    }

    /// <summary>
    /// Replaces <c>${VAR}</c> and <c>${VAR:-default}</c> in one scalar value; a variable that is unset and has
    /// no default is an error. Values are substituted after the YAML is parsed, so a secret holding
    /// <c>: </c>, <c> #</c>, a leading <c>*</c> or a newline stays the value it is and cannot change the configuration.
    /// </summary>
    public static string Substitute(string value, string location, Func<string, string?> environment) =>
        Variable().Replace(value, match =>
        {
            var name = match.Groups["name"].Value;
            if (environment(name) is { } set)
                return set;
            if (match.Groups["default"].Success)
                return match.Groups["default"].Value;
            throw new KsmlConfigException(location, $"environment variable {name} is not set and ${{{name}}} has no default (write ${{{name}:-value}} for one)");
        });

    /// <summary>
    /// Parses the runner file's text into options; <paramref name="overrides"/> (<c>kafka.bootstrap.servers=…</c>,
    /// <c>ksml.errorHandling.process.handler=…</c>) replace what the file says before anything is checked.
    /// </summary>
    public static KsmlRunnerOptions Parse(string text, string source, Func<string, string?> environment, IEnumerable<string>? overrides = null)
    {
        // The compiler's located YAML reader, the one definitions and test suites are read with: it bounds nesting
        // and alias expansion, and every node keeps its line and column.
        var problems = new List<YamlProblem>();
        var document = YamlSyntaxReader.Read(text, problems);
        if (problems.FirstOrDefault() is { } problem)
            throw new KsmlConfigException($"{source}({problem.Span.Line},{problem.Span.Column})", $"malformed YAML: {problem.Message}");
        var file = new RunnerText(source, environment, new HashSet<YamlNode>(ReferenceEqualityComparer.Instance));
        var options = new KsmlRunnerOptions();
        var root = document is null or YamlScalar { Value: "" }
            ? new YamlMapping([], SourceSpan.None)
            : Mapping(document, file, "the file");
        CheckKeysAndVariables(root, file, new HashSet<YamlNode>(ReferenceEqualityComparer.Instance));
        root = ApplyOverrides(root, overrides ?? [], file.FromOverrides);
        foreach (var (keyNode, value) in root.Entries)
        {
            var key = Text(keyNode);
            switch (key)
            {
                case "kafka":
                    options = options with { Kafka = Mapping(value, file, "kafka").Entries.ToDictionary(p => Text(p.Key), p => Scalar(p.Value, file, "kafka." + Text(p.Key))) };
                    break;
                case "ksml":
                    options = Ksml(options, Mapping(value, file, "ksml"), file, environment);
                    break;
                default:
                    throw Unknown(file, keyNode, key, "", ["kafka", "ksml"]);
            }
        }
        return options;
    }

    /// <summary>The runner file being read: its name for locations, the environment, and the nodes --set put in.</summary>
    private sealed record RunnerText(string Source, Func<string, string?> Environment, HashSet<YamlNode> FromOverrides);

    /// <summary>
    /// Refuses a key written twice in one mapping, and a <c>${VAR}</c> without value or default anywhere in the file,
    /// read or not (values are substituted when read; an alias shares its anchor's node, checked once).
    /// </summary>
    private static void CheckKeysAndVariables(YamlNode node, RunnerText file, HashSet<YamlNode> seen)
    {
        if (!seen.Add(node))
            return;
        switch (node)
        {
            case YamlScalar scalar:
                Value(scalar, file);
                break;
            case YamlMapping mapping:
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, child) in mapping.Entries)
                {
                    if (!keys.Add(key.Value))
                        throw new KsmlConfigException(Where(file, key), $"malformed YAML: the key '{key.Value}' appears twice in one mapping");
                    CheckKeysAndVariables(child, file, seen);
                }
                break;
            case YamlSequence sequence:
                foreach (var child in sequence.Items)
                    CheckKeysAndVariables(child, file, seen);
                break;
        }
    }

    /// <summary>A scalar's text with <c>${VAR}</c> substituted; a value --set gave is taken as written.</summary>
    private static string Value(YamlScalar scalar, RunnerText file) =>
        file.FromOverrides.Contains(scalar) || !scalar.Value.Contains("${", StringComparison.Ordinal)
            ? scalar.Value
            : Substitute(scalar.Value, Where(file, scalar), file.Environment);

    private static KsmlRunnerOptions Ksml(KsmlRunnerOptions options, YamlMapping ksml, RunnerText source, Func<string, string?> environment)
    {
        foreach (var (keyNode, value) in ksml.Entries)
        {
            var key = Text(keyNode);
            var path = "ksml." + key;
            options = key switch
            {
                "definitions" => Definitions(options, value, source, path),
                "storageDirectory" => options with { StorageDirectory = Scalar(value, source, path) },
                "configDirectory" => options with { ConfigDirectory = Scalar(value, source, path) },
                "createStorageDirectory" => options with { CreateStorageDirectory = Bool(value, source, path) },
                "schemaDirectory" => options with { SchemaDirectory = Scalar(value, source, path) },
                "schemaRegistries" => options,
                "notations" => options with { Notations = Notations(Mapping(value, source, path), ksml, source, path) },
                "enableProducers" => options with { EnableProducers = Bool(value, source, path) },
                "enablePipelines" => options with { EnablePipelines = Bool(value, source, path) },
                "embeddedBroker" => EmbeddedBroker(options, value, source, path),
                "errorHandling" => options with { ErrorHandling = ErrorHandling(Mapping(value, source, path), source, path) },
                "prometheus" => options with { Prometheus = Endpoint(value, source, path, options.Prometheus, environment) },
                "tracing" => options with { Tracing = Tracing(value, source, path, options.Tracing) },
                "applicationServer" => options with { ApplicationServer = Endpoint(value, source, path, options.ApplicationServer, environment) },
                "python" or "pythonContext" => options with { Python = Python(value, source, path, options.Python) },
                "jsonLogs" => options with { JsonLogs = Bool(value, source, path) },
                "limits" => Limits(options, value, source, path),
                _ => throw Unknown(source, keyNode, key, "ksml.", ["limits", "definitions", "configDirectory", "storageDirectory", "createStorageDirectory", "schemaDirectory", "schemaRegistries", "notations", "enableProducers", "enablePipelines", "embeddedBroker", "errorHandling", "prometheus", "applicationServer", "tracing", "python", "pythonContext", "jsonLogs"]),
            };
        }
        return options;
    }

    private static Dictionary<string, Serdes.NotationOptions> Notations(YamlMapping notations, YamlMapping ksml, RunnerText source, string path)
    {
        var registries = ksml.Find("schemaRegistries") is { } registryEntry
            ? Mapping(registryEntry.Value, source, "ksml.schemaRegistries").Entries.ToDictionary(p => Text(p.Key), p => p.Value)
            : [];
        var result = new Dictionary<string, Serdes.NotationOptions>(StringComparer.Ordinal);
        foreach (var (prefixNode, value) in notations.Entries)
        {
            var prefix = Text(prefixNode);
            var at = path + "." + prefix;
            string? type = null, registry = null;
            foreach (var (keyNode, item) in Mapping(value, source, at).Entries)
                switch (Text(keyNode))
                {
                    case "type":
                        type = Scalar(item, source, at + ".type");
                        string[] known = ["apicurio_avro", "confluent_avro", "apicurio_jsonschema", "confluent_jsonschema", "apicurio_protobuf", "confluent_protobuf", "protobuf", "csv", "xml", "json", "binary"];
                        if (!known.Contains(type))
                            throw new KsmlConfigException(Where(source, item), $"{at}.type: '{type}' is not one of {string.Join(", ", known)}");
                        break;
                    case "schemaRegistry":
                        registry = Scalar(item, source, at + ".schemaRegistry");
                        break;
                    case "config":
                        break;
                    case var other:
                        throw Unknown(source, keyNode, other, at + ".", ["type", "schemaRegistry", "config"]);
                }
            if (type is null)
                throw new KsmlConfigException(Where(source, value), $"{at}.type is required");
            string? url = null;
            var registrySettings = new Dictionary<string, string>(StringComparer.Ordinal);
            if (registry is not null)
            {
                if (!registries.TryGetValue(registry, out var registryConfig))
                    throw new KsmlConfigException(Where(source, value), $"{at}.schemaRegistry: no registry '{registry}' under ksml.schemaRegistries");
                var config = Mapping(registryConfig, source, "ksml.schemaRegistries." + registry).Find("config")?.Value is YamlMapping c
                    ? c : Mapping(registryConfig, source, "ksml.schemaRegistries." + registry);
                url = config.Entries.Where(p => Text(p.Key) is "schema.registry.url" or "apicurio.registry.url" or "url").Select(p => Scalar(p.Value, source, "schema.registry.url")).FirstOrDefault()
                    ?? throw new KsmlConfigException(Where(source, registryConfig), $"ksml.schemaRegistries.{registry} needs config.schema.registry.url");
                foreach (var (key, setting) in config.Entries)
                    if (setting is YamlScalar)
                    {
                        var name = "ksml.schemaRegistries." + registry + ".config." + Text(key);
                        registrySettings[Text(key)] = Scalar(setting, source, name);
                        RefuseApicurio2Setting(Text(key), registrySettings[Text(key)], name, Where(source, key));
                    }
                // The notation's own config over the registry's, as KSML merges them.
                if (Mapping(value, source, at).Find("config")?.Value is YamlMapping own)
                    foreach (var (key, setting) in own.Entries)
                        if (setting is YamlScalar)
                            registrySettings[Text(key)] = Scalar(setting, source, at + ".config." + Text(key));
            }
            result[prefix] = new Serdes.NotationOptions(type, url) { RegistryConfig = registrySettings };
        }
        return result;
    }

    /// <summary>
    /// KSML 2.0's startup errors for settings of Apicurio 2 (renamed login keys, a removed <c>if-exists</c> value, the v2 API): ignored,
    /// they would connect without a login or fail later.
    /// </summary>
    private static void RefuseApicurio2Setting(string key, string value, string name, string location)
    {
        var problem = key switch
        {
            "apicurio.auth.username" or "apicurio.auth.password" =>
                $"Apicurio 3 renamed this key to {key.Replace("apicurio.auth.", "apicurio.registry.auth.", StringComparison.Ordinal)}; the old one would be ignored and the registry reached without a login (KSML 2.0 stops here too)",
            "apicurio.registry.auto-register.if-exists" when value is not ("FAIL" or "CREATE_VERSION" or "FIND_OR_CREATE_VERSION") =>
                $"'{value}' is not one of Apicurio 3's values FAIL, CREATE_VERSION, FIND_OR_CREATE_VERSION",
            "apicurio.registry.as-confluent" =>
                "Apicurio 3 removed this key; the id in a record follows apicurio.registry.id-handler and apicurio.registry.use-id (KSML 2.0 stops here too)",
            "apicurio.registry.id-handler" when value == "io.apicurio.registry.serde.Legacy4ByteIdHandler" =>
                "Apicurio 3 removed Legacy4ByteIdHandler; use io.apicurio.registry.serde.Default4ByteIdHandler (KSML 2.0 stops here too)",
            "apicurio.registry.url" or "schema.registry.url" when value.Contains("/apis/registry/", StringComparison.Ordinal) && !Serdes.ApicurioSchemaRegistry.Serves(value) =>
                "Apicurio 2's API is not supported (KSML 2.0 does not support it either): give Apicurio 3's /apis/registry/v3 address, or its Confluent-compatible /apis/ccompat/v7 one",
            _ => null,
        };
        if (problem is not null)
            throw new KsmlConfigException(location, $"{name}: {problem}");
    }

    private static KsmlRunnerOptions EmbeddedBroker(KsmlRunnerOptions options, YamlNode value, RunnerText source, string path)
    {
        if (value is YamlScalar)
            return options with { EmbeddedBroker = Bool(value, source, path) };
        foreach (var (keyNode, item) in Mapping(value, source, path).Entries)
            options = Text(keyNode) switch
            {
                "enabled" => options with { EmbeddedBroker = Bool(item, source, path + ".enabled") },
                "partitions" => options with { EmbeddedBrokerPartitions = Int(item, source, path + ".partitions", 1, 1000) },
                var other => throw Unknown(source, keyNode, other, path + ".", ["enabled", "partitions"]),
            };
        return options;
    }

    private static KsmlRunnerOptions Limits(KsmlRunnerOptions options, YamlNode value, RunnerText source, string path)
    {
        foreach (var (keyNode, item) in Mapping(value, source, path).Entries)
            options = Text(keyNode) switch
            {
                "maxNestingDepth" => options with { MaxNestingDepth = Int(item, source, path + ".maxNestingDepth", 1, Values.ValueLimits.MaxConfigurableDepth) },
                var other => throw Unknown(source, keyNode, other, path + ".", ["maxNestingDepth"]),
            };
        return options;
    }

    private static ErrorHandlingOptions ErrorHandling(YamlMapping node, RunnerText source, string path)
    {
        var result = new ErrorHandlingOptions();
        foreach (var (keyNode, value) in node.Entries)
        {
            var stage = Text(keyNode);
            result = stage switch
            {
                "consume" => result with { Consume = Policy(Mapping(value, source, path + ".consume"), source, path + ".consume", result.Consume) },
                "process" => result with { Process = Policy(Mapping(value, source, path + ".process"), source, path + ".process", result.Process) },
                "produce" => result with { Produce = Policy(Mapping(value, source, path + ".produce"), source, path + ".produce", result.Produce) },
                _ => throw Unknown(source, keyNode, stage, path + ".", ["consume", "process", "produce"]),
            };
        }
        return result;
    }

    private static ErrorPolicy Policy(YamlMapping node, RunnerText source, string path, ErrorPolicy policy)
    {
        foreach (var (keyNode, value) in node.Entries)
        {
            var key = Text(keyNode);
            var at = path + "." + key;
            policy = key switch
            {
                "handler" => policy with
                {
                    Handler = Scalar(value, source, at) switch
                    {
                        "stopOnFail" => ErrorHandlerKind.StopOnFail,
                        "continueOnFail" => ErrorHandlerKind.ContinueOnFail,
                        "retryOnFail" => ErrorHandlerKind.RetryOnFail,
                        var other => throw new KsmlConfigException(Where(source, value), $"{at}: '{other}' is not one of stopOnFail, continueOnFail, retryOnFail"),
                    },
                },
                "log" => policy with { Log = Bool(value, source, at) },
                "logPayload" => policy with { LogPayload = Bool(value, source, at) },
                "loggerName" => policy with { LoggerName = Scalar(value, source, at) },
                "maxRetries" => policy with { MaxRetries = Int(value, source, at, 0, 1000) },
                "initialBackoff" => policy with { InitialBackoff = Duration(value, source, at) },
                "maxBackoff" => policy with { MaxBackoff = Duration(value, source, at) },
                "deadLetterTopic" => policy with { DeadLetterTopic = Scalar(value, source, at) },
                _ => throw Unknown(source, keyNode, key, path + ".", ["handler", "log", "logPayload", "loggerName", "maxRetries", "initialBackoff", "maxBackoff", "deadLetterTopic"]),
            };
        }
        return policy;
    }

    private static KsmlRunnerOptions Definitions(KsmlRunnerOptions options, YamlNode node, RunnerText source, string path)
    {
        var files = Mapping(node, source, path).Entries.ToDictionary(p => Text(p.Key), p => Scalar(p.Value, source, path + "." + Text(p.Key)), StringComparer.Ordinal);
        return options with { Definitions = files.Keys.ToList(), DefinitionFiles = files };
    }

    private static EndpointOptions Endpoint(YamlNode node, RunnerText source, string path, EndpointOptions endpoint, Func<string, string?> environment)
    {
        // Only the application server serves /state, which the token guards and pages.
        var servesState = path == "ksml.applicationServer";
        foreach (var (keyNode, value) in Mapping(node, source, path).Entries)
        {
            var key = Text(keyNode);
            endpoint = key switch
            {
                "enabled" => endpoint with { Enabled = Bool(value, source, path + ".enabled") },
                "host" => endpoint with { Host = Scalar(value, source, path + ".host") },
                "port" => endpoint with { Port = Int(value, source, path + ".port", 1, 65535) },
                "configFile" => endpoint,
                "tokenVariable" when servesState => endpoint with { StateToken = TokenFrom(value, source, path + ".tokenVariable", environment) },
                "pageSize" when servesState => endpoint with { PageSize = Int(value, source, path + ".pageSize", 1, 1_000_000) },
                _ => throw Unknown(source, keyNode, key, path + ".", servesState ? ["enabled", "host", "port", "tokenVariable", "pageSize"] : ["enabled", "host", "port"]),
            };
        }
        return endpoint;
    }

    private static TracingOptions Tracing(YamlNode node, RunnerText source, string path, TracingOptions tracing)
    {
        foreach (var (keyNode, value) in Mapping(node, source, path).Entries)
        {
            var key = Text(keyNode);
            tracing = key switch
            {
                "enabled" => tracing with { Enabled = Bool(value, source, path + ".enabled") },
                "sampleRatio" => tracing with { SampleRatio = Ratio(value, source, path + ".sampleRatio") },
                "otlp" => Otlp(value, source, path + ".otlp", tracing),
                _ => throw Unknown(source, keyNode, key, path + ".", ["enabled", "sampleRatio", "otlp"]),
            };
        }
        return tracing;
    }

    private static TracingOptions Otlp(YamlNode node, RunnerText source, string path, TracingOptions tracing)
    {
        foreach (var (keyNode, value) in Mapping(node, source, path).Entries)
        {
            var key = Text(keyNode);
            tracing = key switch
            {
                "endpoint" => tracing with { OtlpEndpoint = Uri.TryCreate(Scalar(value, source, path + ".endpoint"), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                    ? uri.ToString() : throw new KsmlConfigException(Where(source, value), $"{path}.endpoint: '{Scalar(value, source, path + ".endpoint")}' is not an http(s) address") },
                "protocol" => tracing with { OtlpProtocol = Scalar(value, source, path + ".protocol") is var protocol && protocol is "grpc" or "http/protobuf"
                    ? protocol : throw new KsmlConfigException(Where(source, value), $"{path}.protocol: '{protocol}' is not one of grpc, http/protobuf") },
                _ => throw Unknown(source, keyNode, key, path + ".", ["endpoint", "protocol"]),
            };
        }
        return tracing;
    }

    private static double Ratio(YamlNode node, RunnerText source, string path) =>
        double.TryParse(Scalar(node, source, path), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
            ? ratio
            : throw new KsmlConfigException(Where(source, node), $"{path}: '{Scalar(node, source, path)}' is not a number from 0 to 1");

    /// <summary>The token in the environment variable named at <paramref name="path"/>; the error names the variable, never a value.</summary>
    private static string TokenFrom(YamlNode node, RunnerText source, string path, Func<string, string?> environment)
    {
        var variable = Scalar(node, source, path);
        return environment(variable) is { Length: > 0 } token
            ? token
            : throw new KsmlConfigException(Where(source, node), $"{path}: the environment variable '{variable}' that should hold the state endpoints' bearer token is not set or empty");
    }

    private static PythonOptions Python(YamlNode node, RunnerText source, string path, PythonOptions python)
    {
        foreach (var (keyNode, value) in Mapping(node, source, path).Entries)
        {
            var key = Text(keyNode);
            python = key switch
            {
                "library" => python with { Library = Scalar(value, source, path + ".library") },
                "executable" => python with { Executable = Scalar(value, source, path + ".executable") },
                "modulePath" => python with { ModulePath = Scalar(value, source, path + ".modulePath") },
                // GraalPy sandbox switches: CPython has no sandbox, so they are accepted and have no effect.
                "allowHostFileAccess" or "allowHostSocketAccess" or "allowNativeAccess" or "allowCreateProcess" or "allowCreateThread" or "inheritEnvironmentVariables" =>
                    Bool(value, source, path + "." + key) ? python : python with { UnenforcedRestrictions = [.. python.UnenforcedRestrictions.Where(r => r != key), key] },
                _ => throw Unknown(source, keyNode, key, path + ".", ["library", "executable", "modulePath"]),
            };
        }
        return python;
    }

    private static YamlMapping Mapping(YamlNode node, RunnerText source, string what) => node as YamlMapping
        ?? throw new KsmlConfigException(Where(source, node), $"{what} must be a mapping");

    private static string Text(YamlNode node) => node is YamlScalar scalar ? scalar.Value : node.KindDescription;

    private static string Scalar(YamlNode node, RunnerText source, string path) => node is YamlScalar scalar
        ? Value(scalar, source)
        : throw new KsmlConfigException(Where(source, node), $"{path} must be a single value");

    private static bool Bool(YamlNode node, RunnerText source, string path) => Scalar(node, source, path).ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var other => throw new KsmlConfigException(Where(source, node), $"{path}: '{other}' is not true or false"),
    };

    private static int Int(YamlNode node, RunnerText source, string path, int min, int max) =>
        int.TryParse(Scalar(node, source, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new KsmlConfigException(Where(source, node), $"{path}: '{Scalar(node, source, path)}' is not a whole number from {min} to {max}");

    /// <summary>A duration as KSML writes it everywhere (one parser for definitions and runner files): 500ms, 10s, 5m, 1h, 2d, 1w.</summary>
    private static TimeSpan Duration(YamlNode node, RunnerText source, string path)
    {
        var text = Scalar(node, source, path);
        if (!DurationParser.TryParse(text, out var milliseconds) || milliseconds > (long)TimeSpan.MaxValue.TotalMilliseconds)
            throw new KsmlConfigException(Where(source, node), $"{path}: '{text}' is not a duration such as 500ms, 10s, 5m, 1h, 2d or 1w");
        return TimeSpan.FromMilliseconds(milliseconds);
    }

    private static KsmlConfigException Unknown(RunnerText source, YamlNode keyNode, string key, string prefix, string[] known)
    {
        var hint = NameSuggester.Closest(key, known) is { } closest
            ? $"; did you mean '{prefix}{closest}'?"
            : $"; known keys: {string.Join(", ", known)}";
        return new KsmlConfigException(Where(source, keyNode), $"unknown key '{prefix}{key}'{hint}");
    }

    private static string Where(RunnerText file, YamlNode node) =>
        file.FromOverrides.Contains(node) ? "--set" : $"{file.Source}({node.Span.Line},{node.Span.Column})";

    /// <summary>The file's tree with each <c>--set key=value</c> in place: an existing key keeps its place, a new one is added; both are marked as from --set.</summary>
    private static YamlMapping ApplyOverrides(YamlMapping root, IEnumerable<string> assignments, HashSet<YamlNode> fromOverrides)
    {
        foreach (var assignment in assignments)
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw new KsmlConfigException($"--set {assignment}: expected key=value, such as kafka.bootstrap.servers=localhost:9092");
            var key = assignment[..equals].Trim();
            var value = assignment[(equals + 1)..];
            string[] path = key.StartsWith("kafka.", StringComparison.Ordinal) ? ["kafka", key["kafka.".Length..]]
                : key.StartsWith("ksml.", StringComparison.Ordinal) ? key.Split('.')
                : throw new KsmlConfigException($"--set {assignment}: the key must start with kafka. or ksml.");
            root = Override(root, path, 0, value, fromOverrides);
        }
        return root;
    }

    private static YamlMapping Override(YamlMapping node, string[] path, int at, string value, HashSet<YamlNode> fromOverrides)
    {
        T Marked<T>(T created) where T : YamlNode
        {
            fromOverrides.Add(created);
            return created;
        }
        var entries = node.Entries.ToList();
        var index = entries.FindIndex(e => e.Key.Value == path[at]);
        YamlNode replacement;
        if (at == path.Length - 1)
            replacement = Marked(new YamlScalar(value, ScalarStyle.Plain, SourceSpan.None, 1, 1));
        else if (index >= 0 && entries[index].Value is YamlMapping existing)
            replacement = Override(existing, path, at + 1, value, fromOverrides);
        else
            replacement = Marked(Override(new YamlMapping([], SourceSpan.None), path, at + 1, value, fromOverrides));
        var entry = new YamlEntry(index >= 0 ? entries[index].Key : Marked(new YamlScalar(path[at], ScalarStyle.Plain, SourceSpan.None, 1, 1)), replacement);
        if (index >= 0)
            entries[index] = entry;
        else
            entries.Add(entry);
        // A mapping the file had keeps its location; only what --set created is marked.
        var result = new YamlMapping(entries, node.Span);
        if (fromOverrides.Contains(node))
            fromOverrides.Add(result);
        return result;
    }
}
