using Ksml.Runtime;

namespace Ksml.Testing;

/// <summary>Where a suite's <c>definition:</c> comes from: a compiled project, or the ksml tool's in-memory compiler.</summary>
public interface IKsmlDefinitionSource
{
    /// <summary>The definition compiled from <paramref name="path"/> (absolute), or the reasons there is none (located diagnostics).</summary>
    KsmlDefinitionLookup Find(string path);
}

/// <summary>A found definition, or why none was found.</summary>
public sealed record KsmlDefinitionLookup(IKsmlDefinition? Definition, IReadOnlyList<string> Errors)
{
    /// <summary>A definition that was found.</summary>
    public static KsmlDefinitionLookup Found(IKsmlDefinition definition) => new(definition, []);

    /// <summary>No definition, for the given reasons.</summary>
    public static KsmlDefinitionLookup Failed(params string[] errors) => new(null, errors);
}

/// <summary>Definitions compiled into assemblies by the generator, found by the YAML file they came from.</summary>
public sealed class CompiledDefinitions : IKsmlDefinitionSource
{
    private readonly List<(string Path, IKsmlDefinition Definition)> _definitions = [];

    /// <summary>
    /// <paramref name="definitions"/> (a project's <c>KsmlDefinitions.All</c>) whose <see cref="IKsmlDefinition.SourcePath"/>s
    /// are relative to <paramref name="projectDirectory"/>.
    /// </summary>
    public CompiledDefinitions(string projectDirectory, IEnumerable<IKsmlDefinition> definitions)
    {
        foreach (var definition in definitions)
            _definitions.Add((Path.GetFullPath(Path.Combine(projectDirectory, definition.SourcePath)), definition));
    }

    /// <inheritdoc />
    public KsmlDefinitionLookup Find(string path)
    {
        var full = Path.GetFullPath(path);
        foreach (var (file, definition) in _definitions)
            if (string.Equals(file, full, StringComparison.Ordinal))
                return KsmlDefinitionLookup.Found(definition);
        return KsmlDefinitionLookup.Failed(File.Exists(full)
            ? $"{path}: this file is not compiled into the project (compiled: {string.Join(", ", _definitions.Select(d => d.Definition.SourcePath))}); definitions must be named *.ksml.yaml"
            : $"{path}: the definition file does not exist");
    }
}
