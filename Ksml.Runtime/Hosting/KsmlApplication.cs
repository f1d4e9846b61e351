using System.CommandLine;
using System.Runtime.InteropServices;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Hosting;

/// <summary>The entry point of a compiled KSML project: <c>--help</c> lists every option.</summary>
public static class KsmlApplication
{
    /// <summary>
    /// Builds the topology of <paramref name="definitions"/>, compiling their functions with
    /// <paramref name="functions"/>; <paramref name="errors"/> applies the process error policy (none: failures propagate).
    /// </summary>
    /// <param name="definitions">The definitions, built in order.</param>
    /// <param name="functions">Compiles their functions.</param>
    /// <param name="errors">The process error policy; null lets failures propagate.</param>
    /// <param name="underTestDriver">The topology is for Streamiz's TopologyTestDriver (<see cref="KsmlTopologyBuilder.UnderTestDriver"/>).</param>
    /// <param name="tracing">Spans per record and function call (<see cref="KsmlTopologyBuilder.Tracing"/>).</param>
    public static Topology BuildTopology(IEnumerable<IKsmlDefinition> definitions, IKsmlFunctionFactory functions, ErrorHandling.KsmlErrorHandler? errors = null, bool underTestDriver = false, bool tracing = false) =>
        Build(definitions, functions, errors, underTestDriver, tracing: tracing).Topology;

    /// <summary>The topology and the queries of the state stores it creates.</summary>
    internal static (Topology Topology, IReadOnlyDictionary<string, KsmlStoreQuery> Stores) Build(IEnumerable<IKsmlDefinition> definitions, IKsmlFunctionFactory functions, ErrorHandling.KsmlErrorHandler? errors,
        bool underTestDriver = false, Func<string, int?>? partitionCount = null, bool tracing = false)
    {
        var builder = new StreamBuilder();
        var ksml = new KsmlTopologyBuilder(builder, functions, errors) { UnderTestDriver = underTestDriver, PartitionCount = partitionCount, Tracing = tracing };
        foreach (var definition in definitions)
        {
            LoadFunctions(definition, functions);
            ksml.Namespace = definition.Name;
            try
            {
                definition.Build(ksml);
            }
            catch (KsmlConfigException ex) when (ex.Location is null)
            {
                throw new KsmlConfigException(definition.SourcePath, ex.Message);
            }
        }
        try
        {
            return (builder.Build(), ksml.StoreQueries);
        }
        catch (Streamiz.Kafka.Net.Errors.TopologyException ex)
        {
            throw new KsmlConfigException("the topology cannot be built: " + ex.Message);
        }
    }

    /// <summary>
    /// Compiles every function of <paramref name="definition"/>, used or not, in declaration order, as KSML
    /// preloads them: one function's globalCode may define what others use.
    /// </summary>
    public static void LoadFunctions(IKsmlDefinition definition, IKsmlFunctionFactory functions)
    {
        foreach (var function in definition.Functions)
            functions.Create(function);
    }

    /// <summary>Parses the command line and runs the application until SIGTERM/Ctrl+C, or until the error policy stops it.</summary>
    public static Task<int> RunAsync(string[] args, IReadOnlyList<IKsmlDefinition> definitions) =>
        // The application handles SIGTERM/SIGINT itself, to shut down in order.
        Command(definitions).Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

    /// <summary>
    /// The application's command line, every option included; the <c>ksml run</c> tool parses its
    /// forwarded arguments with it, so the two never disagree about which options take a value.
    /// </summary>
    public static RootCommand Command(IReadOnlyList<IKsmlDefinition> definitions)
    {
        var config = new Option<FileInfo?>("--config", "-c") { Description = "KSML runner file (kafka: and ksml: sections). Default: $KSML_CONFIG, else ./ksml-runner.yaml when present" };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka cluster to use (kafka.bootstrap.servers). Default: $KSML_BOOTSTRAP_SERVERS; none starts the embedded broker" };
        var applicationId = new Option<string?>("--application-id") { Description = "Kafka Streams application id. Default: $KSML_APPLICATION_ID" };
        var embedded = new Option<bool>("--embedded-broker") { Description = "Run on an in-process Kafka-protocol broker (librdkafka's mock cluster) even if a cluster is configured" };
        var partitions = new Option<int?>("--partitions") { Description = "Partitions of the topics the embedded broker creates (default 1)" };
        var stateDir = new Option<string?>("--state-dir") { Description = "Directory for state stores (ksml.storageDirectory)" };
        var threads = new Option<int?>("--threads") { Description = "Stream threads (kafka.num.stream.threads)" };
        var exactlyOnce = new Option<bool>("--exactly-once") { Description = "Exactly-once processing (kafka.processing.guarantee=exactly_once); the default is at-least-once" };
        var noProducers = new Option<bool>("--no-producers") { Description = "Do not run producers (ksml.enableProducers=false)" };
        var noPipelines = new Option<bool>("--no-pipelines") { Description = "Do not run pipelines (ksml.enablePipelines=false)" };
        var healthPort = new Option<int?>("--health-port") { Description = "Serve /live and /ready on this port (ksml.applicationServer)" };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus /metrics on this port (ksml.prometheus)" };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Write log lines as JSON" };
        var set = new Option<string[]>("--set") { Description = "Override any setting: kafka.<property>=value or ksml.<path>=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var describe = new Option<bool>("--describe") { Description = "Print the compiled topology and exit" };
        var checkConfig = new Option<bool>("--check-config") { Description = "Check the configuration and exit" };

        var root = new RootCommand($"A compiled KSML application ({string.Join(", ", definitions.Select(d => d.Name))}). Secrets belong in environment variables, referenced from the runner file as ${{VAR}}.")
        {
            config, bootstrap, applicationId, embedded, partitions, stateDir, threads, exactlyOnce, noProducers, noPipelines, healthPort, metricsPort, jsonLogs, set, describe, checkConfig,
        };
        root.SetAction(async (parse, cancellation) =>
        {
            KsmlRunnerOptions options;
            try
            {
                var overrides = new List<string>();
                void Add(string key, object? value)
                {
                    if (value is not null)
                        overrides.Add(key + "=" + value);
                }
                Add("kafka.bootstrap.servers", parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("KSML_BOOTSTRAP_SERVERS"));
                Add("kafka.application.id", parse.GetValue(applicationId) ?? Environment.GetEnvironmentVariable("KSML_APPLICATION_ID"));
                if (parse.GetValue(embedded) || Environment.GetEnvironmentVariable("KSML_EMBEDDED_BROKER") is "true" or "1")
                    Add("ksml.embeddedBroker.enabled", "true");
                Add("ksml.embeddedBroker.partitions", parse.GetValue(partitions));
                Add("ksml.storageDirectory", parse.GetValue(stateDir) ?? Environment.GetEnvironmentVariable("KSML_STATE_DIR"));
                Add("kafka.num.stream.threads", parse.GetValue(threads));
                if (parse.GetValue(exactlyOnce))
                    Add("kafka.processing.guarantee", "exactly_once");
                if (parse.GetValue(noProducers))
                    Add("ksml.enableProducers", "false");
                if (parse.GetValue(noPipelines))
                    Add("ksml.enablePipelines", "false");
                if (parse.GetValue(healthPort) is { } health)
                {
                    Add("ksml.applicationServer.enabled", "true");
                    Add("ksml.applicationServer.port", health);
                }
                if (parse.GetValue(metricsPort) is { } metrics)
                {
                    Add("ksml.prometheus.enabled", "true");
                    Add("ksml.prometheus.port", metrics);
                }
                if (parse.GetValue(jsonLogs))
                    Add("ksml.jsonLogs", "true");
                overrides.AddRange(parse.GetValue(set) ?? []);
                options = Load(parse.GetValue(config), overrides);
            }
            catch (KsmlConfigException ex)
            {
                await Console.Error.WriteLineAsync("ksml: " + ex.Message).ConfigureAwait(false);
                return 2;
            }
            if (parse.GetValue(checkConfig))
            {
                Console.WriteLine($"ksml: configuration is valid (application {options.ApplicationId}, {(options.UsesEmbeddedBroker ? "embedded broker" : options.BootstrapServers)})");
                return 0;
            }
            if (parse.GetValue(describe))
            {
                try
                {
                    Serdes.KsmlNotations.Configure(options.SchemaDirectory, options.Notations);
                    Console.WriteLine(BuildTopology(definitions, new DescribeOnlyFunctionFactory()).Describe());
                }
                catch (KsmlConfigException ex)
                {
                    await Console.Error.WriteLineAsync("ksml: " + ex.Message).ConfigureAwait(false);
                    return 2;
                }
                return 0;
            }
            return await RunAsync(definitions, options, cancellation).ConfigureAwait(false);
        });
        return root;
    }

    private static KsmlRunnerOptions Load(FileInfo? file, IEnumerable<string> overrides)
    {
        // The working directory's runner file wins over the one shipped next to the application.
        var shipped = Path.Combine(AppContext.BaseDirectory, "ksml-runner.yaml");
        var path = file?.FullName ?? Environment.GetEnvironmentVariable("KSML_CONFIG")
            ?? (File.Exists("ksml-runner.yaml") ? "ksml-runner.yaml" : File.Exists(shipped) ? shipped : null);
        if (path is not null && !File.Exists(path))
            throw new KsmlConfigException($"configuration file '{path}' does not exist");
        var text = path is null ? "" : File.ReadAllText(path);
        return KsmlRunnerConfig.Parse(text, path ?? "(no file)", Environment.GetEnvironmentVariable, overrides);
    }

    /// <summary>Runs the application with <paramref name="options"/> until cancelled, SIGTERM, or a stop from the error policy.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<IKsmlDefinition> definitions, KsmlRunnerOptions options, CancellationToken cancellation)
    {
        LogLevel minimum;
        try
        {
            minimum = KsmlLogLevel.FromEnvironment(LogLevel.Information);
        }
        catch (KsmlConfigException ex)
        {
            await Console.Error.WriteLineAsync("ksml: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
        using var loggers = LoggerFactory.Create(logging =>
        {
            if (options.JsonLogs)
                logging.AddJsonConsole();
            else
                logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
            logging.SetMinimumLevel(minimum);
            // Streamiz reports every task and partition at Information; its warnings are what an operator needs.
            logging.AddFilter("Streamiz", LogLevel.Warning);
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!stop.IsCancellationRequested)
                stop.Cancel();
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        KsmlHost host;
        try
        {
            host = await KsmlHost.StartAsync(definitions, options, loggers, cancellation: stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KsmlConfigException or Python.PythonStartupException or KsmlFunctionException)
        {
            await Console.Error.WriteLineAsync("ksml: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
        await using (host.ConfigureAwait(false))
        {
            if (host.Broker is not null)
                Console.WriteLine($"Embedded Kafka broker: {host.BootstrapServers}");
            var stopped = new TaskCompletionSource();
            await using var registration = stop.Token.Register(() => stopped.TrySetResult()).ConfigureAwait(false);
            var finished = await Task.WhenAny(stopped.Task, host.Failed).ConfigureAwait(false);
            if (finished == host.Failed)
            {
                loggers.CreateLogger("ksml").LogCritical("The stream stopped on an error; shutting down");
                return 1;
            }
            loggers.CreateLogger("ksml").LogInformation("Shutting down");
        }
        return 0;
    }

    /// <summary>Lets a topology be built and described; its functions cannot be called.</summary>
    private sealed class DescribeOnlyFunctionFactory : IKsmlFunctionFactory
    {
        public IKsmlFunction Create(KsmlFunctionDefinition definition) => new DescribedFunction(definition);

        private sealed class DescribedFunction(KsmlFunctionDefinition definition) : IKsmlFunction
        {
            public KsmlFunctionDefinition Definition => definition;

            public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments) =>
                throw new InvalidOperationException($"Function '{definition.Name}' was built only to describe the topology.");
        }
    }
}
