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

/// <summary>CPU time per thread of this process, from /proc, to see where a broker run spends it.</summary>
internal static class ThreadCpu
{
    public static Dictionary<string, double> Snapshot()
    {
        var result = new Dictionary<string, double>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; }
            var open = stat.IndexOf('(');
            var close = stat.LastIndexOf(')');
            var name = stat[(open + 1)..close];
            // schedstat's first field is the nanoseconds run on a CPU; stat's utime and stime count 10 ms ticks,
            // an eighth of a microsecond per record over an 80 000 record run: too coarse to compare two runs by.
            double seconds;
            try { seconds = double.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1e9; }
            catch (IOException)
            {
                var fields = stat[(close + 2)..].Split(' ');
                seconds = (double.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
            }
            result[name] = result.GetValueOrDefault(name) + seconds;
        }
        return result;
    }

    public static string Diff(Dictionary<string, double> before, Dictionary<string, double> after) =>
        string.Join(", ", after.Select(a => (a.Key, Seconds: a.Value - before.GetValueOrDefault(a.Key)))
            .Where(a => a.Seconds > 0.005).OrderByDescending(a => a.Seconds).Select(a => $"{a.Key} {a.Seconds:F2}s"));
}
