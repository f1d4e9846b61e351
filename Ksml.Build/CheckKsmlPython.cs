using System;
using System.IO;
using System.Linq;
using Ksml.Compiler.Checking;
using Microsoft.Build.Framework;
using Task = Microsoft.Build.Utilities.Task;

namespace Ksml.Build;

/// <summary>
/// Checks the Python of a project's KSML definitions before the compiler runs, and writes the report the
/// generator reads as an AdditionalFile: the generator turns its findings into located diagnostics, in the build
/// and in the IDE, without ever starting a process itself.
/// </summary>
public sealed class CheckKsmlPython : Task
{
    /// <summary>The project's <c>*.ksml.yaml</c> files.</summary>
    [Required]
    public ITaskItem[] Definitions { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Where the report goes (under obj/).</summary>
    [Required]
    public string ReportFile { get; set; } = "";

    /// <summary>The Python to check with; empty for <c>KSML_PYTHON_EXECUTABLE</c> or the runtime's default.</summary>
    public string? PythonExecutable { get; set; }

    /// <summary>Directories of the application's own Python modules (KSML's <c>pythonContext.modulePath</c>), separated by ';'.</summary>
    public string? ModulePath { get; set; }

    public override bool Execute()
    {
        var files = Definitions
            .Select(item => item.GetMetadata("FullPath"))
            .Distinct(StringComparer.Ordinal)
            .Where(File.Exists)
            .Select(path => (path, File.ReadAllText(path)))
            .ToList();
        var modulePaths = (ModulePath ?? "").Split(';').Select(p => p.Trim()).Where(p => p.Length > 0).Select(Path.GetFullPath).ToList();
        var python = PythonChecker.Find(PythonExecutable);
        PythonCheckReport report;
        try
        {
            report = PythonChecker.Check(files, python, modulePaths);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            report = PythonCheckReport.Unchecked(ex.Message);
        }
        if (report.NotChecked is { } reason)
            Log.LogMessage(MessageImportance.High, "KSML: the Python of {0} definition{1} was not checked: {2}", files.Count, files.Count == 1 ? "" : "s", reason);
        else
            Log.LogMessage(MessageImportance.Normal, "KSML: checked the Python of {0} definition{1} with Python {2}", files.Count, files.Count == 1 ? "" : "s", report.Python);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ReportFile))!);
        var text = report.Write();
        // Rewriting an unchanged report would touch its time stamp and make the generator's input look new.
        if (!File.Exists(ReportFile) || File.ReadAllText(ReportFile) != text)
            File.WriteAllText(ReportFile, text);
        return !Log.HasLoggedErrors;
    }
}
