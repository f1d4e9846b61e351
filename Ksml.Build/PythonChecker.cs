using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Ksml.Compiler;
using Ksml.Compiler.Checking;

namespace Ksml.Build;

/// <summary>
/// Runs the build-time Python check (<see cref="PythonCheckRequest.Script"/>) in a Python process: the compiler
/// writes the question and reads the answer, this class only finds a Python and starts it.
/// </summary>
public static class PythonChecker
{
    /// <summary>The environment variable the runtime reads for its Python, read here too so both agree.</summary>
    public const string ExecutableVariable = "KSML_PYTHON_EXECUTABLE";

    /// <summary>How long one check may take before it is given up (it takes well under a second).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The Python to check with: the one configured, else <c>KSML_PYTHON_EXECUTABLE</c>, else the runtime's default
    /// <c>/usr/bin/python3</c>, else <c>python3</c> or <c>python</c> on PATH; null when there is none.
    /// </summary>
    public static string? Find(string? configured)
    {
        foreach (var candidate in new[] { configured, Environment.GetEnvironmentVariable(ExecutableVariable) })
        {
            if (!string.IsNullOrWhiteSpace(candidate))
                return candidate;
        }
        if (File.Exists("/usr/bin/python3"))
            return "/usr/bin/python3";
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in new[] { "python3", "python3.exe", "python", "python.exe" })
        {
            foreach (var directory in path.Split(Path.PathSeparator).Where(d => d.Length > 0))
            {
                var file = Path.Combine(directory, name);
                if (File.Exists(file))
                    return file;
            }
        }
        return null;
    }

    /// <summary>Compiles each definition and checks the Python of those that bind, in one process.</summary>
    public static PythonCheckReport Check(IReadOnlyList<(string Path, string Text)> files, string? python, IReadOnlyList<string> modulePaths)
    {
        var compiled = new List<(string Path, string Text, Ksml.Compiler.Binding.BoundDefinition Model)>();
        foreach (var (path, text) in files)
        {
            if (KsmlCompiler.Compile(path, text, new CompilerOptions("Ksml.PythonCheck", path)).Model is { } model)
                compiled.Add((path, text, model));
        }
        return Check(compiled, python, modulePaths);
    }

    /// <summary>Checks definitions already compiled (the <c>ksml</c> tool has compiled them for their own diagnostics).</summary>
    public static PythonCheckReport Check(IReadOnlyList<(string Path, string Text, Ksml.Compiler.Binding.BoundDefinition Model)> compiled, string? python, IReadOnlyList<string> modulePaths)
    {
        var definitions = compiled.Select(c => (c.Path, c.Text)).ToList();
        var models = compiled.Select(c => c.Model).ToList();
        if (python is null)
            return PythonCheckReport.Unchecked("no Python was found (set KSML_PYTHON_EXECUTABLE or the KsmlPythonExecutable property)");
        var (exitCode, output, error) = Run(python, PythonCheckRequest.Write(models, modulePaths));
        if (exitCode != 0)
            return PythonCheckReport.Unchecked(python + " could not run the check: " + FirstLine(error));
        return PythonCheckReport.FromCheckerOutput(output, definitions);
    }

    private static (int ExitCode, string Output, string Error) Run(string python, string request)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        // -c keeps the script out of the file system; -X utf8 makes stdin and stdout UTF-8 whatever the locale.
        start.ArgumentList("-X", "utf8", "-c", PythonCheckRequest.Script);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return (-1, "", ex.Message);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            try
            {
                using var input = new StreamWriter(process.StandardInput.BaseStream, new UTF8Encoding(false));
                input.Write(request);
            }
            catch (IOException)
            {
                // Python ended before reading its request; its exit code and stderr say why.
            }
            if (!process.WaitForExit((int)Timeout.TotalMilliseconds))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                return (-1, "", "the check took longer than " + Timeout.TotalSeconds + " s");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    private static string FirstLine(string text)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return lines.Count == 0 ? "no message" : lines[lines.Count - 1];
    }
}

internal static class ProcessStartInfoExtensions
{
    /// <summary>netstandard2.0 has no ArgumentList: quote each argument as the runtime would split it back.</summary>
    public static void ArgumentList(this ProcessStartInfo start, params string[] arguments) =>
        start.Arguments = string.Join(" ", arguments.Select(Quote));

    private static string Quote(string argument)
    {
        var quoted = new StringBuilder("\"");
        var backslashes = 0;
        foreach (var c in argument)
        {
            if (c == '\\')
            {
                backslashes++;
                continue;
            }
            quoted.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes);
            backslashes = 0;
            quoted.Append(c);
        }
        quoted.Append('\\', backslashes * 2);
        return quoted.Append('"').ToString();
    }
}
