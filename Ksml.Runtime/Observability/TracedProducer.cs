using System.Reflection;
using System.Runtime.ExceptionServices;
using Confluent.Kafka;

namespace Ksml.Runtime.Observability;

/// <summary>
/// A producer that writes the current trace context into every record it sends (sinks, topic name extractors,
/// repartition topics), replacing the context a forwarded record arrived with, so the next reader continues this
/// trace. Changelog topics, which only this application restores from, are left as they are.
/// </summary>
public class TracedProducer : DispatchProxy
{
    private IProducer<byte[], byte[]> _target = null!;

    /// <summary><paramref name="target"/>, writing trace context into what it sends.</summary>
    public static IProducer<byte[], byte[]> Wrap(IProducer<byte[], byte[]> target)
    {
        var proxy = Create<IProducer<byte[], byte[]>, TracedProducer>();
        ((TracedProducer)(object)proxy)._target = target;
        return proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name is "Produce" or "ProduceAsync" && args is [var destination, Message<byte[], byte[]> message, ..]
            && (destination as string ?? (destination as TopicPartition)?.Topic) is { } topic && !topic.EndsWith("-changelog", StringComparison.Ordinal))
            message.Headers = WithCurrentContext(message.Headers);
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

    /// <summary>A copy of <paramref name="headers"/> with the current context: the forwarded record's own headers object stays as it arrived.</summary>
    internal static Headers WithCurrentContext(Headers? headers)
    {
        var copy = new Headers();
        if (headers is not null)
            foreach (var header in headers)
                copy.Add(header.Key, header.GetValueBytes());
        KsmlTracing.Inject(copy);
        return copy;
    }
}
