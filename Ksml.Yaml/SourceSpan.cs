namespace Ksml.Yaml;

/// <summary>
/// A range of a KSML file: a 0-based character offset and length, plus 1-based line/column of both
/// ends, as YamlDotNet reports them. Every syntax node, model node and diagnostic carries one.
/// </summary>
public readonly record struct SourceSpan(int Start, int Length, int Line, int Column, int EndLine, int EndColumn)
{
    public static readonly SourceSpan None = new(0, 0, 1, 1, 1, 1);

    /// <summary>A span from the start of <paramref name="first"/> to the end of <paramref name="last"/>.</summary>
    public static SourceSpan Cover(SourceSpan first, SourceSpan last) =>
        new(first.Start, last.Start + last.Length - first.Start, first.Line, first.Column, last.EndLine, last.EndColumn);

    public override string ToString() => $"({Line},{Column})-({EndLine},{EndColumn})";
}
