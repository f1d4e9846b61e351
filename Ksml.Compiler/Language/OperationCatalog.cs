using System;
using System.Collections.Generic;
using System.Linq;

namespace Ksml.Compiler.Language;

/// <summary>The kind of value a field of an operation or definition holds.</summary>
public enum FieldKind
{
    Function,
    Stream,
    Table,
    GlobalTable,
    Store,
    Duration,
    Type,
    Integer,
    Text,
    Boolean,
    Choice,
}

/// <summary>One field of an operation: its name, kind, whether required, and what it must reference.</summary>
public sealed class FieldSpec
{
    public FieldSpec(string name, FieldKind kind, bool required = false, FunctionKind? function = null, string? storeKind = null, string[]? choices = null)
    {
        Name = name;
        Kind = kind;
        Required = required;
        Function = function;
        StoreKind = storeKind;
        Choices = choices ?? Array.Empty<string>();
    }

    public string Name { get; }
    public FieldKind Kind { get; }
    public bool Required { get; }

    /// <summary>The function type a <see cref="FieldKind.Function"/> field takes.</summary>
    public FunctionKind? Function { get; }

    /// <summary>The store type (keyValue, window, session) a <see cref="FieldKind.Store"/> field takes; null means any.</summary>
    public string? StoreKind { get; }

    public IReadOnlyList<string> Choices { get; }
}

/// <summary>A KSML pipeline operation: canonical name, aliases, fields, and the field a compact form fills.</summary>
public sealed class OperationSpec
{
    public OperationSpec(string name, string[] aliases, string? primaryField, params FieldSpec[] fields)
    {
        Name = name;
        Aliases = aliases;
        PrimaryField = primaryField;
        Fields = fields;
    }

    public string Name { get; }
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>The field a scalar value fills in the compact form (<c>filter: is_valid</c> → <c>if</c>).</summary>
    public string? PrimaryField { get; }

    public IReadOnlyList<FieldSpec> Fields { get; }

    public FieldSpec? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);
}

/// <summary>Every operation KSML defines (KSML 1.3 / 2.0 schema), by name and alias.</summary>
public static class OperationCatalog
{
    private static FieldSpec Fn(string name, FunctionKind kind, bool required = false) => new(name, FieldKind.Function, required, kind);
    private static FieldSpec Store(string? kind = "keyValue") => new("store", FieldKind.Store, storeKind: kind);
    private static FieldSpec Dur(string name, bool required = false) => new(name, FieldKind.Duration, required);

    private static readonly FieldSpec[] JoinFields =
    {
        new("stream", FieldKind.Stream), new("table", FieldKind.Table), new("globalTable", FieldKind.GlobalTable),
        Fn("valueJoiner", FunctionKind.ValueJoiner, true), Dur("timeDifference"), Dur("grace"),
        new("thisStore", FieldKind.Store, storeKind: "window"), new("otherStore", FieldKind.Store, storeKind: "window"),
        Fn("foreignKeyExtractor", FunctionKind.ForeignKeyExtractor), Fn("partitioner", FunctionKind.StreamPartitioner),
        Fn("otherPartitioner", FunctionKind.StreamPartitioner), Store(), Fn("mapper", FunctionKind.KeyValueMapper),
    };

    public static readonly IReadOnlyList<OperationSpec> All = new[]
    {
        new OperationSpec("filter", Array.Empty<string>(), "if", Fn("if", FunctionKind.Predicate, true), Store()),
        new OperationSpec("filterNot", Array.Empty<string>(), "if", Fn("if", FunctionKind.Predicate, true), Store()),
        new OperationSpec("transformValue", new[] { "mapValue", "mapValues" }, "mapper", Fn("mapper", FunctionKind.ValueTransformer, true), Store()),
        new OperationSpec("transformKey", new[] { "mapKey", "selectKey" }, "mapper", Fn("mapper", FunctionKind.KeyTransformer, true)),
        new OperationSpec("transformKeyValue", new[] { "map" }, "mapper", Fn("mapper", FunctionKind.KeyValueTransformer, true)),
        new OperationSpec("transformKeyValueToKeyValueList", new[] { "flatMap" }, "mapper", Fn("mapper", FunctionKind.KeyValueToKeyValueListTransformer, true)),
        new OperationSpec("transformKeyValueToValueList", new[] { "flatMapValues" }, "mapper", Fn("mapper", FunctionKind.KeyValueToValueListTransformer, true)),
        new OperationSpec("transformMetadata", Array.Empty<string>(), "mapper", Fn("mapper", FunctionKind.MetadataTransformer, true)),
        new OperationSpec("convertKey", Array.Empty<string>(), "into", new FieldSpec("into", FieldKind.Type, true)),
        new OperationSpec("convertValue", Array.Empty<string>(), "into", new FieldSpec("into", FieldKind.Type, true)),
        new OperationSpec("convertKeyValue", Array.Empty<string>(), "into", new FieldSpec("into", FieldKind.Type, true)),
        new OperationSpec("peek", Array.Empty<string>(), "forEach", Fn("forEach", FunctionKind.ForEach, true)),
        new OperationSpec("groupByKey", Array.Empty<string>(), null, Store()),
        new OperationSpec("groupBy", Array.Empty<string>(), "mapper", Fn("mapper", FunctionKind.KeyValueMapper, true), Store()),
        new OperationSpec("repartition", Array.Empty<string>(), "numberOfPartitions", new FieldSpec("numberOfPartitions", FieldKind.Integer), Fn("partitioner", FunctionKind.StreamPartitioner)),
        new OperationSpec("merge", Array.Empty<string>(), "stream", new FieldSpec("stream", FieldKind.Stream, true)),
        new OperationSpec("join", Array.Empty<string>(), null, JoinFields),
        new OperationSpec("leftJoin", Array.Empty<string>(), null, JoinFields),
        new OperationSpec("outerJoin", Array.Empty<string>(), null, JoinFields),
        new OperationSpec("windowByTime", Array.Empty<string>(), null,
            new FieldSpec("windowType", FieldKind.Choice, true, choices: new[] { "tumbling", "hopping", "sliding" }),
            Dur("duration"), Dur("advanceBy"), Dur("timeDifference"), Dur("grace")),
        new OperationSpec("windowBySession", Array.Empty<string>(), "inactivityGap", Dur("inactivityGap", true), Dur("grace")),
        new OperationSpec("count", Array.Empty<string>(), null, Store(null)),
        new OperationSpec("reduce", Array.Empty<string>(), "reducer",
            Fn("reducer", FunctionKind.Reducer), Fn("adder", FunctionKind.Reducer), Fn("subtractor", FunctionKind.Reducer), Store(null)),
        new OperationSpec("aggregate", Array.Empty<string>(), null,
            Fn("initializer", FunctionKind.Initializer, true), Fn("aggregator", FunctionKind.Aggregator), Fn("merger", FunctionKind.Merger),
            Fn("adder", FunctionKind.Aggregator), Fn("subtractor", FunctionKind.Aggregator), Store(null)),
        new OperationSpec("cogroup", Array.Empty<string>(), "aggregator", Fn("aggregator", FunctionKind.Aggregator, true)),
        new OperationSpec("suppress", Array.Empty<string>(), null,
            new FieldSpec("until", FieldKind.Choice, true, choices: new[] { "timeLimit", "windowCloses" }), Dur("duration"),
            new FieldSpec("maxBytes", FieldKind.Text), new FieldSpec("maxRecords", FieldKind.Integer),
            new FieldSpec("bufferFullStrategy", FieldKind.Choice, choices: new[] { "emitEarlyWhenFull", "shutdownWhenFull" })),
        new OperationSpec("toStream", Array.Empty<string>(), "mapper", Fn("mapper", FunctionKind.KeyTransformer)),
        new OperationSpec("toTable", Array.Empty<string>(), null, Store()),
    };

    private static readonly Dictionary<string, OperationSpec> ByName = All
        .SelectMany(op => op.Aliases.Concat(new[] { op.Name }).Select(n => (Name: n, Op: op)))
        .ToDictionary(x => x.Name, x => x.Op, StringComparer.Ordinal);

    /// <summary>Finds an operation by name or alias.</summary>
    public static OperationSpec? Find(string nameOrAlias) => ByName.TryGetValue(nameOrAlias, out var op) ? op : null;

    /// <summary>Every name and alias, for suggestions.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>The sinks a pipeline (or branch) may end with, in KSML's precedence order.</summary>
    public static readonly IReadOnlyList<string> SinkKeys = new[] { "as", "branch", "forEach", "print", "to", "toTopicNameExtractor" };
}
