using Ksml.Build;

namespace Ksml.Compiler.Tests.Checking;

/// <summary>
/// The build-time Python check against the machine's Python (as <c>dotnet build</c> runs it): each finding with its
/// exact YAML place, and the names KSML gives a snippet accepted without a word.
/// </summary>
public class PythonCheckTests
{
    private static string[] Check(string yaml)
    {
        var report = PythonChecker.Check([(Support.Ksml.Path, yaml)], PythonChecker.Find(null), []);
        Assert.That(report.NotChecked, Is.Null, "the build machine has a Python");
        return report.Files.SelectMany(f => f.Diagnostics).Select(d => d.ToString().Replace("/project/", "")).ToArray();
    }

    private static string Definition(string functions, string operation = "filter: check") => $$"""
        streams:
          orders:
            topic: orders
            keyType: string
            valueType: json
        stores:
          seen:
            type: keyValue
            keyType: string
            valueType: long
        functions:
        {{functions}}
        pipelines:
          main:
            from: orders
            {{operation}}
            to: orders
        """;

    [Test]
    public void A_module_never_imported_is_reported_where_it_is_used_with_the_import_to_add()
    {
        var yaml = Definition("""
              check:
                type: predicate
                code: |
                  request_id = str(uuid.uuid4())
                  started = time.time()
                expression: request_id is not None and started > 0
            """);
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(15,24): error KSML0500: 'uuid' is not defined; add 'import uuid' to globalCode",
            "test.ksml.yaml(16,17): error KSML0500: 'time' is not defined; add 'import time' to globalCode",
        }));
        Assert.That(Check(yaml.Replace("    code: |", "    globalCode: |\n      import time\n      import uuid\n    code: |")), Is.Empty);
    }

    [Test]
    public void Every_name_KSML_gives_a_function_is_defined()
    {
        var yaml = Definition("""
              helper_from_other_global_code:
                type: predicate
                globalCode: |
                  import json
                  LIMIT = 10
                  def helper(x):
                      return json.dumps(x)
                expression: True
              check:
                type: predicate
                parameters:
                  - name: threshold
                    type: int
                stores:
                  - seen
                code: |
                  global counter
                  counter = 1
                  log.info("{} {}", key, helper(value))
                  metrics.counter("checked").increment()
                  with trace.span("check"):
                      headers = trace.headers()
                  total = seen.get(key) or stores["seen"].get(key)
                  ok = helper_from_other_global_code(key, value) and LIMIT > (threshold or 0)
                  squares = [n * n for n in range(3) if n < LIMIT]
                  later = lambda: counter + len(squares)
                expression: ok and total is not None and headers is not None and later() > 0 and isinstance(value, dict)
            """);
        Assert.That(Check(yaml), Is.Empty);
    }

    [Test]
    public void An_expression_after_code_that_always_returns_is_never_run_so_its_names_are_not_checked()
    {
        // KSML's documentation examples write `expression: result` after code that returns on every path.
        var yaml = Definition("""
              check:
                type: predicate
                code: |
                  if not value:
                      return False
                  else:
                      return value.get("status") == "paid"
                expression: result
            """);
        Assert.That(Check(yaml), Is.Empty);
        Assert.That(Check(yaml.Replace("      else:\n          return", "      status =")), Is.EqualTo(new[]
        {
            "test.ksml.yaml(18,17): error KSML0500: 'result' is not defined",
        }));
    }

    [Test]
    public void A_misspelt_name_gets_the_nearest_name_in_scope()
    {
        var yaml = Definition("""
              check:
                type: predicate
                expression: valeu is not None
            """);
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(14,17): error KSML0500: 'valeu' is not defined; did you mean 'value'?",
        }));
    }

    [Test]
    public void Fixed_parameters_follow_the_function_type()
    {
        var yaml = Definition("""
              add:
                type: aggregator
                expression: aggregatedValue + value1
              start:
                type: initializer
                expression: key
            """, "groupByKey: {}\n    aggregate:\n      initializer: start\n      aggregator: add\n    toStream: {}");
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(14,35): error KSML0500: 'value1' is not defined; did you mean 'value'?",
            "test.ksml.yaml(17,17): error KSML0500: 'key' is not defined",
        }));
    }

    [Test]
    public void A_syntax_error_is_located_where_Python_puts_it()
    {
        var yaml = Definition("""
              check:
                type: predicate
                code: |
                  if value:
                      x = 1
                    y = 2
                expression: "value['a'] >"
            """);
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(17,14): error KSML0501: Python syntax error in code: unindent does not match any outer indentation level",
            "test.ksml.yaml(18,30): error KSML0501: Python syntax error in expression: invalid syntax",
        }));
    }

    [Test]
    public void A_local_read_before_any_assignment_is_reported_but_a_loop_or_a_branch_is_not()
    {
        var yaml = Definition("""
              check:
                type: predicate
                code: |
                  result = total + 1
                  total = 0
                  for item in value.get("items", []):
                      if item:
                          print(previous)
                      previous = item
                  if key:
                      maybe = 1
                  count = 0
                  count += 1
                  first = [x for x in [1]]
                expression: result > 0 and maybe and count
            """);
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(15,16): error KSML0502: 'total' is used before it is assigned",
        }));
    }

    [Test]
    public void A_call_to_an_own_function_must_fit_its_parameters()
    {
        var yaml = Definition("""
              format_order:
                type: valueTransformer
                parameters:
                  - name: style
                    type: string
                expression: str(value)
              check:
                type: predicate
                code: |
                  a = format_order(key, value, style="short")
                  b = format_order(key)
                  c = format_order(key, value, colour="red")
                  d = format_order(key, value, "x", "y")
                expression: a and b and c and d
            """);
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(22,11): error KSML0503: 'format_order' (format_order(key, value, style)) is missing the argument 'value'",
            "test.ksml.yaml(23,11): error KSML0503: 'format_order' (format_order(key, value, style)) got an unexpected keyword argument 'colour'",
            "test.ksml.yaml(24,11): error KSML0503: 'format_order' (format_order(key, value, style)) takes at most 3 positional arguments but 4 were given",
        }));
    }

    [Test]
    public void A_module_the_build_python_lacks_is_a_warning_unless_an_import_error_is_handled()
    {
        var yaml = Definition("""
              check:
                type: predicate
                globalCode: |
                  import no_such_module_here
                  try:
                      import another_missing_module
                  except ImportError:
                      another_missing_module = None
                expression: True
            """);
        var found = Check(yaml);
        Assert.That(found, Has.Length.EqualTo(1));
        Assert.That(found[0], Does.StartWith("test.ksml.yaml(15,7): warning KSML0504: No module named 'no_such_module_here' is installed for "));
    }

    [Test]
    public void A_star_import_makes_no_name_undefined()
    {
        var yaml = Definition("""
              check:
                type: predicate
                globalCode: from math import *
                expression: floor(pi) == 3
            """);
        Assert.That(Check(yaml), Is.Empty);
    }

    [Test]
    public void Resilience_helpers_and_batched_functions_are_checked_with_their_own_parameters()
    {
        var yaml = Definition("""
              check:
                type: predicate
                expression: True
                resilience:
                  circuitBreaker:
                    failureRatio: 0.5
                    fallback: valu is None
              archive:
                type: forEach
                code: print(len(records), key)
                batch:
                  maxRecords: 10
                  maxWait: 100ms
            """, "filter: check\n    peek: archive");
        Assert.That(Check(yaml), Is.EqualTo(new[]
        {
            "test.ksml.yaml(18,19): error KSML0500: 'valu' is not defined; did you mean 'value'?",
            "test.ksml.yaml(21,31): error KSML0500: 'key' is not defined",
        }));
    }

    [Test]
    public void Hostile_python_gives_a_finding_not_a_crash()
    {
        var nested = new string('(', 3000) + "1" + new string(')', 3000);
        var yaml = Definition($$"""
              check:
                type: predicate
                expression: "{{nested}} > 0"
            """);
        var found = Check(yaml);
        Assert.That(found, Has.Length.EqualTo(1));
        Assert.That(found[0], Does.StartWith("test.ksml.yaml(14,").And.Contain("error KSML0501"));
    }

    [Test]
    public void Without_a_python_the_definitions_are_not_checked_and_the_report_says_why()
    {
        var report = PythonChecker.Check([(Support.Ksml.Path, Definition("  check:\n    type: predicate\n    expression: nope"))], null, []);
        Assert.That(report.NotChecked, Does.Contain("no Python was found"));
        Assert.That(report.Files, Is.Empty);
        var missing = PythonChecker.Check([(Support.Ksml.Path, Definition("  check:\n    type: predicate\n    expression: nope"))], "/nonexistent/python3", []);
        Assert.That(missing.NotChecked, Does.Contain("/nonexistent/python3"));
    }
}
