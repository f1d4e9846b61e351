using System.Text.RegularExpressions;

namespace Ksml.Compiler.Tests.Checking;

/// <summary>The examples keep credentials in the environment: none is written in their YAML, runner files or code.</summary>
public sealed class ExampleSecurityTests
{
    private static readonly Regex[] CredentialPatterns =
    [
        // A key such as password or api_key given a literal value (not ${VAR}, not a shell ${VAR:-default}).
        new(@"(password|passwd|secret|api_?key|token)[""']?\s*[:=](?!-)\s*[""']?(?!\$\{)[A-Za-z0-9+/_\-]{4,}", RegexOptions.IgnoreCase),
        new(@"[a-z]+://[^/\s:@]+:[^@\s${}]+@", RegexOptions.IgnoreCase),
        new(@"Bearer [A-Za-z0-9\-_.]{8,}"),
        new(@"PlainCredentials\(\s*[""']"),
    ];

    public static IEnumerable<string> ExampleFiles() =>
        Directory.EnumerateFiles(Path.Combine(Support.Ksml.RepositoryRoot, "examples"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/") && !f.Contains("/obj/"))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".py", StringComparison.Ordinal) || f.EndsWith(".sh", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    [Test]
    public void No_example_writes_a_credential_into_yaml_or_code()
    {
        var files = ExampleFiles().ToList();
        Assert.That(files, Has.Count.GreaterThan(10));

        var findings = files.SelectMany(file => File.ReadAllLines(file).Select((line, index) => (file, line, index)))
            .Where(l => CredentialPatterns.Any(p => p.IsMatch(l.line)))
            .Select(l => $"{Path.GetRelativePath(Support.Ksml.RepositoryRoot, l.file)}:{l.index + 1}: {l.line.Trim()}")
            .ToList();

        Assert.That(findings, Is.Empty);
    }

    [Test]
    public void The_scan_would_catch_what_the_tutorial_wrote()
    {
        string[] tutorial = ["API_KEY = \"your-api-key\"", "\"password\": \"app_password\"", "MONGO_URI = \"mongodb://user:password@mongodb.example.com:27017/app_db\"",
            "\"credentials\": pika.PlainCredentials(\"user\", \"password\")"];

        Assert.That(tutorial, Has.All.Matches<string>(line => CredentialPatterns.Any(p => p.IsMatch(line))));
    }
}
