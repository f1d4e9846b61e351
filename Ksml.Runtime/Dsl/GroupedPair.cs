using System.Buffers.Binary;
using Confluent.Kafka;
using Streamiz.Kafka.Net.SerDes;

namespace Ksml.Runtime.Dsl;

/// <summary>
/// The (key, value) a table's groupBy mapper chose for a row, kept in a table of its own so that a failed
/// mapping leaves the row's previous grouping in place and the old grouping is read back, not computed again.
/// </summary>
internal sealed record GroupedPair<KR, VR>(KR Key, VR Value);

/// <summary>Writes a <see cref="GroupedPair{KR,VR}"/> as its key's bytes and its value's bytes, each after a length (-1 for null).</summary>
internal sealed class GroupedPairSerDes<KR, VR>(ISerDes<KR> keys, ISerDes<VR> values) : AbstractSerDes<GroupedPair<KR, VR>>
{
    public override byte[] Serialize(GroupedPair<KR, VR> data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var key = data.Key is null ? null : keys.Serialize(data.Key, context);
        var value = data.Value is null ? null : values.Serialize(data.Value, context);
        var bytes = new byte[8 + (key?.Length ?? 0) + (value?.Length ?? 0)];
        var at = Write(bytes, 0, key);
        Write(bytes, at, value);
        return bytes;
    }

    public override GroupedPair<KR, VR> Deserialize(byte[] data, SerializationContext context)
    {
        if (data is null)
            return null!;
        var (key, at) = Read(data, 0);
        var (value, _) = Read(data, at);
        return new GroupedPair<KR, VR>(key is null ? default! : keys.Deserialize(key, context), value is null ? default! : values.Deserialize(value, context));
    }

    public override void Initialize(SerDesContext context)
    {
        keys.Initialize(context);
        values.Initialize(context);
        base.Initialize(context);
    }

    private static int Write(byte[] into, int at, byte[]? part)
    {
        BinaryPrimitives.WriteInt32BigEndian(into.AsSpan(at), part?.Length ?? -1);
        part?.CopyTo(into, at + 4);
        return at + 4 + (part?.Length ?? 0);
    }

    private static (byte[]? Part, int Next) Read(byte[] data, int at)
    {
        if (data.Length < at + 4)
            throw new FormatException($"a grouped pair of {data.Length} bytes is cut short at byte {at}");
        var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(at));
        if (length < 0)
            return (null, at + 4);
        if (data.Length < at + 4 + length)
            throw new FormatException($"a grouped pair of {data.Length} bytes says a part of {length} bytes follows byte {at + 4}");
        return (data.AsSpan(at + 4, length).ToArray(), at + 4 + length);
    }
}
