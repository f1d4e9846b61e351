using System;
using System.Collections.Generic;
using System.Linq;

namespace Ksml.Compiler.Operations;

/// <summary>Every operation KSML defines (KSML 1.3 / 2.0 schema), by name and alias.</summary>
public static class OperationCatalog
{
    public static readonly IReadOnlyList<PipelineOperation> All = new PipelineOperation[]
    {
        FilterOperation.Filter,
        FilterOperation.FilterNot,
        new TransformValueOperation(),
        new TransformKeyOperation(),
        new TransformKeyValueOperation(),
        new TransformKeyValueToKeyValueListOperation(),
        new TransformKeyValueToValueListOperation(),
        new TransformMetadataOperation(),
        ConvertOperation.ConvertKey,
        ConvertOperation.ConvertValue,
        ConvertOperation.ConvertKeyValue,
        new PeekOperation(),
        new GroupByKeyOperation(),
        new GroupByOperation(),
        new RepartitionOperation(),
        new MergeOperation(),
        JoinOperation.Join,
        JoinOperation.LeftJoin,
        JoinOperation.OuterJoin,
        new WindowByTimeOperation(),
        new WindowBySessionOperation(),
        new CountOperation(),
        new ReduceOperation(),
        new AggregateOperation(),
        new CogroupOperation(),
        new SuppressOperation(),
        new ToStreamOperation(),
        new ToTableOperation(),
    };

    private static readonly Dictionary<string, PipelineOperation> ByName = All
        .SelectMany(op => op.Aliases.Concat(new[] { op.Name }).Select(n => (Name: n, Op: op)))
        .ToDictionary(x => x.Name, x => x.Op, StringComparer.Ordinal);

    /// <summary>Finds an operation by name or alias.</summary>
    public static PipelineOperation? Find(string nameOrAlias) => ByName.TryGetValue(nameOrAlias, out var op) ? op : null;

    /// <summary>Every name and alias, for suggestions.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>The sinks a pipeline (or branch) may end with, in KSML's precedence order.</summary>
    public static readonly IReadOnlyList<string> SinkKeys = new[] { "as", "branch", "forEach", "print", "to", "toTopicNameExtractor" };
}
