using System.Text;
using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Serdes;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// KSML's pipeline operations over Streamiz's typed DSL. Generated topologies call these. Each one meets its
/// KSML functions through a <see cref="FunctionStep{R}"/>, which invokes, converts and applies the error policy,
/// and states once what a failed record does there (<see cref="StepOutcomes"/>). Functions that declare
/// stores run inside a transformer so the task's stores are reachable.
/// </summary>
public static class KsmlOperations
{
    /// <summary><c>filter</c> / <c>filterNot</c> on a stream.</summary>
    public static IKStream<K, V> KsmlFilter<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition predicate, string name, bool negate = false)
    {
        var step = new FunctionStep<bool>(ksml, predicate, name, KsmlValues.IsTrue);
        // A filter drops a record by saying false; a failed outcome is one more reason to.
        if (!step.UsesStores && step.Concurrency is null)
            return stream.Filter((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v) is { Failed: false, Value: var keep } && keep != negate, name);
        return stream.Compute(step, name + "_evaluate", (k, v, source, stores) => step.Call(k, v, source, stores, k, v).With((Value: v, Negate: negate), static (keep, r) => (Keep: keep != r.Negate, r.Value)))
            .Filter((_, r, _) => r.Keep, name)
            .MapValues((_, r, _) => r.Value, name + "_unwrap");
    }

    /// <summary><c>filter</c> / <c>filterNot</c> on a table.</summary>
    public static IKTable<K, V> KsmlFilter<K, V>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition predicate, string name, bool negate = false)
    {
        var step = new FunctionStep<bool>(ksml, predicate, name, KsmlValues.IsTrue);
        // A key that does not pass is deleted (null), as Streamiz's table filter does; a failed one keeps its value.
        return table.MapValues((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v).With((Value: v, Negate: negate), static (keep, r) => keep != r.Negate ? r.Value : default!), name + "_evaluate")
            .Passed(ksml.KeyValueMaterialized<K, V>(null, name + "_store", null, null), name);
    }

    /// <summary><c>transformValue</c> (mapValues) on a stream.</summary>
    public static IKStream<K, VR> KsmlTransformValue<K, V, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<VR>(ksml, mapper, name);
        return stream.Compute(step, name, (k, v, source, stores) => step.Call(k, v, source, stores, k, v));
    }

    /// <summary><c>transformValue</c> (mapValues) on a table.</summary>
    public static IKTable<K, VR> KsmlTransformValue<K, V, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<VR>(ksml, mapper, name);
        return table.MapValues((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v), name + "_evaluate")
            .Passed(ksml.KeyValueMaterialized<K, VR>(null, name + "_store", null, null), name);
    }

    /// <summary><c>transformKey</c> (selectKey).</summary>
    public static IKStream<KR, V> KsmlTransformKey<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<KR>(ksml, mapper, name);
        return stream.Compute(step, name + "_evaluate", NewKey<K, V, KR>(step))
            .Map((_, kv, _) => kv, name);
    }

    /// <summary>The record's value under the key the step picked for it.</summary>
    private static Func<K, V, SourceRecord, IKsmlStoreProvider?, StepOutcome<KeyValuePair<KR, V>>> NewKey<K, V, KR>(FunctionStep<KR> step) =>
        (k, v, source, stores) => step.Call(k, v, source, stores, k, v).With(v, static (key, value) => new KeyValuePair<KR, V>(key, value));

    /// <summary><c>transformKeyValue</c> (map).</summary>
    public static IKStream<KR, VR> KsmlTransformKeyValue<K, V, KR, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<KeyValuePair<KR, VR>>(ksml, mapper, name, KsmlValues.ToKeyValue<KR, VR>);
        return stream.Compute(step, name + "_evaluate", (k, v, source, stores) => step.Call(k, v, source, stores, k, v))
            .Map((_, kv, _) => kv, name);
    }

    /// <summary><c>transformKeyValueToKeyValueList</c> (flatMap).</summary>
    public static IKStream<KR, VR> KsmlTransformKeyValueToKeyValueList<K, V, KR, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<List<KeyValuePair<KR, VR>>>(ksml, mapper, name, (result, what) => KsmlValues.ToList(result, what).Select(e => KsmlValues.ToKeyValue<KR, VR>(e, what)).ToList());
        return stream.Compute(step, name + "_evaluate", (k, v, source, stores) => step.Call(k, v, source, stores, k, v))
            .FlatMap((_, list, _) => list, name);
    }

    /// <summary><c>transformKeyValueToValueList</c> (flatMapValues).</summary>
    public static IKStream<K, VR> KsmlTransformKeyValueToValueList<K, V, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<List<VR>>(ksml, mapper, name, (result, what) => KsmlValues.ToList(result, what).Select(e => KsmlValues.To<VR>(e, what)).ToList());
        return stream.Compute(step, name + "_evaluate", (k, v, source, stores) => step.Call(k, v, source, stores, k, v))
            .FlatMapValues((_, list, _) => list, name);
    }

    /// <summary>KSML's schema of the metadata <c>transformMetadata</c> hands over, which its Python sees as <c>@type</c> and <c>@schema</c>.</summary>
    private static readonly ValueSchema RecordMetadataSchema = new("RecordMetadata", () => JsonNode.Parse("""
        {"type": "record", "name": "RecordMetadata", "namespace": "io.axual.ksml.data", "doc": "Kafka RecordMetadata", "fields": [
          {"name": "timestamp", "type": "long", "doc": "Message timestamp"},
          {"name": "headers", "doc": "Message headers", "type": {"type": "array", "items": {"type": "record", "name": "Header", "fields": [
            {"name": "key", "type": "string"}, {"name": "value", "type": "string"}]}}}]}
        """));

    /// <summary><c>transformMetadata</c>: the function receives and returns <c>{timestamp, headers}</c>.</summary>
    public static IKStream<K, V> KsmlTransformMetadata<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<JsonObject>(ksml, mapper, name, (result, what) =>
            KsmlValues.To<JsonNode?>(result, what) as JsonObject ?? throw new KsmlTypeException(what + ": expected metadata {timestamp, headers}"));
        V Apply(K k, V v, IRecordContext context)
        {
            var headers = new JsonArray();
            if (context.Headers is { } existing)
                foreach (var header in existing)
                    headers.Add(new JsonObject { ["key"] = header.Key, ["value"] = System.Text.Encoding.UTF8.GetString(header.GetValueBytes() ?? []) });
            var metadata = new JsonObject { ["timestamp"] = context.Timestamp, ["headers"] = headers };
            ValueSchemas.Attach(metadata, RecordMetadataSchema);
            var result = step.Convert(step.Function.Invoke(null, k, v, metadata));
            if (result["timestamp"] is JsonValue ts && ts.TryGetValue<long>(out var timestamp))
                context.ChangeTimestamp(timestamp);
            if (result["headers"] is JsonArray newHeaders)
            {
                var replaced = new Confluent.Kafka.Headers();
                foreach (var header in newHeaders.OfType<JsonObject>())
                    replaced.Add(header["key"]?.GetValue<string>() ?? "", System.Text.Encoding.UTF8.GetBytes(header["value"]?.ToString() ?? ""));
                context.SetHeaders(replaced);
            }
            return v;
        }
        return stream.Passed(name, (k, v, c) => step.Settle(k, v, SourceRecord.Of(c), () => Apply(k, v, c)));
    }

    /// <summary><c>convertKey</c>, <c>convertValue</c>: re-typing between compatible KSML types.</summary>
    public static IKStream<KR, VR> KsmlConvert<K, V, KR, VR>(this IKStream<K, V> stream, string name) =>
        stream.Map((k, v, _) => new KeyValuePair<KR, VR>(Convert<KR>(k), Convert<VR>(v)), name);

    private static T Convert<T>(object? value) => value switch
    {
        T same => same,
        string text when typeof(T) == typeof(JsonNode) => (T)(object?)JsonNode.Parse(text)!,
        JsonNode node when typeof(T) == typeof(string) => (T)(object)node.ToJsonString(),
        // KSML's conversions between primitives are lossless ones both ways: a long count into: string is "1",
        // and "1" into: long is 1; anything that would lose information is refused.
        long or int or short or sbyte or double or float or bool when typeof(T) == typeof(string) =>
            (T)(object)Serdes.LosslessValues.ToText((JsonValue)KsmlValues.ToJsonNode(value)!),
        string text when (Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T)) is var target && target.IsPrimitive =>
            KsmlValues.To<T>(target == typeof(bool) ? Serdes.LosslessValues.ToBoolean(JsonValue.Create(text))
                : target == typeof(double) || target == typeof(float) ? Serdes.LosslessValues.ToDouble(JsonValue.Create(text))
                : (object)Serdes.LosslessValues.ToInt64(JsonValue.Create(text)), "converted value"),
        _ => KsmlValues.To<T>(value, "converted value"),
    };

    /// <summary><c>peek</c>.</summary>
    public static IKStream<K, V> KsmlPeek<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition action, string name)
    {
        var step = new FunctionStep<object?>(ksml, action, name, (result, _) => result);
        // A side effect's failure skips the effect only: the record goes on either way.
        if (!step.UsesStores && step.Concurrency is null)
            return stream.Peek((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v), name);
        return stream.Evaluate(step, name, (k, v, source, stores) =>
        {
            step.Call(k, v, source, stores, k, v);
            return new StepOutcome<V>(v, false);
        }).Passed(name + "_passed");
    }

    /// <summary><c>groupByKey</c>.</summary>
    public static IKGroupedStream<K, V> KsmlGroupByKey<K, V>(this IKStream<K, V> stream, string name) =>
        stream.GroupByKey<KsmlSerDes<K>, KsmlSerDes<V>>(name);

    /// <summary><c>groupBy</c> on a stream: the mapper returns the new key.</summary>
    public static IKGroupedStream<KR, V> KsmlGroupBy<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name) =>
        SelectGroupKey<K, V, KR>(stream, ksml, mapper, name).GroupByKey<KsmlSerDes<KR>, KsmlSerDes<V>>(name);

    /// <summary>The key a stream's <c>groupBy</c> mapper picks; a record whose mapper failed goes no further.</summary>
    internal static IKStream<KR, V> SelectGroupKey<K, V, KR>(IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<KR>(ksml, mapper, name);
        return stream.Compute(step, name + "_evaluate", NewKey<K, V, KR>(step))
            .Map((_, kv, _) => kv, name + "_select");
    }

    /// <summary><c>groupBy</c> on a table: the mapper returns the new (key, value).</summary>
    public static IKGroupedTable<KR, VR> KsmlGroupBy<K, V, KR, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<KeyValuePair<KR, VR>>(ksml, mapper, name, KsmlValues.ToKeyValue<KR, VR>);
        // Streamiz's table grouping forwards whatever its mapper gives for the old and the new value, a failure
        // included. So each row's mapping is settled as a table step first, into a table of its own: a failed one
        // keeps the row's previous grouping, and the old grouping is read from there instead of computed again.
        var mappings = InMemory.As<K, GroupedPair<KR, VR>>(name + "_mapped_store")
            .WithKeySerdes(KsmlSerdes.For<K>(null))
            .WithValueSerdes(new GroupedPairSerDes<KR, VR>(KsmlSerdes.For<KR>(null), KsmlSerdes.For<VR>(null)));
        return table.MapValues((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v).With(0, static (kv, _) => new GroupedPair<KR, VR>(kv.Key, kv.Value)), name + "_evaluate")
            .Passed(mappings, name + "_mapped")
            .GroupBy<KR, VR, KsmlSerDes<KR>, KsmlSerDes<VR>>((_, pair, _) => KeyValuePair.Create(pair.Key, pair.Value), name);
    }

    // KSML's long is nullable, as a Kafka value is (a null is a delete); Streamiz's Count gives a long, so the
    // counts are aggregated as long? directly, with the same semantics, instead of mapped in one more node.

    /// <summary><c>count</c> on a grouped stream.</summary>
    public static IKTable<K, long?> KsmlCount<K, V>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType) =>
        grouped.Aggregate(() => 0L, (_, _, count) => (count ?? 0) + 1, ksml.KeyValueMaterialized<K, long?>(store, name + "_store", keyType, null), name);

    /// <summary><c>count</c> on a grouped table: an update adds one and takes the old row's one away.</summary>
    public static IKTable<K, long?> KsmlCount<K, V>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType) =>
        grouped.Aggregate(() => 0L, (_, _, count) => (count ?? 0) + 1, (_, _, count) => (count ?? 0) - 1, ksml.KeyValueMaterialized<K, long?>(store, name + "_store", keyType, null), name);

    /// <summary><c>count</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, long?> KsmlCount<K, V>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, long windowSizeMs) =>
        windowed.Aggregate(() => 0L, (_, _, count) => (count ?? 0) + 1, ksml.WindowMaterialized<K, long?>(store, name + "_store", keyType, null, windowSizeMs), name);

    /// <summary><c>reduce</c> on a grouped stream.</summary>
    public static IKTable<K, V> KsmlReduce<K, V>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var f = new FunctionStep<V>(ksml, reducer, name);
        return grouped.Reduce((a, b) => f.Call((object?)null, b, null, null, a, b).Or(a), ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>reduce</c> with adder and subtractor on a grouped table.</summary>
    public static IKTable<K, V> KsmlReduce<K, V>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition adder, KsmlFunctionDefinition subtractor, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var add = new FunctionStep<V>(ksml, adder, name);
        var subtract = new FunctionStep<V>(ksml, subtractor, name);
        return grouped.Reduce(
            (a, b) => add.Call((object?)null, b, null, null, a, b).Or(a),
            (a, b) => subtract.Call((object?)null, b, null, null, a, b).Or(a),
            ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>reduce</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, V> KsmlReduce<K, V>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType, long windowSizeMs)
    {
        var f = new FunctionStep<V>(ksml, reducer, name);
        return windowed.Reduce((a, b) => f.Call((object?)null, b, null, null, a, b).Or(a), ksml.WindowMaterialized<K, V>(store, name + "_store", keyType, valueType, windowSizeMs), name);
    }

    /// <summary><c>aggregate</c> on a grouped stream.</summary>
    public static IKTable<K, VA> KsmlAggregate<K, V, VA>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var init = new FunctionStep<VA>(ksml, initializer, name);
        var aggregate = new FunctionStep<VA>(ksml, aggregator, name);
        return grouped.Aggregate(
            () => init.Call((object?)null, (object?)null, null, null).Or(default!),
            (k, v, agg) => aggregate.Call(k, v, null, null, k, v, agg).Or(agg),
            ksml.KeyValueMaterialized<K, VA>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>aggregate</c> with adder and subtractor on a grouped table.</summary>
    public static IKTable<K, VA> KsmlAggregate<K, V, VA>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition adder, KsmlFunctionDefinition subtractor, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var init = new FunctionStep<VA>(ksml, initializer, name);
        var add = new FunctionStep<VA>(ksml, adder, name);
        var subtract = new FunctionStep<VA>(ksml, subtractor, name);
        return grouped.Aggregate(
            () => init.Call((object?)null, (object?)null, null, null).Or(default!),
            (k, v, agg) => add.Call(k, v, null, null, k, v, agg).Or(agg),
            (k, v, agg) => subtract.Call(k, v, null, null, k, v, agg).Or(agg),
            ksml.KeyValueMaterialized<K, VA>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>aggregate</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, VA> KsmlAggregate<K, V, VA>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType, long windowSizeMs)
    {
        var init = new FunctionStep<VA>(ksml, initializer, name);
        var aggregate = new FunctionStep<VA>(ksml, aggregator, name);
        return windowed.Aggregate(
            () => init.Call((object?)null, (object?)null, null, null).Or(default!),
            (k, v, agg) => aggregate.Call(k, v, null, null, k, v, agg).Or(agg),
            ksml.WindowMaterialized<K, VA>(store, name + "_store", keyType, valueType, windowSizeMs), name);
    }

    /// <summary>
    /// <c>windowByTime</c> with a tumbling or hopping window. Without a grace period a window closes at its end,
    /// as in KSML (Streamiz's own default keeps windows open for a day).
    /// </summary>
    public static ITimeWindowedKStream<K, V> KsmlWindowByTime<K, V>(this IKGroupedStream<K, V> grouped, long durationMs, long? advanceByMs, long? graceMs) =>
        advanceByMs is { } advance
            ? grouped.WindowedBy(HoppingWindowOptions.Of(durationMs, advance, graceMs ?? 0))
            : grouped.WindowedBy(TumblingWindowOptions.Of(durationMs, graceMs ?? 0));

    private static IBufferConfig Buffer(long? maxRecords, bool shutdownWhenFull) => (maxRecords, shutdownWhenFull) switch
    {
        (null, _) => StrictBufferConfig.Unbounded(),
        ({ } records, true) => StrictBufferConfig.Bounded(records),
        ({ } records, false) => EagerConfig.EmitEarlyWhenFull(records),
    };

    /// <summary><c>suppress</c> until a time limit passes.</summary>
    public static IKTable<K, V> KsmlSuppressUntilTimeLimit<K, V>(this IKTable<K, V> table, long durationMs, long? maxRecords, bool shutdownWhenFull, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        table.Suppress(SuppressedBuilder.UntilTimeLimit<K, V>(TimeSpan.FromMilliseconds(durationMs), Buffer(maxRecords, shutdownWhenFull))
            .WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)), name);

    /// <summary><c>suppress</c> until the window of a windowed aggregation closes.</summary>
    public static IKTable<Windowed<K>, V> KsmlSuppressUntilWindowCloses<K, V>(this IKTable<Windowed<K>, V> table, long graceMs, long? maxRecords, bool shutdownWhenFull, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        table.Suppress(SuppressedBuilder.UntilWindowClose<Windowed<K>, V>(TimeSpan.FromMilliseconds(graceMs), Buffer(maxRecords, shutdownWhenFull))
            .WithKeySerdes(KsmlSerdes.For<Windowed<K>>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)), name);

    /// <summary><c>toStream</c> with a key mapper.</summary>
    public static IKStream<KR, V> KsmlToStream<K, V, KR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var step = new FunctionStep<KR>(ksml, mapper, name);
        return table.ToStream(name + "_changes")
            .Compute(step, name + "_evaluate", NewKey<K, V, KR>(step))
            .Map((_, kv, _) => kv, name);
    }

    /// <summary><c>toTable</c>.</summary>
    public static IKTable<K, V> KsmlToTable<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType) =>
        stream.ToTable(ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);

    /// <summary><c>join</c>/<c>leftJoin</c> of a stream with a table.</summary>
    public static IKStream<K, VR> KsmlJoinTable<K, V, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IKTable<K, V0> table, KsmlFunctionDefinition valueJoiner, string kind, string name)
    {
        if (VersionedTables.StoreOf(table) is { } versions)
            return VersionedTables.Join<K, V, V0, VR>(stream, ksml, versions, valueJoiner, kind == "leftJoin", name);
        var joiner = Joiner<V, V0, VR>(new FunctionStep<VR>(ksml, valueJoiner, name));
        // After a key change Streamiz repartitions the stream before the join, with these serdes; without them it
        // took the configuration's default (string) serdes and failed on the first record. An internal topic only
        // has to round-trip the CLR types, so their default KSML serdes do.
        var props = new StreamTableJoinProps<K, V, V0>(KsmlSerdes.For<K>(null), KsmlSerdes.For<V>(null), KsmlSerdes.For<V0>(null));
        return (kind == "leftJoin" ? stream.LeftJoin(table, joiner, props, name) : stream.Join(table, joiner, props, name)).Passed(name + "_joined");
    }

    /// <summary>Streamiz forwards whatever a joiner returns, so the outcome goes on and a failed one is dropped right after the join.</summary>
    private static Func<V, V0, StepOutcome<VR>> Joiner<V, V0, VR>(FunctionStep<VR> step) =>
        (a, b) => step.Call((object?)null, a, null, null, null, a, b);

    /// <summary><c>join</c>/<c>leftJoin</c>/<c>outerJoin</c> of two tables.</summary>
    public static IKTable<K, VR> KsmlJoinTable<K, V, V0, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, IKTable<K, V0> other, KsmlFunctionDefinition valueJoiner, string kind, KsmlStoreDefinition? store, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        var joiner = Joiner<V, V0, VR>(new FunctionStep<VR>(ksml, valueJoiner, name));
        // Joined unmaterialized, so the outcomes can be settled: a failed join leaves the key's joined value as it was.
        var joined = kind switch
        {
            "leftJoin" => table.LeftJoin(other, joiner),
            "outerJoin" => table.OuterJoin(other, joiner),
            _ => table.Join(other, joiner),
        };
        return joined.Passed(ksml.KeyValueMaterialized<K, VR>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>join</c>/<c>leftJoin</c> of a stream with a global table, looked up by the mapper's key.</summary>
    public static IKStream<K, VR> KsmlJoinGlobalTable<K, V, K0, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IGlobalKTable<K0, V0> table, KsmlFunctionDefinition mapper, KsmlFunctionDefinition valueJoiner, string kind, string name)
    {
        // The lookup key is worked out first, where a failed mapper can drop the record; the join then reads it.
        var map = new FunctionStep<K0>(ksml, mapper, name + "_lookup");
        var joiner = Joiner<V, V0, VR>(new FunctionStep<VR>(ksml, valueJoiner, name));
        var keyed = stream.Compute(map, name + "_lookup", (k, v, source, stores) => map.Call(k, v, source, stores, k, v).With(v, static (lookup, value) => (Lookup: lookup, Value: value)));
        Func<K, (K0 Lookup, V Value), K0> keyMapper = (_, r) => r.Lookup;
        Func<(K0 Lookup, V Value), V0, StepOutcome<VR>> lookedUp = (r, b) => joiner(r.Value, b);
        return (kind == "leftJoin" ? keyed.LeftJoin(table, keyMapper, lookedUp, name) : keyed.Join(table, keyMapper, lookedUp, name)).Passed(name + "_joined");
    }

    /// <summary><c>repartition</c>, optionally with a partition count and a Python partitioner.</summary>
    public static IKStream<K, V> KsmlRepartition<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, int? numberOfPartitions, KsmlFunctionDefinition? partitioner, string name, KsmlDataType? keyType, KsmlDataType? valueType)
    {
        if (partitioner is null)
            return stream.Repartition(Repartitioned<K, V>.As(name).WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)).Partitions(ksml, numberOfPartitions));
        // Streamiz names the topic after the operation, inside the application's namespace.
        var routed = stream.Partitioned(ksml, partitioner, context => $"{context.ApplicationId}-{name}-repartition", name);
        var repartitioned = Repartitioned<K, RoutedRecord<V>>.As(name)
            .WithKeySerdes(KsmlSerdes.For<K>(keyType))
            .WithValueSerdes(new RoutedValueSerDes<V>(KsmlSerdes.For<V>(valueType)))
            .WithStreamPartitioner(new RoutedPartitioner<K, V>())
            .Partitions(ksml, numberOfPartitions);
        return routed.Repartition(repartitioned).MapValues((_, r, _) => r.Value, name + "_routed");
    }

    /// <summary>A repartition topic with <paramref name="numberOfPartitions"/> (none: Streamiz's own count; left out under the test driver).</summary>
    internal static Repartitioned<K, V> Partitions<K, V>(this Repartitioned<K, V> repartitioned, KsmlTopologyBuilder ksml, int? numberOfPartitions) =>
        numberOfPartitions is { } n && !ksml.UnderTestDriver ? repartitioned.WithNumberOfPartitions(n) : repartitioned;

    /// <summary>
    /// Calls a partitioner one step before the sink, where a failed one can drop the record; the sink then writes
    /// to the partition it picked. Only a sink knows a topic's partition count, so it is asked of the sinks'
    /// record collector (<see cref="Kafka.StreamizTask.PartitionsFor"/>). A partition outside the topic is a failure
    /// of the step, as the producer would refuse it.
    /// </summary>
    private static IKStream<K, RoutedRecord<V>> Partitioned<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition partitioner, Func<Streamiz.Kafka.Net.ProcessorContext, string> topicOf, string name)
    {
        var step = new FunctionStep<int>(ksml, partitioner, name + "_partitioner");
        string? sinkTopic = null; // the same for every task of the application, so worked out once
        return stream.Passed(name + "_partition", (k, v, c) =>
        {
            var context = Kafka.StreamizTask.CurrentContext();
            var topic = context is null ? c.Topic : sinkTopic ??= topicOf(context);
            return step.Settle(k, v, SourceRecord.Of(c), () =>
            {
                var count = Kafka.StreamizTask.PartitionsFor(context ?? throw new InvalidOperationException($"The partition count of {topic} is only known on a stream thread, inside a task."), topic);
                var partition = step.Convert(step.Function.Invoke(null, topic, k, v, count));
                return partition >= 0 && partition < count
                    ? new RoutedRecord<V>(v, topic, partition)
                    : throw new ArgumentOutOfRangeException(nameof(partitioner), partition, $"{partitioner.Name} picked partition {partition} of {topic}, which has {count}");
            });
        });
    }

    // ---- sinks ---------------------------------------------------------------------------------

    /// <summary><c>to</c> a declared topic, serialised as the target declares.</summary>
    public static void KsmlTo<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlTopicDefinition target, KsmlFunctionDefinition? partitioner, string name)
    {
        var keySerde = KsmlSerdes.For<K>(target.KeyType);
        var valueSerde = KsmlSerdes.For<V>(target.ValueType);
        var tag = new KeyValuePair<string, object?>("topic", target.Topic);
        var @namespace = ksml.Namespace;
        stream = stream.Peek((_, _, c) =>
        {
            Observability.KsmlMetrics.RecordsOut.Add(1, tag);
            // How old the record is when it leaves, as KSML's ksml_record_e2e_latency_* report it.
            if (Observability.KsmlCompatibleMetrics.Enabled)
                Observability.KsmlCompatibleMetrics.EndToEnd(@namespace, name, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - c.Timestamp);
        }, name + "_records_out");
        if (partitioner is null)
            stream.ToProducerPartitioned(FixedTopic<K, V>(target.Topic), keySerde, valueSerde, name);
        else
            stream.Partitioned(ksml, partitioner, _ => target.Topic, name)
                .To(FixedTopic<K, RoutedRecord<V>>(target.Topic), new RoutedPartitioner<K, V>(), keySerde, new RoutedValueSerDes<V>(valueSerde), name);
    }

    /// <summary>
    /// A sink without a stream partitioner: the producer's partitioner (murmur2 of the key, like Java's;
    /// Streamiz's default) picks the partition, as in KSML. Each of Streamiz's <c>To</c> overloads
    /// without a partitioner adds a default one, and the sink then asks for the topic's partition count
    /// on every record, rebuilding the admin client configuration each time (about 2 µs and 3 KB per
    /// record; docs/benchmarks.md), to leave the choice to the producer anyway unless
    /// <c>default.partitioner.reshuffle.every.key</c> is false.
    /// </summary>
    private static void ToProducerPartitioned<K, V>(this IKStream<K, V> stream, ITopicNameExtractor<K, V> topic, ISerDes<K> keySerde, ISerDes<V> valueSerde, string name) =>
        stream.To(topic, (IStreamPartitioner<K, V>?)null, keySerde, valueSerde, name);

    // Streamiz learns a sink's topic (for describe, internal topic groups and the test driver's
    // forwarding between pipelines) only from its own internal static extractor, so that one is made.
    private static readonly Type? StaticTopicExtractor =
        typeof(IKStream<,>).Assembly.GetType("Streamiz.Kafka.Net.Processors.Internal.StaticTopicNameExtractor`2");

    private static ITopicNameExtractor<K, V> FixedTopic<K, V>(string topic) =>
        (ITopicNameExtractor<K, V>?)(StaticTopicExtractor is { } type ? Activator.CreateInstance(type.MakeGenericType(typeof(K), typeof(V)), topic) : null)
        ?? throw new InvalidOperationException("This Streamiz version has no StaticTopicNameExtractor; Ksml.Runtime is built against Streamiz 1.8.2.");

    private sealed class TopicName<K, V>(Func<K, V, IRecordContext, string> extract) : ITopicNameExtractor<K, V>
    {
        public string Extract(K key, V value, IRecordContext recordContext) => extract(key, value, recordContext);
    }

    /// <summary><c>toTopicNameExtractor</c>: the function names the topic per record.</summary>
    public static void KsmlToTopicNameExtractor<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition extractor, KsmlDataType? keyType, KsmlDataType? valueType, string name)
    {
        var step = new FunctionStep<string>(ksml, extractor, name);
        stream.Passed(name + "_extract", (k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v, RecordContext(c)).With(v, static (topic, value) => new RoutedRecord<V>(value, topic)))
            .ToProducerPartitioned(new TopicName<K, RoutedRecord<V>>((_, routed, _) => routed.Topic), KsmlSerdes.For<K>(keyType), new RoutedValueSerDes<V>(KsmlSerdes.For<V>(valueType)), name);
    }

    private static JsonObject RecordContext(Streamiz.Kafka.Net.Processors.IRecordContext context) => new()
    {
        ["offset"] = context.Offset,
        ["timestamp"] = context.Timestamp,
        ["topic"] = context.Topic,
        ["partition"] = context.Partition,
    };

    /// <summary><c>forEach</c> as a sink.</summary>
    public static void KsmlForEach<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition action, string name)
    {
        var step = new FunctionStep<object?>(ksml, action, name, (result, _) => result);
        if (action.Batch is { } batch)
        {
            var store = step.AddPendingWorkStore(name + "_batch");
            StepOutcomes.ConnectStores(stream, name, [store]);
            var batching = TransformerBuilder.New<K, V, K, V>()
                .Transformer<BatchingForEach<K, V>>(new BatchingForEach<K, V>.Body(step, batch, store))
                .Build();
            stream.TransformValues(batching, name);
            return;
        }
        if (!step.UsesStores && step.Concurrency is null)
            stream.Foreach((k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v), name);
        else
            stream.KsmlPeek(ksml, action, name).Foreach((_, _, _) => { }, name + "_end");
    }

    /// <summary><c>print</c> to stdout or a file, optionally formatted by a keyValuePrinter.</summary>
    public static void KsmlPrint<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, string? filename, string? label, KsmlFunctionDefinition? mapper, string name)
    {
        if (mapper is null)
        {
            stream.Print(PrintTo<K, V>(filename, label, name));
            return;
        }
        // The line is formatted one step before the printer, where a failed format can skip the line.
        var step = new FunctionStep<string>(ksml, mapper, name);
        var lines = stream.Passed(name + "_format", (k, v, c) => step.Call(k, v, SourceRecord.Of(c), null, k, v));
        lines.Print(PrintTo<K, string>(filename, label, name).WithKeyValueMapper((_, line, _) => line));
    }

    private static Printed<K, V> PrintTo<K, V>(string? filename, string? label, string name)
    {
        var printed = filename is null ? Printed<K, V>.ToOut() : Printed<K, V>.ToWriter(new LineAppendingWriter(filename));
        printed = printed.WithName(name);
        return label is null ? printed : printed.WithLabel(label);
    }

    /// <summary><c>branch</c>: one stream per branch; the first matching predicate wins, a null predicate takes the rest.</summary>
    public static IKStream<K, V>[] KsmlBranch<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, string name, params KsmlFunctionDefinition?[] predicates)
    {
        // The branch is chosen one step before Streamiz's branch, where a failed predicate can drop the record.
        var steps = predicates.Select(p => p is null ? null : new FunctionStep<bool>(ksml, p, name, KsmlValues.IsTrue)).ToArray();
        StepOutcome<(int Branch, V Value)> Choose(K k, V v, IRecordContext c)
        {
            var source = SourceRecord.Of(c);
            for (var i = 0; i < steps.Length; i++)
            {
                if (steps[i] is not { } step)
                    return new((i, v), false);
                var outcome = step.Call(k, v, source, null, k, v);
                if (outcome.Failed)
                    return StepOutcome<(int Branch, V Value)>.Failure;
                if (outcome.Value)
                    return new((i, v), false);
            }
            return new((-1, v), false);
        }
        var chosen = stream.Passed<K, V, (int Branch, V Value)>(name + "_choose", Choose);
        var tests = Enumerable.Range(0, steps.Length).Select(i => new Func<K, (int Branch, V Value), IRecordContext, bool>((_, r, _) => r.Branch == i)).ToArray();
        return chosen.Branch(name, tests).Select((branch, i) => branch.MapValues((_, r, _) => r.Value, name + "_branch" + i)).ToArray();
    }
}

/// <summary>
/// Appends each printed line to a file and holds no handle between lines: Streamiz closes a print
/// processor's writer once per task, and a shared StreamWriter would fail every task after the first.
/// </summary>
internal sealed class LineAppendingWriter(string path) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_line)
            _line.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_line)
            _line.Append(value);
    }

    public override void WriteLine(string? value)
    {
        lock (_line)
        {
            _line.Append(value).Append('\n');
            File.AppendAllText(path, _line.ToString());
            _line.Clear();
        }
    }

    public override void Flush()
    {
        lock (_line)
        {
            if (_line.Length == 0)
                return;
            File.AppendAllText(path, _line.ToString());
            _line.Clear();
        }
    }
}
