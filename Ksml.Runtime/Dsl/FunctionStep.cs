using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>What came of one record's step: the function's converted result, or the mark of a failure its policy handled.</summary>
internal readonly record struct StepOutcome<R>(R Value, bool Failed)
{
    public static StepOutcome<R> Failure => new(default!, true);

    /// <summary>The outcome with its value mapped (given <paramref name="state"/>, so the map need not allocate); a failure stays one.</summary>
    public StepOutcome<T> With<S, T>(S state, Func<R, S, T> map) => Failed ? StepOutcome<T>.Failure : new StepOutcome<T>(map(Value, state), false);

    /// <summary>The fate of a failed record in an aggregation: the aggregate keeps its previous value.</summary>
    public R Or(R previous) => Failed ? previous : Value;
}

/// <summary>
/// One record's meeting with one KSML function in one pipeline step: invoke, convert the result, and, when it
/// fails, apply the process policy (retry, log, dead-letter with the record's coordinates, stop). Built once per
/// step at topology build time. Every operation meets its functions through this; what it does with a failed
/// outcome is the operation's own and stated once where it is built: a stream step drops the record
/// (<see cref="StepOutcomes.Passed{K,R}(IKStream{K,StepOutcome{R}},string)"/>), a table step leaves the key as it was
/// (<see cref="StepOutcomes.Passed{K,R}(IKTable{K,StepOutcome{R}},Materialized{K,R,IKeyValueStore{Streamiz.Kafka.Net.Crosscutting.Bytes,byte[]}},string)"/>),
/// an aggregation keeps its previous aggregate (<see cref="StepOutcome{R}.Or"/>).
/// </summary>
internal sealed class FunctionStep<R>
{
    private readonly KsmlTopologyBuilder _ksml;
    private readonly KsmlErrorHandler? _errors;
    private ThreadLocal<CallWorkers>? _workers;
    private readonly Func<object?, string, R> _convert;

    /// <summary>A step whose result converts to <typeparamref name="R"/> as KSML's types do.</summary>
    public FunctionStep(KsmlTopologyBuilder ksml, KsmlFunctionDefinition definition, string name)
        : this(ksml, definition, name, WithDeclaredSchema(KsmlValues.To<R>, definition.ResultType))
    {
    }

    /// <summary>A result declared <c>avro:Schema</c> carries that schema on, as KSML's typed results do (the next function sees its <c>@type</c>).</summary>
    private static Func<object?, string, R> WithDeclaredSchema(Func<object?, string, R> convert, KsmlDataType? resultType)
    {
        if (typeof(R) != typeof(System.Text.Json.Nodes.JsonNode) || resultType is not { Notation: { } notation, Schema: { } schema, WindowKey: null })
            return convert;
        // Looked up at the first result, once the notations are configured, and kept for the step.
        var valueSchema = new Lazy<ValueSchema?>(() => Serdes.KsmlNotations.DeclaredSchema(notation, schema));
        return (result, what) =>
        {
            var converted = convert(result, what);
            if (converted is System.Text.Json.Nodes.JsonNode node && valueSchema.Value is { } attached)
                ValueSchemas.Attach(node, attached);
            return converted;
        };
    }

    /// <summary>A step whose result converts with <paramref name="convert"/>, given how type errors name the result.</summary>
    public FunctionStep(KsmlTopologyBuilder ksml, KsmlFunctionDefinition definition, string name, Func<object?, string, R> convert)
    {
        _ksml = ksml;
        _errors = ksml.Errors;
        _convert = convert;
        Function = ksml.Function(definition);
        Name = name;
        ResultDescription = definition.DescribeResult();
    }

    /// <summary>The function, for operations that call it in a way of their own (through <see cref="Settle{K,V,T}"/>).</summary>
    public IKsmlFunction Function { get; }

    /// <summary>The step's (processor's) name, as logs, metrics and dead letters give it.</summary>
    public string Name { get; }

    /// <summary>How type errors name this step's result.</summary>
    public string ResultDescription { get; }

    /// <summary>Whether the function reaches state stores, so it must run where the task's stores are.</summary>
    public bool UsesStores => Function.Definition.Stores.Count > 0;

    /// <summary>
    /// The function's concurrent calls, or null for one call at a time on the stream thread. Under the test
    /// driver calls are made one at a time, so that a suite sees every output as soon as it pipes the input.
    /// </summary>
    public KsmlConcurrency? Concurrency => _ksml.UnderTestDriver ? null : Function.Definition.Concurrency;

    /// <summary>The workers of the calling stream thread for this step (<c>maxInFlight</c> per stream thread).</summary>
    public CallWorkers Workers() =>
        (_workers ??= new ThreadLocal<CallWorkers>(() => new CallWorkers(Concurrency?.MaxInFlight ?? 1, Name))).Value!;

    /// <summary>Adds the store through which each task's commits wait for this step's pending work.</summary>
    public string AddPendingWorkStore(string name)
    {
        _ksml.AddStateStore(new PendingWorkStoreBuilder(name), logging: false);
        return name;
    }

    /// <summary>
    /// Decides the fate of a batch of records handed to one call: its result, or the process policy's answer for
    /// each record. A stop refuses every later commit: the batch's records were all taken, so their offsets are
    /// among those the closing commit would make.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public void SettleBatch<K, V>(IReadOnlyList<(K Key, V Value, SourceRecord? Source)> records, Func<object?> attempt)
    {
        if (_errors is null)
        {
            attempt();
            return;
        }
        try
        {
            _errors.TryProcessBatch(Name, Function.Definition, records, attempt, out _);
        }
        catch (KsmlStopException)
        {
            RefuseCommits();
            throw;
        }
    }

    /// <summary>Refuses every later commit: a stop came up after later records of its partition went on.</summary>
    public void RefuseCommits() => _errors?.Commits.Close();

    /// <summary>Calls the function for the record (<paramref name="key"/>, <paramref name="value"/>) read at <paramref name="source"/>.</summary>
    public StepOutcome<R> Call<K, V>(K key, V value, SourceRecord? source, IKsmlStoreProvider? stores, params object?[] arguments) =>
        Settle(key, value, source, (Step: this, Stores: stores, Arguments: arguments), static call => call.Step.Convert(call.Step.Function.Invoke(call.Stores, call.Arguments)));

    /// <summary>Converts a raw result of the function, throwing a located type error.</summary>
    public R Convert(object? result) => _convert(result, ResultDescription);

    /// <summary>
    /// Decides the record's fate for <paramref name="attempt"/>: its result, or, when it throws, what the process
    /// policy makes of the failure. An attempt may hand over work done elsewhere (a call that completes later than
    /// its record arrived): it is settled here, on the stream thread, with the record it belongs to.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public StepOutcome<T> Settle<K, V, T>(K key, V value, SourceRecord? source, Func<T> attempt) =>
        Settle(key, value, source, attempt, static attempt => attempt());

    /// <summary>
    /// <see cref="Settle{K,V,T}(K,V,SourceRecord?,Func{T})"/> with the attempt's state passed in rather than
    /// captured: every record goes through here, and a closure per record is garbage per record.
    /// </summary>
    /// <exception cref="KsmlStopException">The policy says stop.</exception>
    public StepOutcome<T> Settle<K, V, TState, T>(K key, V value, SourceRecord? source, TState state, Func<TState, T> attempt)
    {
        if (_errors is null)
            return new StepOutcome<T>(attempt(state), false);
        return _errors.TryProcess(Name, Function.Definition, key, value, source, state, attempt, out var result)
            ? new StepOutcome<T>(result, false)
            : StepOutcome<T>.Failure;
    }
}

/// <summary>The one place each kind of operation decides what a failed outcome does.</summary>
internal static class StepOutcomes
{
    /// <summary>
    /// Computes each record's outcome, inside a store-connected transformer when the function uses stores.
    /// The stream then carries outcomes; <see cref="Passed{K,R}(IKStream{K,StepOutcome{R}},string)"/> ends them.
    /// </summary>
    public static IKStream<K, StepOutcome<R>> Evaluate<K, V, R, T>(this IKStream<K, V> stream, FunctionStep<T> step, string name, Func<K, V, SourceRecord, IKsmlStoreProvider?, StepOutcome<R>> evaluate)
    {
        if (step.Concurrency is { } concurrency)
        {
            // The compiler refuses concurrency with stores: a task's stores are not for worker threads.
            var store = step.AddPendingWorkStore(name + "_in_flight");
            ConnectStores(stream, name, [store]);
            var concurrent = Streamiz.Kafka.Net.Processors.Public.TransformerBuilder.New<K, V, K, StepOutcome<R>>()
                .Transformer<ConcurrentEvaluation<K, V, R>>(new ConcurrentEvaluation<K, V, R>.Body(step.Name, step.RefuseCommits, step.Workers, concurrency, store,
                    (k, v, source) => evaluate(k, v, source, null)))
                .Build();
            return stream.TransformValues(concurrent, name);
        }
        if (!step.UsesStores)
            return stream.MapValues((k, v, c) => evaluate(k, v, SourceRecord.Of(c), null), name);
        var supplier = Streamiz.Kafka.Net.Processors.Public.TransformerBuilder.New<K, V, K, StepOutcome<R>>()
            .Transformer<StoreBoundTransformer<K, V, StepOutcome<R>>>(new StoreBoundTransformer<K, V, StepOutcome<R>>.Body(evaluate))
            .Build();
        ConnectStores(stream, name, step.Function.Definition.Stores);
        return stream.TransformValues(supplier, name);
    }

    /// <summary>
    /// Streamiz's transformers with stores drop a record whose key is null, with only a warning (KStreamPAPI),
    /// where Kafka Streams' processValues, and so KSML, hands it to the function. So the stores are connected to
    /// a node of the same task that no record reaches, and the step reaches them through its task, which serves
    /// every store registered in it (ProcessorStateManager.GetStore), without declaring them itself.
    /// </summary>
    internal static void ConnectStores<K, V>(IKStream<K, V> stream, string name, IReadOnlyCollection<string> stores)
    {
        var holder = Streamiz.Kafka.Net.Processors.Public.TransformerBuilder.New<K, V, K, V>()
            .Transformer<StoreBoundTransformer<K, V, V>>(new StoreBoundTransformer<K, V, V>.Body((_, value, _, _) => value))
            .Build();
        stream.Filter((_, _, _) => false, name + "_stores_filter").TransformValues(holder, name + "_stores", stores.ToArray());
    }

    /// <summary>
    /// Computes each record's outcome and passes on what did not fail, in one node when the function needs no
    /// stores (a node costs the stream thread about a microsecond per record in Streamiz; docs/benchmarks.md).
    /// </summary>
    public static IKStream<K, R> Compute<K, V, R, T>(this IKStream<K, V> stream, FunctionStep<T> step, string name, Func<K, V, SourceRecord, IKsmlStoreProvider?, StepOutcome<R>> evaluate) =>
        step.UsesStores || step.Concurrency is not null
            ? stream.Evaluate(step, name, evaluate).Passed(name + "_passed")
            : stream.Passed(name, (k, v, c) => evaluate(k, v, SourceRecord.Of(c), null));

    /// <summary>Computes each record's outcome in one node and passes on what did not fail.</summary>
    public static IKStream<K, R> Passed<K, V, R>(this IKStream<K, V> stream, string name, Func<K, V, IRecordContext, StepOutcome<R>> evaluate) =>
        stream.FlatMapValues((k, v, c) => PassedValues(evaluate(k, v, c)), name);

    /// <summary>A stream step's fate for a failed record: it goes no further.</summary>
    public static IKStream<K, R> Passed<K, R>(this IKStream<K, StepOutcome<R>> outcomes, string name) =>
        outcomes.FlatMapValues((K _, StepOutcome<R> outcome, IRecordContext _) => PassedValues(outcome), name);

    private static R[] PassedValues<R>(StepOutcome<R> outcome) => outcome.Failed ? [] : [outcome.Value];

    /// <summary>
    /// A table step's fate for a failed record: the key keeps the value it had, nothing is forwarded. Streamiz's
    /// table processors forward whatever their function returns (a null is a delete), so the outcomes leave as
    /// changes, failures are dropped, and what passes is materialized into the step's own table.
    /// </summary>
    public static IKTable<K, R> Passed<K, R>(this IKTable<K, StepOutcome<R>> outcomes, Materialized<K, R, IKeyValueStore<Streamiz.Kafka.Net.Crosscutting.Bytes, byte[]>> materialized, string name) =>
        outcomes.ToStream(name + "_changes").Passed(name + "_passed").ToTable(materialized, name);
}
