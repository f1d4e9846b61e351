using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Binding;

public sealed partial class DefinitionBinder
{
    private static readonly StreamKind[] StreamOnly = { StreamKind.Stream };
    private static readonly StreamKind[] StreamOrTable = { StreamKind.Stream, StreamKind.Table };
    private static readonly StreamKind[] Grouped = { StreamKind.GroupedStream, StreamKind.CogroupedStream };
    private static readonly StreamKind[] Aggregatable = { StreamKind.GroupedStream, StreamKind.GroupedTable, StreamKind.TimeWindowedStream, StreamKind.SlidingWindowedStream, StreamKind.SessionWindowedStream };

    private BoundPipeline BindPipeline(PipelineSyntax syntax)
    {
        var pipeline = new BoundPipeline(syntax);
        var shape = StreamShape.Unknown();
        if (syntax.From is not null)
        {
            pipeline.Source = ResolveSource(syntax.From, syntax.Name.Name);
            if (pipeline.Source is not null)
                shape = pipeline.Source.Shape;
        }
        shape = BindOperations(syntax.Name.Name, syntax.Operations, pipeline.Operations, shape);
        pipeline.Output = shape;
        if (syntax.Sink is not null)
            pipeline.Sink = BindSink(syntax.Sink, shape, syntax.Name.Name, pipeline);
        else
            RegisterStream(syntax.Name, pipeline, shape); // KSML registers a sinkless pipeline under its own name.
        return pipeline;
    }

    private void RegisterStream(NameSyntax name, BoundPipeline pipeline, StreamShape shape)
    {
        if (_topics.TryGetValue(name.Name, out var topic))
        {
            Report(DiagnosticDescriptors.DuplicateName, name.Span, name.Name, Describe(topic.Kind), topic.Span.Line);
            return;
        }
        if (_namedStreams.TryGetValue(name.Name, out var earlier))
        {
            Report(DiagnosticDescriptors.DuplicateName, name.Span, name.Name, "pipeline output", earlier.Pipeline.Syntax.Span.Line);
            return;
        }
        _namedStreams[name.Name] = (pipeline, shape);
    }

    private BoundSource? ResolveSource(TopicRefSyntax from, string pipelineName)
    {
        if (from.Inline is not null)
        {
            var inline = BindTopic(from.Inline, pipelineName + "_from");
            return new BoundSource(inline, null, ShapeOf(inline), from.Span);
        }
        var name = from.Name!;
        if (_namedStreams.TryGetValue(name.Name, out var named))
            return new BoundSource(null, named.Pipeline, named.Shape, from.Span);
        if (_topics.TryGetValue(name.Name, out var topic))
        {
            if (topic.Kind == TopicKind.GlobalTable)
            {
                Report(DiagnosticDescriptors.OperationNotApplicable, name.Span, "from", "globalTable '" + name.Name + "'", "a stream or table; a globalTable can only be joined with");
                return null;
            }
            return new BoundSource(topic, null, ShapeOf(topic), from.Span);
        }
        var later = _syntax.Pipelines.FirstOrDefault(p => p.Name.Name == name.Name || p.Sink is AsSinkSyntax a && a.Name.Name == name.Name);
        if (later is not null)
        {
            Report(DiagnosticDescriptors.StreamUsedBeforeDefinition, name.Span, name.Name, later.Name.Name, later.Span.Line);
            return null;
        }
        Report(DiagnosticDescriptors.UndefinedStream, name.Span, name.Name, NameSuggester.Hint(name.Name, _topics.Keys.Concat(_namedStreams.Keys)));
        return null;
    }

    private static StreamShape ShapeOf(BoundTopic topic) => new(
        topic.Kind switch { TopicKind.Table => StreamKind.Table, TopicKind.GlobalTable => StreamKind.GlobalTable, _ => StreamKind.Stream },
        topic.Key, topic.Value);

    private StreamShape BindOperations(string owner, List<OperationSyntax> operations, List<BoundOperation> bound, StreamShape shape)
    {
        BoundOperation? previous = null;
        for (var i = 0; i < operations.Count; i++)
        {
            var operation = operations[i];
            // Ksml.NET builds session and sliding windows from the grouped stream's records, so the grouping must be in view.
            if (BuildsOwnWindows(operation) && !shape.IsUnknown && shape.Kind is StreamKind.GroupedStream or StreamKind.CogroupedStream && (i == 0 || operations[i - 1].Spec.Name is not ("groupByKey" or "groupBy")))
                Report(DiagnosticDescriptors.Unsupported, operation.WrittenAs.Span, operation.WrittenAs.Name + " on a grouped stream from another pipeline or a cogroup",
                    (operation.Spec.Name == "windowBySession" ? "session" : "sliding") + " windows (write groupByKey or groupBy right before " + operation.WrittenAs.Name + ")");
            var boundOperation = BindOperation(operation, shape, NodeName(owner, operation, i));
            if (previous is not null && BuildsOwnWindows(operation) && previous.Input.Kind == StreamKind.Stream)
                previous.GroupsForOwnWindows = true;
            bound.Add(boundOperation);
            previous = boundOperation;
            shape = boundOperation.Output;
        }
        return shape;
    }

    /// <summary>Session and sliding windows, which the runtime builds itself from the grouped records.</summary>
    private static bool BuildsOwnWindows(OperationSyntax operation) =>
        operation.Spec.Name == "windowBySession" || operation.Spec.Name == "windowByTime" && operation.Values.TryGetValue("windowType", out var type) && type.Name == "sliding";

    private bool Applicable(OperationSyntax operation, StreamShape input, StreamKind[] kinds, string needs, string? hint = null)
    {
        if (input.IsUnknown || kinds.Contains(input.Kind))
            return true;
        Report(DiagnosticDescriptors.OperationNotApplicable, operation.WrittenAs.Span, operation.WrittenAs.Name,
            StreamShape.Describe(input.Kind), needs + (hint is null ? "" : "; " + hint));
        return false;
    }

    /// <summary>The operations on a stream that can have calls of a function with <c>concurrency:</c> in flight at once.</summary>
    private static readonly string[] ConcurrentOperations =
    {
        "filter", "filterNot", "transformValue", "transformKey", "transformKeyValue", "transformKeyValueToKeyValueList", "transformKeyValueToValueList", "peek",
    };

    private BoundFunction? Function(OperationSyntax operation, BoundOperation bound, string field)
    {
        if (!operation.Functions.TryGetValue(field, out var reference))
            return null;
        var spec = operation.Spec.Field(field)!;
        var concurrent = bound.Input.Kind == StreamKind.Stream && ConcurrentOperations.Contains(operation.Spec.Name);
        var function = ResolveFunction(reference, spec.Function!, operation.WrittenAs.Name, concurrent);
        if (function is not null)
            bound.Functions[field] = function;
        return function;
    }

    private BoundOperation BindOperation(OperationSyntax op, StreamShape input, string nodeName)
    {
        // Functions, topics and stores attach to the operation as they bind; Output is set at the end.
        var result = new BoundOperation(op, nodeName, input, input);
        StreamShape output;
        switch (op.Spec.Name)
        {
            case "filter":
            case "filterNot":
                Applicable(op, input, StreamOrTable, "a stream or table");
                Function(op, result, "if");
                output = input;
                break;
            case "transformValue":
            {
                Applicable(op, input, StreamOrTable, "a stream or table");
                var f = Function(op, result, "mapper");
                output = input with { Value = f?.Result ?? KsmlType.Error, Kind = input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream };
                break;
            }
            case "transformKey":
            {
                Applicable(op, input, StreamOnly, "a stream", KeyChangeHint(input));
                var f = Function(op, result, "mapper");
                output = input with { Key = f?.Result ?? KsmlType.Error };
                break;
            }
            case "transformKeyValue":
            {
                Applicable(op, input, StreamOnly, "a stream", KeyChangeHint(input));
                var f = Function(op, result, "mapper");
                var (k, v) = KeyValueOf(f, op);
                output = input with { Key = k, Value = v };
                break;
            }
            case "transformKeyValueToKeyValueList":
            {
                Applicable(op, input, StreamOnly, "a stream", KeyChangeHint(input));
                var f = Function(op, result, "mapper");
                var (k, v) = f?.Result?.Resolve() is ListType list ? KeyValueOf(list.Element, f, op) : (KsmlType.Error, KsmlType.Error);
                output = input with { Key = k, Value = v };
                break;
            }
            case "transformKeyValueToValueList":
            {
                Applicable(op, input, StreamOnly, "a stream", KeyChangeHint(input));
                var f = Function(op, result, "mapper");
                output = input with { Value = f?.Result?.Resolve() is ListType list ? list.Element : KsmlType.Error };
                break;
            }
            case "transformMetadata":
                Applicable(op, input, StreamOnly, "a stream");
                Function(op, result, "mapper");
                output = input;
                break;
            case "peek":
                Applicable(op, input, StreamOnly, "a stream");
                Function(op, result, "forEach");
                output = input;
                break;
            case "convertKey":
            case "convertValue":
            case "convertKeyValue":
            {
                Applicable(op, input, StreamOnly, "a stream");
                var into = op.Types.TryGetValue("into", out var t) ? t.Type ?? KsmlType.Error : KsmlType.Error;
                output = op.Spec.Name switch
                {
                    "convertKey" => input with { Key = into },
                    "convertValue" => input with { Value = into },
                    _ => into.Resolve() is TupleType { Elements.Count: 2 } tuple ? input with { Key = tuple.Elements[0], Value = tuple.Elements[1] } : ConvertKeyValueError(op, input),
                };
                break;
            }
            case "groupByKey":
                Applicable(op, input, StreamOnly, "a stream", input.Kind == StreamKind.Table ? "a table is grouped with groupBy" : null);
                output = input with { Kind = StreamKind.GroupedStream };
                BindStoreField(op, result, "store", output.Key, output.Value, nodeName);
                break;
            case "groupBy":
            {
                Applicable(op, input, StreamOrTable, "a stream or table");
                var f = Function(op, result, "mapper");
                if (input.Kind == StreamKind.Table && !input.IsUnknown)
                {
                    var (k, v) = KeyValueOf(f, op);
                    output = new StreamShape(StreamKind.GroupedTable, k, v);
                }
                else
                {
                    output = new StreamShape(StreamKind.GroupedStream, f?.Result ?? KsmlType.Error, input.Value, input.IsUnknown);
                }
                BindStoreField(op, result, "store", output.Key, output.Value, nodeName);
                break;
            }
            case "repartition":
                Applicable(op, input, StreamOnly, "a stream");
                Function(op, result, "partitioner");
                output = input;
                break;
            case "merge":
            {
                Applicable(op, input, StreamOnly, "a stream");
                output = input;
                if (!op.Topics.TryGetValue("stream", out var reference))
                    break;
                // As in KSML, the other stream may be a declared stream or an earlier pipeline's output or `as` name.
                (string Name, KsmlType Key, KsmlType Value)? other = null;
                if (reference.Name is { } name && !_topics.ContainsKey(name.Name) && _namedStreams.TryGetValue(name.Name, out var named))
                {
                    if (named.Shape.Kind == StreamKind.Stream || named.Shape.IsUnknown)
                    {
                        result.NamedStreams["stream"] = name.Name;
                        other = (name.Name, named.Shape.Key, named.Shape.Value);
                    }
                    else
                        Report(DiagnosticDescriptors.OperationNotApplicable, name.Span, "merge", StreamShape.Describe(named.Shape.Kind) + " '" + name.Name + "'", "a stream");
                }
                else if (ResolveTopic(reference, TopicKind.Stream, "merge", nodeName + "_stream") is { } topic)
                {
                    result.Topics["stream"] = topic;
                    other = (topic.Name, topic.Key, topic.Value);
                }
                if (other is { } o && (!TypeRelations.SameKey(o.Key, input.Key) || !TypeRelations.Unify(o.Value, input.Value) || ClrTypes.Of(o.Value) != ClrTypes.Of(input.Value)))
                    Report(DiagnosticDescriptors.TypeMismatch, reference.Span, "merge with '" + o.Name + "'",
                        "(" + input.Key.Resolve() + ", " + input.Value.Resolve() + ")", "(" + o.Key.Resolve() + ", " + o.Value.Resolve() + ")");
                break;
            }
            case "join":
            case "leftJoin":
            case "outerJoin":
                output = BindJoin(op, input, result);
                break;
            case "windowByTime":
            {
                Applicable(op, input, Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
                var windowType = op.Values.TryGetValue("windowType", out var w) ? w.Name : null;
                if (windowType is "tumbling" or "hopping" && !op.WrittenFields.Contains("duration"))
                    Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "a " + windowType + " window", "duration");
                if (windowType == "hopping" && !op.WrittenFields.Contains("advanceBy"))
                    Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "a hopping window", "advanceBy");
                if (windowType == "sliding" && !op.WrittenFields.Contains("timeDifference"))
                    Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "a sliding window", "timeDifference");
                output = input with { Kind = windowType == "sliding" ? StreamKind.SlidingWindowedStream : StreamKind.TimeWindowedStream };
                break;
            }
            case "windowBySession":
                Applicable(op, input, Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
                output = input with { Kind = StreamKind.SessionWindowedStream };
                break;
            case "cogroup":
                // KSML cogroups one grouped stream (a pipeline has one input), so cogroup + aggregate is an aggregation
                // whose aggregator is given first; Streamiz's lack of CogroupedKStream does not matter.
                if (input.Kind == StreamKind.CogroupedStream)
                    Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, "cogroup", "cogrouped stream", "a grouped stream; KSML cogroups one grouped stream");
                else
                    Applicable(op, input, Grouped, "a grouped stream", "group it first with groupByKey or groupBy");
                output = input with { Kind = StreamKind.CogroupedStream, CogroupAggregator = Function(op, result, "aggregator") };
                break;
            case "count":
                NotCogrouped(op, input);
                Applicable(op, input, Aggregatable, "a grouped or windowed stream", GroupHint(input));
                output = new StreamShape(StreamKind.Table, AggregateKey(input), Retractable(input, KsmlType.Long), input.IsUnknown);
                BindStoreField(op, result, "store", input.Key, KsmlType.Long, nodeName, AggregateStoreType(input));
                break;
            case "reduce":
                output = BindReduce(op, input, result, nodeName);
                break;
            case "aggregate":
                output = BindAggregate(op, input, result, nodeName);
                break;
            case "suppress":
                Applicable(op, input, new[] { StreamKind.Table }, "a table", "suppress follows count, reduce or aggregate");
                if (op.Values.TryGetValue("until", out var until) && until.Name == "timeLimit" && !op.WrittenFields.Contains("duration"))
                    Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "suppress until timeLimit", "duration");
                if (until?.Name == "windowCloses" && !input.IsUnknown && input.Key.Resolve() is not WindowedType and not ErrorType)
                    Report(DiagnosticDescriptors.OperationNotApplicable, until.Span, "suppress until windowCloses", "table keyed by '" + input.Key.Resolve() + "'", "the result of a windowed count, reduce or aggregate");
                output = input;
                break;
            case "toStream":
            {
                Applicable(op, input, new[] { StreamKind.Table }, "a table", input.Kind == StreamKind.Stream ? "it is already a stream" : GroupHint(input));
                var f = Function(op, result, "mapper");
                output = new StreamShape(StreamKind.Stream, f is null ? (op.Functions.ContainsKey("mapper") ? KsmlType.Error : input.Key) : f.Result ?? KsmlType.Error, input.Value, input.IsUnknown);
                break;
            }
            case "toTable":
                Applicable(op, input, StreamOnly, "a stream", input.Kind == StreamKind.Table ? "it is already a table" : null);
                output = input with { Kind = StreamKind.Table };
                BindStoreField(op, result, "store", input.Key, input.Value, nodeName);
                break;
            default:
                output = input;
                break;
        }

        if (op.Stores.ContainsKey("store") && !result.Stores.ContainsKey("store"))
            BindStoreField(op, result, "store", input.Key, input.Value, nodeName);
        result.Output = output with { Window = WindowExtentOf(op) ?? input.Window };
        return result;
    }

    /// <summary>The extent of the windows a <c>windowByTime</c> or <c>windowBySession</c> makes; null for other operations.</summary>
    private static WindowExtent? WindowExtentOf(OperationSyntax op)
    {
        if (op.Spec.Name is not ("windowByTime" or "windowBySession"))
            return null;
        long Ms(string field) => op.Durations.TryGetValue(field, out var duration) ? duration.Milliseconds : 0;
        // A session can still grow until the gap has passed after its end.
        return new WindowExtent(Ms("duration"), Ms("grace") + Ms("inactivityGap"));
    }

    private static string? KeyChangeHint(StreamShape input) =>
        input.Kind == StreamKind.Table ? "convert the table with toStream first" : null;

    private static string? GroupHint(StreamShape input) => input.Kind switch
    {
        StreamKind.Stream => "group it first with groupByKey or groupBy",
        StreamKind.Table => "group it first with groupBy",
        _ => null,
    };

    private static KsmlType AggregateKey(StreamShape input) =>
        input.Kind is StreamKind.TimeWindowedStream or StreamKind.SlidingWindowedStream or StreamKind.SessionWindowedStream ? new WindowedType(input.Key) : input.Key;

    /// <summary>
    /// A session aggregation retracts merged-away sessions with null, so a primitive aggregate (a count)
    /// becomes optional there: C# carries it as <c>long?</c>, which can be null.
    /// </summary>
    private static KsmlType Retractable(StreamShape input, KsmlType aggregate) =>
        input.Kind == StreamKind.SessionWindowedStream && aggregate.Resolve() is PrimitiveType { Kind: not (PrimitiveKind.String or PrimitiveKind.Bytes or PrimitiveKind.Null or PrimitiveKind.Any) }
            ? new UnionType(new[] { KsmlType.Null, aggregate })
            : aggregate;

    private static string AggregateStoreType(StreamShape input) => input.Kind switch
    {
        StreamKind.TimeWindowedStream or StreamKind.SlidingWindowedStream => "window",
        StreamKind.SessionWindowedStream => "session",
        _ => "keyValue",
    };

    private StreamShape ConvertKeyValueError(OperationSyntax op, StreamShape input)
    {
        var into = op.Types["into"];
        if (into.Type is not null)
            Report(DiagnosticDescriptors.TypeMismatch, into.Span, "convertKeyValue 'into'", "(keyType, valueType)", into.Text);
        return input with { Key = KsmlType.Error, Value = KsmlType.Error };
    }

    private void BindStoreField(OperationSyntax op, BoundOperation bound, string field, KsmlType key, KsmlType value, string nodeName, string? expectedType = null)
    {
        if (!op.Stores.TryGetValue(field, out var reference))
            return;
        var spec = op.Spec.Field(field)!;
        var store = ResolveStore(reference, expectedType ?? spec.StoreKind, "'" + op.WrittenAs.Name + "'", key, value, nodeName + "_store");
        if (store is not null)
            bound.Stores[field] = store;
    }

    /// <summary>The (key, value) a key-value function returns, inferring a tuple when the result type is open.</summary>
    private (KsmlType Key, KsmlType Value) KeyValueOf(BoundFunction? function, OperationSyntax op) =>
        function?.Result is null ? (KsmlType.Error, KsmlType.Error) : KeyValueOf(function.Result, function, op);

    private (KsmlType Key, KsmlType Value) KeyValueOf(KsmlType result, BoundFunction? function, OperationSyntax op)
    {
        switch (result.Resolve())
        {
            case TupleType { Elements.Count: 2 } tuple:
                return (tuple.Elements[0], tuple.Elements[1]);
            case TypeVariable variable:
                var key = new TypeVariable(variable.Description);
                var value = new TypeVariable(variable.Description);
                variable.Bind(new TupleType(new KsmlType[] { key, value }));
                return (key, value);
            case ErrorType:
                return (KsmlType.Error, KsmlType.Error);
            default:
                if (function is not null)
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, function.Syntax.ResultType?.Span ?? op.WrittenAs.Span,
                        function.Name, function.Kind.Name, "a (key, value) tuple such as '(string, json)'", result.Resolve());
                return (KsmlType.Error, KsmlType.Error);
        }
    }

    private StreamShape BindJoin(OperationSyntax op, StreamShape input, BoundOperation result)
    {
        var targets = op.Topics.Keys.Where(k => k is "stream" or "table" or "globalTable").ToList();
        Applicable(op, input, StreamOrTable, "a stream or table");
        if (targets.Count != 1)
        {
            if (targets.Count == 0)
                Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "operation '" + op.WrittenAs.Name + "'", "stream', 'table' or 'globalTable");
            else
                Report(DiagnosticDescriptors.ConflictingSinks, op.Topics[targets[1]].Span, op.WrittenAs.Name, targets[0], targets[1]);
            Function(op, result, "valueJoiner");
            return StreamShape.Unknown(input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream);
        }
        var field = targets[0];
        var reference = op.Topics[field];
        var kind = field == "stream" ? TopicKind.Stream : field == "table" ? TopicKind.Table : TopicKind.GlobalTable;
        var target = ResolveTopic(reference, kind, op.WrittenAs.Name, result.NodeName + "_" + field);
        var joiner = Function(op, result, "valueJoiner");
        var outputKind = input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream;

        var foreignKey = op.Functions.ContainsKey("foreignKeyExtractor") && input.Kind == StreamKind.Table;
        if (op.Functions.TryGetValue("foreignKeyExtractor", out var extractor) && !input.IsUnknown)
        {
            if (input.Kind == StreamKind.Stream && field == "table")
            {
                // KSML ignores it there (its stream-table join has no extractor); so does Ksml.NET, saying so.
                Report(DiagnosticDescriptors.FieldWithoutEffect, extractor.Span, "foreignKeyExtractor", "in a join of a stream with a table",
                    "the stream joins on its own key, as in KSML; a foreign-key join joins two tables");
                Function(op, result, "foreignKeyExtractor");
            }
            else if (field != "table" || input.Kind != StreamKind.Table)
                Report(DiagnosticDescriptors.OperationNotApplicable, extractor.Span, op.WrittenAs.Name + " with a foreignKeyExtractor",
                    StreamShape.Describe(input.Kind), "a table joined (join or leftJoin) with a table, as Kafka Streams' foreign-key joins are");
            else if (op.Spec.Name == "outerJoin")
                Report(DiagnosticDescriptors.OperationNotApplicable, extractor.Span, "outerJoin with a foreignKeyExtractor", "table", "join or leftJoin: Kafka Streams has no foreign-key outer join");
        }

        if (!input.IsUnknown)
        {
            if (field == "stream" && input.Kind != StreamKind.Stream)
                Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, op.WrittenAs.Name + " with a stream", "table", "a stream; join a table with another table");
            if (field == "globalTable" && input.Kind != StreamKind.Stream)
                Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, op.WrittenAs.Name + " with a globalTable", "table", "a stream");
            if (field == "table" && op.Spec.Name == "outerJoin" && input.Kind != StreamKind.Table)
                Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, "outerJoin with a table", "stream", "a table; a stream can join or leftJoin a table");
        }
        if (field == "stream" && !op.WrittenFields.Contains("timeDifference"))
            Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "a stream-stream " + op.WrittenAs.Name, "timeDifference");
        if (field == "globalTable" && !op.Functions.ContainsKey("mapper"))
            Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "a join with a globalTable", "mapper");

        foreach (var storeField in new[] { "thisStore", "otherStore", "store" })
        {
            if (op.Stores.ContainsKey(storeField))
                BindStoreField(op, result, storeField, input.Key, storeField == "otherStore" ? target?.Value ?? KsmlType.Error : input.Value, result.NodeName + "_" + storeField);
        }

        if (target is null)
            return new StreamShape(outputKind, input.Key, joiner?.Result ?? KsmlType.Error, input.IsUnknown);
        result.Topics[field] = target;
        if (foreignKey)
        {
            // The extractor's result is the right table's key, so the two keys may differ.
            if (Function(op, result, "foreignKeyExtractor")?.Result is { } extracted)
                Flow(extracted, target.Key, op.Functions["foreignKeyExtractor"].Span, "the key the foreignKeyExtractor of '" + op.WrittenAs.Name + "' returns for table '" + target.Name + "'");
        }
        else if (field == "globalTable")
        {
            var mapper = Function(op, result, "mapper");
            if (mapper?.Result is { } mapped)
                Flow(mapped, target.Key, op.Functions["mapper"].Span, "the key the mapper of '" + op.WrittenAs.Name + "' returns for globalTable '" + target.Name + "'");
        }
        else if (!input.IsUnknown && !TypeRelations.SameKey(input.Key, target.Key))
        {
            Report(DiagnosticDescriptors.JoinKeyMismatch, reference.Span, input.Key.Resolve(), target.Name, target.Key.Resolve());
        }
        return new StreamShape(outputKind, input.Key, joiner?.Result ?? KsmlType.Error, input.IsUnknown);
    }

    /// <summary>A cogrouped stream ends in aggregate, which applies cogroup's aggregator (count and reduce have none).</summary>
    private void NotCogrouped(OperationSyntax op, StreamShape input)
    {
        if (input.CogroupAggregator is not null && input.Kind != StreamKind.CogroupedStream)
            Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, op.WrittenAs.Name, "cogrouped " + StreamShape.Describe(input.Kind), "a grouped or windowed stream; a cogrouped stream ends in aggregate");
    }

    private StreamShape BindReduce(OperationSyntax op, StreamShape input, BoundOperation result, string nodeName)
    {
        NotCogrouped(op, input);
        Applicable(op, input, Aggregatable, "a grouped or windowed stream, or a grouped table", GroupHint(input));
        var isTable = input.Kind == StreamKind.GroupedTable;
        if (isTable)
        {
            if (!op.Functions.ContainsKey("adder") || !op.Functions.ContainsKey("subtractor"))
                Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "reduce on a grouped table", op.Functions.ContainsKey("adder") ? "subtractor" : "adder");
        }
        else if (!op.Functions.ContainsKey("reducer"))
        {
            Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "reduce on a grouped stream", "reducer");
        }
        foreach (var field in new[] { "reducer", "adder", "subtractor" })
        {
            if (Function(op, result, field)?.Result is { } reduced)
                Flow(reduced, input.Value, op.Functions[field].Span, "the result of " + field + " '" + result.Functions[field].Name + "' (a reducer returns the value type)");
        }
        BindStoreField(op, result, "store", input.Key, input.Value, nodeName, AggregateStoreType(input));
        return new StreamShape(StreamKind.Table, AggregateKey(input), Retractable(input, input.Value), input.IsUnknown);
    }

    private StreamShape BindAggregate(OperationSyntax op, StreamShape input, BoundOperation result, string nodeName)
    {
        Applicable(op, input, Aggregatable.Concat(new[] { StreamKind.CogroupedStream }).ToArray(), "a grouped or windowed stream, or a grouped table", GroupHint(input));
        var initializer = Function(op, result, "initializer");
        var aggregateType = initializer?.Result ?? KsmlType.Error;
        if (input.Kind == StreamKind.GroupedTable)
        {
            if (!op.Functions.ContainsKey("adder") || !op.Functions.ContainsKey("subtractor"))
                Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "aggregate on a grouped table", op.Functions.ContainsKey("adder") ? "subtractor" : "adder");
        }
        else if (input.CogroupAggregator is { } cogrouped)
        {
            if (op.Functions.TryGetValue("aggregator", out var second))
                Report(DiagnosticDescriptors.OperationNotApplicable, second.Span, "aggregate's aggregator", "cogrouped stream", "a grouped stream; after cogroup, its aggregator is the one applied");
            if (cogrouped.Result is { } cogroupResult)
                Flow(cogroupResult, aggregateType, op.WrittenAs.Span, "the result of cogroup's aggregator '" + cogrouped.Name + "' (it must match the initializer's)");
        }
        else if (!op.Functions.ContainsKey("aggregator"))
        {
            Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "aggregate on a grouped stream", "aggregator");
        }
        if (input.Kind == StreamKind.SessionWindowedStream && !op.Functions.ContainsKey("merger"))
            Report(DiagnosticDescriptors.MissingRequiredField, op.WrittenAs.Span, "aggregate on a session-windowed stream", "merger");
        foreach (var field in new[] { "aggregator", "adder", "subtractor", "merger" })
        {
            if (Function(op, result, field)?.Result is { } aggregated)
                Flow(aggregated, aggregateType, op.Functions[field].Span, "the result of " + field + " '" + result.Functions[field].Name + "' (it must match the initializer's)");
        }
        BindStoreField(op, result, "store", input.Key, aggregateType, nodeName, AggregateStoreType(input));
        return new StreamShape(StreamKind.Table, AggregateKey(input), Retractable(input, aggregateType), input.IsUnknown);
    }

    // ---- sinks ---------------------------------------------------------------------------------

    private BoundSink? BindSink(SinkSyntax sink, StreamShape input, string owner, BoundPipeline pipeline)
    {
        bool NeedsStream()
        {
            if (input.IsUnknown || input.Kind == StreamKind.Stream)
                return true;
            Report(DiagnosticDescriptors.OperationNotApplicable, sink.Keyword.Span, sink.Keyword.Name, StreamShape.Describe(input.Kind),
                "a stream" + (input.Kind == StreamKind.Table ? "; add 'toStream' before it" : "; finish the grouping with count, reduce or aggregate, then toStream"));
            return false;
        }

        switch (sink)
        {
            case ToSinkSyntax to:
            {
                NeedsStream();
                var target = to.Target.Inline is not null
                    ? BindTopic(to.Target.Inline, owner + "_to", input.Key, input.Value)
                    : _topics.TryGetValue(to.Target.Name!.Name, out var declared) ? declared : null;
                if (target is null)
                {
                    Report(DiagnosticDescriptors.UndefinedTarget, to.Target.Span, to.Target.Name!.Name, NameSuggester.Hint(to.Target.Name.Name, _topics.Keys));
                    // Nothing is known about the target: settle open types so they are not reported as uninferable.
                    TypeRelations.Unify(input.Key, KsmlType.Error);
                    TypeRelations.Unify(input.Value, KsmlType.Error);
                    return null;
                }
                Flow(input.Key, target.Key, to.Target.Span, "the key type of '" + target.Name + "' (topic " + target.Topic + ")");
                Flow(input.Value, target.Value, to.Target.Span, "the value type of '" + target.Name + "' (topic " + target.Topic + ")");
                var bound = new BoundToSink(sink, input, target) { Partitioner = target.Partitioner };
                if (to.Partitioner is not null && to.Target.Inline is null)
                    bound.Partitioner = ResolveFunction(to.Partitioner, FunctionKind.StreamPartitioner, "to");
                return bound;
            }
            case TopicNameExtractorSinkSyntax extractor:
            {
                NeedsStream();
                var function = ResolveFunction(extractor.Extractor, FunctionKind.TopicNameExtractor, "toTopicNameExtractor");
                if (function is null)
                    return null;
                return new BoundTopicNameExtractorSink(sink, input, function)
                {
                    Partitioner = extractor.Partitioner is null ? null : ResolveFunction(extractor.Partitioner, FunctionKind.StreamPartitioner, "toTopicNameExtractor"),
                };
            }
            case ForEachSinkSyntax forEach:
            {
                NeedsStream();
                var function = ResolveFunction(forEach.Action, FunctionKind.ForEach, "forEach", concurrent: true, batched: true);
                return function is null ? null : new BoundForEachSink(sink, input, function);
            }
            case PrintSinkSyntax print:
            {
                NeedsStream();
                return new BoundPrintSink(print, input)
                {
                    Mapper = print.Mapper is null ? null : ResolveFunction(print.Mapper, FunctionKind.KeyValuePrinter, "print"),
                };
            }
            case AsSinkSyntax asSink:
                RegisterStream(asSink.Name, pipeline, input);
                return new BoundAsSink(asSink, input);
            case BranchSinkSyntax branch:
            {
                NeedsStream();
                var bound = new BoundBranchSink(sink, input);
                var sawDefault = false;
                for (var i = 0; i < branch.Branches.Count; i++)
                {
                    var syntax = branch.Branches[i];
                    if (sawDefault)
                        Report(DiagnosticDescriptors.BranchDefaultNotLast, syntax.Span);
                    var name = owner + "_branch" + (i + 1);
                    var boundBranch = new BoundBranch(name, syntax);
                    if (syntax.If is not null)
                        boundBranch.Predicate = ResolveFunction(syntax.If, FunctionKind.Predicate, "branch");
                    else
                        sawDefault = true;
                    var shape = BindOperations(name, syntax.Operations, boundBranch.Operations, input with { Kind = StreamKind.Stream });
                    if (syntax.Sink is not null)
                        boundBranch.Sink = BindSink(syntax.Sink, shape, name, pipeline);
                    bound.Branches.Add(boundBranch);
                }
                return bound;
            }
            default:
                return null;
        }
    }

    // ---- producers -----------------------------------------------------------------------------

    private void BindProducer(ProducerSyntax syntax)
    {
        var generator = syntax.Generator is null ? null : ResolveFunction(syntax.Generator, FunctionKind.Generator, "generator");
        var target = syntax.To is null ? null : syntax.To.Inline is not null
            ? BindTopic(syntax.To.Inline, syntax.Name.Name + "_to")
            : _topics.TryGetValue(syntax.To.Name!.Name, out var declared) ? declared : null;
        if (syntax.To is not null && target is null)
            Report(DiagnosticDescriptors.UndefinedTarget, syntax.To.Span, syntax.To.Name!.Name, NameSuggester.Hint(syntax.To.Name.Name, _topics.Keys));
        var condition = syntax.Condition is null ? null : ResolveFunction(syntax.Condition, FunctionKind.Predicate, "condition");
        var until = syntax.Until is null ? null : ResolveFunction(syntax.Until, FunctionKind.Predicate, "until");
        if (generator is null || target is null)
        {
            if (generator?.Result is { } open)
                TypeRelations.Unify(open, KsmlType.Error);
            return;
        }
        // A generator returns one (key, value) or a list of them; either way the pair must fit the target.
        var result = generator.Result!.Resolve();
        var pair = result is ListType list ? list.Element : result;
        var (key, value) = KeyValueOf(pair, generator, new OperationSyntax(OperationCatalog.Find("transformKeyValue")!, syntax.Name, syntax.Span));
        Flow(key, target.Key, syntax.To!.Span, "the key type of '" + target.Name + "' (topic " + target.Topic + ")");
        Flow(value, target.Value, syntax.To.Span, "the value type of '" + target.Name + "' (topic " + target.Topic + ")");
        _bound.Producers.Add(new BoundProducer(syntax, generator, target) { Condition = condition, Until = until });
    }
}
