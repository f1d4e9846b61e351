using System.Diagnostics;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Observability;

namespace Ksml.Runtime.Functions.Native;

/// <summary>
/// A function whose expression the compiler lowered to C# (<see cref="KsmlFunctionDefinition.Native"/>): each call
/// runs the C#, and a record the C# cannot decide exactly (<see cref="PythonSemantics.PythonDecides"/>, or any
/// other exception) is evaluated again by the CPython function, which gives Python's result or raises Python's
/// exception. The expression is pure, so evaluating it twice is invisible.
/// </summary>
public sealed class NativeFunction : IKsmlFunction
{
    private readonly KsmlNativeExpression _native;
    private readonly IKsmlFunction _python;
    private long _calls, _inPython;

    /// <summary>Runs <paramref name="native"/>, with <paramref name="python"/> (the same function in CPython) for the records it leaves to Python.</summary>
    public NativeFunction(KsmlNativeExpression native, IKsmlFunction python)
    {
        _native = native;
        _python = python;
    }

    /// <inheritdoc />
    public KsmlFunctionDefinition Definition => _python.Definition;

    /// <summary>Calls so far, and how many of them CPython evaluated.</summary>
    public (long Calls, long InPython) Counts => (Interlocked.Read(ref _calls), Interlocked.Read(ref _inPython));

    /// <inheritdoc />
    public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments)
    {
        Interlocked.Increment(ref _calls);
        // Timed like a Python call (ksml_execution_time and Ksml.NET's histogram), only while a listener listens.
        var started = KsmlMetrics.FunctionDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        object? result;
        try
        {
            result = _native(arguments);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _inPython);
            return _python.Invoke(stores, arguments); // the Python call times itself
        }
        if (started != 0)
        {
            var definition = Definition;
            KsmlMetrics.FunctionCalled(definition, new("namespace", definition.Definition), new("function", definition.Name),
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return result;
    }
}
