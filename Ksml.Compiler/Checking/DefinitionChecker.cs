using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Diagnostics;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;
using Ksml.Compiler.Types;
using Ksml.Yaml;

namespace Ksml.Compiler.Checking;

/// <summary>
/// Checks on the bound model that need the whole file: functions whose declaration does not fit
/// their type, stores on function types that cannot take them, and result types inference could not fix.
/// </summary>
public static class DefinitionChecker
{
    /// <summary>The function types whose operations forward one result per record or none, so calls can overlap.</summary>
    private static readonly FunctionKind[] ConcurrentKinds =
    {
        FunctionKind.ValueTransformer, FunctionKind.KeyTransformer, FunctionKind.KeyValueTransformer,
        FunctionKind.KeyValueToKeyValueListTransformer, FunctionKind.KeyValueToValueListTransformer,
        FunctionKind.Predicate, FunctionKind.ForEach,
    };

    public static void Check(BoundDefinition definition, List<KsmlDiagnostic> diagnostics)
    {
        void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object?[] args) =>
            diagnostics.Add(descriptor.Create(definition.Path, span, args));

        foreach (var function in definition.Functions.Distinct())
        {
            var syntax = function.Syntax;
            var kind = function.Kind;
            if (syntax.Stores.Count > 0 && !kind.StoresAllowed && !kind.IsGeneric)
                Report(DiagnosticDescriptors.StoresNotAllowed, syntax.StoresSpan ?? syntax.Name.Span, function.Name, kind.Name);

            if (syntax.ResultType is { Type: { } declared } resultType)
            {
                if (kind.Result == ResultShape.None)
                    Report(DiagnosticDescriptors.ResultTypeNotAllowed, resultType.Span, function.Name, kind.Name);
                else if (kind.Result == ResultShape.Fixed && function.Result is { } fixedType && !TypeRelations.Unify(declared, fixedType))
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, resultType.Span, function.Name, kind.Name, "'" + fixedType + "'", resultType.Text);
                else if (kind.Result == ResultShape.KeyValueList && declared is not ListType { Element: TupleType { Elements.Count: 2 } })
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, resultType.Span, function.Name, kind.Name, "a list of (key, value) tuples such as '[(string, json)]'", resultType.Text);
                else if (kind.Result == ResultShape.ValueList && declared is not ListType)
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, resultType.Span, function.Name, kind.Name, "a list such as '[json]'", resultType.Text);
                else if (kind.Result == ResultShape.KeyValue && kind != FunctionKind.Generator && declared is not TupleType { Elements.Count: 2 })
                    Report(DiagnosticDescriptors.ResultTypeWrongShape, resultType.Span, function.Name, kind.Name, "a (key, value) tuple such as '(string, json)'", resultType.Text);
            }

            if (syntax.Code is null && syntax.Expression is null && kind.DefaultExpression is null && !kind.IsGeneric)
                Report(DiagnosticDescriptors.FunctionWithoutBody, syntax.Name.Span, function.Name, kind.Name);

            if (function.Uses.Count > 0 && function.Result is { HasUnresolvedVariables: true } && syntax.ResultType is null)
                Report(DiagnosticDescriptors.CannotInferResultType, syntax.Name.Span, function.Name);

            if (syntax.Resilience is { } resilience)
            {
                if (resilience.Cache is { } cache && syntax.Stores.Count > 0)
                    Report(DiagnosticDescriptors.InvalidResilience, cache.Span, "cache", $"function '{function.Name}' uses stores, so its result depends on more than its arguments and cannot be cached");
                else if (resilience.Cache is { } noResult && kind.Result == ResultShape.None)
                    Report(DiagnosticDescriptors.InvalidResilience, noResult.Span, "cache", $"a {kind.Name} returns nothing to cache");
                if (resilience.Cache is { Key: { } cacheKey } && syntax.Stores.Count == 0)
                {
                    var keyNames = PythonNames.In(cacheKey.Text);
                    var bodyNames = PythonNames.In((syntax.Code?.Text ?? "") + "\n" + (syntax.Expression?.Text ?? ""));
                    var left = kind.Parameters.Concat(syntax.Parameters.Select(p => p.Name.Name))
                        .Where(p => bodyNames.Contains(p) && !keyNames.Contains(p)).ToList();
                    if (left.Count > 0)
                        Report(DiagnosticDescriptors.CacheKeyMissesParameter, cacheKey.Span, function.Name, string.Join("', '", left), cacheKey.Text.Trim());
                }
                if (resilience.CircuitBreaker is { Fallback: { } fallback } && kind.Result == ResultShape.None)
                    Report(DiagnosticDescriptors.InvalidResilience, fallback.Span, "circuitBreaker.fallback", $"a {kind.Name} has no result to fall back to; without a fallback an open breaker skips the call");
            }
        }

        // ---- concurrency --------------------------------------------------------------------------------
        foreach (var function in definition.Functions.Distinct())
        {
            if (function.Syntax.Concurrency is not { } concurrency)
                continue;
            if (!ConcurrentKinds.Contains(function.Kind) && !function.Kind.IsGeneric)
                Report(DiagnosticDescriptors.InvalidConcurrency, concurrency.Span,
                    $"{function.Kind.WithArticle} cannot run concurrently: its operation needs each call's result before it can take the next record; concurrency applies to the function types whose operation forwards one result per record or none ({string.Join(", ", ConcurrentKinds.Select(k => k.Name))})");
            else if (function.Syntax.Stores.Count > 0)
                Report(DiagnosticDescriptors.InvalidConcurrency, concurrency.Span,
                    $"function '{function.Name}' uses stores, which belong to the stream task and cannot be used from calls running at once");
        }

        foreach (var function in definition.Functions.Distinct())
        {
            if (function.Syntax.Batch is not { } batch)
                continue;
            if (function.Kind != FunctionKind.ForEach && !function.Kind.IsGeneric)
                Report(DiagnosticDescriptors.InvalidBatch, batch.Span, $"{function.Kind.WithArticle} gives a result per record, which a batch cannot map back; batch applies to a forEach");
            else if (function.Syntax.Stores.Count > 0)
                Report(DiagnosticDescriptors.InvalidBatch, batch.Span, $"function '{function.Name}' uses stores, whose reads and writes belong to each record, not to a batch");
            else if (function.Syntax.Concurrency is not null)
                Report(DiagnosticDescriptors.InvalidBatch, batch.Span, $"function '{function.Name}' also declares concurrency; a batch is one call already, give it one or the other");
        }

        // A versioned store serves functions (get as of a time) and tables read from a topic (the runtime keeps their
        // versions and joins streams with them by time); a global table or an operation materialized in one is not built.
        var materializing = definition.Topics.Where(t => t.Kind != TopicKind.Table).Select(t => t.Store)
            .Concat(definition.Pipelines.SelectMany(p => p.Operations).SelectMany(o => o.Stores.Values))
            .OfType<BoundStore>().ToList();
        foreach (var store in definition.Stores)
        {
            if (store.Syntax.Versioned && materializing.Contains(store))
                diagnostics.Add(DiagnosticDescriptors.Unsupported.Create(definition.Path, store.Syntax.Span, "A global table or an operation materialized in a versioned key-value store", "versioned stores outside tables"));
        }
    }
}
