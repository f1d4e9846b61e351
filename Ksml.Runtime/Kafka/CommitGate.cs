namespace Ksml.Runtime.Kafka;

/// <summary>
/// What the stream may still commit once a failure stops the application. Streamiz commits the offsets (or the
/// transaction) of every task when a stream thread closes, even after a fatal error.
/// <list type="bullet">
/// <item>A record that failed in the consume or process stage is not among the offsets that commit, so the
/// closing commit is kept under at-least-once (the records before it are not read again); a transaction is
/// aborted instead, as it holds the failed record's partial outputs (<see cref="AbortTransactions"/>).</item>
/// <item>A record whose output the producer could not write was processed, so its offset is among them:
/// nothing commits after that (<see cref="Close"/>), nor after an error no policy saw, and a restart reads
/// again from the last commit before the failure.</item>
/// </list>
/// </summary>
public sealed class CommitGate
{
    private volatile int _state; // 0 open, 1 transactions aborted, 2 closed

    /// <summary>Whether a consumer may commit offsets.</summary>
    public bool OffsetsCommit => _state < 2;

    /// <summary>Whether a transaction may commit; when not, it is aborted.</summary>
    public bool TransactionsCommit => _state == 0;

    /// <summary>Aborts every later transaction instead of committing it.</summary>
    public void AbortTransactions() => Raise(1);

    /// <summary>Refuses every later commit of offsets and transactions.</summary>
    public void Close() => Raise(2);

    private void Raise(int state)
    {
        int seen;
        do
            seen = _state;
        while (seen < state && Interlocked.CompareExchange(ref _state, state, seen) != seen);
    }
}
