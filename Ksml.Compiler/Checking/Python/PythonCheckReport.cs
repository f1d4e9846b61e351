using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Ksml.Compiler.Diagnostics;
using Ksml.Yaml;

namespace Ksml.Compiler.Checking;

/// <summary>One definition file as the check saw it: its path, a fingerprint of its text, and what was found.</summary>
public sealed record PythonCheckedFile(string Path, string Fingerprint, IReadOnlyList<KsmlDiagnostic> Diagnostics);

/// <summary>
/// The answer of the build-time Python check, and the report file that carries it from the MSBuild task to the
/// generator. The generator cannot start a process, so the task runs the check before it and writes this report;
/// the generator reports a file's findings only while the file's text still has the fingerprint that was checked,
/// so an edit in the IDE never shows findings for lines that have moved.
/// </summary>
public sealed class PythonCheckReport
{
    /// <summary>The extension of the report file the MSBuild task writes and the generator reads.</summary>
    public const string FileSuffix = ".ksml-python-check";

    private PythonCheckReport(string? python, string? notChecked, IReadOnlyList<PythonCheckedFile> files)
    {
        Python = python;
        NotChecked = notChecked;
        Files = files;
    }

    /// <summary>The Python that checked, e.g. <c>3.11.2 /usr/bin/python3</c>; null when nothing was checked.</summary>
    public string? Python { get; }

    /// <summary>Why the Python was not checked; null when it was.</summary>
    public string? NotChecked { get; }

    public IReadOnlyList<PythonCheckedFile> Files { get; }

    public static PythonCheckReport Unchecked(string reason) => new(null, reason, Array.Empty<PythonCheckedFile>());

    /// <summary>Reads the checker's output for the definitions of the request, in request order.</summary>
    public static PythonCheckReport FromCheckerOutput(string output, IReadOnlyList<(string Path, string Text)> definitions)
    {
        string? python = null;
        var found = definitions.Select(_ => new List<KsmlDiagnostic>()).ToList();
        foreach (var line in output.Split('\n'))
        {
            var fields = line.TrimEnd('\r').Split('\t');
            if (fields.Length >= 3 && fields[0] == "python")
            {
                python = fields[1] + " " + fields[2];
                continue;
            }
            if (fields.Length < 7 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || index >= definitions.Count || Descriptor(fields[1]) is not { } descriptor)
                continue;
            var (path, text) = definitions[index];
            var span = Span(text, Number(fields[2]), Number(fields[3]), Number(fields[4]), Number(fields[5]));
            found[index].Add(new KsmlDiagnostic(descriptor.Id, descriptor.Severity, string.Join("\t", fields.Skip(6)), path, span));
        }
        if (python is null)
            return Unchecked("the Python check gave no answer");
        return new PythonCheckReport(python, null, definitions.Select((d, i) => new PythonCheckedFile(d.Path, Fingerprint(d.Text), found[i])).ToList());
    }

    /// <summary>The findings for <paramref name="path"/>, or none when its text no longer has the <paramref name="fingerprint"/> that was checked.</summary>
    public IReadOnlyList<KsmlDiagnostic> For(string path, string fingerprint)
    {
        var file = Files.FirstOrDefault(f => SamePath(f.Path, path));
        return file is not null && file.Fingerprint == fingerprint ? file.Diagnostics : Array.Empty<KsmlDiagnostic>();
    }

    /// <summary>The report file: a header line, then per file a <c>file</c> line and one line per finding.</summary>
    public string Write()
    {
        var text = new StringBuilder();
        text.Append(NotChecked is null ? "checked\t" + Python : "unchecked\t" + Clean(NotChecked)).Append('\n');
        foreach (var file in Files)
        {
            text.Append("file\t").Append(file.Fingerprint).Append('\t').Append(file.Path).Append('\n');
            foreach (var d in file.Diagnostics)
            {
                var s = d.Span;
                text.Append(string.Join("\t", "at", d.Id, Invariant(s.Start), Invariant(s.Length), Invariant(s.Line), Invariant(s.Column),
                    Invariant(s.EndLine), Invariant(s.EndColumn), Clean(d.Message))).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>Reads a report file; anything it cannot read is skipped, so a damaged report only loses findings.</summary>
    public static PythonCheckReport Read(string report)
    {
        string? python = null, notChecked = null;
        var files = new List<PythonCheckedFile>();
        List<KsmlDiagnostic>? current = null;
        string? path = null;
        foreach (var line in report.Split('\n'))
        {
            var fields = line.TrimEnd('\r').Split('\t');
            switch (fields[0])
            {
                case "checked" when fields.Length >= 2:
                    python = fields[1];
                    break;
                case "unchecked" when fields.Length >= 2:
                    notChecked = fields[1];
                    break;
                case "file" when fields.Length >= 3:
                    path = string.Join("\t", fields.Skip(2));
                    current = new List<KsmlDiagnostic>();
                    files.Add(new PythonCheckedFile(path, fields[1], current));
                    break;
                case "at" when fields.Length >= 9 && current is not null && Descriptor(fields[1]) is { } descriptor:
                    var span = new SourceSpan(Number(fields[2]), Number(fields[3]), Number(fields[4]), Number(fields[5]), Number(fields[6]), Number(fields[7]));
                    current.Add(new KsmlDiagnostic(descriptor.Id, descriptor.Severity, string.Join("\t", fields.Skip(8)), path!, span));
                    break;
            }
        }
        return new PythonCheckReport(python, python is null ? notChecked ?? "the report is empty" : null, files);
    }

    /// <summary>FNV-1a over the text's UTF-16 code units: the same in the MSBuild task and in the generator.</summary>
    public static string Fingerprint(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash.ToString("x16", CultureInfo.InvariantCulture) + ":" + text.Length.ToString(CultureInfo.InvariantCulture);
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(a.Replace('\\', '/'), b.Replace('\\', '/'), StringComparison.Ordinal);

    private static DiagnosticDescriptor? Descriptor(string id) => DiagnosticDescriptors.All.FirstOrDefault(d => d.Id == id);

    private static int Number(string text) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : 1;

    private static string Invariant(int number) => number.ToString(CultureInfo.InvariantCulture);

    private static string Clean(string message) => message.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>A span from 1-based line and column pairs, with offsets counted in <paramref name="text"/>.</summary>
    private static SourceSpan Span(string text, int line, int column, int endLine, int endColumn)
    {
        var start = Offset(text, line, column);
        var end = Math.Max(start, Offset(text, endLine, endColumn));
        if (end == start && (endLine, endColumn) == (line, column))
            endColumn++;
        return new SourceSpan(start, Math.Max(1, end - start), line, column, endLine, endColumn);
    }

    private static int Offset(string text, int line, int column)
    {
        var offset = 0;
        for (var current = 1; current < line && offset < text.Length; current++)
        {
            var next = text.IndexOf('\n', offset);
            if (next < 0)
                return text.Length;
            offset = next + 1;
        }
        return Math.Min(text.Length, offset + Math.Max(0, column - 1));
    }
}
