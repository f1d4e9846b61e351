using System.Diagnostics;
using System.Reflection;
using Npgsql;

namespace Ksml.Integration.Tests.Support;

/// <summary>The PostgreSQL server scripts/services.sh starts on loopback (started here too when needed: it is idempotent).</summary>
public static class Postgres
{
    private static readonly Lazy<string> Dsn = new(Start);

    /// <summary>libpq's key=value connection string, which psycopg2 and psql take.</summary>
    public static string ConnectionString => Dsn.Value;

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable("KSML_POSTGRES_DSN") is { Length: > 0 } configured)
            return configured;
        var root = typeof(Postgres).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "services.sh")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail("scripts/services.sh could not start PostgreSQL: " + errors);
        var line = output.Split('\n').Single(l => l.StartsWith("export KSML_POSTGRES_DSN=", StringComparison.Ordinal));
        var dsn = line["export KSML_POSTGRES_DSN=".Length..].Trim('\'');
        Environment.SetEnvironmentVariable("KSML_POSTGRES_DSN", dsn);
        return dsn;
    }

    public static void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(ToNpgsql(ConnectionString));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    public static object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(ToNpgsql(ConnectionString));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    /// <summary>libpq's "host=… dbname=…" as Npgsql's "Host=…;Database=…".</summary>
    private static string ToNpgsql(string dsn) => string.Join(';', dsn.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
    {
        var (key, value) = (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
        return (key == "dbname" ? "Database" : key == "user" ? "Username" : key) + "=" + value;
    }));
}
