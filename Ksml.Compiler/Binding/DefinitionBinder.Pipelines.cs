using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Operations;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Binding;

public sealed partial class DefinitionBinder
{
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
            var buildsOwnWindows = operation.Operation.BuildsOwnWindows(operation);
            // Ksml.NET builds session and sliding windows from the grouped stream's records, so the grouping must be in view.
            if (buildsOwnWindows && !shape.IsUnknown && shape.Kind is StreamKind.GroupedStream or StreamKind.CogroupedStream && (i == 0 || operations[i - 1].Operation is not (GroupByKeyOperation or GroupByOperation)))
                Report(DiagnosticDescriptors.Unsupported, operation.WrittenAs.Span, operation.WrittenAs.Name + " on a grouped stream from another pipeline or a cogroup",
                    (operation.Operation is WindowBySessionOperation ? "session" : "sliding") + " windows (write groupByKey or groupBy right before " + operation.WrittenAs.Name + ")");
            var boundOperation = BindOperation(operation, shape, NodeName(owner, operation, i));
            if (previous is not null && buildsOwnWindows && previous.Input.Kind == StreamKind.Stream)
                previous.GroupsForOwnWindows = true;
            bound.Add(boundOperation);
            previous = boundOperation;
            shape = boundOperation.Output;
        }
        return shape;
    }

    private BoundOperation BindOperation(OperationSyntax syntax, StreamShape input, string nodeName)
    {
        // Functions, topics and stores attach to the operation as they bind; Output is set at the end.
        var result = new BoundOperation(syntax, nodeName, input, input);
        var binding = new OperationBinding(this, result);
        var output = syntax.Operation.Bind(binding);
        // A store on an operation that does not materialise one itself (filter, transformValue on a table) holds its input.
        if (syntax.Stores.ContainsKey("store") && !result.Stores.ContainsKey("store"))
            binding.Store("store", input.Key, input.Value);
        result.Output = output with { Window = syntax.Operation.WindowOf(syntax) ?? input.Window };
        return result;
    }

    internal bool IsDeclaredTopic(string name) => _topics.ContainsKey(name);

    internal StreamShape? NamedStreamShape(string name) => _namedStreams.TryGetValue(name, out var named) ? named.Shape : null;

    /// <summary>The (key, value) a key-value function returns, inferring a tuple when the result type is open.</summary>
    internal (KsmlType Key, KsmlType Value) KeyValueOf(BoundFunction? function, SourceSpan usage) =>
        function?.Result is null ? (KsmlType.Error, KsmlType.Error) : KeyValueOf(function.Result, function, usage);

    internal (KsmlType Key, KsmlType Value) KeyValueOf(KsmlType result, BoundFunction? function, SourceSpan usage)
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
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, function.Syntax.ResultType?.Span ?? usage,
                        function.Name, function.Kind.Name, "a (key, value) tuple such as '(string, json)'", result.Resolve());
                return (KsmlType.Error, KsmlType.Error);
        }
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
        var (key, value) = KeyValueOf(pair, generator, syntax.Name.Span);
        Flow(key, target.Key, syntax.To!.Span, "the key type of '" + target.Name + "' (topic " + target.Topic + ")");
        Flow(value, target.Value, syntax.To.Span, "the value type of '" + target.Name + "' (topic " + target.Topic + ")");
        _bound.Producers.Add(new BoundProducer(syntax, generator, target) { Condition = condition, Until = until });
    }
}
