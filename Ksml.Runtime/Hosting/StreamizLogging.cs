using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// Streamiz keeps one logger factory in a static that its builders, configs and processors read when
/// they are made, and only a KafkaStream or TopologyTestDriver constructor sets it, which comes after
/// the topology and config are built. So an application built after another one has stopped logged
/// to the previous one's factory, and threw ObjectDisposedException once that was disposed.
/// </summary>
public static class StreamizLogging
{
    private static readonly PropertyInfo? Factory = typeof(Streamiz.Kafka.Net.Crosscutting.Logger)
        .GetProperty("LoggerFactory", BindingFlags.Static | BindingFlags.NonPublic);

    /// <summary>Makes <paramref name="loggers"/> the factory Streamiz's next builders and configs use.</summary>
    public static void Use(ILoggerFactory loggers) => Factory?.SetValue(null, loggers);

    /// <summary>
    /// Stops Streamiz using <paramref name="loggers"/> once its owner disposes it (a Generic Host's factory goes with the
    /// host), so what Streamiz builds later logs nowhere instead of throwing ObjectDisposedException.
    /// </summary>
    public static void Release(ILoggerFactory loggers)
    {
        if (ReferenceEquals(Factory?.GetValue(null), loggers))
            Factory!.SetValue(null, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
    }
}
