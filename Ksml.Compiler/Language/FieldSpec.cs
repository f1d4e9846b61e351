using System;
using System.Collections.Generic;

namespace Ksml.Compiler.Language;

/// <summary>The kind of value a field of an operation or definition holds.</summary>
public enum FieldKind
{
    Function,
    Stream,
    Table,
    GlobalTable,
    Store,
    Duration,
    Type,
    Integer,
    Text,
    Boolean,
    Choice,
}

/// <summary>One field of an operation: its name, kind, whether required, and what it must reference.</summary>
public sealed class FieldSpec
{
    public FieldSpec(string name, FieldKind kind, bool required = false, FunctionKind? function = null, string? storeKind = null, string[]? choices = null)
    {
        Name = name;
        Kind = kind;
        Required = required;
        Function = function;
        StoreKind = storeKind;
        Choices = choices ?? Array.Empty<string>();
    }

    public string Name { get; }
    public FieldKind Kind { get; }
    public bool Required { get; }

    /// <summary>The function type a <see cref="FieldKind.Function"/> field takes.</summary>
    public FunctionKind? Function { get; }

    /// <summary>The store type (keyValue, window, session) a <see cref="FieldKind.Store"/> field takes; null means any.</summary>
    public string? StoreKind { get; }

    public IReadOnlyList<string> Choices { get; }
}
