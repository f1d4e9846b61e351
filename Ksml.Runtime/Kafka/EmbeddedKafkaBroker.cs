using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Ksml.Runtime.Kafka;

/// <summary>
/// An in-process Kafka-protocol broker: librdkafka's mock cluster, driven over P/Invoke from the
/// librdkafka that Confluent.Kafka already ships. Real clients talk to it over loopback TCP.
/// Limits: the mock keeps at most 5 MiB (or 100 000 message sets) per partition and drops older
/// data (an application on it logs that, see DroppedRecordsWatch), so it is for development and
/// tests, not for production volumes.
/// </summary>
public sealed partial class EmbeddedKafkaBroker : IDisposable
{
    /// <summary>Most data one partition of the mock keeps before it drops the oldest.</summary>
    public const long MaxBytesPerPartition = 5L * 1024 * 1024;

    private const string Library = "ksml-librdkafka";
    private const int TopicAlreadyExists = 36;
    private const int InvalidPartitions = 37;
    private const int BrokerNotAvailable = 8;
    private nint _client;
    private nint _cluster;
    private EmbeddedBrokerListener? _listener;

    static EmbeddedKafkaBroker() => NativeLibrary.SetDllImportResolver(typeof(EmbeddedKafkaBroker).Assembly, Resolve);

    private EmbeddedKafkaBroker(nint client, nint cluster, string bootstrapServers)
    {
        _client = client;
        _cluster = cluster;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>The <c>host:port</c> list clients connect to.</summary>
    public string BootstrapServers { get; }

    /// <summary>
    /// Starts a broker with <paramref name="brokers"/> nodes. A consumer group's first assignment waits
    /// <paramref name="initialRebalanceDelay"/> for more members (Kafka's group.initial.rebalance.delay.ms;
    /// none by default, so an application starts at once).
    /// </summary>
    public static EmbeddedKafkaBroker Start(int brokers = 1, TimeSpan initialRebalanceDelay = default)
    {
        var error = new byte[512];
        var conf = rd_kafka_conf_new();
        // The hosting handle is a producer that never produces; the mock cluster lives on its threads.
        foreach (var (name, value) in new[] { ("client.id", "ksml-embedded-broker"), ("log_level", "3") })
            if (rd_kafka_conf_set(conf, name, value, error, (nuint)error.Length) != 0)
                throw new InvalidOperationException("Embedded broker: " + Text(error));
        var client = rd_kafka_new(0, conf, error, (nuint)error.Length);
        if (client == 0)
            throw new InvalidOperationException("Embedded broker: librdkafka could not create its host client: " + Text(error));
        var cluster = rd_kafka_mock_cluster_new(client, brokers);
        if (cluster == 0)
        {
            rd_kafka_destroy(client);
            throw new InvalidOperationException("Embedded broker: librdkafka could not create a mock cluster.");
        }
        // librdkafka's default of 3 s would delay every application start and restart by that much.
        rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, (int)initialRebalanceDelay.TotalMilliseconds);
        // Admin clients wait for a controller, and the mock names none unless told.
        rd_kafka_mock_set_controller_id(cluster, 1);
        return new EmbeddedKafkaBroker(client, cluster, Marshal.PtrToStringAnsi(rd_kafka_mock_cluster_bootstraps(cluster))!);
    }

    /// <summary>
    /// Starts a one-node broker for other processes (<c>ksml broker</c>): it listens on 127.0.0.1:<paramref name="port"/>
    /// (0 picks a free one) and creates the topics clients ask for, with <paramref name="defaultPartitions"/>
    /// where they ask for the broker's default. Topics a producer or consumer creates by using them get the mock's 4.
    /// </summary>
    public static EmbeddedKafkaBroker Serve(int port, int defaultPartitions, TimeSpan initialRebalanceDelay = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultPartitions, 1);
        var mock = Start(1, initialRebalanceDelay);
        try
        {
            var address = System.Net.IPEndPoint.Parse(mock.BootstrapServers.Split(',')[0]);
            EmbeddedKafkaBroker? served = null;
            var listener = new EmbeddedBrokerListener(port, address, (topic, partitions) => served!.CreateRequested(topic, partitions == -1 ? defaultPartitions : partitions));
            // Metadata then names the listener, so every connection, not only the first, passes through it.
            rd_kafka_mock_broker_set_host_port(mock._cluster, 1, "127.0.0.1", (ushort)listener.Port);
            served = new EmbeddedKafkaBroker(mock._client, mock._cluster, "127.0.0.1:" + listener.Port) { _listener = listener };
            mock._client = mock._cluster = 0;
            return served;
        }
        catch
        {
            mock.Dispose();
            throw;
        }
    }

    private (short Error, string? Message) CreateRequested(string topic, int partitions)
    {
        if (_cluster == 0)
            return (BrokerNotAvailable, "The broker is stopping.");
        if (partitions < 1)
            return (InvalidPartitions, $"Number of partitions must be at least 1, not {partitions}.");
        var result = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        return result == 0 ? ((short)0, null) : ((short)result, Marshal.PtrToStringAnsi(rd_kafka_err2str(result)));
    }

    /// <summary>Creates a topic (an existing one is left as it is).</summary>
    public void CreateTopic(string topic, int partitions = 1)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var result = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (result != 0 && result != TopicAlreadyExists)
            throw new InvalidOperationException($"Embedded broker: creating topic '{topic}' failed: {Marshal.PtrToStringAnsi(rd_kafka_err2str(result))}");
    }

    /// <summary>
    /// Fault injection for tests: every request for <paramref name="topic"/>'s metadata answers
    /// <paramref name="error"/> until it is set back to <see cref="ErrorCode.NoError"/>, so producers to the topic
    /// fail with it (a topic authorization failure is permanent to them; a leader error is retried).
    /// </summary>
    public void FailTopic(string topic, Confluent.Kafka.ErrorCode error)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        rd_kafka_mock_topic_set_error(_cluster, topic, (int)error);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
        if (_cluster != 0)
            rd_kafka_mock_cluster_destroy(_cluster);
        if (_client != 0)
            rd_kafka_destroy(_client);
        _cluster = 0;
        _client = 0;
    }

    /// <summary>
    /// An admin client whose CreateTopicsAsync creates the topics in the mock; every other call goes to the real one.
    /// Streamiz asks its admin client to create internal topics (changelogs, repartition topics) and waits for a
    /// controller the mock does not have; this creates them directly, with the partition counts Streamiz computed.
    /// </summary>
    public class TopicCreatingAdmin : DispatchProxy
    {
        private IAdminClient _target = null!;
        private EmbeddedKafkaBroker _broker = null!;

        internal static IAdminClient Wrap(IAdminClient target, EmbeddedKafkaBroker broker)
        {
            var proxy = Create<IAdminClient, TopicCreatingAdmin>();
            var admin = (TopicCreatingAdmin)(object)proxy;
            admin._target = target;
            admin._broker = broker;
            return proxy;
        }

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name == nameof(IAdminClient.CreateTopicsAsync) && args?[0] is IEnumerable<TopicSpecification> topics)
            {
                foreach (var topic in topics)
                    _broker.CreateTopic(topic.Name, Math.Max(1, topic.NumPartitions));
                return Task.CompletedTask;
            }
            return Forward(_target, targetMethod!, args);
        }

        /// <summary>Calls <paramref name="method"/> on the wrapped client and lets its own exception through, not reflection's wrapper.</summary>
        private static object? Forward(object target, MethodInfo method, object?[]? args)
        {
            try
            {
                return method.Invoke(target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }

    /// <summary>
    /// Binds to the librdkafka Confluent.Kafka loads. Debian 12 lacks the libsasl2.so.3 that the
    /// redist's generic librdkafka.so needs, so the self-contained centos8 build comes first.
    /// </summary>
    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
            return 0;
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64", "native");
        foreach (var candidate in new[] { "centos8-librdkafka.so", "librdkafka.so", "alpine-librdkafka.so" })
        {
            var file = Path.Combine(native, candidate);
            if (File.Exists(file) && NativeLibrary.TryLoad(file, out var handle))
                return handle;
        }
        foreach (var candidate in new[] { "librdkafka.so.1", "librdkafka.so", "librdkafka.dylib", "librdkafka.dll" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
                return handle;
        throw new DllNotFoundException($"Embedded broker: no loadable librdkafka in {native} or on the library path.");
    }

    [LibraryImport(Library)] private static partial nint rd_kafka_conf_new();
    /// <summary>librdkafka writes a NUL-terminated message into the caller's buffer.</summary>
    private static string Text(byte[] error) => Encoding.UTF8.GetString(error).TrimEnd('\0');

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_conf_set(nint conf, string name, string value, [MarshalAs(UnmanagedType.LPArray)] byte[] error, nuint errorSize);
    [LibraryImport(Library)] private static partial nint rd_kafka_new(int type, nint conf, [MarshalAs(UnmanagedType.LPArray)] byte[] error, nuint errorSize);
    [LibraryImport(Library)] private static partial void rd_kafka_destroy(nint client);
    [LibraryImport(Library)] private static partial nint rd_kafka_mock_cluster_new(nint client, int brokers);
    [LibraryImport(Library)] private static partial void rd_kafka_mock_cluster_destroy(nint cluster);
    [LibraryImport(Library)] private static partial nint rd_kafka_mock_cluster_bootstraps(nint cluster);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_mock_topic_create(nint cluster, string topic, int partitions, int replicationFactor);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial void rd_kafka_mock_topic_set_error(nint cluster, string topic, int error);
    [LibraryImport(Library)] private static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(nint cluster, int milliseconds);
    [LibraryImport(Library)] private static partial nint rd_kafka_err2str(int error);
    [LibraryImport(Library)] private static partial int rd_kafka_mock_set_controller_id(nint cluster, int brokerId);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial int rd_kafka_mock_broker_set_host_port(nint cluster, int brokerId, string host, ushort port);
}
