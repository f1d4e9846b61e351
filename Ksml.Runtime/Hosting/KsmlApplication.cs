using Ksml.Runtime.Definitions;
using Ksml.Runtime.Functions;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Stream;

namespace Ksml.Runtime.Hosting;

/// <summary>The entry point of a compiled KSML project.</summary>
public static class KsmlApplication
{
    /// <summary>Builds the topology of <paramref name="definitions"/> without running any function.</summary>
    public static Topology BuildTopology(IEnumerable<IKsmlDefinition> definitions, IKsmlFunctionFactory functions)
    {
        var builder = new StreamBuilder();
        var ksml = new KsmlTopologyBuilder(builder, functions);
        foreach (var definition in definitions)
            definition.Build(ksml);
        return builder.Build();
    }

    /// <summary>
    /// Runs the application. Today it supports <c>--describe</c>, which prints the compiled topology;
    /// running against a Kafka cluster arrives with the Python bridge and the application host.
    /// </summary>
    public static Task<int> RunAsync(string[] args, IReadOnlyList<IKsmlDefinition> definitions)
    {
        if (args.Contains("--describe"))
        {
            var topology = BuildTopology(definitions, new DescribeOnlyFunctionFactory());
            Console.WriteLine(topology.Describe());
            return Task.FromResult(0);
        }
        Console.Error.WriteLine("ksml: this build can describe its topology (--describe); running it needs the Python bridge, which is not part of this version yet.");
        foreach (var definition in definitions)
            Console.Error.WriteLine($"  {definition.Name} ({definition.SourcePath}): {definition.Functions.Count} functions");
        return Task.FromResult(2);
    }

    /// <summary>Lets a topology be built and described; its functions cannot be called.</summary>
    private sealed class DescribeOnlyFunctionFactory : IKsmlFunctionFactory
    {
        public IKsmlFunction Create(KsmlFunctionDefinition definition) => new DescribedFunction(definition);

        private sealed class DescribedFunction(KsmlFunctionDefinition definition) : IKsmlFunction
        {
            public KsmlFunctionDefinition Definition => definition;

            public object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments) =>
                throw new InvalidOperationException($"Function '{definition.Name}' was built only to describe the topology.");
        }
    }
}
