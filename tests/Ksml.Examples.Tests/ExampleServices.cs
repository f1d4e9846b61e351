using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Ksml.Examples.Tests;

/// <summary>
/// Starts what the examples talk to by sourcing each example's own services.sh (the file
/// scripts/run-example.sh sources), so the suites meet the same PostgreSQL tables, RabbitMQ and demo
/// APIs as the running examples; the variables those scripts export are copied into this process,
/// where the Python functions read them.
/// </summary>
[SetUpFixture]
public sealed class ExampleServices
{
    private readonly List<int> _started = [];

    public static string RepositoryRoot { get; } = Path.GetFullPath(typeof(ExampleServices).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!);

    [OneTimeSetUp]
    public void Start()
    {
        var ports = new Dictionary<string, int> { ["CUSTOMER_API_PORT"] = FreePort(), ["NOTIFICATION_API_PORT"] = FreePort() };
        foreach (var script in Directory.GetFiles(Path.Combine(RepositoryRoot, "examples"), "services.sh", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var start = new ProcessStartInfo("bash")
            {
                WorkingDirectory = RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var (name, port) in ports)
                start.Environment[name] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Background services get /dev/null for output, so reading ours ends when the script does.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("set -e; services_pids=(); source \"$1\" >/dev/null 2>&1 </dev/null; echo \"pids=${services_pids[*]}\"; env -0");
            start.ArgumentList.Add("services");
            start.ArgumentList.Add(script);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                Assert.Fail($"{script} failed ({process.ExitCode}): {errors}");
            var newline = output.IndexOf('\n');
            _started.AddRange(output[..newline]["pids=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            foreach (var variable in output[(newline + 1)..].Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = variable.IndexOf('=');
                if (equals > 0 && (variable.StartsWith("KSML_", StringComparison.Ordinal) || variable.Contains("_API_", StringComparison.Ordinal) || variable.StartsWith("PAYMENT_", StringComparison.Ordinal)))
                    Environment.SetEnvironmentVariable(variable[..equals], variable[(equals + 1)..]);
            }
        }
        foreach (var port in ports.Values)
            WaitForListener(port);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        foreach (var pid in _started)
        {
            try { Process.GetProcessById(pid).Kill(); }
            catch (ArgumentException) { } // already gone
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void WaitForListener(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }
}
