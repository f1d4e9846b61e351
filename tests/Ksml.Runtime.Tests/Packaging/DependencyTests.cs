namespace Ksml.Runtime.Tests.Packaging;

/// <summary>What the runtime is built on: it runs generated code and reads runner files, and never compiles KSML.</summary>
public class DependencyTests
{
    [Test]
    public void The_runtime_uses_no_compiler_type_only_the_shared_yaml_toolkit()
    {
        // A reference the code never uses is left out of the assembly's metadata, so this sees real uses only.
        var references = typeof(KsmlTopologyBuilder).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.That(references, Does.Not.Contain("Ksml.Compiler"), "generated code hands the runtime every type and function fact");
        Assert.That(references, Does.Contain("Ksml.Yaml"), "runner files are read with the toolkit definitions are read with");
    }
}
