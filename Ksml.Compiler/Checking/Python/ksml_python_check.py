"""Ksml.NET's build-time check of the Python in KSML definitions.

Reads a JSON request on stdin (written by PythonCheckRequest.cs) and prints one line per finding:
    <definition index>\t<id>\t<line>\t<column>\t<end line>\t<end column>\t<message>
with YAML lines and 1-based columns. Python's own `ast` and `symtable` decide syntax and scoping, so the
check agrees with the interpreter that will run the snippets. Each function is checked the way
ksml_bridge.build_function builds it: its code and expression are the body of a function whose
parameters are the fixed and declared ones, in a namespace the definition's functions share."""
import ast
import builtins
import difflib
import importlib.util
import json
import sys
import symtable

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
               ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
COMPREHENSION_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp",
                       ast.GeneratorExp: "genexpr"}
COMPREHENSION_SCOPES = set(COMPREHENSION_NAMES.values())
LOOPS = (ast.For, ast.AsyncFor, ast.While)
# pythonnet's module, which the embedded interpreter provides; after `import clr`, imports may name .NET namespaces.
CLR_MODULE = "clr"


class Snippet:
    """A snippet's text and where it starts in the YAML."""

    def __init__(self, raw, part):
        self.text = raw["text"]
        self.line = raw["line"]
        self.column = raw["column"]
        self.part = part


class Placed:
    """Source text assembled from snippets, with the YAML place of every line it holds."""

    def __init__(self):
        self.lines = []
        self.origins = []  # per line: (snippet, line index in snippet, prefix width) or None

    def add(self, text, origin=None):
        self.lines.append(text)
        self.origins.append(origin)

    def add_snippet(self, snippet, prefix):
        for index, text in enumerate(snippet.text.split("\n")):
            self.add(prefix + text, (snippet, index, len(prefix)))

    def text(self):
        return "\n".join(self.lines) + "\n"

    def yaml(self, line, column):
        """(YAML line, 1-based YAML column) of a 1-based line and 0-based column of the assembled text."""
        origin = self.origins[line - 1] if 0 < line <= len(self.origins) else None
        if origin is None:
            return None
        snippet, index, prefix = origin
        return snippet.line + index, max(1, snippet.column + column - prefix)


class Finding:
    def __init__(self, id, place, end, message):
        self.id, self.place, self.end, self.message = id, place, end, message


class Use:
    def __init__(self, node, table, loops, is_load):
        self.node, self.table, self.loops, self.is_load = node, table, loops, is_load

    @property
    def position(self):
        return self.node.lineno, self.node.col_offset


class ScopeWalker:
    """Walks an AST beside its symtable, recording every name used and bound, in the scope Python gives it."""

    def __init__(self, root_table):
        self.uses = []  # Use
        self.bindings = {}  # (table id, name) -> [(position, loops)]
        self.walrus = set()  # (table id, name) bound by :=
        self.calls = []  # (ast.Call, table)
        self.star_import = False
        self.imports = []  # (node, module) of imports outside a try that handles ImportError
        self._guarded = 0
        self.tables = {root_table.get_id(): root_table}
        self._children = {}

    def _child(self, table, name, line):
        queue = self._children.get(table.get_id())
        if queue is None:
            queue = {}
            for child in table.get_children():
                queue.setdefault((child.get_name(), child.get_lineno()), []).append(child)
            self._children[table.get_id()] = queue
        found = queue.get((name, line))
        if not found:
            return None
        child = found.pop(0)
        self.tables[child.get_id()] = child
        return child

    def _bind(self, table, name, node, loops):
        self.bindings.setdefault((table.get_id(), name), []).append(((node.lineno, node.col_offset), loops))

    def _enter_named(self, node, table, loops):
        """A def or class binds its name where it stands, and its body runs in its own scope."""
        self._bind(table, node.name, node, loops)
        child = self._child(table, node.name, node.lineno)
        if child is not None:
            for statement in node.body:
                self.walk(statement, child)

    def walk(self, node, table, loops=()):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for expression in getattr(node, "decorator_list", []):
                self.walk(expression, table, loops)
            for expression in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                self.walk(expression, table, loops)
            if isinstance(node, ast.Lambda):
                child = self._child(table, "lambda", node.lineno)
                if child is not None:
                    self.walk(node.body, child)
                return
            self._enter_named(node, table, loops)
            return
        if isinstance(node, ast.ClassDef):
            for expression in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                self.walk(expression, table, loops)
            self._enter_named(node, table, loops)
            return
        if type(node) in COMPREHENSION_NAMES:
            self.walk(node.generators[0].iter, table, loops)
            child = self._child(table, COMPREHENSION_NAMES[type(node)], node.lineno)
            if child is None:
                return
            for index, generator in enumerate(node.generators):
                self.walk(generator.target, child)
                if index > 0:
                    self.walk(generator.iter, child)
                for condition in generator.ifs:
                    self.walk(condition, child)
            for part in ("elt", "key", "value"):
                if hasattr(node, part):
                    self.walk(getattr(node, part), child)
            return
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.uses.append(Use(node, table, loops, True))
            else:
                self.uses.append(Use(node, table, loops, False))
                self._bind(table, node.id, node, loops)
            return
        if isinstance(node, ast.NamedExpr):
            self.walrus.add(node.target.id)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            # x += 1 reads x before it binds it.
            self.uses.append(Use(node.target, table, loops, True))
        if isinstance(node, ast.Try) and any(handles_import_error(h) for h in node.handlers):
            self._guarded += 1
            for statement in node.body:
                self.walk(statement, table, loops)
            self._guarded -= 1
            for part in node.handlers + node.orelse + node.finalbody:
                self.walk(part, table, loops)
            return
        if isinstance(node, ast.Import) and not self._guarded:
            self.imports.extend((node, alias.name) for alias in node.names)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and not self._guarded:
            self.imports.append((node, node.module))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    self.star_import = True
                    continue
                self._bind(table, alias.asname or alias.name.split(".")[0], node, loops)
        if isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(table, node.name, node, loops)
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self._bind(table, node.name, node, loops)
        if isinstance(node, ast.MatchMapping) and node.rest:
            self._bind(table, node.rest, node, loops)
        if isinstance(node, ast.Call):
            self.calls.append((node, table))
        inner = loops + (id(node),) if isinstance(node, LOOPS) else loops
        for child in ast.iter_child_nodes(node):
            self.walk(child, table, inner)


def handles_import_error(handler):
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return caught is None or any(isinstance(n, ast.Name) and n.id in (
        "ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names)


class Unit:
    """One piece of assembled Python: a function's body, or a function's globalCode."""

    def __init__(self, placed, function, kind):
        self.placed = placed
        self.function = function
        self.kind = kind  # "function" or "module"
        self.walker = None
        self.table = None


def parse_snippet(snippet, mode, findings):
    """Parses a snippet exactly as the bridge does; a syntax error becomes a finding at its YAML place."""
    try:
        return ast.parse(snippet.text, "<snippet>", mode)
    except SyntaxError as error:
        index = min(max((error.lineno or 1) - 1, 0), snippet.text.count("\n"))
        line = snippet.line + index
        # At the end of the input Python gives no offset: point after the last character of the line.
        offset = error.offset - 1 if error.offset else len(snippet.text.split("\n")[index].rstrip())
        column = snippet.column + max(offset, 0)
        findings.append(Finding("KSML0501", (line, column), (line, column + 1),
                                "Python syntax error in {0}: {1}".format(snippet.part, error.msg)))
        return None
    except (ValueError, RecursionError, MemoryError) as error:
        findings.append(Finding("KSML0501", (snippet.line, snippet.column), (snippet.line, snippet.column + 1),
                                "Python cannot compile {0}: {1}".format(snippet.part, error)))
        return None


def always_leaves(statements):
    """True when control cannot fall off the end of `statements` (each path returns or raises)."""
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return always_leaves(last.body) and always_leaves(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return always_leaves(last.body)
    if isinstance(last, ast.Try):
        if always_leaves(last.finalbody):
            return True
        return always_leaves(last.body + last.orelse) and all(always_leaves(h.body) for h in last.handlers)
    return False


def assemble_function(function, code_tree):
    """The function as the bridge builds it: def name(fixed..., extras=None...): code; return expression.
    An expression after code that always returns never runs (KSML's documentation writes `expression: result`
    after such code), so it is parsed but its names are not checked."""
    placed = Placed()
    parameters = list(function["fixed"]) + [extra + "=None" for extra in function["extras"]]
    placed.add("def __ksml_function__(" + ", ".join(parameters) + "):")
    body = False
    if function.get("code") is not None:
        placed.add_snippet(Snippet(function["code"], "code"), " ")
        body = True
    if function.get("expression") is not None and not (code_tree is not None and always_leaves(code_tree.body)):
        placed.add(" return (")
        placed.add_snippet(Snippet(function["expression"], "expression"), " ")
        placed.add(" )")
        body = True
    if not body:
        placed.add(" pass")
    return placed


def analyse(unit, findings):
    text = unit.placed.text()
    try:
        tree = ast.parse(text, "<ksml>", "exec")
        table = symtable.symtable(text, "<ksml>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # reported by the snippet's own parse, or a scoping error compile() would give at start
    walker = ScopeWalker(table)
    for statement in tree.body:
        walker.walk(statement, table)
    unit.walker = walker
    unit.table = table
    return True


def module_bindings(table):
    names = set()
    for symbol in table.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            names.add(symbol.get_name())
    return names


def declared_globals(table):
    """Names a function binds with `global name`, which then live in the shared namespace."""
    names = set()
    for child in table.get_children():
        for symbol in child.get_symbols():
            if symbol.is_declared_global() and symbol.is_assigned():
                names.add(symbol.get_name())
        names |= declared_globals(child)
    return names


def installed(module):
    top = module.split(".")[0]
    if top in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def suggestion(name, candidates):
    if installed(name) and name not in candidates:
        return "; add 'import {0}' to globalCode".format(name)
    close = difflib.get_close_matches(name, sorted(c for c in candidates if not c.startswith("_")), n=1, cutoff=0.75)
    return "; did you mean '{0}'?".format(close[0]) if close else ""


def place(unit, node):
    start = unit.placed.yaml(node.lineno, node.col_offset)
    if start is None:
        return None, None
    end = unit.placed.yaml(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
    return start, end or start


def check_definition(definition):
    findings = []
    units = []
    for function in definition["functions"]:
        parsed = True
        trees = {}
        for part, mode in (("globalCode", "exec"), ("code", "exec"), ("expression", "eval")):
            raw = function.get(part)
            if raw is not None:
                trees[part] = parse_snippet(Snippet(raw, part), mode, findings)
                parsed = parsed and trees[part] is not None
        if not parsed:
            continue
        if function.get("globalCode") is not None:
            placed = Placed()
            placed.add_snippet(Snippet(function["globalCode"], "globalCode"), "")
            units.append(Unit(placed, function, "module"))
        units.append(Unit(assemble_function(function, trees.get("code")), function, "function"))

    analysed = [unit for unit in units if analyse(unit, findings)]
    if any(unit.walker.star_import for unit in analysed):
        return findings  # `from m import *` may define any name; nothing can be called undefined

    shared = set(dir(builtins)) | set(definition["shared"])
    shared |= {f["name"] for f in definition["functions"] if f["name"].isidentifier()}
    for unit in analysed:
        if unit.kind == "module":
            shared |= module_bindings(unit.table)
        shared |= declared_globals(unit.table)

    own_functions = {f["name"]: f for f in definition["functions"] if f.get("callable")}
    redefined = set()
    for unit in analysed:
        if unit.kind == "module":
            redefined |= module_bindings(unit.table) & set(own_functions)

    imports_seen = set()
    for unit in analysed:
        walker = unit.walker
        visible = shared | set(unit.function["bindings"]) if unit.kind == "function" else shared
        for use in walker.uses:
            if not use.is_load:
                continue
            name = use.node.id
            table = use.table
            try:
                symbol = table.lookup(name)
            except KeyError:
                continue
            module_level = table.get_type() == "module"
            if module_level or symbol.is_global():
                if name not in visible:
                    start, end = place(unit, use.node)
                    if start is not None:
                        known = visible | {s.get_name() for t in walker.tables.values()
                                                     for s in t.get_symbols() if not s.is_global()}
                        findings.append(Finding("KSML0500", start, end,
                                                "'{0}' is not defined{1}".format(name, suggestion(name, known))))
                    continue
            # A comprehension reads its element before its `for` binds it, so only real function scopes are ordered.
            local_scope = table.get_type() == "function" and table.get_name() not in COMPREHENSION_SCOPES \
                and symbol.is_local() and not symbol.is_parameter()
            if (local_scope or module_level) and name not in walker.walrus:
                bindings = walker.bindings.get((table.get_id(), name), [])
                if module_level and name in visible - module_bindings(unit.table):
                    continue  # also defined outside this globalCode
                if bindings and all(position > use.position for position, _ in bindings) \
                        and not any(loop in loops for _, loops in bindings for loop in use.loops):
                    start, end = place(unit, use.node)
                    if start is not None:
                        findings.append(Finding("KSML0502", start, end,
                                                "'{0}' is used before it is assigned".format(name)))
        for node, table in walker.calls:
            check_call(unit, node, table, own_functions, redefined, findings)
        check_imports(unit, findings, imports_seen)
    return findings


def check_call(unit, node, table, own_functions, redefined, findings):
    """A call by name to one of the definition's own functions must fit its parameters."""
    if not isinstance(node.func, ast.Name) or node.func.id not in own_functions or node.func.id in redefined:
        return
    try:
        symbol = table.lookup(node.func.id)
    except KeyError:
        return
    if not (symbol.is_global() or table.get_type() == "module"):
        return
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return
    target = own_functions[node.func.id]
    fixed = list(target["fixed"])
    extras = list(target["extras"])
    names = fixed + extras
    problem = None
    if len(node.args) > len(names):
        problem = "takes at most {0} positional argument{1} but {2} were given".format(
            len(names), "" if len(names) == 1 else "s", len(node.args))
    else:
        given = set(names[:len(node.args)])
        for keyword in node.keywords:
            if keyword.arg not in names:
                problem = "got an unexpected keyword argument '{0}'".format(keyword.arg)
                break
            if keyword.arg in given:
                problem = "got multiple values for argument '{0}'".format(keyword.arg)
                break
            given.add(keyword.arg)
        if problem is None:
            missing = [name for name in fixed if name not in given]
            if missing:
                problem = "is missing the argument{0} {1}".format(
                    "" if len(missing) == 1 else "s", ", ".join("'" + m + "'" for m in missing))
    if problem is not None:
        start, end = place(unit, node)
        if start is not None:
            findings.append(Finding("KSML0503", start, end, "'{0}' ({1}({2})) {3}".format(
                node.func.id, node.func.id, ", ".join(names), problem)))


def check_imports(unit, findings, seen):
    """An import no handler guards must find its module; the build's Python stands in for the one that will run."""
    if any(module.split(".")[0] == CLR_MODULE for _, module in unit.walker.imports):
        return
    for node, module in unit.walker.imports:
        if installed(module):
            continue
        start, end = place(unit, node)
        if start is None or (start, module) in seen:
            continue
        seen.add((start, module))
        findings.append(Finding("KSML0504", start, end,
                                "No module named '{0}' is installed for {1} (Python {2}.{3})".format(
                                    module.split(".")[0], sys.executable, *sys.version_info[:2])))


def main():
    request = json.load(sys.stdin)
    for directory in reversed(request.get("modulePaths", [])):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    out = sys.stdout
    out.write("python\t{0}.{1}.{2}\t{3}\n".format(*sys.version_info[:3], sys.executable))
    for index, definition in enumerate(request["definitions"]):
        try:
            findings = check_definition(definition)
        except RecursionError:
            findings = [Finding("KSML0501", (1, 1), (1, 2), "Python too deeply nested to check")]
        for finding in findings:
            message = finding.message.replace("\t", " ").replace("\n", " ")
            out.write("{0}\t{1}\t{2}\t{3}\t{4}\t{5}\t{6}\n".format(
                index, finding.id, finding.place[0], finding.place[1], finding.end[0], finding.end[1], message))
    out.flush()


if __name__ == "__main__":
    main()
