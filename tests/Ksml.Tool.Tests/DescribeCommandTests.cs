using static Ksml.Tool.Tests.ToolTestSupport;

namespace Ksml.Tool.Tests;

/// <summary>`ksml describe`: the topology a definition builds, for a person to read, in text, Mermaid and dot.</summary>
public sealed class DescribeCommandTests
{
    private static string Example(params string[] path) => Path.Combine([RepositoryRoot, "examples", .. path]);

    [Test]
    public void Word_count_is_described_by_its_operations_yaml_names_and_lines_with_the_repartition_a_key_change_brings()
    {
        var (exit, output) = RunKsml("describe", Example("WordCount", "word-count.ksml.yaml"));

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Producer sentence_producer (line 36) → topic sentences"));
        Assert.That(output, Does.Contain("Pipeline count_words (line 42) from stream sentences (topic sentences)"));
        Assert.That(output, Does.Contain("line 45   flatMap\n"), "the operation as written, not its canonical name");
        Assert.That(output, Does.Contain("line 49   groupByKey  [repartition topic]"), "flatMap changed the key, so the grouping repartitions");
        Assert.That(output, Does.Contain("line 54   to word_counts (topic word_counts)"));
    }

    [Test]
    public void Order_processing_in_mermaid_and_dot_shows_topics_shared_by_pipelines_and_the_stores_functions_use()
    {
        var file = Example("OrderProcessing", "order-processing.ksml.yaml");
        var (mermaidExit, mermaid) = RunKsml("describe", file, "--format", "mermaid");
        var (dotExit, dot) = RunKsml("describe", file, "--format", "dot");

        Assert.That((mermaidExit, dotExit), Is.EqualTo((0, 0)), mermaid + dot);
        Assert.That(mermaid, Does.StartWith("flowchart LR\n"));
        Assert.That(mermaid, Does.Contain("topic_validated_orders[(\"validated_orders\")]"));
        Assert.That(mermaid, Does.Contain("process_orders_0_transformKeyValue -.-> store_order_status_store"), "a function's store, dashed");
        Assert.That(mermaid, Does.Contain("process_orders_0_transformKeyValue --> |to| topic_validated_orders")
            .And.Contain("topic_validated_orders --> request_payments_0_transformKeyValueToKeyValueList"), "one pipeline's sink is the next one's source");
        Assert.That(dot, Does.StartWith("digraph \"order-processing\" {").And.Contain("shape=cylinder").And.EndWith("}\n"));
    }

    [Test]
    public void A_definition_that_does_not_compile_is_not_described_but_its_errors_are()
    {
        InWorkDirectory("ksml-describe", work =>
        {
            var file = Path.Combine(work, "broken.ksml.yaml");
            File.WriteAllText(file, "pipelines:\n  p:\n    from: nowhere\n    to: elsewhere\n");

            var (exit, output) = RunKsml("describe", file);

            Assert.That(exit, Is.EqualTo(1));
            Assert.That(output, Does.Contain("error KSML0100"));
        });
    }
}
