using System.Reflection;
using Confluent.Kafka;
using Ksml.Runtime.Kafka;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Tests.Support;

namespace Ksml.Runtime.Tests.Kafka;

/// <summary>The client decorators forward each call to the same member of the client they wrap, and change only what they say.</summary>
public sealed class ForwardingClientsTests
{
    private sealed class PlainConsumer(IConsumer<byte[], byte[]> inner) : ForwardingConsumer(inner);

    private sealed class PlainProducer(IProducer<byte[], byte[]> inner) : ForwardingProducer(inner);

    private static IEnumerable<MethodInfo> Members(Type client) =>
        new[] { client }.Concat(client.GetInterfaces()).SelectMany(i => i.GetMethods());

    private static object? Argument(Type type) =>
        type == typeof(string) ? "orders" : type.IsValueType ? Activator.CreateInstance(type) : null;

    [TestCase(typeof(IConsumer<byte[], byte[]>))]
    [TestCase(typeof(IProducer<byte[], byte[]>))]
    public void Every_member_reaches_the_same_member_of_the_wrapped_client(Type client)
    {
        object wrapper;
        RecordingClient fake;
        if (client == typeof(IConsumer<byte[], byte[]>))
        {
            var (consumer, calls) = RecordingClient.Of<IConsumer<byte[], byte[]>>();
            (wrapper, fake) = (new PlainConsumer(consumer), calls);
        }
        else
        {
            var (producer, calls) = RecordingClient.Of<IProducer<byte[], byte[]>>();
            (wrapper, fake) = (new PlainProducer(producer), calls);
        }

        var members = Members(client).ToList();
        foreach (var member in members)
        {
            var arguments = member.GetParameters().Select(p => Argument(p.ParameterType)).ToArray();
            fake.Calls.Clear();
            member.Invoke(wrapper, arguments);
            Assert.That(fake.Calls, Has.Count.EqualTo(1), member.ToString());
            Assert.That(fake.Calls[0].Method, Is.EqualTo(member), "forwarded to another overload: " + member);
            Assert.That(fake.Calls[0].Arguments, Is.EqualTo(arguments), member.ToString());
        }
        Assert.That(members, Has.Count.GreaterThan(10));
    }

    [Test]
    public void The_global_consumer_skips_only_a_seek_to_where_its_assignment_just_started()
    {
        var (fake, recorder) = RecordingClient.Of<IConsumer<byte[], byte[]>>();
        var calls = recorder.Calls;
        var consumer = new KsmlKafkaClients.AssignedOffsetsConsumer(fake);
        List<string> Names() => calls.Select(c => c.Method.Name + (c.Arguments.FirstOrDefault() is TopicPartitionOffset at ? "@" + at.Offset.Value : "")).ToList();

        consumer.Assign([new TopicPartitionOffset("orders", 0, 42), new TopicPartitionOffset("orders", 1, 7)]);
        consumer.Seek(new TopicPartitionOffset("orders", 0, 42));
        consumer.Seek(new TopicPartitionOffset("orders", 1, 8));
        Assert.That(Names(), Is.EqualTo(new[] { "Assign", "Seek@8" }), "the seek to the assigned offset is skipped, another offset is not");

        calls.Clear();
        consumer.Seek(new TopicPartitionOffset("orders", 1, 7));
        Assert.That(Names(), Is.EqualTo(new[] { "Seek@7" }), "after a seek elsewhere, a seek back to where the assignment started is real");

        calls.Clear();
        consumer.Assign(new TopicPartitionOffset("orders", 0, 42));
        consumer.Consume(TimeSpan.Zero);
        consumer.Seek(new TopicPartitionOffset("orders", 0, 42));
        Assert.That(Names(), Is.EqualTo(new[] { "Assign@42", "Consume", "Seek@42" }), "after a consume the position may have moved: the seek goes through");
    }

    [Test]
    public void A_traced_producer_adds_the_trace_context_to_what_it_sends_but_not_to_changelogs()
    {
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == KsmlTracing.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var (fake, recorder) = RecordingClient.Of<IProducer<byte[], byte[]>>();
        var calls = recorder.Calls;
        var producer = new TracedProducer(fake);
        var original = new Headers { { "source", [1] } };

        using (KsmlTracing.Source.StartActivity("record"))
        {
            producer.Produce("orders_out", new Message<byte[], byte[]> { Headers = original });
            producer.Produce(new TopicPartition("app-store-changelog", 0), new Message<byte[], byte[]> { Headers = original });
        }

        var sent = calls.Select(c => ((Message<byte[], byte[]>)c.Arguments[1]!).Headers).ToList();
        Assert.That(sent[0].Select(h => h.Key), Is.EqualTo(new[] { "source", "traceparent" }));
        Assert.That(sent[1], Is.SameAs(original), "a changelog record keeps its headers");
        Assert.That(original.Count, Is.EqualTo(1), "the forwarded record's own headers are not changed");
    }
}
