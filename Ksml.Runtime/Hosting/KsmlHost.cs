using Confluent.Kafka;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Kafka;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Python;
using Microsoft.Extensions.Logging;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// A running KSML application: the Streamiz <see cref="KafkaStream"/> of the compiled
/// definitions, its producers, its HTTP endpoints and, when no cluster is configured, the
/// embedded broker. Disposing it shuts down in order: producers, stream (which commits), broker.
/// </summary>
public sealed class KsmlHost : IAsyncDisposable
{
    private readonly CancellationTokenSource _producerCancellation = new();
    private readonly List<Task> _producers = [];
    private readonly ILogger _logger;
    private readonly EmbeddedKafkaBroker? _ownedBroker;
    private readonly KafkaDeadLetterSink? _deadLetters;
    private OpenTelemetry.Trace.TracerProvider? _tracer;
    private string? _description;
    private KsmlInstances? _instances;
    private readonly IReadOnlyList<KsmlHttpEndpoints> _endpoints;
    private readonly DroppedRecordsWatch? _droppedRecords;
    private IReadOnlyDictionary<string, KsmlStoreQuery> _storeQueries = new Dictionary<string, KsmlStoreQuery>();
    private volatile bool _started;
    private string? _stateDirectory;
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private KsmlHost(KsmlRunnerOptions options, ILogger logger, EmbeddedKafkaBroker? ownedBroker, EmbeddedKafkaBroker? broker,
        string bootstrapServers, KafkaStream? stream, KafkaDeadLetterSink? deadLetters, IReadOnlyList<KsmlHttpEndpoints> endpoints)
    {
        Options = options;
        _logger = logger;
        _ownedBroker = ownedBroker;
        Broker = broker;
        BootstrapServers = bootstrapServers;
        Stream = stream;
        _deadLetters = deadLetters;
        _endpoints = endpoints;
        if (broker is not null && options.UsesEmbeddedBroker)
            _droppedRecords = new DroppedRecordsWatch(bootstrapServers, logger, TimeSpan.FromSeconds(2));
    }

    /// <summary>The options the application runs with.</summary>
    public KsmlRunnerOptions Options { get; }

    /// <summary>The embedded broker, when the application runs on one.</summary>
    public EmbeddedKafkaBroker? Broker { get; }

    /// <summary>The cluster the application talks to.</summary>
    public string BootstrapServers { get; }

    /// <summary>The running stream; null when pipelines are disabled.</summary>
    public KafkaStream? Stream { get; private set; }

    /// <summary>The latest state of the stream.</summary>
    public KafkaStream.State State { get; private set; } = KafkaStream.State.CREATED;

    /// <summary>Completes when the stream stops on an error (the error policy said stop).</summary>
    public Task Failed => _failed.Task;

    /// <summary>The state stores the topology creates, as state queries reach them.</summary>
    internal IReadOnlyDictionary<string, KsmlStoreQuery> StoreQueries => _storeQueries;

    /// <summary>What KSML's endpoints answer from (health, state queries), for an ASP.NET Core application that serves them itself.</summary>
    public KsmlEndpointSources EndpointSources { get; private init; } = null!;

    /// <summary>The first HTTP endpoint's address (the application server's when it runs), or null.</summary>
    public string? EndpointAddress => _endpoints.FirstOrDefault()?.Prefix;

    /// <summary>Whether the stream is processing (or there is no stream to wait for); never again once a policy said stop.</summary>
    public bool IsReady => !_stopping && (Stream is null || State == KafkaStream.State.RUNNING);

    private volatile bool _stopping;

    /// <summary>
    /// A policy said stop on one stream thread: the application stops as a whole (KSML's SHUTDOWN_CLIENT), not
    /// only that thread while the others run on and /ready stays 200. The failing thread unwinds without committing
    /// its record; the others are closed once it has, from another thread, since a stream thread cannot close itself.
    /// </summary>
    private void StopOnFailure(KsmlStopException stop)
    {
        if (_stopping)
            return;
        _stopping = true;
        _logger.LogError("{Reason}; the application stops", stop.Message);
        _failed.TrySetResult();
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            try
            {
                Stream?.Dispose();
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Closing the stream after a stop failed");
            }
        });
    }

    /// <summary>
    /// Builds and starts the application. <paramref name="broker"/> is an embedded broker to use
    /// instead of starting one (tests share one between instances); <paramref name="clients"/> wraps the Kafka
    /// clients the streams use (to observe or instrument what they send).
    /// </summary>
    public static async Task<KsmlHost> StartAsync(IReadOnlyList<IKsmlDefinition> definitions, KsmlRunnerOptions options, ILoggerFactory loggers,
        EmbeddedKafkaBroker? broker = null, CancellationToken cancellation = default, Func<Streamiz.Kafka.Net.Kafka.IKafkaSupplier, Streamiz.Kafka.Net.Kafka.IKafkaSupplier>? clients = null)
    {
        var logger = loggers.CreateLogger("ksml");
        var selected = Select(definitions, options);
        var stateDirectory = StateDirectory(options);
        EmbeddedKafkaBroker? owned = null;
        if (options.UsesEmbeddedBroker && broker is null)
        {
            // Several stream threads join the group a moment apart; with no delay the first takes every
            // partition and a rebalance moves half of them seconds later, mid-start.
            broker = owned = EmbeddedKafkaBroker.Start(initialRebalanceDelay: options.StreamThreads > 1 ? TimeSpan.FromMilliseconds(500) : TimeSpan.Zero);
            logger.LogInformation("Embedded Kafka broker listening at {BootstrapServers} (at most {Limit} MiB per partition)", broker.BootstrapServers, EmbeddedKafkaBroker.MaxBytesPerPartition / (1024 * 1024));
        }
        if (options.UsesEmbeddedBroker && options.ExactlyOnce)
            logger.LogWarning("Exactly-once on the embedded broker is not exactly-once: librdkafka's mock cluster shows aborted records to read_committed consumers and loses offsets committed in transactions, so a crash duplicates outputs; use a Kafka cluster for it");
        var bootstrap = options.UsesEmbeddedBroker ? broker!.BootstrapServers : options.BootstrapServers!;
        var clientConfig = ProducerConfig(options, bootstrap);
        if (broker is not null)
            CreateTopics(broker, selected, options);

        Serdes.KsmlNotations.Configure(options.SchemaDirectory, options.Notations);
        Serdes.KsmlNotations.Warnings = loggers.CreateLogger("ksml.notations");
        Values.ValueLimits.Configure(options.MaxNestingDepth);
        foreach (var restriction in options.Python.UnenforcedRestrictions)
            logger.LogWarning("ksml.pythonContext.{Switch}: false restricts nothing here: CPython has no sandbox (GraalPy's switches are accepted for compatibility), so Python code runs with this process's rights and environment; run only definitions you trust", restriction);
        var functions = new PythonFunctionFactory(loggers, options.Python);
        var deadLetters = NeedsDeadLetters(options.ErrorHandling) ? new KafkaDeadLetterSink(clientConfig) : null;
        var errors = new KsmlErrorHandler(options.ErrorHandling, loggers, deadLetters);
        foreach (var warning in options.ErrorHandling.SilentBreakerWarnings(selected.SelectMany(d => d.Functions)))
            logger.LogWarning("{Warning}", warning);
        // A commit waits for the calls in flight; one that hangs holds it, and past max.poll.interval.ms the
        // stream thread is put out of the group.
        foreach (var function in selected.SelectMany(d => d.Functions).Where(f => f.Concurrency is not null && f.Resilience?.TimeoutMs is null))
            logger.LogWarning("Function {Function} ({File}:{Line}) has concurrency but no resilience.timeout: every commit waits for its calls in flight, so a call that hangs holds its task's commits, and past max.poll.interval.ms ({MaxPoll} ms) the stream thread leaves the group; give it a timeout well under that",
                function.Name, function.SourcePath, function.Line, options.Kafka.GetValueOrDefault("max.poll.interval.ms") ?? "300000");
        KsmlHost? stoppingHost = null;
        errors.Stopping += stop => stoppingHost?.StopOnFailure(stop);

        KafkaStream? stream = null;
        KsmlHost? host = null;
        // One listener serves both when they share an address (KSML's defaults are 8080 and 9999, so usually two).
        var health = options.ApplicationServer;
        var metrics = options.Prometheus;
        var shared = health.Enabled && metrics.Enabled && health.Host == metrics.Host && health.Port == metrics.Port;
        var endpoints = new List<KsmlHttpEndpoints>();
        var sources = new KsmlEndpointSources(() => host?.IsReady ?? false, () => host?._started ?? false,
            (path, page) => KsmlStateRequests.Answer(path, page, host?.Stream, host?._storeQueries ?? new Dictionary<string, KsmlStoreQuery>()),
            health.StateToken, health.PageSize)
        {
            // The definitions as written (Mermaid, in Markdown so it renders), or Streamiz's own description.
            // The other instances, which a state query asks for what this one does not hold.
            Peers = () => host?._instances?.Others() ?? [],
            Topology = format => format == "streamiz"
                ? host?._description ?? "not built yet\n"
                : string.Concat(selected.Select(d => $"## {d.Name} ({d.SourcePath})\n\n```mermaid\n{d.Diagram ?? "flowchart LR\n  unknown[\"no diagram\"]\n"}```\n\n")),
        };
        if (health.Enabled)
            endpoints.Add(await KsmlHttpEndpoints.StartAsync(health.Host, health.Port, health: true, metrics: shared, sources, loggers).ConfigureAwait(false));
        if (metrics.Enabled && !shared)
            endpoints.Add(await KsmlHttpEndpoints.StartAsync(metrics.Host, metrics.Port, health: false, metrics: true, sources, loggers).ConfigureAwait(false));
        host = new KsmlHost(options, logger, owned, broker, bootstrap, null, deadLetters, endpoints) { EndpointSources = sources };
        if (metrics.Enabled)
            KsmlCompatibleMetrics.Application(options.ApplicationId);
        if (health.Enabled && options.EnablePipelines)
            host._instances = KsmlInstances.Start(options.ApplicationId, KsmlInstances.Advertised(options), clientConfig,
                broker is null ? null : topic => broker.CreateTopic(topic), logger);
        var tracing = KsmlTracerProvider.Enabled(options.Tracing, Environment.GetEnvironmentVariable);
        host._tracer = KsmlTracerProvider.Start(options.Tracing, options.ApplicationId, Environment.GetEnvironmentVariable);
        stoppingHost = host;

        if (options.EnablePipelines && selected.Count > 0)
        {
            StreamizLogging.Use(loggers);
            using var partitionCounts = new TopicPartitionCounts(clientConfig, logger);
            var (topology, stores) = KsmlApplication.Build(selected, functions, errors, partitionCount: partitionCounts.Of, tracing: tracing);
            host._storeQueries = stores;
            StoreSizes.Track(host);
            // Definitions with producers only consume nothing, and Streamiz refuses a topology without sources.
            var description = topology.Describe();
            host._description = description.ToString();
            try
            {
                RefuseDeadLettersToSources(options.ErrorHandling, description);
            }
            catch
            {
                await host.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            if (description.SubTopologies.Any() || description.GlobalStores.Any())
            {
                if (options.ExactlyOnce)
                    ExactlyOnceState.Prepare(stateDirectory, options.ApplicationId, logger);
                host._stateDirectory = stateDirectory;
                var config = StreamConfig(options, bootstrap, stateDirectory, loggers, errors);
                var streamClients = new KsmlKafkaClients(config, broker, errors.Commits, tracing);
                stream = new KafkaStream(topology, config, clients?.Invoke(streamClients) ?? streamClients);
                stream.StateChanged += (_, newState) =>
                {
                    host.State = newState;
                    logger.LogInformation("Stream state: {State}", newState);
                    if (newState == KafkaStream.State.ERROR)
                        host._failed.TrySetResult();
                };
                host.Stream = stream;
                await stream.StartAsync(cancellation).ConfigureAwait(false);
            }
        }

        if (options.EnableProducers)
            foreach (var definition in selected.Where(d => d.Producers.Count > 0))
            {
                // Without pipelines nothing has loaded the definition's functions, whose globalCode its producers may need.
                KsmlApplication.LoadFunctions(definition, functions);
                foreach (var producer in definition.Producers)
                {
                    var runner = new KsmlProducerRunner(producer, functions, loggers, tracing);
                    host._producers.Add(Task.Run(() => RunProducerAsync(runner, producer.Name, clientConfig, logger, host._producerCancellation.Token)));
                }
            }
        host._started = true;
        logger.LogInformation("KSML application {ApplicationId} started with {Count} definition(s) on {BootstrapServers}", options.ApplicationId, selected.Count, bootstrap);
        return host;
    }

    /// <summary>Runs a producer; a failure is logged when it happens, not first at shutdown, and stopping is not a failure.</summary>
    private static async Task RunProducerAsync(KsmlProducerRunner runner, string name, IEnumerable<KeyValuePair<string, string>> clientConfig, ILogger logger, CancellationToken cancellation)
    {
        try
        {
            await runner.RunAsync(clientConfig, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Producer {Producer} stopped after {Count} messages: {Error}", name, runner.Produced, ex.Message);
        }
    }

    private static List<IKsmlDefinition> Select(IReadOnlyList<IKsmlDefinition> definitions, KsmlRunnerOptions options)
    {
        if (options.Definitions.Count == 0)
            return definitions.ToList();
        var unknown = options.Definitions.Where(name => definitions.All(d => d.Name != name)).ToList();
        if (unknown.Count > 0)
            throw new KsmlConfigException($"ksml.definitions: no compiled definition named {string.Join(", ", unknown.Select(u => "'" + u + "'"))}; this application has {string.Join(", ", definitions.Select(d => "'" + d.Name + "'"))}");
        return definitions.Where(d => options.Definitions.Contains(d.Name)).ToList();
    }

    /// <summary>A dead letter written to a topic the pipelines read comes back to fail again, forever, in any stage.</summary>
    private static void RefuseDeadLettersToSources(ErrorHandlingOptions errors, Streamiz.Kafka.Net.Stream.ITopologyDescription description)
    {
        var sources = description.SubTopologies.SelectMany(t => t.Nodes).OfType<Streamiz.Kafka.Net.Stream.ISourceNodeDescription>()
            .Concat(description.GlobalStores.Select(g => g.Source))
            .SelectMany(source => source.Topics).ToHashSet(StringComparer.Ordinal);
        foreach (var (stage, policy) in new[] { ("consume", errors.Consume), ("process", errors.Process), ("produce", errors.Produce) })
            if (policy.DeadLetterTopic is { } topic && sources.Contains(topic))
                throw new KsmlConfigException($"ksml.errorHandling.{stage}.deadLetterTopic: '{topic}' is a topic the pipelines read, so every dead letter would be read and fail again; name a topic of its own");
    }

    private static bool NeedsDeadLetters(ErrorHandlingOptions errors) =>
        errors.Consume.DeadLetterTopic is not null || errors.Process.DeadLetterTopic is not null || errors.Produce.DeadLetterTopic is not null;

    /// <summary>The mock creates nothing by itself: sources, sinks and dead-letter topics are made up front (Streamiz makes its internal ones).</summary>
    private static void CreateTopics(EmbeddedKafkaBroker broker, IEnumerable<IKsmlDefinition> definitions, KsmlRunnerOptions options)
    {
        var topics = definitions.SelectMany(d => d.Topics.Select(t => t.Topic).Concat(d.Producers.Select(p => p.Target.Topic)))
            .Concat(new[] { options.ErrorHandling.Consume, options.ErrorHandling.Process, options.ErrorHandling.Produce }.Select(p => p.DeadLetterTopic).OfType<string>());
        foreach (var topic in topics.Distinct())
            broker.CreateTopic(topic, options.EmbeddedBrokerPartitions);
    }

    private static Dictionary<string, string> ProducerConfig(KsmlRunnerOptions options, string bootstrap)
    {
        // What the application's own producers (KSML's producers, dead letters) get: client settings, security included,
        // pass through; Streams-only and consumer-only keys stay with the stream.
        var streamsOnly = new HashSet<string>(StringComparer.Ordinal)
        {
            "application.id", "num.stream.threads", "processing.guarantee", "state.dir", "commit.interval.ms", "max.task.idle.ms",
            "replication.factor", "default.key.serde", "default.value.serde", "cache.max.bytes.buffering", "application.server",
        };
        var config = options.Kafka.Where(p => !streamsOnly.Contains(p.Key) && !ConsumerOnly.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        config["bootstrap.servers"] = bootstrap;
        return config;
    }

    // librdkafka's consumer-only properties: its producers (KSML's producers, dead letters) warn about each on stderr.
    private static readonly HashSet<string> ConsumerOnly = new(StringComparer.Ordinal)
    {
        "group.id", "group.instance.id", "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms",
        "group.protocol", "group.protocol.type", "group.remote.assignor", "coordinator.query.interval.ms", "max.poll.interval.ms",
        "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store", "queued.min.messages", "queued.max.messages.kbytes",
        "fetch.wait.max.ms", "fetch.queue.backoff.ms", "fetch.message.max.bytes", "max.partition.fetch.bytes", "fetch.max.bytes",
        "fetch.min.bytes", "fetch.error.backoff.ms", "isolation.level", "enable.partition.eof", "check.crcs", "auto.offset.reset",
    };

    /// <summary>Kafka's <c>state.dir</c> when given, else KSML's storage directory, which must exist unless it may be created.</summary>
    private static string StateDirectory(KsmlRunnerOptions options)
    {
        if (options.Kafka.GetValueOrDefault("state.dir") is { } stateDir)
            return stateDir;
        if (options.StorageDirectory is not { } configured)
            return Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ksml-state")).FullName;
        if (File.Exists(configured))
            throw new KsmlConfigException($"ksml.storageDirectory: '{configured}' is a file, not a directory");
        if (!Directory.Exists(configured))
        {
            if (!options.CreateStorageDirectory)
                throw new KsmlConfigException($"ksml.storageDirectory: '{configured}' does not exist; create it, or set ksml.createStorageDirectory: true to have it created");
            Directory.CreateDirectory(configured);
        }
        return configured;
    }

    private static StreamConfig StreamConfig(KsmlRunnerOptions options, string bootstrap, string stateDirectory, ILoggerFactory loggers, KsmlErrorHandler errors)
    {
        var config = new StreamConfig<StringSerDes, StringSerDes>();
        // First: Streamiz's guarantee setter resets commit.interval.ms (30 s, or 100 ms for exactly-once),
        // and a configured interval set before it was silently lost, so nothing was committed between restarts.
        config.Guarantee = options.ExactlyOnce ? ProcessingGuarantee.EXACTLY_ONCE : ProcessingGuarantee.AT_LEAST_ONCE;
        foreach (var (key, value) in options.Kafka)
            if (key is not ("application.id" or "bootstrap.servers" or "num.stream.threads" or "processing.guarantee" or "state.dir"))
                AddConfig(config, key, value);
        ProduceRetries(config, options);
        config.ApplicationId = options.ApplicationId;
        config.BootstrapServers = bootstrap;
        config.StateDir = stateDirectory;
        config.NumStreamThreads = options.StreamThreads;
        if (!options.Kafka.ContainsKey("auto.offset.reset"))
            config.AutoOffsetReset = AutoOffsetReset.Earliest;
        config.Logger = loggers;
        config.DeserializationExceptionHandler = errors.OnDeserializationError;
        config.ProductionExceptionHandler = errors.OnProductionError;
        config.InnerExceptionHandler = errors.OnProcessingError;
        return config;
    }

    /// <summary>
    /// <c>produce: retryOnFail</c> is the producer's own retrying: librdkafka resends a record the broker refused
    /// (policy's retries and backoff), in order and without duplicates (idempotence), while the record waits in
    /// the producer, and every commit flushes the producer first, so an offset is never committed past a record
    /// still to be resent and a crash loses none. Streamiz's RETRY is not used: its queue is cleared after each
    /// commit and on close. A record still refused after the retries is dead-lettered or stops the application.
    /// Settings the runner file gives under <c>kafka:</c> win.
    /// </summary>
    private static void ProduceRetries(StreamConfig config, KsmlRunnerOptions options)
    {
        if (options.ErrorHandling.Produce is not { Handler: ErrorHandlerKind.RetryOnFail } produce)
            return;
        void Default(string key, string value)
        {
            if (!options.Kafka.ContainsKey(key) && !options.Kafka.ContainsKey("producer." + key))
                config.AddConfig("producer." + key, value);
        }
        Default("retries", Math.Max(1, produce.MaxRetries).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Default("retry.backoff.ms", ((long)produce.InitialBackoff.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Default("retry.backoff.max.ms", ((long)Math.Max(produce.MaxBackoff.TotalMilliseconds, produce.InitialBackoff.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Default("enable.idempotence", "true");
    }

    /// <summary>
    /// Streamiz maps known keys to typed properties (session.timeout.ms is an int?) and rejects a
    /// string for them, so the value is offered as text first and then as the number or flag it reads as.
    /// </summary>
    private static void AddConfig(StreamConfig config, string key, string value)
    {
        var candidates = new List<object> { value };
        if (int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i))
            candidates.Add(i);
        if (long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l))
            candidates.Add(l);
        if (bool.TryParse(value, out var b))
            candidates.Add(b);
        if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d))
            candidates.Add(d);
        candidates.AddRange(KafkaEnumValues(value));
        foreach (var candidate in candidates)
        {
            try
            {
                config.AddConfig(key, candidate);
                return;
            }
            catch (ArgumentException)
            {
            }
        }
        throw new KsmlConfigException($"kafka.{key}: '{value}' is not a value this setting accepts");
    }

    private static readonly Type[] KafkaEnums = typeof(ClientConfig).Assembly.GetExportedTypes().Where(t => t.IsEnum).ToArray();

    /// <summary>
    /// The Confluent.Kafka enum members Kafka's own spelling names (earliest, all, SASL_SSL, cooperative-sticky):
    /// Streamiz types such settings as enums.
    /// </summary>
    private static IEnumerable<object> KafkaEnumValues(string value)
    {
        static string Normal(string text) => text.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        var wanted = Normal(value);
        foreach (var type in KafkaEnums)
            foreach (var name in Enum.GetNames(type))
                if (Normal(name) == wanted)
                    yield return Enum.Parse(type, name);
    }

    /// <summary>Waits for the producers to finish (those with a count or an until).</summary>
    public Task WhenProducersDone() => Task.WhenAll(_producers);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_droppedRecords is not null)
            await _droppedRecords.DisposeAsync().ConfigureAwait(false);
        await _producerCancellation.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_producers).ConfigureAwait(false);
        if (_instances is not null)
            await _instances.DisposeAsync().ConfigureAwait(false);
        // Disposing the stream commits processed offsets and closes the state stores; its threads
        // finish after Dispose returns, and the broker must outlive them.
        if (Stream is not null)
        {
            Stream.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (State != KafkaStream.State.NOT_RUNNING && State != KafkaStream.State.ERROR && DateTime.UtcNow < deadline)
                await Task.Delay(50).ConfigureAwait(false);
            if (Options.ExactlyOnce && !_stopping && State == KafkaStream.State.NOT_RUNNING && _stateDirectory is { } stateDirectory)
                ExactlyOnceState.MarkClosedCleanly(stateDirectory, Options.ApplicationId);
        }
        _deadLetters?.Dispose();
        foreach (var endpoint in _endpoints)
            await endpoint.DisposeAsync().ConfigureAwait(false);
        _ownedBroker?.Dispose();
        _producerCancellation.Dispose();
        // Last: it exports the spans that are left.
        _tracer?.Dispose();
    }
}
