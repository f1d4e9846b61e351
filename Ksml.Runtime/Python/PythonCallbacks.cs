using System.Diagnostics;
using System.Runtime.InteropServices;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Observability;
using Microsoft.Extensions.Logging;
using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>
/// What Python calls back into: state stores, the logger and metrics, as raw CPython builtins.
/// They run with the GIL held (no pythonnet marshalling that would drop it) and turn a .NET failure
/// into a Python RuntimeError, so the traceback still shows the YAML line that made the call.
/// Each builtin's <c>self</c> is an int naming its target in the tables below; the tables only
/// change with the GIL held, which serialises them.
/// </summary>
internal static unsafe class PythonCallbacks
{
    /// <summary>The stores of the processor whose record this thread is processing.</summary>
    [ThreadStatic] internal static IKsmlStoreProvider? CurrentStores;

    private static readonly List<(string Store, StoreOperation Operation)> StoreMethods = [];
    private static readonly List<ILogger> Loggers = [];
    private static readonly List<KeyValuePair<string, object?>[]> MetricOwners = [];
    private static readonly List<Action<double>> Instruments = [];

    private static readonly nint StoreDef = MethodDef("ksml_store_method", &CallStore);
    private static readonly nint LogDef = MethodDef("ksml_log", &Log);
    private static readonly nint RegisterMetricDef = MethodDef("ksml_register_metric", &RegisterMetric);
    private static readonly nint RecordMetricDef = MethodDef("ksml_record_metric", &RecordMetric);

    private static nint MethodDef(string name, delegate* unmanaged<nint, nint*, nint, nint> function)
    {
        // PyMethodDef { const char* ml_name; PyCFunction ml_meth; int ml_flags; const char* ml_doc; }, kept for the process.
        var def = (nint*)NativeMemory.AllocZeroed(4, (nuint)sizeof(nint));
        def[0] = (nint)PermanentUtf8(name);
        def[1] = (nint)function;
        *(int*)&def[2] = MethFastCall;
        return (nint)def;
    }

    private static nint Builtin(nint def, int id)
    {
        var self = LongFromLongLong(id);
        var function = CFunctionNewEx(def, self, 0);
        DecRef(self);
        return function != 0 ? function : throw new PythonBridgeException("Python could not create a builtin.");
    }

    /// <summary>A builtin calling <paramref name="operation"/> on the current processor's store <paramref name="store"/>.</summary>
    public static nint StoreMethod(string store, StoreOperation operation)
    {
        StoreMethods.Add((store, operation));
        return Builtin(StoreDef, StoreMethods.Count - 1);
    }

    /// <summary>A builtin <c>emit(level, text)</c> writing to <paramref name="logger"/>.</summary>
    public static nint LogEmitter(ILogger logger)
    {
        Loggers.Add(logger);
        return Builtin(LogDef, Loggers.Count - 1);
    }

    /// <summary>A builtin <c>register(kind, name, tags)</c> creating instruments tagged with <paramref name="ownerTags"/>.</summary>
    public static nint MetricRegistrar(KeyValuePair<string, object?>[] ownerTags)
    {
        MetricOwners.Add(ownerTags);
        return Builtin(RegisterMetricDef, MetricOwners.Count - 1);
    }

    private static int Id(nint self) => (int)LongAsLongLong(self);

    [UnmanagedCallersOnly]
    private static nint CallStore(nint self, nint* args, nint count)
    {
        try
        {
            var (name, operation) = StoreMethods[Id(self)];
            var provider = CurrentStores ?? throw new InvalidOperationException($"Store '{name}' is used outside a record of the processor that owns it.");
            using var span = Activity.Current is null ? null : KsmlTracing.Source.StartActivity(name + "." + operation);
            try
            {
                span?.SetTag("ksml.store", name);
                var arguments = new object?[count];
                for (var i = 0; i < count; i++)
                    arguments[i] = PythonValues.ToClr(args[i]);
                return PythonValues.ToPython(StoreAdapter.For(provider.GetStore(name)).Call(operation, arguments));
            }
            catch (Exception ex)
            {
                KsmlTracing.Fail(span, ex);
                throw;
            }
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    /// <summary>The spans Python opened with <c>trace.span(name)</c> on this thread, innermost last (a <c>with</c> block closes in order).</summary>
    [ThreadStatic] private static Stack<Activity?>? _pythonSpans;

    private static readonly nint TraceHeadersDef = MethodDef("ksml_trace_headers", &TraceHeaders);
    private static readonly nint TraceStartDef = MethodDef("ksml_trace_start", &TraceStart);
    private static readonly nint TraceStopDef = MethodDef("ksml_trace_stop", &TraceStop);

    /// <summary>The builtins of Python's <c>trace</c>: <c>headers()</c>, <c>start(name)</c> and <c>stop(error type or None)</c>.</summary>
    public static (nint Headers, nint Start, nint Stop) TraceBuiltins() => (Builtin(TraceHeadersDef, 0), Builtin(TraceStartDef, 0), Builtin(TraceStopDef, 0));

    [UnmanagedCallersOnly]
    private static nint TraceHeaders(nint self, nint* args, nint count)
    {
        try
        {
            return PythonValues.ToPython(KsmlTracing.CurrentHeaders());
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static nint TraceStart(nint self, nint* args, nint count)
    {
        try
        {
            if (count != 1)
                throw new ArgumentException("trace.span(name)");
            var name = PythonValues.ToClr(args[0])?.ToString() ?? "span";
            (_pythonSpans ??= new()).Push(KsmlTracing.Source.StartActivity(name));
            return NewRef(None);
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static nint TraceStop(nint self, nint* args, nint count)
    {
        try
        {
            if (_pythonSpans is { Count: > 0 } spans && spans.Pop() is { } span)
            {
                if (count == 1 && PythonValues.ToClr(args[0]) is string errorType)
                    KsmlTracing.Fail(span, errorType);
                span.Dispose();
            }
            return NewRef(None);
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static nint Log(nint self, nint* args, nint count)
    {
        try
        {
            if (count != 2)
                throw new ArgumentException("emit(level, text)");
            var level = (LogLevel)LongAsLongLong(args[0]);
            var text = (string?)PythonValues.ToClr(args[1]) ?? "";
            Loggers[Id(self)].Log(level, "{Message}", text);
            return NewRef(None);
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static nint RegisterMetric(nint self, nint* args, nint count)
    {
        try
        {
            if (count != 3)
                throw new ArgumentException("register(kind, name, tags)");
            var kind = (int)LongAsLongLong(args[0]);
            var name = (string)PythonValues.ToClr(args[1])!;
            var tags = MetricOwners[Id(self)].Concat(((object?[])PythonValues.ToClr(args[2])!)
                .Cast<object?[]>().Select(t => new KeyValuePair<string, object?>((string)t[0]!, t[1]))).ToArray();
            Instruments.Add(KsmlMetrics.UserInstrument(kind, name, tags));
            return Builtin(RecordMetricDef, Instruments.Count - 1);
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static nint RecordMetric(nint self, nint* args, nint count)
    {
        try
        {
            if (count != 1)
                throw new ArgumentException("record(value)");
            var value = PythonValues.ToClr(args[0]) switch
            {
                long l => l,
                double d => d,
                var other => throw new ArgumentException($"A metric value must be a number, got {other?.GetType().Name ?? "None"}."),
            };
            Instruments[Id(self)](value);
            return NewRef(None);
        }
        catch (Exception ex)
        {
            PythonErrors.Raise(ex);
            return 0;
        }
    }
}
