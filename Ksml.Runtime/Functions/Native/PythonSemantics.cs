using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ksml.Runtime.Values;

namespace Ksml.Runtime.Functions.Native;

/// <summary>
/// Python's semantics for the expressions the compiler lowers to C#, on the values the bridge would hand Python:
/// None is null, bool, int is <see cref="long"/>, float is <see cref="double"/>, str is <see cref="string"/>, a dict
/// is a <see cref="JsonObject"/>, a list a <see cref="JsonArray"/> (read) or a <see cref="List{T}"/> (built), a tuple
/// an object array, read the way the bridge converts them.
/// Every operation computes exactly what CPython computes, or throws <see cref="PythonDecides"/> (overflow past
/// 64 bits, a division by zero, a type it does not handle, a missing key): the caller then runs the snippet in
/// CPython, which gives the result or raises the exception Python raises. Snippets are pure expressions, so running
/// one again in Python is safe.
/// </summary>
public static class PythonSemantics
{
    /// <summary>Thrown when these semantics stop short of Python's; the record is evaluated by CPython instead.</summary>
    public sealed class PythonDecides() : Exception("CPython evaluates this record");

    private static readonly PythonDecides Decide = new();
    private const long ExactDoubleLimit = 1L << 53;

    /// <summary>Boxed once: the generated code's boolean results.</summary>
    public static readonly object True = true, False = false;

    private static object Bool(bool b) => b ? True : False;

    private static Exception Fallback() => Decide;

    // ---- values in -------------------------------------------------------------------------------------------

    /// <summary>A function argument as Python sees it: JSON leaves become int, float, str, bool or None.</summary>
    public static object? Argument(object? value) => value switch
    {
        null or bool or long or double or string => value,
        int i => (long)i,
        JsonValue leaf => Leaf(leaf),
        JsonObject or JsonArray => value,
        _ => throw Fallback(),
    };

    private static object? Node(JsonNode? node) => node switch
    {
        null => null,
        JsonValue leaf => Leaf(leaf),
        _ => node,
    };

    /// <summary>A parsed value as Python sees it; a dict or list stays backed by its parsed text.</summary>
    private static object? FromElement(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element),
        JsonValueKind.Array => JsonArray.Create(element),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? (object)l : element.GetDouble(), // object: a long and a double would meet as double
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        _ => null,
    };

    /// <summary>A JSON leaf as the bridge converts it (PythonValues.FromJsonValue).</summary>
    private static object? Leaf(JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
            return FromElement(element);
        if (value.TryGetValue<string>(out var s)) return s;
        if (value.TryGetValue<bool>(out var b)) return Bool(b);
        if (value.TryGetValue<long>(out var n)) return n;
        if (value.TryGetValue<int>(out var i)) return (long)i;
        if (value.TryGetValue<double>(out var d)) return d;
        throw Fallback();
    }

    // ---- values out ------------------------------------------------------------------------------------------

    /// <summary>
    /// What the bridge returns for a Python result (PythonValues.ToClr): a dict becomes a fresh JsonObject, a list a
    /// <see cref="List{T}"/> and a tuple an object array, their items converted the same way.
    /// </summary>
    public static object? Result(object? value) => value switch
    {
        JsonObject dict => CopyObject(dict),
        JsonArray list => ListResult(list.Select(Node)),
        List<object?> list => ListResult(list),
        object?[] tuple => Array.ConvertAll(tuple, Result),
        PythonGenerator => throw Fallback(),
        _ => value,
    };

    private static List<object?> ListResult(IEnumerable<object?> items)
    {
        var list = new List<object?>();
        foreach (var item in items)
            list.Add(Result(item));
        return list;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        double d => KsmlValues.JsonNumber(d),
        string s => JsonValue.Create(s),
        JsonObject dict => CopyObject(dict),
        JsonArray list => CopyArray(list),
        List<object?> list => new JsonArray([.. list.Select(ToJson)]),
        object?[] tuple => new JsonArray([.. tuple.Select(ToJson)]),
        _ => throw Fallback(),
    };

    /// <summary>A dict taken through Python and back: every leaf as the bridge would convert it both ways.</summary>
    private static JsonObject CopyObject(JsonObject dict)
    {
        if (ParsedJson.Element(dict) is { } element)
            return CopyObject(element);
        var properties = new List<KeyValuePair<string, JsonNode?>>(dict.Count);
        foreach (var (name, node) in dict)
        {
            // A schema-read value's @schema makes the bridge drop it and @type; leave that to Python.
            if (name == ValueSchemas.SchemaKey)
                throw Fallback();
            properties.Add(new(name, ToJson(Node(node))));
        }
        return new JsonObject(properties);
    }

    /// <summary>
    /// A parsed dict through Python and back, read from its parsed text without building the node tree. A leaf
    /// whose text is exactly what the round trip writes keeps its parsed text (a str, a canonical int or float);
    /// others are converted. Duplicate keys make the JsonObject throw, and Python decides.
    /// </summary>
    private static JsonObject CopyObject(JsonElement element)
    {
        var properties = new List<KeyValuePair<string, JsonNode?>>(element.GetPropertyCount());
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(ValueSchemas.SchemaKey))
                throw Fallback();
            properties.Add(new(property.Name, CopyElement(property.Value)));
        }
        return new JsonObject(properties);
    }

    private static JsonNode? CopyElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return CopyObject(element);
            case JsonValueKind.Array:
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray())
                    array.Add(CopyElement(item));
                return array;
            case JsonValueKind.String:
                return JsonValue.Create(element); // a str is written back escaped the same way either way
            case JsonValueKind.Number:
                return WritesAsParsed(element) ? JsonValue.Create(element) : ToJson(FromElement(element));
            default:
                return ToJson(FromElement(element));
        }
    }

    /// <summary>Whether the number's parsed text is exactly what Python's int or float writes back (no exponent, no "-0", no "1.50").</summary>
    private static bool WritesAsParsed(JsonElement number)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(number);
        Span<byte> written = stackalloc byte[32];
        int count;
        if (number.TryGetInt64(out var l))
            return l.TryFormat(written, out count, default, CultureInfo.InvariantCulture) && raw.SequenceEqual(written[..count]);
        var d = number.GetDouble();
        var integral = double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e15;
        return !integral && double.IsFinite(d) && d.TryFormat(written, out count, "R", CultureInfo.InvariantCulture) && raw.SequenceEqual(written[..count]);
    }

    private static JsonArray CopyArray(JsonArray list)
    {
        var array = new JsonArray();
        foreach (var node in list)
            array.Add(ToJson(Node(node)));
        return array;
    }

    // ---- truth and identity ----------------------------------------------------------------------------------

    /// <summary>Python's truth value: None, False, 0, 0.0, empty str, dict and list are false.</summary>
    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0.0, // NaN is true, as in Python
        string s => s.Length > 0,
        JsonObject o => o.Count > 0,
        JsonArray a => a.Count > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        _ => throw Fallback(),
    };

    /// <summary><c>not x</c>.</summary>
    public static object Not(object? value) => Bool(!Truthy(value));

    /// <summary><c>x is None</c>.</summary>
    public static object IsNone(object? value) => Bool(value is null);

    /// <summary><c>x is not None</c>.</summary>
    public static object IsNotNone(object? value) => Bool(value is not null);

    // ---- containers ------------------------------------------------------------------------------------------

    /// <summary><c>container[index]</c>: a dict by str key, a list by int index (negative from the end).</summary>
    public static object? Item(object? container, object? index)
    {
        switch (container, index)
        {
            // A parsed dict is read from its text: building its node dictionary would cost more than the lookup,
            // and the last of duplicate keys wins, as in the dict Python builds from it.
            case (JsonObject dict, string key) when ParsedJson.Element(dict) is { } element:
                return element.TryGetProperty(key, out var found) ? FromElement(found) : throw Fallback(); // KeyError
            case (JsonObject dict, string key):
                return dict.TryGetPropertyValue(key, out var node) ? Node(node) : throw Fallback();
            case (JsonArray list, long i):
                var at = i < 0 ? list.Count + i : i;
                return at >= 0 && at < list.Count ? Node(list[(int)at]) : throw Fallback(); // IndexError
            case (List<object?> list, long i):
                var inList = i < 0 ? list.Count + i : i;
                return inList >= 0 && inList < list.Count ? list[(int)inList] : throw Fallback();
            case (object?[] tuple, long i):
                var inTuple = i < 0 ? tuple.Length + i : i;
                return inTuple >= 0 && inTuple < tuple.Length ? tuple[inTuple] : throw Fallback();
            default:
                throw Fallback();
        }
    }

    /// <summary><c>d.get(key, default)</c>.</summary>
    public static object? Get(object? container, object? key, object? fallback)
    {
        if (container is not JsonObject dict || key is not string name)
            throw Fallback();
        if (ParsedJson.Element(dict) is { } element)
            return element.TryGetProperty(name, out var found) ? FromElement(found) : fallback;
        return dict.TryGetPropertyValue(name, out var node) ? Node(node) : fallback;
    }

    /// <summary><c>dict(d, k=v, …)</c>: a copy of d with the keyword fields set (kept in place, else appended).</summary>
    public static object Dict(object? source, string[] names, object?[] values)
    {
        if (source is not JsonObject dict)
            throw Fallback();
        var copy = CopyObject(dict);
        for (var i = 0; i < names.Length; i++)
            copy[names[i]] = ToJson(values[i]);
        return copy;
    }

    /// <summary><c>needle in haystack</c> for a str key of a dict, a str within a str, or an item of a list or tuple.</summary>
    public static object In(object? needle, object? haystack) => (needle, haystack) switch
    {
        (string key, JsonObject dict) => Bool(ParsedJson.Element(dict) is { } element ? element.TryGetProperty(key, out _) : dict.ContainsKey(key)),
        (string part, string text) => Bool(text.Contains(part, StringComparison.Ordinal)),
        (_, JsonArray or List<object?> or object?[]) => Bool(Contains(Iterate(haystack), needle)),
        _ => throw Fallback(),
    };

    /// <summary>Python's <c>in</c> on a sequence: identity or equality. Only NaN tells the two apart, so NaN is Python's to decide.</summary>
    private static bool Contains(IEnumerable<object?> items, object? needle)
    {
        if (needle is double d && double.IsNaN(d))
            throw Fallback();
        foreach (var item in items)
        {
            if (item is double i && double.IsNaN(i))
                throw Fallback();
            if (Equal(item, needle))
                return true;
        }
        return false;
    }

    /// <summary><c>needle not in haystack</c>.</summary>
    public static object NotIn(object? needle, object? haystack) => Bool(!(bool)In(needle, haystack));

    /// <summary><c>len(x)</c>: code points of a str, entries of a dict or list.</summary>
    public static object Len(object? value) => value switch
    {
        string s => (long)CodePoints(s),
        JsonObject o => (long)o.Count,
        JsonArray a => (long)a.Count,
        List<object?> l => (long)l.Count,
        object?[] t => (long)t.Length,
        _ => throw Fallback(),
    };

    private static int CodePoints(string s)
    {
        var count = s.Length;
        for (var i = 0; i + 1 < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && char.IsLowSurrogate(s[i + 1]))
            {
                count--;
                i++;
            }
        }
        return count;
    }

    // ---- str methods -----------------------------------------------------------------------------------------

    /// <summary><c>s.lower()</c>: ASCII is exact; Unicode case mapping (ß, ǅ, final sigma) is Python's to decide.</summary>
    public static object Lower(object? s) => s is string text && IsAscii(text) ? text.ToLowerInvariant() : throw Fallback();

    /// <summary><c>s.upper()</c>.</summary>
    public static object Upper(object? s) => s is string text && IsAscii(text) ? text.ToUpperInvariant() : throw Fallback();

    /// <summary><c>s.strip()</c>: Python's ASCII whitespace, which includes \x1c–\x1f; an end at a non-ASCII character is Python's.</summary>
    public static object Strip(object? s)
    {
        if (s is not string text)
            throw Fallback();
        var start = 0;
        var end = text.Length;
        while (start < end && IsAsciiSpace(text[start])) start++;
        while (end > start && IsAsciiSpace(text[end - 1])) end--;
        if ((start < end && text[start] > 0x7F) || (end > start && text[end - 1] > 0x7F))
            throw Fallback();
        return text.Substring(start, end - start);
    }

    /// <summary><c>s.split()</c>: runs of whitespace; a string with any non-ASCII space or control character is Python's.</summary>
    public static object Split(object? s)
    {
        if (s is not string text)
            throw Fallback();
        var parts = new List<object?>();
        var start = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > 0x7F && char.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                    or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Control or UnicodeCategory.Format)
                throw Fallback();
            if (IsAsciiSpace(c))
            {
                if (start >= 0) parts.Add(text.Substring(start, i - start));
                start = -1;
            }
            else if (start < 0)
                start = i;
        }
        if (start >= 0) parts.Add(text.Substring(start));
        return parts;
    }

    /// <summary><c>s.split(sep)</c>: exact, by code unit; an empty separator raises ValueError in Python.</summary>
    public static object Split(object? s, object? separator)
    {
        if (s is not string text || separator is not string sep || sep.Length == 0 || HasSurrogates(sep))
            throw Fallback();
        return new List<object?>(text.Split(sep, StringSplitOptions.None));
    }

    /// <summary><c>s.startswith(prefix)</c> for a str prefix (a tuple of prefixes is Python's).</summary>
    public static object StartsWith(object? s, object? prefix) =>
        s is string text && prefix is string p && !HasSurrogates(p) ? Bool(text.StartsWith(p, StringComparison.Ordinal)) : throw Fallback();

    /// <summary><c>s.endswith(suffix)</c>.</summary>
    public static object EndsWith(object? s, object? suffix) =>
        s is string text && suffix is string p && !HasSurrogates(p) ? Bool(text.EndsWith(p, StringComparison.Ordinal)) : throw Fallback();

    private static bool IsAscii(string s)
    {
        foreach (var c in s)
            if (c > 0x7F)
                return false;
        return true;
    }

    private static bool IsAsciiSpace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f' or (>= '\x1c' and <= '\x1f');

    // ---- displays and comprehensions -------------------------------------------------------------------------

    /// <summary>A generator expression: consumed once, lazily, by the builtin it is passed to.</summary>
    public sealed class PythonGenerator(IEnumerable<object?> items)
    {
        internal IEnumerable<object?> Items { get; } = items;
    }

    /// <summary><c>[a, b, …]</c>.</summary>
    public static object ListOf(object?[] items) => new List<object?>(items);

    /// <summary><c>[element for x in iterable if …]</c>: the comprehension's items, in order.</summary>
    public static object ListOf(PythonGenerator generator) => new List<object?>(generator.Items);

    /// <summary><c>(a, b, …)</c>.</summary>
    public static object TupleOf(object?[] items) => items;

    /// <summary><c>{k: v, …}</c> with str keys: a repeated key keeps its first place and takes its last value, as in a dict.</summary>
    public static object Dict(object?[] keys, object?[] values)
    {
        var dict = new JsonObject();
        for (var i = 0; i < keys.Length; i++)
        {
            // Other keys (an int, True == 1) and the @schema the bridge drops are Python's to decide.
            if (keys[i] is not string name || name == ValueSchemas.SchemaKey)
                throw Fallback();
            dict[name] = ToJson(values[i]);
        }
        return dict;
    }

    /// <summary>The items of <c>for x in iterable</c> that pass <paramref name="where"/>, mapped by <paramref name="select"/>.</summary>
    public static PythonGenerator Generate(object? iterable, Func<object?, bool>? where, Func<object?, object?> select)
    {
        var items = Iterate(iterable);
        return new PythonGenerator(where is null ? items.Select(select) : items.Where(where).Select(select));
    }

    /// <summary>What <c>for x in value</c> walks: a list's or tuple's items, a dict's keys, a str's characters.</summary>
    private static IEnumerable<object?> Iterate(object? value)
    {
        switch (value)
        {
            case PythonGenerator generator: return generator.Items;
            case List<object?> list: return list;
            case object?[] tuple: return tuple;
            case JsonArray array: return array.Select(Node);
            case JsonObject dict: return Keys(dict);
            case string s when !HasSurrogates(s): return s.Select(c => (object?)c.ToString());
            default: throw Fallback();
        }
    }

    private static List<object?> Keys(JsonObject dict)
    {
        var keys = new List<object?>();
        if (ParsedJson.Element(dict) is not { } element)
        {
            foreach (var (name, _) in dict)
                keys.Add(name);
            return keys;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
            keys.Add(seen.Add(property.Name) ? property.Name : throw Fallback()); // a repeated key: Python decides
        return keys;
    }

    /// <summary><c>sum(iterable)</c> of ints; a float sum's rounding depends on the Python version (3.12 compensates), so it is Python's.</summary>
    public static object Sum(object? iterable)
    {
        long total = 0;
        foreach (var item in Iterate(iterable))
        {
            if (Int(item) is not { } x)
                throw Fallback();
            try { total = checked(total + x); } catch (OverflowException) { throw Fallback(); }
        }
        return total;
    }

    /// <summary><c>any(iterable)</c>: stops at the first true item.</summary>
    public static object Any(object? iterable)
    {
        foreach (var item in Iterate(iterable))
            if (Truthy(item))
                return True;
        return False;
    }

    /// <summary><c>all(iterable)</c>: stops at the first false item.</summary>
    public static object All(object? iterable)
    {
        foreach (var item in Iterate(iterable))
            if (!Truthy(item))
                return False;
        return True;
    }

    /// <summary><c>min(iterable)</c>; an empty one raises ValueError in Python.</summary>
    public static object? MinOf(object? iterable) => Pick([.. Iterate(iterable)], smaller: true, single: true);

    /// <summary><c>max(iterable)</c>.</summary>
    public static object? MaxOf(object? iterable) => Pick([.. Iterate(iterable)], smaller: false, single: true);

    /// <summary>
    /// <c>format(value, spec)</c>, as an f-string field writes it: spec "" is str(value) for a scalar, "d" an int in
    /// decimal, ".Nf" a number rounded half-to-even on its exact binary value to N places.
    /// </summary>
    public static string Format(object? value, string spec)
    {
        if (spec.Length == 0)
            return value is null or bool or long or double or string ? (string)ToStr(value) : throw Fallback(); // containers: repr
        if (spec == "d")
            return Int(value) is { } i ? i.ToString(CultureInfo.InvariantCulture) : throw Fallback();
        var places = int.Parse(spec.AsSpan(1, spec.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture);
        return value switch
        {
            double d => FixedPoint(d, places),
            _ when Int(value) is { } i => FixedPoint(i, places), // the int converted to float first, correctly rounded
            _ => throw Fallback(),
        };
    }

    private static string FixedPoint(double d, int places)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(d));
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075;
        var scaled = new BigInteger(mantissa) * BigInteger.Pow(10, places);
        BigInteger digits;
        if (exponent >= 0)
            digits = scaled << exponent;
        else
        {
            var denominator = BigInteger.One << -exponent;
            digits = BigInteger.DivRem(scaled, denominator, out var remainder);
            var twice = remainder * 2;
            if (twice > denominator || (twice == denominator && !digits.IsEven))
                digits += 1;
        }
        var text = digits.ToString(CultureInfo.InvariantCulture).PadLeft(places + 1, '0');
        if (places > 0)
            text = text.Insert(text.Length - places, ".");
        return double.IsNegative(d) ? "-" + text : text; // -0.0 and -0.001 write "-0.00", as Python does
    }

    // ---- numbers ---------------------------------------------------------------------------------------------

    /// <summary>An int operand (bool is an int in Python), or null when the value is not one.</summary>
    private static long? Int(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => null,
    };

    private static double ExactDouble(long l) =>
        l is >= -ExactDoubleLimit and <= ExactDoubleLimit ? l : throw Fallback();

    /// <summary>Both operands as floats, when at least one is a float and the other converts exactly.</summary>
    private static bool Floats(object? a, object? b, out double x, out double y)
    {
        x = y = 0;
        if (a is double da && b is double db) { x = da; y = db; return true; }
        if (a is double d1 && Int(b) is { } i1) { x = d1; y = ExactDouble(i1); return true; }
        if (Int(a) is { } i2 && b is double d2) { x = ExactDouble(i2); y = d2; return true; }
        return false;
    }

    /// <summary><c>a + b</c> on numbers (ints stay exact, bool counts as int), str, two lists or two tuples.</summary>
    public static object Add(object? a, object? b)
    {
        if (Int(a) is { } x && Int(b) is { } y)
            try { return checked(x + y); } catch (OverflowException) { throw Fallback(); } // Python's int grows past 64 bits
        if (Floats(a, b, out var p, out var q))
            return p + q;
        if (a is string s && b is string t)
            return s + t;
        if (a is List<object?> or JsonArray && b is List<object?> or JsonArray)
            return new List<object?>([.. Iterate(a), .. Iterate(b)]);
        if (a is object?[] x1 && b is object?[] y1)
            return (object?[])[.. x1, .. y1];
        throw Fallback();
    }

    /// <summary><c>a - b</c> on numbers.</summary>
    public static object Subtract(object? a, object? b)
    {
        if (Int(a) is { } x && Int(b) is { } y)
            try { return checked(x - y); } catch (OverflowException) { throw Fallback(); }
        if (Floats(a, b, out var p, out var q))
            return p - q;
        throw Fallback();
    }

    /// <summary><c>a * b</c> on numbers.</summary>
    public static object Multiply(object? a, object? b)
    {
        if (Int(a) is { } x && Int(b) is { } y)
            try { return checked(x * y); } catch (OverflowException) { throw Fallback(); }
        if (Floats(a, b, out var p, out var q))
            return p * q;
        throw Fallback();
    }

    /// <summary><c>a / b</c>: always a float; ints are divided exactly while both fit in a double's 53 bits.</summary>
    public static object Divide(object? a, object? b)
    {
        double p, q;
        if (Int(a) is { } x && Int(b) is { } y)
            (p, q) = (ExactDouble(x), ExactDouble(y));
        else if (!Floats(a, b, out p, out q))
            throw Fallback();
        return q == 0.0 ? throw Fallback() : p / q; // ZeroDivisionError
    }

    /// <summary><c>a // b</c> on ints: rounds toward negative infinity.</summary>
    public static object FloorDivide(object? a, object? b)
    {
        if (Int(a) is not { } x || Int(b) is not { } y || y == 0 || (x == long.MinValue && y == -1))
            throw Fallback();
        var quotient = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? quotient - 1 : quotient;
    }

    /// <summary><c>a % b</c> on ints: the result takes the divisor's sign.</summary>
    public static object Modulo(object? a, object? b)
    {
        if (Int(a) is not { } x || Int(b) is not { } y || y == 0)
            throw Fallback();
        if (y == -1)
            return 0L;
        var remainder = x % y;
        return remainder != 0 && ((remainder < 0) != (y < 0)) ? remainder + y : remainder;
    }

    /// <summary><c>-a</c>.</summary>
    public static object Negate(object? a) => a switch
    {
        // Arms typed object: a switch over double and long would otherwise widen the int to a float.
        double d => (object)(-d),
        _ when Int(a) is { } x => x == long.MinValue ? throw Fallback() : (object)(-x),
        _ => throw Fallback(),
    };

    /// <summary><c>+a</c>.</summary>
    public static object Plus(object? a) => a switch
    {
        double d => (object)d,
        _ when Int(a) is { } x => (object)x,
        _ => throw Fallback(),
    };

    // ---- comparisons -----------------------------------------------------------------------------------------

    /// <summary><c>a == b</c> for None, numbers (bool included) and str; containers go to Python.</summary>
    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null)
            return a is null && b is null;
        if (Int(a) is { } x && Int(b) is { } y)
            return x == y;
        if (Floats(a, b, out var p, out var q))
            return p == q;
        if (a is string s && b is string t)
            return string.Equals(s, t, StringComparison.Ordinal);
        if (!IsScalar(a) || !IsScalar(b))
            throw Fallback(); // containers compare item by item; Python decides
        return false; // different kinds of scalar: never equal in Python
    }

    private static bool IsScalar(object value) => value is bool or long or double or string;

    /// <summary>The order of two numbers or two str (by code point), as Python's &lt;; anything else is Python's to decide (TypeError).</summary>
    private static int Order(object? a, object? b)
    {
        if (Int(a) is { } x && Int(b) is { } y)
            return x.CompareTo(y);
        if (Floats(a, b, out var p, out var q))
        {
            if (double.IsNaN(p) || double.IsNaN(q))
                throw Fallback();
            return p.CompareTo(q);
        }
        if (a is string s && b is string t && !HasSurrogates(s) && !HasSurrogates(t))
            return string.CompareOrdinal(s, t);
        throw Fallback();
    }

    private static bool HasSurrogates(string s)
    {
        foreach (var c in s)
            if (char.IsSurrogate(c))
                return true;
        return false;
    }

    /// <summary><c>a == b</c>.</summary>
    public static object Eq(object? a, object? b) => Bool(Equal(a, b));
    /// <summary><c>a != b</c>.</summary>
    public static object NotEq(object? a, object? b) => Bool(!Equal(a, b));
    /// <summary><c>a &lt; b</c>.</summary>
    public static object Lt(object? a, object? b) => Bool(Order(a, b) < 0);
    /// <summary><c>a &lt;= b</c>.</summary>
    public static object LtE(object? a, object? b) => Bool(Order(a, b) <= 0);
    /// <summary><c>a &gt; b</c>.</summary>
    public static object Gt(object? a, object? b) => Bool(Order(a, b) > 0);
    /// <summary><c>a &gt;= b</c>.</summary>
    public static object GtE(object? a, object? b) => Bool(Order(a, b) >= 0);

    // ---- builtins --------------------------------------------------------------------------------------------

    /// <summary><c>abs(a)</c>.</summary>
    public static object Abs(object? a) => a switch
    {
        double d => (object)Math.Abs(d),
        _ when Int(a) is { } x => x == long.MinValue ? throw Fallback() : (object)Math.Abs(x),
        _ => throw Fallback(),
    };

    /// <summary><c>min(a, b, …)</c>: the first smallest, by Python's &lt;.</summary>
    public static object? Min(params object?[] values) => Pick(values, smaller: true, single: false);

    /// <summary><c>max(a, b, …)</c>: the first largest, by Python's &gt;.</summary>
    public static object? Max(params object?[] values) => Pick(values, smaller: false, single: false);

    private static object? Pick(object?[] values, bool smaller, bool single)
    {
        if (values.Length < (single ? 1 : 2))
            throw Fallback(); // min(a) takes a as an iterable; min([]) raises ValueError
        var best = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            var order = Order(values[i], best);
            if (smaller ? order < 0 : order > 0)
                best = values[i];
        }
        return best;
    }

    /// <summary><c>int(x)</c> for an int, bool, finite float (toward zero) or a plain ASCII decimal str.</summary>
    public static object ToInt(object? a)
    {
        switch (a)
        {
            case double d:
                var truncated = Math.Truncate(d);
                return double.IsFinite(d) && truncated >= -9.2233720368547758e18 && truncated < 9.2233720368547758e18 ? (long)truncated : throw Fallback();
            case string s when s.Length is > 0 and < 19 && s.All(c => c is >= '0' and <= '9'):
                return long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
            default:
                return Int(a) ?? throw Fallback();
        }
    }

    /// <summary><c>float(x)</c> for a number (an int rounded correctly, as Python rounds it).</summary>
    public static object ToFloat(object? a) => a switch
    {
        double d => d,
        _ when Int(a) is { } x => (double)x,
        _ => throw Fallback(),
    };

    /// <summary><c>str(x)</c> for None, bool, int, float (as repr writes it) and str.</summary>
    public static object ToStr(object? a) => a switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => s,
        _ => throw Fallback(),
    };

    /// <summary><c>round(x)</c>: an int, ties to even.</summary>
    public static object Round(object? a)
    {
        if (Int(a) is { } x)
            return x;
        if (a is not double d || !double.IsFinite(d))
            throw Fallback();
        var rounded = Math.Round(d, MidpointRounding.ToEven);
        return rounded is >= -9.2233720368547758e18 and < 9.2233720368547758e18 ? (long)rounded : throw Fallback();
    }

    /// <summary>
    /// <c>round(x, n)</c>: for a float, the decimal nearest the float's exact binary value at n places (ties to
    /// even), read back as the nearest float: CPython's correctly rounded algorithm, done exactly with big integers.
    /// </summary>
    public static object Round(object? a, object? digits)
    {
        if (Int(digits) is not { } n || n < 0 || n > 300)
            throw Fallback();
        if (a is long or bool)
            return Int(a)!.Value;
        if (a is not double d || !double.IsFinite(d))
            throw Fallback();
        if (d == 0.0)
            return d;
        var negative = d < 0 || (d == 0.0 && double.IsNegative(d));
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(d));
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075; // |d| = mantissa * 2^exponent
        if (exponent + n >= 0)
            return d; // |d| * 10^n is a whole number already: its digits read back as d itself
        if (RoundNarrow(mantissa, exponent, (int)n) is { } narrow)
            return negative ? -narrow : narrow;
        BigInteger numerator = mantissa, denominator = BigInteger.One;
        if (exponent > 0) numerator <<= exponent; else denominator <<= -exponent;
        numerator *= BigInteger.Pow(10, (int)n);
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        var twice = remainder * 2;
        if (twice > denominator || (twice == denominator && !quotient.IsEven))
            quotient += 1;
        var text = quotient.ToString(CultureInfo.InvariantCulture) + "E-" + n.ToString(CultureInfo.InvariantCulture);
        var result = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(result))
            throw Fallback(); // OverflowError
        return negative ? -result : result;
    }

    private static readonly UInt128[] PowersOfFive = [.. Enumerable.Range(0, 23).Select(i => Enumerable.Repeat((UInt128)5, i).Aggregate((UInt128)1, (a, b) => a * b))];
    private static readonly double[] PowersOfTen = [.. Enumerable.Range(0, 23).Select(i => double.Parse("1E" + i, CultureInfo.InvariantCulture))];

    /// <summary>
    /// The common case of <c>round(x, n)</c> without big integers: mantissa * 5^n fits in 128 bits (n ≤ 22), and the
    /// rounded decimal q / 10^n is one IEEE division of two exactly representable doubles (q &lt; 2^53, 10^n ≤ 10^22),
    /// which rounds correctly, as reading the digits back does. Null when those bounds do not hold.
    /// </summary>
    private static double? RoundNarrow(long mantissa, int exponent, int n)
    {
        var shift = -(exponent + n); // |d| * 10^n = mantissa * 5^n / 2^shift, shift > 0
        if (n > 22 || shift >= 127)
            return null;
        var scaled = (UInt128)(ulong)mantissa * PowersOfFive[n];
        var quotient = scaled >> shift;
        var remainder = scaled - (quotient << shift);
        var half = (UInt128)1 << (shift - 1);
        if (remainder > half || (remainder == half && (quotient & 1) == 1))
            quotient += 1;
        return quotient < (UInt128)ExactDoubleLimit ? (double)(ulong)quotient / PowersOfTen[n] : null;
    }

    /// <summary>repr(float): the shortest digits that read back the same, laid out as Python lays them out.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0.0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // "E16" is not shortest; "R" is, and always parses as digits[.digits][E±exp].
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = shortest.IndexOf('E');
        var mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var digits = (point < 0 ? mantissa : mantissa.Remove(point, 1)).TrimStart('0');
        var leadingZeros = (point < 0 ? mantissa : mantissa.Remove(point, 1)).Length - digits.Length;
        // decimalPoint: where the point sits relative to digits' start (digits = 1234, decimalPoint 1 → 1.234).
        var decimalPoint = (point < 0 ? mantissa.Length : point) - leadingZeros + exponent;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        var text = new StringBuilder();
        if (d < 0) text.Append('-');
        var decimalExponent = decimalPoint - 1;
        if (decimalExponent < -4 || decimalExponent >= 16)
        {
            text.Append(digits[0]);
            if (digits.Length > 1) text.Append('.').Append(digits, 1, digits.Length - 1);
            text.Append('e').Append(decimalExponent < 0 ? '-' : '+').Append(Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decimalPoint <= 0)
        {
            text.Append("0.").Append('0', -decimalPoint).Append(digits);
        }
        else if (decimalPoint >= digits.Length)
        {
            text.Append(digits).Append('0', decimalPoint - digits.Length).Append(".0");
        }
        else
        {
            text.Append(digits, 0, decimalPoint).Append('.').Append(digits, decimalPoint, digits.Length - decimalPoint);
        }
        return text.ToString();
    }
}
