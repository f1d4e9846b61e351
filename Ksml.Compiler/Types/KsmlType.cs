using System;
using System.Collections.Generic;
using System.Linq;

namespace Ksml.Compiler.Types;

/// <summary>
/// A KSML data type (<c>string</c>, <c>[struct]</c>, <c>(string, json)</c>, <c>avro:Order</c>, …).
/// Inference adds <see cref="TypeVariable"/>s, which are resolved through <see cref="Resolve"/>.
/// </summary>
public abstract class KsmlType
{
    /// <summary>Follows bound type variables to the type they stand for.</summary>
    public virtual KsmlType Resolve() => this;

    /// <summary>True when the type (after resolution) still holds an unbound variable.</summary>
    public virtual bool HasUnresolvedVariables => false;

    /// <summary>The KSML spelling, e.g. <c>(string, [json])</c>.</summary>
    public abstract override string ToString();

    public static readonly PrimitiveType Boolean = new(PrimitiveKind.Boolean);
    public static readonly PrimitiveType Byte = new(PrimitiveKind.Byte);
    public static readonly PrimitiveType Short = new(PrimitiveKind.Short);
    public static readonly PrimitiveType Int = new(PrimitiveKind.Int);
    public static readonly PrimitiveType Long = new(PrimitiveKind.Long);
    public static readonly PrimitiveType Float = new(PrimitiveKind.Float);
    public static readonly PrimitiveType Double = new(PrimitiveKind.Double);
    public static readonly PrimitiveType String = new(PrimitiveKind.String);
    public static readonly PrimitiveType Bytes = new(PrimitiveKind.Bytes);
    public static readonly PrimitiveType Null = new(PrimitiveKind.Null);
    public static readonly PrimitiveType Any = new(PrimitiveKind.Any);
    public static readonly StructType Struct = new(null);
    public static readonly NotationType Json = new("json", null);
    public static readonly NotationType Binary = new("binary", null);
    public static readonly ErrorType Error = new();

    /// <summary>The record metadata a metadataTransformer receives and returns.</summary>
    public static readonly StructType Metadata = new("metadata");
}

public enum PrimitiveKind
{
    Boolean,
    Byte,
    Short,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    Null,
    Any,
}

public sealed class PrimitiveType : KsmlType
{
    internal PrimitiveType(PrimitiveKind kind) => Kind = kind;

    public PrimitiveKind Kind { get; }

    public override string ToString() => Kind switch
    {
        PrimitiveKind.Any => "any",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary><c>struct</c> (an untyped record), or a named structure such as the record metadata.</summary>
public sealed class StructType : KsmlType
{
    internal StructType(string? name) => Name = name;

    public string? Name { get; }

    public override string ToString() => Name ?? "struct";
}

/// <summary>A value in a serialisation notation: <c>json</c>, <c>avro:Order</c>, bare <c>avro</c> (schema from the registry), <c>xml:Doc</c>.</summary>
public sealed class NotationType : KsmlType
{
    public NotationType(string notation, string? schema)
    {
        Notation = notation;
        Schema = schema;
    }

    public string Notation { get; }
    public string? Schema { get; }

    public override string ToString() => Schema is null ? Notation : Notation + ":" + Schema;
}

public sealed class ListType : KsmlType
{
    public ListType(KsmlType element) => Element = element;

    public KsmlType Element { get; }

    public override bool HasUnresolvedVariables => Element.Resolve().HasUnresolvedVariables;

    public override string ToString() => "[" + Element.Resolve() + "]";
}

public sealed class MapType : KsmlType
{
    public MapType(KsmlType value) => Value = value;

    public KsmlType Value { get; }

    public override bool HasUnresolvedVariables => Value.Resolve().HasUnresolvedVariables;

    public override string ToString() => "map(" + Value.Resolve() + ")";
}

public sealed class TupleType : KsmlType
{
    public TupleType(IReadOnlyList<KsmlType> elements) => Elements = elements;

    public IReadOnlyList<KsmlType> Elements { get; }

    public override bool HasUnresolvedVariables => Elements.Any(e => e.Resolve().HasUnresolvedVariables);

    public override string ToString() => "(" + string.Join(", ", Elements.Select(e => e.Resolve().ToString())) + ")";
}

public sealed class UnionType : KsmlType
{
    public UnionType(IReadOnlyList<KsmlType> members) => Members = members;

    public IReadOnlyList<KsmlType> Members { get; }

    public override string ToString() => "union(" + string.Join(", ", Members.Select(m => m.ToString())) + ")";
}

public sealed class EnumType : KsmlType
{
    public EnumType(IReadOnlyList<string> symbols) => Symbols = symbols;

    public IReadOnlyList<string> Symbols { get; }

    public override string ToString() => "enum(" + string.Join(", ", Symbols) + ")";
}

public sealed class WindowedType : KsmlType
{
    public WindowedType(KsmlType key, string? notation = null)
    {
        Key = key;
        Notation = notation;
    }

    public KsmlType Key { get; }

    /// <summary>
    /// The notation a topic holds the key in (<c>avro:windowed(K)</c>: a record of start, end, startTime,
    /// endTime and key); null for the JSON struct form, which is also what snippets see.
    /// </summary>
    public string? Notation { get; }

    public override bool HasUnresolvedVariables => Key.Resolve().HasUnresolvedVariables;

    public override string ToString() => (Notation is null ? "" : Notation + ":") + "windowed(" + Key.Resolve() + ")";
}

/// <summary>Stands for a type that failed to bind; unifies with anything so one mistake gives one diagnostic.</summary>
public sealed class ErrorType : KsmlType
{
    internal ErrorType() { }

    public override string ToString() => "?error";
}

/// <summary>A type that inference has yet to fix, e.g. the result of a function without <c>resultType</c>.</summary>
public sealed class TypeVariable : KsmlType
{
    public TypeVariable(string description) => Description = description;

    /// <summary>What the variable stands for, for messages ("the result of 'enrich'").</summary>
    public string Description { get; }

    public KsmlType? Binding { get; private set; }

    public void Bind(KsmlType type)
    {
        if (Binding is not null)
            throw new InvalidOperationException("Type variable already bound: " + Description);
        Binding = type;
    }

    public override KsmlType Resolve()
    {
        var type = Binding?.Resolve() ?? this;
        return type;
    }

    public override bool HasUnresolvedVariables => Binding is null || Binding.Resolve().HasUnresolvedVariables;

    public override string ToString() => Binding is null ? "?" : Binding.Resolve().ToString();
}
