using System.Text;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Parsing;

namespace Ksml.Compiler.Tests.Parsing;

/// <summary>
/// YAML built to hurt the compiler (which runs inside the build's compiler process) is a located
/// KSML0000, never a stack overflow or an exponential walk.
/// </summary>
public class HostileYamlTests
{
    private static string DeeplyNested(int depth) =>
        "streams:\n  s:\n    topic: " + new string('[', depth) + new string(']', depth) + "\n";

    /// <summary>Nine aliases to the level below at each of nine levels: 9^9 (387 million) nodes when expanded.</summary>
    private static string BillionLaughs()
    {
        var text = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 1; level <= 9; level++)
            text.Append($"a{level}: &a{level} [{string.Join(", ", Enumerable.Repeat($"*a{level - 1}", 9))}]\n");
        return text.Append("streams: {}\n").ToString();
    }

    [Test]
    public void A_definition_nested_a_hundred_thousand_levels_deep_is_a_located_error()
    {
        var diagnostics = Support.Ksml.Compile(DeeplyNested(100_000)).Diagnostics;

        var error = diagnostics.Single(d => d.Id == DiagnosticDescriptors.MalformedYaml.Id);
        Assert.That(error.Message, Does.Contain("nests deeper than 200 levels"));
        Assert.That(error.Span.Line, Is.EqualTo(3));
        // The first bracket (column 12) is the document's fourth level (depth 3); depth 201 is 198 brackets on.
        Assert.That(error.Span.Column, Is.EqualTo(12 + 198), "at the first bracket past the limit");
    }

    [Test]
    public void Nesting_within_the_limit_is_read()
    {
        var diagnostics = Support.Ksml.Compile(DeeplyNested(150)).Diagnostics;

        Assert.That(diagnostics.Select(d => d.Id), Has.None.EqualTo(DiagnosticDescriptors.MalformedYaml.Id));
    }

    [Test]
    public void An_alias_bomb_is_refused_before_it_expands()
    {
        var started = DateTime.UtcNow;
        var diagnostics = Support.Ksml.Compile(BillionLaughs()).Diagnostics;

        var error = diagnostics.Single(d => d.Id == DiagnosticDescriptors.MalformedYaml.Id);
        Assert.That(error.Message, Does.Contain("expand to more than 1,000,000 nodes"));
        Assert.That(error.Span.Line, Is.InRange(6, 10), "at the level where the expansion passes the limit");
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(20)), "not expanded");
    }

    [Test]
    public void A_test_suite_gets_the_same_limits()
    {
        var deep = new List<KsmlDiagnostic>();
        TestSuiteParser.Parse("/project/deep.test.yaml", "definition: a.ksml.yaml\ntests: " + new string('[', 50_000) + new string(']', 50_000), deep);
        var bomb = new List<KsmlDiagnostic>();
        TestSuiteParser.Parse("/project/bomb.test.yaml", BillionLaughs().Replace("streams: {}", "definition: a.ksml.yaml"), bomb);

        Assert.That(deep.Select(d => d.Message), Has.Some.Contain("nests deeper than 200 levels"));
        Assert.That(bomb.Select(d => d.Message), Has.Some.Contain("expand to more than"));
    }
}
