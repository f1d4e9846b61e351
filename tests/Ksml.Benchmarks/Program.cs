using Ksml.Benchmarks;

// Prints one `name: value` line per figure, so scripts can collect them.
var what = args.FirstOrDefault() ?? "bridge";
var quick = args.Contains("--quick");
switch (what)
{
    case "bridge":
    {
        var (trivial, shaped, jsonStore, conversion) = BridgeBenchmark.Run(records: quick ? 20_000 : 100_000, rounds: quick ? 5 : 9);
        Console.WriteLine($"bridge us per record: {shaped:F2}");
        Console.WriteLine($"bridge trivial us per record: {trivial:F2}");
        Console.WriteLine($"bridge json store us per record: {jsonStore:F2}");
        Console.WriteLine($"bridge conversion only us per record: {conversion:F2}");
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown benchmark '{what}'; known: bridge");
        return 2;
}
