using Ksml.Runtime.Definitions;

namespace Ksml.Runtime;

/// <summary>A compiled KSML file. The generator emits one implementation per <c>*.ksml.yaml</c>.</summary>
public interface IKsmlDefinition
{
    /// <summary>The definition's namespace (its <c>name:</c>, or the file name).</summary>
    string Name { get; }

    /// <summary>The YAML file it was compiled from, relative to the project.</summary>
    string SourcePath { get; }

    /// <summary>The streams, tables and global tables the definition reads or writes, inline ones included.</summary>
    IReadOnlyList<KsmlTopicDefinition> Topics { get; }

    /// <summary>The functions the definition declares, inline ones included.</summary>
    IReadOnlyList<KsmlFunctionDefinition> Functions { get; }

    /// <summary>The producers the definition declares.</summary>
    IReadOnlyList<KsmlProducerDefinition> Producers { get; }

    /// <summary>The topology the definition builds, as a Mermaid flowchart; null where none is known (a hand-written definition).</summary>
    string? Diagram => null;

    /// <summary>Adds the definition's stores and pipelines to the topology being built.</summary>
    void Build(KsmlTopologyBuilder ksml);
}
