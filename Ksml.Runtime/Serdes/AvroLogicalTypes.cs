using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Avro;
using Microsoft.Extensions.Logging;

namespace Ksml.Runtime.Serdes;

/// <summary>
/// Avro's logical types as KSML 2.0 gives them to Python: a <c>decimal</c> is the exact number as a string
/// ("123.45"), every other logical type its base value (a <c>uuid</c> string, a <c>date</c> as days, times and
/// timestamps as milliseconds or microseconds). Each value is checked against its logical type: one that does
/// not fit fails on write and is warned about on read, then passed on, as KSML does (a bad record from another
/// system does not stop the application). Apache.Avro is handed the schema without its logical annotations, so
/// it reads and writes the base values and converts nothing by time zone.
/// </summary>
internal static class AvroLogicalTypes
{
    private static readonly ConditionalWeakTable<Schema, Schema> Plain = new();

    /// <summary><paramref name="schema"/> without logical type annotations (the same bytes on the wire).</summary>
    public static Schema PlainOf(Schema schema) => Plain.GetValue(schema, s =>
    {
        var json = JsonNode.Parse(s.ToString())!;
        return Strip(json) ? Schema.Parse(json.ToJsonString()) : s;
    });

    private static bool Strip(JsonNode? node)
    {
        var changed = false;
        switch (node)
        {
            case JsonObject obj:
                if (obj.Remove("logicalType"))
                {
                    obj.Remove("precision");
                    obj.Remove("scale");
                    changed = true;
                }
                foreach (var (_, child) in obj.ToList())
                    changed |= Strip(child);
                break;
            case JsonArray array:
                foreach (var item in array)
                    changed |= Strip(item);
                break;
        }
        return changed;
    }

    /// <summary>The base value Avro writes for <paramref name="value"/> of <paramref name="logical"/>; a value that does not fit is refused.</summary>
    public static object ToBase(JsonValue value, LogicalSchema logical)
    {
        switch (logical.LogicalTypeName)
        {
            case "decimal" when logical.BaseSchema.Tag == Schema.Type.Bytes:
                return DecimalBytes(LosslessValues.ToText(value), Precision(logical), Scale(logical));
            case "uuid":
                var text = LosslessValues.ToText(value);
                return Guid.TryParse(text, out _) ? text : throw Refused("uuid", "a UUID");
            case "time-millis":
                var millis = LosslessValues.ToInt32(value);
                return millis is >= 0 and < 86_400_000 ? millis : throw Refused("time-millis", "milliseconds from 0 to 86399999");
            case "time-micros":
                var micros = LosslessValues.ToInt64(value);
                return micros is >= 0 and < 86_400_000_000L ? micros : throw Refused("time-micros", "microseconds from 0 to 86399999999");
        }
        return logical.BaseSchema.Tag switch
        {
            Schema.Type.Int => LosslessValues.ToInt32(value),
            Schema.Type.Long => LosslessValues.ToInt64(value),
            Schema.Type.String => LosslessValues.ToText(value),
            Schema.Type.Bytes => Convert.FromBase64String(value.GetValue<string>()),
            var other => throw new SerializationException($"Avro logical type {logical.LogicalTypeName} on {other} is not supported"),
        };
    }

    /// <summary>The value Python sees for the base value <paramref name="value"/> of <paramref name="logical"/>.</summary>
    public static JsonNode? FromBase(object? value, LogicalSchema logical)
    {
        switch (logical.LogicalTypeName, value)
        {
            case ("decimal", byte[] bytes):
                return JsonValue.Create(DecimalText(new BigInteger(bytes, isUnsigned: false, isBigEndian: true), Scale(logical)));
            case ("uuid", string text) when !Guid.TryParse(text, out _):
            case ("time-millis", int millis) when millis is < 0 or >= 86_400_000:
            case ("time-micros", long micros) when micros is < 0 or >= 86_400_000_000L:
                KsmlNotations.Warnings.LogWarning("A value read for Avro logical type {LogicalType} does not fit it; passed on as it is", logical.LogicalTypeName);
                break;
        }
        return value is byte[] raw ? JsonValue.Create(Convert.ToBase64String(raw)) : Values.KsmlValues.ToJsonNode(value);
    }

    private static int Precision(LogicalSchema logical) => int.Parse(logical.GetProperty("precision") ?? "0", CultureInfo.InvariantCulture);

    private static int Scale(LogicalSchema logical) => int.Parse(logical.GetProperty("scale") ?? "0", CultureInfo.InvariantCulture);

    /// <summary>"123.45" as decimal(5,2): the unscaled number's two's complement, big-endian. Digits are never rounded away.</summary>
    private static byte[] DecimalBytes(string text, int precision, int scale)
    {
        var number = text.Trim();
        var negative = number.StartsWith('-');
        var digits = number.TrimStart('-', '+');
        var point = digits.IndexOf('.');
        var whole = point < 0 ? digits : digits[..point];
        var fraction = point < 0 ? "" : digits[(point + 1)..];
        if (whole.Length + fraction.Length == 0 || !(whole + fraction).All(char.IsAsciiDigit))
            throw Refused($"decimal({precision},{scale})", "a number such as \"123.45\"");
        if (fraction.Length > scale && fraction[scale..].Any(d => d != '0'))
            throw Refused($"decimal({precision},{scale})", $"at most {scale} digits after the point");
        fraction = fraction.Length > scale ? fraction[..scale] : fraction.PadRight(scale, '0');
        var unscaled = BigInteger.Parse(whole + fraction, CultureInfo.InvariantCulture);
        if (precision > 0 && unscaled.ToString(CultureInfo.InvariantCulture).Length > precision && !unscaled.IsZero)
            throw Refused($"decimal({precision},{scale})", $"at most {precision} digits");
        return (negative ? -unscaled : unscaled).ToByteArray(isUnsigned: false, isBigEndian: true);
    }

    private static string DecimalText(BigInteger unscaled, int scale)
    {
        var digits = BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        var text = scale == 0 ? digits : digits[..^scale] + "." + digits[^scale..];
        return unscaled.Sign < 0 ? "-" + text : text;
    }

    // Values are not named, only the rule they break: a payload stays out of messages unless logPayload says otherwise.
    private static SerializationException Refused(string logicalType, string expected) =>
        new($"the value does not fit Avro logical type {logicalType}: expected {expected}");
}
