using System.Diagnostics.Metrics;
using Ksml.Runtime.Hosting;
using Streamiz.Kafka.Net;

namespace Ksml.Runtime.Observability;

/// <summary>
/// Entries per key-value state store on this instance (<c>ksml_store_entries</c>), read through the stores' query
/// interface when metrics are collected: the in-memory count, or RocksDB's estimate for a persistent store.
/// </summary>
internal static class StoreSizes
{
    private static readonly List<WeakReference<KsmlHost>> Hosts = [];

    private static readonly ObservableGauge<long> Entries = KsmlMetrics.Meter.CreateObservableGauge("store.entries", Measure, "{entries}",
        "Entries of a key-value state store on this instance (RocksDB's estimate for persistent stores), by store");

    /// <summary>Reports the stores of <paramref name="host"/> while it runs.</summary>
    public static void Track(KsmlHost host)
    {
        _ = Entries;
        lock (Hosts)
            Hosts.Add(new WeakReference<KsmlHost>(host));
    }

    private static IEnumerable<Measurement<long>> Measure()
    {
        List<KsmlHost> hosts;
        lock (Hosts)
        {
            Hosts.RemoveAll(h => !h.TryGetTarget(out _));
            hosts = Hosts.Select(h => h.TryGetTarget(out var host) ? host : null).OfType<KsmlHost>().ToList();
        }
        var measurements = new List<Measurement<long>>();
        foreach (var host in hosts)
        {
            if (host.Stream is not { } stream || !host.IsReady)
                continue;
            foreach (var store in host.StoreQueries.Values)
            {
                try
                {
                    if (store.ApproximateEntries(stream) is { } count)
                        measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>("store", store.Name)));
                }
                catch (Exception ex) when (ex is Streamiz.Kafka.Net.Errors.InvalidStateStoreException or Streamiz.Kafka.Net.Errors.IllegalStateException)
                {
                    // Rebalancing or restoring: it reports again once it can be queried.
                }
            }
        }
        return measurements;
    }
}
