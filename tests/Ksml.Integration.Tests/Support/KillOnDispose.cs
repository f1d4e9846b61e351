using System.Diagnostics;

namespace Ksml.Integration.Tests.Support;

/// <summary>Kills a started process, with its children, if it is still running when the test leaves.</summary>
public sealed class KillOnDispose(Process process) : IDisposable
{
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Not started or already gone.
        }
    }
}
