namespace Ksml.Compiler.Diagnostics;

/// <summary>
/// Every diagnostic the KSML compiler reports. IDs are stable: 00xx syntax and shape, 01xx
/// undefined names, 02xx misuse, 03xx types, 04xx what Streamiz cannot run, 05xx the Python in snippets
/// (found by the build-time Python check, see Checking/Python).
/// Keep AnalyzerReleases.Unshipped.md in Ksml.Generators in step with this list.
/// </summary>
public static class DiagnosticDescriptors
{
    public static readonly DiagnosticDescriptor MalformedYaml = new("KSML0000", "Malformed YAML",
        "Malformed YAML: {0}");

    public static readonly DiagnosticDescriptor UnknownKey = new("KSML0001", "Unknown key",
        "Unknown key '{0}' in {1}.{2}");

    public static readonly DiagnosticDescriptor MissingRequiredField = new("KSML0002", "Missing required field",
        "{0} is missing the required field '{1}'");

    public static readonly DiagnosticDescriptor WrongValueKind = new("KSML0003", "Wrong kind of value",
        "'{0}' must be {1}, but is {2}");

    public static readonly DiagnosticDescriptor DuplicateKey = new("KSML0004", "Duplicate key",
        "Key '{0}' appears more than once in {1}; KSML 2.0 rejects duplicate keys and only one can take effect");

    public static readonly DiagnosticDescriptor DuplicateName = new("KSML0005", "Duplicate name",
        "'{0}' is already defined as a {1} at line {2}; stream, table and globalTable names share one namespace");

    public static readonly DiagnosticDescriptor InvalidValue = new("KSML0006", "Invalid value",
        "'{0}' is not a valid {1}; expected {2}");

    public static readonly DiagnosticDescriptor InvalidType = new("KSML0007", "Invalid type expression",
        "Invalid type '{0}': {1}");

    public static readonly DiagnosticDescriptor ConflictingSinks = new("KSML0008", "More than one sink",
        "Pipeline '{0}' has more than one sink ('{1}' and '{2}'); KSML would silently ignore one, so keep exactly one");

    public static readonly DiagnosticDescriptor MixedPipelineForms = new("KSML0009", "Operations written in two forms",
        "Pipeline '{0}' lists operations both under 'via' and directly on the pipeline; their order would be ambiguous, so use one form");

    public static readonly DiagnosticDescriptor EmptyDefinition = new("KSML0010", "Nothing to build",
        "The definition has no pipelines and no producers, so it builds an empty topology", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor InvalidPythonIdentifier = new("KSML0011", "Name is not a Python identifier",
        "{0} '{1}' must be a Python identifier (letters, digits and '_', not starting with a digit) because Python code refers to it by name");

    public static readonly DiagnosticDescriptor InvalidResilience = new("KSML0012", "Resilience setting cannot apply",
        "resilience.{0}: {1}");

    public static readonly DiagnosticDescriptor InvalidConcurrency = new("KSML0018", "Concurrent calls cannot apply",
        "concurrency: {0}");

    public static readonly DiagnosticDescriptor InvalidBatch = new("KSML0019", "Batched calls cannot apply",
        "batch: {0}");

    public static readonly DiagnosticDescriptor ConflictingFields = new("KSML0013", "Conflicting fields",
        "'{0}' and '{1}' cannot both be given in {2}");

    public static readonly DiagnosticDescriptor IgnoredStoreSetting = new("KSML0014", "Store setting without effect",
        "'{0}' has no effect in {1}: it applies to {2} stores only (KSML ignores it too)", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor CachingWithoutEffect = new("KSML0015", "Store caching without effect",
        "'caching: true' has no effect in {0}: every update is forwarded at once (as Kafka Streams does with cache.max.bytes.buffering 0), because Streamiz swallows errors thrown downstream of a cache flush and no error policy could see them; the results are the same, with every intermediate update", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor CacheKeyMissesParameter = new("KSML0016", "Cache key misses a parameter",
        "function '{0}' uses '{1}' but its cache key '{2}' does not, so a later call with the same key gets an earlier call's result; put '{1}' in the key, or leave 'key' out to key by every argument", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor ConfiguredNotation = new("KSML0017", "Notation not built in",
        "notation '{0}' is not built in{1}; the application starts only if the runner config defines it under ksml.notations (built in are {2})", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor FieldWithoutEffect = new("KSML0020", "Field without effect",
        "'{0}' has no effect {1}: {2}", DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UndefinedStream = new("KSML0100", "Undefined stream",
        "Stream '{0}' is not defined in 'streams', 'tables' or 'globalTables', nor named by an earlier pipeline.{1}");

    public static readonly DiagnosticDescriptor UndefinedTable = new("KSML0101", "Undefined table",
        "Table '{0}' is not defined in 'tables'.{1}");

    public static readonly DiagnosticDescriptor UndefinedGlobalTable = new("KSML0102", "Undefined global table",
        "Global table '{0}' is not defined in 'globalTables'.{1}");

    public static readonly DiagnosticDescriptor UndefinedFunction = new("KSML0103", "Undefined function",
        "Function '{0}' is not defined.{1}");

    public static readonly DiagnosticDescriptor UndefinedStore = new("KSML0104", "Undefined store",
        "Store '{0}' is not defined in 'stores'.{1}");

    public static readonly DiagnosticDescriptor UndefinedTarget = new("KSML0105", "Undefined target topic",
        "'{0}' is not defined in 'streams', 'tables' or 'globalTables'; write the topic inline as 'to: {{topic: ..., keyType: ..., valueType: ...}}' or declare it.{1}");

    public static readonly DiagnosticDescriptor StreamUsedBeforeDefinition = new("KSML0106", "Stream used before its pipeline",
        "Stream '{0}' is produced by pipeline '{1}' at line {2}, which comes later in the file; pipelines are built in file order, so move it up");

    public static readonly DiagnosticDescriptor UndefinedSuiteStream = new("KSML0107", "Undefined test stream",
        "Stream '{0}' is not declared in the suite's 'streams'.{1}");

    public static readonly DiagnosticDescriptor FunctionTypeMismatch = new("KSML0200", "Function of the wrong type",
        "Function '{0}' is {1}, but '{2}' needs {3}");

    public static readonly DiagnosticDescriptor StoresNotAllowed = new("KSML0201", "Function type cannot use stores",
        "Function '{0}' is a {1}, which cannot use state stores; only forEach, predicate and the transformer types can");

    public static readonly DiagnosticDescriptor OperationNotApplicable = new("KSML0202", "Operation on the wrong kind of stream",
        "'{0}' cannot be applied to a {1}; it needs {2}");

    public static readonly DiagnosticDescriptor StoreKindMismatch = new("KSML0203", "Store of the wrong kind",
        "Store '{0}' is a {1} store, but {2} needs a {3} store");

    public static readonly DiagnosticDescriptor ResultTypeNotAllowed = new("KSML0204", "Result type not allowed",
        "Function '{0}' is a {1}, which returns nothing; remove 'resultType'");

    public static readonly DiagnosticDescriptor ResultTypeWrongShape = new("KSML0205", "Result type does not fit the function type",
        "Function '{0}' is a {1}, so its resultType must be {2}, but it is '{3}'");

    public static readonly DiagnosticDescriptor FunctionWithoutBody = new("KSML0206", "Function without code",
        "Function '{0}' is a {1}, which has no default; give it 'code' and/or 'expression'");

    public static readonly DiagnosticDescriptor BranchDefaultNotLast = new("KSML0207", "Unreachable branch",
        "This branch comes after a branch without 'if', which already takes every record; move the default branch last");

    public static readonly DiagnosticDescriptor TypeMismatch = new("KSML0300", "Type mismatch",
        "{0}: expected '{1}', but '{2}' reaches it");

    public static readonly DiagnosticDescriptor JoinKeyMismatch = new("KSML0301", "Join keys differ",
        "Cannot join a stream keyed by '{0}' with '{1}', which is keyed by '{2}'; re-key one side first (transformKey)");

    public static readonly DiagnosticDescriptor CannotInferResultType = new("KSML0302", "Result type cannot be inferred",
        "Cannot infer the result type of function '{0}' from where it is used; add 'resultType' to it");

    public static readonly DiagnosticDescriptor Unsupported = new("KSML0400", "Not supported by Streamiz",
        "{0} is not supported: Ksml.NET runs on Streamiz.Kafka.Net 1.8.2, which has no {1}");

    public static readonly DiagnosticDescriptor PythonNameNotDefined = new("KSML0500", "Python name not defined",
        "{0}");

    public static readonly DiagnosticDescriptor PythonSyntaxError = new("KSML0501", "Python syntax error",
        "{0}");

    public static readonly DiagnosticDescriptor PythonUsedBeforeAssignment = new("KSML0502", "Python name used before assignment",
        "{0}");

    public static readonly DiagnosticDescriptor PythonCallArity = new("KSML0503", "Call does not fit the function's parameters",
        "{0}");

    public static readonly DiagnosticDescriptor PythonModuleNotInstalled = new("KSML0504", "Python module not installed",
        "{0}", DiagnosticSeverity.Warning);

    /// <summary>Every descriptor, for hosts that register them up front (the Roslyn generator).</summary>
    public static readonly System.Collections.Generic.IReadOnlyList<DiagnosticDescriptor> All = new[]
    {
        MalformedYaml,
        UnknownKey,
        MissingRequiredField,
        WrongValueKind,
        DuplicateKey,
        DuplicateName,
        InvalidValue,
        InvalidType,
        ConflictingSinks,
        MixedPipelineForms,
        EmptyDefinition,
        InvalidResilience,
        InvalidPythonIdentifier,
        ConflictingFields,
        IgnoredStoreSetting,
        CachingWithoutEffect,
        CacheKeyMissesParameter,
        FieldWithoutEffect,
        UndefinedStream,
        UndefinedTable,
        UndefinedGlobalTable,
        UndefinedFunction,
        UndefinedStore,
        UndefinedTarget,
        StreamUsedBeforeDefinition,
        UndefinedSuiteStream,
        FunctionTypeMismatch,
        StoresNotAllowed,
        OperationNotApplicable,
        StoreKindMismatch,
        ResultTypeNotAllowed,
        ResultTypeWrongShape,
        FunctionWithoutBody,
        BranchDefaultNotLast,
        TypeMismatch,
        JoinKeyMismatch,
        CannotInferResultType,
        Unsupported,
        PythonNameNotDefined,
        PythonSyntaxError,
        PythonUsedBeforeAssignment,
        PythonCallArity,
        PythonModuleNotInstalled,
    };
}
