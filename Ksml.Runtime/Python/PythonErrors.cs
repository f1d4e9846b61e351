using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>A Python exception, described by ksml_bridge.describe_error while the GIL is held.</summary>
internal sealed record PythonError(string Type, string Message, string File, int Line, int Column, string Function, string Traceback, Exception? ClrException, string Hierarchy = "")
{
    public string Describe() => $"{Type}: {Message}" + (File.Length > 0 ? $" ({File}:{Line})" : "");
}

/// <summary>Takes Python's pending exception and turns it into data .NET can keep.</summary>
internal static unsafe class PythonErrors
{
    /// <summary>A .NET exception a callback turned into a Python RuntimeError, kept to be the inner exception.</summary>
    [ThreadStatic] internal static Exception? PendingClrException;

    public static PythonError Take()
    {
        nint type, value, traceback;
        ErrFetch(&type, &value, &traceback);
        var clr = PendingClrException;
        PendingClrException = null;
        if (type == 0)
            return new PythonError("SystemError", "Python reported a failure without an exception", "", 0, 0, "", "", clr);
        ErrNormalizeException(&type, &value, &traceback);
        if (traceback != 0 && value != 0)
            ExceptionSetTraceback(value, traceback);
        try
        {
            if (PythonRuntime.DescribeError == 0 || value == 0)
                return new PythonError("Exception", "(Python error before the bridge loaded)", "", 0, 0, "", "", clr);
            var described = CallObjectOne(PythonRuntime.DescribeError, value);
            if (described == 0)
            {
                ErrClear();
                return new PythonError("Exception", "(the error could not be described)", "", 0, 0, "", "", clr);
            }
            try
            {
                var parts = (object?[])PythonValues.ToClr(described)!;
                return new PythonError((string)parts[0]!, (string)parts[1]!, (string)parts[2]!, (int)(long)parts[3]!, (int)(long)parts[4]!,
                    (string)parts[5]!, (string)parts[6]!, clr, (string)parts[7]!);
            }
            finally { DecRef(described); }
        }
        finally
        {
            if (type != 0) DecRef(type);
            if (value != 0) DecRef(value);
            if (traceback != 0) DecRef(traceback);
        }
    }

    /// <summary>Calls <paramref name="callable"/> with one argument; a new reference or 0 with an error set.</summary>
    public static nint CallObjectOne(nint callable, nint argument)
    {
        var args = stackalloc nint[1];
        args[0] = argument;
        return Vectorcall(callable, args, 1, 0);
    }

    /// <summary>Sets a Python RuntimeError for a .NET failure in a callback, keeping the .NET exception.</summary>
    public static void Raise(Exception exception)
    {
        PendingClrException = exception;
        var message = System.Text.Encoding.UTF8.GetBytes($"{exception.GetType().Name}: {exception.Message}\0");
        fixed (byte* p = message)
            ErrSetString(RuntimeError, p);
    }
}
