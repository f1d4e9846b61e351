using System.Text;
using Confluent.Kafka;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Tests.Support;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.Tests.ErrorHandling;

/// <summary>
/// KSML's defaults: every stage stops on a failure, and a record's contents stay out of logs, error
/// messages and dead-letter headers unless the stage says <c>logPayload: true</c>.
/// </summary>
public sealed class PayloadPrivacyTests
{
    private const string Secret = "4111-1111-SECRET";

    private sealed class ListSink : IDeadLetterSink
    {
        public List<(string Topic, Headers Headers)> Sent { get; } = [];

        public void Send(string topic, byte[]? key, byte[]? value, Headers headers) => Sent.Add((topic, headers));
    }

    private static KsmlFunctionException PythonKeyError() =>
        new("lookup", "orders.ksml.yaml", 12, 0, "KeyError", $"'{Secret}'",
            $"Traceback (most recent call last):\n  File \"orders.ksml.yaml\", line 12, in lookup\n    customers[value['card']]\nKeyError: '{Secret}'");

    private static (CapturingLoggerFactory Logs, ListSink DeadLetters, Exception? Stop) Fail(ErrorPolicy process, Exception failure)
    {
        var logs = new CapturingLoggerFactory();
        var sink = new ListSink();
        var handler = new KsmlErrorHandler(new ErrorHandlingOptions { Process = process }, logs, sink);
        Exception? stop = null;
        try
        {
            handler.TryProcess<string, string, object?>("lookup_step", null, "key-" + Secret, "value-" + Secret, null, () => throw failure, out _);
        }
        catch (KsmlStopException e)
        {
            stop = e;
        }
        return (logs, sink, stop);
    }

    private static string Everything(CapturingLoggerFactory logs, ListSink sink, Exception? stop) =>
        string.Join("\n", logs.Lines.Select(l => l.Message).Concat(logs.Exceptions)
            .Concat(sink.Sent.SelectMany(s => s.Headers.Select(h => Encoding.UTF8.GetString(h.GetValueBytes()))))
            .Append(stop?.ToString() ?? "").Append(stop?.Message ?? ""));

    [Test]
    public void The_defaults_are_ksmls_stop_on_fail_in_every_stage_without_payloads()
    {
        var defaults = new ErrorHandlingOptions();

        Assert.That(new[] { defaults.Consume, defaults.Process, defaults.Produce }.Select(p => (p.Handler, p.LogPayload)),
            Is.All.EqualTo((ErrorHandlerKind.StopOnFail, false)));
    }

    [Test]
    public void A_python_error_quoting_the_record_is_logged_dead_lettered_and_stopped_on_without_it()
    {
        var (logs, sink, stop) = Fail(new ErrorPolicy { DeadLetterTopic = "dlq" }, PythonKeyError());

        var everything = Everything(logs, sink, stop);
        Assert.That(stop, Is.Not.Null, "stopOnFail");
        Assert.That(everything, Does.Not.Contain(Secret));
        Assert.That(everything, Does.Contain("KeyError").And.Contain("orders.ksml.yaml").And.Contain("customers[value['card']]"), "the code and the location stay");
        Assert.That(sink.Sent.Single().Headers.Select(h => Encoding.UTF8.GetString(h.GetValueBytes())), Has.Some.Contain("'…'"));
    }

    [Test]
    public void A_type_error_names_the_types_and_not_the_value()
    {
        var typeError = Assert.Throws<KsmlTypeException>(() => KsmlValues.To<long>(Secret, "the result of 'lookup'"))!;
        var (logs, sink, stop) = Fail(new ErrorPolicy { DeadLetterTopic = "dlq" }, typeError);

        Assert.That(typeError.Message, Is.EqualTo("the result of 'lookup': expected a long, got str"));
        Assert.That(typeError.WithPayload, Does.Contain(Secret));
        Assert.That(Everything(logs, sink, stop), Does.Not.Contain(Secret));
    }

    [Test]
    public void With_log_payload_the_whole_error_and_the_record_are_logged()
    {
        var (logs, _, stop) = Fail(new ErrorPolicy { LogPayload = true, Handler = ErrorHandlerKind.ContinueOnFail }, PythonKeyError());

        Assert.That(stop, Is.Null, "continueOnFail");
        Assert.That(string.Join("\n", logs.Lines.Select(l => l.Message)), Does.Contain($"KeyError: '{Secret}'").Or.Contain($"'{Secret}'"));
        Assert.That(string.Join("\n", logs.Lines.Select(l => l.Message)), Does.Contain("value=str 'value-" + Secret));
    }
}
