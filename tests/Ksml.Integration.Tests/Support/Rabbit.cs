using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Ksml.Integration.Tests.Support;

/// <summary>Reads and empties RabbitMQ queues with pika, the client the examples use, on the loopback server.</summary>
public static class Rabbit
{
    public static string Url => Services.Get("KSML_RABBITMQ_URL");

    private const string Script = """
        import json, sys, pika
        connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
        channel = connection.channel()
        action = sys.argv[2]
        result = {}
        for queue in sys.argv[3:]:
            channel.queue_declare(queue=queue, durable=True)
            if action == "purge":
                channel.queue_purge(queue)
                continue
            messages = []
            while True:
                method, properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                messages.append({"body": json.loads(body), "message_id": properties.message_id, "persistent": properties.delivery_mode == 2})
            result[queue] = messages
        print(json.dumps(result))
        connection.close()
        """;

    private static string Run(string action, params string[] queues)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", Script, Url, action }.Concat(queues))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, errors);
        return output;
    }

    public static void Purge(params string[] queues) => Run("purge", queues);

    /// <summary>Takes every message off the queues.</summary>
    public static JsonObject Drain(params string[] queues) => JsonNode.Parse(Run("drain", queues))!.AsObject();
}
