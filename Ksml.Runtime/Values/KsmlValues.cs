using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Values;

/// <summary>
/// Converts between the values functions return (strings, numbers, booleans, bytes, lists, tuples,
/// dictionaries, JSON nodes) and the C# types a generated topology carries.
/// </summary>
public static class KsmlValues
{
    /// <summary>Converts <paramref name="value"/> to <typeparamref name="T"/>, or throws a <see cref="KsmlTypeException"/> saying why.</summary>
    public static T To<T>(object? value, string what) => (T)To(value, typeof(T), what)!;

    /// <summary>Non-generic form of <see cref="To{T}"/>.</summary>
    public static object? To(object? value, Type target, string what)
    {
        if (value is null)
        {
            if (!target.IsValueType || Nullable.GetUnderlyingType(target) is not null)
                return null;
            throw new KsmlTypeException($"{what}: expected {Describe(target)}, got None");
        }
        if (target.IsInstanceOfType(value))
            return value;
        var underlying = Nullable.GetUnderlyingType(target) ?? target;
        try
        {
            // As KSML converts a result into its declared type: any primitive into a string, and a string or a
            // number into a number or boolean when nothing is lost ("42" into a long; "4.5" is refused).
            if (underlying == typeof(string))
                return value is JsonValue json && json.TryGetValue<string>(out var s) ? s : PrimitiveText(value) ?? throw Mismatch(value, target, what);
            if (underlying == typeof(bool))
                return value switch
                {
                    JsonValue jb => Serdes.LosslessValues.ToBoolean(jb),
                    string text when bool.TryParse(text, out var parsed) => parsed,
                    _ => throw Mismatch(value, target, what),
                };
            if (underlying == typeof(long) || underlying == typeof(int) || underlying == typeof(short) || underlying == typeof(sbyte))
            {
                var number = value switch
                {
                    bool or decimal => throw Mismatch(value, target, what),
                    double d when d == Math.Floor(d) && Math.Abs(d) < 9.2e18 => (long)d,
                    float f when f == MathF.Floor(f) && Math.Abs(f) < 9.2e18 => (long)f,
                    double or float => throw Mismatch(value, target, what),
                    string text => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Mismatch(value, target, what),
                    JsonValue jn => Serdes.LosslessValues.ToInt64(jn),
                    _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                };
                return Convert.ChangeType(number, underlying, CultureInfo.InvariantCulture);
            }
            if (underlying == typeof(double) || underlying == typeof(float))
            {
                var number = value switch
                {
                    bool => throw Mismatch(value, target, what),
                    string text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Mismatch(value, target, what),
                    JsonValue jd => Serdes.LosslessValues.ToDouble(jd),
                    _ => Convert.ToDouble(value, CultureInfo.InvariantCulture),
                };
                return Convert.ChangeType(number, underlying, CultureInfo.InvariantCulture);
            }
            if (underlying == typeof(JsonNode))
                return value is string text && StructuredText(text) is { } parsed ? parsed : ToJsonNode(value);
            if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(Windowed<>))
                return ToWindowed(value, underlying, what);
            if (underlying == typeof(byte[]))
                // KSML's own examples build bytes as a list of numbers, e.g. list(randbytes(n)).
                return value is IEnumerable numbers and not string ? ToBytes(numbers, what) : throw Mismatch(value, target, what);
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException or InvalidOperationException or Serdes.SerializationException)
        {
            throw Mismatch(value, target, what);
        }
        if (target == typeof(object))
            return value;
        throw Mismatch(value, target, what);
    }

    /// <summary>
    /// A string returned where structured data (json, a struct) is declared is read as the JSON object or list it
    /// holds, as KSML converts it (its docs producer returns <c>json.dumps(batch)</c> for a json value); any other
    /// string stays a string.
    /// </summary>
    private static JsonNode? StructuredText(string text)
    {
        var start = text.AsSpan().TrimStart();
        if (start.IsEmpty || start[0] is not ('{' or '['))
            return null;
        try
        {
            return JsonNode.Parse(text, documentOptions: ValueLimits.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A number or boolean as KSML writes it as text (Java's forms: true, 42, 4.5, 1.0); null for anything else.</summary>
    private static string? PrimitiveText(object value) => value switch
    {
        bool b => b ? "true" : "false",
        long or int or short or sbyte or byte => Convert.ToString(value, CultureInfo.InvariantCulture),
        double d => RealText(d),
        float f => RealText(f),
        JsonValue j when j.GetValueKind() is JsonValueKind.True => "true",
        JsonValue j when j.GetValueKind() is JsonValueKind.False => "false",
        JsonValue j when j.GetValueKind() is JsonValueKind.Number => j.TryGetValue<long>(out var whole) ? whole.ToString(CultureInfo.InvariantCulture) : RealText(j.GetValue<double>()),
        _ => null,
    };

    private static string RealText(double d)
    {
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        return double.IsFinite(d) && d == Math.Floor(d) && !text.Contains('E', StringComparison.Ordinal) ? text + ".0" : text;
    }

    private static byte[] ToBytes(IEnumerable numbers, string what)
    {
        var bytes = new List<byte>();
        foreach (var item in numbers)
        {
            var number = item is JsonValue json ? json.GetValue<long>() : Convert.ToInt64(item, CultureInfo.InvariantCulture);
            if (item is bool || number is < 0 or > 255)
                throw new KsmlTypeException($"{what}: bytes given as a list need whole numbers from 0 to 255, got {item}");
            bytes.Add((byte)number);
        }
        return bytes.ToArray();
    }

    /// <summary>A windowed key as KSML writes it on a topic: <c>{start, end, startTime, endTime, key}</c>.</summary>
    private static JsonObject WindowedToJson(object windowed)
    {
        var type = windowed.GetType();
        var window = (Window)type.GetProperty(nameof(Windowed<int>.Window))!.GetValue(windowed)!;
        return new JsonObject
        {
            ["start"] = window.StartMs,
            ["end"] = window.EndMs,
            ["startTime"] = WindowTime(window.StartMs),
            ["endTime"] = WindowTime(window.EndMs),
            ["key"] = ToJsonNode(type.GetProperty(nameof(Windowed<int>.Key))!.GetValue(windowed)),
        };
    }

    /// <summary>A windowed key read back from its KSML form (a JSON object or a Python dict with start, end and key).</summary>
    private static object ToWindowed(object value, Type windowedType, string what)
    {
        var fields = ToJsonNode(value) as JsonObject ?? throw Mismatch(value, windowedType, what);
        if (fields["start"] is not JsonValue start || fields["end"] is not JsonValue end)
            throw new KsmlTypeException($"{what}: a windowed key needs 'start' and 'end', got {fields.ToJsonString()}");
        var key = To(fields["key"], windowedType.GetGenericArguments()[0], what + " key");
        return Activator.CreateInstance(windowedType, key, new TimeWindow(start.GetValue<long>(), end.GetValue<long>()))!;
    }

    /// <summary>A window bound as KSML writes it in <c>startTime</c>/<c>endTime</c>: UTC, ISO 8601, milliseconds.</summary>
    public static string WindowTime(long epochMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMilliseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Turns plain .NET data (dictionaries, lists, tuples, primitives) into a JSON node.</summary>
    public static JsonNode? ToJsonNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        short sh => JsonValue.Create(sh),
        sbyte sb => JsonValue.Create(sb),
        double d => JsonNumber(d),
        float f => JsonNumber(f),
        decimal m => JsonValue.Create(m),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IDictionary dictionary => ToJsonObject(dictionary),
        _ when value.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(Windowed<>) => WindowedToJson(value),
        System.Runtime.CompilerServices.ITuple tuple => new JsonArray(Enumerable.Range(0, tuple.Length).Select(i => ToJsonNode(tuple[i])).ToArray()),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToJsonNode).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>
    /// A JSON number that stays a float when read back: System.Text.Json writes 3.0 as <c>3</c>,
    /// which Python would then see as an int, so integral floats are written as <c>3.0</c>.
    /// </summary>
    public static JsonValue JsonNumber(double value) =>
        double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 1e15
            ? JsonValue.Create(JsonSerializer.Deserialize<JsonElement>(value.ToString("F1", CultureInfo.InvariantCulture)))!
            : JsonValue.Create(value);

    private static JsonObject ToJsonObject(IDictionary dictionary)
    {
        var result = new JsonObject();
        foreach (DictionaryEntry entry in dictionary)
            result[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = ToJsonNode(entry.Value);
        return result;
    }

    /// <summary>The (key, value) pair a key-value function returned as a 2-tuple or 2-element list.</summary>
    public static KeyValuePair<K, V> ToKeyValue<K, V>(object? value, string what) => value switch
    {
        System.Runtime.CompilerServices.ITuple { Length: 2 } tuple => new(To<K>(tuple[0], what + " (key)"), To<V>(tuple[1], what + " (value)")),
        IList { Count: 2 } list => new(To<K>(list[0], what + " (key)"), To<V>(list[1], what + " (value)")),
        JsonArray { Count: 2 } array => new(To<K>(array[0], what + " (key)"), To<V>(array[1], what + " (value)")),
        _ => throw Got(value, $"{what}: expected a (key, value) tuple, got "),
    };

    /// <summary>The elements of a list a list-returning function produced.</summary>
    public static IEnumerable<object?> ToList(object? value, string what) => value switch
    {
        null => Array.Empty<object?>(),
        string => throw new KsmlTypeException($"{what}: expected a list, got a string"),
        IDictionary => throw new KsmlTypeException($"{what}: expected a list, got a dict"),
        IEnumerable list => list.Cast<object?>(),
        _ => throw Got(value, $"{what}: expected a list, got "),
    };

    /// <summary>Python truthiness, as KSML applies it to predicate results.</summary>
    public static bool IsTrue(object? value, string what) => value switch
    {
        bool b => b,
        JsonValue j when j.TryGetValue<bool>(out var b) => b,
        null => false,
        _ => throw Got(value, $"{what}: a predicate must return a boolean, got "),
    };

    private static KsmlTypeException Mismatch(object value, Type target, string what) => Got(value, $"{what}: expected {Describe(target)}, got ");

    /// <summary>A type error whose message names the value's type; its excerpt (payload) goes only into <see cref="KsmlTypeException.WithPayload"/>.</summary>
    private static KsmlTypeException Got(object? value, string prefix) => new(prefix + DescribeType(value), prefix + DescribeValue(value));

    private static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return "a string";
        if (t == typeof(long)) return "a long";
        if (t == typeof(int)) return "an int";
        if (t == typeof(bool)) return "a boolean";
        if (t == typeof(double)) return "a double";
        if (t == typeof(JsonNode)) return "structured data (json)";
        if (t == typeof(byte[])) return "bytes";
        return t.Name;
    }

    /// <summary>How a value is named where payloads may not appear: its Python-like type only.</summary>
    public static string DescribeType(object? value) => value switch
    {
        null => "None",
        string => "str",
        bool => "bool",
        long or int or short or sbyte => "int",
        double or float => "float",
        byte[] => "bytes",
        IDictionary or JsonObject => "dict",
        JsonArray => "list",
        JsonValue j => "json " + j.GetValueKind().ToString().ToLowerInvariant(),
        System.Runtime.CompilerServices.ITuple t => "tuple of " + t.Length,
        IEnumerable => "list",
        _ => value.GetType().Name,
    };

    /// <summary>How a value is named in messages that may carry payload: its Python-like type and a short rendering.</summary>
    public static string DescribeValue(object? value) => value switch
    {
        null => "None",
        string s => "str '" + (s.Length > 40 ? s.Substring(0, 40) + "…" : s) + "'",
        bool b => "bool " + (b ? "True" : "False"),
        long or int or short or sbyte => "int " + Convert.ToString(value, CultureInfo.InvariantCulture),
        double or float => "float " + Convert.ToString(value, CultureInfo.InvariantCulture),
        byte[] => "bytes",
        IDictionary => "dict",
        JsonObject => "dict",
        JsonArray => "list",
        JsonValue j => "json " + j.ToJsonString(),
        System.Runtime.CompilerServices.ITuple t => "tuple of " + t.Length,
        IEnumerable => "list",
        _ => value.GetType().Name,
    };
}

/// <summary>A value did not have the type the KSML definition declares for it.</summary>
public sealed class KsmlTypeException : Exception
{
    /// <summary>Creates the exception with a message naming what was expected and what arrived.</summary>
    public KsmlTypeException(string message) : base(message) => WithPayload = message;

    /// <summary>
    /// Creates the exception: <paramref name="message"/> names types only; <paramref name="withPayload"/> adds an
    /// excerpt of the offending value, for logs with <c>logPayload: true</c> and for test suites.
    /// </summary>
    public KsmlTypeException(string message, string withPayload) : base(message) => WithPayload = withPayload;

    /// <summary>The message with an excerpt of the value that did not fit.</summary>
    public string WithPayload { get; }
}
