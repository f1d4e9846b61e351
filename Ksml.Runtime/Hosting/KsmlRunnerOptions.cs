using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Python;

namespace Ksml.Runtime.Hosting;

/// <summary>An HTTP endpoint the application serves.</summary>
/// <param name="Enabled">Whether it is served.</param>
/// <param name="Host">The address to bind; loopback unless configured otherwise.</param>
/// <param name="Port">The port.</param>
public sealed record EndpointOptions(bool Enabled, string Host, int Port)
{
    /// <summary>
    /// The bearer token <c>/state/…</c> asks for, read at start from the environment variable that
    /// <c>ksml.applicationServer.tokenVariable</c> names, so the secret is in neither the runner file nor its logs.
    /// </summary>
    public string? StateToken { get; init; }

    /// <summary>The most entries one <c>/state/…/all</c> answer holds (<c>ksml.applicationServer.pageSize</c>).</summary>
    public int PageSize { get; init; } = Observability.KsmlStatePage.DefaultSize;

    /// <inheritdoc />
    public override string ToString() =>
        $"EndpointOptions {{ Enabled = {Enabled}, Host = {Host}, Port = {Port}, StateToken = {(StateToken is null ? "none" : "(set)")}, PageSize = {PageSize} }}";
}

/// <summary>How the application traces records (<c>ksml.tracing</c>), with the standard <c>OTEL_*</c> variables as fallbacks.</summary>
/// <param name="Enabled">Spans, and the trace context carried in and out of records' headers; on unless switched off (or <c>OTEL_SDK_DISABLED=true</c>).</param>
/// <param name="SampleRatio">The share of new traces recorded (a record arriving with a context follows its sampling decision).</param>
/// <param name="OtlpEndpoint">Where spans are exported over OTLP; none leaves it to <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, and without that spans only propagate.</param>
/// <param name="OtlpProtocol"><c>grpc</c> or <c>http/protobuf</c>.</param>
public sealed record TracingOptions(bool Enabled = true, double SampleRatio = 1.0, string? OtlpEndpoint = null, string? OtlpProtocol = null);

/// <summary>
/// How a compiled KSML application runs: KSML's runner file (<c>ksml-runner.yaml</c>, a
/// <c>kafka:</c> and a <c>ksml:</c> section) after environment substitution and overrides.
/// </summary>
public sealed record KsmlRunnerOptions
{
    /// <summary>Kafka client and Streams properties, passed through as given (SASL/TLS settings included).</summary>
    public IReadOnlyDictionary<string, string> Kafka { get; init; } = new Dictionary<string, string>();

    /// <summary>Run on the in-process broker; also the default when no <c>bootstrap.servers</c> is configured.</summary>
    public bool EmbeddedBroker { get; init; }

    /// <summary>Partitions of the topics the embedded broker creates for the definitions.</summary>
    public int EmbeddedBrokerPartitions { get; init; } = 1;

    /// <summary>
    /// <c>ksml.storageDirectory</c>: where state stores keep their data. Unset means <c>ksml-state</c> in the
    /// system's temporary directory, created as needed.
    /// </summary>
    public string? StorageDirectory { get; init; }

    /// <summary>
    /// <c>ksml.createStorageDirectory</c>: create a configured storage directory that does not exist. Off by
    /// default, as in KSML, so a mistyped or unmounted path stops the start instead of keeping state somewhere else.
    /// </summary>
    public bool CreateStorageDirectory { get; init; }

    /// <summary>Where schema files (<c>.avsc</c>, <c>.json</c>, <c>.csv</c>, <c>.xsd</c>) are read from.</summary>
    public string? SchemaDirectory { get; init; }

    /// <summary>Notations by prefix (<c>ksml.notations</c>), with their registry resolved.</summary>
    public IReadOnlyDictionary<string, Serdes.NotationOptions> Notations { get; init; } = new Dictionary<string, Serdes.NotationOptions>();

    /// <summary>Which compiled definitions run, by name; empty runs them all.</summary>
    public IReadOnlyList<string> Definitions { get; init; } = [];

    /// <summary>The definition files <c>ksml.definitions</c> names, by name, as written (the <c>ksml</c> tool compiles them).</summary>
    public IReadOnlyDictionary<string, string> DefinitionFiles { get; init; } = new Dictionary<string, string>();

    /// <summary><c>ksml.configDirectory</c>: where definition files are found; null means next to the runner file.</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>KSML's <c>enableProducers</c>.</summary>
    public bool EnableProducers { get; init; } = true;

    /// <summary>KSML's <c>enablePipelines</c>.</summary>
    public bool EnablePipelines { get; init; } = true;

    /// <summary>The error policies per stage.</summary>
    public ErrorHandlingOptions ErrorHandling { get; init; } = new();

    /// <summary>Tracing: spans and W3C trace context (<c>ksml.tracing</c>).</summary>
    public TracingOptions Tracing { get; init; } = new();

    /// <summary>Prometheus metrics at <c>/metrics</c>.</summary>
    public EndpointOptions Prometheus { get; init; } = new(false, "127.0.0.1", 9999);

    /// <summary>Health endpoints <c>/live</c> and <c>/ready</c>.</summary>
    public EndpointOptions ApplicationServer { get; init; } = new(false, "127.0.0.1", 8080);

    /// <summary>The embedded CPython.</summary>
    public PythonOptions Python { get; init; } = PythonOptions.FromEnvironment();

    /// <summary>Log lines as JSON objects instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>How deep one record's value may nest (<c>ksml.limits.maxNestingDepth</c>); deeper values fail to their stage's error policy.</summary>
    public int MaxNestingDepth { get; init; } = Values.ValueLimits.DefaultMaxDepth;

    /// <summary>The Kafka Streams application id.</summary>
    public string ApplicationId => Kafka.GetValueOrDefault("application.id")
        ?? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name?.ToLowerInvariant() ?? "ksml-app";

    /// <summary>The configured cluster, or null for the embedded broker.</summary>
    public string? BootstrapServers => Kafka.GetValueOrDefault("bootstrap.servers") is { Length: > 0 } servers ? servers : null;

    /// <summary>Whether the embedded broker runs.</summary>
    public bool UsesEmbeddedBroker => EmbeddedBroker || BootstrapServers is null;

    /// <summary><c>kafka.processing.guarantee</c>: true for <c>exactly_once</c> (or <c>exactly_once_v2</c>), false for <c>at_least_once</c>, the default.</summary>
    /// <exception cref="KsmlConfigException">Another value.</exception>
    public bool ExactlyOnce => Kafka.GetValueOrDefault("processing.guarantee") switch
    {
        null or "at_least_once" => false,
        "exactly_once" or "exactly_once_v2" => true,
        var other => throw new KsmlConfigException($"kafka.processing.guarantee: '{other}' is not at_least_once or exactly_once"),
    };

    /// <summary><c>kafka.num.stream.threads</c>: the stream threads this instance runs (1 unless set to more).</summary>
    public int StreamThreads => int.TryParse(Kafka.GetValueOrDefault("num.stream.threads"), out var threads) && threads > 0 ? threads : 1;
}
