using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// The loopback address a stand-alone embedded broker (<c>ksml broker</c>) is reached at. It relays the Kafka
/// protocol to librdkafka's mock cluster and answers the one request applications need that the mock lacks:
/// CreateTopics, which Streamiz sends for changelog and repartition topics. It advertises CreateTopics up to
/// version 4 (the last before flexible encoding) in ApiVersions answers, so clients pick a version it reads.
/// </summary>
internal sealed class EmbeddedBrokerListener : IDisposable
{
    private const short ApiVersionsKey = 18;
    private const short CreateTopicsKey = 19;
    private const short CreateTopicsMaxVersion = 4;
    private const int MaxFrameBytes = 100 * 1024 * 1024;

    private readonly TcpListener _listener;
    private readonly IPEndPoint _mock;
    private readonly Func<string, int, (short Error, string? Message)> _createTopic;
    private readonly CancellationTokenSource _stop = new();

    public EmbeddedBrokerListener(int port, IPEndPoint mock, Func<string, int, (short Error, string? Message)> createTopic)
    {
        _mock = mock;
        _createTopic = createTopic;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var broker = new TcpClient();
        try
        {
            client.NoDelay = true;
            broker.NoDelay = true;
            await broker.ConnectAsync(_mock, _stop.Token).ConfigureAwait(false);
            var toClient = client.GetStream();
            var toBroker = broker.GetStream();
            var writing = new SemaphoreSlim(1, 1);
            var apiVersionsRequests = new ConcurrentDictionary<int, short>();
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var requests = RequestsAsync(toClient, toBroker, writing, apiVersionsRequests, ended.Token);
            var responses = ResponsesAsync(toBroker, toClient, writing, apiVersionsRequests, ended.Token);
            await Task.WhenAny(requests, responses).ConfigureAwait(false);
            await ended.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidDataException)
        {
            // A connection that ends or breaks the protocol is closed; the client reconnects as it would to any broker.
        }
    }

    private async Task RequestsAsync(NetworkStream client, NetworkStream broker, SemaphoreSlim writing, ConcurrentDictionary<int, short> apiVersionsRequests, CancellationToken stop)
    {
        try
        {
            while (await ReadFrameAsync(client, stop).ConfigureAwait(false) is { } frame)
            {
                var apiKey = BinaryPrimitives.ReadInt16BigEndian(frame);
                var version = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(2));
                var correlation = BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4));
                if (apiKey == CreateTopicsKey)
                {
                    await WriteFrameAsync(client, writing, CreateTopics(frame, version, correlation), stop).ConfigureAwait(false);
                    continue;
                }
                if (apiKey == ApiVersionsKey)
                    apiVersionsRequests[correlation] = version;
                await WriteFrameAsync(broker, null, frame, stop).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidDataException or ArgumentOutOfRangeException)
        {
        }
    }

    private static async Task ResponsesAsync(NetworkStream broker, NetworkStream client, SemaphoreSlim writing, ConcurrentDictionary<int, short> apiVersionsRequests, CancellationToken stop)
    {
        try
        {
            while (await ReadFrameAsync(broker, stop).ConfigureAwait(false) is { } frame)
            {
                var correlation = BinaryPrimitives.ReadInt32BigEndian(frame);
                if (apiVersionsRequests.TryRemove(correlation, out var version))
                    frame = WithCreateTopics(frame, version);
                await WriteFrameAsync(client, writing, frame, stop).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidDataException or ArgumentOutOfRangeException)
        {
        }
    }

    private static async Task<byte[]?> ReadFrameAsync(NetworkStream stream, CancellationToken stop)
    {
        var size = new byte[4];
        try
        {
            await stream.ReadExactlyAsync(size, stop).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(size);
        if (length is < 8 or > MaxFrameBytes)
            throw new InvalidDataException($"Kafka frame of {length} bytes");
        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame, stop).ConfigureAwait(false);
        return frame;
    }

    private static async Task WriteFrameAsync(NetworkStream stream, SemaphoreSlim? writing, byte[] frame, CancellationToken stop)
    {
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, frame.Length);
        if (writing is not null)
            await writing.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(size, stop).ConfigureAwait(false);
            await stream.WriteAsync(frame, stop).ConfigureAwait(false);
        }
        finally
        {
            writing?.Release();
        }
    }

    /// <summary>An ApiVersions answer (header v0 at every version) with CreateTopics added.</summary>
    internal static byte[] WithCreateTopics(byte[] response, short version)
    {
        var reader = new KafkaReader(response, 4);
        if (reader.Int16() != 0)
            return response; // an error answer (e.g. unsupported version) lists no APIs
        var output = new MemoryStream();
        output.Write(response, 0, 6);
        var flexible = version >= 3;
        var count = flexible ? (int)reader.UnsignedVarInt() - 1 : reader.Int32();
        var entriesStart = reader.Position;
        for (var i = 0; i < count; i++)
        {
            if (reader.Int16() == CreateTopicsKey)
                return response;
            reader.Skip(4);
            if (flexible)
                reader.SkipTaggedFields();
        }
        if (flexible)
            KafkaWriter.UnsignedVarInt(output, (uint)count + 2);
        else
            KafkaWriter.Int32(output, count + 1);
        output.Write(response, entriesStart, reader.Position - entriesStart);
        KafkaWriter.Int16(output, CreateTopicsKey);
        KafkaWriter.Int16(output, 0);
        KafkaWriter.Int16(output, CreateTopicsMaxVersion);
        if (flexible)
            output.WriteByte(0);
        output.Write(response, reader.Position, response.Length - reader.Position);
        return output.ToArray();
    }

    /// <summary>Creates the requested topics in the mock and answers in the request's version (0 to 4).</summary>
    private byte[] CreateTopics(byte[] request, short version, int correlation)
    {
        var reader = new KafkaReader(request, 8);
        reader.String(); // client id
        var topics = new List<(string Name, int Partitions)>();
        var count = reader.Int32();
        for (var i = 0; i < count; i++)
        {
            var name = reader.String() ?? "";
            var partitions = reader.Int32();
            reader.Skip(2); // replication factor: the mock keeps one copy
            var assignments = reader.Int32();
            for (var a = 0; a < assignments; a++)
            {
                reader.Skip(4);
                reader.Skip(4 * Math.Max(0, reader.Int32()));
            }
            var configs = reader.Int32();
            for (var c = 0; c < configs; c++)
            {
                reader.String();
                reader.String();
            }
            topics.Add((name, partitions));
        }
        reader.Skip(4); // timeout
        var validateOnly = version >= 1 && reader.Int8() != 0;

        var output = new MemoryStream();
        KafkaWriter.Int32(output, correlation);
        if (version >= 2)
            KafkaWriter.Int32(output, 0); // throttle time
        KafkaWriter.Int32(output, topics.Count);
        foreach (var (name, partitions) in topics)
        {
            var (error, message) = validateOnly ? ((short)0, null) : _createTopic(name, partitions);
            KafkaWriter.String(output, name);
            KafkaWriter.Int16(output, error);
            if (version >= 1)
                KafkaWriter.String(output, message);
        }
        return output.ToArray();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private sealed class KafkaReader(byte[] data, int position)
    {
        public int Position { get; private set; } = position;

        public short Int16() { var v = BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(Position)); Position += 2; return v; }
        public int Int32() { var v = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(Position)); Position += 4; return v; }
        public sbyte Int8() => (sbyte)data[Position++];

        public void Skip(int bytes)
        {
            if (bytes < 0 || Position + bytes > data.Length)
                throw new InvalidDataException("Kafka frame ends early");
            Position += bytes;
        }

        public string? String()
        {
            var length = Int16();
            if (length < 0)
                return null;
            Skip(length);
            return Encoding.UTF8.GetString(data, Position - length, length);
        }

        public uint UnsignedVarInt()
        {
            uint value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = data[Position++];
                value |= (uint)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    return value;
            }
            throw new InvalidDataException("Kafka varint too long");
        }

        public void SkipTaggedFields()
        {
            var fields = UnsignedVarInt();
            for (var i = 0; i < fields; i++)
            {
                UnsignedVarInt();
                Skip((int)UnsignedVarInt());
            }
        }
    }

    private static class KafkaWriter
    {
        public static void Int16(Stream output, short value) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, value); output.Write(b); }
        public static void Int32(Stream output, int value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, value); output.Write(b); }

        public static void String(Stream output, string? value)
        {
            if (value is null)
            {
                Int16(output, -1);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            Int16(output, (short)bytes.Length);
            output.Write(bytes);
        }

        public static void UnsignedVarInt(Stream output, uint value)
        {
            while (value >= 0x80)
            {
                output.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            output.WriteByte((byte)value);
        }
    }
}
