using System.Text;
using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
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
/// KSML's pipeline operations over Streamiz's typed DSL. Generated topologies call these; each one
/// invokes the KSML function and converts its result to the declared type. Functions that declare
/// stores run inside a transformer so the task's stores are reachable.
/// </summary>
public static class KsmlOperations
{
    /// <summary>
    /// Runs one record's step under the process error policy (directly when none is set). False:
    /// the policy handled a failure and the record must be skipped.
    /// </summary>
    private static bool TryGuard<K, V, T>(KsmlTopologyBuilder ksml, string step, IKsmlFunction f, K key, V value, IRecordContext? context, Func<T> body, out T result)
    {
        if (ksml.Errors is { } errors)
            return errors.TryProcess(step, f.Definition, key, value, context, body, out result);
        result = body();
        return true;
    }

    /// <summary>
    /// For steps Streamiz gives no way to drop a record from (aggregators, joiners, key mappers):
    /// after the policy handled a failure, <paramref name="fallback"/> stands in (an aggregate keeps
    /// its previous value; a joiner yields null; a key mapper yields a null key, which aggregations skip).
    /// </summary>
    internal static T Guard<K, V, T>(KsmlTopologyBuilder ksml, string step, IKsmlFunction f, K key, V value, IRecordContext? context, Func<T> body, Func<T> fallback) =>
        TryGuard(ksml, step, f, key, value, context, body, out var result) ? result : fallback();

    /// <summary>For side effects (peek, forEach, print): a handled failure skips the effect only.</summary>
    private static void Guard<K, V>(KsmlTopologyBuilder ksml, string step, IKsmlFunction f, K key, V value, IRecordContext? context, Func<object?> body) =>
        TryGuard(ksml, step, f, key, value, context, body, out _);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IKsmlFunction, string> ResultDescriptions = new();

    /// <summary>How type errors name a function's result; built once per function, not per record.</summary>
    internal static string ResultOf(IKsmlFunction f) =>
        ResultDescriptions.GetValue(f, static f => $"the result of '{f.Definition.Name}' ({f.Definition.SourcePath}:{f.Definition.Line})");

    /// <summary>Computes <typeparamref name="R"/> per record, inside a store-connected transformer when the function declares stores.</summary>
    private static IKStream<K, R> Compute<K, V, R>(KsmlTopologyBuilder ksml, IKStream<K, V> stream, IKsmlFunction f, string name, Func<K, V, IKsmlStoreProvider?, R> body)
    {
        if (f.Definition.Stores.Count == 0)
            return ksml.Errors is null
                ? stream.MapValues((k, v, _) => body(k, v, null), name)
                : stream.FlatMapValues((k, v, c) => TryGuard(ksml, name, f, k, v, c, () => body(k, v, null), out var r) ? [r] : Array.Empty<R>(), name);
        var supplier = TransformerBuilder.New<K, V, K, R>()
            .Transformer<StoreBoundTransformer<K, V, R>>(new StoreBoundTransformer<K, V, R>.Body((K k, V v, IKsmlStoreProvider s, out R r) => TryGuard(ksml, name, f, k, v, null, () => body(k, v, s), out r)))
            .Build();
        return stream.TransformValues(supplier, name, f.Definition.Stores.ToArray());
    }

    /// <summary><c>filter</c> / <c>filterNot</c> on a stream.</summary>
    public static IKStream<K, V> KsmlFilter<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition predicate, string name, bool negate = false)
    {
        var f = ksml.Function(predicate);
        if (f.Definition.Stores.Count == 0)
            return stream.Filter((k, v, c) => TryGuard(ksml, name, f, k, v, c, () => KsmlValues.IsTrue(f.Invoke(null, k, v), ResultOf(f)) != negate, out var keep) && keep, name);
        return Compute(ksml, stream, f, name + "_evaluate", (k, v, s) => (Keep: KsmlValues.IsTrue(f.Invoke(s, k, v), ResultOf(f)) != negate, Value: v))
            .Filter((_, r, _) => r.Keep, name)
            .MapValues((_, r, _) => r.Value, name + "_unwrap");
    }

    /// <summary><c>filter</c> / <c>filterNot</c> on a table.</summary>
    public static IKTable<K, V> KsmlFilter<K, V>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition predicate, string name, bool negate = false)
    {
        var f = ksml.Function(predicate);
        return table.Filter((k, v, c) => TryGuard(ksml, name, f, k, v, c, () => KsmlValues.IsTrue(f.Invoke(null, k, v), ResultOf(f)) != negate, out var keep) && keep, name);
    }

    /// <summary><c>transformValue</c> (mapValues) on a stream.</summary>
    public static IKStream<K, VR> KsmlTransformValue<K, V, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return Compute(ksml, stream, f, name, (k, v, s) => KsmlValues.To<VR>(f.Invoke(s, k, v), ResultOf(f)));
    }

    /// <summary><c>transformValue</c> (mapValues) on a table.</summary>
    public static IKTable<K, VR> KsmlTransformValue<K, V, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return table.MapValues((k, v, c) => Guard(ksml, name, f, k, v, c, () => KsmlValues.To<VR>(f.Invoke(null, k, v), ResultOf(f)), () => default!), name);
    }

    /// <summary><c>transformKey</c> (selectKey).</summary>
    public static IKStream<KR, V> KsmlTransformKey<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return Compute(ksml, stream, f, name + "_evaluate", (k, v, s) => new KeyValuePair<KR, V>(KsmlValues.To<KR>(f.Invoke(s, k, v), ResultOf(f)), v))
            .Map((_, kv, _) => kv, name);
    }

    /// <summary><c>transformKeyValue</c> (map).</summary>
    public static IKStream<KR, VR> KsmlTransformKeyValue<K, V, KR, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return Compute(ksml, stream, f, name + "_evaluate", (k, v, s) => KsmlValues.ToKeyValue<KR, VR>(f.Invoke(s, k, v), ResultOf(f)))
            .Map((_, kv, _) => kv, name);
    }

    /// <summary><c>transformKeyValueToKeyValueList</c> (flatMap).</summary>
    public static IKStream<KR, VR> KsmlTransformKeyValueToKeyValueList<K, V, KR, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return Compute(ksml, stream, f, name + "_evaluate", (k, v, s) => KsmlValues.ToList(f.Invoke(s, k, v), ResultOf(f)).Select(e => KsmlValues.ToKeyValue<KR, VR>(e, ResultOf(f))).ToList())
            .FlatMap((_, list, _) => list, name);
    }

    /// <summary><c>transformKeyValueToValueList</c> (flatMapValues).</summary>
    public static IKStream<K, VR> KsmlTransformKeyValueToValueList<K, V, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return Compute(ksml, stream, f, name + "_evaluate", (k, v, s) => KsmlValues.ToList(f.Invoke(s, k, v), ResultOf(f)).Select(e => KsmlValues.To<VR>(e, ResultOf(f))).ToList())
            .FlatMapValues((_, list, _) => list, name);
    }

    /// <summary><c>transformMetadata</c>: the function receives and returns <c>{timestamp, headers}</c>.</summary>
    public static IKStream<K, V> KsmlTransformMetadata<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        V Apply(K k, V v, IRecordContext context)
        {
            var headers = new JsonArray();
            if (context.Headers is { } existing)
                foreach (var header in existing)
                    headers.Add(new JsonObject { ["key"] = header.Key, ["value"] = System.Text.Encoding.UTF8.GetString(header.GetValueBytes() ?? []) });
            var metadata = new JsonObject { ["timestamp"] = context.Timestamp, ["headers"] = headers };
            var result = KsmlValues.To<JsonNode?>(f.Invoke(null, k, v, metadata), ResultOf(f)) as JsonObject
                ?? throw new KsmlTypeException(ResultOf(f) + ": expected metadata {timestamp, headers}");
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
        return ksml.Errors is null
            ? stream.MapValues(Apply, name)
            : stream.FlatMapValues((k, v, c) => TryGuard(ksml, name, f, k, v, c, () => Apply(k, v, c), out var r) ? [r] : Array.Empty<V>(), name);
    }

    /// <summary><c>convertKey</c>, <c>convertValue</c>: re-typing between compatible KSML types.</summary>
    public static IKStream<KR, VR> KsmlConvert<K, V, KR, VR>(this IKStream<K, V> stream, string name) =>
        stream.Map((k, v, _) => new KeyValuePair<KR, VR>(Convert<KR>(k), Convert<VR>(v)), name);

    private static T Convert<T>(object? value) => value switch
    {
        T same => same,
        string text when typeof(T) == typeof(JsonNode) => (T)(object?)JsonNode.Parse(text)!,
        JsonNode node when typeof(T) == typeof(string) => (T)(object)node.ToJsonString(),
        _ => KsmlValues.To<T>(value, "converted value"),
    };

    /// <summary><c>peek</c>.</summary>
    public static IKStream<K, V> KsmlPeek<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition action, string name)
    {
        var f = ksml.Function(action);
        if (f.Definition.Stores.Count == 0)
            return stream.Peek((k, v, c) => Guard(ksml, name, f, k, v, c, () => f.Invoke(null, k, v)), name);
        return Compute(ksml, stream, f, name, (k, v, s) =>
        {
            f.Invoke(s, k, v);
            return v;
        });
    }

    /// <summary><c>groupByKey</c>.</summary>
    public static IKGroupedStream<K, V> KsmlGroupByKey<K, V>(this IKStream<K, V> stream, string name) =>
        stream.GroupByKey<KsmlSerDes<K>, KsmlSerDes<V>>(name);

    /// <summary><c>groupBy</c> on a stream: the mapper returns the new key.</summary>
    public static IKGroupedStream<KR, V> KsmlGroupBy<K, V, KR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name) =>
        SelectGroupKey<K, V, KR>(stream, ksml, mapper, name).GroupByKey<KsmlSerDes<KR>, KsmlSerDes<V>>(name);

    /// <summary>The key a stream's <c>groupBy</c> mapper picks; a failure the policy handled gives a null key, which aggregations skip.</summary>
    internal static IKStream<KR, V> SelectGroupKey<K, V, KR>(IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return stream.SelectKey((k, v, c) => Guard(ksml, name, f, k, v, c, () => KsmlValues.To<KR>(f.Invoke(null, k, v), ResultOf(f)), () => default!), name + "_select");
    }

    /// <summary><c>groupBy</c> on a table: the mapper returns the new (key, value).</summary>
    public static IKGroupedTable<KR, VR> KsmlGroupBy<K, V, KR, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return table.GroupBy<KR, VR, KsmlSerDes<KR>, KsmlSerDes<VR>>((k, v, c) => Guard(ksml, name, f, k, v, c, () => KsmlValues.ToKeyValue<KR, VR>(f.Invoke(null, k, v), ResultOf(f)), () => default), name);
    }

    /// <summary><c>count</c> on a grouped stream.</summary>
    public static IKTable<K, long> KsmlCount<K, V>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType) =>
        grouped.Count(ksml.KeyValueMaterialized<K, long>(store, name + "_store", keyType, "long"), name);

    /// <summary><c>count</c> on a grouped table.</summary>
    public static IKTable<K, long> KsmlCount<K, V>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType) =>
        grouped.Count(ksml.KeyValueMaterialized<K, long>(store, name + "_store", keyType, "long"), name);

    /// <summary><c>count</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, long> KsmlCount<K, V>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType, long windowSizeMs) =>
        windowed.Count(ksml.WindowMaterialized<K, long>(store, name + "_store", keyType, "long", windowSizeMs), name);

    /// <summary><c>reduce</c> on a grouped stream.</summary>
    public static IKTable<K, V> KsmlReduce<K, V>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var f = ksml.Function(reducer);
        return grouped.Reduce((a, b) => Guard(ksml, name, f, (object?)null, b, null, () => KsmlValues.To<V>(f.Invoke(null, a, b), ResultOf(f)), () => a), ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>reduce</c> with adder and subtractor on a grouped table.</summary>
    public static IKTable<K, V> KsmlReduce<K, V>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition adder, KsmlFunctionDefinition subtractor, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var add = ksml.Function(adder);
        var subtract = ksml.Function(subtractor);
        return grouped.Reduce(
            (a, b) => Guard(ksml, name, add, (object?)null, b, null, () => KsmlValues.To<V>(add.Invoke(null, a, b), ResultOf(add)), () => a),
            (a, b) => Guard(ksml, name, subtract, (object?)null, b, null, () => KsmlValues.To<V>(subtract.Invoke(null, a, b), ResultOf(subtract)), () => a),
            ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>reduce</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, V> KsmlReduce<K, V>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition reducer, KsmlStoreDefinition? store, string name, string keyType, string valueType, long windowSizeMs)
    {
        var f = ksml.Function(reducer);
        return windowed.Reduce((a, b) => Guard(ksml, name, f, (object?)null, b, null, () => KsmlValues.To<V>(f.Invoke(null, a, b), ResultOf(f)), () => a), ksml.WindowMaterialized<K, V>(store, name + "_store", keyType, valueType, windowSizeMs), name);
    }

    /// <summary><c>aggregate</c> on a grouped stream.</summary>
    public static IKTable<K, VA> KsmlAggregate<K, V, VA>(this IKGroupedStream<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var init = ksml.Function(initializer);
        var aggregate = ksml.Function(aggregator);
        return grouped.Aggregate(
            () => Guard(ksml, name, init, (object?)null, (object?)null, null, () => KsmlValues.To<VA>(init.Invoke(null), ResultOf(init)), () => default!),
            (k, v, agg) => Guard(ksml, name, aggregate, k, v, null, () => KsmlValues.To<VA>(aggregate.Invoke(null, k, v, agg), ResultOf(aggregate)), () => agg),
            ksml.KeyValueMaterialized<K, VA>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>aggregate</c> with adder and subtractor on a grouped table.</summary>
    public static IKTable<K, VA> KsmlAggregate<K, V, VA>(this IKGroupedTable<K, V> grouped, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition adder, KsmlFunctionDefinition subtractor, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var init = ksml.Function(initializer);
        var add = ksml.Function(adder);
        var subtract = ksml.Function(subtractor);
        return grouped.Aggregate(
            () => Guard(ksml, name, init, (object?)null, (object?)null, null, () => KsmlValues.To<VA>(init.Invoke(null), ResultOf(init)), () => default!),
            (k, v, agg) => Guard(ksml, name, add, k, v, null, () => KsmlValues.To<VA>(add.Invoke(null, k, v, agg), ResultOf(add)), () => agg),
            (k, v, agg) => Guard(ksml, name, subtract, k, v, null, () => KsmlValues.To<VA>(subtract.Invoke(null, k, v, agg), ResultOf(subtract)), () => agg),
            ksml.KeyValueMaterialized<K, VA>(store, name + "_store", keyType, valueType), name);
    }

    /// <summary><c>aggregate</c> on a time-windowed stream.</summary>
    public static IKTable<Windowed<K>, VA> KsmlAggregate<K, V, VA>(this ITimeWindowedKStream<K, V> windowed, KsmlTopologyBuilder ksml, KsmlFunctionDefinition initializer, KsmlFunctionDefinition aggregator, KsmlStoreDefinition? store, string name, string keyType, string valueType, long windowSizeMs)
    {
        var init = ksml.Function(initializer);
        var aggregate = ksml.Function(aggregator);
        return windowed.Aggregate(
            () => Guard(ksml, name, init, (object?)null, (object?)null, null, () => KsmlValues.To<VA>(init.Invoke(null), ResultOf(init)), () => default!),
            (k, v, agg) => Guard(ksml, name, aggregate, k, v, null, () => KsmlValues.To<VA>(aggregate.Invoke(null, k, v, agg), ResultOf(aggregate)), () => agg),
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
    public static IKTable<K, V> KsmlSuppressUntilTimeLimit<K, V>(this IKTable<K, V> table, long durationMs, long? maxRecords, bool shutdownWhenFull, string name, string keyType, string valueType) =>
        table.Suppress(SuppressedBuilder.UntilTimeLimit<K, V>(TimeSpan.FromMilliseconds(durationMs), Buffer(maxRecords, shutdownWhenFull))
            .WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)), name);

    /// <summary><c>suppress</c> until the window of a windowed aggregation closes.</summary>
    public static IKTable<Windowed<K>, V> KsmlSuppressUntilWindowCloses<K, V>(this IKTable<Windowed<K>, V> table, long graceMs, long? maxRecords, bool shutdownWhenFull, string name, string keyType, string valueType) =>
        table.Suppress(SuppressedBuilder.UntilWindowClose<Windowed<K>, V>(TimeSpan.FromMilliseconds(graceMs), Buffer(maxRecords, shutdownWhenFull))
            .WithKeySerdes(KsmlSerdes.For<Windowed<K>>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType)), name);

    /// <summary><c>toStream</c> with a key mapper.</summary>
    public static IKStream<KR, V> KsmlToStream<K, V, KR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, KsmlFunctionDefinition mapper, string name)
    {
        var f = ksml.Function(mapper);
        return table.ToStream((k, v, c) => Guard(ksml, name, f, k, v, c, () => KsmlValues.To<KR>(f.Invoke(null, k, v), ResultOf(f)), () => default!), name);
    }

    /// <summary><c>toTable</c>.</summary>
    public static IKTable<K, V> KsmlToTable<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlStoreDefinition? store, string name, string keyType, string valueType) =>
        stream.ToTable(ksml.KeyValueMaterialized<K, V>(store, name + "_store", keyType, valueType), name);

    /// <summary><c>join</c>/<c>leftJoin</c>/<c>outerJoin</c> of two streams within a time difference.</summary>
    public static IKStream<K, VR> KsmlJoinStream<K, V, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IKStream<K, V0> other, KsmlFunctionDefinition valueJoiner, string kind, long timeDifferenceMs, long? graceMs, string name, string keyType, string valueType, string otherValueType)
    {
        var f = ksml.Function(valueJoiner);
        var window = graceMs is { } g ? JoinWindowOptions.Of(timeDifferenceMs, g) : JoinWindowOptions.Of(timeDifferenceMs);
        var props = StreamJoinProps.With<K, V, V0>(KsmlSerdes.For<K>(keyType), KsmlSerdes.For<V>(valueType), KsmlSerdes.For<V0>(otherValueType));
        var joiner = StreamJoiner<V, V0, VR>(ksml, name, f);
        return (kind switch
        {
            "leftJoin" => stream.LeftJoin(other, joiner, window, props),
            "outerJoin" => stream.OuterJoin(other, joiner, window, props),
            _ => stream.Join(other, joiner, window, props),
        }).WithoutFailedJoins(name);
    }

    /// <summary><c>join</c>/<c>leftJoin</c> of a stream with a table.</summary>
    public static IKStream<K, VR> KsmlJoinTable<K, V, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IKTable<K, V0> table, KsmlFunctionDefinition valueJoiner, string kind, string name)
    {
        var f = ksml.Function(valueJoiner);
        var joiner = StreamJoiner<V, V0, VR>(ksml, name, f);
        // After a key change Streamiz repartitions the stream before the join, with these serdes; without them it
        // took the configuration's default (string) serdes and failed on the first record. An internal topic only
        // has to round-trip the CLR types, so their default KSML serdes do.
        var props = new StreamTableJoinProps<K, V, V0>(KsmlSerdes.For<K>(""), KsmlSerdes.For<V>(""), KsmlSerdes.For<V0>(""));
        return (kind == "leftJoin" ? stream.LeftJoin(table, joiner, props, name) : stream.Join(table, joiner, props, name)).WithoutFailedJoins(name);
    }

    /// <summary>A stream joiner's result, or the mark of a failure its policy handled.</summary>
    private readonly record struct JoinResult<VR>(VR Value, bool Failed);

    /// <summary>
    /// Streamiz forwards whatever a stream joiner returns, so a handled failure is marked and dropped right
    /// after the join (<see cref="WithoutFailedJoins"/>) instead of going on as (key, null), a tombstone downstream.
    /// </summary>
    private static Func<V, V0, JoinResult<VR>> StreamJoiner<V, V0, VR>(KsmlTopologyBuilder ksml, string name, IKsmlFunction f) =>
        (a, b) => TryGuard(ksml, name, f, (object?)null, a, null, () => KsmlValues.To<VR>(f.Invoke(null, null, a, b), ResultOf(f)), out var joined)
            ? new JoinResult<VR>(joined, false)
            : new JoinResult<VR>(default!, true);

    private static IKStream<K, VR> WithoutFailedJoins<K, VR>(this IKStream<K, JoinResult<VR>> joined, string name) =>
        joined.FlatMapValues((K _, JoinResult<VR> r, IRecordContext _) => r.Failed ? Array.Empty<VR>() : new[] { r.Value }, name + "_joined");

    /// <summary><c>join</c>/<c>leftJoin</c>/<c>outerJoin</c> of two tables.</summary>
    public static IKTable<K, VR> KsmlJoinTable<K, V, V0, VR>(this IKTable<K, V> table, KsmlTopologyBuilder ksml, IKTable<K, V0> other, KsmlFunctionDefinition valueJoiner, string kind, KsmlStoreDefinition? store, string name, string keyType, string valueType)
    {
        var f = ksml.Function(valueJoiner);
        Func<V, V0, VR> joiner = (a, b) => Guard(ksml, name, f, (object?)null, a, null, () => KsmlValues.To<VR>(f.Invoke(null, null, a, b), ResultOf(f)), () => default!);
        var materialized = ksml.KeyValueMaterialized<K, VR>(store, name + "_store", keyType, valueType);
        return kind switch
        {
            "leftJoin" => table.LeftJoin(other, joiner, materialized, name),
            "outerJoin" => table.OuterJoin(other, joiner, materialized, name),
            _ => table.Join(other, joiner, materialized, name),
        };
    }

    /// <summary><c>join</c>/<c>leftJoin</c> of a stream with a global table, looked up by the mapper's key.</summary>
    public static IKStream<K, VR> KsmlJoinGlobalTable<K, V, K0, V0, VR>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, IGlobalKTable<K0, V0> table, KsmlFunctionDefinition mapper, KsmlFunctionDefinition valueJoiner, string kind, string name)
    {
        var map = ksml.Function(mapper);
        var f = ksml.Function(valueJoiner);
        Func<K, V, K0> keyMapper = (k, v) => Guard(ksml, name, map, k, v, null, () => KsmlValues.To<K0>(map.Invoke(null, k, v), ResultOf(map)), () => default!);
        var joiner = StreamJoiner<V, V0, VR>(ksml, name, f);
        return (kind == "leftJoin" ? stream.LeftJoin(table, keyMapper, joiner, name) : stream.Join(table, keyMapper, joiner, name)).WithoutFailedJoins(name);
    }

    /// <summary><c>repartition</c>, optionally with a partition count and a Python partitioner.</summary>
    public static IKStream<K, V> KsmlRepartition<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, int? numberOfPartitions, KsmlFunctionDefinition? partitioner, string name, string keyType, string valueType)
    {
        var repartitioned = Repartitioned<K, V>.As(name).WithKeySerdes(KsmlSerdes.For<K>(keyType)).WithValueSerdes(KsmlSerdes.For<V>(valueType));
        if (numberOfPartitions is { } n)
            repartitioned = repartitioned.WithNumberOfPartitions(n);
        if (partitioner is not null)
            repartitioned = repartitioned.WithStreamPartitioner(Partitioner<K, V>(ksml, partitioner));
        return stream.Repartition(repartitioned);
    }

    private static Func<string, K, V, Confluent.Kafka.Partition, int, Confluent.Kafka.Partition> Partitioner<K, V>(KsmlTopologyBuilder ksml, KsmlFunctionDefinition partitioner)
    {
        var f = ksml.Function(partitioner);
        return (topic, k, v, _, count) => Guard(ksml, "partitioner", f, k, v, null, () => new Confluent.Kafka.Partition(KsmlValues.To<int>(f.Invoke(null, topic, k, v, count), ResultOf(f))), () => Confluent.Kafka.Partition.Any);
    }

    // ---- sinks ---------------------------------------------------------------------------------

    /// <summary><c>to</c> a declared topic, serialised as the target declares.</summary>
    public static void KsmlTo<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlTopicDefinition target, KsmlFunctionDefinition? partitioner, string name)
    {
        var keySerde = KsmlSerdes.For<K>(target.KeyType);
        var valueSerde = KsmlSerdes.For<V>(target.ValueType);
        var tag = new KeyValuePair<string, object?>("topic", target.Topic);
        stream = stream.Peek((_, _, _) => Observability.KsmlMetrics.RecordsOut.Add(1, tag), name + "_records_out");
        if (partitioner is null)
            stream.ToProducerPartitioned(FixedTopic<K, V>(target.Topic), keySerde, valueSerde, name);
        else
            stream.To(target.Topic, Partitioner<K, V>(ksml, partitioner), keySerde, valueSerde, name);
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
    public static void KsmlToTopicNameExtractor<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, KsmlFunctionDefinition extractor, string keyType, string valueType, string name)
    {
        var f = ksml.Function(extractor);
        string Extract(K k, V v, IRecordContext context) => KsmlValues.To<string>(f.Invoke(null, k, v, RecordContext(context)), ResultOf(f));
        if (ksml.Errors is null)
        {
            stream.ToProducerPartitioned(new TopicName<K, V>(Extract), KsmlSerdes.For<K>(keyType), KsmlSerdes.For<V>(valueType), name);
            return;
        }
        // A sink cannot skip a record, so the topic is worked out (and a failure handled) by a filter
        // just before it; Streamiz hands the record from filter to sink on the same thread at once.
        stream.Filter((k, v, c) => TryGuard(ksml, name, f, k, v, c, () => Extract(k, v, c), out ExtractedTopic), name + "_extract")
            .ToProducerPartitioned(new TopicName<K, V>((_, _, _) => ExtractedTopic!), KsmlSerdes.For<K>(keyType), KsmlSerdes.For<V>(valueType), name);
    }

    [ThreadStatic] private static string? ExtractedTopic;

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
        var f = ksml.Function(action);
        if (f.Definition.Stores.Count == 0)
            stream.Foreach((k, v, c) => Guard(ksml, name, f, k, v, c, () => f.Invoke(null, k, v)), name);
        else
            stream.KsmlPeek(ksml, action, name).Foreach((_, _, _) => { }, name + "_end");
    }

    /// <summary><c>print</c> to stdout or a file, optionally formatted by a keyValuePrinter.</summary>
    public static void KsmlPrint<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, string? filename, string? label, KsmlFunctionDefinition? mapper, string name)
    {
        var printed = filename is null ? Printed<K, V>.ToOut() : Printed<K, V>.ToWriter(new LineAppendingWriter(filename));
        printed = printed.WithName(name);
        if (label is not null)
            printed = printed.WithLabel(label);
        if (mapper is not null)
        {
            var f = ksml.Function(mapper);
            printed = printed.WithKeyValueMapper((k, v, c) => Guard(ksml, name, f, k, v, c, () => KsmlValues.To<string>(f.Invoke(null, k, v), ResultOf(f)), () => $"(print failed for key {k})"));
        }
        stream.Print(printed);
    }

    /// <summary><c>branch</c>: one stream per branch; the first matching predicate wins, a null predicate takes the rest.</summary>
    public static IKStream<K, V>[] KsmlBranch<K, V>(this IKStream<K, V> stream, KsmlTopologyBuilder ksml, string name, params KsmlFunctionDefinition?[] predicates)
    {
        // Streamiz evaluates the predicates in order for each record, on one thread: the first one
        // clears the flag, and a handled failure sets it so later branches (the default too) pass the record by.
        var tests = predicates.Select((p, index) =>
        {
            if (p is null)
                return new Func<K, V, IRecordContext, bool>((_, _, _) => !BranchFailed);
            var f = ksml.Function(p);
            return (k, v, c) =>
            {
                if (index == 0)
                    BranchFailed = false;
                if (BranchFailed)
                    return false;
                if (TryGuard(ksml, name, f, k, v, c, () => KsmlValues.IsTrue(f.Invoke(null, k, v), ResultOf(f)), out var match))
                    return match;
                BranchFailed = true;
                return false;
            };
        }).ToArray();
        return stream.Branch(name, tests);
    }

    [ThreadStatic] private static bool BranchFailed;
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
