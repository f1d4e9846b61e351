using System.Collections.Generic;
using Ksml.Yaml;

namespace Ksml.Compiler.Syntax;

/// <summary>
/// A KSML test suite (KSML 1.3's YAML test runner format, <c>ksml-test-spec.json</c>): a definition to
/// test, named topic bindings, and tests that produce records and assert on outputs and stores.
/// </summary>
public sealed record TestSuiteSyntax(
    string Path,
    string? Name,
    NameSyntax? Definition,
    string? SchemaDirectory,
    string? ModuleDirectory,
    IReadOnlyList<TestStreamSyntax> Streams,
    IReadOnlyList<TestCaseSyntax> Tests);

/// <summary>A suite's <c>streams:</c> entry: an id bound to a topic and its key and value types.</summary>
public sealed record TestStreamSyntax(NameSyntax Id, string Topic, TypeSyntax KeyType, TypeSyntax ValueType, SourceSpan Span);

/// <summary>One hermetic test: records to produce, then assertions.</summary>
public sealed record TestCaseSyntax(NameSyntax Id, string? Description, IReadOnlyList<TestProduceSyntax> Produce, IReadOnlyList<TestAssertSyntax> Asserts, SourceSpan Span);

/// <summary>Records for one stream: inline <see cref="Messages"/>, or a Python <see cref="Generator"/> called <see cref="Count"/> times.</summary>
public sealed record TestProduceSyntax(NameSyntax To, IReadOnlyList<TestMessageSyntax> Messages, TestGeneratorSyntax? Generator, long Count, SourceSpan Span);

/// <summary>An inline message; key and value stay YAML until the stream's types say what they become.</summary>
public sealed record TestMessageSyntax(YamlNode Key, YamlNode Value, long? Timestamp, SourceSpan Span);

/// <summary>A generator function written inline in a produce block (KSML's generator syntax).</summary>
public sealed record TestGeneratorSyntax(SnippetSyntax? GlobalCode, SnippetSyntax? Code, SnippetSyntax? Expression, TypeSyntax? ResultType, SourceSpan Span);

/// <summary>Python <c>assert</c> statements over <c>records</c> of a stream (<see cref="On"/>) and/or the listed stores.</summary>
public sealed record TestAssertSyntax(NameSyntax? On, IReadOnlyList<NameSyntax> Stores, SnippetSyntax Code, SourceSpan Span);
