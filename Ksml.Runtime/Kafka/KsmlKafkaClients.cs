using System.Reflection;
using System.Runtime.ExceptionServices;
using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// The Kafka clients a KSML application's streams use: Streamiz's own, with three changes (and, with tracing, producers
/// that write the trace context into what they send).
/// The global-table consumer skips the seek Streamiz makes right after assigning the same offsets;
/// on the embedded broker the admin client creates internal topics in the mock; and the main consumer and
/// the producers commit only what the <see cref="CommitGate"/> lets through after a stop.
/// </summary>
public sealed class KsmlKafkaClients(IKafkaSupplier inner, EmbeddedKafkaBroker? broker = null, CommitGate? commits = null, bool tracing = false) : IKafkaSupplier
{
    /// <summary>Streamiz's default clients for <paramref name="config"/>, on <paramref name="broker"/> when given; with <paramref name="tracing"/> the producers write the trace context into what they send.</summary>
    public KsmlKafkaClients(IStreamConfig config, EmbeddedKafkaBroker? broker = null, CommitGate? commits = null, bool tracing = false)
        : this(new DefaultKafkaClientSupplier(new KafkaLoggerAdapter(config), config), broker, commits, tracing)
    {
    }

    /// <inheritdoc />
    public StreamMetricsRegistry MetricsRegistry { get => inner.MetricsRegistry; set => inner.MetricsRegistry = value; }

    /// <inheritdoc />
    public IAdminClient GetAdmin(AdminClientConfig config) =>
        broker is null ? inner.GetAdmin(config) : EmbeddedKafkaBroker.TopicCreatingAdmin.Wrap(inner.GetAdmin(config), broker);

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener)
    {
        var consumer = inner.GetConsumer(config, rebalanceListener);
        Observability.ConsumerLag.Track(consumer);
        return commits is null ? consumer : GatedClient.Wrap(consumer, commits);
    }

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => AssignedOffsetsConsumer.Wrap(inner.GetGlobalConsumer(config));

    /// <inheritdoc />
    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config)
    {
        var producer = commits is null ? inner.GetProducer(config) : GatedClient.Wrap(inner.GetProducer(config), commits);
        return tracing ? Observability.TracedProducer.Wrap(producer) : producer;
    }

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => inner.GetRestoreConsumer(config);

    /// <summary>
    /// A consumer that skips a seek to an offset its last assignment already starts from.
    /// Streamiz's global thread assigns each partition with its offset and then seeks there again;
    /// librdkafka applies an assignment asynchronously, and a seek that arrives before that fails
    /// with "Local: Erroneous state", which stops the application at start under load.
    /// </summary>
    public class AssignedOffsetsConsumer : DispatchProxy
    {
        private IConsumer<byte[], byte[]> _target = null!;
        private readonly HashSet<(string Topic, int Partition, long Offset)> _startsOfAssignment = [];

        internal static IConsumer<byte[], byte[]> Wrap(IConsumer<byte[], byte[]> target)
        {
            var proxy = Create<IConsumer<byte[], byte[]>, AssignedOffsetsConsumer>();
            ((AssignedOffsetsConsumer)(object)proxy)._target = target;
            return proxy;
        }

        private static (string, int, long) Key(TopicPartitionOffset at) => (at.Topic, at.Partition.Value, at.Offset.Value);

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var name = targetMethod!.Name;
            if (name == nameof(IConsumer<byte[], byte[]>.Seek) && args?[0] is TopicPartitionOffset seek && _startsOfAssignment.Remove(Key(seek)))
                return null;
            // Only a seek directly after the assignment is redundant; anything else in between may move the position.
            _startsOfAssignment.Clear();
            if (name == nameof(IConsumer<byte[], byte[]>.Assign))
            {
                if (args![0] is IEnumerable<TopicPartitionOffset> many)
                    args[0] = many = many.ToList();
                foreach (var at in args[0] is TopicPartitionOffset one ? [one] : args[0] as IEnumerable<TopicPartitionOffset> ?? [])
                    _startsOfAssignment.Add(Key(at));
            }
            return Forward(_target, targetMethod, args);
        }
    }

    /// <summary>
    /// A consumer or producer that commits only what its <see cref="CommitGate"/> lets through: a refused consumer
    /// commit does nothing, a refused transaction is aborted instead of committed, with its offsets left unsent.
    /// Each commit it lets through is timed (<c>ksml_commit_duration</c>).
    /// </summary>
    public class GatedClient : DispatchProxy
    {
        private static readonly System.Diagnostics.Metrics.Histogram<double> CommitDuration = Observability.KsmlMetrics.Meter.CreateHistogram<double>("commit.duration", "ms",
            "Time an offset commit (consumer) or a transaction commit (exactly-once) took, by kind");
        private static readonly KeyValuePair<string, object?> Offsets = new("kind", "offsets"), Transaction = new("kind", "transaction");

        private object _target = null!;
        private CommitGate _gate = null!;

        /// <summary>Wraps <paramref name="target"/>, an <c>IConsumer</c> or an <c>IProducer</c>.</summary>
        public static T Wrap<T>(T target, CommitGate gate) where T : class
        {
            var proxy = Create<T, GatedClient>();
            var gated = (GatedClient)(object)proxy;
            (gated._target, gated._gate) = (target, gate);
            return proxy;
        }

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case nameof(IConsumer<byte[], byte[]>.Commit) when !_gate.OffsetsCommit:
                    return targetMethod.ReturnType == typeof(void) ? null : new List<TopicPartitionOffset>();
                case nameof(IProducer<byte[], byte[]>.SendOffsetsToTransaction) when !_gate.TransactionsCommit:
                    return null;
                case nameof(IProducer<byte[], byte[]>.CommitTransaction) when !_gate.TransactionsCommit:
                    var abort = typeof(IProducer<byte[], byte[]>).GetMethod(nameof(IProducer<byte[], byte[]>.AbortTransaction), args is { Length: 1 } ? [typeof(TimeSpan)] : Type.EmptyTypes)!;
                    return Forward(_target, abort, args);
                case nameof(IConsumer<byte[], byte[]>.Commit) or nameof(IProducer<byte[], byte[]>.CommitTransaction):
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var result = Forward(_target, targetMethod, args);
                    CommitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, targetMethod.Name == nameof(IConsumer<byte[], byte[]>.Commit) ? Offsets : Transaction);
                    return result;
                }
                default:
                    return Forward(_target, targetMethod, args);
            }
        }
    }

    /// <summary>Calls <paramref name="method"/> on the wrapped client and lets its own exception through, not reflection's wrapper.</summary>
    internal static object? Forward(object target, MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}
