using System.Runtime.InteropServices;

namespace Ksml.Runtime.Python;

/// <summary>
/// The slice of CPython's stable C API the per-record path uses, bound once from the loaded
/// libpython. Going through these instead of pythonnet's wrapper objects is what keeps a record's
/// round trip at a few microseconds (see docs/benchmarks.md). Every function returning a pointer
/// returns a new reference unless its name says Borrowed.
/// </summary>
internal static unsafe class CPython
{
    public const int FileInput = 257;
    public const int MethFastCall = 0x0080;
    public const ulong TpFlagsLongSubclass = 1UL << 24;
    public const ulong TpFlagsListSubclass = 1UL << 25;
    public const ulong TpFlagsTupleSubclass = 1UL << 26;
    public const ulong TpFlagsBytesSubclass = 1UL << 27;
    public const ulong TpFlagsUnicodeSubclass = 1UL << 28;
    public const ulong TpFlagsDictSubclass = 1UL << 29;

    // SuppressGCTransition skips the cooperative/preemptive switch (tens of ns, several times per field)
    // on calls that are short and can never run Python code or call back into .NET: scalar
    // constructors, accessors, and stores into fresh containers. Anything that may allocate a
    // GC-tracked object (a collection can run __del__), run a call, block or deallocate stays a normal call.
    private static delegate* unmanaged[SuppressGCTransition]<nint, void> _incRef;
    private static delegate* unmanaged<nint, void> _decRef;
    private static delegate* unmanaged<nint, void> _dealloc;
    private static bool _inlineRefCounts;

    // Reference counting is the most frequent C-API operation per record (several per field). Up to
    // CPython 3.11 Py_INCREF/Py_DECREF are `ob_refcnt++` and `if (--ob_refcnt == 0) _Py_Dealloc(o)` on
    // the object's first field, so they are done here inline (the GIL is always held); 3.12 brought
    // immortal objects and other builds differ, so anything else goes through Py_IncRef/Py_DecRef.
    public static void IncRef(nint o)
    {
        if (_inlineRefCounts)
            (*(nint*)o)++;
        else
            _incRef(o);
    }

    /// <summary><c>Py_XDECREF</c>: null is ignored.</summary>
    public static void DecRef(nint o)
    {
        if (o == 0)
            return;
        if (!_inlineRefCounts)
            _decRef(o);
        else if (--(*(nint*)o) == 0)
            _dealloc(o);
    }
    public static delegate* unmanaged<int> GILStateEnsure;
    public static delegate* unmanaged<int, void> GILStateRelease;
    public static delegate* unmanaged<nint> GILStateGetThisThreadState;
    public static delegate* unmanaged<nint> EvalSaveThread;

    public static delegate* unmanaged[SuppressGCTransition]<long, nint> LongFromLongLong;
    public static delegate* unmanaged<nint, long> LongAsLongLong;
    public static delegate* unmanaged<nint, double> LongAsDouble;
    public static delegate* unmanaged[SuppressGCTransition]<double, nint> FloatFromDouble;
    public static delegate* unmanaged<nint, double> FloatAsDouble;
    public static delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint> UnicodeFromStringAndSize;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint*, byte*> UnicodeAsUtf8AndSize;
    public static delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint> BytesFromStringAndSize;
    public static delegate* unmanaged[SuppressGCTransition]<nint, byte*> BytesAsString;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint> BytesSize;
    public static delegate* unmanaged<nint> DictNew;
    private static delegate* unmanaged<nint, nint> _dictNewPresized;

    /// <summary>A dict with room for <paramref name="size"/> items: CPython's own sized constructor (BUILD_MAP's), where the build exports it.</summary>
    public static nint DictNewPresized(nint size) => _dictNewPresized != null ? _dictNewPresized(size) : DictNew();
    public static delegate* unmanaged<nint, nint> DictCopy;
    public static delegate* unmanaged<nint, nint, nint, nint> ListGetSlice;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int> DictSetItem;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint*, nint*, nint*, int> DictNext;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint> DictSize;
    public static delegate* unmanaged<nint, nint> ListNew;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int> ListSetItem;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint> ListSize;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint, nint> ListGetItemBorrowed;
    public static delegate* unmanaged<nint, nint> TupleNew;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int> TupleSetItem;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint> TupleSize;
    public static delegate* unmanaged[SuppressGCTransition]<nint, nint, nint> TupleGetItemBorrowed;
    public static delegate* unmanaged<nint, nint*, nuint, nint, nint> Vectorcall;
    public static delegate* unmanaged<nint, nint, nint> CallObject;
    public static delegate* unmanaged[SuppressGCTransition]<nint> ErrOccurredBorrowed;
    public static delegate* unmanaged<nint*, nint*, nint*, void> ErrFetch;
    public static delegate* unmanaged<nint*, nint*, nint*, void> ErrNormalizeException;
    public static delegate* unmanaged<nint, nint, int> ExceptionSetTraceback;
    public static delegate* unmanaged<nint, byte*, void> ErrSetString;
    public static delegate* unmanaged<void> ErrClear;
    public static delegate* unmanaged<nint, nint, int> TypeIsSubtype;
    public static delegate* unmanaged[SuppressGCTransition]<nint, ulong> TypeGetFlags;
    public static delegate* unmanaged<nint, nint> ObjectStr;
    public static delegate* unmanaged<nint, byte*, nint> ObjectGetAttrString;
    public static delegate* unmanaged<byte*, byte*, int, nint> CompileString;
    public static delegate* unmanaged<byte*, nint, byte*, nint> ImportExecCodeModuleEx;
    public static delegate* unmanaged<byte*, nint> ImportImportModule;
    public static delegate* unmanaged<nint, nint, nint, nint> CFunctionNewEx;
    public static delegate* unmanaged<nuint> ThreadGetIdent;
    public static delegate* unmanaged<nuint, nint, int> ThreadStateSetAsyncExc;

    public static nint None, True, False;
    public static nint LongType, FloatType, UnicodeType, BytesType, DictType, ListType, TupleType, BoolType;
    public static nint RuntimeError, TimeoutError;

    private static bool _bound;

    /// <summary>Binds every entry point from <paramref name="library"/>; the names are CPython's own.</summary>
    public static void Bind(string library)
    {
        if (_bound)
            return;
        var handle = NativeLibrary.Load(library);
        nint F(string name) => NativeLibrary.GetExport(handle, name);

        _incRef = (delegate* unmanaged[SuppressGCTransition]<nint, void>)F("Py_IncRef");
        _decRef = (delegate* unmanaged<nint, void>)F("Py_DecRef");
        var version = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)F("Py_GetVersion"))()) ?? "";
        var plainRefCounts = version.StartsWith("3.9.", StringComparison.Ordinal) || version.StartsWith("3.10.", StringComparison.Ordinal) || version.StartsWith("3.11.", StringComparison.Ordinal);
        if (plainRefCounts && NativeLibrary.TryGetExport(handle, "_Py_Dealloc", out var dealloc))
        {
            _dealloc = (delegate* unmanaged<nint, void>)dealloc;
            _inlineRefCounts = true;
        }
        GILStateEnsure = (delegate* unmanaged<int>)F("PyGILState_Ensure");
        GILStateRelease = (delegate* unmanaged<int, void>)F("PyGILState_Release");
        GILStateGetThisThreadState = (delegate* unmanaged<nint>)F("PyGILState_GetThisThreadState");
        EvalSaveThread = (delegate* unmanaged<nint>)F("PyEval_SaveThread");
        LongFromLongLong = (delegate* unmanaged[SuppressGCTransition]<long, nint>)F("PyLong_FromLongLong");
        LongAsLongLong = (delegate* unmanaged<nint, long>)F("PyLong_AsLongLong");
        LongAsDouble = (delegate* unmanaged<nint, double>)F("PyLong_AsDouble");
        FloatFromDouble = (delegate* unmanaged[SuppressGCTransition]<double, nint>)F("PyFloat_FromDouble");
        FloatAsDouble = (delegate* unmanaged<nint, double>)F("PyFloat_AsDouble");
        UnicodeFromStringAndSize = (delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint>)F("PyUnicode_FromStringAndSize");
        UnicodeAsUtf8AndSize = (delegate* unmanaged[SuppressGCTransition]<nint, nint*, byte*>)F("PyUnicode_AsUTF8AndSize");
        BytesFromStringAndSize = (delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint>)F("PyBytes_FromStringAndSize");
        BytesAsString = (delegate* unmanaged[SuppressGCTransition]<nint, byte*>)F("PyBytes_AsString");
        BytesSize = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)F("PyBytes_Size");
        DictNew = (delegate* unmanaged<nint>)F("PyDict_New");
        _dictNewPresized = NativeLibrary.TryGetExport(handle, "_PyDict_NewPresized", out var presized) ? (delegate* unmanaged<nint, nint>)presized : null;
        DictCopy = (delegate* unmanaged<nint, nint>)F("PyDict_Copy");
        ListGetSlice = (delegate* unmanaged<nint, nint, nint, nint>)F("PyList_GetSlice");
        DictSetItem = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int>)F("PyDict_SetItem");
        DictNext = (delegate* unmanaged[SuppressGCTransition]<nint, nint*, nint*, nint*, int>)F("PyDict_Next");
        DictSize = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)F("PyDict_Size");
        ListNew = (delegate* unmanaged<nint, nint>)F("PyList_New");
        ListSetItem = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int>)F("PyList_SetItem");
        ListSize = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)F("PyList_Size");
        ListGetItemBorrowed = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint>)F("PyList_GetItem");
        TupleNew = (delegate* unmanaged<nint, nint>)F("PyTuple_New");
        TupleSetItem = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint, int>)F("PyTuple_SetItem");
        TupleSize = (delegate* unmanaged[SuppressGCTransition]<nint, nint>)F("PyTuple_Size");
        TupleGetItemBorrowed = (delegate* unmanaged[SuppressGCTransition]<nint, nint, nint>)F("PyTuple_GetItem");
        Vectorcall = (delegate* unmanaged<nint, nint*, nuint, nint, nint>)F("PyObject_Vectorcall");
        CallObject = (delegate* unmanaged<nint, nint, nint>)F("PyObject_CallObject");
        ErrOccurredBorrowed = (delegate* unmanaged[SuppressGCTransition]<nint>)F("PyErr_Occurred");
        ErrFetch = (delegate* unmanaged<nint*, nint*, nint*, void>)F("PyErr_Fetch");
        ErrNormalizeException = (delegate* unmanaged<nint*, nint*, nint*, void>)F("PyErr_NormalizeException");
        ExceptionSetTraceback = (delegate* unmanaged<nint, nint, int>)F("PyException_SetTraceback");
        ErrSetString = (delegate* unmanaged<nint, byte*, void>)F("PyErr_SetString");
        ErrClear = (delegate* unmanaged<void>)F("PyErr_Clear");
        TypeIsSubtype = (delegate* unmanaged<nint, nint, int>)F("PyType_IsSubtype");
        TypeGetFlags = (delegate* unmanaged[SuppressGCTransition]<nint, ulong>)F("PyType_GetFlags");
        ObjectStr = (delegate* unmanaged<nint, nint>)F("PyObject_Str");
        ObjectGetAttrString = (delegate* unmanaged<nint, byte*, nint>)F("PyObject_GetAttrString");
        CompileString = (delegate* unmanaged<byte*, byte*, int, nint>)F("Py_CompileString");
        ImportExecCodeModuleEx = (delegate* unmanaged<byte*, nint, byte*, nint>)F("PyImport_ExecCodeModuleEx");
        ImportImportModule = (delegate* unmanaged<byte*, nint>)F("PyImport_ImportModule");
        CFunctionNewEx = (delegate* unmanaged<nint, nint, nint, nint>)F("PyCFunction_NewEx");
        ThreadGetIdent = (delegate* unmanaged<nuint>)F("PyThread_get_thread_ident");
        ThreadStateSetAsyncExc = (delegate* unmanaged<nuint, nint, int>)F("PyThreadState_SetAsyncExc");

        None = F("_Py_NoneStruct");
        True = F("_Py_TrueStruct");
        False = F("_Py_FalseStruct");
        LongType = F("PyLong_Type");
        FloatType = F("PyFloat_Type");
        UnicodeType = F("PyUnicode_Type");
        BytesType = F("PyBytes_Type");
        DictType = F("PyDict_Type");
        ListType = F("PyList_Type");
        TupleType = F("PyTuple_Type");
        BoolType = F("PyBool_Type");
        RuntimeError = *(nint*)F("PyExc_RuntimeError");
        TimeoutError = *(nint*)F("PyExc_TimeoutError");
        _bound = true;
    }

    /// <summary><c>Py_TYPE(o)</c>: <c>ob_type</c> follows <c>ob_refcnt</c> in every release build of CPython 3.</summary>
    public static nint TypeOf(nint o) => *(nint*)(o + 8);

    public static nint NewRef(nint o)
    {
        IncRef(o);
        return o;
    }

    /// <summary>A C string that lives as long as the process (method names, docs).</summary>
    public static byte* PermanentUtf8(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text + "\0");
        var memory = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(memory, bytes.Length));
        return memory;
    }
}
