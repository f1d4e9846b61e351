using Ksml.Compiler.Parsing;

namespace Ksml.Testing;

/// <summary>Finds suite files among files and folders (nested folders included).</summary>
public static class KsmlSuiteFiles
{
    /// <summary>
    /// Every file named in <paramref name="paths"/>, and every YAML file under a named folder that is
    /// shaped like a suite (top-level <c>definition:</c> and <c>tests:</c>), so definitions and runner
    /// files in the same folders are left alone. Sorted, for a stable report.
    /// </summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> paths)
    {
        var found = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                found.AddRange(Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
                    .Where(f => (f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                                && TestSuiteParser.LooksLikeSuite(File.ReadAllText(f)))
                    .Order(StringComparer.Ordinal));
            else
                found.Add(path); // named explicitly: a missing or malformed file is reported, not skipped
        }
        return found;
    }
}
