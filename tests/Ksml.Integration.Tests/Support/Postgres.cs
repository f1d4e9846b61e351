using Npgsql;

namespace Ksml.Integration.Tests.Support;

/// <summary>The PostgreSQL server scripts/services.sh starts on loopback (started here too when needed: it is idempotent).</summary>
public static class Postgres
{
    /// <summary>libpq's key=value connection string, which psycopg2 and psql take.</summary>
    public static string ConnectionString => Services.Get("KSML_POSTGRES_DSN");

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
    // No pooling: a test restarts the server, and a pooled connection would outlive it.
    private static string ToNpgsql(string dsn) => "Pooling=false;" + string.Join(';', dsn.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
    {
        var (key, value) = (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
        return (key == "dbname" ? "Database" : key == "user" ? "Username" : key) + "=" + value;
    }));
}
