using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Ksml.Runtime.Hosting;
using Ksml.Runtime.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ksml.Benchmarks;

/// <summary>
/// Records per second written to PostgreSQL by a forEach sink, one INSERT per record against <c>batch:
/// {maxRecords: 500}</c> (writes.ksml.yaml), from the first produce until the table holds every record; both in
/// one application on the embedded broker (4 partitions, one stream thread), in the same run. Needs <c>KSML_POSTGRES_DSN</c> (scripts/services.sh).
/// </summary>
internal static class WritesBenchmark
{
    public static IEnumerable<(string Pipeline, double RecordsPerSecond)> Run(int eachRecords, int batchedRecords)
    {
        var dsn = Environment.GetEnvironmentVariable("KSML_POSTGRES_DSN")
            ?? throw new InvalidOperationException("KSML_POSTGRES_DSN is not set: run eval \"$(bash scripts/services.sh)\" first");
        var connectionString = string.Join(";", dsn.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)).Select(p => (p[0] switch
        {
            "dbname" => "Database",
            "user" => "Username",
            var other => other,
        }) + "=" + p[1]));
        using var database = new NpgsqlConnection(connectionString);
        database.Open();
        Execute(database, "DROP TABLE IF EXISTS bench_writes; CREATE TABLE bench_writes (id text PRIMARY KEY, document jsonb NOT NULL)");
        using var broker = EmbeddedKafkaBroker.Start();
        var options = KsmlRunnerConfig.Parse("", "(bench)", _ => null,
            ["kafka.application.id=writes-" + Guid.NewGuid().ToString("N")[..8], "ksml.embeddedBroker.enabled=true", "kafka.commit.interval.ms=1000",
             // The mock keeps at most 5 MiB per partition; four keep every record of the batched run.
             "ksml.embeddedBroker.partitions=4"]);
        var host = KsmlHost.StartAsync([new WritesKsml()], options, NullLoggerFactory.Instance, broker).GetAwaiter().GetResult();
        var results = new List<(string, double)>();
        try
        {
            foreach (var (pipeline, records) in new[] { ("each", eachRecords), ("batched", batchedRecords) })
            {
                Execute(database, "TRUNCATE bench_writes");
                var clock = Stopwatch.StartNew();
                using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5 }).Build())
                {
                    for (var i = 0; i < records; i++)
                        producer.Produce($"writes_{pipeline}_in", new Message<string, byte[]> { Key = $"{pipeline}-{i}", Value = ThroughputBenchmark.Order(i) });
                    producer.Flush(TimeSpan.FromSeconds(30));
                }
                var deadline = DateTime.UtcNow.AddMinutes(3);
                while (Count(database) < records)
                {
                    if (DateTime.UtcNow > deadline)
                        throw new TimeoutException($"{pipeline}: {Count(database)} of {records} rows written in 3 minutes");
                    Thread.Sleep(20);
                }
                results.Add((pipeline, records / clock.Elapsed.TotalSeconds));
            }
        }
        finally
        {
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Execute(database, "DROP TABLE IF EXISTS bench_writes");
        }
        return results;
    }

    private static long Count(NpgsqlConnection database)
    {
        using var command = new NpgsqlCommand("SELECT count(*) FROM bench_writes", database);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(NpgsqlConnection database, string sql)
    {
        using var command = new NpgsqlCommand(sql, database);
        command.ExecuteNonQuery();
    }
}
