using System.Linq;

namespace Ksml.Compiler.Types;

/// <summary>
/// The C# type that carries a KSML type through the generated topology. Primitives map to C#
/// primitives, structured data to <c>System.Text.Json.Nodes.JsonNode?</c>, anything else to <c>object?</c>.
/// </summary>
public static class ClrTypes
{
    public const string JsonNode = "JsonNode?";
    public const string Object = "object?";

    public static string Of(KsmlType type)
    {
        switch (type.Resolve())
        {
            case PrimitiveType p:
                return p.Kind switch
                {
                    PrimitiveKind.Boolean => "bool?",
                    PrimitiveKind.Byte => "sbyte?",
                    PrimitiveKind.Short => "short?",
                    PrimitiveKind.Int => "int?",
                    PrimitiveKind.Long => "long?",
                    PrimitiveKind.Float => "float?",
                    PrimitiveKind.Double => "double?",
                    PrimitiveKind.String => "string?",
                    PrimitiveKind.Bytes => "byte[]?",
                    _ => Object,
                };
            case EnumType:
                return "string?";
            case WindowedType w:
                return "Windowed<" + Of(w.Key) + ">";
            case UnionType u:
            {
                var nonNull = u.Members.Where(m => m.Resolve() is not PrimitiveType { Kind: PrimitiveKind.Null }).ToList();
                if (nonNull.Count == 1)
                {
                    var single = Of(nonNull[0]);
                    return single.EndsWith("?") ? single : single + "?";
                }
                return Object;
            }
            case StructType or MapType or ListType or TupleType or NotationType:
                return JsonNode;
            default:
                return Object;
        }
    }
}
