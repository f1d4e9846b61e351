using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Emit;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;

namespace Ksml.Compiler.Operations;

/// <summary>
/// <c>join</c>, <c>leftJoin</c> and <c>outerJoin</c> of a stream or table with a stream (windowed), a table
/// (on the key, or on a foreign key between two tables) or a global table (through a key mapper).
/// </summary>
public sealed class JoinOperation : PipelineOperation
{
    public static readonly JoinOperation Join = new("join");
    public static readonly JoinOperation LeftJoin = new("leftJoin");
    public static readonly JoinOperation OuterJoin = new("outerJoin");

    private static readonly string[] Targets = { "stream", "table", "globalTable" };

    private JoinOperation(string name) : base(name, NoAliases, null,
        new("stream", FieldKind.Stream), new("table", FieldKind.Table), new("globalTable", FieldKind.GlobalTable),
        Fn("valueJoiner", FunctionKind.ValueJoiner, true), Dur("timeDifference"), Dur("grace"),
        new("thisStore", FieldKind.Store, storeKind: "window"), new("otherStore", FieldKind.Store, storeKind: "window"),
        Fn("foreignKeyExtractor", FunctionKind.ForeignKeyExtractor), Fn("partitioner", FunctionKind.StreamPartitioner),
        Fn("otherPartitioner", FunctionKind.StreamPartitioner), Store(), Fn("mapper", FunctionKind.KeyValueMapper))
    { }

    public override StreamShape Bind(OperationBinding b)
    {
        var op = b.Syntax;
        var input = b.Input;
        var targets = op.Topics.Keys.Where(Targets.Contains).ToList();
        b.Applicable(OperationBinding.StreamOrTable, "a stream or table");
        if (targets.Count != 1)
        {
            if (targets.Count == 0)
                b.ReportMissing("operation '" + b.WrittenAs + "'", "stream', 'table' or 'globalTable");
            else
                b.Report(DiagnosticDescriptors.ConflictingSinks, op.Topics[targets[1]].Span, b.WrittenAs, targets[0], targets[1]);
            b.Function("valueJoiner");
            return StreamShape.Unknown(input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream);
        }
        var field = targets[0];
        var reference = op.Topics[field];
        var kind = field == "stream" ? TopicKind.Stream : field == "table" ? TopicKind.Table : TopicKind.GlobalTable;
        var target = b.Topic(reference, kind, b.NodeName + "_" + field);
        var joiner = b.Function("valueJoiner");
        var outputKind = input.Kind == StreamKind.Table ? StreamKind.Table : StreamKind.Stream;

        var foreignKey = op.Functions.ContainsKey("foreignKeyExtractor") && input.Kind == StreamKind.Table;
        if (op.Functions.TryGetValue("foreignKeyExtractor", out var extractor) && !input.IsUnknown)
        {
            if (input.Kind == StreamKind.Stream && field == "table")
            {
                // KSML ignores it there (its stream-table join has no extractor); so does Ksml.NET, saying so.
                b.Report(DiagnosticDescriptors.FieldWithoutEffect, extractor.Span, "foreignKeyExtractor", "in a join of a stream with a table",
                    "the stream joins on its own key, as in KSML; a foreign-key join joins two tables");
                b.Function("foreignKeyExtractor");
            }
            else if (field != "table" || input.Kind != StreamKind.Table)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, extractor.Span, b.WrittenAs + " with a foreignKeyExtractor",
                    StreamShape.Describe(input.Kind), "a table joined (join or leftJoin) with a table, as Kafka Streams' foreign-key joins are");
            else if (this == OuterJoin)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, extractor.Span, "outerJoin with a foreignKeyExtractor", "table", "join or leftJoin: Kafka Streams has no foreign-key outer join");
        }

        if (!input.IsUnknown)
        {
            if (field == "stream" && input.Kind != StreamKind.Stream)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, b.WrittenAs + " with a stream", "table", "a stream; join a table with another table");
            if (field == "globalTable" && input.Kind != StreamKind.Stream)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, b.WrittenAs + " with a globalTable", "table", "a stream");
            if (field == "globalTable" && this == OuterJoin && input.Kind == StreamKind.Stream)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, "outerJoin with a globalTable", "stream", "join or leftJoin: Kafka Streams has no outer join with a global table");
            if (field == "table" && this == OuterJoin && input.Kind != StreamKind.Table)
                b.Report(DiagnosticDescriptors.OperationNotApplicable, op.WrittenAs.Span, "outerJoin with a table", "stream", "a table; a stream can join or leftJoin a table");
        }
        if (field == "stream" && !b.Written("timeDifference"))
            b.ReportMissing("a stream-stream " + b.WrittenAs, "timeDifference");
        if (field == "globalTable" && !b.HasFunction("mapper"))
            b.ReportMissing("a join with a globalTable", "mapper");

        foreach (var storeField in new[] { "thisStore", "otherStore", "store" })
        {
            if (op.Stores.ContainsKey(storeField))
                b.Store(storeField, input.Key, storeField == "otherStore" ? target?.Value ?? KsmlType.Error : input.Value, inlineName: b.NodeName + "_" + storeField + "_store");
        }

        foreach (var partitionerField in new[] { "partitioner", "otherPartitioner" })
        {
            if (!op.Functions.TryGetValue(partitionerField, out var partitioner))
                continue;
            b.Function(partitionerField);
            // KSML hands them to a foreign-key join's internal topics and ignores them elsewhere; neither may pass unsaid.
            if (foreignKey)
                b.Report(DiagnosticDescriptors.Unsupported, partitioner.Span, "'" + partitionerField + "' on a foreign-key join",
                    "partitioners for a foreign-key join's subscription and response topics (Ksml.NET partitions them by the key's hash, as Kafka Streams does by default)");
            else
                b.Report(DiagnosticDescriptors.FieldWithoutEffect, partitioner.Span, partitionerField, "in a join on the key", "KSML applies it only to a foreign-key join of two tables");
        }

        if (target is null)
            return new StreamShape(outputKind, input.Key, joiner?.Result ?? KsmlType.Error, input.IsUnknown);
        b.Result.Topics[field] = target;
        if (foreignKey)
        {
            // The extractor's result is the right table's key, so the two keys may differ.
            if (b.Function("foreignKeyExtractor")?.Result is { } extracted)
                b.Flow(extracted, target.Key, op.Functions["foreignKeyExtractor"].Span, "the key the foreignKeyExtractor of '" + b.WrittenAs + "' returns for table '" + target.Name + "'");
        }
        else if (field == "globalTable")
        {
            if (b.Function("mapper")?.Result is { } mapped)
                b.Flow(mapped, target.Key, op.Functions["mapper"].Span, "the key the mapper of '" + b.WrittenAs + "' returns for globalTable '" + target.Name + "'");
        }
        else if (!input.IsUnknown && !TypeRelations.SameKey(input.Key, target.Key))
        {
            b.Report(DiagnosticDescriptors.JoinKeyMismatch, reference.Span, input.Key.Resolve(), target.Name, target.Key.Resolve());
        }
        return new StreamShape(outputKind, input.Key, joiner?.Result ?? KsmlType.Error, input.IsUnknown);
    }

    public override string Emit(OperationEmission e)
    {
        var op = e.Operation;
        var input = e.Input;
        var s = e.Receiver;
        var joiner = e.Function("valueJoiner");
        var kind = EmitNames.Literal(Name);
        if (op.Topics.TryGetValue("stream", out var stream))
            return s + ".KsmlJoinStream" + e.Types(input.Key, input.Value, stream.Value, e.Output.Value) + "(ksml, " + e.Source(stream) + ", " + joiner + ", " + kind + ", "
                + e.Milliseconds("timeDifference") + ", " + e.Milliseconds("grace") + ", " + e.Store("thisStore") + ", " + e.Store("otherStore") + ", " + e.Node + ", "
                + e.DataType(input.Key) + ", " + e.DataType(input.Value) + ", " + e.DataType(stream.Value) + ")";
        if (op.Topics.TryGetValue("table", out var table) && IsForeignKeyJoin(op))
            return s + ".KsmlForeignKeyJoin" + e.Types(input.Key, input.Value, table.Key, table.Value, e.Output.Value) + "(ksml, " + e.Source(table) + ", " + e.Function("foreignKeyExtractor") + ", " + joiner + ", " + kind + ", "
                + e.Store() + ", " + e.Node + ", " + e.ReceiverTopic() + ", " + EmitNames.Literal(table.Topic) + ", "
                + e.DataType(input.Key) + ", " + e.DataType(input.Value) + ", " + e.DataType(table.Key) + ", " + e.DataType(table.Value) + ", " + e.DataType(e.Output.Value) + ")";
        if (table is not null)
        {
            return input.Kind == StreamKind.Table
                ? s + ".KsmlJoinTable" + e.Types(input.Key, input.Value, table.Value, e.Output.Value) + "(ksml, " + e.Source(table) + ", " + joiner + ", " + kind + ", "
                    + e.Store() + ", " + e.Node + ", " + e.DataType(input.Key) + ", " + e.DataType(e.Output.Value) + ")"
                : s + ".KsmlJoinTable" + e.Types(input.Key, input.Value, table.Value, e.Output.Value) + "(ksml, " + e.Source(table) + ", " + joiner + ", " + kind + ", " + e.Node + ")";
        }
        var global = op.Topics["globalTable"];
        return s + ".KsmlJoinGlobalTable" + e.Types(input.Key, input.Value, global.Key, global.Value, e.Output.Value) + "(ksml, " + e.Source(global) + ", "
            + e.Function("mapper") + ", " + joiner + ", " + kind + ", " + e.Node + ")";
    }

    /// <summary>
    /// The internal topics: a foreign-key join's subscription and response topics, or a repartition of a stream
    /// whose key an earlier step changed.
    /// </summary>
    public override IEnumerable<string> InternalTopics(BoundOperation operation, bool keyChanged)
    {
        if (this != OuterJoin && IsForeignKeyJoin(operation))
            return new[] { "subscription", "response" };
        return keyChanged && operation.Input.Kind == StreamKind.Stream ? new[] { "repartition" } : base.InternalTopics(operation, keyChanged);
    }

    private static bool IsForeignKeyJoin(BoundOperation operation) =>
        operation.Input.Kind == StreamKind.Table && operation.Functions.ContainsKey("foreignKeyExtractor");
}
