using System.Reflection;
using System.Runtime.ExceptionServices;
using Confluent.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// The Kafka clients a KSML application's streams use: Streamiz's own, with two changes.
/// The global-table consumer skips the seek Streamiz makes right after assigning the same offsets,
/// and on the embedded broker the admin client creates internal topics in the mock.
/// </summary>
public sealed class KsmlKafkaClients(IKafkaSupplier inner, EmbeddedKafkaBroker? broker = null) : IKafkaSupplier
{
    /// <summary>Streamiz's default clients for <paramref name="config"/>, on <paramref name="broker"/> when given.</summary>
    public KsmlKafkaClients(IStreamConfig config, EmbeddedKafkaBroker? broker = null)
        : this(new DefaultKafkaClientSupplier(new KafkaLoggerAdapter(config), config), broker)
    {
    }

    /// <inheritdoc />
    public StreamMetricsRegistry MetricsRegistry { get => inner.MetricsRegistry; set => inner.MetricsRegistry = value; }

    /// <inheritdoc />
    public IAdminClient GetAdmin(AdminClientConfig config) =>
        broker is null ? inner.GetAdmin(config) : EmbeddedKafkaBroker.TopicCreatingAdmin.Wrap(inner.GetAdmin(config), broker);

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener) => inner.GetConsumer(config, rebalanceListener);

    /// <inheritdoc />
    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => AssignedOffsetsConsumer.Wrap(inner.GetGlobalConsumer(config));

    /// <inheritdoc />
    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config) => inner.GetProducer(config);

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
