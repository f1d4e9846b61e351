using System.Diagnostics;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Observability;
using Ksml.Runtime.Values;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>
/// Compiles KSML functions into embedded CPython, once each, at topology build time. A syntax error
/// stops the build with the snippet's YAML <c>file:line:col</c>.
/// </summary>
public sealed unsafe class PythonFunctionFactory : IKsmlFunctionFactory
{
    private readonly ILoggerFactory _loggers;
    // As in KSML, the functions of one definition share one Python global namespace (their globalCode runs there);
    // each function is compiled once, however often it is asked for.
    private readonly Dictionary<string, nint> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<KsmlFunctionDefinition, IKsmlFunction> _created = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _gate = new();

    /// <summary>Environment variable that, set to <c>false</c>, runs every function in CPython, lowered ones included.</summary>
    public const string NativeVariable = "KSML_NATIVE";

    /// <summary>Whether functions the compiler lowered to C# run as C# (the default; see <see cref="NativeVariable"/>).</summary>
    public bool NativeEnabled { get; init; } =
        !string.Equals(Environment.GetEnvironmentVariable(NativeVariable), "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Creates the factory, starting Python (from <paramref name="options"/> or the environment) if needed.</summary>
    public PythonFunctionFactory(ILoggerFactory? loggers = null, PythonOptions? options = null)
    {
        _loggers = loggers ?? NullLoggerFactory.Instance;
        if (options is not null)
            PythonRuntime.Start(options);
        else
            PythonRuntime.EnsureStarted();
        if (options?.ModulePath is { Length: > 0 } modules)
        {
            if (!Directory.Exists(modules))
                throw new PythonStartupException($"The Python module directory '{modules}' (ksml.pythonContext.modulePath) does not exist.");
            PythonRuntime.AddModuleDirectory(modules);
        }
    }

    /// <inheritdoc />
    public IKsmlFunction Create(KsmlFunctionDefinition definition)
    {
        lock (_gate)
        {
            if (!_created.TryGetValue(definition, out var function))
            {
                // Compiled in CPython too: syntax and startup errors stay Python's, and it evaluates what the C# leaves to it.
                function = Compile(definition);
                if (definition.Native is { } native && NativeEnabled)
                    function = new Functions.Native.NativeFunction(native, function);
                _created[definition] = function;
            }
            return function;
        }
    }

    /// <summary>The globals shared by the functions of <paramref name="definition"/>, made on first use.</summary>
    private nint SharedNamespace(string definition)
    {
        if (_namespaces.TryGetValue(definition, out var shared))
            return shared;
        shared = DictNew();
        Set(shared, "__name__", PythonValues.ToPython($"ksml.{definition}"));
        // Helpers in globalCode may log; KSML has no module-level log, so this one is Ksml.NET's, named after the definition.
        Set(shared, "log", NewLogger($"{definition}.globalCode"));
        // KSML's globalCode registers metrics too (example 17: callCounter = metrics.counter(...)); they carry only the definition's tag.
        Set(shared, "metrics", NewMetrics([new("namespace", definition)]));
        // Every function (and helper) reaches the record's trace: trace.headers(), with trace.span(name).
        Set(shared, "trace", NewTrace());
        _namespaces[definition] = shared;
        return shared;
    }

    private IKsmlFunction Compile(KsmlFunctionDefinition definition)
    {
        using var gil = PythonRuntime.Acquire();
        SyncEnvironment();
        var shared = SharedNamespace(definition.Definition);
        var bindings = DictNew();
        try
        {
            Set(bindings, "log", NewLogger($"{definition.Definition}.function.{definition.Name}"));
            Set(bindings, "metrics", NewMetrics([new("namespace", definition.Definition), new("function", definition.Name)]));
            var stores = DictNew();
            foreach (var store in definition.Stores)
            {
                var proxy = NewStoreProxy(store);
                DictSetItem(stores, PythonValues.ToPython(store), proxy);
                // Also a global, so helpers in globalCode reach the store by name; every proxy of a store is alike.
                DictSetItem(shared, PythonValues.ToPython(store), proxy);
                Set(bindings, store, proxy);
            }
            Set(bindings, "stores", stores);

            var arguments = new object?[]
            {
                definition.SourcePath,
                definition.Name,
                (long)definition.Line,
                definition.FixedParameters.ToArray(),
                definition.Parameters.Select(p => (object?)new object?[] { p.Name, p.DefaultValue }).ToArray(),
                Code(definition.GlobalCode),
                Code(definition.Code),
                Code(definition.Expression),
            };
            var argv = stackalloc nint[arguments.Length + 2];
            for (var i = 0; i < arguments.Length; i++)
                argv[i] = PythonValues.ToPython(arguments[i]);
            argv[arguments.Length] = shared;
            argv[arguments.Length + 1] = bindings;
            var function = Vectorcall(PythonRuntime.BuildFunction, argv, (nuint)(arguments.Length + 2), 0);
            for (var i = 0; i < arguments.Length; i++)
                DecRef(argv[i]);
            if (function == 0)
            {
                var error = PythonErrors.Take();
                throw new KsmlFunctionException(definition.Name, error.File.Length > 0 ? error.File : definition.SourcePath,
                    error.Line > 0 ? error.Line : definition.Line, error.Column, error.Type, error.Message, error.Traceback, error.ClrException);
            }
            return new PythonFunction(definition, function);
        }
        finally
        {
            DecRef(bindings);
        }
    }

    /// <summary>Snippets read configuration (URLs, credentials) from the environment at build time; it must be the one .NET sees.</summary>
    private static void SyncEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        var dict = PythonValues.ToPython(variables);
        var result = PythonErrors.CallObjectOne(PythonRuntime.SyncEnvironment, dict);
        DecRef(dict);
        if (result == 0)
            throw new PythonBridgeException("The environment could not be passed to Python: " + PythonErrors.Take().Describe());
        DecRef(result);
    }

    private static object? Code(PythonCode? code) => code is null ? null : new object?[] { code.Text, (long)code.Line, (long)Math.Max(1, code.Column) };

    private static void Set(nint dict, string name, nint value)
    {
        var key = PythonValues.ToPython(name);
        DictSetItem(dict, key, value);
        DecRef(key);
        DecRef(value);
    }

    private nint NewLogger(string category)
    {
        var logger = _loggers.CreateLogger(category);
        // The lowest enabled level, read once: a disabled log call then costs one comparison in Python.
        var level = Enum.GetValues<LogLevel>().Where(l => l != LogLevel.None).FirstOrDefault(logger.IsEnabled, LogLevel.None);
        var argv = stackalloc nint[2];
        argv[0] = PythonCallbacks.LogEmitter(logger);
        argv[1] = LongFromLongLong((long)level);
        var instance = Vectorcall(PythonRuntime.LoggerClass, argv, 2, 0);
        DecRef(argv[0]);
        DecRef(argv[1]);
        return instance != 0 ? instance : throw new PythonBridgeException("log could not be created: " + PythonErrors.Take().Describe());
    }

    private static nint NewTrace()
    {
        var (headers, start, stop) = PythonCallbacks.TraceBuiltins();
        var argv = stackalloc nint[3];
        (argv[0], argv[1], argv[2]) = (headers, start, stop);
        var instance = Vectorcall(PythonRuntime.TraceClass, argv, 3, 0);
        DecRef(headers);
        DecRef(start);
        DecRef(stop);
        return instance != 0 ? instance : throw new PythonBridgeException("trace could not be created: " + PythonErrors.Take().Describe());
    }

    private static nint NewMetrics(KeyValuePair<string, object?>[] tags)
    {
        var registrar = PythonCallbacks.MetricRegistrar(tags);
        var instance = PythonErrors.CallObjectOne(PythonRuntime.MetricsClass, registrar);
        DecRef(registrar);
        return instance != 0 ? instance : throw new PythonBridgeException("metrics could not be created: " + PythonErrors.Take().Describe());
    }

    private static readonly (string Name, StoreOperation Operation)[] StoreApi =
    [
        ("get", StoreOperation.Get), ("put", StoreOperation.Put), ("putIfAbsent", StoreOperation.PutIfAbsent),
        ("delete", StoreOperation.Delete), ("all", StoreOperation.All), ("approximateNumEntries", StoreOperation.ApproximateNumEntries),
        ("fetch", StoreOperation.Fetch), ("fetchAll", StoreOperation.FetchAll),
        ("findSessions", StoreOperation.FindSessions), ("fetchSession", StoreOperation.FetchSession), ("remove", StoreOperation.Remove),
    ];

    private static nint NewStoreProxy(string store)
    {
        var methods = DictNew();
        foreach (var (name, operation) in StoreApi)
            Set(methods, name, PythonCallbacks.StoreMethod(store, operation));
        var argv = stackalloc nint[2];
        argv[0] = PythonValues.ToPython(store);
        argv[1] = methods;
        var proxy = Vectorcall(PythonRuntime.MakeStore, argv, 2, 0);
        DecRef(argv[0]);
        DecRef(methods);
        return proxy != 0 ? proxy : throw new PythonBridgeException("store proxy could not be created: " + PythonErrors.Take().Describe());
    }
}

/// <summary>A compiled KSML function: one Python function object, called with raw C-API conversions.</summary>
internal sealed unsafe class PythonFunction(KsmlFunctionDefinition definition, nint callable) : IKsmlFunction
{
    private readonly KeyValuePair<string, object?>[] _tags = [new("namespace", definition.Definition), new("function", definition.Name)];
    private readonly long? _timeoutMs = definition.Resilience?.TimeoutMs;

    public KsmlFunctionDefinition Definition => definition;

    public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments)
    {
        // Timed only while a metrics listener (the Prometheus exporter) listens: two clock reads per call otherwise.
        var started = KsmlMetrics.FunctionDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        var argv = stackalloc nint[Math.Max(1, arguments.Length)];
        var converted = 0;
        using var gil = PythonRuntime.Acquire();
        var previousStores = PythonCallbacks.CurrentStores;
        PythonCallbacks.CurrentStores = stores;
        try
        {
            for (; converted < arguments.Length; converted++)
                argv[converted] = PythonValues.ToPython(arguments[converted]);
            nint result;
            var timedOut = false;
            if (_timeoutMs is { } timeout)
            {
                using var watchdog = new CallWatchdog(timeout);
                result = Vectorcall(callable, argv, (nuint)arguments.Length, 0);
                timedOut = watchdog.Fired;
            }
            else
                result = Vectorcall(callable, argv, (nuint)arguments.Length, 0);
            if (result == 0)
            {
                var error = PythonErrors.Take();
                if (timedOut && error.Type == "TimeoutError" && error.Message.Length == 0)
                    error = error with { Message = $"the call took longer than its {_timeoutMs} ms timeout (resilience.timeout)" };
                throw Failed(error);
            }
            try
            {
                return PythonValues.ToClr(result);
            }
            finally
            {
                DecRef(result);
            }
        }
        catch (KsmlTypeException ex)
        {
            KsmlMetrics.FunctionErrors.Add(1, [.. _tags, new("error", "TypeError")]);
            throw new KsmlFunctionException(definition.Name, definition.SourcePath, definition.Line, 0, "TypeError", ex.Message, null, ex);
        }
        finally
        {
            for (var i = 0; i < converted; i++)
                DecRef(argv[i]);
            PythonCallbacks.CurrentStores = previousStores;
            if (started != 0)
            {
                KsmlMetrics.FunctionCalled(definition, _tags[0], _tags[1], Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private KsmlFunctionException Failed(PythonError error)
    {
        KsmlMetrics.FunctionErrors.Add(1, [.. _tags, new("error", error.Type)]);
        var located = error.File.Length > 0;
        return new KsmlFunctionException(definition.Name, located ? error.File : definition.SourcePath, located ? error.Line : definition.Line,
            0, error.Type, error.Message, error.Traceback, error.ClrException) { ErrorTypeHierarchy = error.Hierarchy.Split(',', StringSplitOptions.RemoveEmptyEntries) };
    }
}
