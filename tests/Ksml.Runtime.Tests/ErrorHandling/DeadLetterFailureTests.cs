using Confluent.Kafka;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Tests.Support;
using Streamiz.Kafka.Net;

namespace Ksml.Runtime.Tests.ErrorHandling;

/// <summary>
/// A dead letter that cannot be written must not let its record go: the application stops, uncommitted,
/// in every stage, so a restart handles the record again.
/// </summary>
public sealed class DeadLetterFailureTests
{
    private sealed class RejectingSink : IDeadLetterSink
    {
        public int Attempts { get; private set; }

        public void Send(string topic, byte[]? key, byte[]? value, Headers headers)
        {
            Attempts++;
            throw new ProduceException<byte[]?, byte[]?>(new Error(ErrorCode.TopicAuthorizationFailed), new DeliveryResult<byte[]?, byte[]?>());
        }
    }

    private static (KsmlErrorHandler Handler, RejectingSink Sink, List<KsmlStopException> Stops) Handler(ErrorHandlingOptions options)
    {
        var sink = new RejectingSink();
        var handler = new KsmlErrorHandler(options, new CapturingLoggerFactory(), sink);
        var stops = new List<KsmlStopException>();
        handler.Stopping += stops.Add;
        return (handler, sink, stops);
    }

    private static readonly ErrorPolicy ContinueToDeadLetters = new() { Handler = ErrorHandlerKind.ContinueOnFail, DeadLetterTopic = "dlq" };

    [Test]
    public void Process_stage_a_rejected_dead_letter_stops_instead_of_skipping_the_record()
    {
        var (handler, sink, stops) = Handler(new ErrorHandlingOptions { Process = ContinueToDeadLetters });

        var stop = Assert.Throws<KsmlStopException>(() =>
            handler.TryProcess<string, string, object?>("enrich", null, "k", "v", null, () => throw new InvalidOperationException("boom"), out _))!;

        Assert.That(sink.Attempts, Is.EqualTo(1));
        Assert.That(stop.Message, Does.StartWith("Stopping: the dead letter for step enrich could not be written to dlq"));
        Assert.That(stops, Is.EqualTo(new[] { stop }), "the whole application stops");
    }

    [Test]
    public void Consume_stage_a_rejected_dead_letter_fails_the_record_instead_of_continuing()
    {
        var (handler, _, stops) = Handler(new ErrorHandlingOptions { Consume = ContinueToDeadLetters });
        var record = new ConsumeResult<byte[], byte[]>
        {
            Topic = "orders", Partition = 2, Offset = 41,
            Message = new Message<byte[], byte[]> { Key = [1], Value = [2] },
        };

        var response = handler.OnDeserializationError(null!, record, new FormatException("not json"));

        Assert.That(response, Is.EqualTo(ExceptionHandlerResponse.FAIL));
        Assert.That(stops.Single().Message, Does.Contain("the record at orders[2]@41 could not be written to dlq"));
    }

    [Test]
    public void Consume_stage_an_unavailable_schema_registry_stops_the_application_instead_of_skipping_or_dead_lettering()
    {
        var (handler, sink, stops) = Handler(new ErrorHandlingOptions { Consume = ContinueToDeadLetters });
        var record = new ConsumeResult<byte[], byte[]>
        {
            Topic = "orders", Partition = 0, Offset = 7,
            Message = new Message<byte[], byte[]> { Key = [1], Value = [0, 0, 0, 0, 3] },
        };
        var unavailable = new Ksml.Runtime.Serdes.SchemaRegistryUnavailableException("The schema registry at http://registry:8081 is unavailable (fetching schema 3): Connection refused", new HttpRequestException("Connection refused"));

        var response = handler.OnDeserializationError(null!, record, new Streamiz.Kafka.Net.Errors.StreamsException("deserialization failed", unavailable));

        Assert.That(response, Is.EqualTo(ExceptionHandlerResponse.FAIL));
        Assert.That(sink.Attempts, Is.Zero, "the record is not to blame: no dead letter");
        Assert.That(stops.Single().Message, Does.StartWith("Stopping: the record at orders[0]@7 could not be read: The schema registry at http://registry:8081 is unavailable"));
    }

    [Test]
    public void Produce_stage_a_rejected_dead_letter_fails_the_record_instead_of_continuing()
    {
        var (handler, _, stops) = Handler(new ErrorHandlingOptions { Produce = ContinueToDeadLetters });
        var report = new DeliveryReport<byte[], byte[]>
        {
            Topic = "orders_out",
            Error = new Error(ErrorCode.MsgSizeTooLarge),
            Message = new Message<byte[], byte[]> { Key = [1], Value = [2] },
        };

        Assert.That(handler.OnProductionError(report), Is.EqualTo(ProductionExceptionHandlerResponse.FAIL));
        Assert.That(stops.Single().Message, Does.Contain("a record for orders_out could not be written to dlq"));
    }

    [Test]
    public void Produce_stage_retry_on_fail_stops_once_the_producer_has_retried_instead_of_queueing_the_record_in_memory()
    {
        // Streamiz's RETRY keeps the record in a queue it clears after commits and on close; the producer retries instead.
        var (handler, _, stops) = Handler(new ErrorHandlingOptions { Produce = new ErrorPolicy { Handler = ErrorHandlerKind.RetryOnFail, MaxRetries = 4 } });
        var report = new DeliveryReport<byte[], byte[]>
        {
            Topic = "orders_out",
            Error = new Error(ErrorCode.MsgSizeTooLarge),
            Message = new Message<byte[], byte[]> { Key = [1], Value = [2] },
        };

        Assert.That(handler.Commits.OffsetsCommit, Is.True);
        Assert.That(handler.OnProductionError(report), Is.EqualTo(ProductionExceptionHandlerResponse.FAIL));
        Assert.That(stops.Single().Message, Does.Contain("orders_out").And.Contain("resent up to 4 times"));
        Assert.That(handler.Commits.OffsetsCommit, Is.False, "the record was processed: nothing commits after the stop, not even the closing thread's commit");
    }

    [Test]
    public void A_thread_ending_error_no_policy_saw_refuses_later_commits()
    {
        var (handler, _, _) = Handler(new ErrorHandlingOptions());

        Assert.That(handler.OnProcessingError(new Streamiz.Kafka.Net.Errors.StreamsException("fatal: topic authorization failed")), Is.EqualTo(ExceptionHandlerResponse.FAIL));
        Assert.That(handler.Commits.OffsetsCommit, Is.False);
    }

    [Test]
    public void A_process_stop_keeps_the_offsets_before_the_record_but_aborts_a_transaction()
    {
        // The failed record is not among the offsets a closing commit sends; its partial outputs are in the transaction.
        var (handler, _, _) = Handler(new ErrorHandlingOptions());

        var stop = Assert.Throws<KsmlStopException>(() =>
            handler.TryProcess<string, string, object?>("enrich", null, "k", "v", null, () => throw new InvalidOperationException("boom"), out _))!;
        handler.OnProcessingError(new Streamiz.Kafka.Net.Errors.StreamsException("task failed", stop));

        Assert.That(handler.Commits.OffsetsCommit, Is.True);
        Assert.That(handler.Commits.TransactionsCommit, Is.False);
    }
}
