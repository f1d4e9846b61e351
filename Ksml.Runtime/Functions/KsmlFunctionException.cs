namespace Ksml.Runtime.Functions;

/// <summary>
/// A KSML function failed: a Python exception, a result of the wrong type, or a .NET failure in a
/// callback (a store, the logger). Carries the YAML location so the error policy and the logs point
/// at the line a user has to fix.
/// </summary>
public sealed class KsmlFunctionException : Exception
{
    /// <summary>Creates the exception; the message starts with <c>file:line</c>.</summary>
    public KsmlFunctionException(string function, string sourcePath, int line, int column, string errorType, string errorMessage, string? pythonTraceback, Exception? inner = null)
        : base(Format(function, sourcePath, line, column, errorType, errorMessage), inner)
    {
        Function = function;
        SourcePath = sourcePath;
        Line = line;
        Column = column;
        ErrorType = errorType;
        ErrorMessage = errorMessage;
        PythonTraceback = pythonTraceback;
    }

    /// <summary>The KSML function's name.</summary>
    public string Function { get; }

    /// <summary>The YAML file.</summary>
    public string SourcePath { get; }

    /// <summary>The YAML line (of the innermost Python frame in the definition, or the function's definition).</summary>
    public int Line { get; }

    /// <summary>The YAML column, when known (syntax errors); 0 otherwise.</summary>
    public int Column { get; }

    /// <summary>The Python exception type (<c>KeyError</c>) or the .NET one.</summary>
    public string ErrorType { get; }

    /// <summary>The exception's own message, without location.</summary>
    public string ErrorMessage { get; }

    /// <summary>Python's traceback, whose lines are YAML lines; null when Python was not involved.</summary>
    public string? PythonTraceback { get; }

    /// <summary>The error type and its base classes (Python's MRO), so a policy on ConnectionError also takes its subclasses.</summary>
    public IReadOnlyList<string> ErrorTypeHierarchy { get; init; } = [];

    /// <summary>Whether the error is of the named type or a subclass of it.</summary>
    public bool IsOfType(string name) => ErrorType == name || ErrorTypeHierarchy.Contains(name) || (name.Contains('.') && IsOfType(name[(name.LastIndexOf('.') + 1)..]));

    private static string Format(string function, string path, int line, int column, string type, string message) =>
        $"{path}:{line}{(column > 0 ? ":" + column : "")}: function '{function}' failed with {type}: {message}";

    /// <inheritdoc />
    public override string ToString() => PythonTraceback is null ? base.ToString() : Message + Environment.NewLine + PythonTraceback;
}
