using Ksml.Runtime.Tests.Support;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>Several definitions in one application, as KSML's runner loads them: names are per definition.</summary>
[TestFixture]
public sealed class DefinitionNamespaceTests
{
    [Test]
    public void Two_definitions_with_the_same_pipeline_stream_and_table_names_run_side_by_side()
    {
        using var driver = new KsmlDriver([new ShippingKsml(), new BillingKsml()]);
        driver.Input<string, string>(ShippingKsml.Topics.rates).PipeInput("o1", "5 EUR");
        driver.Input<string, string>(BillingKsml.Topics.rates).PipeInput("o1", "7 EUR");
        driver.Input<string, string>(ShippingKsml.Topics.source).PipeInput("o1", "box");
        driver.Input<string, string>(BillingKsml.Topics.source).PipeInput("o1", "invoice");

        Assert.That(driver.Output<string, string>(ShippingKsml.Topics.target).ReadKeyValue().Message.Value, Is.EqualTo("shipped box at 5 EUR"));
        Assert.That(driver.Output<string, string>(BillingKsml.Topics.target).ReadKeyValue().Message.Value, Is.EqualTo("billed invoice at 7 EUR"));
    }
}
