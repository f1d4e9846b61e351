using System.Text.Json.Nodes;
using Ksml.Runtime.Functions;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>Values cross into Python and back without losing their type or content.</summary>
public sealed class ValueConversionTests
{
    private static readonly Lazy<IKsmlFunction> Identity = new(() =>
        Create(Definition("identity", "valueTransformer", ["key", "value"], expression: "value", resultType: "any")));

    private static readonly Lazy<IKsmlFunction> TypeOf = new(() =>
        Create(Definition("type_of", "valueTransformer", ["key", "value"], expression: "type(value).__name__", resultType: "string")));

    [TestCase(null, "NoneType")]
    [TestCase(true, "bool")]
    [TestCase(false, "bool")]
    [TestCase(42L, "int")]
    [TestCase(-7, "int")]
    [TestCase((short)3, "int")]
    [TestCase((sbyte)-3, "int")]
    [TestCase(2.5, "float")]
    [TestCase(1.5f, "float")]
    [TestCase("héllo ✓ 𝄞", "str")]
    public void Primitives_round_trip_as_their_python_type(object? value, string pythonType)
    {
        Assert.That(TypeOf.Value.Invoke(null, null, value), Is.EqualTo(pythonType));
        var back = Identity.Value.Invoke(null, null, value);
        Assert.That(back, Is.EqualTo(value switch { int i => (long)i, short s => (long)s, sbyte b => (long)b, float f => (double)f, _ => value }));
    }

    [Test]
    public void Extreme_integers_and_long_strings_survive()
    {
        Assert.That(Identity.Value.Invoke(null, null, long.MinValue), Is.EqualTo(long.MinValue));
        Assert.That(Identity.Value.Invoke(null, null, long.MaxValue), Is.EqualTo(long.MaxValue));
        var text = new string('x', 5000) + "é";
        Assert.That(Identity.Value.Invoke(null, null, text), Is.EqualTo(text));
    }

    [TestCase("l = [1]; l.append(l)", "l")]
    [TestCase("d = {}; d['self'] = d", "d")]
    [TestCase("t = []; t.append((t,))", "t")]
    public void A_result_that_contains_itself_is_a_type_error_not_a_stack_overflow(string build, string name)
    {
        var cyclic = Create(Definition("cyclic_" + name, "valueTransformer", ["key", "value"], code: build, expression: name, resultType: "any"));

        var error = Assert.Catch(() => cyclic.Invoke(null, null, null))!;

        Assert.That(error.ToString(), Does.Contain("nests deeper than 100 levels"));
    }

    [Test]
    public void A_value_nested_past_the_limit_is_refused_on_the_way_into_python()
    {
        JsonNode deep = new JsonArray();
        for (var i = 0; i < 10_000; i++)
            deep = new JsonArray(deep);

        var error = Assert.Catch(() => TypeOf.Value.Invoke(null, null, deep))!;

        Assert.That(error.ToString(), Does.Contain("A value passed to Python nests deeper than 100 levels"));
    }

    [Test]
    public void Values_nested_within_the_limit_round_trip()
    {
        JsonNode deep = new JsonObject { ["leaf"] = 1 };
        for (var i = 0; i < 90; i++)
            deep = new JsonObject { ["child"] = deep };
        var expected = deep.ToJsonString();

        Assert.That(((JsonNode)Identity.Value.Invoke(null, null, deep)!).ToJsonString(), Is.EqualTo(expected));
    }

    [Test]
    public void Bytes_stay_bytes()
    {
        Assert.That(TypeOf.Value.Invoke(null, null, new byte[] { 0, 1, 255 }), Is.EqualTo("bytes"));
        Assert.That(Identity.Value.Invoke(null, null, new byte[] { 0, 1, 255 }), Is.EqualTo(new byte[] { 0, 1, 255 }));
    }

    [Test]
    public void Bytes_may_come_back_as_a_list_of_numbers_as_ksmls_examples_build_them()
    {
        var listed = Create(Definition("listed", "valueTransformer", ["key", "value"], expression: "list(value)", resultType: "bytes"));
        var result = listed.Invoke(null, null, new byte[] { 0, 1, 255 });

        Assert.That(Ksml.Runtime.Values.KsmlValues.To<byte[]>(result, "bytes"), Is.EqualTo(new byte[] { 0, 1, 255 }));
        Assert.Throws<Ksml.Runtime.Values.KsmlTypeException>(() => Ksml.Runtime.Values.KsmlValues.To<byte[]>(new List<object> { 256L }, "bytes"));
        Assert.Throws<Ksml.Runtime.Values.KsmlTypeException>(() => Ksml.Runtime.Values.KsmlValues.To<byte[]>(new List<object> { "x" }, "bytes"));
    }

    [Test]
    public void Json_structures_become_dicts_and_lists_and_come_back_equal()
    {
        var value = JsonNode.Parse("""{"id":"o-1","qty":3,"price":9.5,"ok":true,"none":null,"tags":["a","b"],"nested":{"x":[1,{"y":2}]}}""")!;

        Assert.That(TypeOf.Value.Invoke(null, null, value), Is.EqualTo("dict"));
        var back = (JsonNode)Identity.Value.Invoke(null, null, value)!;
        Assert.That(JsonNode.DeepEquals(back, value), back.ToJsonString());
    }

    [Test]
    public void A_parsed_json_value_and_the_same_value_built_in_dotnet_look_the_same_to_python()
    {
        const string text = """{"id":"o-1","qty":3,"price":9.5,"ok":false,"none":null,"tags":["a",1,2.5,true,null,[]],"nested":{"x":[1,{"y":2}]},"caf\u00e9":"\u2713","":{}}""";
        var repr = Create(Definition("repr_of", "valueTransformer", ["key", "value"], expression: "repr(value)", resultType: "string"));
        var built = JsonNode.Parse(text)!.DeepClone(); // a clone is built node by node, with no parsed document behind it

        Assert.That(repr.Invoke(null, null, JsonNode.Parse(text)), Is.EqualTo(repr.Invoke(null, null, built)));
        Assert.That(repr.Invoke(null, null, JsonNode.Parse(text)), Does.Contain("'café': '✓'"));
    }

    [Test]
    public void A_parsed_json_value_changed_in_dotnet_reaches_python_with_the_change()
    {
        var value = JsonNode.Parse("""{"qty":3,"items":[1,2]}""")!;
        value["qty"] = 4;
        value["items"]!.AsArray().Add(3);
        var nested = JsonNode.Parse("""{"inner":{"a":1}}""")!;
        nested["inner"]!["b"] = 2;

        Assert.That(((JsonNode)Identity.Value.Invoke(null, null, value)!).ToJsonString(), Is.EqualTo("""{"qty":4,"items":[1,2,3]}"""));
        Assert.That(((JsonNode)Identity.Value.Invoke(null, null, nested)!).ToJsonString(), Is.EqualTo("""{"inner":{"a":1,"b":2}}"""));
    }

    [Test]
    public void A_function_changing_its_value_does_not_change_what_the_next_function_sees()
    {
        // The same parsed value reaching two functions is converted once and copied per call.
        var meddle = Create(Definition("meddle", "predicate", ["key", "value"],
            code: "value['qty'] = 99\nvalue['nested']['x'].append(3)\nvalue['items'][0]['id'] = 'changed'\nvalue.pop('keep')", expression: "True"));
        var value = JsonNode.Parse("""{"qty":3,"keep":"yes","nested":{"x":[1,2]},"items":[{"id":"a"}]}""")!;

        Assert.That(meddle.Invoke(null, null, value), Is.EqualTo(true));
        Assert.That(meddle.Invoke(null, null, value), Is.EqualTo(true), "the second call must not see the first call's changes either");
        Assert.That(((JsonNode)Identity.Value.Invoke(null, null, value)!).ToJsonString(),
            Is.EqualTo("""{"qty":3,"keep":"yes","nested":{"x":[1,2]},"items":[{"id":"a"}]}"""));
    }

    [Test]
    public void Json_strings_with_escapes_and_non_ascii_text_arrive_decoded()
    {
        var value = JsonNode.Parse("""{"quote":"say \"hi\"","accent":"caf\u00e9","raw":"ünïcödé ✓","path":"a\\b","empty":""}""")!;
        var f = Create(Definition("escapes", "valueTransformer", ["key", "value"], expression: "[value['quote'], value['accent'], value['raw'], value['path'], value['empty']]", resultType: "[string]"));

        Assert.That(f.Invoke(null, null, value), Is.EqualTo(new List<object?> { "say \"hi\"", "café", "ünïcödé ✓", "a\\b", "" }));
    }

    [Test]
    public void Python_sees_json_numbers_as_int_or_float_as_written()
    {
        var f = Create(Definition("kinds", "valueTransformer", ["key", "value"], expression: "[type(value['i']).__name__, type(value['f']).__name__]", resultType: "[string]"));

        Assert.That(f.Invoke(null, null, JsonNode.Parse("""{"i":3,"f":3.0}""")), Is.EqualTo(new object[] { "int", "float" }));
    }

    [Test]
    public void Integral_floats_stay_floats_through_json()
    {
        var f = Create(Definition("floats", "valueTransformer", ["key", "value"], expression: "{'total': value['a'] + 0.0, 'n': 3}", resultType: "json"));

        var result = (JsonNode)f.Invoke(null, null, Json("""{"a":3}"""))!;

        Assert.That(result.ToJsonString(), Is.EqualTo("""{"total":3.0,"n":3}"""));
        Assert.That(TypeOf.Value.Invoke(null, null, result["total"]), Is.EqualTo("float"));
    }

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    [Test]
    public void Tuples_come_back_as_arrays_and_lists_as_lists()
    {
        var f = Create(Definition("shapes", "valueTransformer", ["key", "value"], expression: "((key, value), [1, 'two', None], {'k': (1, 2)})", resultType: "any"));

        var result = (object?[])f.Invoke(null, "k", 5L)!;

        Assert.That(result[0], Is.EqualTo(new object?[] { "k", 5L }));
        Assert.That(result[1], Is.EqualTo(new List<object?> { 1L, "two", null }));
        Assert.That(((JsonNode)result[2]!).ToJsonString(), Is.EqualTo("""{"k":[1,2]}"""));
    }

    [Test]
    public void Dictionaries_with_non_string_keys_use_their_text()
    {
        var f = Create(Definition("int_keys", "valueTransformer", ["key", "value"], expression: "{1: 'a', 2: 'b'}", resultType: "json"));

        Assert.That(((JsonNode)f.Invoke(null, null, null)!).ToJsonString(), Is.EqualTo("""{"1":"a","2":"b"}"""));
    }

    [Test]
    public void Windowed_keys_arrive_as_ksml_describes_them()
    {
        var f = Create(Definition("window_of", "valueTransformer", ["key", "value"], expression: "[key['start'], key['end'], key['startTime'], key['key']]", resultType: "any"));
        var key = new Streamiz.Kafka.Net.State.Windowed<string>("sensor-1", new Streamiz.Kafka.Net.Stream.TimeWindow(1000, 61000));

        Assert.That(f.Invoke(null, key, null), Is.EqualTo(new object?[] { 1000L, 61000L, "1970-01-01T00:00:01.000Z", "sensor-1" }));
    }

    [Test]
    public void A_python_object_without_a_ksml_form_is_a_located_error()
    {
        var f = Create(Definition("returns_a_set", "valueTransformer", ["key", "value"], expression: "object()", resultType: "json", line: 44));

        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, null, null))!;

        Assert.That(error.Message, Does.StartWith("/defs/orders.ksml.yaml:44: function 'returns_a_set' failed with TypeError: A Python object cannot be returned"));
    }

    [Test]
    public void Integers_beyond_64_bits_are_refused_clearly()
    {
        var f = Create(Definition("huge", "valueTransformer", ["key", "value"], expression: "2 ** 70", resultType: "long"));

        Assert.That(() => f.Invoke(null, null, null), Throws.InstanceOf<KsmlFunctionException>().With.Message.Contains("does not fit in 64 bits"));
    }

    [TestCase(42L, typeof(string), "42")]
    [TestCase(true, typeof(string), "true")]
    [TestCase(1.0, typeof(string), "1.0")]
    [TestCase(4.5, typeof(string), "4.5")]
    [TestCase("42", typeof(long), 42L)]
    [TestCase("-7", typeof(int), -7)]
    [TestCase(3.0, typeof(long), 3L)]
    [TestCase("2.5", typeof(double), 2.5)]
    [TestCase(2L, typeof(double), 2.0)]
    [TestCase("true", typeof(bool), true)]
    public void A_result_is_converted_into_its_declared_primitive_type_as_KSML_converts_it(object value, Type target, object expected)
    {
        // KSML's docs producer returns an int key for keyType string; it wrote "expected a string, got int".
        Assert.That(Ksml.Runtime.Values.KsmlValues.To(value, target, "the result"), Is.EqualTo(expected));
    }

    [TestCase("4.5", typeof(long))]
    [TestCase(4.5, typeof(int))]
    [TestCase("many", typeof(double))]
    [TestCase("yes", typeof(bool))]
    [TestCase(1L, typeof(bool))]
    [TestCase(true, typeof(long))]
    public void A_conversion_that_would_lose_something_is_a_type_error(object value, Type target)
    {
        Assert.Throws<Ksml.Runtime.Values.KsmlTypeException>(() => Ksml.Runtime.Values.KsmlValues.To(value, target, "the result"));
    }

    [Test]
    public void A_string_holding_a_json_object_or_list_where_json_is_declared_is_that_object_or_list_as_in_KSML()
    {
        // KSML's flatMap producer returns json.dumps(batch) for a json value; its processor reads value['items'].
        Assert.That(Ksml.Runtime.Values.KsmlValues.To<JsonNode>("""{"items": [1, 2]}""", "the value")!.ToJsonString(), Is.EqualTo("""{"items":[1,2]}"""));
        Assert.That(Ksml.Runtime.Values.KsmlValues.To<JsonNode>(" [true]", "the value")!.ToJsonString(), Is.EqualTo("[true]"));
        Assert.That(Ksml.Runtime.Values.KsmlValues.To<JsonNode>("plain text", "the value")!.ToJsonString(), Is.EqualTo("\"plain text\""));
        Assert.That(Ksml.Runtime.Values.KsmlValues.To<JsonNode>("{not json", "the value")!.ToJsonString(), Is.EqualTo("\"{not json\""));
    }
}
