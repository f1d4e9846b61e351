"""Ksml.NET's Python side: builds KSML functions so that every line and column Python reports is a
YAML position, gives snippets their `log`, `metrics` and `stores`, and describes exceptions for .NET.

Loaded once per process under its own file name so its own frames read as ksml_bridge.py."""
import ast
import builtins
import keyword
import linecache
import sys
import traceback
import types

# YAML path -> the lines Python shows in tracebacks, rebuilt from the snippets placed at their YAML lines.
_definition_lines = {}


def _show_lines(path, line, column, text):
    lines = _definition_lines.setdefault(path, [])
    snippet = text.splitlines()
    while len(lines) < line - 1 + len(snippet):
        lines.append("\n")
    for index, source in enumerate(snippet):
        lines[line - 1 + index] = " " * (column - 1) + source + "\n"
    # A None mtime keeps linecache.checkcache from evicting a file that does not exist on disk.
    linecache.cache[path] = (sum(len(l) for l in lines), None, lines, path)


def _parse(path, text, line, column, mode):
    """Parses a snippet so that the parser itself reports YAML lines and columns."""
    _show_lines(path, line, column, text)
    try:
        tree = ast.parse("\n" * (line - 1) + text, path, mode)
    except SyntaxError as error:
        if error.offset is not None:
            error.offset += column - 1
        if error.end_offset is not None:
            error.end_offset += column - 1
        if error.text is not None:
            error.text = " " * (column - 1) + error.text
        raise
    if column > 1:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset += column - 1
                if getattr(node, "end_col_offset", None) is not None:
                    node.end_col_offset += column - 1
    return tree


def sync_environment(variables):
    """Makes os.environ what .NET sees: .NET keeps its own copy of variables it sets, which CPython never reads."""
    import os
    for key, value in variables.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def add_module_path(directory):
    """Makes the modules in `directory` importable from snippets, ahead of installed ones."""
    import sys
    if directory not in sys.path:
        sys.path.insert(0, directory)


def build_function(path, name, definition_line, fixed, extras, global_code, code, expression, namespace, bindings):
    """Compiles one KSML function and returns it.

    namespace: the globals all functions of one definition share, as in KSML, where every function's
    globalCode runs in one Python context; bindings: the names only this function sees (log, metrics,
    stores), bound as closure variables.
    fixed: the fixed parameter names; extras: (name, default expression or None) pairs;
    global_code/code/expression: (text, line, column) or None."""
    namespace.setdefault("__builtins__", builtins)
    if global_code is not None:
        exec(compile(_parse(path, *global_code, "exec"), path, "exec"), namespace)

    body = []
    if code is not None:
        body.extend(_parse(path, *code, "exec").body)
    if expression is not None:
        value = _parse(path, *expression, "eval").body
        body.append(ast.Return(value=value, lineno=value.lineno, col_offset=value.col_offset,
                               end_lineno=value.end_lineno, end_col_offset=value.end_col_offset))
    if not body:
        body.append(ast.Pass(lineno=definition_line, col_offset=0, end_lineno=definition_line, end_col_offset=0))

    defaults = []
    for extra_name, default in extras:
        if default is None:
            defaults.append(ast.Constant(value=None))
        else:
            defaults.append(ast.parse(default, path, "eval").body)
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in list(fixed) + [e[0] for e in extras]],
                              vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=defaults)
    end_line = max(getattr(node, "end_lineno", definition_line) or definition_line for node in body)
    first_line = min(definition_line, body[0].lineno)
    function = ast.FunctionDef(name=name, args=arguments, body=body, decorator_list=[], returns=None,
                               lineno=first_line, col_offset=0,
                               end_lineno=max(end_line, definition_line), end_col_offset=0)
    # The function is made inside a maker whose parameters are its own bindings, so they are closure
    # variables of the function while its globals stay the definition's shared namespace.
    maker_name = "__ksml_make_" + name
    maker_arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=b) for b in bindings], vararg=None,
                                    kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    made = ast.Return(value=ast.Name(id=name, ctx=ast.Load()), lineno=function.end_lineno, col_offset=0,
                      end_lineno=function.end_lineno, end_col_offset=0)
    maker = ast.FunctionDef(name=maker_name, args=maker_arguments, body=[function, made], decorator_list=[], returns=None,
                            lineno=first_line, col_offset=0, end_lineno=function.end_lineno, end_col_offset=0)
    if sys.version_info >= (3, 12):
        function.type_params = []
        maker.type_params = []
    module = ast.Module(body=[maker], type_ignores=[])
    ast.fix_missing_locations(module)
    exec(compile(module, path, "exec"), namespace)
    made_function = namespace.pop(maker_name)(**bindings)
    # As in KSML, a definition's functions are globals of its shared context: one calls another by name,
    # e.g. code: log_message(key, value, format="AVRO").
    if name.isidentifier() and not keyword.iskeyword(name):
        namespace[name] = made_function
    return made_function


def describe_error(error):
    """(type, message, file, line, column, function, traceback, class names of the type and its bases) for an exception raised by a KSML function:
    the innermost frame in a definition file locates it; the traceback shows YAML lines."""
    file, line, column, function = "", 0, 0, ""
    tb = error.__traceback__
    while tb is not None:
        frame_file = tb.tb_frame.f_code.co_filename
        if frame_file in _definition_lines:
            file, line, function = frame_file, tb.tb_lineno, tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    message = str(error)
    if type(error).__module__.startswith("System"):
        # A .NET exception raised through pythonnet: its text carries the .NET stack trace, which stays in the traceback.
        message = message.split("\n\n", 1)[0].split("\n   at ", 1)[0].rstrip()
    if isinstance(error, SyntaxError):
        file, line, column = error.filename or file, error.lineno or line, error.offset or 0
        message = error.msg
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    hierarchy = ",".join(cls.__name__ for cls in type(error).__mro__)
    return (type(error).__name__, message, file, line, column, function, text, hierarchy)


# Log levels as Microsoft.Extensions.Logging numbers them.
TRACE, DEBUG, INFO, WARN, ERROR = 0, 1, 2, 3, 4


def _format(message, args):
    if not args:
        return str(message)
    parts = str(message).split("{}")
    out = [parts[0]]
    for index, part in enumerate(parts[1:]):
        out.append(str(args[index]) if index < len(args) else "{}")
        out.append(part)
    if len(args) >= len(parts):
        # More arguments than placeholders: like SLF4J, a trailing exception is shown, others ignored.
        last = args[-1]
        if isinstance(last, BaseException):
            out.append("\n" + "".join(traceback.format_exception(type(last), last, last.__traceback__)))
    return "".join(out)


class Logger:
    """KSML's `log`: SLF4J-style `{}` placeholders; a disabled level costs one comparison."""
    __slots__ = ("_emit", "_level")

    def __init__(self, emit, level):
        self._emit = emit
        self._level = level

    def trace(self, message, *args):
        if self._level <= TRACE:
            self._emit(TRACE, _format(message, args))

    def debug(self, message, *args):
        if self._level <= DEBUG:
            self._emit(DEBUG, _format(message, args))

    def info(self, message, *args):
        if self._level <= INFO:
            self._emit(INFO, _format(message, args))

    def warn(self, message, *args):
        if self._level <= WARN:
            self._emit(WARN, _format(message, args))

    warning = warn

    def error(self, message, *args):
        if self._level <= ERROR:
            self._emit(ERROR, _format(message, args))

    def isTraceEnabled(self):
        return self._level <= TRACE

    def isDebugEnabled(self):
        return self._level <= DEBUG

    def isInfoEnabled(self):
        return self._level <= INFO

    def isWarnEnabled(self):
        return self._level <= WARN

    def isErrorEnabled(self):
        return self._level <= ERROR


class _Counter:
    __slots__ = ("_record",)

    def __init__(self, record):
        self._record = record

    def increment(self, delta=1):
        self._record(delta)


class _Meter:
    __slots__ = ("_record",)

    def __init__(self, record):
        self._record = record

    def mark(self, count=1):
        self._record(count)


class _Timer:
    __slots__ = ("_record",)

    def __init__(self, record):
        self._record = record

    def updateSeconds(self, seconds):
        self._record(seconds * 1000.0)

    def updateMillis(self, millis):
        self._record(float(millis))

    def updateNanos(self, nanos):
        self._record(nanos / 1_000_000.0)


class Metrics:
    """KSML's `metrics`: counter, meter and timer, each created once per name and tags."""
    __slots__ = ("_register", "_instruments")
    _KINDS = {"counter": (0, _Counter), "meter": (1, _Meter), "timer": (2, _Timer)}

    def __init__(self, register):
        self._register = register
        self._instruments = {}

    def _get(self, kind, name, tags):
        key = (kind, name, tuple(sorted((tags or {}).items())))
        instrument = self._instruments.get(key)
        if instrument is None:
            number, cls = self._KINDS[kind]
            instrument = cls(self._register(number, str(name), tuple((str(k), str(v)) for k, v in key[2])))
            self._instruments[key] = instrument
        return instrument

    def counter(self, name, tags=None):
        return self._get("counter", name, tags)

    def meter(self, name, tags=None):
        return self._get("meter", name, tags)

    def timer(self, name, tags=None):
        return self._get("timer", name, tags)


class _Span:
    """A child span of the current one for the length of a `with` block; an exception leaving it marks it failed."""
    __slots__ = ("_trace", "_name")

    def __init__(self, trace, name):
        self._trace = trace
        self._name = name

    def __enter__(self):
        self._trace._start(self._name)
        return self

    def __exit__(self, kind, error, traceback):
        self._trace._stop(None if kind is None else kind.__name__)
        return False


class Trace:
    """Ksml.NET's `trace`: headers() gives the current record's W3C trace context as a dict of strings (for requests'
    headers=, a message's properties), and `with trace.span("lookup"):` opens a child span."""
    __slots__ = ("_headers", "_start", "_stop")

    def __init__(self, headers, start, stop):
        self._headers = headers
        self._start = start
        self._stop = stop

    def headers(self):
        return self._headers()

    def span(self, name):
        return _Span(self, str(name))


class StoreIterator(list):
    """What a store's all(), fetch() and findSessions() return: a list, which can also be walked as KSML's
    iterators are (hasNext(), next(), close()), as KSML's own store tests do."""

    def __init__(self, items):
        super().__init__(items)
        self._at = 0

    def hasNext(self):
        return self._at < len(self)

    def next(self):
        if self._at >= len(self):
            return None
        self._at += 1
        return self[self._at - 1]

    def close(self):
        self._at = len(self)


def _iterating(method, backward=False):
    def call(*args):
        result = method(*args)
        if type(result) is not list:
            return result
        return StoreIterator(reversed(result) if backward else result)
    return call


# Methods answering many entries, and their newest-first twins (KSML's window and session stores have both).
_BACKWARD = {"all": "backwardAll", "fetch": "backwardFetch", "fetchAll": "backwardFetchAll", "findSessions": "backwardFindSessions"}


def make_store(kind, methods):
    """A store proxy whose methods are the runtime's builtins, called without a Python frame in between
    (those returning many entries get one, to give their list KSML's iterator methods)."""
    proxy = {name: _iterating(m) if name in _BACKWARD else m for name, m in methods.items()}
    proxy.update({_BACKWARD[name]: _iterating(m, backward=True) for name, m in methods.items() if name in _BACKWARD})
    return types.SimpleNamespace(kind=kind, **proxy)
