using Ksml.Compiler.Tests.Support;

namespace Ksml.Compiler.Tests.Fuzz;

/// <summary>Thousands of mutated KSML files through the compiler: never an exception, always a diagnostic for broken input.</summary>
public class MutationFuzzTests
{
    private static readonly string[] Seeds =
    {
        Support.Ksml.Corpus("tutorial-multi-system.ksml.yaml"),
        File.ReadAllText(Path.Combine(Support.Ksml.RepositoryRoot, "examples", "WordCount", "word-count.ksml.yaml")),
    };

    [TestCase(0)]
    [TestCase(1)]
    public void Mutations_never_throw(int seedIndex)
    {
        var seed = Seeds[seedIndex];
        var random = new Random(20261127 + seedIndex);
        var lines = seed.Split('\n');
        var failures = new List<string>();
        for (var i = 0; i < 1500; i++)
        {
            var (kind, mutated) = Mutate(seed, lines, random);
            try
            {
                var result = Support.Ksml.Compile(mutated);
                if (kind == "random bytes" && !result.HasErrors && mutated != seed && result.Source is null)
                    failures.Add($"#{i} {kind}: no source and no error");
            }
            catch (Exception ex)
            {
                failures.Add($"#{i} {kind}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [TestCase("OrderProcessing/tests/order-processing.test.yaml")]
    [TestCase("AsyncPayments/tests/payments.test.yaml")]
    public void Mutated_test_suites_never_throw_and_broken_ones_are_reported(string suite)
    {
        var seed = File.ReadAllText(Path.Combine(Support.Ksml.RepositoryRoot, "examples", suite));
        var random = new Random(20261127);
        var lines = seed.Split('\n');
        var failures = new List<string>();
        for (var i = 0; i < 1500; i++)
        {
            var (kind, mutated) = Mutate(seed, lines, random);
            try
            {
                var diagnostics = new List<Compiler.Diagnostics.KsmlDiagnostic>();
                Compiler.Parsing.TestSuiteParser.Parse("suite.test.yaml", mutated, diagnostics);
                // Whatever broke, a suite left without its tests must say so rather than pass with none run.
                if (!System.Text.RegularExpressions.Regex.IsMatch(mutated, @"^tests\s*:", System.Text.RegularExpressions.RegexOptions.Multiline) && diagnostics.Count == 0)
                    failures.Add($"#{i} {kind}: a suite without tests gave no diagnostic");
            }
            catch (Exception ex)
            {
                failures.Add($"#{i} {kind}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Truncations_that_break_the_yaml_are_reported()
    {
        var seed = Seeds[0];
        var broken = 0;
        for (var cut = 10; cut < seed.Length; cut += 97)
        {
            var text = seed.Substring(0, cut) + "\n  x: [unclosed\n";
            var result = Support.Ksml.Compile(text);
            Assert.That(result.Diagnostics, Has.Some.Matches<Compiler.Diagnostics.KsmlDiagnostic>(d => d.Id == "KSML0000"), "cut at " + cut);
            broken++;
        }
        Assert.That(broken, Is.GreaterThan(50));
    }

    private static (string Kind, string Text) Mutate(string seed, string[] lines, Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                return ("truncation", seed.Substring(0, random.Next(seed.Length)));
            case 1:
            {
                var copy = (string[])lines.Clone();
                var a = random.Next(copy.Length);
                var b = random.Next(copy.Length);
                (copy[a], copy[b]) = (copy[b], copy[a]);
                return ("swapped lines", string.Join("\n", copy));
            }
            case 2:
            {
                var chars = seed.ToCharArray();
                for (var n = 0; n < 5; n++)
                    chars[random.Next(chars.Length)] = (char)random.Next(0, 128);
                return ("random bytes", new string(chars));
            }
            case 3:
            {
                var copy = (string[])lines.Clone();
                var i = random.Next(copy.Length);
                var colon = copy[i].IndexOf(':');
                if (colon > 0)
                    copy[i] = copy[i].Substring(0, colon + 1) + new[] { " [a, b]", " {x: 1}", " ", " 12", " |\n  bad", " *alias" }[random.Next(6)];
                return ("wrong kind", string.Join("\n", copy));
            }
            case 4:
            {
                var copy = lines.ToList();
                copy.RemoveAt(random.Next(copy.Count));
                return ("deleted line", string.Join("\n", copy));
            }
            default:
            {
                var copy = (string[])lines.Clone();
                var i = random.Next(copy.Length);
                copy[i] = new string(' ', random.Next(8)) + copy[i].TrimStart();
                return ("indentation", string.Join("\n", copy));
            }
        }
    }
}
