using Ksml.Compiler.Tests.Support;

namespace Ksml.Compiler.Tests.Checking;

/// <summary>One test per diagnostic: the exact MSBuild line a user sees.</summary>
public class DiagnosticTests
{
    private const string Streams = """
        streams:
          orders:
            topic: orders
            keyType: string
            valueType: json
          totals:
            topic: totals
            keyType: string
            valueType: long

        """;

    private static string[] Check(string yaml) => Support.Ksml.Diagnostics(yaml);

    [Test]
    public void KSML0000_unclosed_flow_collection_is_located_not_thrown()
    {
        Assert.That(Check("streams:\n  a: {topic: a\npipelines: {}\n"),
            Has.Exactly(1).Matches<string>(d => d.StartsWith("test.ksml.yaml(") && d.Contains("error KSML0000: Malformed YAML")));
    }

    [Test]
    public void KSML0000_bad_indentation()
    {
        Assert.That(Check("streams:\n  a:\n    topic: a\n   keyType: b\n"), Has.Some.Contains("error KSML0000"));
    }

    [Test]
    public void KSML0010_a_definition_without_pipelines_or_producers_warns()
    {
        Assert.That(Check(Streams), Is.EqualTo(new[]
        {
            "test.ksml.yaml(1,1): warning KSML0010: The definition has no pipelines and no producers, so it builds an empty topology",
        }));
    }

    [Test]
    public void KSML0001_unknown_key_suggests_the_closest()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    too: totals\n"), Does.Contain(
            "test.ksml.yaml(13,5): error KSML0001: Unknown key 'too' in pipeline 'p'. Did you mean 'to'?"));
    }

    [Test]
    public void KSML0002_missing_required_field()
    {
        Assert.That(Check("streams:\n  s:\n    keyType: string\n    valueType: json\npipelines:\n  p:\n    from: s\n    print:\n"), Does.Contain(
            "test.ksml.yaml(3,5): error KSML0002: stream 's' is missing the required field 'topic'"));
    }

    [Test]
    public void KSML0003_wrong_value_kind()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: [orders]\n    print:\n"), Does.Contain(
            "test.ksml.yaml(12,11): error KSML0003: 'from' must be a name or an inline topic definition, but is a list"));
    }

    [Test]
    public void KSML0004_duplicate_key()
    {
        Assert.That(Check("streams:\n  s:\n    topic: a\n    topic: b\n    keyType: string\n    valueType: string\npipelines:\n  p:\n    from: s\n    print:\n"), Does.Contain(
            "test.ksml.yaml(4,5): error KSML0004: Key 'topic' appears more than once in stream 's'; KSML 2.0 rejects duplicate keys and only one can take effect"));
    }

    [Test]
    public void KSML0005_duplicate_name_across_streams_and_tables()
    {
        Assert.That(Check(Streams + "tables:\n  orders:\n    topic: o2\npipelines:\n  p:\n    from: orders\n    print:\n"), Does.Contain(
            "test.ksml.yaml(11,3): error KSML0005: 'orders' is already defined as a stream at line 2; stream, table and globalTable names share one namespace"));
    }

    [Test]
    public void KSML0006_invalid_duration()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: windowByTime\n        windowType: tumbling\n        duration: 5 minutes\n      - type: count\n"), Does.Contain(
            "test.ksml.yaml(17,19): error KSML0006: '5 minutes' is not a valid duration; expected a whole number with an optional unit ms, s, m, h, d or w (no unit means milliseconds)"));
    }

    [Test]
    public void KSML0007_invalid_type_with_suggestion()
    {
        Assert.That(Check("streams:\n  s:\n    topic: a\n    keyType: strng\n    valueType: json\npipelines:\n  p:\n    from: s\n    print:\n"), Does.Contain(
            "test.ksml.yaml(4,14): error KSML0007: Invalid type 'strng': unknown type 'strng' (did you mean 'string'?)"));
    }

    [Test]
    public void KSML0007_a_notation_prefix_that_is_no_name()
    {
        Assert.That(Check("streams:\n  s:\n    topic: a\n    keyType: string\n    valueType: av.ro:Order\npipelines:\n  p:\n    from: s\n    print:\n"), Has.Some.Contains(
            "error KSML0007: Invalid type 'av.ro:Order': 'av.ro' is no notation name"));
    }

    [Test]
    public void KSML0017_a_notation_that_is_not_built_in_must_come_from_the_runner_config()
    {
        // KSML serves any name ksml.notations defines, so an unknown prefix is a warning that says what must hold.
        Assert.That(Check("streams:\n  s:\n    topic: a\n    keyType: string\n    valueType: avor:Order\npipelines:\n  p:\n    from: s\n    print:\n"), Does.Contain(
            "test.ksml.yaml(5,16): warning KSML0017: notation 'avor' is not built in (did you mean 'avro'?); the application starts only if the runner config defines it under ksml.notations (built in are avro, binary, csv, json, jsonschema, protobuf, xml, apicurio_avro, confluent_avro, apicurio_jsonschema, confluent_jsonschema, apicurio_protobuf, confluent_protobuf)"));
    }

    [Test]
    public void Vendor_notation_names_are_built_in_as_in_KSML()
    {
        foreach (var notation in new[] { "confluent_avro", "apicurio_avro", "apicurio_jsonschema", "confluent_protobuf", "apicurio_protobuf" })
            Assert.That(Check($"streams:\n  s:\n    topic: a\n    keyType: string\n    valueType: {notation}:Order\npipelines:\n  p:\n    from: s\n    print:\n"), Is.Empty, notation);
    }

    [Test]
    public void KSML0008_two_sinks()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    print:\n    as: x\n"), Does.Contain(
            "test.ksml.yaml(14,5): error KSML0008: Pipeline 'p' has more than one sink ('print' and 'as'); KSML would silently ignore one, so keep exactly one"));
    }

    [Test]
    public void KSML0009_mixed_forms()
    {
        Assert.That(Check(Streams + "functions:\n  f:\n    type: predicate\n    expression: True\npipelines:\n  p:\n    from: orders\n    via:\n      - type: filter\n        if: f\n    filter: f\n    print:\n"),
            Has.Some.Contains("error KSML0009: Pipeline 'p' lists operations both under 'via' and directly on the pipeline"));
    }

    [Test]
    public void KSML0100_undefined_stream_with_suggestion()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: ordrs\n    print:\n"), Does.Contain(
            "test.ksml.yaml(12,11): error KSML0100: Stream 'ordrs' is not defined in 'streams', 'tables' or 'globalTables', nor named by an earlier pipeline. Did you mean 'orders'?"));
    }

    [Test]
    public void KSML0101_undefined_table_in_join()
    {
        Assert.That(Check(Streams + "functions:\n  j:\n    type: valueJoiner\n    expression: value1\npipelines:\n  p:\n    from: orders\n    via:\n      - type: join\n        table: customers\n        valueJoiner: j\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(19,16): error KSML0101: Table 'customers' is not defined in 'tables'."));
    }

    [Test]
    public void KSML0103_undefined_function_with_suggestion()
    {
        Assert.That(Check(Streams + "functions:\n  is_valid:\n    type: predicate\n    expression: True\npipelines:\n  p:\n    from: orders\n    filter: is_not_null\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(17,13): error KSML0103: Function 'is_not_null' is not defined. Did you mean 'is_valid'?"));
    }

    [Test]
    public void KSML0104_undefined_store_in_function()
    {
        Assert.That(Check(Streams + "stores:\n  seen:\n    type: keyValue\n    keyType: string\n    valueType: long\nfunctions:\n  f:\n    type: forEach\n    code: pass\n    stores: [sen]\npipelines:\n  p:\n    from: orders\n    forEach: f\n"), Does.Contain(
            "test.ksml.yaml(19,14): error KSML0104: Store 'sen' is not defined in 'stores'. Did you mean 'seen'?"));
    }

    [Test]
    public void KSML0106_stream_used_before_its_pipeline()
    {
        Assert.That(Check(Streams + "pipelines:\n  second:\n    from: first\n    print:\n  first:\n    from: orders\n"), Does.Contain(
            "test.ksml.yaml(12,11): error KSML0106: Stream 'first' is produced by pipeline 'first' at line 15, which comes later in the file; pipelines are built in file order, so move it up"));
    }

    [Test]
    public void KSML0200_forEach_used_as_filter()
    {
        Assert.That(Check(Streams + "functions:\n  act:\n    type: forEach\n    code: pass\npipelines:\n  p:\n    from: orders\n    filter: act\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(17,13): error KSML0200: Function 'act' is a forEach, but 'filter' needs a predicate"));
    }

    [Test]
    public void KSML0200_aggregator_used_as_initializer()
    {
        Assert.That(Check(Streams + "functions:\n  agg:\n    type: aggregator\n    expression: aggregatedValue + 1\n    resultType: long\npipelines:\n  p:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: aggregate\n        initializer: agg\n        aggregator: agg\n      - type: toStream\n    to: totals\n"),
            Does.Contain("test.ksml.yaml(21,22): error KSML0200: Function 'agg' is an aggregator, but 'aggregate' needs an initializer"));
    }

    [Test]
    public void KSML0201_stores_on_a_reducer()
    {
        Assert.That(Check(Streams + "stores:\n  s1:\n    type: keyValue\n    keyType: string\n    valueType: long\nfunctions:\n  r:\n    type: reducer\n    expression: value1\n    stores: [s1]\npipelines:\n  p:\n    from: orders\n    print:\n"), Does.Contain(
            "test.ksml.yaml(19,13): error KSML0201: Function 'r' is a reducer, which cannot use state stores; only forEach, predicate and the transformer types can"));
    }

    [Test]
    public void KSML0202_windowByTime_on_an_ungrouped_stream()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    via:\n      - type: windowByTime\n        windowType: tumbling\n        duration: 1m\n"), Does.Contain(
            "test.ksml.yaml(14,15): error KSML0202: 'windowByTime' cannot be applied to a stream; it needs a grouped stream; group it first with groupByKey or groupBy"));
    }

    [Test]
    public void KSML0202_toStream_on_a_stream()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    toStream:\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(13,5): error KSML0202: 'toStream' cannot be applied to a stream; it needs a table; it is already a stream"));
    }

    [Test]
    public void KSML0202_merge_with_a_pipeline_that_outputs_a_table()
    {
        Assert.That(Check(Streams + "pipelines:\n  counts:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: count\n  p:\n    from: orders\n    via:\n      - type: merge\n        stream: counts\n    to: orders\n"), Is.EqualTo(new[]
        {
            "test.ksml.yaml(20,17): error KSML0202: 'merge' cannot be applied to a table 'counts'; it needs a stream",
        }));
    }

    [Test]
    public void Merge_with_a_pipeline_output_stream_of_the_same_types_is_accepted()
    {
        Assert.That(Check(Streams + "pipelines:\n  copy:\n    from: orders\n    via:\n      - type: peek\n        forEach:\n          code: pass\n  p:\n    from: orders\n    via:\n      - type: merge\n        stream: copy\n    to: orders\n"), Is.Empty);
    }

    [Test]
    public void KSML0202_aggregate_without_grouping()
    {
        Assert.That(Check(Streams + "functions:\n  init:\n    type: initializer\n    expression: 0\n    resultType: long\n  agg:\n    type: aggregator\n    expression: aggregatedValue + 1\n    resultType: long\npipelines:\n  p:\n    from: orders\n    via:\n      - type: aggregate\n        initializer: init\n        aggregator: agg\n"),
            Has.Some.Contains("error KSML0202: 'aggregate' cannot be applied to a stream; it needs a grouped or windowed stream, or a grouped table; group it first with groupByKey or groupBy"));
    }

    [Test]
    public void KSML0204_result_type_on_forEach()
    {
        Assert.That(Check(Streams + "functions:\n  f:\n    type: forEach\n    code: pass\n    resultType: string\npipelines:\n  p:\n    from: orders\n    forEach: f\n"), Does.Contain(
            "test.ksml.yaml(14,17): error KSML0204: Function 'f' is a forEach, which returns nothing; remove 'resultType'"));
    }

    [Test]
    public void KSML0206_mapper_without_code()
    {
        Assert.That(Check(Streams + "functions:\n  m:\n    type: keyValueMapper\n    resultType: string\npipelines:\n  p:\n    from: orders\n    groupBy: m\n    count:\n    toStream:\n    to: totals\n"), Does.Contain(
            "test.ksml.yaml(11,3): error KSML0206: Function 'm' is a keyValueMapper, which has no default; give it 'code' and/or 'expression'"));
    }

    [Test]
    public void KSML0300_to_a_topic_of_another_type()
    {
        Assert.That(Check(Streams + "pipelines:\n  p:\n    from: orders\n    to: totals\n"), Does.Contain(
            "test.ksml.yaml(13,9): error KSML0300: the value type of 'totals' (topic totals): expected 'long', but 'json' reaches it"));
    }

    [Test]
    public void KSML0301_join_with_different_key_types()
    {
        Assert.That(Check(Streams + "tables:\n  by_id:\n    topic: by_id\n    keyType: long\n    valueType: json\nfunctions:\n  j:\n    type: valueJoiner\n    expression: value1\n    resultType: json\npipelines:\n  p:\n    from: orders\n    via:\n      - type: join\n        table: by_id\n        valueJoiner: j\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(25,16): error KSML0301: Cannot join a stream keyed by 'string' with 'by_id', which is keyed by 'long'; re-key one side first (transformKey)"));
    }

    [Test]
    public void KSML0302_result_type_that_nothing_fixes()
    {
        Assert.That(Check(Streams + "functions:\n  enrich:\n    type: valueTransformer\n    code: return value\npipelines:\n  p:\n    from: orders\n    mapValues: enrich\n    print:\n"), Does.Contain(
            "test.ksml.yaml(11,3): error KSML0302: Cannot infer the result type of function 'enrich' from where it is used; add 'resultType' to it"));
    }

    [Test]
    public void Result_type_is_inferred_from_the_target_topic()
    {
        var result = Support.Ksml.Compile(Streams + "functions:\n  enrich:\n    type: valueTransformer\n    code: return 1\npipelines:\n  p:\n    from: orders\n    mapValues: enrich\n    to: totals\n");
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Source, Does.Contain("ResultType: KsmlDataType.Of<long?>(\"long\")"));
    }

    [Test]
    public void Sliding_windows_need_the_grouping_right_before_them_not_a_cogroup()
    {
        Assert.That(Check(Streams + "functions:\n  a:\n    type: aggregator\n    expression: aggregatedValue\n    resultType: long\n  i:\n    type: initializer\n    expression: 0\n    resultType: long\npipelines:\n  p:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: cogroup\n        aggregator: a\n      - type: windowByTime\n        windowType: sliding\n        timeDifference: 1m\n      - type: aggregate\n        initializer: i\n"),
            Has.Some.Contains("error KSML0400: windowByTime on a grouped stream from another pipeline or a cogroup is not supported"));
    }

    [Test]
    public void Session_windows_need_the_grouping_in_the_same_pipeline_and_an_aggregate_needs_a_merger()
    {
        var diagnostics = Check(Streams + "functions:\n  init:\n    type: initializer\n    expression: 0\n    resultType: long\n  add:\n    type: aggregator\n    expression: aggregatedValue + 1\n    resultType: long\n"
            + "pipelines:\n  grouped:\n    from: orders\n    via:\n      - type: groupByKey\n  p:\n    from: grouped\n    via:\n      - type: windowBySession\n        inactivityGap: 1m\n      - type: count\n"
            + "  q:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: windowBySession\n        inactivityGap: 1m\n      - type: aggregate\n        initializer: init\n        aggregator: add\n");

        Assert.That(diagnostics, Has.Some.Contains("error KSML0400: windowBySession on a grouped stream from another pipeline or a cogroup is not supported"));
        Assert.That(diagnostics, Has.Some.Contains("merger"));
        Assert.That(diagnostics.Count(d => d.Contains("error")), Is.EqualTo(2), string.Join("\n", diagnostics));
    }

    [Test]
    public void A_cogroup_ends_in_an_aggregate_whose_initializer_matches_its_aggregator()
    {
        const string functions = "functions:\n  a:\n    type: aggregator\n    expression: aggregatedValue + 1\n    resultType: long\n  text:\n    type: initializer\n    expression: '\"\"'\n    resultType: string\n";
        var diagnostics = Check(Streams + functions + "pipelines:\n"
            + "  counted:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: cogroup\n        aggregator: a\n      - type: windowByTime\n        windowType: tumbling\n        duration: 1m\n      - type: count\n"
            + "  mismatched:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: cogroup\n        aggregator: a\n      - type: aggregate\n        initializer: text\n");

        Assert.That(diagnostics, Has.Some.Contains("'count' cannot be applied to a cogrouped time-windowed grouped stream"));
        Assert.That(diagnostics, Has.Some.Contains("cogroup's aggregator 'a'"));
        Assert.That(diagnostics.Count(d => d.Contains("error")), Is.EqualTo(2), string.Join("\n", diagnostics));
    }

    [Test]
    public void A_windowed_key_on_a_topic_is_written_as_json_or_avro_as_in_ksml_and_in_no_other_notation()
    {
        Assert.That(Check("streams:\n  a:\n    topic: a\n    keyType: json:windowed(string)\n    valueType: long\n"), Has.None.Contains("error"));
        // KSML's own count example: avro:windowed(string); and a schema key, avro:windowed(SensorKey).
        Assert.That(Check("streams:\n  a:\n    topic: a\n    keyType: avro:windowed(string)\n    valueType: long\n"), Has.None.Contains("error"));
        Assert.That(Check("streams:\n  a:\n    topic: a\n    keyType: avro:windowed(SensorKey)\n    valueType: long\n"), Has.None.Contains("error"));
        Assert.That(Ksml.Compiler.Types.TypeParser.TryParse("avro:windowed(SensorKey)", out _)!.ToString(), Is.EqualTo("avro:windowed(avro:SensorKey)"));
        Assert.That(Ksml.Compiler.Types.TypeParser.TryParse("avro:windowed(avro:SensorKey)", out _)!.ToString(), Is.EqualTo("avro:windowed(avro:SensorKey)"),
            "the type's text reads back as itself");
        Assert.That(Check("streams:\n  a:\n    topic: a\n    keyType: xml:windowed(string)\n    valueType: long\n"),
            Has.Some.Contains("a windowed key is written as json:windowed(...) or avro:windowed(...), not as xml"));
    }

    [Test]
    public void A_function_of_another_type_fits_where_its_parameters_and_result_do_as_in_ksml()
    {
        const string mappers = "functions:\n  pair:\n    type: keyValueMapper\n    expression: (key, value)\n    resultType: (string, json)\n  text:\n    type: keyValueMapper\n    expression: key\n    resultType: string\n  after:\n    type: aggregator\n    expression: aggregatedValue\n    resultType: json\n";
        var diagnostics = Check(Streams + mappers + "pipelines:\n  fits:\n    from: orders\n    via:\n      - type: map\n        mapper: pair\n    to: orders\n"
            + "  wrong_result:\n    from: orders\n    via:\n      - type: map\n        mapper: text\n    to: orders\n"
            + "  wrong_parameters:\n    from: orders\n    via:\n      - type: mapValues\n        mapper: after\n    to: orders\n");

        Assert.That(diagnostics.Where(d => d.Contains("error")), Is.EqualTo(new[]
        {
            "test.ksml.yaml(34,17): error KSML0200: Function 'text' is a keyValueMapper, but 'map' needs a keyValueTransformer",
            "test.ksml.yaml(40,17): error KSML0200: Function 'after' is an aggregator, but 'mapValues' needs a valueTransformer",
        }), string.Join("\n", diagnostics));
    }

    [Test]
    public void A_store_setting_of_another_store_type_is_a_warning_as_ksml_ignores_it_and_data_is_a_python_literal()
    {
        var yaml = Streams + """
            functions:
              init:
                type: initializer
                expression:
                  name: 'a "b"'
                  flags: [true, null, 2.5]
                resultType: json
              add:
                type: aggregator
                expression: aggregatedValue
                resultType: json
            pipelines:
              p:
                from: orders
                via:
                  - type: groupByKey
                  - type: aggregate
                    initializer: init
                    aggregator: add
                    store:
                      name: s
                      type: keyValue
                      retention: 3m
            """;

        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(32,11): warning KSML0014: 'retention' has no effect in the store of operation 'aggregate' (a keyValue store): it applies to window or session stores only (KSML ignores it too)",
        }));
        var init = Support.Ksml.Compile(yaml).Model!.Functions.Single(f => f.Name == "init");
        Assert.That(init.Syntax.Expression!.Text, Is.EqualTo("""{"name": "a \"b\"", "flags": [True, None, 2.5]}"""));
    }

    [Test]
    public void KSML0400_a_global_table_in_a_versioned_store_but_not_a_table_or_a_versioned_store_functions_use()
    {
        const string Store = "stores:\n  history:\n    type: keyValue\n    versioned: true\n    keyType: string\n    valueType: string\n";
        var forFunctions = Store + "streams:\n  s:\n    topic: a\n    keyType: string\n    valueType: string\npipelines:\n  p:\n    from: s\n    forEach:\n      stores: [history]\n      code: history.put(key, value, 1)\n";
        Assert.That(Check(forFunctions), Is.Empty, "KSML's versioned store for functions builds");
        var table = Store + "tables:\n  t:\n    topic: a\n    keyType: string\n    valueType: string\n    store: history\npipelines:\n  p:\n    from: t\n    toStream:\n    print:\n";
        Assert.That(Check(table), Is.Empty, "a table kept in a versioned store builds");
        var global = Store + "globalTables:\n  t:\n    topic: a\n    keyType: string\n    valueType: string\n    store: history\nstreams:\n  s:\n    topic: b\n    keyType: string\n    valueType: string\n"
            + "pipelines:\n  p:\n    from: s\n    via:\n      - type: join\n        globalTable: t\n        mapper:\n          expression: key\n          resultType: string\n        valueJoiner:\n          expression: value1\n          resultType: string\n    print:\n";
        Assert.That(Check(global), Has.Some.Contains("error KSML0400: A global table or an operation materialized in a versioned key-value store is not supported"));
    }

    [Test]
    public void A_foreign_key_join_is_a_join_of_two_tables_whose_extractor_returns_the_right_key()
    {
        const string Tables = "tables:\n  a:\n    topic: a\n    keyType: string\n    valueType: json\n  b:\n    topic: b\n    keyType: long\n    valueType: json\n"
            + "streams:\n  s:\n    topic: s\n    keyType: string\n    valueType: json\n"
            + "functions:\n  fk:\n    type: foreignKeyExtractor\n    expression: value['b']\n    resultType: long\n  text_fk:\n    type: foreignKeyExtractor\n    expression: value['b']\n    resultType: string\n"
            + "  j:\n    type: valueJoiner\n    expression: value1\n    resultType: json\n";
        Assert.That(Check(Tables + "pipelines:\n  p:\n    from: a\n    via:\n      - type: leftJoin\n        table: b\n        foreignKeyExtractor: fk\n        valueJoiner: j\n"), Is.Empty,
            "the keys differ (string and long): the extractor's result is what meets the right table's key");
        Assert.That(Check(Tables + "pipelines:\n  p:\n    from: a\n    via:\n      - type: join\n        table: b\n        foreignKeyExtractor: text_fk\n        valueJoiner: j\n"),
            Has.Some.Contains("error KSML0300: the key the foreignKeyExtractor of 'join' returns for table 'b'"));
        Assert.That(Check(Tables + "pipelines:\n  p:\n    from: s\n    via:\n      - type: join\n        table: b\n        foreignKeyExtractor: fk\n        valueJoiner: j\n"),
            Has.Some.Contains("warning KSML0020: 'foreignKeyExtractor' has no effect in a join of a stream with a table: the stream joins on its own key, as in KSML")
                .And.Some.Contains("error KSML0301"), "KSML ignores the extractor on a stream, so the keys (string and long) must match");
        Assert.That(Check(Tables + "pipelines:\n  p:\n    from: a\n    via:\n      - type: outerJoin\n        table: b\n        foreignKeyExtractor: fk\n        valueJoiner: j\n"),
            Has.Some.Contains("'outerJoin with a foreignKeyExtractor' cannot be applied to a table; it needs join or leftJoin: Kafka Streams has no foreign-key outer join"));
        // A join's partitioners were read and then ignored without a word; a foreign-key join would have met the wrong partitions.
        Assert.That(Check(Tables + "  part:\n    type: streamPartitioner\n    expression: 0\n"
                + "pipelines:\n  p:\n    from: a\n    via:\n      - type: join\n        table: b\n        foreignKeyExtractor: fk\n        valueJoiner: j\n        otherPartitioner: part\n"),
            Has.Exactly(1).Contains("error KSML0400: 'otherPartitioner' on a foreign-key join is not supported"));
        Assert.That(Check(Tables + "pipelines:\n  p:\n    from: a\n    via:\n      - type: join\n        table: a\n        valueJoiner: j\n        partitioner: no_such_partitioner\n"),
            Has.Exactly(1).Contains("error KSML0103: Function 'no_such_partitioner' is not defined"));
    }

    [Test]
    public void A_stream_outer_joined_with_a_global_table_is_refused_as_Kafka_Streams_has_no_such_join()
    {
        // It used to build, and ran as an inner join: records without a partner were silently dropped.
        const string Definition = "streams:\n  s:\n    topic: s\n    keyType: string\n    valueType: json\n"
            + "globalTables:\n  g:\n    topic: g\n    keyType: string\n    valueType: json\n"
            + "functions:\n  j:\n    type: valueJoiner\n    expression: value1\n    resultType: json\n  m:\n    type: keyValueMapper\n    expression: key\n    resultType: string\n"
            + "pipelines:\n  p:\n    from: s\n    via:\n      - type: {0}\n        globalTable: g\n        mapper: m\n        valueJoiner: j\n    to: s\n";
        Assert.That(Check(Definition.Replace("{0}", "leftJoin")), Is.Empty);
        Assert.That(Check(Definition.Replace("{0}", "outerJoin")),
            Has.Exactly(1).Contains("error KSML0202: 'outerJoin with a globalTable' cannot be applied to a stream; it needs join or leftJoin: Kafka Streams has no outer join with a global table"));
    }

    [Test]
    public void KSML0000_python_with_a_colon_in_a_plain_scalar_says_where_and_how_to_quote_it()
    {
        var diagnostics = Check(Streams + "functions:\n  pair:\n    type: keyValueMapper\n    expression: (\"k\", {\"n\": value})\n    resultType: (string, json)\n");

        Assert.That(diagnostics, Has.Exactly(1).Items);
        Assert.That(diagnostics[0], Does.StartWith("test.ksml.yaml(13,27): error KSML0000: Malformed YAML: the Python of 'expression' holds ': ' at column 27, which YAML reads as the start of a mapping; quote the whole value (expression: '(\"k\", {\"n\": value})'"));
        Assert.That(diagnostics[0], Does.Contain("or write it as a block (expression: |"));
    }

    [Test]
    public void KSML0011_function_name_is_not_a_python_identifier()
    {
        Assert.That(Check(Streams + "functions:\n  is-valid:\n    type: predicate\n    expression: True\npipelines:\n  p:\n    from: orders\n    print:\n"), Does.Contain(
            "test.ksml.yaml(11,3): error KSML0011: Function 'is-valid' must be a Python identifier (letters, digits and '_', not starting with a digit) because Python code refers to it by name"));
    }

    private const string Resilient = Streams + """
        stores:
          seen:
            type: keyValue
            keyType: string
            valueType: long
        functions:
          lookup:
            type: valueTransformer
            stores: [seen]
            expression: value
            resultType: json
            resilience:
              timeout: 0ms
              retry:
                maxAtempts: 3
                on: [ConnectionError, "not a class"]
              circuitBreaker:
                failureRatio: 2
              cache:
                ttl: 5m
        pipelines:
          p:
            from: orders
            via:
              - type: transformValue
                mapper: lookup
            to: orders

        """;

    private static string CachedBy(string key, string expression) => $$"""
        streams:
          orders:
            topic: orders
            keyType: string
            valueType: json
        functions:
          enrich:
            type: valueTransformer
            globalCode: |
              API = "http://api"
            expression: {{expression}}
            resultType: json
            resilience:
              cache:
                ttl: 5m
                key: {{key}}
        pipelines:
          p:
            from: orders
            via:
              - type: transformValue
                mapper: enrich
            to: orders

        """;

    [Test]
    public void KSML0016_a_cache_key_that_leaves_out_a_parameter_the_result_uses()
    {
        var diagnostics = Check(CachedBy("key", "'dict(value, customer=lookup(f\"{API}/customers/{key}\"))'"));

        Assert.That(diagnostics, Is.EqualTo(new[]
        {
            "test.ksml.yaml(16,14): warning KSML0016: function 'enrich' uses 'value' but its cache key 'key' does not, so a later call with the same key gets an earlier call's result; put 'value' in the key, or leave 'key' out to key by every argument",
        }));
    }

    [TestCase("key", "'lookup(f\"{API}/customers/{key}\")'")]
    [TestCase("(key, value[\"region\"])", "'lookup(key, value[\"region\"])'")]
    [TestCase("key", "'lookup(key, \"value\")  # value is only a word here'")]
    public void KSML0016_not_when_the_key_covers_every_parameter_the_result_uses(string key, string expression)
    {
        Assert.That(Check(CachedBy(key, expression)), Is.Empty);
    }

    private const string Concurrent = Streams + """
        stores:
          seen:
            type: keyValue
            keyType: string
            valueType: long
        functions:
          enrich:
            type: valueTransformer
            expression: value
            concurrency:
              maxInFlight: 64
              order: key
          total:
            type: aggregator
            expression: aggregatedValue + 1
            resultType: long
            concurrency:
              maxInFlight: 4
          remember:
            type: forEach
            stores: [seen]
            code: seen.put(key, 1)
            concurrency:
              order: sideways
        pipelines:
          enriched:
            from: orders
            via:
              - type: transformValue
                mapper: enrich
              - type: peek
                forEach: remember
            to: orders
          branched:
            from: orders
            branch:
              - if:
                  type: predicate
                  expression: True
                  concurrency: {maxInFlight: 2}
                to: orders

        """;

    [Test]
    public void KSML0018_concurrency_only_where_calls_can_overlap()
    {
        var diagnostics = Check(Concurrent);

        Assert.That(diagnostics, Is.EquivalentTo(new[]
        {
            "test.ksml.yaml(27,7): error KSML0018: concurrency: an aggregator cannot run concurrently: its operation needs each call's result before it can take the next record; concurrency applies to the function types whose operation forwards one result per record or none (valueTransformer, keyTransformer, keyValueTransformer, keyValueToKeyValueListTransformer, keyValueToValueListTransformer, predicate, forEach)",
            "test.ksml.yaml(33,14): error KSML0006: 'sideways' is not a valid concurrency order; expected key (one key's records in offset order), partition (outputs in offset order per partition) or none (as calls complete)",
            "test.ksml.yaml(33,7): error KSML0018: concurrency: function 'remember' uses stores, which belong to the stream task and cannot be used from calls running at once",
            "test.ksml.yaml(47,11): error KSML0018: concurrency: 'branched_branch1_if' declares concurrency, but branch here calls it one record at a time (concurrent calls are for filter, transform*, peek and forEach on a stream); use a function without concurrency here",
        }));
    }

    [Test]
    public void KSML0019_batch_only_on_a_forEach_sink()
    {
        var diagnostics = Check(Streams + """
            functions:
              persist:
                type: forEach
                code: write(records)
                batch: {maxRecords: 500, maxWait: 100ms}
              shape:
                type: valueTransformer
                expression: value
                batch: {maxRecords: 10}
            pipelines:
              peeked:
                from: orders
                via:
                  - type: peek
                    forEach: persist
                  - type: transformValue
                    mapper: shape
                to: orders
              sunk:
                from: orders
                forEach: persist

            """);

        Assert.That(diagnostics, Is.EquivalentTo(new[]
        {
            "test.ksml.yaml(18,12): error KSML0019: batch: a valueTransformer gives a result per record, which a batch cannot map back; batch applies to a forEach",
            "test.ksml.yaml(24,18): error KSML0019: batch: 'persist' gathers records, but peek here calls it for each record (a batch is for a pipeline's forEach sink); use a function without batch here",
            "test.ksml.yaml(26,17): error KSML0019: batch: 'shape' gathers records, but transformValue here calls it for each record (a batch is for a pipeline's forEach sink); use a function without batch here",
        }));
    }

    [Test]
    public void KSML0012_resilience_settings_that_cannot_apply_are_located()
    {
        var diagnostics = Check(Resilient);

        Assert.That(diagnostics, Does.Contain("test.ksml.yaml(22,16): error KSML0012: resilience.timeout: a timeout must be longer than 0ms"));
        Assert.That(diagnostics, Does.Contain("test.ksml.yaml(25,31): error KSML0012: resilience.retry.on: list Python exception class names, such as ConnectionError or Timeout"));
        Assert.That(diagnostics, Does.Contain("test.ksml.yaml(29,9): error KSML0012: resilience.cache: function 'lookup' uses stores, so its result depends on more than its arguments and cannot be cached"));
        Assert.That(diagnostics, Has.Some.StartsWith("test.ksml.yaml(24,9): error KSML0001: Unknown key 'maxAtempts'").And.Some.Contains("maxAttempts"));
        Assert.That(diagnostics, Does.Contain("test.ksml.yaml(27,23): error KSML0006: '2' is not a valid failure ratio; expected a number above 0 and at most 1, such as 0.5"));
        Assert.That(diagnostics, Has.Length.EqualTo(5));
    }

    [Test]
    public void KSML0012_a_rate_limit_needs_its_permits_and_a_period()
    {
        var diagnostics = Check(Streams + "functions:\n  call:\n    type: valueTransformer\n    expression: value\n    resilience:\n      rateLimit: {per: 0ms}\npipelines:\n  p:\n    from: orders\n    via:\n      - type: transformValue\n        mapper: call\n    to: orders\n");

        Assert.That(diagnostics, Has.Length.EqualTo(2));
        Assert.That(diagnostics, Has.Some.Contains("error KSML0012: resilience.rateLimit.per: the period must be longer than 0ms"));
        Assert.That(diagnostics, Has.Some.Contains("'permits'"));
    }

    [Test]
    public void KSML0012_a_forEach_has_no_result_to_cache_or_fall_back_to()
    {
        var diagnostics = Check(Streams + "functions:\n  audit:\n    type: forEach\n    code: x = 1\n    resilience:\n      circuitBreaker:\n        fallback: None\n      cache:\n        ttl: 1m\npipelines:\n  p:\n    from: orders\n    forEach: audit\n");

        Assert.That(diagnostics, Is.EquivalentTo(new[]
        {
            "test.ksml.yaml(18,9): error KSML0012: resilience.cache: a forEach returns nothing to cache",
            "test.ksml.yaml(16,19): error KSML0012: resilience.circuitBreaker.fallback: a forEach has no result to fall back to; without a fallback an open breaker skips the call",
        }));
    }

    [Test]
    public void KSML0102_undefined_global_table()
    {
        Assert.That(Check(Streams + "functions:\n  m:\n    type: keyValueMapper\n    expression: key\n    resultType: string\n  j:\n    type: valueJoiner\n    expression: value1\n    resultType: json\npipelines:\n  p:\n    from: orders\n    via:\n      - type: join\n        globalTable: products\n        mapper: m\n        valueJoiner: j\n    to: orders\n"), Does.Contain(
            "test.ksml.yaml(24,22): error KSML0102: Global table 'products' is not defined in 'globalTables'."));
    }

    [Test]
    public void KSML0203_window_store_for_a_key_value_count()
    {
        Assert.That(Check(Streams + "stores:\n  w:\n    type: window\n    keyType: string\n    valueType: long\n    windowSize: 1m\npipelines:\n  p:\n    from: orders\n    via:\n      - type: groupByKey\n      - type: count\n        store: w\n      - type: toStream\n    to: totals\n"), Does.Contain(
            "test.ksml.yaml(22,16): error KSML0203: Store 'w' is a window store, but 'count' needs a keyValue store"));
    }

    [Test]
    public void KSML0205_key_value_transformer_returning_a_plain_type()
    {
        Assert.That(Check(Streams + "functions:\n  kv:\n    type: keyValueTransformer\n    expression: (key, value)\n    resultType: string\npipelines:\n  p:\n    from: orders\n    map: kv\n    to: orders\n"), Has.Some.Contains(
            "error KSML0205: Function 'kv' is a keyValueTransformer, so its resultType must be a (key, value) tuple such as '(string, json)', but it is 'string'"));
    }

    [Test]
    public void KSML0207_default_branch_before_another()
    {
        Assert.That(Check(Streams + "functions:\n  f:\n    type: predicate\n    expression: True\npipelines:\n  p:\n    from: orders\n    branch:\n      - print:\n      - if: f\n        print:\n"), Has.Some.Contains(
            "error KSML0207: This branch comes after a branch without 'if', which already takes every record; move the default branch last"));
    }

    private static string[] CheckSuite(string yaml)
    {
        var diagnostics = new List<Compiler.Diagnostics.KsmlDiagnostic>();
        Compiler.Parsing.TestSuiteParser.Parse("orders.test.yaml", yaml, diagnostics);
        return diagnostics.Select(d => d.ToString()).ToArray();
    }

    private const string Suite = """
        definition: orders.ksml.yaml
        streams:
          orders: {topic: orders, valueType: json}
        tests:
          first:
            produce:
              - to: orders
                messages:
                  - {key: a, value: 1}
            assert:
              - on: orders
                code: assert records
        """;

    [Test]
    public void A_well_formed_suite_has_no_diagnostics()
    {
        Assert.That(CheckSuite(Suite), Is.Empty);
    }

    [Test]
    public void KSML0013_a_produce_block_with_both_messages_and_a_generator()
    {
        var yaml = Suite.Replace("      - to: orders\n", "      - to: orders\n        generator: {expression: '(1, 2)'}\n");
        Assert.That(CheckSuite(yaml), Is.EqualTo(new[]
        {
            "orders.test.yaml(8,9): error KSML0013: 'messages' and 'generator' cannot both be given in a produce block",
        }));
    }

    [Test]
    public void KSML0107_a_suite_naming_an_undeclared_stream()
    {
        Assert.That(CheckSuite(Suite.Replace("on: orders", "on: order")), Is.EqualTo(new[]
        {
            "orders.test.yaml(11,13): error KSML0107: Stream 'order' is not declared in the suite's 'streams'. Did you mean 'orders'?",
        }));
    }

    [Test]
    public void Suite_shape_errors_reuse_the_definition_diagnostics()
    {
        var errors = CheckSuite(Suite.Replace("tests:", "test:").Replace("definition:", "definitions:"));
        Assert.That(errors, Has.Some.Contains("error KSML0001: Unknown key 'test' in the test suite. Did you mean 'tests'?"));
        Assert.That(errors, Has.Some.Contains("error KSML0002: the test suite is missing the required field 'definition'"));
    }

    [Test]
    public void Suite_rules_of_KSMLs_test_runner_two_streams_on_one_topic_an_empty_stores_list_a_generator_name_that_is_no_identifier()
    {
        var twoStreams = Suite.Replace("  orders: {topic: orders, valueType: json}\n", "  orders: {topic: orders, valueType: json}\n  again: {topic: orders}\n");
        Assert.That(CheckSuite(twoStreams), Is.EqualTo(new[]
        {
            "orders.test.yaml(4,10): error KSML0006: 'orders' is not a valid topic for stream 'again'; expected a topic no other stream of the suite has; 'orders' already reads and writes it",
        }));
        Assert.That(CheckSuite(Suite.Replace("      - on: orders\n", "      - stores: []\n")), Has.Some.Contains(
            "error KSML0002: the assert block is missing the required field 'on' or a non-empty 'stores'"));
        var named = Suite.Replace("        messages:\n          - {key: a, value: 1}\n", "        generator: {name: NAME, expression: '(1, 2)'}\n");
        Assert.That(CheckSuite(named.Replace("NAME", "make_orders")), Is.Empty, "KSML's generators may have a name");
        Assert.That(CheckSuite(named.Replace("NAME", "42")), Has.Some.Contains("error KSML0011: the generator's name '42' must be a Python identifier"));
    }

    [TestCase("")]
    [TestCase("# only a comment\n")]
    public void An_empty_suite_is_missing_its_definition_and_tests_rather_than_passing_with_none(string yaml)
    {
        Assert.That(CheckSuite(yaml), Is.EqualTo(new[]
        {
            "orders.test.yaml(1,1): error KSML0002: the test suite is missing the required field 'definition'",
            "orders.test.yaml(1,1): error KSML0002: the test suite is missing the required field 'tests'",
        }));
    }

    [Test]
    public void Every_diagnostic_id_is_documented()
    {
        var doc = File.ReadAllText(Path.Combine(Support.Ksml.RepositoryRoot, "docs", "diagnostics.md"));
        foreach (var descriptor in Compiler.Diagnostics.DiagnosticDescriptors.All)
            Assert.That(doc, Does.Contain(descriptor.Id + " |"), descriptor.Id + " is missing from docs/diagnostics.md");
    }
}
