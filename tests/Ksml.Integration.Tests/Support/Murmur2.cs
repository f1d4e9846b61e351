namespace Ksml.Integration.Tests.Support;

/// <summary>Kafka's default partitioner for keyed records (Java's producer, librdkafka's murmur2): the expected partition of a key.</summary>
public static class Murmur2
{
    public static int Partition(byte[] key, int partitions) => (int)((Hash(key) & 0x7fffffff) % (uint)partitions);

    private static uint Hash(byte[] data)
    {
        const uint m = 0x5bd1e995;
        var h = 0x9747b28c ^ (uint)data.Length;
        var whole = data.Length & ~3;
        for (var i = 0; i < whole; i += 4)
        {
            var k = BitConverter.ToUInt32(data, i); // little-endian, as the algorithm reads its blocks
            k *= m;
            k ^= k >> 24;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (data.Length & 3)
        {
            case 3: h ^= (uint)data[whole + 2] << 16; goto case 2;
            case 2: h ^= (uint)data[whole + 1] << 8; goto case 1;
            case 1: h ^= data[whole]; h *= m; break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
