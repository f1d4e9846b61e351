using System.Text.Json;
using Ksml.Compiler.Operations;

namespace Ksml.Compiler.Tests.Operations;

/// <summary>
/// The catalog against KSML's published schema for definition files (Corpus/ksml-language-spec.json, from
/// Axual/ksml at 58552f26, Apache License 2.0): every operation KSML names is here under the same names, with
/// every field KSML gives it, and nothing KSML does not know.
/// </summary>
public class OperationCatalogTests
{
    /// <summary>Each operation name or alias in KSML's schema, with the fields any of its variants take.</summary>
    private static Dictionary<string, HashSet<string>> SchemaOperations()
    {
        using var schema = JsonDocument.Parse(Support.Ksml.Corpus("ksml-language-spec.json"));
        var operations = new Dictionary<string, HashSet<string>>();
        foreach (var definition in schema.RootElement.GetProperty("$defs").EnumerateObject())
        {
            var properties = definition.Value.GetProperty("properties");
            // print is a sink here, as it ends a pipeline in KSML (its schema lists it with the operations).
            if (!definition.Name.Contains("Operation") || !properties.TryGetProperty("type", out var type) || !type.TryGetProperty("enum", out var names))
                continue;
            var fields = properties.EnumerateObject().Select(p => p.Name).Where(n => n is not ("name" or "type")).ToList();
            foreach (var name in names.EnumerateArray().Select(n => n.GetString()!))
            {
                if (!operations.TryGetValue(name, out var known))
                    operations[name] = known = new HashSet<string>();
                known.UnionWith(fields);
            }
        }
        return operations;
    }

    [Test]
    public void Every_operation_in_KSMLs_schema_is_in_the_catalog_with_all_its_fields()
    {
        var schema = SchemaOperations();
        Assert.That(schema, Has.Count.GreaterThan(30), "the schema's operations were not found");
        foreach (var (name, fields) in schema)
        {
            var operation = OperationCatalog.Find(name);
            Assert.That(operation, Is.Not.Null, name);
            Assert.That(operation!.Fields.Select(f => f.Name), Is.SupersetOf(fields), name);
        }
    }

    [Test]
    public void The_catalog_holds_no_name_or_field_KSML_does_not_know()
    {
        var schema = SchemaOperations();
        foreach (var operation in OperationCatalog.All)
        {
            foreach (var name in operation.Aliases.Append(operation.Name))
                Assert.That(schema.Keys, Does.Contain(name), "operation name " + name);
            // Operations of one class share one field list (join, leftJoin and outerJoin): outerJoin reads a
            // foreignKeyExtractor or globalTable only to refuse it with the reason.
            var family = OperationCatalog.All.Where(o => o.GetType() == operation.GetType()).SelectMany(o => o.Aliases.Append(o.Name));
            Assert.That(family.SelectMany(n => schema[n]), Is.SupersetOf(operation.Fields.Select(f => f.Name)), operation.Name);
        }
    }
}
