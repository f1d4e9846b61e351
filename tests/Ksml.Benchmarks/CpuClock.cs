using System.Runtime.InteropServices;

namespace Ksml.Benchmarks;

/// <summary>
/// CPU time of the calling thread. On a shared, loaded 2-core machine wall time mostly measures the
/// neighbours; the thread's own CPU time is what the bridge costs.
/// </summary>
internal static partial class CpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double ThreadNanoseconds()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return time.Seconds * 1e9 + time.Nanoseconds;
    }
}
