using System.Reflection;
using System.Text;

namespace Ksml.Compiler.Tests.Support;

/// <summary>
/// Snapshot assertions without Verify (not served here): compares text with
/// <c>Snapshots/{name}.verified{ext}</c>. A missing or different snapshot fails and writes
/// <c>.received</c>; <c>KSML_ACCEPT_SNAPSHOTS=1</c> accepts, which is refused when <c>CI=true</c>.
/// </summary>
public static class Snapshot
{
    private static readonly string Directory = typeof(Snapshot).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotDirectory").Value!;

    public static void Match(string actual, string? name = null, string extension = ".cs")
    {
        name ??= DefaultName();
        var verified = Path.Combine(Directory, name + ".verified" + extension);
        var received = Path.Combine(Directory, name + ".received" + extension);
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable("KSML_ACCEPT_SNAPSHOTS") == "1")
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                Assert.Fail("KSML_ACCEPT_SNAPSHOTS is refused when CI=true: snapshots are reviewed and committed by a person.");
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(verified, actual, new UTF8Encoding(false));
            File.Delete(received);
            Assert.Warn($"Accepted snapshot {name}; review and commit it.");
            return;
        }

        if (!File.Exists(verified))
        {
            File.WriteAllText(received, actual, new UTF8Encoding(false));
            Assert.Fail($"No snapshot {Path.GetFileName(verified)}. Review {received} and accept with KSML_ACCEPT_SNAPSHOTS=1.");
        }
        var expected = Normalize(File.ReadAllText(verified));
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual, new UTF8Encoding(false));
        Assert.Fail($"Snapshot {name} differs. {FirstDifference(expected, actual)}\nReceived: {received}");
    }

    private static string DefaultName()
    {
        var test = TestContext.CurrentContext.Test;
        var raw = test.ClassName!.Split('.').Last() + "." + test.Name;
        return new string(raw.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).Trim('_');
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end>";
            var al = i < a.Length ? a[i] : "<end>";
            if (el != al)
                return $"First difference at line {i + 1}:\n  expected: {el}\n  actual:   {al}";
        }
        return "";
    }
}
