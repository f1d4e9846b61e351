using System.Collections.Generic;
using System.Linq;
using System.Text;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Operations;
using Ksml.Compiler.Syntax;
using Ksml.Yaml;

namespace Ksml.Compiler.Parsing;

/// <summary>
/// Turns the located YAML tree into <see cref="DefinitionSyntax"/>: every section, field, operation
/// and sink of KSML, with shape errors reported where they are written. Names are not resolved here.
/// </summary>
public sealed class DefinitionParser
{
    private static readonly string[] RootKeys = { "name", "version", "description", "streams", "tables", "globalTables", "stores", "functions", "pipelines", "producers" };
    private static readonly string[] StreamKeys = { "topic", "keyType", "valueType", "offsetResetPolicy", "timestampExtractor", "partitioner" };
    private static readonly string[] TableKeys = { "topic", "keyType", "valueType", "offsetResetPolicy", "timestampExtractor", "partitioner", "store" };
    private static readonly string[] ToTopicKeys = { "topic", "keyType", "valueType", "partitioner" };
    private static readonly string[] StoreKeys = { "type", "name", "keyType", "valueType", "persistent", "timestamped", "versioned", "caching", "logging", "historyRetention", "segmentInterval", "windowSize", "retention", "retainDuplicates" };
    private static readonly string[] FunctionKeys = { "type", "name", "parameters", "globalCode", "code", "expression", "resultType", "stores", "resilience", "concurrency", "batch", "native" };
    private static readonly string[] BatchKeys = { "maxRecords", "maxWait" };
    private static readonly string[] ConcurrencyKeys = { "maxInFlight", "order" };
    private static readonly string[] ConcurrencyOrders = { "key", "partition", "none" };
    private static readonly string[] ResilienceKeys = { "timeout", "retry", "circuitBreaker", "cache", "rateLimit" };
    private static readonly string[] RateLimitKeys = { "permits", "per" };
    private static readonly string[] RetryKeys = { "maxAttempts", "backoff", "maxBackoff", "jitter", "on" };
    private static readonly string[] BreakerKeys = { "failureRatio", "minimumThroughput", "samplingDuration", "breakDuration", "fallback" };
    private static readonly string[] CacheKeys = { "ttl", "maxEntries", "key" };
    private static readonly string[] ParameterKeys = { "name", "type", "defaultValue" };
    private static readonly string[] FlowKeys = { "name", "from", "via" };
    private static readonly string[] BranchKeys = { "if", "via" };
    private static readonly string[] ProducerKeys = { "generator", "to", "interval", "count", "batchSize", "condition", "until" };
    private static readonly string[] OffsetResetPolicies = { "earliest", "latest", "none" };
    private static readonly string[] StoreTypes = { "keyValue", "window", "session" };

    private readonly ParseContext _context;
    private readonly DefinitionSyntax _definition;

    private DefinitionParser(string path, List<KsmlDiagnostic> diagnostics)
    {
        _context = new ParseContext(path, diagnostics);
        _definition = new DefinitionSyntax(path);
    }

    /// <summary>Parses a KSML file; diagnostics are appended to <paramref name="diagnostics"/>.</summary>
    public static DefinitionSyntax Parse(string path, string text, List<KsmlDiagnostic> diagnostics)
    {
        var parser = new DefinitionParser(path, diagnostics);
        var root = KsmlYaml.Read(path, text, diagnostics);
        if (root is YamlMapping mapping)
            parser.ParseRoot(mapping);
        else if (root is not null && !(root is YamlScalar { IsNull: true }))
            parser._context.Report(DiagnosticDescriptors.WrongValueKind, root.Span, "the KSML definition", "a mapping of sections (streams, functions, pipelines, …)", root.KindDescription);
        return parser._definition;
    }

    private void ParseRoot(YamlMapping root)
    {
        var reader = new MappingReader(_context, root, "the definition", RootKeys);
        _definition.Name = reader.Scalar("name")?.Value;
        _definition.Version = reader.Scalar("version")?.Value;
        _definition.Description = reader.Scalar("description")?.Value;

        foreach (var (name, node) in Section(reader, "streams"))
            if (AsMapping(node, "stream '" + name.Name + "'") is { } m)
                _definition.Streams.Add(ParseTopic(m, TopicKind.Stream, name, "stream '" + name.Name + "'"));
        foreach (var (name, node) in Section(reader, "tables"))
            if (AsMapping(node, "table '" + name.Name + "'") is { } m)
                _definition.Tables.Add(ParseTopic(m, TopicKind.Table, name, "table '" + name.Name + "'"));
        foreach (var (name, node) in Section(reader, "globalTables"))
            if (AsMapping(node, "globalTable '" + name.Name + "'") is { } m)
                _definition.GlobalTables.Add(ParseTopic(m, TopicKind.GlobalTable, name, "globalTable '" + name.Name + "'"));
        foreach (var (name, node) in Section(reader, "stores"))
            if (AsMapping(node, "store '" + name.Name + "'") is { } m)
                _definition.Stores.Add(ParseStore(m, name, null, "store '" + name.Name + "'"));
        foreach (var (name, node) in Section(reader, "functions"))
        {
            RequireIdentifier("Function", name);
            if (AsMapping(node, "function '" + name.Name + "'") is { } m)
                _definition.Functions.Add(ParseFunction(m, name, false, null));
        }
        foreach (var (name, node) in Section(reader, "pipelines"))
            if (AsMapping(node, "pipeline '" + name.Name + "'") is { } m)
                _definition.Pipelines.Add(ParsePipeline(m, name));
        foreach (var (name, node) in Section(reader, "producers"))
            if (AsMapping(node, "producer '" + name.Name + "'") is { } m)
                _definition.Producers.Add(ParseProducer(m, name));

        if (_definition.Pipelines.Count == 0 && _definition.Producers.Count == 0)
            _context.Report(DiagnosticDescriptors.EmptyDefinition, root.Entries.Count > 0 ? root.Entries[0].Key.Span : root.Span);
    }

    /// <summary>The entries of a top-level section, with duplicate names reported.</summary>
    private IEnumerable<(NameSyntax Name, YamlNode Node)> Section(MappingReader root, string key)
    {
        var mapping = root.MappingField(key);
        if (mapping is null)
            yield break;
        var seen = new HashSet<string>();
        foreach (var entry in mapping.Entries)
        {
            if (!seen.Add(entry.Key.Value))
            {
                _context.Report(DiagnosticDescriptors.DuplicateKey, entry.Key.Span, entry.Key.Value, "'" + key + "'");
                continue;
            }
            yield return (new NameSyntax(entry.Key.Value, entry.Key.Span), entry.Value);
        }
    }

    private YamlMapping? AsMapping(YamlNode node, string what)
    {
        if (node is YamlMapping mapping)
            return mapping;
        _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, what, "a mapping of its fields", node.KindDescription);
        return null;
    }

    private void RequireIdentifier(string what, NameSyntax name)
    {
        if (!IsIdentifier(name.Name))
            _context.Report(DiagnosticDescriptors.InvalidPythonIdentifier, name.Span, what, name.Name);
    }

    internal static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');

    // ---- streams, tables, stores -------------------------------------------------------------

    private TopicSyntax ParseTopic(YamlMapping mapping, TopicKind kind, NameSyntax? name, string description, bool isTarget = false)
    {
        var keys = isTarget ? ToTopicKeys : kind == TopicKind.Stream ? StreamKeys : TableKeys;
        var reader = new MappingReader(_context, mapping, description, keys);
        var topic = new TopicSyntax(kind, name, mapping.Span)
        {
            Topic = reader.Name("topic", required: true),
            // Streams need both types (KSML's schema); tables default to any, as KSML does.
            KeyType = reader.Type("keyType", required: kind == TopicKind.Stream && !isTarget),
            ValueType = reader.Type("valueType", required: kind == TopicKind.Stream && !isTarget),
        };
        if (reader.Has("offsetResetPolicy"))
            topic.OffsetResetPolicy = ParseOffsetResetPolicy(reader);
        topic.TimestampExtractor = FunctionField(reader, "timestampExtractor", FunctionKind.TimestampExtractor, (name?.Name ?? "inline") + "_timestampExtractor");
        topic.Partitioner = FunctionField(reader, "partitioner", FunctionKind.StreamPartitioner, (name?.Name ?? "inline") + "_partitioner");
        if (reader.Has("store"))
            topic.Store = StoreField(reader, "store", "keyValue", description);
        return topic;
    }

    private NameSyntax? ParseOffsetResetPolicy(MappingReader reader)
    {
        var value = reader.Name("offsetResetPolicy");
        if (value is null)
            return null;
        var text = value.Name;
        if (OffsetResetPolicies.Contains(text))
            return value;
        if (text.StartsWith("by_duration:") && DurationParser.TryParse(text.Substring("by_duration:".Length), out _))
            return value;
        _context.Report(DiagnosticDescriptors.InvalidValue, value.Span, text, "offset reset policy",
            "earliest, latest, none or by_duration:<duration>" + NameSuggester.Hint(text, OffsetResetPolicies));
        return null;
    }

    private StoreSyntax ParseStore(YamlMapping mapping, NameSyntax? name, string? impliedType, string description)
    {
        var reader = new MappingReader(_context, mapping, description, StoreKeys);
        var store = new StoreSyntax(reader.Name("name") ?? name, mapping.Span);
        if (store.Name is not null)
            RequireIdentifier("Store", store.Name);
        store.StoreType = impliedType is null || reader.Has("type") ? reader.Choice("type", StoreTypes, required: impliedType is null) : null;
        store.StoreType ??= impliedType is null ? null : new NameSyntax(impliedType, mapping.Span);
        store.KeyType = reader.Type("keyType");
        store.ValueType = reader.Type("valueType");
        store.Persistent = reader.Boolean("persistent");
        store.Timestamped = reader.Boolean("timestamped");
        store.Versioned = reader.Boolean("versioned");
        store.Caching = reader.Boolean("caching");
        store.Logging = reader.Boolean("logging");
        store.RetainDuplicates = reader.Boolean("retainDuplicates");
        store.HistoryRetention = reader.Duration("historyRetention");
        store.SegmentInterval = reader.Duration("segmentInterval");
        store.WindowSize = reader.Duration("windowSize");
        store.Retention = reader.Duration("retention");

        if (store.Caching && reader.Entry("caching") is { } caching)
            _context.Report(DiagnosticDescriptors.CachingWithoutEffect, caching.Key.Span, description);
        var type = store.StoreType?.Name;
        foreach (var (field, only) in new[] { ("versioned", "keyValue"), ("historyRetention", "keyValue"), ("segmentInterval", "keyValue"), ("windowSize", "window"), ("retainDuplicates", "window"), ("retention", "window or session") })
        {
            if (type is not null && reader.Entry(field) is { } entry && !only.Contains(type))
                _context.Report(DiagnosticDescriptors.IgnoredStoreSetting, entry.Key.Span, field, description + " (a " + type + " store)", only);
        }
        return store;
    }

    // ---- functions -----------------------------------------------------------------------------

    private FunctionSyntax ParseFunction(YamlMapping mapping, NameSyntax name, bool isInline, FunctionKind? impliedKind)
    {
        var description = isInline ? "inline function" : "function '" + name.Name + "'";
        var reader = new MappingReader(_context, mapping, description, FunctionKeys);
        var function = new FunctionSyntax(name, isInline, mapping.Span);
        if (isInline && reader.Name("name") is { } explicitName && IsIdentifier(explicitName.Name))
            function.Name = explicitName;

        if (reader.Scalar("type") is { } typeScalar)
        {
            function.KindSpan = typeScalar.Span;
            function.Kind = FunctionKind.Find(typeScalar.Value);
            if (function.Kind is null)
                _context.Report(DiagnosticDescriptors.InvalidValue, typeScalar.Span, typeScalar.Value, "function type",
                    "one of KSML's function types." + NameSuggester.Hint(typeScalar.Value, FunctionKind.All.Select(k => k.Name)));
        }
        else if (impliedKind is not null)
        {
            function.Kind = impliedKind;
        }

        if (reader.Sequence("parameters") is { } parameters)
        {
            foreach (var item in parameters.Items)
            {
                if (AsMapping(item, "a parameter of " + description) is not { } p)
                    continue;
                var pr = new MappingReader(_context, p, "a parameter of " + description, ParameterKeys);
                var pname = pr.Name("name", required: true);
                var ptype = pr.Type("type", required: true);
                if (pname is null)
                    continue;
                RequireIdentifier("Parameter", pname);
                function.Parameters.Add(new ParameterSyntax(pname, ptype, pr.Scalar("defaultValue")?.Value, p.Span));
            }
        }
        function.GlobalCode = reader.Snippet("globalCode");
        function.Code = reader.Snippet("code");
        function.Expression = reader.Snippet("expression");
        function.ResultType = reader.Type("resultType");
        if (reader.Has("native"))
            function.Native = reader.Boolean("native");
        if (reader.Sequence("stores") is { } stores)
        {
            function.StoresSpan = stores.Span;
            foreach (var item in stores.Items)
            {
                if (item is YamlScalar { IsNull: false } s)
                    function.Stores.Add(new NameSyntax(s.Value, s.Span));
                else
                    _context.Report(DiagnosticDescriptors.WrongValueKind, item.Span, "stores", "a list of store names", item.KindDescription);
            }
        }
        else if (reader.Scalar("stores") is { } single)
        {
            // A single name is accepted the way YAML users write it; KSML's schema wants a list.
            function.StoresSpan = single.Span;
            function.Stores.Add(new NameSyntax(single.Value, single.Span));
        }
        if (reader.MappingField("resilience") is { } resilience)
            function.Resilience = ParseResilience(resilience, description);
        if (reader.MappingField("concurrency") is { } concurrency)
        {
            var c = new MappingReader(_context, concurrency, "concurrency of " + description, ConcurrencyKeys);
            var order = c.Scalar("order");
            if (order is not null && !ConcurrencyOrders.Contains(order.Value))
                _context.Report(DiagnosticDescriptors.InvalidValue, order.Span, order.Value, "concurrency order", "key (one key's records in offset order), partition (outputs in offset order per partition) or none (as calls complete)");
            function.Concurrency = new ConcurrencySyntax((int)(c.Integer("maxInFlight", 1, 10_000) ?? 16),
                order is not null && ConcurrencyOrders.Contains(order.Value) ? order.Value : "key", concurrency.Span);
        }
        if (reader.MappingField("batch") is { } batch)
        {
            var b = new MappingReader(_context, batch, "batch of " + description, BatchKeys);
            var wait = b.Duration("maxWait");
            if (wait is { Milliseconds: <= 0 } noWait)
                _context.Report(DiagnosticDescriptors.InvalidBatch, noWait.Span, "maxWait must be longer than 0ms");
            function.Batch = new BatchSyntax((int)(b.Integer("maxRecords", 1, 100_000) ?? 500), wait is { Milliseconds: > 0 } w ? w.Milliseconds : 100, batch.Span);
        }
        return function;
    }

    private ResilienceSyntax ParseResilience(YamlMapping mapping, string owner)
    {
        var reader = new MappingReader(_context, mapping, "resilience of " + owner, ResilienceKeys);
        var result = new ResilienceSyntax(mapping.Span) { Timeout = reader.Duration("timeout") };
        if (result.Timeout is { Milliseconds: <= 0 } zero)
            _context.Report(DiagnosticDescriptors.InvalidResilience, zero.Span, "timeout", "a timeout must be longer than 0ms");
        if (reader.MappingField("retry") is { } retry)
        {
            var r = new MappingReader(_context, retry, "resilience.retry of " + owner, RetryKeys);
            var on = new List<string>();
            if (r.Sequence("on") is { } names)
                foreach (var item in names.Items)
                {
                    if (item is YamlScalar { IsNull: false } name && IsDottedIdentifier(name.Value))
                        on.Add(name.Value);
                    else
                        _context.Report(DiagnosticDescriptors.InvalidResilience, item.Span, "retry.on", "list Python exception class names, such as ConnectionError or Timeout");
                }
            else if (r.Scalar("on") is { } single)
                on.Add(single.Value);
            result.Retry = new RetrySyntax((int)(r.Integer("maxAttempts", 1, 100) ?? 3), r.Duration("backoff")?.Milliseconds ?? 100,
                r.Duration("maxBackoff")?.Milliseconds ?? 10_000, !r.Has("jitter") || r.Boolean("jitter"), on, retry.Span);
        }
        if (reader.MappingField("circuitBreaker") is { } breaker)
        {
            var b = new MappingReader(_context, breaker, "resilience.circuitBreaker of " + owner, BreakerKeys);
            var ratio = 0.5;
            if (b.Scalar("failureRatio") is { } ratioScalar)
            {
                if (double.TryParse(ratioScalar.Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > 0 && parsed <= 1)
                    ratio = parsed;
                else
                    _context.Report(DiagnosticDescriptors.InvalidValue, ratioScalar.Span, ratioScalar.Value, "failure ratio", "a number above 0 and at most 1, such as 0.5");
            }
            result.CircuitBreaker = new CircuitBreakerSyntax(ratio, (int)(b.Integer("minimumThroughput", 2, 100_000) ?? 10),
                b.Duration("samplingDuration")?.Milliseconds ?? 30_000, b.Duration("breakDuration")?.Milliseconds ?? 30_000, b.Snippet("fallback"), breaker.Span);
        }
        if (reader.MappingField("cache") is { } cache)
        {
            var c = new MappingReader(_context, cache, "resilience.cache of " + owner, CacheKeys);
            var ttl = c.Duration("ttl", required: true);
            result.Cache = new CacheSyntax(ttl?.Milliseconds ?? 60_000, (int)(c.Integer("maxEntries", 1, 10_000_000) ?? 10_000), c.Snippet("key"), cache.Span);
        }
        if (reader.MappingField("rateLimit") is { } rateLimit)
        {
            var l = new MappingReader(_context, rateLimit, "resilience.rateLimit of " + owner, RateLimitKeys);
            if (!l.Has("permits"))
                l.Scalar("permits", true, "a whole number"); // reports it missing
            var permits = l.Integer("permits", 1, 1_000_000);
            var per = l.Duration("per");
            if (per is { Milliseconds: <= 0 } noPeriod)
                _context.Report(DiagnosticDescriptors.InvalidResilience, noPeriod.Span, "rateLimit.per", "the period must be longer than 0ms");
            result.RateLimit = new RateLimitSyntax((int)(permits ?? 1), per is { Milliseconds: > 0 } p ? p.Milliseconds : 1000, rateLimit.Span);
        }
        return result;
    }

    private static bool IsDottedIdentifier(string text) => text.Split('.').All(IsIdentifier);

    /// <summary>A field naming a function or defining one inline.</summary>
    private FunctionRefSyntax? FunctionField(MappingReader reader, string key, FunctionKind kind, string inlineName) =>
        reader.Node(key) is { } node ? FunctionRef(node, key, kind, inlineName) : null;

    private FunctionRefSyntax? FunctionRef(YamlNode node, string key, FunctionKind kind, string inlineName)
    {
        switch (node)
        {
            case YamlScalar { IsNull: true }:
                _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "the name of " + kind.WithArticle + " or an inline definition", "empty");
                return null;
            case YamlScalar scalar:
                return new FunctionRefSyntax(new NameSyntax(scalar.Value, scalar.Span), null, scalar.Span);
            case YamlMapping mapping:
                return new FunctionRefSyntax(null, ParseFunction(mapping, new NameSyntax(Sanitize(inlineName), mapping.Span), true, kind), mapping.Span);
            default:
                _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "the name of " + kind.WithArticle + " or an inline definition", node.KindDescription);
                return null;
        }
    }

    private StoreRefSyntax? StoreField(MappingReader reader, string key, string? impliedType, string owner)
    {
        var node = reader.Node(key);
        switch (node)
        {
            case null:
                return null;
            case YamlScalar { IsNull: true }:
                return null;
            case YamlScalar scalar:
                return new StoreRefSyntax(new NameSyntax(scalar.Value, scalar.Span), null, scalar.Span);
            case YamlMapping mapping:
                return new StoreRefSyntax(null, ParseStore(mapping, null, impliedType, "the store of " + owner), mapping.Span);
            default:
                _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "a store name or an inline store", node.KindDescription);
                return null;
        }
    }

    private TopicRefSyntax? TopicRef(YamlNode node, string key, TopicKind kind, bool isTarget)
    {
        switch (node)
        {
            case YamlScalar { IsNull: true }:
                _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "a name or an inline topic definition", "empty");
                return null;
            case YamlScalar scalar:
                return new TopicRefSyntax(new NameSyntax(scalar.Value, scalar.Span), null, scalar.Span);
            case YamlMapping mapping:
                return new TopicRefSyntax(null, ParseTopic(mapping, kind, null, "the inline topic of '" + key + "'", isTarget), mapping.Span);
            default:
                _context.Report(DiagnosticDescriptors.WrongValueKind, node.Span, key, "a name or an inline topic definition", node.KindDescription);
                return null;
        }
    }

    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
            builder.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
        if (builder.Length == 0 || char.IsDigit(builder[0]))
            builder.Insert(0, '_');
        return builder.ToString();
    }

    // ---- pipelines -----------------------------------------------------------------------------

    private PipelineSyntax ParsePipeline(YamlMapping mapping, NameSyntax name)
    {
        var pipeline = new PipelineSyntax(name, mapping.Span);
        var known = FlowKeys.Concat(OperationCatalog.SinkKeys).ToArray();
        var reader = new MappingReader(_context, mapping, "pipeline '" + name.Name + "'", known.Concat(OperationCatalog.Names), reportUnknown: false);
        ReportUnknownFlowKeys(reader, known);
        pipeline.From = reader.Node("from", required: true) is { } from ? TopicRef(from, "from", TopicKind.Stream, false) : null;
        pipeline.UsesCompactForm = ParseOperations(reader, name.Name, pipeline.Operations);
        pipeline.Sink = ParseSink(reader, name.Name);
        return pipeline;
    }

    private void ReportUnknownFlowKeys(MappingReader reader, IReadOnlyCollection<string> known)
    {
        foreach (var entry in reader.Mapping.Entries)
        {
            var key = entry.Key.Value;
            if (!known.Contains(key) && OperationCatalog.Find(key) is null)
                _context.Report(DiagnosticDescriptors.UnknownKey, entry.Key.Span, key, reader.Description,
                    NameSuggester.Hint(key, known.Concat(OperationCatalog.Names)));
        }
    }

    /// <summary>Reads <c>via:</c> or the compact form; returns true when the compact form was used.</summary>
    private bool ParseOperations(MappingReader reader, string owner, List<OperationSyntax> operations)
    {
        var via = reader.Sequence("via");
        if (via is not null)
        {
            foreach (var item in via.Items)
            {
                if (AsMapping(item, "an operation in 'via'") is { } m && ParseViaOperation(m, owner, operations.Count) is { } op)
                    operations.Add(op);
            }
        }

        var compact = false;
        var seen = new HashSet<string>();
        foreach (var entry in reader.Mapping.Entries)
        {
            var spec = OperationCatalog.Find(entry.Key.Value);
            if (spec is null || !seen.Add(entry.Key.Value))
                continue;
            if (via is not null && !compact)
                _context.Report(DiagnosticDescriptors.MixedPipelineForms, entry.Key.Span, owner);
            compact = true;
            if (ParseCompactOperation(spec, entry, owner, operations.Count) is { } op)
                operations.Add(op);
        }
        return compact;
    }

    private OperationSyntax? ParseViaOperation(YamlMapping mapping, string owner, int index)
    {
        var typeEntry = mapping.Find("type");
        if (typeEntry?.Value is not YamlScalar { IsNull: false } typeScalar)
        {
            _context.Report(DiagnosticDescriptors.MissingRequiredField, mapping.Entries.Count > 0 ? mapping.Entries[0].Key.Span : mapping.Span, "an operation in 'via'", "type");
            return null;
        }
        var spec = OperationCatalog.Find(typeScalar.Value);
        if (spec is null)
        {
            _context.Report(DiagnosticDescriptors.InvalidValue, typeScalar.Span, typeScalar.Value, "operation type",
                "one of KSML's operations." + NameSuggester.Hint(typeScalar.Value, OperationCatalog.Names));
            return null;
        }
        var operation = new OperationSyntax(spec, new NameSyntax(typeScalar.Value, typeScalar.Span), mapping.Span);
        var reader = new MappingReader(_context, mapping, "operation '" + typeScalar.Value + "'", spec.Fields.Select(f => f.Name).Concat(new[] { "type", "name" }));
        ReadOperationFields(operation, reader, owner, index);
        return operation;
    }

    private OperationSyntax? ParseCompactOperation(PipelineOperation spec, YamlEntry entry, string owner, int index)
    {
        var operation = new OperationSyntax(spec, new NameSyntax(entry.Key.Value, entry.Key.Span), SourceSpan.Cover(entry.Key.Span, entry.Value.Span));
        switch (entry.Value)
        {
            case YamlMapping mapping when spec.PrimaryField is null || spec.Field(spec.PrimaryField)!.Kind != FieldKind.Function || LooksLikeFieldMapping(spec, mapping):
            {
                var reader = new MappingReader(_context, mapping, "operation '" + entry.Key.Value + "'", spec.Fields.Select(f => f.Name).Concat(new[] { "type", "name" }));
                ReadOperationFields(operation, reader, owner, index);
                break;
            }
            case YamlScalar { IsNull: true } when spec.PrimaryField is null || !spec.Field(spec.PrimaryField)!.Required:
                ReadOperationFields(operation, null, owner, index);
                break;
            case YamlNode value when spec.PrimaryField is not null:
            {
                // `filter: is_valid` and `mapValues: {code: …}` both fill the primary field.
                var synthetic = new YamlMapping(new[] { new YamlEntry(new YamlScalar(spec.PrimaryField, ScalarStyle.Plain, entry.Key.Span, entry.Key.Span.Line, entry.Key.Span.Column), value) }, entry.Value.Span);
                var reader = new MappingReader(_context, synthetic, "operation '" + entry.Key.Value + "'", new[] { spec.PrimaryField });
                ReadOperationFields(operation, reader, owner, index);
                break;
            }
            default:
                _context.Report(DiagnosticDescriptors.WrongValueKind, entry.Value.Span, entry.Key.Value, "a mapping of the operation's fields", entry.Value.KindDescription);
                return null;
        }
        return operation;
    }

    /// <summary>In the compact form, a mapping is the operation's fields when its keys are field names, else an inline function.</summary>
    private static bool LooksLikeFieldMapping(PipelineOperation spec, YamlMapping mapping) =>
        mapping.Entries.Count > 0 && mapping.Entries.All(e => spec.Field(e.Key.Value) is not null || e.Key.Value == "name");

    private void ReadOperationFields(OperationSyntax operation, MappingReader? reader, string owner, int index)
    {
        var spec = operation.Operation;
        if (reader is null)
        {
            foreach (var field in spec.Fields.Where(f => f.Required))
                _context.Report(DiagnosticDescriptors.MissingRequiredField, operation.WrittenAs.Span, "operation '" + operation.WrittenAs.Name + "'", field.Name);
            return;
        }
        operation.Name = reader.Name("name");
        var inlinePrefix = Sanitize(owner + "_" + (operation.Name?.Name ?? spec.Name + (index + 1)));
        foreach (var field in spec.Fields)
        {
            var node = reader.Node(field.Name, field.Required);
            if (node is null)
                continue;
            operation.WrittenFields.Add(field.Name);
            switch (field.Kind)
            {
                case FieldKind.Function:
                    if (FunctionRef(node, field.Name, field.Function!, inlinePrefix + "_" + field.Name) is { } f)
                        operation.Functions[field.Name] = f;
                    break;
                case FieldKind.Stream:
                case FieldKind.Table:
                case FieldKind.GlobalTable:
                    var kind = field.Kind == FieldKind.Stream ? TopicKind.Stream : field.Kind == FieldKind.Table ? TopicKind.Table : TopicKind.GlobalTable;
                    if (TopicRef(node, field.Name, kind, true) is { } t)
                        operation.Topics[field.Name] = t;
                    break;
                case FieldKind.Store:
                    if (StoreField(reader, field.Name, field.StoreKind, "operation '" + operation.WrittenAs.Name + "'") is { } s)
                        operation.Stores[field.Name] = s;
                    break;
                case FieldKind.Duration:
                    if (reader.Duration(field.Name, field.Required) is { } d)
                        operation.Durations[field.Name] = d;
                    break;
                case FieldKind.Type:
                    if (reader.Type(field.Name, field.Required) is { } ty)
                        operation.Types[field.Name] = ty;
                    break;
                case FieldKind.Integer:
                    var scalar = reader.Scalar(field.Name);
                    if (reader.Integer(field.Name, 1) is not null && scalar is not null)
                        operation.Values[field.Name] = new NameSyntax(scalar.Value, scalar.Span);
                    break;
                case FieldKind.Choice:
                    if (reader.Choice(field.Name, field.Choices, field.Required) is { } c)
                        operation.Values[field.Name] = c;
                    break;
                default:
                    if (reader.Name(field.Name, field.Required) is { } v)
                        operation.Values[field.Name] = v;
                    break;
            }
        }
    }

    // ---- sinks ---------------------------------------------------------------------------------

    private SinkSyntax? ParseSink(MappingReader reader, string owner)
    {
        SinkSyntax? sink = null;
        foreach (var entry in reader.Mapping.Entries)
        {
            var key = entry.Key.Value;
            if (!OperationCatalog.SinkKeys.Contains(key))
                continue;
            var keyword = new NameSyntax(key, entry.Key.Span);
            if (sink is not null)
            {
                _context.Report(DiagnosticDescriptors.ConflictingSinks, entry.Key.Span, owner, sink.Keyword.Name, key);
                continue;
            }
            sink = ParseSinkEntry(keyword, entry.Value, owner);
        }
        return sink;
    }

    private SinkSyntax? ParseSinkEntry(NameSyntax keyword, YamlNode value, string owner)
    {
        switch (keyword.Name)
        {
            case "to":
                if (value is YamlMapping toMapping && toMapping.Find("topic") is null && toMapping.Find("topicNameExtractor") is not null)
                    goto case "toTopicNameExtractor";
                var target = TopicRef(value, "to", TopicKind.Stream, true);
                return target is null ? null : new ToSinkSyntax(keyword, target) { Partitioner = target.Inline?.Partitioner };
            case "toTopicNameExtractor":
            {
                if (value is YamlScalar { IsNull: false })
                    return FunctionRef(value, keyword.Name, FunctionKind.TopicNameExtractor, owner + "_topicNameExtractor") is { } extractorRef
                        ? new TopicNameExtractorSinkSyntax(keyword, extractorRef) : null;
                if (AsMapping(value, "'" + keyword.Name + "'") is not { } m)
                    return null;
                var reader = new MappingReader(_context, m, "'" + keyword.Name + "'", new[] { "topicNameExtractor", "partitioner" });
                var extractor = FunctionField(reader, "topicNameExtractor", FunctionKind.TopicNameExtractor, owner + "_topicNameExtractor");
                if (extractor is null)
                {
                    reader.Node("topicNameExtractor", required: true);
                    return null;
                }
                return new TopicNameExtractorSinkSyntax(keyword, extractor)
                {
                    Partitioner = FunctionField(reader, "partitioner", FunctionKind.StreamPartitioner, owner + "_partitioner"),
                };
            }
            case "forEach":
                return FunctionRef(value, "forEach", FunctionKind.ForEach, owner + "_forEach") is { } action ? new ForEachSinkSyntax(keyword, action) : null;
            case "print":
            {
                var print = new PrintSinkSyntax(keyword);
                if (value is YamlScalar { IsNull: true })
                    return print;
                if (AsMapping(value, "'print'") is not { } m)
                    return null;
                var reader = new MappingReader(_context, m, "'print'", new[] { "filename", "label", "mapper", "name" });
                print.Filename = reader.Name("filename");
                print.Label = reader.Name("label");
                print.Mapper = FunctionField(reader, "mapper", FunctionKind.KeyValuePrinter, owner + "_print_mapper");
                return print;
            }
            case "as":
            {
                if (value is YamlScalar { IsNull: false } s)
                    return new AsSinkSyntax(keyword, new NameSyntax(s.Value, s.Span));
                _context.Report(DiagnosticDescriptors.WrongValueKind, value.Span, "as", "a name", value.KindDescription);
                return null;
            }
            case "branch":
            {
                if (value is not YamlSequence list)
                {
                    _context.Report(DiagnosticDescriptors.WrongValueKind, value.Span, "branch", "a list of branches", value.KindDescription);
                    return null;
                }
                var branch = new BranchSinkSyntax(keyword);
                var index = 0;
                foreach (var item in list.Items)
                {
                    index++;
                    if (AsMapping(item, "a branch") is not { } m)
                        continue;
                    var branchName = owner + "_branch" + index;
                    var known = BranchKeys.Concat(OperationCatalog.SinkKeys).Concat(new[] { "name" }).ToArray();
                    var reader = new MappingReader(_context, m, "branch " + index + " of '" + owner + "'", known.Concat(OperationCatalog.Names), reportUnknown: false);
                    ReportUnknownFlowKeys(reader, known);
                    var entry = new BranchSyntax(m.Span) { If = FunctionField(reader, "if", FunctionKind.Predicate, branchName + "_if") };
                    ParseOperations(reader, branchName, entry.Operations);
                    entry.Sink = ParseSink(reader, branchName);
                    branch.Branches.Add(entry);
                }
                return branch;
            }
            default:
                return null;
        }
    }

    // ---- producers -----------------------------------------------------------------------------

    private ProducerSyntax ParseProducer(YamlMapping mapping, NameSyntax name)
    {
        var reader = new MappingReader(_context, mapping, "producer '" + name.Name + "'", ProducerKeys);
        var producer = new ProducerSyntax(name, mapping.Span)
        {
            Generator = reader.Node("generator", required: true) is { } g ? FunctionRef(g, "generator", FunctionKind.Generator, name.Name + "_generator") : null,
            To = reader.Node("to", required: true) is { } to ? TopicRef(to, "to", TopicKind.Stream, true) : null,
            Interval = reader.Duration("interval"),
            Count = reader.Integer("count", 0),
            BatchSize = (int?)reader.Integer("batchSize", 1, 1000),
            Condition = FunctionField(reader, "condition", FunctionKind.Predicate, name.Name + "_condition"),
            Until = FunctionField(reader, "until", FunctionKind.Predicate, name.Name + "_until"),
        };
        return producer;
    }
}
