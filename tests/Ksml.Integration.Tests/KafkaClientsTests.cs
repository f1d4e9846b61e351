using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text;
using Confluent.Kafka;
using Ksml.Integration.Tests.Support;
using Ksml.Runtime.Kafka;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Errors;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.Metrics;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Integration.Tests;

/// <summary>The Kafka clients KSML gives Streamiz, against the embedded broker.</summary>
[TestFixture, NonParallelizable]
public sealed class KafkaClientsTests
{
    [Test]
    public async Task A_global_table_starts_even_when_librdkafka_refuses_a_seek_before_it_applied_the_assignment()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        foreach (var topic in new[] { "products", "orders", "enriched" })
            broker.CreateTopic(topic);
        Kafka.ProduceRaw(broker, "products", (Encoding.UTF8.GetBytes("p1"), Encoding.UTF8.GetBytes("apple")));

        // Under load librdkafka has not applied Streamiz's Assign when Streamiz seeks; CI saw exactly this.
        // Refusing every seek between an assignment and the next poll replays that race every time.
        var refusing = new SeekRefusingClients(Config("refused"));
        using (var plain = new KafkaStream(Topology(), Config("refused"), refusing))
            Assert.ThrowsAsync<StreamsException>(() => plain.StartAsync(), "the race stops Streamiz's own clients");

        var config = Config("ksml");
        using var stream = new KafkaStream(Topology(), config, new KsmlKafkaClients(new SeekRefusingClients(config), broker));
        await stream.StartAsync();
        Kafka.ProduceRaw(broker, "orders", (Encoding.UTF8.GetBytes("p1"), Encoding.UTF8.GetBytes("order-1")));

        var enriched = Kafka.ReadRaw(broker, "enriched", 1);

        Assert.That(enriched.Select(r => Encoding.UTF8.GetString(r.Message.Value!)), Is.EqualTo(new[] { "order-1 of apple" }));

        StreamConfig<StringSerDes, StringSerDes> Config(string name) => new()
        {
            ApplicationId = "it-global-seek-" + name + "-" + Guid.NewGuid().ToString("N")[..6],
            BootstrapServers = broker.BootstrapServers,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            StateDir = TestDirectories.For("global-seek-" + name),
        };
    }

    private static Topology Topology()
    {
        var builder = new StreamBuilder();
        var products = builder.GlobalTable<string, string>("products", InMemory.As<string, string>("products-store"));
        builder.Stream<string, string>("orders").Join(products, (key, _) => key, (order, product) => $"{order} of {product}").To("enriched");
        return builder.Build();
    }

    /// <summary>Streamiz's clients, except that the global consumer refuses a seek between an assignment and the next poll, as librdkafka does before it applied the assignment.</summary>
    private sealed class SeekRefusingClients(IStreamConfig config) : IKafkaSupplier
    {
        private readonly DefaultKafkaClientSupplier _inner = new(new KafkaLoggerAdapter(config), config);

        public StreamMetricsRegistry MetricsRegistry { get => _inner.MetricsRegistry; set => _inner.MetricsRegistry = value; }
        public IAdminClient GetAdmin(AdminClientConfig config) => _inner.GetAdmin(config);
        public IConsumer<byte[], byte[]> GetConsumer(ConsumerConfig config, IConsumerRebalanceListener rebalanceListener) => _inner.GetConsumer(config, rebalanceListener);
        public IConsumer<byte[], byte[]> GetGlobalConsumer(ConsumerConfig config) => SeekRefusingConsumer.Wrap(_inner.GetGlobalConsumer(config));
        public IProducer<byte[], byte[]> GetProducer(ProducerConfig config) => _inner.GetProducer(config);
        public IConsumer<byte[], byte[]> GetRestoreConsumer(ConsumerConfig config) => _inner.GetRestoreConsumer(config);
    }

    public class SeekRefusingConsumer : DispatchProxy
    {
        private IConsumer<byte[], byte[]> _target = null!;
        private bool _polled = true;

        internal static IConsumer<byte[], byte[]> Wrap(IConsumer<byte[], byte[]> target)
        {
            var proxy = Create<IConsumer<byte[], byte[]>, SeekRefusingConsumer>();
            ((SeekRefusingConsumer)(object)proxy)._target = target;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IConsumer<byte[], byte[]>.Seek) && !_polled)
                throw new KafkaException(ErrorCode.Local_State);
            if (targetMethod.Name is nameof(IConsumer<byte[], byte[]>.Consume) or nameof(IConsumer<byte[], byte[]>.Assign))
                _polled = targetMethod.Name == nameof(IConsumer<byte[], byte[]>.Consume);
            try
            {
                return targetMethod.Invoke(_target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}
