namespace Ksml.Runtime.Values;

/// <summary>
/// How deep one value may nest, wherever the runtime walks a value recursively: the Python bridge in
/// both directions, the XML, Avro and JSON serdes. A deeper value (a cyclic Python list is infinitely
/// deep) is a <see cref="KsmlTypeException"/> that the stage's error policy handles like any other
/// failure, never a stack overflow that ends the process. Set from <c>ksml.limits.maxNestingDepth</c>.
/// </summary>
public static class ValueLimits
{
    /// <summary>The default: deeper than any record KSML's examples carry, far below what a stream thread's stack holds.</summary>
    public const int DefaultMaxDepth = 100;

    /// <summary>The most levels of dicts and lists (or XML elements) one value may have.</summary>
    public static int MaxDepth { get; private set; } = DefaultMaxDepth;

    /// <summary>Sets the limit for the process (the application host does, from the runner file).</summary>
    public static void Configure(int maxDepth) =>
        MaxDepth = maxDepth is >= 1 and <= MaxConfigurableDepth ? maxDepth : throw new ArgumentOutOfRangeException(nameof(maxDepth), maxDepth, $"from 1 to {MaxConfigurableDepth}");

    /// <summary>The highest limit that may be set: System.Text.Json writes at most 1000 levels.</summary>
    public const int MaxConfigurableDepth = 1000;

    /// <summary>JSON parsing within the limit (System.Text.Json's own default is 64).</summary>
    public static System.Text.Json.JsonDocumentOptions Json => new() { MaxDepth = MaxDepth };

    /// <summary>Fails when <paramref name="depth"/> is past the limit; <paramref name="what"/> names the value (never its content).</summary>
    public static void Check(int depth, string what)
    {
        if (depth > MaxDepth)
            throw new KsmlTypeException($"{what} nests deeper than {MaxDepth} levels (a value that contains itself?); raise ksml.limits.maxNestingDepth if such data is expected");
    }
}
