using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ksml.Runtime.Values;
using Streamiz.Kafka.Net.State;
using static Ksml.Runtime.Python.CPython;

namespace Ksml.Runtime.Python;

/// <summary>
/// Converts values between the runtime's data model and Python objects with raw C-API calls.
/// .NET to Python: null, bool, integers, floats, strings, bytes, JSON nodes, dictionaries, lists,
/// tuples, key-value pairs and windowed keys. Python to .NET: None, bool, int (long), float
/// (double), str, bytes, tuple (object[]), list (List&lt;object?&gt;), dict (JsonObject). Every
/// method must be called with the GIL held.
/// </summary>
internal static unsafe class PythonValues
{
    /// <summary>A new reference to the Python form of <paramref name="value"/>.</summary>
    public static nint ToPython(object? value) => ToPython(value, 0);

    private static nint ToPython(object? value, int depth) => value switch
    {
        null => NewRef(None),
        string s => FromString(s),
        bool b => NewRef(b ? True : False),
        long l => Check(LongFromLongLong(l)),
        int i => Check(LongFromLongLong(i)),
        short sh => Check(LongFromLongLong(sh)),
        sbyte sb => Check(LongFromLongLong(sb)),
        byte by => Check(LongFromLongLong(by)),
        double d => Check(FloatFromDouble(d)),
        float f => Check(FloatFromDouble(f)),
        decimal m => Check(FloatFromDouble((double)m)),
        byte[] bytes => FromBytes(bytes),
        JsonNode node => depth == 0 && ValueSchemas.Of(node) is { } schema ? WithSchema(FromJson(node, depth), schema) : FromJson(node, depth),
        _ when IsWindowed(value) => FromWindowed(value, depth),
        IDictionary dictionary => FromDictionary(dictionary, depth),
        ITuple tuple => FromTuple(tuple, depth),
        IEnumerable list => FromList(list, depth),
        _ when IsKeyValuePair(value) => FromKeyValuePair(value, depth),
        _ => throw new KsmlTypeException($"A {value.GetType().Name} cannot be passed to Python."),
    };

    /// <summary>KSML's view of a value read with a schema: its dict, with <c>@type</c> and <c>@schema</c>.</summary>
    private static nint WithSchema(nint dict, ValueSchema schema)
    {
        try
        {
            SetItem(dict, ValueSchemas.TypeKey, FromString(schema.Name));
            SetItem(dict, ValueSchemas.SchemaKey, FromJson(schema.Json, 1));
            return dict;
        }
        catch
        {
            DecRef(dict);
            throw;
        }
    }

    private static nint Check(nint o) => o != 0 ? o : throw new PythonBridgeException("Python could not allocate a value.");

    private static nint FromString(string s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= 512)
        {
            byte* buffer = stackalloc byte[max];
            var length = Encoding.UTF8.GetBytes(s, new Span<byte>(buffer, max));
            return Check(UnicodeFromStringAndSize(buffer, length));
        }
        var bytes = Encoding.UTF8.GetBytes(s);
        fixed (byte* p = bytes)
            return Check(UnicodeFromStringAndSize(p, bytes.Length));
    }

    private static nint FromBytes(byte[] bytes)
    {
        fixed (byte* p = bytes)
            return Check(BytesFromStringAndSize(p, bytes.Length));
    }

    private const string PassedValue = "A value passed to Python";
    private const string ReturnedValue = "A value returned from Python";

    private static nint FromJson(JsonNode? node, int depth)
    {
        ValueLimits.Check(depth, PassedValue);
        switch (node)
        {
            case null:
                return NewRef(None);
            case JsonObject or JsonArray when ParsedJson.Element(node) is { } element:
                return FromParsedJson(node, element);
            case JsonObject obj:
            {
                var dict = Check(DictNewPresized(obj.Count));
                try
                {
                    foreach (var (name, child) in obj)
                        SetItem(dict, name, FromJson(child, depth + 1));
                }
                catch
                {
                    DecRef(dict);
                    throw;
                }
                return dict;
            }
            case JsonArray array:
            {
                var list = Check(ListNew(array.Count));
                for (var i = 0; i < array.Count; i++)
                {
                    nint item;
                    try { item = FromJson(array[i], depth + 1); }
                    catch { DecRef(list); throw; }
                    ListSetItem(list, i, item);
                }
                return list;
            }
            case JsonValue value:
                return FromJsonValue(value);
            default:
                throw new KsmlTypeException($"Unsupported JSON node {node.GetType().Name}.");
        }
    }

    // A record's value usually reaches several Python functions unchanged (a filter, then a transformer).
    // The last parsed value each thread converted is kept, untouched, and every call gets its own copy of
    // its dicts and lists (the leaves are immutable, so they are shared): copying containers costs a
    // fraction of converting again. The node is unchanged while it is still backed by its parsed document.
    [ThreadStatic] private static JsonNode? _lastParsedNode;
    [ThreadStatic] private static nint _lastParsedValue;

    private static nint FromParsedJson(JsonNode node, JsonElement element)
    {
        if (!ReferenceEquals(node, _lastParsedNode))
        {
            var converted = FromJsonElement(element);
            if (_lastParsedValue != 0)
                DecRef(_lastParsedValue);
            _lastParsedNode = node;
            _lastParsedValue = converted;
        }
        return CopyContainers(_lastParsedValue);
    }

    /// <summary>A new reference to a copy of <paramref name="o"/> that shares only its immutable leaves.</summary>
    private static nint CopyContainers(nint o)
    {
        var type = TypeOf(o);
        if (type == DictType)
        {
            var copy = Check(DictCopy(o));
            nint position = 0, key, value;
            while (DictNext(copy, &position, &key, &value) != 0)
            {
                var valueType = TypeOf(value);
                if (valueType != DictType && valueType != ListType)
                    continue;
                var inner = CopyContainers(value);
                var failed = DictSetItem(copy, key, inner) != 0; // same key: the table does not change size
                DecRef(inner);
                if (failed)
                {
                    DecRef(copy);
                    throw new PythonBridgeException("Python could not copy a dict.");
                }
            }
            return copy;
        }
        if (type == ListType)
        {
            var count = ListSize(o);
            var copy = Check(ListGetSlice(o, 0, count));
            for (nint i = 0; i < count; i++)
            {
                var item = ListGetItemBorrowed(copy, i);
                var itemType = TypeOf(item);
                if (itemType == DictType || itemType == ListType)
                    ListSetItem(copy, i, CopyContainers(item)); // steals the new copy, releases the shared one
            }
            return copy;
        }
        return NewRef(o);
    }

    private static nint FromJsonElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
            {
                // Sized for its fields: a 12-field record would otherwise make the dict grow twice.
                var dict = Check(DictNewPresized(element.GetPropertyCount()));
                try
                {
                    foreach (var property in element.EnumerateObject())
                    {
                        var key = KeyToPython(property);
                        var item = FromJsonElement(property.Value);
                        var failed = DictSetItem(dict, key, item) != 0;
                        DecRef(key);
                        DecRef(item);
                        if (failed)
                            throw new PythonBridgeException("Python could not build a dict.");
                    }
                }
                catch
                {
                    DecRef(dict);
                    throw;
                }
                return dict;
            }
            case JsonValueKind.Array:
            {
                var list = Check(ListNew(element.GetArrayLength()));
                var i = 0;
                foreach (var child in element.EnumerateArray())
                {
                    nint item;
                    try { item = FromJsonElement(child); }
                    catch { DecRef(list); throw; }
                    ListSetItem(list, i++, item);
                }
                return list;
            }
            case JsonValueKind.String:
                return FromJsonString(element);
            case JsonValueKind.Number:
                return element.TryGetInt64(out var l) ? Check(LongFromLongLong(l)) : Check(FloatFromDouble(element.GetDouble()));
            case JsonValueKind.True:
                return NewRef(True);
            case JsonValueKind.False:
                return NewRef(False);
            default:
                return NewRef(None);
        }
    }

    private static nint FromJsonValue(JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
            return FromJsonElement(element);
        if (value.TryGetValue<string>(out var s)) return FromString(s);
        if (value.TryGetValue<bool>(out var b)) return NewRef(b ? True : False);
        if (value.TryGetValue<long>(out var n)) return Check(LongFromLongLong(n));
        if (value.TryGetValue<int>(out var i)) return Check(LongFromLongLong(i));
        if (value.TryGetValue<double>(out var d)) return Check(FloatFromDouble(d));
        return value.GetValueKind() switch
        {
            JsonValueKind.Number => Check(FloatFromDouble(value.GetValue<double>())),
            JsonValueKind.String => FromString(value.ToString()),
            _ => NewRef(None),
        };
    }

    // Records repeat their field names: each name becomes one Python str, kept for the process, and
    // the same object coming back in a result dict maps straight to its .NET string.
    private const int MaxCachedKeys = 4096;
    private static readonly Dictionary<string, nint> KeyObjects = new(StringComparer.Ordinal);
    private static readonly Dictionary<nint, string> KeyStrings = new();

    private static nint KeyToPython(string key)
    {
        if (KeyObjects.TryGetValue(key, out var cached))
            return NewRef(cached);
        var created = FromString(key);
        if (KeyObjects.Count < MaxCachedKeys && key.Length <= 64)
        {
            KeyObjects[key] = NewRef(created);
            KeyStrings[created] = key;
        }
        return created;
    }

    // The same cache looked up by a JSON property's raw UTF-8 name, so no .NET string is made per field.
    private static readonly Dictionary<byte[], nint> Utf8KeyObjects = new(Utf8KeyComparer.Instance);
    private static readonly Dictionary<byte[], nint>.AlternateLookup<ReadOnlySpan<byte>> Utf8Keys =
        Utf8KeyObjects.GetAlternateLookup<ReadOnlySpan<byte>>();

    private static nint KeyToPython(JsonProperty property)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(property);
        if (Utf8Keys.TryGetValue(raw, out var cached))
            return NewRef(cached);
        if (raw.IndexOf((byte)'\\') >= 0)
            return KeyToPython(property.Name);
        var created = KeyToPython(property.Name);
        if (Utf8KeyObjects.Count < MaxCachedKeys && raw.Length <= 64)
            Utf8KeyObjects[raw.ToArray()] = NewRef(created);
        return created;
    }

    private sealed class Utf8KeyComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly Utf8KeyComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] key) => GetHashCode((ReadOnlySpan<byte>)key);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }

    /// <summary>A JSON string straight from its UTF-8 bytes when it has no escapes, without a .NET string between.</summary>
    private static nint FromJsonString(JsonElement element)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length >= 2 && raw.IndexOf((byte)'\\') < 0)
        {
            var content = raw[1..^1];
            fixed (byte* p = content)
                return Check(UnicodeFromStringAndSize(p, content.Length));
        }
        return FromString(element.GetString()!);
    }

    private static void SetItem(nint dict, string key, nint item)
    {
        var k = KeyToPython(key);
        var failed = DictSetItem(dict, k, item) != 0;
        DecRef(k);
        DecRef(item);
        if (failed)
            throw new PythonBridgeException("Python could not build a dict.");
    }

    /// <summary>A windowed key as KSML shows it: start, end, startTime, endTime and key.</summary>
    private static bool IsWindowed(object value) =>
        value.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(Windowed<>);

    private static nint FromWindowed(object windowed, int depth)
    {
        var type = windowed.GetType();
        var window = (Streamiz.Kafka.Net.Stream.Window)type.GetProperty(nameof(Windowed<int>.Window))!.GetValue(windowed)!;
        var dict = Check(DictNew());
        SetItem(dict, "start", Check(LongFromLongLong(window.StartMs)));
        SetItem(dict, "end", Check(LongFromLongLong(window.EndMs)));
        SetItem(dict, "startTime", FromString(KsmlValues.WindowTime(window.StartMs)));
        SetItem(dict, "endTime", FromString(KsmlValues.WindowTime(window.EndMs)));
        SetItem(dict, "key", ToPython(type.GetProperty(nameof(Windowed<int>.Key))!.GetValue(windowed), depth + 1));
        return dict;
    }

    private static nint FromDictionary(IDictionary dictionary, int depth)
    {
        ValueLimits.Check(depth, PassedValue);
        var dict = Check(DictNew());
        foreach (DictionaryEntry entry in dictionary)
        {
            var k = ToPython(entry.Key, depth + 1);
            var v = ToPython(entry.Value, depth + 1);
            var failed = DictSetItem(dict, k, v) != 0;
            DecRef(k);
            DecRef(v);
            if (failed)
            {
                DecRef(dict);
                throw new PythonBridgeException("Python could not build a dict.");
            }
        }
        return dict;
    }

    private static nint FromTuple(ITuple tuple, int depth)
    {
        ValueLimits.Check(depth, PassedValue);
        var result = Check(TupleNew(tuple.Length));
        for (var i = 0; i < tuple.Length; i++)
            TupleSetItem(result, i, ToPython(tuple[i], depth + 1));
        return result;
    }

    private static nint FromList(IEnumerable items, int depth)
    {
        ValueLimits.Check(depth, PassedValue);
        var elements = items.Cast<object?>().ToList();
        var list = Check(ListNew(elements.Count));
        for (var i = 0; i < elements.Count; i++)
            ListSetItem(list, i, ToPython(elements[i], depth + 1));
        return list;
    }

    private static bool IsKeyValuePair(object value) =>
        value.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>);

    private static nint FromKeyValuePair(object pair, int depth)
    {
        var type = pair.GetType();
        var tuple = Check(TupleNew(2));
        TupleSetItem(tuple, 0, ToPython(type.GetProperty("Key")!.GetValue(pair), depth + 1));
        TupleSetItem(tuple, 1, ToPython(type.GetProperty("Value")!.GetValue(pair), depth + 1));
        return tuple;
    }

    /// <summary>The .NET form of a Python object (borrowed; not released).</summary>
    public static object? ToClr(nint o) => ToClr(o, 0);

    private static object? ToClr(nint o, int depth)
    {
        if (o == None) return null;
        if (o == True) return true;
        if (o == False) return false;
        var type = TypeOf(o);
        if (type == UnicodeType) return AsString(o);
        if (type == LongType) return AsLong(o);
        if (type == FloatType) return FloatAsDouble(o);
        if (type == DictType) return AsJsonObject(o, depth);
        if (type == ListType) return AsList(o, depth);
        if (type == TupleType) return AsArray(o, depth);
        if (type == BytesType) return AsBytes(o);
        var flags = TypeGetFlags(type);
        if ((flags & TpFlagsUnicodeSubclass) != 0) return AsString(o);
        if ((flags & TpFlagsLongSubclass) != 0) return AsLong(o);
        if ((flags & TpFlagsDictSubclass) != 0) return AsJsonObject(o, depth);
        if ((flags & TpFlagsListSubclass) != 0) return AsList(o, depth);
        if ((flags & TpFlagsTupleSubclass) != 0) return AsArray(o, depth);
        if ((flags & TpFlagsBytesSubclass) != 0) return AsBytes(o);
        if (TypeIsSubtype(type, FloatType) != 0) return FloatAsDouble(o);
        throw new KsmlTypeException($"A Python {TypeName(o)} cannot be returned to a KSML pipeline; use dict, list, tuple, str, int, float, bool, bytes or None.");
    }

    /// <summary>The JSON form of a Python object, for values nested in dictionaries and lists.</summary>
    public static JsonNode? ToJson(nint o) => ToJson(o, 0);

    private static JsonNode? ToJson(nint o, int depth)
    {
        if (o == None) return null;
        if (o == True) return JsonValue.Create(true);
        if (o == False) return JsonValue.Create(false);
        var type = TypeOf(o);
        if (type == UnicodeType) return JsonValue.Create(AsString(o));
        if (type == LongType) return JsonValue.Create(AsLong(o));
        if (type == FloatType) return KsmlValues.JsonNumber(FloatAsDouble(o));
        if (type == DictType) return AsJsonObject(o, depth);
        if (type == ListType || type == TupleType) return AsJsonArray(o, type == TupleType, depth);
        return KsmlValues.ToJsonNode(ToClr(o, depth));
    }

    private static string AsString(nint o)
    {
        nint size;
        var utf8 = UnicodeAsUtf8AndSize(o, &size);
        if (utf8 == null)
            throw new PythonBridgeException("Converting a str failed: " + PythonErrors.Take().Describe());
        return Encoding.UTF8.GetString(utf8, (int)size);
    }

    private static long AsLong(nint o)
    {
        var value = LongAsLongLong(o);
        if (value == -1 && ErrOccurredBorrowed() != 0)
        {
            ErrClear();
            throw new KsmlTypeException("A Python int does not fit in 64 bits.");
        }
        return value;
    }

    private static byte[] AsBytes(nint o) => new ReadOnlySpan<byte>(BytesAsString(o), (int)BytesSize(o)).ToArray();

    private static JsonObject AsJsonObject(nint o, int depth)
    {
        ValueLimits.Check(depth, ReturnedValue);
        // Sized up front: JsonObject's dictionary would otherwise grow (and rehash) as fields are added.
        var properties = new KeyValuePair<string, JsonNode?>[DictSize(o)];
        var count = 0;
        nint position = 0, key, value;
        var schemaKey = false;
        while (DictNext(o, &position, &key, &value) != 0 && count < properties.Length)
        {
            var name = KeyText(key);
            schemaKey |= name == ValueSchemas.SchemaKey;
            properties[count++] = new(name, ToJson(value, depth + 1));
        }
        // A dict that still holds the @schema (and @type) a schema-read value came with loses both, as in KSML;
        // a lone @type (JSON-LD's) is data.
        if (schemaKey)
            return new JsonObject(properties[..count].Where(p => p.Key is not (ValueSchemas.TypeKey or ValueSchemas.SchemaKey)));
        return new JsonObject(count == properties.Length ? properties : properties[..count]);
    }

    private static string KeyText(nint key)
    {
        if (KeyStrings.TryGetValue(key, out var cached))
            return cached;
        if (TypeOf(key) == UnicodeType)
            return AsString(key);
        var text = ObjectStr(key);
        if (text == 0)
            throw new PythonBridgeException("Converting a dict key failed: " + PythonErrors.Take().Describe());
        try { return AsString(text); }
        finally { DecRef(text); }
    }

    private static JsonArray AsJsonArray(nint o, bool tuple, int depth)
    {
        ValueLimits.Check(depth, ReturnedValue);
        var count = tuple ? TupleSize(o) : ListSize(o);
        var array = new JsonArray();
        for (nint i = 0; i < count; i++)
            array.Add(ToJson(tuple ? TupleGetItemBorrowed(o, i) : ListGetItemBorrowed(o, i), depth + 1));
        return array;
    }

    private static List<object?> AsList(nint o, int depth)
    {
        ValueLimits.Check(depth, ReturnedValue);
        var count = ListSize(o);
        var list = new List<object?>((int)count);
        for (nint i = 0; i < count; i++)
            list.Add(ToClr(ListGetItemBorrowed(o, i), depth + 1));
        return list;
    }

    private static object?[] AsArray(nint o, int depth)
    {
        ValueLimits.Check(depth, ReturnedValue);
        var count = TupleSize(o);
        var array = new object?[count];
        for (nint i = 0; i < count; i++)
            array[i] = ToClr(TupleGetItemBorrowed(o, i), depth + 1);
        return array;
    }

    /// <summary>The Python type name of <paramref name="o"/>, for messages.</summary>
    public static string TypeName(nint o)
    {
        var name = ObjectGetAttrString(TypeOf(o), NameAttribute);
        if (name == 0)
        {
            ErrClear();
            return "object";
        }
        try { return AsString(name); }
        finally { DecRef(name); }
    }

    private static readonly byte* NameAttribute = PermanentUtf8("__name__");
}
