using System;
using System.Collections.Generic;
using System.Linq;
using Ksml.Compiler.Binding;
using Ksml.Compiler.Language;
using Ksml.Compiler.Syntax;

namespace Ksml.Compiler.Operations;

/// <summary>
/// One KSML pipeline operation in one place: its shape (name, aliases, fields, the field a compact form fills),
/// how it binds (what it applies to, what it checks, the shape it produces) and how it lowers to a call of
/// Ksml.Runtime. The parser reads the shape, the binder calls <see cref="Bind"/>, the emitter <see cref="Emit"/>.
/// </summary>
public abstract class PipelineOperation
{
    protected PipelineOperation(string name, string[] aliases, string? primaryField, params FieldSpec[] fields)
    {
        Name = name;
        Aliases = aliases;
        PrimaryField = primaryField;
        Fields = fields;
    }

    public string Name { get; }
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>The field a scalar value fills in the compact form (<c>filter: is_valid</c> → <c>if</c>).</summary>
    public string? PrimaryField { get; }

    public IReadOnlyList<FieldSpec> Fields { get; }

    public FieldSpec? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    /// <summary>Whether a function with <c>concurrency:</c> may have calls in flight at once here, on a stream.</summary>
    public virtual bool CallsConcurrently => false;

    /// <summary>Whether the records leave with a new key, so a later grouping or join repartitions.</summary>
    public virtual bool ChangesKey => false;

    /// <summary>Session and sliding windows, which the runtime builds itself from the grouped records.</summary>
    public virtual bool BuildsOwnWindows(OperationSyntax syntax) => false;

    /// <summary>Checks the operation against its input and returns the shape it produces.</summary>
    public abstract StreamShape Bind(OperationBinding binding);

    /// <summary>The C# expression that applies the operation to the stream in <see cref="OperationEmission.Receiver"/>.</summary>
    public abstract string Emit(OperationEmission emission);

    /// <summary>The extent of the windows the operation makes; null when it makes none.</summary>
    public virtual WindowExtent? WindowOf(OperationSyntax syntax) => null;

    /// <summary>
    /// The internal topics the runtime adds for the operation (shown in the topology diagram), given whether an
    /// earlier step changed the key.
    /// </summary>
    public virtual IEnumerable<string> InternalTopics(BoundOperation operation, bool keyChanged) => Array.Empty<string>();

    protected static FieldSpec Fn(string name, FunctionKind kind, bool required = false) => new(name, FieldKind.Function, required, kind);
    protected static FieldSpec Store(string? kind = "keyValue") => new("store", FieldKind.Store, storeKind: kind);
    protected static FieldSpec Dur(string name, bool required = false) => new(name, FieldKind.Duration, required);
    protected static readonly string[] NoAliases = Array.Empty<string>();
}
