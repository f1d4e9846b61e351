using Confluent.Kafka;
using Ksml.Runtime.Kafka;
using Ksml.Runtime.Tests.Support;

namespace Ksml.Runtime.Tests.Kafka;

/// <summary>After a stop nothing commits: a consumer's commit is skipped, a transaction is aborted instead of committed.</summary>
public sealed class CommitGateTests
{
    private static (T Gated, RecordingClient Calls) Gated<T>(CommitGate gate) where T : class
    {
        var (fake, calls) = RecordingClient.Of<T>();
        var gated = fake switch
        {
            IConsumer<byte[], byte[]> consumer => (T)(object)new KsmlKafkaClients.GatedConsumer(consumer, gate),
            IProducer<byte[], byte[]> producer => (T)(object)new KsmlKafkaClients.GatedProducer(producer, gate),
            _ => throw new ArgumentException(typeof(T).Name),
        };
        return (gated, calls);
    }

    private static readonly TopicPartitionOffset[] Offsets = [new("orders", 0, 42)];

    [Test]
    public void A_consumer_commits_while_the_gate_is_open_and_not_after()
    {
        var gate = new CommitGate();
        var (consumer, calls) = Gated<IConsumer<byte[], byte[]>>(gate);

        consumer.Commit(Offsets);
        gate.Close();
        consumer.Commit(Offsets);
        var committed = consumer.Commit();
        consumer.Close();

        Assert.That(calls.Names, Is.EqualTo(new[] { "Commit", "Close" }), "only the commit before the stop reached the consumer");
        Assert.That(committed, Is.Empty);
    }

    [Test]
    public void After_a_process_stop_offsets_commit_and_a_transaction_aborts()
    {
        var gate = new CommitGate();
        var (consumer, consumerCalls) = Gated<IConsumer<byte[], byte[]>>(gate);
        var (producer, producerCalls) = Gated<IProducer<byte[], byte[]>>(gate);

        gate.AbortTransactions();
        consumer.Commit(Offsets);
        producer.CommitTransaction();
        gate.AbortTransactions();

        Assert.That(consumerCalls.Names, Is.EqualTo(new[] { "Commit" }));
        Assert.That(producerCalls.Names, Is.EqualTo(new[] { "AbortTransaction" }));
    }

    [Test]
    public void A_gate_never_opens_again()
    {
        var gate = new CommitGate();
        gate.Close();
        gate.AbortTransactions();

        Assert.That(gate.OffsetsCommit, Is.False, "a later, milder stop does not reopen it");
    }

    [Test]
    public void A_transaction_is_aborted_instead_of_committed_after_the_gate_closes()
    {
        var gate = new CommitGate();
        var (producer, calls) = Gated<IProducer<byte[], byte[]>>(gate);
        IConsumerGroupMetadata group = null!;

        producer.SendOffsetsToTransaction(Offsets, group, TimeSpan.FromSeconds(1));
        producer.CommitTransaction();
        gate.Close();
        producer.SendOffsetsToTransaction(Offsets, group, TimeSpan.FromSeconds(1));
        producer.CommitTransaction(TimeSpan.FromSeconds(1));
        producer.CommitTransaction();

        Assert.That(calls.Names, Is.EqualTo(new[] { "SendOffsetsToTransaction", "CommitTransaction", "AbortTransaction", "AbortTransaction" }));
    }
}
