using Ksml.Runtime.Functions;
using static Ksml.Runtime.Tests.Support.Python;

namespace Ksml.Runtime.Tests.Bridge;

/// <summary>Python errors point at the YAML: file, line, function, type, message and a YAML traceback.</summary>
public sealed class ErrorMappingTests
{
    [Test]
    public void An_exception_in_code_names_the_yaml_line_and_shows_the_yaml_text_with_carets()
    {
        // code starts at YAML line 12, indented 6: the failing statement is on line 13.
        var f = Create(Definition("order_total", "valueTransformer", ["key", "value"],
            code: "qty = value['qty']\ntotal = qty * value['price']", expression: "total", resultType: "double", codeLine: 12, column: 7));

        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", System.Text.Json.Nodes.JsonNode.Parse("""{"qty":2}""")))!;

        Assert.That(error.Message, Is.EqualTo("/defs/orders.ksml.yaml:13: function 'order_total' failed with KeyError: 'price'"));
        Assert.That((error.Line, error.ErrorType, error.Function), Is.EqualTo((13, "KeyError", "order_total")));
        Assert.That(error.PythonTraceback, Does.Contain("""File "/defs/orders.ksml.yaml", line 13, in order_total"""));
        // Python strips the line's indentation when it prints it and places the carets to match.
        Assert.That(error.PythonTraceback, Does.Contain("\n    total = qty * value['price']\n                  ~~~~~^^^^^^^^^\n"));
    }

    [Test]
    public void An_exception_in_the_expression_names_the_expression_line()
    {
        var f = Create(Definition("bad_expression", "predicate", ["key", "value"], expression: "value['missing'] > 1", resultType: "boolean", expressionLine: 34));

        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", System.Text.Json.Nodes.JsonNode.Parse("{}")))!;

        Assert.That((error.Line, error.ErrorType), Is.EqualTo((34, "KeyError")));
    }

    [Test]
    public void An_exception_raised_in_a_global_code_helper_names_the_helper_line_and_the_calling_line()
    {
        var f = Create(Definition("order_limits", "valueTransformer", ["key", "value"],
            globalCode: "def check(total):\n  if total > 100:\n    raise ValueError('order too large: {}'.format(total))",
            code: "check(value)", expression: "value", resultType: "long", globalLine: 11, codeLine: 18));

        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", 150L))!;

        Assert.That((error.Line, error.Function, error.ErrorType, error.ErrorMessage), Is.EqualTo((13, "order_limits", "ValueError", "order too large: 150")));
        Assert.That(error.PythonTraceback, Does.Contain("line 18, in order_limits").And.Contain("line 13, in check"));
    }

    [Test]
    public void A_syntax_error_stops_compilation_with_file_line_and_column()
    {
        var definition = Definition("broken", "predicate", ["key", "value"], code: "x = 1\nif x > 1\n  pass", expression: "True", resultType: "boolean", codeLine: 27, column: 7);

        var error = Assert.Throws<KsmlFunctionException>(() => Create(definition))!;

        Assert.That((error.SourcePath, error.Line, error.Column, error.ErrorType), Is.EqualTo(("/defs/orders.ksml.yaml", 28, 15, "SyntaxError")));
        Assert.That(error.Message, Is.EqualTo("/defs/orders.ksml.yaml:28:15: function 'broken' failed with SyntaxError: expected ':'"));
    }

    [Test]
    public void The_function_still_works_after_it_raised()
    {
        var f = Create(Definition("sometimes", "valueTransformer", ["key", "value"], expression: "10 // value", resultType: "long"));

        Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", 0L));
        Assert.That(f.Invoke(null, "k", 5L), Is.EqualTo(2L));
    }

    [Test]
    public void A_dotnet_failure_in_a_store_callback_is_attributed_to_the_yaml_line_that_called_it()
    {
        // No record is being processed, so the store is unreachable: the .NET exception travels through Python.
        var f = Create(Definition("uses_store", "valueTransformer", ["key", "value"], stores: ["totals"],
            code: "previous = totals.get(key)", expression: "previous", resultType: "long", codeLine: 40));

        var error = Assert.Throws<KsmlFunctionException>(() => f.Invoke(null, "k", 1L))!;

        Assert.That((error.Line, error.ErrorType), Is.EqualTo((40, "RuntimeError")));
        Assert.That(error.InnerException, Is.InstanceOf<InvalidOperationException>());
        Assert.That(error.ErrorMessage, Does.Contain("Store 'totals' is used outside a record"));
    }
}
