using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Syntax;

namespace Ksml.Compiler.Emit;

/// <summary>How a topology is drawn: plain text, Mermaid (renders on GitHub) or Graphviz dot.</summary>
public enum DiagramFormat
{
    Text,
    Mermaid,
    Dot,
}

/// <summary>
/// The topology a definition builds, as a person reads it: sources, every operation by its YAML name and line,
/// stores, sinks, producers, and the internal topics the runtime adds (repartitions, a foreign-key join's
/// subscription and response topics). Drawn from the bound model, so it shows the definition as written.
/// </summary>
public static class TopologyDiagram
{
    /// <summary>Draws <paramref name="definition"/> in <paramref name="format"/>.</summary>
    public static string Describe(BoundDefinition definition, DiagramFormat format)
    {
        var graph = new Graph();
        graph.Build(definition);
        return format switch
        {
            DiagramFormat.Mermaid => graph.Mermaid(),
            DiagramFormat.Dot => graph.Dot(definition.Name),
            _ => graph.Text(definition),
        };
    }

    private sealed class Graph
    {
        private readonly List<(string Id, string Label, string Kind)> _nodes = new();
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private readonly List<(string From, string To, string? Label, bool Dashed)> _edges = new();
        private readonly Dictionary<string, string> _pipelineEnds = new(StringComparer.Ordinal);
        private readonly List<string> _text = new();

        public void Build(BoundDefinition definition)
        {
            foreach (var producer in definition.Producers)
            {
                var id = Node("producer_" + producer.Name, $"producer {producer.Name} · line {producer.Syntax.Name.Span.Line}", "producer");
                _edges.Add((id, Topic(producer.Target), null, false));
                _text.Add($"  Producer {producer.Name} (line {producer.Syntax.Name.Span.Line}) → topic {producer.Target.Topic}");
            }
            foreach (var pipeline in definition.Pipelines)
            {
                var line = pipeline.Syntax.Name.Span.Line;
                string current;
                if (pipeline.Source?.Topic is { } topic)
                {
                    current = Topic(topic);
                    _text.Add($"  Pipeline {pipeline.Name} (line {line}) from {Kind(topic.Kind)} {topic.Name} (topic {topic.Topic})");
                }
                else
                {
                    var from = pipeline.Syntax.From?.Name?.Name ?? "?";
                    current = _pipelineEnds.TryGetValue(from, out var end) ? end : Node("stream_" + from, from, "stream");
                    _text.Add($"  Pipeline {pipeline.Name} (line {line}) from the output of {from}");
                }
                current = Operations(pipeline.Name, pipeline.Operations, current, "    ");
                _pipelineEnds[pipeline.Name] = current;
                if (pipeline.Sink is { } sink)
                    Sink(pipeline.Name, sink, current, "    ");
            }
        }

        private string Operations(string owner, List<BoundOperation> operations, string current, string indent)
        {
            var keyChanged = false;
            for (var i = 0; i < operations.Count; i++)
            {
                var op = operations[i];
                var line = op.Syntax.WrittenAs.Span.Line;
                var internalTopics = op.Operation.InternalTopics(op, keyChanged).ToList();
                keyChanged = internalTopics.Count == 0 && (keyChanged || op.Operation.ChangesKey);
                var label = $"{op.Syntax.WrittenAs.Name} · line {line}";
                var id = Node($"{owner}_{i}_{op.Operation.Name}", label, "operation");
                _edges.Add((current, id, null, false));
                var details = new List<string>();
                foreach (var pair in op.Topics)
                {
                    _edges.Add((Topic(pair.Value), id, pair.Key, true));
                    details.Add($"{pair.Key} {pair.Value.Name}");
                }
                foreach (var named in op.NamedStreams.Values)
                    if (_pipelineEnds.TryGetValue(named, out var end))
                    {
                        _edges.Add((end, id, "stream", true));
                        details.Add($"stream {named}");
                    }
                foreach (var store in op.Stores.Values.Concat(op.Functions.Values.SelectMany(f => f.Stores)).Distinct())
                {
                    _edges.Add((id, Store(store), null, true));
                    details.Add($"store {store.Name}");
                }
                foreach (var topic in internalTopics)
                {
                    var internalId = Node($"{owner}_{i}_{topic}", $"{topic} topic", "internal");
                    _edges.Add((id, internalId, null, true));
                    details.Add($"{topic} topic");
                }
                _text.Add($"{indent}line {line,-4} {op.Syntax.WrittenAs.Name}{(details.Count > 0 ? "  [" + string.Join(", ", details) + "]" : "")}");
                current = id;
            }
            return current;
        }

        private void Sink(string owner, BoundSink sink, string current, string indent)
        {
            var line = sink.Syntax.Keyword.Span.Line;
            switch (sink)
            {
                case BoundToSink to:
                    _edges.Add((current, Topic(to.Target), "to", false));
                    _text.Add($"{indent}line {line,-4} to {to.Target.Name} (topic {to.Target.Topic})");
                    break;
                case BoundBranchSink branch:
                    var id = Node(owner + "_branch", $"branch · line {line}", "operation");
                    _edges.Add((current, id, null, false));
                    _text.Add($"{indent}line {line,-4} branch");
                    for (var b = 0; b < branch.Branches.Count; b++)
                    {
                        var arm = branch.Branches[b];
                        var armId = Node($"{owner}_branch_{b}", arm.Predicate is null ? "otherwise" : $"if {arm.Predicate.Name}", "operation");
                        _edges.Add((id, armId, null, false));
                        _text.Add($"{indent}  {(arm.Predicate is null ? "otherwise" : "if " + arm.Predicate.Name)}:");
                        var end = Operations($"{owner}_branch_{b}", arm.Operations, armId, indent + "    ");
                        if (arm.Sink is { } armSink)
                            Sink($"{owner}_branch_{b}", armSink, end, indent + "    ");
                    }
                    break;
                default:
                    var name = sink.Syntax.Keyword.Name;
                    var sinkId = Node(owner + "_" + name, $"{name} · line {line}", "sink");
                    _edges.Add((current, sinkId, null, false));
                    _text.Add($"{indent}line {line,-4} {name}{(sink is BoundAsSink a ? " " + a.Name : "")}");
                    if (sink is BoundAsSink named)
                        _pipelineEnds[named.Name] = current;
                    break;
            }
        }

        private static string Kind(TopicKind kind) => kind switch
        {
            TopicKind.Table => "table",
            TopicKind.GlobalTable => "global table",
            _ => "stream",
        };

        private string Topic(BoundTopic topic) => Node("topic_" + topic.Topic, topic.Topic, "topic");

        private string Store(BoundStore store) => Node("store_" + store.Name, "store " + store.Name, "store");

        private string Node(string key, string label, string kind)
        {
            var id = Id(key);
            if (_ids.Add(id))
                _nodes.Add((id, label, kind));
            return id;
        }

        private static string Id(string key)
        {
            var id = new StringBuilder(key.Length);
            foreach (var c in key)
                id.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
            return id.ToString();
        }

        private static string Quote(string label) => label.Replace("\"", "'");

        public string Text(BoundDefinition definition) =>
            $"Definition {definition.Name} ({definition.Path})\n" + string.Join("\n", _text) + "\n";

        public string Mermaid()
        {
            var text = new StringBuilder("flowchart LR\n");
            foreach (var (id, label, kind) in _nodes)
                text.Append("  ").Append(id).Append(kind switch
                {
                    "topic" => "[(\"" + Quote(label) + "\")]",
                    "store" => "[/\"" + Quote(label) + "\"/]",
                    "internal" => "{{\"" + Quote(label) + "\"}}",
                    "producer" => ">\"" + Quote(label) + "\"]",
                    _ => "[\"" + Quote(label) + "\"]",
                }).Append('\n');
            foreach (var (from, to, label, dashed) in _edges.Distinct())
                text.Append("  ").Append(from).Append(dashed ? " -.-> " : " --> ").Append(label is null ? "" : "|" + Quote(label) + "| ").Append(to).Append('\n');
            return text.ToString();
        }

        public string Dot(string name)
        {
            var text = new StringBuilder("digraph \"" + Quote(name) + "\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
            foreach (var (id, label, kind) in _nodes)
                text.Append("  ").Append(id).Append(" [label=\"").Append(Quote(label)).Append("\", ").Append(kind switch
                {
                    "topic" => "shape=cylinder, style=filled, fillcolor=\"#dbe9f6\"",
                    "store" => "shape=folder, style=filled, fillcolor=\"#fdf1d6\"",
                    "internal" => "shape=hexagon, style=dashed",
                    "producer" => "shape=cds, style=filled, fillcolor=\"#e3f1df\"",
                    _ => "shape=box, style=rounded",
                }).Append("];\n");
            foreach (var (from, to, label, dashed) in _edges.Distinct())
                text.Append("  ").Append(from).Append(" -> ").Append(to).Append(" [").Append(dashed ? "style=dashed" : "style=solid")
                    .Append(label is null ? "" : ", label=\"" + Quote(label) + "\"").Append("];\n");
            return text.Append("}\n").ToString();
        }
    }
}
