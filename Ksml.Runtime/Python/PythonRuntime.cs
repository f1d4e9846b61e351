using System.Text;
using Python.Runtime;
using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>
/// The process's one embedded CPython. Started once (CPython cannot be re-initialised on .NET 10
/// after a shutdown, so it never shuts down); every thread that runs Python keeps its own pinned
/// thread state, and the GIL is held only while Python runs.
/// </summary>
public static unsafe class PythonRuntime
{
    private static readonly object StartLock = new();
    private static PythonOptions? _started;

    [ThreadStatic] private static bool _threadPinned;

    internal static nint BuildFunction, DescribeError, LoggerClass, MetricsClass, TraceClass, MakeStore, SyncEnvironment, AddModulePath;

    /// <summary>The options Python was started with, or null before <see cref="Start"/>.</summary>
    public static PythonOptions? Options => _started;

    /// <summary>Starts Python, or checks that the running one is the one asked for.</summary>
    /// <exception cref="PythonStartupException">The library or executable is missing, or a different Python already runs.</exception>
    public static void Start(PythonOptions options)
    {
        if (!File.Exists(options.Library))
            throw new PythonStartupException(
                $"The Python library '{options.Library}' does not exist (python executable: '{options.Executable}'). Install it (Debian: apt-get install libpython3.11) or set {PythonOptions.LibraryVariable}.");
        if (!File.Exists(options.Executable))
            throw new PythonStartupException(
                $"The Python executable '{options.Executable}' does not exist (library: '{options.Library}'). Install python3 or set {PythonOptions.ExecutableVariable}.");
        lock (StartLock)
        {
            if (_started is not null)
            {
                if (_started.Library != options.Library || _started.Executable != options.Executable)
                    throw new PythonStartupException(
                        $"Python already runs from '{_started.Library}' ({_started.Executable}) and starts once per process; it cannot be restarted from '{options.Library}' ({options.Executable}).");
                return;
            }

            // User site-packages would make a function's imports depend on who runs the service.
            Environment.SetEnvironmentVariable("PYTHONNOUSERSITE", "1");
            try
            {
                global::Python.Runtime.Runtime.PythonDLL = options.Library;
                PythonEngine.ProgramName = options.Executable;
                PythonEngine.Initialize();
            }
            catch (Exception ex)
            {
                throw new PythonStartupException($"Python could not start from '{options.Library}' (python executable: '{options.Executable}'): {ex.Message}", ex);
            }
            Bind(options.Library);
            LoadBridge();
            // The starting thread keeps its thread state, like every other thread that runs Python.
            PythonEngine.BeginAllowThreads();
            _threadPinned = true;
            _started = options;
        }
    }

    /// <summary>Starts Python with <see cref="PythonOptions.FromEnvironment"/> unless it runs already.</summary>
    public static void EnsureStarted()
    {
        if (_started is null)
            Start(PythonOptions.FromEnvironment());
    }

    /// <summary>
    /// Puts <paramref name="directory"/> first on Python's import path, once (KSML's <c>modulePath</c>, a
    /// test suite's <c>moduleDirectory</c>), so snippets can import the modules kept there.
    /// </summary>
    public static void AddModuleDirectory(string directory)
    {
        EnsureStarted();
        using var gil = Acquire();
        var path = PythonValues.ToPython(Path.GetFullPath(directory));
        var result = PythonErrors.CallObjectOne(AddModulePath, path);
        DecRef(path);
        if (result == 0)
            throw new PythonBridgeException($"'{directory}' could not be added to Python's module path: " + PythonErrors.Take().Describe());
        DecRef(result);
    }

    /// <summary>Whether the calling thread has its own pinned Python thread state.</summary>
    public static bool IsThreadPinned => _threadPinned;

    /// <summary>The calling thread's Python thread state (0 when it has none); stable once pinned.</summary>
    public static nint CurrentThreadState => _started is null ? 0 : GILStateGetThisThreadState();

    /// <summary>
    /// Takes the GIL for the calling thread. The first call on a thread creates a thread state and
    /// keeps it for the thread's life: without it every call would create and destroy one (an
    /// mmap/munmap each, 3.5× the cost per record).
    /// </summary>
    internal static Gil Acquire()
    {
        if (!_threadPinned)
        {
            GILStateEnsure();
            EvalSaveThread();
            _threadPinned = true;
        }
        return new Gil(GILStateEnsure());
    }

    internal readonly struct Gil(int state) : IDisposable
    {
        public void Dispose() => GILStateRelease(state);
    }

    private static void LoadBridge()
    {
        using var stream = typeof(PythonRuntime).Assembly.GetManifestResourceStream("Ksml.Runtime.Python.ksml_bridge.py")
            ?? throw new PythonStartupException("The runtime's ksml_bridge.py resource is missing.");
        var source = new StreamReader(stream).ReadToEnd();
        var name = PermanentUtf8("ksml_bridge");
        var file = PermanentUtf8("ksml_bridge.py");
        var text = Encoding.UTF8.GetBytes(source + "\0");
        nint module;
        fixed (byte* p = text)
        {
            var code = CompileString(p, file, FileInput);
            if (code == 0)
                throw new PythonStartupException("ksml_bridge.py does not compile: " + PythonErrors.Take().Describe());
            module = ImportExecCodeModuleEx(name, code, file);
            DecRef(code);
        }
        if (module == 0)
            throw new PythonStartupException("ksml_bridge.py failed to load: " + PythonErrors.Take().Describe());
        nint Attribute(string attribute)
        {
            var value = ObjectGetAttrString(module, PermanentUtf8(attribute));
            return value != 0 ? value : throw new PythonStartupException($"ksml_bridge.py has no '{attribute}'.");
        }
        BuildFunction = Attribute("build_function");
        DescribeError = Attribute("describe_error");
        LoggerClass = Attribute("Logger");
        MetricsClass = Attribute("Metrics");
        TraceClass = Attribute("Trace");
        MakeStore = Attribute("make_store");
        SyncEnvironment = Attribute("sync_environment");
        AddModulePath = Attribute("add_module_path");
    }
}

/// <summary>Python could not be started; the message names the library and the executable.</summary>
public sealed class PythonStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PythonStartupException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The bridge itself failed (out of memory in Python, a value it cannot convert).</summary>
public sealed class PythonBridgeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PythonBridgeException(string message) : base(message) { }
}
