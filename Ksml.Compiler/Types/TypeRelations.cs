using System.Linq;

namespace Ksml.Compiler.Types;

/// <summary>Whether a value of one KSML type may flow where another is declared, binding inference variables on the way.</summary>
public static class TypeRelations
{
    /// <summary>
    /// True when <paramref name="source"/> may flow into <paramref name="target"/>. Unbound variables on
    /// either side are bound to the other side; errors unify with anything so mistakes do not cascade.
    /// </summary>
    public static bool Unify(KsmlType source, KsmlType target)
    {
        source = source.Resolve();
        target = target.Resolve();
        if (ReferenceEquals(source, target))
            return true;
        if (target is TypeVariable targetVariable)
        {
            targetVariable.Bind(source);
            return true;
        }
        if (source is TypeVariable sourceVariable)
        {
            sourceVariable.Bind(target);
            return true;
        }
        if (source is ErrorType || target is ErrorType)
            return true;
        if (target is PrimitiveType { Kind: PrimitiveKind.Any } || source is PrimitiveType { Kind: PrimitiveKind.Any })
            return true;

        switch (target)
        {
            case PrimitiveType t when source is PrimitiveType s:
                return s.Kind == t.Kind;
            case PrimitiveType { Kind: PrimitiveKind.String } when source is EnumType:
                return true;
            case EnumType when source is PrimitiveType { Kind: PrimitiveKind.String } or EnumType:
                return true;
            case UnionType union:
                return source is UnionType sourceUnion
                    ? sourceUnion.Members.All(m => union.Members.Any(u => Compatible(m, u)))
                    : union.Members.Any(m => Compatible(source, m));
            case ListType targetList when source is ListType sourceList:
                return Unify(sourceList.Element, targetList.Element);
            case TupleType targetTuple when source is TupleType sourceTuple:
                return targetTuple.Elements.Count == sourceTuple.Elements.Count
                    && targetTuple.Elements.Zip(sourceTuple.Elements, (t, s) => Unify(s, t)).All(ok => ok);
            case WindowedType targetWindowed when source is WindowedType sourceWindowed:
                return Unify(sourceWindowed.Key, targetWindowed.Key);
            case MapType targetMap when source is MapType sourceMap:
                return Unify(sourceMap.Value, targetMap.Value);
        }
        if (source is UnionType u2)
            return u2.Members.Any(m => Compatible(m, target));
        // Structured values (struct, map, json, schema notations) interconvert at run time.
        if (IsRecordLike(source) && IsRecordLike(target))
            return true;
        if (target is NotationType { Notation: "json" or "binary", Schema: null } && source is ListType or TupleType)
            return true;
        // A windowed key leaves for a json-typed topic as its JSON struct (start, end, startTime, endTime, key), as in KSML.
        if (target is NotationType { Notation: "json", Schema: null } && source is WindowedType)
            return true;
        if (source is NotationType { Notation: "json" or "binary", Schema: null } && target is ListType or TupleType)
            return true;
        if (target is NotationType { Schema: null } && source is PrimitiveType { Kind: not PrimitiveKind.Null })
            return target is NotationType { Notation: "binary" or "json" };
        return false;
    }

    /// <summary>Compatibility without binding variables (used for union members).</summary>
    private static bool Compatible(KsmlType source, KsmlType target)
    {
        source = source.Resolve();
        target = target.Resolve();
        if (source is TypeVariable || target is TypeVariable)
            return true;
        return Unify(source, target);
    }

    public static bool IsRecordLike(KsmlType type) => type.Resolve() is StructType or MapType or NotationType;

    /// <summary>Two key types are the same for a join when they unify both ways and have the same CLR form.</summary>
    public static bool SameKey(KsmlType a, KsmlType b) =>
        Unify(a, b) && Unify(b, a) && ClrTypes.Of(a) == ClrTypes.Of(b);
}
