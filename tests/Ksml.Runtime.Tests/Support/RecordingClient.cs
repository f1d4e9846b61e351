using System.Reflection;

namespace Ksml.Runtime.Tests.Support;

/// <summary>A stand-in for any Kafka client interface that records each call, its method and arguments, and returns defaults.</summary>
public class RecordingClient : DispatchProxy
{
    /// <summary>The calls made so far, in order.</summary>
    public List<(MethodInfo Method, object?[] Arguments)> Calls { get; } = [];

    /// <summary>The names of the methods called so far, in order.</summary>
    public List<string> Names => Calls.Select(c => c.Method.Name).ToList();

    /// <summary>A fresh <typeparamref name="T"/> that records its calls, and its recorder.</summary>
    public static (T Client, RecordingClient Recorder) Of<T>() where T : class
    {
        var client = Create<T, RecordingClient>();
        return (client, (RecordingClient)(object)client);
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.Add((targetMethod!, args ?? []));
        return targetMethod!.ReturnType.IsValueType && targetMethod.ReturnType != typeof(void) ? Activator.CreateInstance(targetMethod.ReturnType) : null;
    }
}
