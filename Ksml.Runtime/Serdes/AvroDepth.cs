using System.Runtime.CompilerServices;
using Avro;
using Avro.IO;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// Apache.Avro decodes by recursion, one .NET frame per nesting level, so a record of a recursive schema
/// (a linked list, a tree) nested tens of thousands of levels deep would overflow the stream thread's
/// stack. For such schemas the payload is first skipped through here, with the depth counted, so that
/// data past <see cref="ValueLimits.MaxDepth"/> becomes a located error for the consume policy.
/// </summary>
internal static class AvroDepth
{
    private static readonly ConditionalWeakTable<Schema, StrongBox<bool>> Recursive = new();

    /// <summary>Fails when the Avro <paramref name="payload"/> of <paramref name="schema"/> nests deeper than the limit.</summary>
    public static void Check(Schema schema, byte[] payload, string notation)
    {
        if (!Recursive.GetValue(schema, s => new StrongBox<bool>(IsRecursive(s, []))).Value)
            return;
        Skip(schema, new BinaryDecoder(new MemoryStream(payload, writable: false)), 0, notation);
    }

    private static bool IsRecursive(Schema schema, HashSet<string> open) => schema switch
    {
        RecordSchema record => !open.Add(record.Fullname) || RecordIsRecursive(record, open),
        UnionSchema union => union.Schemas.Any(s => IsRecursive(s, open)),
        ArraySchema array => IsRecursive(array.ItemSchema, open),
        MapSchema map => IsRecursive(map.ValueSchema, open),
        _ => false,
    };

    private static bool RecordIsRecursive(RecordSchema record, HashSet<string> open)
    {
        var recursive = record.Fields.Any(f => IsRecursive(f.Schema, open));
        open.Remove(record.Fullname);
        return recursive;
    }

    private static void Skip(Schema schema, BinaryDecoder decoder, int depth, string notation)
    {
        ValueLimits.Check(depth, $"A {notation} value");
        switch (schema)
        {
            case RecordSchema record:
                foreach (var field in record.Fields)
                    Skip(field.Schema, decoder, depth + 1, notation);
                return;
            case UnionSchema union:
                var branch = decoder.ReadUnionIndex();
                if (branch < 0 || branch >= union.Count)
                    throw new AvroException($"union branch {branch} is out of range");
                Skip(union[branch], decoder, depth + 1, notation);
                return;
            case ArraySchema array:
                for (var n = decoder.ReadArrayStart(); n != 0; n = decoder.ReadArrayNext())
                    for (var i = 0L; i < n; i++)
                        Skip(array.ItemSchema, decoder, depth + 1, notation);
                return;
            case MapSchema map:
                for (var n = decoder.ReadMapStart(); n != 0; n = decoder.ReadMapNext())
                    for (var i = 0L; i < n; i++)
                    {
                        decoder.SkipString();
                        Skip(map.ValueSchema, decoder, depth + 1, notation);
                    }
                return;
            case EnumSchema:
                decoder.SkipEnum();
                return;
            case FixedSchema fixedSchema:
                decoder.SkipFixed(fixedSchema.Size);
                return;
        }
        switch (schema.Tag)
        {
            case Schema.Type.Null: decoder.SkipNull(); break;
            case Schema.Type.Boolean: decoder.SkipBoolean(); break;
            case Schema.Type.Int: decoder.SkipInt(); break;
            case Schema.Type.Long: decoder.SkipLong(); break;
            case Schema.Type.Float: decoder.SkipFloat(); break;
            case Schema.Type.Double: decoder.SkipDouble(); break;
            case Schema.Type.Bytes: decoder.SkipBytes(); break;
            case Schema.Type.String: decoder.SkipString(); break;
        }
    }
}
