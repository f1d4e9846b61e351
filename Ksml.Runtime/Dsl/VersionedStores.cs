using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Dsl;

/// <summary>One value of a key in a versioned store, valid from its timestamp until the next version's; a null value is a delete.</summary>
internal sealed record Version<V>(long ValidFrom, long ValidTo, V? Value);

/// <summary>
/// KSML's versioned key-value stores (Streamiz has none), kept as each key's list of versions in a key-value
/// store, as the session windows are: <c>put(key, value, timestamp)</c>, <c>get(key)</c> for the newest value and
/// <c>get(key, asOf)</c> for the value valid then, within the history retention measured back from the newest
/// timestamp put, as Kafka Streams' versioned stores answer.
/// </summary>
internal static class VersionedStores
{
    /// <summary>Kafka Streams' answer for a put older than the history retention: nothing was written.</summary>
    public const long NotPut = long.MinValue;

    /// <summary>Kafka Streams' answer for a put that is the newest version: valid until further notice.</summary>
    public const long ValidToUndefined = -1;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> Retention = new(StringComparer.Ordinal);

    /// <summary>How far back from the newest timestamp put the store named <paramref name="name"/> answers (KSML's <c>historyRetention</c>).</summary>
    public static long HistoryRetentionMs(string name) => Retention.GetValueOrDefault(name, long.MaxValue);

    public static void Add<K, V>(KsmlTopologyBuilder ksml, string name, bool persistent, bool logging, long? historyRetentionMs, ISerDes<K> keySerde, ISerDes<V> valueSerde)
    {
        Retention[name] = historyRetentionMs ?? long.MaxValue;
        WindowedAggregation.AddStore(ksml, name, persistent, logging, keySerde, valueSerde, Format<V>());
    }

    private static WindowFormat<Version<V>, V> Format<V>() => new(
        v => (v.ValidFrom, v.ValidTo, v.Value!),
        (from, to, value) => new Version<V>(from, to, value),
        v => new TimeWindow(v.ValidFrom, v.ValidTo),
        (from, to) => new TimeWindow(from, to));

    /// <summary>
    /// Puts <paramref name="value"/> as of <paramref name="timestamp"/> into <paramref name="versions"/> (sorted by time),
    /// dropping versions that ended before <paramref name="oldestKept"/>; answers the new version's end, or <see cref="ValidToUndefined"/>.
    /// </summary>
    public static long Put<V>(List<Version<V>> versions, V? value, long timestamp, long oldestKept)
    {
        var at = versions.FindIndex(v => v.ValidFrom >= timestamp);
        long validTo;
        if (at >= 0 && versions[at].ValidFrom == timestamp)
        {
            validTo = versions[at].ValidTo;
            versions[at] = versions[at] with { Value = value };
        }
        else
        {
            var index = at < 0 ? versions.Count : at;
            validTo = index < versions.Count ? versions[index].ValidFrom : long.MaxValue;
            if (index > 0)
                versions[index - 1] = versions[index - 1] with { ValidTo = timestamp };
            versions.Insert(index, new Version<V>(timestamp, validTo, value));
        }
        versions.RemoveAll(v => v.ValidTo < oldestKept);
        return validTo == long.MaxValue ? ValidToUndefined : validTo;
    }

    /// <summary>The version valid at <paramref name="asOf"/>, if any and not a delete.</summary>
    public static Version<V>? At<V>(List<Version<V>>? versions, long asOf) =>
        versions?.LastOrDefault(v => v.ValidFrom <= asOf) is { Value: not null } found && found.ValidTo > asOf ? found : null;
}
