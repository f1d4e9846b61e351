using System;
using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Parsing;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Binding;

/// <summary>
/// Resolves every name in a <see cref="DefinitionSyntax"/> (streams, tables, stores, functions,
/// earlier pipelines), works out the kind and record types of each pipeline stage, and infers the
/// result types the YAML leaves out. Undefined names and misuses are reported where they are written.
/// </summary>
public sealed partial class DefinitionBinder
{
    private readonly DefinitionSyntax _syntax;
    private readonly BoundDefinition _bound;
    private readonly List<KsmlDiagnostic> _diagnostics;
    private readonly Dictionary<string, BoundTopic> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoundStore> _stores = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoundFunction> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (BoundPipeline Pipeline, StreamShape Shape)> _namedStreams = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);

    private DefinitionBinder(DefinitionSyntax syntax, string name, List<KsmlDiagnostic> diagnostics)
    {
        _syntax = syntax;
        _bound = new BoundDefinition(syntax.Path, name);
        _diagnostics = diagnostics;
    }

    public static BoundDefinition Bind(DefinitionSyntax syntax, string definitionName, List<KsmlDiagnostic> diagnostics)
    {
        var binder = new DefinitionBinder(syntax, definitionName, diagnostics);
        binder.BindAll();
        return binder._bound;
    }

    internal void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object?[] args) =>
        _diagnostics.Add(descriptor.Create(_syntax.Path, span, args));

    private void BindAll()
    {
        foreach (var store in _syntax.Stores)
            if (store.Name is not null && BindStore(store, store.Name.Name) is { } bound)
                _stores[bound.Name] = bound;
        foreach (var function in _syntax.Functions)
            _functions[function.Name.Name] = BindFunction(function, null);
        foreach (var topic in _syntax.Streams.Concat(_syntax.Tables).Concat(_syntax.GlobalTables))
            DeclareTopic(topic);
        foreach (var pipeline in _syntax.Pipelines)
            _bound.Pipelines.Add(BindPipeline(pipeline));
        foreach (var producer in _syntax.Producers)
            BindProducer(producer);
    }

    // ---- declarations --------------------------------------------------------------------------

    private static KsmlType TypeOf(TypeSyntax? type, KsmlType missing) =>
        type is null ? missing : type.Type ?? KsmlType.Error;

    private void DeclareTopic(TopicSyntax syntax)
    {
        var name = syntax.Name!;
        if (_topics.TryGetValue(name.Name, out var existing))
        {
            Report(DiagnosticDescriptors.DuplicateName, name.Span, name.Name, Describe(existing.Kind), existing.Span.Line);
            return;
        }
        var topic = BindTopic(syntax, name.Name);
        _topics[name.Name] = topic;
    }

    private static string Describe(TopicKind kind) => kind switch
    {
        TopicKind.Stream => "stream",
        TopicKind.Table => "table",
        _ => "globalTable",
    };

    /// <summary>
    /// Binds a topic; <paramref name="untypedKey"/> and <paramref name="untypedValue"/> are what an inline sink
    /// topic without keyType or valueType carries: as in KSML, the types of the stream written to it.
    /// </summary>
    private BoundTopic BindTopic(TopicSyntax syntax, string name, KsmlType? untypedKey = null, KsmlType? untypedValue = null)
    {
        var topic = new BoundTopic(name, syntax.Kind, syntax.Topic?.Name ?? name,
            TypeOf(syntax.KeyType, untypedKey ?? KsmlType.Any), TypeOf(syntax.ValueType, untypedValue ?? KsmlType.Any),
            syntax.Name?.Span ?? syntax.Span, syntax.Name is null)
        {
            OffsetResetPolicy = syntax.OffsetResetPolicy?.Name,
        };
        if (syntax.TimestampExtractor is not null)
            topic.TimestampExtractor = ResolveFunction(syntax.TimestampExtractor, FunctionKind.TimestampExtractor, "timestampExtractor");
        if (syntax.Partitioner is not null)
            topic.Partitioner = ResolveFunction(syntax.Partitioner, FunctionKind.StreamPartitioner, "partitioner");
        if (syntax.Store is not null)
            topic.Store = ResolveStore(syntax.Store, "keyValue", Describe(syntax.Kind) + " '" + name + "'", topic.Key, topic.Value, name + "_store");
        _bound.Topics.Add(topic);
        return topic;
    }

    private BoundStore? BindStore(StoreSyntax syntax, string name)
    {
        if (syntax.StoreType is null)
            return null;
        var store = new BoundStore(name, syntax.StoreType.Name, syntax)
        {
            Key = syntax.KeyType is null ? null : TypeOf(syntax.KeyType, KsmlType.Any),
            Value = syntax.ValueType is null ? null : TypeOf(syntax.ValueType, KsmlType.Any),
        };
        _bound.Stores.Add(store);
        return store;
    }

    private BoundFunction BindFunction(FunctionSyntax syntax, FunctionKind? useKind)
    {
        var kind = syntax.Kind ?? useKind ?? FunctionKind.Generic;
        var function = new BoundFunction(syntax, kind, ResultTypeOf(syntax, kind));
        foreach (var storeName in syntax.Stores)
        {
            if (_stores.TryGetValue(storeName.Name, out var store))
                function.Stores.Add(store);
            else
                Report(DiagnosticDescriptors.UndefinedStore, storeName.Span, storeName.Name, NameSuggester.Hint(storeName.Name, _stores.Keys));
        }
        _bound.Functions.Add(function);
        return function;
    }

    /// <summary>The declared result type, or a variable shaped by the function type for inference to fill.</summary>
    private static KsmlType? ResultTypeOf(FunctionSyntax syntax, FunctionKind kind)
    {
        var description = "the result of '" + syntax.Name.Name + "'";
        switch (kind.Result)
        {
            case ResultShape.None:
                return null;
            case ResultShape.Fixed:
                return kind.FixedResult == "metadata" ? KsmlType.Metadata : TypeParser.TryParse(kind.FixedResult!, out _);
        }
        if (syntax.ResultType is not null)
            return syntax.ResultType.Type ?? KsmlType.Error;
        return kind.Result switch
        {
            ResultShape.KeyValue => new TupleType(new KsmlType[] { new TypeVariable(description), new TypeVariable(description) }),
            ResultShape.KeyValueList => new ListType(new TupleType(new KsmlType[] { new TypeVariable(description), new TypeVariable(description) })),
            ResultShape.ValueList => new ListType(new TypeVariable(description)),
            _ => new TypeVariable(description),
        };
    }

    // ---- references ----------------------------------------------------------------------------

    /// <summary>Resolves a function reference (named or inline) used where a <paramref name="expected"/> is needed.</summary>
    /// <remarks>A function with <c>concurrency:</c> is refused where its calls cannot overlap (<paramref name="concurrent"/> false).</remarks>
    internal BoundFunction? ResolveFunction(FunctionRefSyntax reference, FunctionKind expected, string usage, bool concurrent = false, bool batched = false)
    {
        var resolved = ResolveFunctionOfKind(reference, expected, usage);
        if (resolved is { Syntax.Batch: not null } && !batched)
            Report(DiagnosticDescriptors.InvalidBatch, reference.Span,
                $"'{resolved.Name}' gathers records, but {usage} here calls it for each record (a batch is for a pipeline's forEach sink); use a function without batch here");
        if (resolved is { Syntax.Concurrency: not null } && !concurrent)
            Report(DiagnosticDescriptors.InvalidConcurrency, reference.Span,
                $"'{resolved.Name}' declares concurrency, but {usage} here calls it one record at a time (concurrent calls are for filter, transform*, peek and forEach on a stream); use a function without concurrency here");
        return resolved;
    }

    private BoundFunction? ResolveFunctionOfKind(FunctionRefSyntax reference, FunctionKind expected, string usage)
    {
        BoundFunction function;
        if (reference.Inline is not null)
        {
            function = BindFunction(reference.Inline, expected);
        }
        else
        {
            var name = reference.Name!;
            if (!_functions.TryGetValue(name.Name, out function!))
            {
                Report(DiagnosticDescriptors.UndefinedFunction, name.Span, name.Name, NameSuggester.Hint(name.Name, _functions.Keys));
                return null;
            }
        }
        function.Uses.Add(reference.Span);
        if (function.Kind.IsGeneric && reference.Inline is null)
        {
            // A function declared without a type takes the type of the place that uses it.
            var adopted = new BoundFunction(function.Syntax, expected, ResultTypeOf(function.Syntax, expected));
            adopted.Stores.AddRange(function.Stores);
            adopted.Uses.AddRange(function.Uses);
            _bound.Functions[_bound.Functions.IndexOf(function)] = adopted;
            _functions[function.Name] = adopted;
            return adopted;
        }
        if (function.Kind != expected && !FitsByShape(function, expected))
        {
            Report(DiagnosticDescriptors.FunctionTypeMismatch, reference.Span, function.Name, function.Kind.WithArticle, usage, expected.WithArticle);
            return null;
        }
        return function;
    }

    /// <summary>
    /// KSML matches a function to the place that uses it by its parameters and result, not by its type's name:
    /// its own examples map with a keyValueMapper that returns a (key, value) tuple.
    /// </summary>
    private static bool FitsByShape(BoundFunction function, FunctionKind expected)
    {
        if (!function.Kind.Parameters.SequenceEqual(expected.Parameters) || function.Stores.Count > 0 && !expected.StoresAllowed)
            return false;
        var result = function.Result?.Resolve();
        return expected.Result switch
        {
            ResultShape.None or ResultShape.Free => true,
            ResultShape.Fixed => function.Kind.Result == ResultShape.Fixed ? function.Kind.FixedResult == expected.FixedResult : result?.ToString() == expected.FixedResult,
            ResultShape.KeyValue => result is TupleType { Elements.Count: 2 },
            ResultShape.KeyValueList => result is ListType { Element: var e } && e.Resolve() is TupleType { Elements.Count: 2 },
            ResultShape.ValueList => result is ListType,
            _ => false,
        };
    }

    internal BoundStore? ResolveStore(StoreRefSyntax reference, string? expectedType, string usage, KsmlType key, KsmlType value, string inlineName)
    {
        BoundStore? store;
        if (reference.Inline is not null)
        {
            store = BindStore(reference.Inline, reference.Inline.Name?.Name ?? DefinitionParser.Sanitize(inlineName));
            if (store is null)
                return null;
        }
        else if (!_stores.TryGetValue(reference.Name!.Name, out store))
        {
            Report(DiagnosticDescriptors.UndefinedStore, reference.Span, reference.Name.Name, NameSuggester.Hint(reference.Name.Name, _stores.Keys));
            return null;
        }
        if (expectedType is not null && store.StoreType != expectedType)
        {
            Report(DiagnosticDescriptors.StoreKindMismatch, reference.Span, store.Name, store.StoreType, usage, expectedType);
            return null;
        }
        // Stores materialising a stage take its types unless they declare their own.
        store.Key ??= key;
        store.Value ??= value;
        return store;
    }

    internal BoundTopic? ResolveTopic(TopicRefSyntax reference, TopicKind? expected, string usage, string inlineName)
    {
        if (reference.Inline is not null)
            return BindTopic(reference.Inline, inlineName);
        var name = reference.Name!;
        if (_topics.TryGetValue(name.Name, out var topic))
        {
            if (expected is not null && topic.Kind != expected)
            {
                Report(DiagnosticDescriptors.OperationNotApplicable, name.Span, usage, Describe(topic.Kind) + " '" + name.Name + "'", "a " + Describe(expected.Value));
                return null;
            }
            return topic;
        }
        var candidates = _topics.Values.Where(t => expected is null || t.Kind == expected).Select(t => t.Name);
        var descriptor = expected switch
        {
            TopicKind.Table => DiagnosticDescriptors.UndefinedTable,
            TopicKind.GlobalTable => DiagnosticDescriptors.UndefinedGlobalTable,
            _ => DiagnosticDescriptors.UndefinedStream,
        };
        Report(descriptor, name.Span, name.Name, NameSuggester.Hint(name.Name, candidates));
        return null;
    }

    private string NodeName(string owner, OperationSyntax operation, int index)
    {
        var baseName = DefinitionParser.Sanitize(operation.Name?.Name ?? owner + "_" + (index + 1) + "_" + operation.Operation.Name);
        var name = baseName;
        for (var i = 2; !_nodeNames.Add(name); i++)
            name = baseName + "_" + i;
        return name;
    }

    /// <summary>Checks that a value of <paramref name="source"/> may flow where <paramref name="target"/> is expected.</summary>
    internal void Flow(KsmlType source, KsmlType target, SourceSpan span, string what)
    {
        var before = source.Resolve().ToString();
        if (!TypeRelations.Unify(source, target))
            Report(DiagnosticDescriptors.TypeMismatch, span, what, target.Resolve(), before);
    }
}
