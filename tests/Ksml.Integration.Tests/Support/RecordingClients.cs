using System.Collections.Concurrent;
using System.Reflection;
using Confluent.Kafka;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;

namespace Ksml.Integration.Tests.Support;

/// <summary>What the application's producers did, in the order they did it: records produced, offsets sent in a transaction, commits.</summary>
public sealed class RecordingClients(IKafkaSupplier inner) : IKafkaSupplier
{
    /// <summary>One producer call: <c>produce</c> (topic, value), <c>offsets</c> (the offsets sent to the transaction) or <c>commit</c>.</summary>
    public sealed record Event(string Kind, string? Topic = null, byte[]? Value = null, IReadOnlyList<TopicPartitionOffset>? Offsets = null);

    public ConcurrentQueue<Event> Events { get; } = new();

    public StreamMetricsRegistry MetricsRegistry { get => inner.MetricsRegistry; set => inner.MetricsRegistry = value; }

    public IAdminClient GetAdmin(AdminClientConfig config) => inner.GetAdmin(config);

    public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener) => inner.GetConsumer(config, rebalanceListener);

    public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => inner.GetGlobalConsumer(config);

    public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => inner.GetRestoreConsumer(config);

    public IProducer<byte[], byte[]> GetProducer(ProducerConfig config) => RecordingProducer.Wrap(inner.GetProducer(config), Events);

    public class RecordingProducer : DispatchProxy
    {
        private IProducer<byte[], byte[]> _target = null!;
        private ConcurrentQueue<Event> _events = null!;

        internal static IProducer<byte[], byte[]> Wrap(IProducer<byte[], byte[]> target, ConcurrentQueue<Event> events)
        {
            var proxy = Create<IProducer<byte[], byte[]>, RecordingProducer>();
            ((RecordingProducer)(object)proxy)._target = target;
            ((RecordingProducer)(object)proxy)._events = events;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case "Produce" or "ProduceAsync":
                    var topic = args![0] as string ?? (args[0] as TopicPartition)?.Topic;
                    _events.Enqueue(new Event("produce", topic, (args[1] as Message<byte[], byte[]>)?.Value));
                    break;
                case "SendOffsetsToTransaction":
                    _events.Enqueue(new Event("offsets", Offsets: ((IEnumerable<TopicPartitionOffset>)args![0]!).ToList()));
                    break;
                case "CommitTransaction":
                    _events.Enqueue(new Event("commit"));
                    break;
            }
            try
            {
                return targetMethod.Invoke(_target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}
