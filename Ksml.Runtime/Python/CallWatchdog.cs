using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>
/// A function's <c>resilience.timeout</c>: when a call runs too long, a Python TimeoutError is
/// raised inside it (CPython's PyThreadState_SetAsyncExc), at the next bytecode it runs. Code
/// blocked in C (a socket read) sees it when that returns, so snippets should still give their
/// clients a timeout; this bounds everything else, loops and retries in Python included.
/// </summary>
internal sealed unsafe class CallWatchdog : IDisposable
{
    private readonly nuint _thread;
    private readonly Timer _timer;
    private bool _active = true;

    /// <summary>Arms the watchdog for the calling thread, which holds the GIL.</summary>
    public CallWatchdog(long timeoutMs)
    {
        _thread = ThreadGetIdent();
        _timer = new Timer(_ => Fire(), null, timeoutMs, Timeout.Infinite);
    }

    /// <summary>Whether the timeout was raised in the call.</summary>
    public bool Fired { get; private set; }

    private void Fire()
    {
        // Taking the GIL means the call is either paused between bytecodes or over; _active tells which,
        // and only the GIL holder reads or writes it.
        var gil = GILStateEnsure();
        try
        {
            if (_active)
            {
                ThreadStateSetAsyncExc(_thread, TimeoutError);
                Fired = true;
            }
        }
        finally
        {
            GILStateRelease(gil);
        }
    }

    /// <summary>Disarms the watchdog; called with the GIL held when the call returns.</summary>
    public void Dispose()
    {
        _active = false;
        _timer.Dispose();
        // A timeout raised just as the call returned would otherwise surface in the thread's next call.
        if (Fired)
            ThreadStateSetAsyncExc(_thread, 0);
    }
}
