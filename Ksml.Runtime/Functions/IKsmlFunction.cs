using Ksml.Runtime.Definitions;
using Streamiz.Kafka.Net.Processors;

namespace Ksml.Runtime.Functions;

/// <summary>A callable KSML function. The Python bridge implements it; tests may supply their own.</summary>
public interface IKsmlFunction
{
    /// <summary>What the function was compiled from.</summary>
    KsmlFunctionDefinition Definition { get; }

    /// <summary>Calls the function with its fixed parameters in order; stores come from <paramref name="stores"/>.</summary>
    object? Invoke(IKsmlStoreProvider? stores, params object?[] arguments);
}

/// <summary>Builds callable functions from their definitions, once per function at topology build time.</summary>
public interface IKsmlFunctionFactory
{
    /// <summary>Creates (compiles) the function.</summary>
    IKsmlFunction Create(KsmlFunctionDefinition definition);
}

/// <summary>Gives a function the state stores it declared, from the processor it runs in.</summary>
public interface IKsmlStoreProvider
{
    /// <summary>The store registered under <paramref name="name"/>.</summary>
    IStateStore GetStore(string name);
}
