using Ksml.Runtime.Python;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>The failure modes of embedding CPython that crash or slow a process, pinned down.</summary>
public sealed class LifecycleTests
{
    [Test]
    public void Python_starts_once_and_a_second_start_with_the_same_options_is_harmless()
    {
        _ = Factory;
        Assert.DoesNotThrow(() => PythonRuntime.Start(PythonRuntime.Options!));
    }

    [Test]
    public void Restarting_from_another_python_is_refused_because_cpython_cannot_be_reinitialised()
    {
        _ = Factory;
        var other = PythonRuntime.Options! with { Executable = "/bin/sh" };

        var error = Assert.Throws<PythonStartupException>(() => PythonRuntime.Start(other))!;

        Assert.That(error.Message, Does.Contain("starts once per process"));
    }

    [Test]
    public void A_missing_library_is_named_together_with_the_executable()
    {
        var error = Assert.Throws<PythonStartupException>(() => PythonRuntime.Start(new PythonOptions { Library = "/nowhere/libpython3.so", Executable = "/usr/bin/python3" }))!;

        Assert.That(error.Message, Is.EqualTo("The Python library '/nowhere/libpython3.so' does not exist (python executable: '/usr/bin/python3'). Install it (Debian: apt-get install libpython3.11) or set KSML_PYTHON_LIBRARY."));
    }

    [Test]
    public void A_missing_executable_is_named_together_with_the_library()
    {
        var error = Assert.Throws<PythonStartupException>(() => PythonRuntime.Start(new PythonOptions { Executable = "/nowhere/python3" }))!;

        Assert.That(error.Message, Does.StartWith("The Python executable '/nowhere/python3' does not exist (library: '/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0')"));
    }

    [Test]
    public void The_interpreter_is_the_system_python_not_a_path_shim()
    {
        var f = Create(Definition("which_python", "valueTransformer", ["key", "value"], globalCode: "import sys", expression: "[sys.executable, sys.version_info[:2]]", resultType: "any"));

        var result = (List<object?>)f.Invoke(null, null, null)!;

        Assert.That(result[0], Is.EqualTo("/usr/bin/python3"));
    }

    [Test]
    public void A_worker_thread_keeps_one_thread_state_for_all_its_calls()
    {
        var f = Create(Definition("pinned", "valueTransformer", ["key", "value"], expression: "value + 1", resultType: "long"));
        nint first = 0, last = 0;
        var pinned = false;

        var thread = new Thread(() =>
        {
            f.Invoke(null, null, 1L);
            first = PythonRuntime.CurrentThreadState;
            for (var i = 0; i < 1000; i++)
                f.Invoke(null, null, (long)i);
            last = PythonRuntime.CurrentThreadState;
            pinned = PythonRuntime.IsThreadPinned;
        });
        thread.Start();
        thread.Join();

        Assert.That(pinned, Is.True);
        Assert.That(first, Is.Not.Zero, "without a pinned state every call creates and destroys one");
        Assert.That(last, Is.EqualTo(first));
    }

    [Test]
    public void Two_threads_calling_python_at_once_get_their_own_correct_results()
    {
        var f = Create(Definition("concurrent", "valueTransformer", ["key", "value"],
            globalCode: "import threading", expression: "(key, value * 2, threading.get_ident())", resultType: "any"));
        var failures = 0;

        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (var i = 0; i < 5000; i++)
            {
                var result = (object?[])f.Invoke(null, $"t{t}", (long)i)!;
                if (!Equals(result[0], $"t{t}") || !Equals(result[1], 2L * i))
                    Interlocked.Increment(ref failures);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(failures, Is.Zero);
    }

    [Test]
    public void Callbacks_into_dotnet_from_two_threads_keep_the_gil_and_do_not_crash()
    {
        // pythonnet's own method binding drops the GIL around a .NET call, and a callback that then
        // touches Python objects crashes the process (the note's 'stack smashing'). The runtime's
        // log, metrics and store callbacks are raw builtins that keep it; this runs them hard at once.
        using var logs = new Support.CapturingLoggerFactory(Microsoft.Extensions.Logging.LogLevel.Information);
        var f = new PythonFunctionFactory(logs).Create(Definition("chatty", "forEach", ["key", "value"], resultType: null,
            code: "log.info('{} {}', key, {'nested': [value, str(value)]})\nmetrics.counter('chatty_calls').increment()"));

        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            for (var i = 0; i < 3000; i++)
                f.Invoke(null, $"t{t}", (long)i);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(logs.Lines, Has.Count.EqualTo(6000));
        Assert.That(logs.Lines, Has.Some.Matches<(string, Microsoft.Extensions.Logging.LogLevel, string Message)>(l => l.Message == "t1 {'nested': [2999, '2999']}"));
    }
}
