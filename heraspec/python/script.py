"""The program an Argo `script` template runs (`command: [python]`), the same locally and in the pod.

    script_source(fn, code) -> str    the whole program: package step, carried modules, decoder, entry

In order, the program
  1. installs the task's `packages` (env HERASPEC_PACKAGES, JSON) with pip, quietly, before any
     user code runs; a failed install prints pip's output and exits 1 (`heraspec run` prepares a
     cached environment instead and sets HERASPEC_PACKAGES_INSTALLED to the same value);
  2. `code: carry` (default): holds the user's modules in a table (`module_table`: each carried
     statement as a raw string at its original line, or base64 when the text contains `{{` or
     cannot be a raw string) and puts an importer first on `sys.meta_path`, so
     `from mypkg.steps import train` imports them under their own names, relative imports and
     all; tracebacks show the original file names and lines (linecache holds their text).
     `code: image`: imports the function from the image instead (Hera's runner does the same);
  3. reads each parameter from env var `HERASPEC_IN_<name>` (absent or `__heraspec_default__`:
     Python applies the default) and decodes it (`_heraspec_input`: the task's plan from env
     HERASPEC_PLAN first, for aggregates and str results; then annotation `str`: the raw text;
     otherwise JSON where it parses, else the raw text; then int/float/bool/list[...] coercion and
     dataclass/Pydantic rebuilding);
  4. calls the function with keywords and writes the result exactly (`_heraspec_result_text`: a
     str is its own text, anything else compact JSON; dataclasses and Pydantic models as their
     JSON; a value without an exact JSON form exits 1 naming it and the fix) plus one newline
     for Argo's executor to trim, to RESULT_PATH, or to env `HERASPEC_RESULT_PATH` when set (the
     local runner uses that).
The program never contains `{{` (Argo substitutes it everywhere, script source included).
"""

from __future__ import annotations

import base64

from . import artifacts
from .functions import Function, _Carried as Carried, _carried

RESULT_PATH = "/tmp/heraspec/result.json"
RESULT_PATH_ENV = "HERASPEC_RESULT_PATH"
OUTPUTS_DIR = "/tmp/heraspec/outputs/"  # named outputs (`outputs:`, `{from, key}`), beside the result
OUTPUTS_ENV = "HERASPEC_OUTPUTS"  # {output name: dotted key path}, JSON
INPUT_ENV_PREFIX = "HERASPEC_IN_"
DEFAULT_MARKER = "__heraspec_default__"  # env value meaning "let Python apply the default"
PLAN_ENV = "HERASPEC_PLAN"  # per task: how to read inputs that are results (see _heraspec_input)
PLAN_INPUT = "heraspec-plan"  # the template input carrying it, present only where a task needs one

__all__ = ["DEFAULT_MARKER", "INPUT_ENV_PREFIX", "OUTPUTS_DIR", "OUTPUTS_ENV", "PLAN_ENV", "PLAN_INPUT",
           "RESULT_PATH", "RESULT_PATH_ENV", "argo_unsafe", "decode", "script_source"]

# --- the runtime, shared by the script and by the compiler's checks (one source of truth) -----------
#
# Kinds (from annotations, see `functions.Param.annotation`): None, "str", "int", "float", "bool",
# "list", "dict", "list:KIND" (the elements' kind) and "model:NAME" (a dataclass or Pydantic class of
# the user's code). Plans (from the compiler, per task, through the `heraspec-plan` input): "str" (the
# text is a str result, kept as it is), "json" (a literal written as JSON because its own text would
# be misread: the str "42"), "agg" / "agg:str" (Argo's aggregate of a fanned-out task's results) and
# "item" or "item+agg" ({{item.KEY}}, whose strings keep their JSON escapes).
# Each piece is a plain function so that other input/output kinds (artifacts) can hook in.

_DECODE_SOURCE = '''\
def _heraspec_decode(raw, kind):
    # Argo passes every input as text: JSON where it parses, else the raw text. Builtins are
    # reached through `b` because the user's module may rebind names such as `str` or `open`.
    import builtins as b, json
    if kind == "str":
        return raw
    try:
        value = json.loads(raw)
    except (b.ValueError, b.RecursionError):
        value = raw
    return _heraspec_coerce(value, kind)


def _heraspec_coerce(value, kind):
    # an already decoded value, made what the annotation asks where that is lossless
    import builtins as b
    if kind is None or value is None:
        return value
    if kind.startswith("list:"):
        inner = kind[5:]
        if b.isinstance(value, b.list):
            return [_heraspec_decode(v, inner) if b.isinstance(v, b.str) else _heraspec_coerce(v, inner) for v in value]
        return value
    if kind.startswith("model:"):
        cls = b.globals().get("_heraspec_names", {}).get(kind[6:])  # the user's class, in the function's module
        if cls is None or not b.isinstance(value, b.dict):
            return value
        if b.callable(b.getattr(cls, "model_validate", None)):  # Pydantic v2
            return cls.model_validate(value)
        import dataclasses
        return cls(**value) if dataclasses.is_dataclass(cls) else value
    if kind == "bool" and b.isinstance(value, b.str):
        word = value.strip().lower()
        if word in ("true", "yes", "y", "on", "1"):
            return True
        if word in ("false", "no", "n", "off", "0"):
            return False
    elif kind == "bool" and b.type(value) is b.int and value in (0, 1):
        return b.bool(value)
    elif kind == "int" and b.isinstance(value, b.float) and value.is_integer():
        return b.int(value)
    elif kind == "float" and b.type(value) is b.int:
        return b.float(value)
    elif kind in ("int", "float") and b.isinstance(value, b.str):
        try:
            return (b.int if kind == "int" else b.float)(value.strip())
        except b.ValueError:
            pass
    return value


def _heraspec_input(raw, kind, plan):
    # one parameter's value from its text, following the compiler's plan for this task
    import builtins as b, json
    if plan and plan.startswith("item"):  # an item field is Argo's Item.String(): a string keeps its JSON escapes
        try:
            raw = json.loads('"' + raw + '"')
        except (b.ValueError, b.RecursionError):
            pass  # not an escaped string: a number, or JSON text with strings inside
        plan = plan[5:] or None  # then, for "item+agg", read as an aggregate
    if plan in ("agg", "agg:str"):
        # Argo's aggregate (aggregatedJSONValueList): the children's values decoded when every one
        # is a JSON object or array, else the list of their raw texts; each text is decoded as its
        # child wrote it (a str result is its own text)
        try:
            items = json.loads(raw)
        except (b.ValueError, b.RecursionError):
            items = None
        if b.isinstance(items, b.list):
            inner = kind[5:] if kind and kind.startswith("list:") else "str" if plan == "agg:str" else None
            values = [_heraspec_decode(v, inner) if b.isinstance(v, b.str) else _heraspec_coerce(v, inner)
                      for v in items]
            if kind == "str":
                return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
            return values if kind is None or kind.startswith("list") else _heraspec_coerce(values, kind)
    if plan == "str" and kind is None:
        return raw
    if plan == "json":
        # a literal the compiler wrote as JSON, because its text alone would be misread
        try:
            return _heraspec_coerce(json.loads(raw), kind)
        except (b.ValueError, b.RecursionError):
            pass
    return _heraspec_decode(raw, kind)
'''

_RESULT_SOURCE = '''\
def _heraspec_plain(value, where, path="result"):
    # the value as plain JSON data, exactly, or SystemExit naming what cannot be sent and the way out
    import builtins as b, math
    t = b.type(value)
    if value is None or t in (b.bool, b.int, b.str):
        return value
    if t is b.float:
        if math.isfinite(value):
            return value
        what, fix = "the float " + b.repr(value), "return None or a string in its place"
    elif t in (b.list, b.tuple):
        return [_heraspec_plain(v, where, path + "[" + b.str(i) + "]") for i, v in b.enumerate(value)]
    elif t is b.dict:
        out = {}
        for k, v in value.items():
            if b.type(k) is not b.str:
                _heraspec_refuse(where, path, "a dict with a key of type " + b.type(k).__name__,
                                 "use str keys (JSON object keys are strings)")
            out[k] = _heraspec_plain(v, where, path + "[" + b.repr(k) + "]")
        return out
    elif b.callable(b.getattr(value, "model_dump", None)) and not b.isinstance(value, b.type):  # Pydantic v2
        return _heraspec_plain(value.model_dump(mode="json"), where, path)
    else:
        import dataclasses
        if dataclasses.is_dataclass(value) and not b.isinstance(value, b.type):
            return _heraspec_plain(dataclasses.asdict(value), where, path)
        name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
        what = "a " + name
        fix = ("convert it (a list for a set, .isoformat() for a date, .tolist() for an array, "
               ".decode() or base-64 text for bytes), or write it to a file and return a pathlib.Path")
    _heraspec_refuse(where, path, what, fix)


def _heraspec_refuse(where, path, what, fix):
    import sys
    sys.stderr.write("heraspec: " + where + ":" + " " + path + " is " + what + ", which has no exact JSON form; "
                     + fix + "\\n")
    raise SystemExit(1)


def _heraspec_unsafe(text):
    # the first character Argo cannot substitute into another template, or None: simpleReplaceStrict
    # (util/template) escapes values with Go's strconv.Quote, whose \\a \\v \\xNN \\UNNNNNNNN escapes
    # are not JSON, and the template then fails "cannot finish template replacement"
    import builtins as b
    for c in text:
        n = b.ord(c)
        if (n < 32 and c not in "\\b\\t\\n\\f\\r") or n == 127 or (n > 0xFFFF and not c.isprintable()):
            return n
    return None


def _heraspec_result_text(value, where):
    # the result parameter's text: a str is its own text, anything else compact JSON
    import builtins as b
    # (a str with a control character Argo cannot substitute is kept: a consumer of it fails on
    # Argo, "cannot finish template replacement", and `heraspec run` fails it the same way)
    value = _heraspec_plain(value, where)
    return value if b.type(value) is b.str else _heraspec_json_text(value)


def _heraspec_json_text(value):
    # compact JSON of plain data; ASCII-only when DEL or unprintable astral characters would stay raw
    import json
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if _heraspec_unsafe(text) is not None:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text
'''
_namespace: dict = {}


def _runtime() -> dict:
    if not _namespace:  # compiled on first use (not on every `heraspec validate` start)
        code = compile(_DECODE_SOURCE + "\n\n" + _RESULT_SOURCE, "<heraspec runtime>", "exec")
        exec(code, _namespace)  # noqa: S102 (our own constant)
    return _namespace


def decode(raw: str, annotation: str | None) -> object:
    """The script's own decoder."""
    return _runtime()["_heraspec_decode"](raw, annotation)


def coerce(value: object, annotation: str | None) -> object:
    """The script's coercion of an already decoded value to its annotation's kind."""
    return _runtime()["_heraspec_coerce"](value, annotation)


def argo_unsafe(text: str) -> int | None:
    """The code point of the first character Argo cannot substitute into a template, or None."""
    return _runtime()["_heraspec_unsafe"](text)


_MAIN_SOURCE = '''\
def _heraspec_main(function=@FUNCTION@):  # bound here, before any local name can shadow it
    import builtins as b, json, os
    global _heraspec_names
    _heraspec_names = function.__globals__  # where annotated classes are found (model:NAME)
    plans = json.loads(os.environ.get("@PLAN_ENV@") or "{}")
    kwargs = {}
    for name, kind in @PARAMS@:
        raw = os.environ.get("@PREFIX@" + name)
        if raw in ("@ONE@", "@MANY@"):  # a file, or a value sent through the artifact repository
            kwargs[name] = _heraspec_read_artifact(name, raw, kind)
        elif raw is not None and raw != "@MARKER@":
            kwargs[name] = _heraspec_input(raw, kind, plans.get(name))
    # the result goes to a file, never stdout, so print() in user code cannot corrupt it
    value = function(**kwargs)
    mode = os.environ.get("@MODE_ENV@")
    if mode == "file":
        return _heraspec_write_file(value)
    result = _heraspec_plain(value, "the result of @REF@")
    path = os.environ.get("@PATH_ENV@") or "@RESULT_PATH@"
    if mode == "artifact":
        # read back as JSON by the consumer's script, never substituted
        _heraspec_write_value(_heraspec_json_text(result), True, "@FUNCTION@")
    else:  # a str is its own text; PATH.str marks it so that `heraspec run` shows a str
        _heraspec_write_value(_heraspec_result_text(result, "the result of @REF@"), False, "@FUNCTION@")
        if b.type(result) is b.str:
            b.open(path + ".str", "w").close()
    keys = os.environ.get("@OUTPUTS_ENV@")
    if keys:  # named outputs: fields of the result (an empty key path: all of it), each written as JSON
        _heraspec_publish(result, json.loads(keys), os.path.join(os.path.dirname(path), "outputs"))


def _heraspec_publish(result, keys, folder):
    import builtins as b, json, os, sys
    os.makedirs(folder, exist_ok=True)
    for name, path in keys.items():
        value, seen = result, []
        for part in (path.split(".") if path else []):
            if b.isinstance(value, b.dict) and part in value:
                value = value[part]
            elif b.isinstance(value, b.list) and part.isdigit() and b.int(part) < b.len(value):
                value = value[b.int(part)]
            else:
                where = "the result" + ("" if not seen else " field " + ".".join(seen))
                if b.isinstance(value, b.dict):
                    has = "its keys: " + (", ".join(b.map(b.str, value)) or "none")
                elif b.isinstance(value, b.list):
                    has = f"it is a list of {b.len(value)}"
                else:
                    has = "it is " + b.type(value).__name__ + ", not a mapping"
                sys.exit(f"heraspec: output {name!r} reads key {path!r}, but {where} has no {part!r} ({has})")
            seen.append(part)
        # as JSON: read by `{from, key}` and spliced into nested arguments, where a str must be quoted
        with b.open(os.path.join(folder, name), "w", encoding="utf-8") as out:
            out.write(_heraspec_json_text(value))


_heraspec_main()
'''


_SCRIPTS: dict[tuple[Function, str, bool], tuple[Carried, str]] = {}

# --- the user's code: a module table and the importer that serves it ------------------------------

_IMPORTER_SOURCE = '''\
def _heraspec_importer(table):
    # Serves the carried modules under their own names, before anything installed; each runs
    # from its original file name and line numbers, so tracebacks point at your files. Only what
    # every task needs is imported here (start-up is per task): base64, linecache and traceback
    # (which pull in re) wait until a module needs them or an exception is printed.
    import sys
    ModuleSpec = sys.modules["_frozen_importlib"].ModuleSpec  # importlib.machinery's, already loaded

    def source(entry):
        if isinstance(entry, str):  # base64: the module contains double braces
            import base64
            return base64.b64decode(entry).decode("utf-8")
        lines = []
        for line, text in entry:
            lines.extend([""] * (line - 1 - len(lines)))
            lines.extend(text.split("\\n"))
        return "\\n".join(lines) + "\\n"

    loaded = {}  # filename -> source of the carried modules imported so far

    class Loader:  # the loader protocol (create_module, exec_module, get_source); importlib.abc costs ~10 ms
        def __init__(self, filename, code):
            self.filename, self.code = filename, code

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            module.__file__ = self.filename
            exec(compile(self.code, self.filename, "exec"), module.__dict__)

        def get_source(self, name):  # linecache reads carried lines through this (lazycache)
            return self.code

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name not in table:
                return None
            filename, package, entry = table[name]
            code = loaded[filename] = source(entry)
            return ModuleSpec(name, Loader(filename, code), origin=filename, is_package=package)

    def excepthook(kind, value, tb):  # with the carried source lines
        import linecache, traceback
        for filename, code in loaded.items():
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        traceback.print_exception(kind, value, tb)

    sys.meta_path.insert(0, Finder())
    sys.excepthook = excepthook


_heraspec_importer(_heraspec_modules)
'''

_PACKAGES_SOURCE = '''\
def _heraspec_packages():
    # The task's `packages`, installed before any of its code runs (heraspec run prepares them
    # in a cached environment instead and says so through HERASPEC_PACKAGES_INSTALLED).
    import json, os, subprocess, sys
    wanted = os.environ.get("@PACKAGES_ENV@")
    if not wanted or os.environ.get("@PACKAGES_ENV@_INSTALLED") == wanted:
        return
    spec = json.loads(wanted)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--no-warn-script-location",
               "--disable-pip-version-check"]
    if spec.get("index_url"):
        command += ["--index-url", spec["index_url"]]
    for url in spec.get("extra_index_urls", []):
        command += ["--extra-index-url", url]
    env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
    done = subprocess.run(command + spec["packages"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout.decode("utf-8", "replace"))
        sys.stderr.write("heraspec: installing packages " + " ".join(spec["packages"])
                         + " failed (pip exit code " + str(done.returncode) + ")\\n")
        raise SystemExit(1)


_heraspec_packages()
'''
PACKAGES_ENV = "HERASPEC_PACKAGES"
IMAGE_MARKER = "# heraspec: code: image"
SCRIPT_MARKER = "# heraspec script for "  # the first line: `heraspec run` knows its own scripts by it


# --- the script ------------------------------------------------------------------------------------


def script_source(fn: Function, code: str = "carry", packages: bool = False) -> str:
    """The complete Python program for the Argo script template; it never contains `{{`.
    `code`: "carry" (the function's modules travel in the script) or "image" (the image has them);
    `packages`: the task declares packages (the template sets HERASPEC_PACKAGES)."""
    carried = _carried(fn)
    cached = _SCRIPTS.get((fn, code, packages))
    if cached is not None and cached[0] is carried:  # re-resolving a changed file makes a new _Carried
        return cached[1]
    if code == "carry" and carried.problems:
        raise ValueError(f"cannot build a script for {fn.ref}: " + "; ".join(p.message for p in carried.problems))
    header = f"{SCRIPT_MARKER}{fn.ref} ({carried.filename}); generated, edit the module instead\n"
    if code == "image":
        user = f"{IMAGE_MARKER} (the image provides '{fn.module}')\nfrom {fn.module} import {fn.name}\n"
    else:
        user = f"{module_table(carried)}\n\n{_IMPORTER_SOURCE}from {fn.module} import {fn.name}\n"
    entry = (_MAIN_SOURCE.replace("@PARAMS@", repr([(p.name, p.annotation) for p in fn.params]))
             .replace("@FUNCTION@", fn.name).replace("@PREFIX@", INPUT_ENV_PREFIX).replace("@REF@", fn.ref)
             .replace("@PLAN_ENV@", PLAN_ENV)
             .replace("@MARKER@", DEFAULT_MARKER).replace("@PATH_ENV@", RESULT_PATH_ENV).replace("@OUTPUTS_ENV@", OUTPUTS_ENV)
             .replace("@RESULT_PATH@", RESULT_PATH).replace("@ONE@", artifacts.ONE).replace("@MANY@", artifacts.MANY)
             .replace("@MODE_ENV@", artifacts.RESULT_MODE_ENV))
    install = _PACKAGES_SOURCE.replace("@PACKAGES_ENV@", PACKAGES_ENV) + "\n\n" if packages else ""
    runtime = artifacts.runtime_source(RESULT_PATH, RESULT_PATH_ENV)
    program = f"{header}{install}{user}\n\n{_DECODE_SOURCE}\n\n{_RESULT_SOURCE}\n\n{runtime}\n\n{entry}"
    if "{{" in program:  # cannot happen: every part above is free of it; never emit one anyway
        raise RuntimeError(f"internal error: the script for {fn.ref} contains double braces")
    _SCRIPTS[(fn, code, packages)] = (carried, program)
    return program


def module_table(carried: Carried) -> str:
    """`_heraspec_modules = {name: (file, is_package, pieces)}`: each carried statement as a raw
    string at its original line, readable in the manifest; a module whose text a raw string cannot
    hold exactly, or that contains double braces (Argo would substitute them), as base64."""
    out = ["# Your modules this function needs (only what it uses), imported from here under their own",
           "# names: {module: (file, is package, [(line, statement)] or base64 text)}.",
           "_heraspec_modules = {"]
    for m in carried.bundle.modules:
        pieces = [(line, text) for line, text, _ in m.pieces]
        literals = [_raw(text) for _, text in pieces]
        if all(lit is not None for lit in literals):
            body = "".join(f"\n        ({line}, {lit})," for (line, _), lit in zip(pieces, literals))
            out.append(f"    {m.name!r}: ({m.filename!r}, {m.is_package}, [{body}\n    ]),"
                       if pieces else f"    {m.name!r}: ({m.filename!r}, {m.is_package}, []),")
        else:
            lines: list[str] = []
            for line, text in pieces:
                lines.extend([""] * (line - 1 - len(lines)))
                lines.extend(text.split("\n"))
            code = base64.b64encode(("\n".join(lines) + "\n").encode("utf-8")).decode("ascii")
            chunks = "\n".join(f'        "{code[i:i + 76]}"' for i in range(0, len(code), 76))
            out.append(f"    {m.name!r}: ({m.filename!r}, {m.is_package}, (\n{chunks}\n    )),")
    out.append("}")
    return "\n".join(out) + "\n"


def _raw(text: str) -> str | None:
    """`text` as a raw triple-quoted literal that reads back exactly, or None."""
    if "{{" in text or text.endswith("\\") or "\r" in text:
        return None
    for quote in ("'''", '"""'):
        if quote not in text and not text.endswith(quote[0]):
            return f"r{quote}{text}{quote}"
    return None
