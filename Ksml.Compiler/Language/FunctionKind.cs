using System;
using System.Collections.Generic;
using System.Linq;

namespace Ksml.Compiler.Language;

/// <summary>How a function type's result is typed.</summary>
public enum ResultShape
{
    /// <summary>Returns nothing (forEach).</summary>
    None,
    /// <summary>Always the given fixed type (predicate: boolean).</summary>
    Fixed,
    /// <summary>Any type; fixed by resultType or by inference.</summary>
    Free,
    /// <summary>A (key, value) tuple.</summary>
    KeyValue,
    /// <summary>A list of (key, value) tuples.</summary>
    KeyValueList,
    /// <summary>A list of values.</summary>
    ValueList,
}

/// <summary>One of KSML's 21 function types: its fixed parameters, result, default expression and whether it may use stores.</summary>
public sealed class FunctionKind
{
    private FunctionKind(string name, string[] parameters, ResultShape result, string? fixedResult, string? defaultExpression, bool storesAllowed)
    {
        Name = name;
        Parameters = parameters;
        Result = result;
        FixedResult = fixedResult;
        DefaultExpression = defaultExpression;
        StoresAllowed = storesAllowed;
    }

    /// <summary>The KSML spelling: <c>valueTransformer</c>.</summary>
    public string Name { get; }

    /// <summary>Fixed parameters, passed under these names before any declared extra parameters.</summary>
    public IReadOnlyList<string> Parameters { get; }

    public ResultShape Result { get; }

    /// <summary>The KSML type of the result when <see cref="Result"/> is <see cref="ResultShape.Fixed"/>.</summary>
    public string? FixedResult { get; }

    /// <summary>The expression used when a definition gives neither code nor expression (KSML's defaults).</summary>
    public string? DefaultExpression { get; }

    public bool StoresAllowed { get; }

    public bool IsGeneric => Name == "generic";

    public override string ToString() => Name;

    public static readonly FunctionKind ForEach = new("forEach", new[] { "key", "value" }, ResultShape.None, null, null, true);
    public static readonly FunctionKind Predicate = new("predicate", new[] { "key", "value" }, ResultShape.Fixed, "boolean", "True", true);
    public static readonly FunctionKind ValueTransformer = new("valueTransformer", new[] { "key", "value" }, ResultShape.Free, null, "value", true);
    public static readonly FunctionKind KeyTransformer = new("keyTransformer", new[] { "key", "value" }, ResultShape.Free, null, "key", true);
    public static readonly FunctionKind KeyValueTransformer = new("keyValueTransformer", new[] { "key", "value" }, ResultShape.KeyValue, null, "(key,value)", true);
    public static readonly FunctionKind KeyValueToKeyValueListTransformer = new("keyValueToKeyValueListTransformer", new[] { "key", "value" }, ResultShape.KeyValueList, null, "[(key,value)]", true);
    public static readonly FunctionKind KeyValueToValueListTransformer = new("keyValueToValueListTransformer", new[] { "key", "value" }, ResultShape.ValueList, null, "[value]", true);
    public static readonly FunctionKind MetadataTransformer = new("metadataTransformer", new[] { "key", "value", "metadata" }, ResultShape.Fixed, "metadata", "metadata", true);
    public static readonly FunctionKind KeyValueMapper = new("keyValueMapper", new[] { "key", "value" }, ResultShape.Free, null, null, false);
    public static readonly FunctionKind KeyValuePrinter = new("keyValuePrinter", new[] { "key", "value" }, ResultShape.Fixed, "string", null, false);
    public static readonly FunctionKind Aggregator = new("aggregator", new[] { "key", "value", "aggregatedValue" }, ResultShape.Free, null, "aggregatedValue", false);
    public static readonly FunctionKind Initializer = new("initializer", Array.Empty<string>(), ResultShape.Free, null, null, false);
    public static readonly FunctionKind Merger = new("merger", new[] { "key", "value1", "value2" }, ResultShape.Free, null, null, false);
    public static readonly FunctionKind Reducer = new("reducer", new[] { "value1", "value2" }, ResultShape.Free, null, null, false);
    public static readonly FunctionKind ValueJoiner = new("valueJoiner", new[] { "key", "value1", "value2" }, ResultShape.Free, null, null, false);
    public static readonly FunctionKind ForeignKeyExtractor = new("foreignKeyExtractor", new[] { "value" }, ResultShape.Free, null, null, false);
    public static readonly FunctionKind Generator = new("generator", Array.Empty<string>(), ResultShape.KeyValue, null, null, false);
    public static readonly FunctionKind StreamPartitioner = new("streamPartitioner", new[] { "topic", "key", "value", "numPartitions" }, ResultShape.Fixed, "int", null, false);
    public static readonly FunctionKind TimestampExtractor = new("timestampExtractor", new[] { "record", "previousTimestamp" }, ResultShape.Fixed, "long", null, false);
    public static readonly FunctionKind TopicNameExtractor = new("topicNameExtractor", new[] { "key", "value", "recordContext" }, ResultShape.Fixed, "string", null, false);
    public static readonly FunctionKind Generic = new("generic", Array.Empty<string>(), ResultShape.Free, null, null, false);

    public static readonly IReadOnlyList<FunctionKind> All = new[]
    {
        ForEach, Predicate, ValueTransformer, KeyTransformer, KeyValueTransformer, KeyValueToKeyValueListTransformer,
        KeyValueToValueListTransformer, MetadataTransformer, KeyValueMapper, KeyValuePrinter, Aggregator, Initializer,
        Merger, Reducer, ValueJoiner, ForeignKeyExtractor, Generator, StreamPartitioner, TimestampExtractor,
        TopicNameExtractor, Generic,
    };

    private static readonly Dictionary<string, FunctionKind> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static FunctionKind? Find(string name) => ByName.TryGetValue(name, out var kind) ? kind : null;

    /// <summary>A/an plus the name, for messages: "a predicate", "an aggregator".</summary>
    public string WithArticle => ("aeiou".IndexOf(char.ToLowerInvariant(Name[0])) >= 0 ? "an " : "a ") + Name;
}
