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
        return commits is null ? consumer : new GatedConsumer(consumer, commits);
    }

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => new AssignedOffsetsConsumer(inner.GetGlobalConsumer(config));

    /// <inheritdoc />
    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config)
    {
        var producer = commits is null ? inner.GetProducer(config) : new GatedProducer(inner.GetProducer(config), commits);
        return tracing ? new Observability.TracedProducer(producer) : producer;
    }

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => inner.GetRestoreConsumer(config);

    /// <summary>
    /// A consumer that skips a seek to an offset its last assignment already starts from.
    /// Streamiz's global thread assigns each partition with its offset and then seeks there again;
    /// librdkafka applies an assignment asynchronously, and a seek that arrives before that fails
    /// with "Local: Erroneous state", which stops the application at start under load.
    /// </summary>
    public sealed class AssignedOffsetsConsumer(IConsumer<byte[], byte[]> inner) : ForwardingConsumer(inner)
    {
        private readonly HashSet<(string Topic, int Partition, long Offset)> _startsOfAssignment = [];

        private static (string, int, long) Key(TopicPartitionOffset at) => (at.Topic, at.Partition.Value, at.Offset.Value);

        private void Assigned(IEnumerable<TopicPartitionOffset> partitions)
        {
            _startsOfAssignment.Clear();
            foreach (var at in partitions)
                _startsOfAssignment.Add(Key(at));
        }

        /// <inheritdoc />
        public override void Seek(TopicPartitionOffset offset)
        {
            if (_startsOfAssignment.Remove(Key(offset)))
                return;
            _startsOfAssignment.Clear(); // this seek moves a position: a later one back to the start is real
            Inner.Seek(offset);
        }

        /// <inheritdoc />
        public override void Assign(TopicPartitionOffset partition)
        {
            Inner.Assign(partition);
            Assigned([partition]);
        }

        /// <inheritdoc />
        public override void Assign(IEnumerable<TopicPartitionOffset> partitions)
        {
            var list = partitions.ToList();
            Inner.Assign(list);
            Assigned(list);
        }

        // Only a seek directly after the assignment is redundant: whatever moves the position or the assignment in between ends that.

        /// <inheritdoc />
        public override void Assign(TopicPartition partition) => Moved(() => Inner.Assign(partition));
        /// <inheritdoc />
        public override void Assign(IEnumerable<TopicPartition> partitions) => Moved(() => Inner.Assign(partitions));
        /// <inheritdoc />
        public override void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => Moved(() => Inner.IncrementalAssign(partitions));
        /// <inheritdoc />
        public override void IncrementalAssign(IEnumerable<TopicPartition> partitions) => Moved(() => Inner.IncrementalAssign(partitions));
        /// <inheritdoc />
        public override void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => Moved(() => Inner.IncrementalUnassign(partitions));
        /// <inheritdoc />
        public override void Unassign() => Moved(Inner.Unassign);
        /// <inheritdoc />
        public override void Subscribe(IEnumerable<string> topics) => Moved(() => Inner.Subscribe(topics));
        /// <inheritdoc />
        public override void Subscribe(string topic) => Moved(() => Inner.Subscribe(topic));
        /// <inheritdoc />
        public override void Unsubscribe() => Moved(Inner.Unsubscribe);
        /// <inheritdoc />
        public override ConsumeResult<byte[], byte[]> Consume(int millisecondsTimeout) => Consumed(Inner.Consume(millisecondsTimeout));
        /// <inheritdoc />
        public override ConsumeResult<byte[], byte[]> Consume(CancellationToken cancellationToken = default) => Consumed(Inner.Consume(cancellationToken));
        /// <inheritdoc />
        public override ConsumeResult<byte[], byte[]> Consume(TimeSpan timeout) => Consumed(Inner.Consume(timeout));

        private void Moved(Action call)
        {
            _startsOfAssignment.Clear();
            call();
        }

        private ConsumeResult<byte[], byte[]> Consumed(ConsumeResult<byte[], byte[]> result)
        {
            _startsOfAssignment.Clear();
            return result;
        }
    }

    private static readonly System.Diagnostics.Metrics.Histogram<double> CommitDuration = Observability.KsmlMetrics.Meter.CreateHistogram<double>("commit.duration", "ms",
        "Time an offset commit (consumer) or a transaction commit (exactly-once) took, by kind");
    private static readonly KeyValuePair<string, object?> Offsets = new("kind", "offsets"), Transaction = new("kind", "transaction");

    /// <summary>Records how long a commit the gate let through took (<c>ksml_commit_duration</c>), from <paramref name="started"/>.</summary>
    private static void RecordCommit(KeyValuePair<string, object?> kind, long started) =>
        CommitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, kind);

    /// <summary>A consumer that commits offsets only while its <see cref="CommitGate"/> lets it: a refused commit does nothing.</summary>
    public sealed class GatedConsumer(IConsumer<byte[], byte[]> inner, CommitGate gate) : ForwardingConsumer(inner)
    {
        /// <inheritdoc />
        public override List<TopicPartitionOffset> Commit()
        {
            if (!gate.OffsetsCommit)
                return [];
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var committed = Inner.Commit();
            RecordCommit(Offsets, started);
            return committed;
        }

        /// <inheritdoc />
        public override void Commit(IEnumerable<TopicPartitionOffset> offsets)
        {
            if (!gate.OffsetsCommit)
                return;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Inner.Commit(offsets);
            RecordCommit(Offsets, started);
        }

        /// <inheritdoc />
        public override void Commit(ConsumeResult<byte[], byte[]> result)
        {
            if (!gate.OffsetsCommit)
                return;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Inner.Commit(result);
            RecordCommit(Offsets, started);
        }
    }

    /// <summary>A producer whose transactions commit only while its <see cref="CommitGate"/> lets them: a refused one is aborted, its offsets left unsent.</summary>
    public sealed class GatedProducer(IProducer<byte[], byte[]> inner, CommitGate gate) : ForwardingProducer(inner)
    {
        /// <inheritdoc />
        public override void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout)
        {
            if (gate.TransactionsCommit)
                Inner.SendOffsetsToTransaction(offsets, groupMetadata, timeout);
        }

        /// <inheritdoc />
        public override void CommitTransaction(TimeSpan timeout)
        {
            if (!gate.TransactionsCommit)
            {
                Inner.AbortTransaction(timeout);
                return;
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Inner.CommitTransaction(timeout);
            RecordCommit(Transaction, started);
        }

        /// <inheritdoc />
        public override void CommitTransaction()
        {
            if (!gate.TransactionsCommit)
            {
                Inner.AbortTransaction();
                return;
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Inner.CommitTransaction();
            RecordCommit(Transaction, started);
        }
    }
}
