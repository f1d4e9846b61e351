using System.Linq.Expressions;
using System.Reflection;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// What Streamiz knows on the stream thread about the task it is processing, and does not make public: the task
/// (a thread-static of its TaskManager, set around every task's processing, the test driver's included), the
/// record being processed, and the partition count of a topic its producer writes to. Streamiz calls reducers,
/// aggregators, joiners and partitioners without a record context, and only a sink knows partition counts;
/// Ksml.Runtime is built against Streamiz 1.8.2, whose source these accessors were read from.
/// </summary>
internal static class StreamizTask
{
    private static readonly Assembly Streamiz = typeof(ProcessorContext).Assembly;

    private static readonly FieldInfo? CurrentTaskField = Streamiz
        .GetType("Streamiz.Kafka.Net.Processors.Internal.TaskManager")
        ?.GetField("_currentTask", BindingFlags.NonPublic | BindingFlags.Static);

    // The task's Context, declared public on its base class; looked up once, as partitioners ask for it per record.
    private static readonly PropertyInfo? TaskContextProperty =
        CurrentTaskField?.FieldType.GetProperty("Context", BindingFlags.Public | BindingFlags.Instance);

    private static readonly PropertyInfo? RecordContextProperty =
        typeof(ProcessorContext).GetProperty("RecordContext", BindingFlags.NonPublic | BindingFlags.Instance);

    private static readonly Func<ProcessorContext, string, int>? PartitionCount = CompilePartitionCount();

    /// <summary>The context of the task this thread is processing; null outside a task.</summary>
    public static ProcessorContext? CurrentContext() =>
        CurrentTaskField?.GetValue(null) is { } task ? TaskContextProperty?.GetValue(task) as ProcessorContext : null;

    /// <summary>The record the task this thread is processing is at; null outside a task.</summary>
    public static IRecordContext? CurrentRecord() => CurrentContext() is { } context ? RecordOf(context) : null;

    /// <summary>The number of partitions of <paramref name="topic"/>, as the sinks of <paramref name="context"/>'s task see it (Streamiz caches it per topic).</summary>
    /// <exception cref="InvalidOperationException">Streamiz changed.</exception>
    public static int PartitionsFor(ProcessorContext context, string topic) =>
        PartitionCount is { } count
            ? count(context, topic)
            : throw new InvalidOperationException($"The partition count of {topic} cannot be read from this Streamiz version; Ksml.Runtime is built against Streamiz 1.8.2.");

    private static readonly MethodInfo? SetRecordMethod =
        typeof(ProcessorContext).GetMethod("SetRecordMetaData", BindingFlags.NonPublic | BindingFlags.Instance, [typeof(IRecordContext)]);

    private static readonly PropertyInfo? CurrentProcessorProperty =
        typeof(ProcessorContext).GetProperty("CurrentProcessor", BindingFlags.NonPublic | BindingFlags.Instance);

    /// <summary>
    /// The task's own context behind the typed one Streamiz hands a transformer, which only reads through to it:
    /// forwarding later than the record arrived sets the record and the node on the task's context.
    /// </summary>
    public static ProcessorContext TaskContextOf(ProcessorContext typed) =>
        typed.GetType().GetField("context", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(typed) as ProcessorContext ?? typed;

    /// <summary>The record <paramref name="context"/> is at.</summary>
    public static IRecordContext? RecordOf(ProcessorContext context) => RecordContextProperty?.GetValue(context) as IRecordContext;

    /// <summary>The node <paramref name="context"/> is running.</summary>
    public static object? NodeOf(ProcessorContext context) => CurrentProcessorProperty?.GetValue(context);

    /// <summary>
    /// Runs <paramref name="forward"/> as if <paramref name="node"/> were processing <paramref name="record"/> again, so
    /// that what it forwards carries that record's timestamp, headers and coordinates and reaches that node's
    /// children; the context is put back after.
    /// </summary>
    public static void AsIf(ProcessorContext context, object node, IRecordContext record, Action forward)
    {
        if (SetRecordMethod is null || CurrentProcessorProperty is null)
            throw new InvalidOperationException("This Streamiz version cannot forward a record later than it arrived; Ksml.Runtime is built against Streamiz 1.8.2.");
        var savedRecord = RecordOf(context);
        var savedNode = NodeOf(context);
        SetRecordMethod.Invoke(context, [record]);
        CurrentProcessorProperty.SetValue(context, node);
        try
        {
            forward();
        }
        finally
        {
            if (savedRecord is not null)
                SetRecordMethod.Invoke(context, [savedRecord]);
            CurrentProcessorProperty.SetValue(context, savedNode);
        }
    }

    // (context, topic) => context.RecordCollector.PartitionsFor(topic), compiled once: it runs once per record.
    private static Func<ProcessorContext, string, int>? CompilePartitionCount()
    {
        var collector = typeof(ProcessorContext).GetProperty("RecordCollector", BindingFlags.NonPublic | BindingFlags.Instance);
        var partitionsFor = collector?.PropertyType.GetMethod("PartitionsFor", [typeof(string)]);
        if (collector is null || partitionsFor is null)
            return null;
        var context = Expression.Parameter(typeof(ProcessorContext), "context");
        var topic = Expression.Parameter(typeof(string), "topic");
        return Expression.Lambda<Func<ProcessorContext, string, int>>(
            Expression.Call(Expression.Property(context, collector), partitionsFor, topic), context, topic).Compile();
    }
}
