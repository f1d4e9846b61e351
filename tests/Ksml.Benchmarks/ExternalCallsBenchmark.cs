using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksml.Benchmarks;

/// <summary>
/// Records per second through a valueTransformer whose every call asks a loopback HTTP API that answers after a
/// fixed latency (Python's requests, one session per worker thread), from the first produce to the last output,
/// with 50 keys on one stream thread: the function called synchronously, and with <c>concurrency:</c> at several
/// <c>maxInFlight</c> settings (calls.ksml.yaml), all in one application on the embedded broker, in the same run.
/// </summary>
internal static class ExternalCallsBenchmark
{
    private const int Keys = 50;

    /// <summary>The API: answers every GET after <see cref="LatencyMs"/>.</summary>
    private sealed class SlowApi : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();

        public SlowApi()
        {
            var port = FreePort();
            Address = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Address + "/");
            _listener.Start();
            _ = Task.Run(Serve);
        }

        public string Address { get; }

        public int LatencyMs { get; set; } = 20;

        private async Task Serve()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    await Task.Delay(LatencyMs);
                    var body = "{\"tier\":\"gold\"}"u8.ToArray();
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                });
            }
        }

        private static int FreePort()
        {
            var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            var port = ((IPEndPoint)socket.LocalEndpoint).Port;
            socket.Stop();
            return port;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Close();
        }
    }

    /// <summary>Records per second for each (pipeline, latency) asked, and the process CPU per call.</summary>
    public static IEnumerable<(string Pipeline, int LatencyMs, double RecordsPerSecond, double CpuMsPerCall)> Run(IEnumerable<(string Pipeline, int LatencyMs, int Records)> runs)
    {
        using var api = new SlowApi();
        Environment.SetEnvironmentVariable("BENCH_API", api.Address);
        using var broker = EmbeddedKafkaBroker.Start();
        var options = KsmlRunnerConfig.Parse("", "(bench)", _ => null,
            ["kafka.application.id=calls-" + Guid.NewGuid().ToString("N")[..8], "ksml.embeddedBroker.enabled=true", "kafka.commit.interval.ms=1000", "kafka.fetch.wait.max.ms=10", "kafka.poll.ms=10"]);
        var host = KsmlHost.StartAsync([new CallsKsml()], options, NullLoggerFactory.Instance, broker).GetAwaiter().GetResult();
        var results = new List<(string, int, double, double)>();
        try
        {
            foreach (var (pipeline, latency, records) in runs)
            {
                api.LatencyMs = latency;
                using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
                {
                    BootstrapServers = broker.BootstrapServers, GroupId = "reader-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
                }).Build();
                // From the output's end before this run: "latest" is looked up lazily, and could skip this run's first outputs.
                var output = new TopicPartition($"calls_{pipeline}_out", 0);
                consumer.Assign(new TopicPartitionOffset(output, consumer.QueryWatermarkOffsets(output, TimeSpan.FromSeconds(10)).High));
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build())
                {
                    for (var i = 0; i < records; i++)
                        producer.Produce($"calls_{pipeline}_in", new Message<string, string> { Key = "c" + (i % Keys).ToString(CultureInfo.InvariantCulture), Value = "order" });
                    producer.Flush(TimeSpan.FromSeconds(30));
                }
                ThroughputBenchmark.ReadOutputs(consumer, records, TimeSpan.FromMinutes(3));
                var seconds = clock.Elapsed.TotalSeconds;
                var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                results.Add((pipeline, latency, records / seconds, cpuMs / records));
            }
        }
        finally
        {
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return results;
    }
}
