using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Hosting;

/// <summary>
/// Under exactly-once, local state may only be trusted after a clean close, as in Kafka Streams, which wipes a task's
/// state when it finds no checkpoint. Streamiz does not: its persistent stores keep the writes of an aborted
/// transaction (a stop aborts it) or of one a crash left open, and it restores them from the last checkpoint on,
/// so the next run would count those records twice. So a clean close leaves a mark, and a start without one wipes
/// the application's state directory, which its changelog topics then restore from what was committed.
/// </summary>
internal static class ExactlyOnceState
{
    private const string CleanCloseMark = ".ksml-closed-cleanly";

    /// <summary>Called before the stream starts: wipes the state left by a run that did not close cleanly.</summary>
    /// <returns>Whether state was wiped.</returns>
    public static bool Prepare(string stateDirectory, string applicationId, ILogger logger)
    {
        var directory = Path.Combine(stateDirectory, applicationId);
        var mark = Path.Combine(directory, CleanCloseMark);
        if (!Directory.Exists(directory))
            return false;
        if (File.Exists(mark))
        {
            File.Delete(mark);
            return false;
        }
        logger.LogWarning("The last run of {ApplicationId} under exactly-once did not close cleanly (a stop or a crash): its local state in {Directory} may hold uncommitted writes, so it is wiped and restored from the changelog topics",
            applicationId, directory);
        Directory.Delete(directory, recursive: true);
        return true;
    }

    /// <summary>Called once the stream closed without a stop: the state it left is what was committed.</summary>
    public static void MarkClosedCleanly(string stateDirectory, string applicationId)
    {
        var directory = Path.Combine(stateDirectory, applicationId);
        if (Directory.Exists(directory))
            File.WriteAllText(Path.Combine(directory, CleanCloseMark), "");
    }
}
