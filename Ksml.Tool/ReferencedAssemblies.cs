using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace Ksml.Tool;

/// <summary>
/// .NET assemblies that definitions load from Python with <c>clr.AddReference</c> (a database driver,
/// a company library). A compiled project has them in its build output; the tool has only its own,
/// so <c>--reference</c> names directories to load them from, and a name asked for and found nowhere
/// is remembered so the tool can say what to pass.
/// </summary>
internal static class ReferencedAssemblies
{
    private static readonly List<string> Directories = [];
    private static readonly ConcurrentDictionary<string, bool> NotFound = new(StringComparer.Ordinal);
    private static int _hooked;

    /// <summary>Makes the assemblies in <paramref name="directories"/> loadable by name.</summary>
    public static void Use(IEnumerable<DirectoryInfo> directories)
    {
        lock (Directories)
            Directories.AddRange(directories.Select(d => d.FullName));
        if (Interlocked.Exchange(ref _hooked, 1) == 0)
            AssemblyLoadContext.Default.Resolving += Resolve;
    }

    /// <summary>What to tell the user when an assembly was asked for and not found; null when none was missing.</summary>
    public static string? Hint() => NotFound.IsEmpty
        ? null
        : $"ksml: .NET assembl{(NotFound.Count == 1 ? "y" : "ies")} {string.Join(", ", NotFound.Keys.Order().Select(n => $"'{n}'"))} (clr.AddReference) not found; " +
          "pass --reference with the directory that holds it, e.g. the project's bin/Debug/net10.0 after dotnet build";

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name is not { } simpleName || simpleName.EndsWith(".resources", StringComparison.Ordinal))
            return null;
        string[] directories;
        lock (Directories)
            directories = [.. Directories];
        foreach (var directory in directories)
        {
            var path = Path.Combine(directory, simpleName + ".dll");
            if (File.Exists(path))
                return context.LoadFromAssemblyPath(path);
        }
        NotFound[simpleName] = true;
        return null;
    }
}
