using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.ErrorHandling;
using Ksml.Runtime.Functions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Processors;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Table;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// The worker threads on which one step's calls run for one stream thread, and the bound on how many run at once
/// (<c>concurrency.maxInFlight</c>, per stream thread as the tasks of a thread share it). Dedicated threads, not
/// the thread pool: calls block on I/O, and the pool would add threads for them only slowly. A worker that has
/// been idle for a while ends; one is started again when calls need it.
/// </summary>
internal sealed class CallWorkers
{
    private static readonly TimeSpan IdleEnd = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _slots;
    private readonly BlockingCollection<Action> _calls = new();
    private readonly int _max;
    private readonly string _name;
    private int _threads;
    private int _idle;

    public CallWorkers(int maxInFlight, string name)
    {
        _max = maxInFlight;
        _name = name;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
    }

    /// <summary>Calls running now.</summary>
    public int InFlight => _max - _slots.CurrentCount;

    /// <summary>Runs <paramref name="call"/> on a worker, first waiting for a free slot when <c>maxInFlight</c> calls run.</summary>
    public void Run(Action call)
    {
        _slots.Wait();
        _calls.Add(() =>
        {
            try
            {
                call();
            }
            finally
            {
                _slots.Release();
            }
        });
        // A worker more unless an idle one waits for every queued call (an idle worker counts as such until it
        // has taken a call, so counting idle workers alone would queue calls behind busy ones).
        if (_calls.Count > Volatile.Read(ref _idle))
        {
            if (Interlocked.Increment(ref _threads) <= _max)
                new Thread(Work) { IsBackground = true, Name = $"ksml-call-{_name}" }.Start();
            else
                Interlocked.Decrement(ref _threads);
        }
    }

    private void Work()
    {
        while (true)
        {
            Interlocked.Increment(ref _idle);
            var taken = _calls.TryTake(out var call, IdleEnd);
            Interlocked.Decrement(ref _idle);
            if (taken)
            {
                call!();
                continue;
            }
            Interlocked.Decrement(ref _threads);
            // A call queued while this worker decided to end would otherwise wait for the next one to start one.
            if (_calls.Count == 0 || Interlocked.Increment(ref _threads) > _max)
                return;
        }
    }
}

/// <summary>
/// The store that makes a task's commit wait for the work a step holds (calls in flight, a batch gathered):
/// Streamiz flushes every store of a task before it flushes the producer and commits the task's offsets (or its
/// transaction), so the work of every record before the commit point is done, and its output written, before
/// their offsets commit. It holds no data.
/// </summary>
internal sealed class PendingWorkStore(string name) : IStateStore
{
    /// <summary>Called on every flush and at close: finishes the step's pending work, waiting for it.</summary>
    public Action? Drain { get; set; }

    public string Name => name;
    public bool Persistent => false;
    public bool IsLocally => true;
    public bool IsOpen { get; private set; }

    public void Init(ProcessorContext context, IStateStore root)
    {
        context.Register(root, (_, _, _) => { });
        IsOpen = true;
    }

    public void Flush() => Drain?.Invoke();

    public void Close()
    {
        Drain?.Invoke();
        IsOpen = false;
    }
}

/// <summary>Builds one <see cref="PendingWorkStore"/> per task; never logged, never cached.</summary>
internal sealed class PendingWorkStoreBuilder(string name) : IStoreBuilder<PendingWorkStore>
{
    public bool IsWindowStore => false;
    public long RetentionMs => -1;
    public IDictionary<string, string> LogConfig { get; } = new Dictionary<string, string>();
    public bool LoggingEnabled => false;
    public string Name => name;
    public CacheSize CacheSize => null!;
    public IStoreBuilder<PendingWorkStore> WithCachingEnabled(CacheSize cacheSize = null!) => this;
    public IStoreBuilder<PendingWorkStore> WithCachingDisabled() => this;
    public IStoreBuilder<PendingWorkStore> WithLoggingEnabled(IDictionary<string, string> config) => this;
    public IStoreBuilder<PendingWorkStore> WithLoggingDisabled() => this;
    public PendingWorkStore Build(IStreamConfig config) => new(name);
    IStateStore IStoreBuilder.Build(IStreamConfig config) => Build(config);
    public void CacheExplicitlySet()
    {
    }
}

/// <summary>
/// One task's calls of one step with <c>concurrency:</c>: each record's call runs on a worker while the stream
/// thread goes on to the next record, and its outcome is forwarded later, on the stream thread, as if the record
/// were processed again then (its timestamp, headers and coordinates). The order of what is forwarded is the
/// declared one: <c>key</c>, one call per key at a time, so one key's outcomes keep their offset order while
/// keys overlap; <c>partition</c>, outcomes in the order the records arrived; <c>none</c>, as calls complete.
/// The stream thread waits, instead of buffering without bound, when <c>maxInFlight</c> calls run or four times
/// as many records wait; and every flush of the task (each commit, revocation and close) first forwards every
/// outcome of the calls before it, so no offset commits ahead of its record's output. The policy decides each
/// call's fate on the worker (retries, dead letters with the record's coordinates); a stop is raised on the
/// stream thread when its outcome comes up, and nothing commits after it.
/// </summary>
internal sealed class ConcurrentEvaluation<K, V, R> : ITransformer<K, V, K, StepOutcome<R>>
{
    private sealed class Call(K key, V value, IRecordContext record, SourceRecord source)
    {
        public K Key { get; } = key;

        /// <summary>
        /// What makes two records' keys the same key: equal values, not the same object. A json key is a new node
        /// per record and bytes a new array, so those are compared by their text.
        /// </summary>
        public object OrderKey { get; } = key switch
        {
            null => NullKey,
            System.Text.Json.Nodes.JsonNode node => node.ToJsonString(),
            byte[] bytes => Convert.ToHexString(bytes),
            _ => key,
        };
        public V Value { get; } = value;
        public IRecordContext Record { get; } = record;
        public SourceRecord Source { get; } = source;

        /// <summary>The record's span, taken on the stream thread: the call's span is its child, and its outcome leaves within it.</summary>
        public System.Diagnostics.Activity? Trace { get; } = System.Diagnostics.Activity.Current;

        public bool Done;
        public StepOutcome<R> Outcome;
        public KsmlStopException? Stop;
    }

    private static readonly UpDownCounter<long> InFlightCalls = Observability.KsmlMetrics.Meter.CreateUpDownCounter<long>("calls.in_flight", null, "Calls of functions with concurrency running or waiting, by step");
    private static readonly Counter<long> BackPressureWaits = Observability.KsmlMetrics.Meter.CreateCounter<long>("calls.waits", null, "Times a stream thread waited for a free slot or a shorter queue, by step");

    private readonly Body _body;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly Queue<Call> _arrived = new(); // partition order: outcomes leave in this order
    private readonly Dictionary<object, Queue<Call>> _byKey = new(); // key order: the head of each queue is running; locked, workers take the next
    private readonly ConcurrentQueue<Call> _completed = new();
    private readonly SemaphoreSlim _completions = new(0);
    private int _pending;
    private ProcessorContext<K, StepOutcome<R>> _context = null!;
    private ProcessorContext _task = null!;
    private object? _node;
    private static readonly object NullKey = new();

    /// <summary>What a transformer needs, given through Streamiz's transformer builder.</summary>
    /// <param name="StepName">The step, as logs and metrics name it.</param>
    /// <param name="RefuseCommits">Closes the commit gate, once a stop comes up after later records went on.</param>
    /// <param name="Workers">The workers of the stream thread that asks (the tasks of a thread share them).</param>
    /// <param name="Concurrency">How many calls, in which order.</param>
    /// <param name="StoreName">The task's <see cref="PendingWorkStore"/>.</param>
    /// <param name="Evaluate">One record's outcome, its policy applied; runs on a worker.</param>
    public sealed record Body(string StepName, Action RefuseCommits, Func<CallWorkers> Workers, KsmlConcurrency Concurrency, string StoreName,
        Func<K, V, SourceRecord, StepOutcome<R>> Evaluate);

    private CallWorkers? _workers;

    /// <summary>Streamiz's builder demands a parameterless constructor; it creates instances with the parameters given to it.</summary>
    public ConcurrentEvaluation() => _body = null!;

    public ConcurrentEvaluation(Body body)
    {
        _body = body;
        _tag = new("step", body.StepName);
    }

    private CallWorkers Workers => _workers ??= _body.Workers();

    private int MaxPending => _body.Concurrency.MaxInFlight * 4;

    public void Init(ProcessorContext<K, StepOutcome<R>> context)
    {
        if (_body is null)
            throw new InvalidOperationException("ConcurrentEvaluation was created without its step.");
        _context = context;
        _task = Kafka.StreamizTask.TaskContextOf(context);
        ((PendingWorkStore)context.GetStateStore(_body.StoreName)).Drain = () => Forward(untilEmpty: true);
        // Outcomes are forwarded between records too, and while none arrive.
        context.Schedule(TimeSpan.FromMilliseconds(10), PunctuationType.PROCESSING_TIME, _ => Forward(untilEmpty: false));
    }

    public Record<K, StepOutcome<R>>? Process(Record<K, V> record)
    {
        _node ??= Kafka.StreamizTask.NodeOf(_task);
        var recordContext = Kafka.StreamizTask.RecordOf(_task)!;
        Forward(untilEmpty: false);
        if (_pending >= MaxPending)
        {
            BackPressureWaits.Add(1, _tag);
            while (_pending >= MaxPending)
                WaitAndForward();
        }
        var call = new Call(record.Key, record.Value, recordContext, SourceRecord.Of(recordContext));
        _pending++;
        InFlightCalls.Add(1, _tag);
        if (_body.Concurrency.Order == "partition")
            _arrived.Enqueue(call);
        if (_body.Concurrency.Order == "key")
        {
            lock (_byKey)
            {
                if (_byKey.TryGetValue(call.OrderKey, out var waiting))
                {
                    waiting.Enqueue(call); // the worker running the key's call before it takes it next
                    return null;
                }
                _byKey[call.OrderKey] = new Queue<Call>([call]);
            }
        }
        Start(call);
        return null;
    }

    /// <summary>
    /// Runs <paramref name="call"/> on a worker. Under key order the worker then takes the key's next call itself,
    /// in the same slot: the stream thread may be waiting in a poll, and a key's calls must not wait for it.
    /// </summary>
    private void Start(Call call)
    {
        if (Workers.InFlight >= _body.Concurrency.MaxInFlight)
            BackPressureWaits.Add(1, _tag);
        Workers.Run(() =>
        {
            for (Call? next = call; next is not null; next = NextOfKey(next))
                Run(next);
        });
    }

    private void Run(Call call)
    {
        var worker = System.Diagnostics.Activity.Current;
        System.Diagnostics.Activity.Current = call.Trace;
        try
        {
            call.Outcome = _body.Evaluate(call.Key, call.Value, call.Source);
        }
        catch (KsmlStopException stop)
        {
            call.Stop = stop;
        }
        catch (Exception unexpected)
        {
            // Not a function's failure (the policy saw those): the application stops, uncommitted.
            call.Stop = new KsmlStopException($"Stopping: step {_body.StepName} failed outside its function: {unexpected.Message}", unexpected);
        }
        finally
        {
            System.Diagnostics.Activity.Current = worker;
        }
        _completed.Enqueue(call);
        _completions.Release();
    }

    /// <summary>The key's call after <paramref name="done"/>, under key order; null when none waits (or another order).</summary>
    private Call? NextOfKey(Call done)
    {
        if (_body.Concurrency.Order != "key")
            return null;
        lock (_byKey)
        {
            var queue = _byKey[done.OrderKey];
            queue.Dequeue();
            if (queue.Count > 0)
                return queue.Peek();
            _byKey.Remove(done.OrderKey);
            return null;
        }
    }

    private void WaitAndForward()
    {
        _completions.Wait();
        _completions.Release(); // Forward takes it again with the call
        Forward(untilEmpty: false);
    }

    /// <summary>Forwards what completed, in the declared order; with <paramref name="untilEmpty"/>, waits for every call.</summary>
    private void Forward(bool untilEmpty)
    {
        while (true)
        {
            while (_completions.Wait(0) && _completed.TryDequeue(out var call))
            {
                call.Done = true;
                switch (_body.Concurrency.Order)
                {
                    case "partition":
                        while (_arrived.TryPeek(out var head) && head.Done)
                            Emit(_arrived.Dequeue());
                        break;
                    default: // key order too: one key's calls run one after the other, so they complete in order
                        Emit(call);
                        break;
                }
            }
            if (!untilEmpty || _pending == 0)
                return;
            _completions.Wait();
            _completions.Release();
        }
    }

    private void Emit(Call call)
    {
        _pending--;
        InFlightCalls.Add(-1, _tag);
        if (call.Stop is { } stop)
        {
            // Later records may have completed and been forwarded already; their offsets must not commit past this one.
            _body.RefuseCommits();
            throw stop;
        }
        // Forwarded in the record's own trace, so what it produces carries its context, not that of the record at hand.
        var current = System.Diagnostics.Activity.Current;
        System.Diagnostics.Activity.Current = call.Trace;
        try
        {
            Kafka.StreamizTask.AsIf(_task, _node!, call.Record, () => _context.Forward(call.Key, call.Outcome));
        }
        finally
        {
            System.Diagnostics.Activity.Current = current;
        }
    }

    public void Close() => Forward(untilEmpty: true);
}
