using Ksml.Compiler.Tests.Support;

namespace Ksml.Compiler.Tests.Parsing;

/// <summary>The tutorial writes operations directly on a pipeline; KSML ignores them silently, Ksml.NET treats them as 'via'.</summary>
public class CompactFormTests
{
    private const string Header = """
        streams:
          events:
            topic: events
            keyType: string
            valueType: json
          out:
            topic: out
            keyType: string
            valueType: json
        functions:
          keep:
            type: predicate
            expression: value is not None
          rekey:
            type: keyValueTransformer
            expression: (value["id"], value)
        pipelines:
          p:
            from: events

        """;

    [Test]
    public void Compact_and_via_forms_generate_the_same_topology()
    {
        var compact = Support.Ksml.Compile(Header + "    transformKeyValue: rekey\n    filter: keep\n    to: out\n");
        var via = Support.Ksml.Compile(Header + "    via:\n      - type: transformKeyValue\n        mapper: rekey\n      - type: filter\n        if: keep\n    to: out\n");

        Assert.That(compact.Diagnostics, Is.Empty);
        Assert.That(via.Diagnostics, Is.Empty);
        Assert.That(BuildMethod(compact.Source!), Does.Contain("KsmlTransformKeyValue").And.Contain("KsmlFilter"));
        Assert.That(WithoutLineDirectives(BuildMethod(compact.Source!)), Is.EqualTo(WithoutLineDirectives(BuildMethod(via.Source!))));
    }

    [Test]
    public void Compact_operations_apply_in_document_order()
    {
        var result = Support.Ksml.Compile(Header + "    filter: keep\n    transformKeyValue: rekey\n    to: out\n");
        var build = BuildMethod(result.Source!);
        Assert.That(build.IndexOf("KsmlFilter", StringComparison.Ordinal), Is.LessThan(build.IndexOf("KsmlTransformKeyValue", StringComparison.Ordinal)));
    }

    [Test]
    public void Inline_functions_are_accepted_in_both_forms()
    {
        var result = Support.Ksml.Compile(Header + "    filter:\n      expression: value is not None\n    via2: x\n".Replace("    via2: x\n", "    to: out\n"));
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Source, Does.Contain("Name: \"p_filter1_if\""));
    }

    [Test]
    public void A_stream_named_by_as_inside_a_branch_feeds_a_later_pipeline()
    {
        var result = Support.Ksml.Compile(Header + "    branch:\n      - if: keep\n        as: kept\n      - to: out\n  q:\n    from: kept\n    to: out\n");
        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(GeneratedCodeCompiler.Errors(result.Source!), Is.Empty);
        Assert.That(BuildMethod(result.Source!), Does.Contain("p_branch1.KsmlTo(ksml, Topics.@out"));
    }

    private static string BuildMethod(string source) => source.Substring(source.IndexOf("public void Build", StringComparison.Ordinal));

    private static string WithoutLineDirectives(string code) =>
        string.Join("\n", code.Split('\n').Where(l => !l.StartsWith("#line", StringComparison.Ordinal)));
}
