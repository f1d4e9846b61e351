using System.Text.RegularExpressions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.ErrorHandling;

/// <summary>
/// Keeps records' contents out of logs, error messages and dead-letter headers unless the stage's
/// <c>logPayload</c> is true, as in KSML. Type errors name types only; Python's messages quote the
/// values they failed on (<c>KeyError: 'card-4111…'</c>, <c>invalid literal for int(): 'x'</c>), so their
/// quoted literals are masked.
/// </summary>
internal static partial class Payloads
{
    /// <summary>What stands where a quoted value was.</summary>
    public const string Mask = "'…'";

    [GeneratedRegex(@"b?'(?:[^'\\]|\\.)*'|b?""(?:[^""\\]|\\.)*""")]
    private static partial Regex Quoted();

    /// <summary><paramref name="text"/> with every quoted literal masked.</summary>
    public static string Redact(string text) => Quoted().Replace(text, Mask);

    /// <summary>The failure's message as it may be shown: whole with <paramref name="logPayload"/>, else without values.</summary>
    public static string MessageOf(Exception error, bool logPayload)
    {
        for (var e = error; e is not null; e = e.InnerException)
            switch (e)
            {
                case KsmlFunctionException f:
                    return logPayload ? f.ErrorMessage : Redact(f.ErrorMessage);
                case KsmlTypeException t:
                    return logPayload ? t.WithPayload : t.Message;
            }
        return logPayload ? error.Message : Redact(error.Message);
    }

    /// <summary>The Python traceback of the failure, if any, with its exception line masked unless <paramref name="logPayload"/>.</summary>
    public static string? TracebackOf(Exception error, bool logPayload)
    {
        for (var e = error; e is not null; e = e.InnerException)
            if (e is KsmlFunctionException { PythonTraceback: { } traceback } f)
                return logPayload || f.ErrorMessage.Length == 0 ? traceback : traceback.Replace(f.ErrorMessage, Redact(f.ErrorMessage), StringComparison.Ordinal);
        return null;
    }
}
