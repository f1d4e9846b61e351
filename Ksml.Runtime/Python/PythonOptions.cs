namespace Ksml.Runtime.Python;

/// <summary>Where the embedded CPython comes from. Defaults fit Debian 12's python3.11 packages.</summary>
public sealed record PythonOptions
{
    /// <summary>Environment variable overriding <see cref="Library"/>.</summary>
    public const string LibraryVariable = "KSML_PYTHON_LIBRARY";

    /// <summary>Environment variable overriding <see cref="Executable"/>.</summary>
    public const string ExecutableVariable = "KSML_PYTHON_EXECUTABLE";

    /// <summary>The libpython shared library.</summary>
    public string Library { get; init; } = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";

    /// <summary>
    /// The python executable the interpreter takes its prefix (and so its standard library and
    /// dist-packages) from; without it CPython searches PATH and may pick up a pyenv shim.
    /// </summary>
    public string Executable { get; init; } = "/usr/bin/python3";

    /// <summary>A directory of Python modules put first on the import path (KSML's <c>pythonContext.modulePath</c>), or null.</summary>
    public string? ModulePath { get; init; }

    /// <summary>
    /// GraalPy sandbox switches the runner file sets to false (e.g. <c>allowHostFileAccess</c>). CPython has no
    /// sandbox, so none is enforced; the application warns at start that they restrict nothing.
    /// </summary>
    public IReadOnlyList<string> UnenforcedRestrictions { get; init; } = [];

    /// <summary>The defaults, with <c>KSML_PYTHON_LIBRARY</c>/<c>KSML_PYTHON_EXECUTABLE</c> applied.</summary>
    public static PythonOptions FromEnvironment()
    {
        var options = new PythonOptions();
        if (Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } library)
            options = options with { Library = library };
        if (Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } executable)
            options = options with { Executable = executable };
        return options;
    }
}
