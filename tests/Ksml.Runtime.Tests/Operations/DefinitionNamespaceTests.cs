using Ksml.Runtime.Tests.Support;

namespace Ksml.Runtime.Tests.Operations;

/// <summary>Several definitions in one application, as KSML's runner loads them: names are per definition.</summary>
[TestFixture]
public sealed class DefinitionNamespaceTests
{
    [Test]
    public void Two_definitions_that_both_name_a_pipeline_main_run_side_by_side()
    {
        using var driver = new KsmlDriver([new ShippingKsml(), new BillingKsml()]);
        driver.Input<string, string>(ShippingKsml.Topics.shipments).PipeInput("o1", "box");
        driver.Input<string, string>(BillingKsml.Topics.invoices).PipeInput("o1", "invoice");

        Assert.That(driver.Output<string, string>(ShippingKsml.Topics.shipments_out).ReadKeyValue().Message.Value, Is.EqualTo("shipped box"));
        Assert.That(driver.Output<string, string>(BillingKsml.Topics.invoices_out).ReadKeyValue().Message.Value, Is.EqualTo("billed invoice"));
    }
}
