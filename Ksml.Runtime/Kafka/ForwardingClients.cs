using Confluent.Kafka;

namespace Ksml.Runtime.Kafka;

/// <summary>What every Kafka client wrapper forwards: the client's handle, name, brokers and credentials, and its disposal.</summary>
public abstract class ForwardingClient(IClient inner) : IClient
{
    /// <summary>The client calls go to.</summary>
    protected IClient Inner { get; } = inner;

    /// <inheritdoc />
    public virtual Handle Handle => Inner.Handle;
    /// <inheritdoc />
    public virtual string Name => Inner.Name;
    /// <inheritdoc />
    public virtual int AddBrokers(string brokers) => Inner.AddBrokers(brokers);
    /// <inheritdoc />
    public virtual void SetSaslCredentials(string username, string password) => Inner.SetSaslCredentials(username, password);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the wrapped client.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
            Inner.Dispose();
    }
}

/// <summary>
/// A consumer that hands every call to the one it wraps; a subclass overrides what it changes. Plain virtual calls,
/// not a DispatchProxy: the stream thread calls <c>Consume</c> once per record, and reflection there cost every record.
/// </summary>
public abstract class ForwardingConsumer(IConsumer<byte[], byte[]> inner) : ForwardingClient(inner), IConsumer<byte[], byte[]>
{
    /// <summary>The consumer calls go to.</summary>
    protected new IConsumer<byte[], byte[]> Inner { get; } = inner;

    /// <inheritdoc />
    public virtual ConsumeResult<byte[], byte[]> Consume(int millisecondsTimeout) => Inner.Consume(millisecondsTimeout);
    /// <inheritdoc />
    public virtual ConsumeResult<byte[], byte[]> Consume(CancellationToken cancellationToken = default) => Inner.Consume(cancellationToken);
    /// <inheritdoc />
    public virtual ConsumeResult<byte[], byte[]> Consume(TimeSpan timeout) => Inner.Consume(timeout);
    /// <inheritdoc />
    public virtual string MemberId => Inner.MemberId;
    /// <inheritdoc />
    public virtual List<TopicPartition> Assignment => Inner.Assignment;
    /// <inheritdoc />
    public virtual List<string> Subscription => Inner.Subscription;
    /// <inheritdoc />
    public virtual void Subscribe(IEnumerable<string> topics) => Inner.Subscribe(topics);
    /// <inheritdoc />
    public virtual void Subscribe(string topic) => Inner.Subscribe(topic);
    /// <inheritdoc />
    public virtual void Unsubscribe() => Inner.Unsubscribe();
    /// <inheritdoc />
    public virtual void Assign(TopicPartition partition) => Inner.Assign(partition);
    /// <inheritdoc />
    public virtual void Assign(TopicPartitionOffset partition) => Inner.Assign(partition);
    /// <inheritdoc />
    public virtual void Assign(IEnumerable<TopicPartitionOffset> partitions) => Inner.Assign(partitions);
    /// <inheritdoc />
    public virtual void Assign(IEnumerable<TopicPartition> partitions) => Inner.Assign(partitions);
    /// <inheritdoc />
    public virtual void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => Inner.IncrementalAssign(partitions);
    /// <inheritdoc />
    public virtual void IncrementalAssign(IEnumerable<TopicPartition> partitions) => Inner.IncrementalAssign(partitions);
    /// <inheritdoc />
    public virtual void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => Inner.IncrementalUnassign(partitions);
    /// <inheritdoc />
    public virtual void Unassign() => Inner.Unassign();
    /// <inheritdoc />
    public virtual void StoreOffset(ConsumeResult<byte[], byte[]> result) => Inner.StoreOffset(result);
    /// <inheritdoc />
    public virtual void StoreOffset(TopicPartitionOffset offset) => Inner.StoreOffset(offset);
    /// <inheritdoc />
    public virtual List<TopicPartitionOffset> Commit() => Inner.Commit();
    /// <inheritdoc />
    public virtual void Commit(IEnumerable<TopicPartitionOffset> offsets) => Inner.Commit(offsets);
    /// <inheritdoc />
    public virtual void Commit(ConsumeResult<byte[], byte[]> result) => Inner.Commit(result);
    /// <inheritdoc />
    public virtual void Seek(TopicPartitionOffset offset) => Inner.Seek(offset);
    /// <inheritdoc />
    public virtual void Pause(IEnumerable<TopicPartition> partitions) => Inner.Pause(partitions);
    /// <inheritdoc />
    public virtual void Resume(IEnumerable<TopicPartition> partitions) => Inner.Resume(partitions);
    /// <inheritdoc />
    public virtual List<TopicPartitionOffset> Committed(TimeSpan timeout) => Inner.Committed(timeout);
    /// <inheritdoc />
    public virtual List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout) => Inner.Committed(partitions, timeout);
    /// <inheritdoc />
    public virtual Offset Position(TopicPartition partition) => Inner.Position(partition);
    /// <inheritdoc />
    public virtual List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout) => Inner.OffsetsForTimes(timestampsToSearch, timeout);
    /// <inheritdoc />
    public virtual WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition) => Inner.GetWatermarkOffsets(topicPartition);
    /// <inheritdoc />
    public virtual WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout) => Inner.QueryWatermarkOffsets(topicPartition, timeout);
    /// <inheritdoc />
    public virtual void Close() => Inner.Close();
    /// <inheritdoc />
    public virtual IConsumerGroupMetadata ConsumerGroupMetadata => Inner.ConsumerGroupMetadata;
}

/// <summary>A producer that hands every call to the one it wraps; a subclass overrides what it changes (see <see cref="ForwardingConsumer"/>).</summary>
public abstract class ForwardingProducer(IProducer<byte[], byte[]> inner) : ForwardingClient(inner), IProducer<byte[], byte[]>
{
    /// <summary>The producer calls go to.</summary>
    protected new IProducer<byte[], byte[]> Inner { get; } = inner;

    /// <inheritdoc />
    public virtual Task<DeliveryResult<byte[], byte[]>> ProduceAsync(string topic, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
        Inner.ProduceAsync(topic, message, cancellationToken);
    /// <inheritdoc />
    public virtual Task<DeliveryResult<byte[], byte[]>> ProduceAsync(TopicPartition topicPartition, Message<byte[], byte[]> message, CancellationToken cancellationToken = default) =>
        Inner.ProduceAsync(topicPartition, message, cancellationToken);
    /// <inheritdoc />
    public virtual void Produce(string topic, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
        Inner.Produce(topic, message, deliveryHandler);
    /// <inheritdoc />
    public virtual void Produce(TopicPartition topicPartition, Message<byte[], byte[]> message, Action<DeliveryReport<byte[], byte[]>>? deliveryHandler = null) =>
        Inner.Produce(topicPartition, message, deliveryHandler);
    /// <inheritdoc />
    public virtual int Poll(TimeSpan timeout) => Inner.Poll(timeout);
    /// <inheritdoc />
    public virtual int Flush(TimeSpan timeout) => Inner.Flush(timeout);
    /// <inheritdoc />
    public virtual void Flush(CancellationToken cancellationToken = default) => Inner.Flush(cancellationToken);
    /// <inheritdoc />
    public virtual void InitTransactions(TimeSpan timeout) => Inner.InitTransactions(timeout);
    /// <inheritdoc />
    public virtual void BeginTransaction() => Inner.BeginTransaction();
    /// <inheritdoc />
    public virtual void CommitTransaction(TimeSpan timeout) => Inner.CommitTransaction(timeout);
    /// <inheritdoc />
    public virtual void CommitTransaction() => Inner.CommitTransaction();
    /// <inheritdoc />
    public virtual void AbortTransaction(TimeSpan timeout) => Inner.AbortTransaction(timeout);
    /// <inheritdoc />
    public virtual void AbortTransaction() => Inner.AbortTransaction();
    /// <inheritdoc />
    public virtual void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) =>
        Inner.SendOffsetsToTransaction(offsets, groupMetadata, timeout);
}
