using System.Text.Json.Nodes;
using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Ksml.Runtime.Python;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>Functions compile once, keep their globalCode state, and get KSML's parameters and defaults.</summary>
public sealed class FunctionCompilationTests
{
    [Test]
    public void Global_code_runs_once_and_its_state_lives_across_calls()
    {
        var f = Create(Definition("numbered", "valueTransformer", ["key", "value"],
            globalCode: "import itertools\nsequence = itertools.count(1)", code: "n = next(sequence)", expression: "f'{value}-{n}'", resultType: "string"));

        Assert.That(f.Invoke(null, "k", "a"), Is.EqualTo("a-1"));
        Assert.That(f.Invoke(null, "k", "b"), Is.EqualTo("b-2"));
    }

    [Test]
    public void The_functions_of_a_definition_share_their_globals_as_in_ksml_and_other_definitions_do_not_see_them()
    {
        var factory = new PythonFunctionFactory();
        var helper = factory.Create(Definition("helper", "generic", [], globalCode: "greeted = []\ndef greet(name):\n  greeted.append(name)\n  return 'hello ' + name", resultType: null));
        var user = factory.Create(Definition("user", "valueTransformer", ["key", "value"], expression: "greet(value)", resultType: "string"));
        var counter = factory.Create(Definition("counter", "valueTransformer", ["key", "value"], expression: "len(greeted)", resultType: "long"));
        var elsewhere = factory.Create(Definition("elsewhere", "valueTransformer", ["key", "value"], expression: "'greet' in globals()", resultType: "boolean") with { Definition = "payments" });

        Assert.That(user.Invoke(null, null, "ada"), Is.EqualTo("hello ada"));
        Assert.That(counter.Invoke(null, null, null), Is.EqualTo(1L), "the list the helper's globalCode made is the one greet appends to");
        Assert.That(elsewhere.Invoke(null, null, null), Is.EqualTo(false));
        Assert.That(factory.Create(user.Definition), Is.SameAs(user), "a function is compiled once, so its globalCode runs once");
        Assert.That(helper.Definition.Name, Is.EqualTo("helper"));
    }

    [Test]
    public void A_function_calls_another_of_its_definition_by_name_with_its_extra_parameters_as_ksmls_examples_do()
    {
        // KSML's example 01: forEach: { code: log_message(key, value, format="AVRO") }, log_message being a function of the definition.
        var factory = new PythonFunctionFactory();
        factory.Create(Definition("describe", "valueTransformer", ["key", "value"], expression: "f'{format}:{key}={value}'", resultType: "string",
            parameters: [new KsmlParameter("format", "string", "'JSON'")]));
        var caller = factory.Create(Definition("caller", "valueTransformer", ["key", "value"], expression: "describe(key, value, format='AVRO') + ' ' + describe(key, value)", resultType: "string"));
        var elsewhere = factory.Create(Definition("elsewhere", "valueTransformer", ["key", "value"], expression: "'describe' in globals()", resultType: "boolean") with { Definition = "payments" });

        Assert.That(caller.Invoke(null, "k", "v"), Is.EqualTo("AVRO:k=v JSON:k=v"));
        Assert.That(elsewhere.Invoke(null, null, null), Is.EqualTo(false));
    }

    [Test]
    public void Every_fixed_parameter_is_passed_under_its_ksml_name_and_extra_parameters_get_their_defaults()
    {
        var f = Create(Definition("joiner", "valueJoiner", ["key", "value1", "value2"],
            parameters: [new KsmlParameter("separator", "string", "'+'"), new KsmlParameter("suffix", "string", null)],
            expression: "key + ':' + value1 + separator + value2 + str(suffix)", resultType: "string"));

        Assert.That(f.Invoke(null, "k", "a", "b"), Is.EqualTo("k:a+bNone"));
    }

    [Test]
    public void Code_may_return_on_its_own_before_the_expression()
    {
        var f = Create(Definition("early", "valueTransformer", ["key", "value"],
            code: "if value is None:\n  return 'none'", expression: "'some'", resultType: "string"));

        Assert.That(f.Invoke(null, "k", null), Is.EqualTo("none"));
        Assert.That(f.Invoke(null, "k", 1L), Is.EqualTo("some"));
    }

    [Test]
    public void Function_types_without_an_operation_on_streamiz_still_run_with_their_fixed_parameters()
    {
        // generator (producers), merger (session windows) and foreignKeyExtractor (foreign-key joins).
        var generator = Create(Definition("make_order", "generator", [], globalCode: "import itertools\nids = itertools.count(1)",
            code: "n = next(ids)", expression: "('order-' + str(n), {'id': n})", resultType: "(string, json)"));
        var merger = Create(Definition("merge_sessions", "merger", ["key", "value1", "value2"], expression: "value1 + value2", resultType: "long"));
        var extractor = Create(Definition("customer_of", "foreignKeyExtractor", ["value"], expression: "value['customer']", resultType: "string"));

        var first = (object?[])generator.Invoke(null)!;
        var second = (object?[])generator.Invoke(null)!;

        Assert.That((first[0], second[0]), Is.EqualTo(("order-1", "order-2")));
        Assert.That(((System.Text.Json.Nodes.JsonNode)second[1]!).ToJsonString(), Is.EqualTo("""{"id":2}"""));
        Assert.That(merger.Invoke(null, "k", 2L, 3L), Is.EqualTo(5L));
        Assert.That(extractor.Invoke(null, System.Text.Json.Nodes.JsonNode.Parse("""{"customer":"c-9"}""")), Is.EqualTo("c-9"));
    }

    [Test]
    [TestCase("requests")]
    [TestCase("psycopg2")]
    [TestCase("pika")]
    [TestCase("cachetools")]
    public void The_tutorials_python_packages_import_from_snippets(string module)
    {
        var f = Create(Definition("imports_" + module, "valueTransformer", ["key", "value"], globalCode: "import " + module, expression: module + ".__name__", resultType: "string"));

        Assert.That(f.Invoke(null, null, null), Is.EqualTo(module));
    }

    [Test]
    public void Debian_dist_packages_import_from_snippets()
    {
        var f = Create(Definition("yaml_user", "valueTransformer", ["key", "value"],
            globalCode: "import yaml", expression: "yaml.safe_load(value)", resultType: "json"));

        var result = f.Invoke(null, "k", "a: 1\nb: [x, y]");

        Assert.That(((JsonNode)result!).ToJsonString(), Is.EqualTo("""{"a":1,"b":["x","y"]}"""));
    }

    [Test]
    public void A_function_type_is_given_its_generic_parameters_only()
    {
        var f = Create(Definition("helper", "generic", [], parameters: [new KsmlParameter("x", "int", null)], expression: "x * 2", resultType: "int"));

        Assert.That(f.Invoke(null, 21L), Is.EqualTo(42L));
    }

    [Test]
    public void Each_function_is_compiled_once_per_definition_by_the_topology_builder()
    {
        var counting = new CountingFactory();
        var builder = new KsmlTopologyBuilder(new Streamiz.Kafka.Net.StreamBuilder(), counting);
        var definition = Definition("once", "predicate", ["key", "value"], expression: "True", resultType: "boolean");

        builder.Function(definition);
        builder.Function(definition);

        Assert.That(counting.Created, Is.EqualTo(1));
    }

    private sealed class CountingFactory : IKsmlFunctionFactory
    {
        public int Created { get; private set; }

        public IKsmlFunction Create(KsmlFunctionDefinition definition)
        {
            Created++;
            return Factory.Create(definition);
        }
    }
}
