"""The generated script's own code, written once as tagged Python source and cut to what a template needs.

    select(source, tags) -> str    the blocks whose condition `tags` meets, without comments or blank lines

A line whose comment starts with `[if COND]` heads a block (the line and every deeper line after it,
so a whole `def` or `if`); the block is kept only when COND holds: tags joined by `|` (any of them),
each possibly negated with `!`. Blocks are written so that removing one leaves valid code (no
`elif`/`else` after a tagged `if`: each branch returns or stands alone). The tags:

    str int float bool listof model      a kind the function's annotations use (list:KIND is `listof`)
    plans plan:agg plan:item plan:str plan:json     plans a task may pass (script.PLAN_ENV)
    artifact-in                          an input arrives as a file (HERASPEC_IN_x is ONE or MANY)
    result:parameter result:artifact result:file    where the return value may go;
    value (parameter or artifact), mode (artifact or file: read HERASPEC_RESULT),
    write:parameter (parameter and never artifact: the value is written without reading the mode)
    publish                              named outputs (HERASPEC_OUTPUTS)
    data                                 the carried code has data files (written out before import)

Comments stay here; the script carries none (`select` drops comment-only lines, trailing comments
after two spaces, blank lines, and indents one space per level). That is safe for this source only
because none of its strings contains a line break or two spaces before `#`; tests/test_script_size.py
checks that `select(source, None)` (every block kept) parses to the same tree as `source` for every
piece, that every selection of blocks compiles, and that a cut decoder decodes as the whole one.
"""

from __future__ import annotations

import re

_COND = re.compile(r"\s*\[if ([^\]]+)\]")


def select(source: str, tags: frozenset[str] | set[str] | None) -> str:
    """`source` with the blocks whose condition `tags` does not meet removed (None: keep every block),
    comments and blank lines dropped, one space of indentation per level."""
    out: list[str] = []
    skip = -1  # the indentation of a removed block's head: deeper lines go with it
    for line in source.split("\n"):
        text = line.lstrip(" ")
        if not text or text.startswith("#"):
            continue
        depth = len(line) - len(text)
        if skip >= 0:
            if depth > skip:
                continue
            skip = -1
        code, sep, comment = text.partition("  #")
        if sep:
            cond = _COND.match(comment)
            if cond and tags is not None and not _holds(cond.group(1), tags):
                skip = depth
                continue
        out.append(" " * (depth // 4) + code.rstrip())
    return "\n".join(out) + "\n"


def _holds(cond: str, tags: frozenset[str] | set[str]) -> bool:
    return any((term[1:] not in tags) if term.startswith("!") else (term in tags) for term in cond.split("|"))


# --- decoding inputs ---------------------------------------------------------------------------------
#
# Kinds (from annotations, see `functions.Param.annotation`): None, "str", "int", "float", "bool",
# "list", "dict", "list:KIND" (the elements' kind), "model:NAME" (a dataclass or Pydantic class of
# the user's code), "path"/"paths" (files, read by the artifact code). Plans (from the compiler, per
# task, through the `heraspec-plan` input): "str" (the text is a str result, kept as it is), "json" (a
# literal written as JSON because its own text would be misread: the str "42"), "agg" / "agg:str"
# (Argo's aggregate of a fanned-out task's results) and "item" or "item+PLAN" ({{item.KEY}}, whose
# strings keep their JSON escapes, then read as PLAN: agg, agg:str, str). Each kind's and plan's
# branch is tagged with it.

DECODE = '''\
def _heraspec_decode(raw, kind):
    # Argo passes every input as text: JSON where it parses, else the raw text. Builtins are
    # reached through `b` because the user's module may rebind names such as `str` or `open`.
    import builtins as b, json
    if kind == "str":  # [if str]
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
    if b.isinstance(value, b.str) and kind.startswith(("list", "dict", "model:")):  # [if listof|dictof|model]
        # JSON text given for a container or a class: decoded, as a literal and through {param} alike
        try:
            import json
            decoded = json.loads(value)
        except (b.ValueError, b.RecursionError):
            decoded = None
        if b.isinstance(decoded, (b.list, b.dict)):
            value = decoded
    if kind.startswith("list:"):  # [if listof]
        inner = kind[5:]
        if b.isinstance(value, b.list):
            return [_heraspec_decode(v, inner) if b.isinstance(v, b.str) else _heraspec_coerce(v, inner) for v in value]
        return value
    if kind.startswith("dict:"):  # [if dictof]
        inner = kind[5:]
        if b.isinstance(value, b.dict):
            return {k: _heraspec_decode(v, inner) if b.isinstance(v, b.str) and inner != "str" else _heraspec_coerce(v, inner)
                    for k, v in value.items()}
        return value
    if kind.startswith("model:"):  # [if model]
        return _heraspec_rebuild(value, b.globals().get("_heraspec_names", {}).get(kind[6:]))
    if kind == "bool":  # [if bool]
        if b.isinstance(value, b.str):
            word = value.strip().lower()
            if word in ("true", "yes", "y", "on", "1"):
                return True
            if word in ("false", "no", "n", "off", "0"):
                return False
        elif b.type(value) is b.int and value in (0, 1):
            return b.bool(value)
        return value
    if kind == "int" and b.isinstance(value, b.float) and value.is_integer():  # [if int]
        return b.int(value)
    if kind == "float" and b.type(value) is b.int:  # [if float]
        return b.float(value)
    if kind in ("int", "float") and b.isinstance(value, b.str):  # [if int|float]
        try:
            return (b.int if kind == "int" else b.float)(value.strip())
        except b.ValueError:
            pass
    return value


def _heraspec_rebuild(value, cls):  # [if model]
    # the annotated class (of the user's code, wherever it is defined) made from its JSON form: a
    # dataclass or NamedTuple from its fields (a field annotated with a dataclass rebuilt too), a
    # Pydantic model validated, an Enum by value or name; a TypedDict stays the dict it is. What does
    # not fit comes back as _HeraspecUnfit, for the boundary to refuse; other classes are left alone
    import builtins as b, sys
    if not b.isinstance(cls, b.type):
        return value
    try:
        if b.issubclass(cls, b.dict) and b.hasattr(cls, "__total__"):  # a TypedDict
            return value if b.isinstance(value, b.dict) else _HeraspecUnfit(value, "")
        if b.callable(b.getattr(cls, "model_validate", None)):  # Pydantic v2
            return value if b.isinstance(value, cls) else cls.model_validate(value)
        if b.any(c.__module__ == "enum" and c.__name__ == "Enum" for c in cls.__mro__):
            if b.isinstance(value, cls):
                return value
            try:
                return cls(value)
            except b.ValueError:
                if b.isinstance(value, b.str) and value in cls.__members__:
                    return cls[value]
                raise
        if b.issubclass(cls, b.tuple) and b.hasattr(cls, "_fields"):  # a NamedTuple
            if b.isinstance(value, cls):
                return value
            if b.isinstance(value, b.dict):
                return cls(**value)
            return cls(*value) if b.isinstance(value, b.list) else _HeraspecUnfit(value, "")
        import dataclasses
        if dataclasses.is_dataclass(cls):
            if b.isinstance(value, cls):
                return value
            if not b.isinstance(value, b.dict):
                return _HeraspecUnfit(value, "")
            space = b.getattr(sys.modules.get(cls.__module__), "__dict__", {})
            value = b.dict(value)
            for f in dataclasses.fields(cls):
                inner = space.get(f.type) if b.isinstance(f.type, b.str) else f.type
                if f.name in value and dataclasses.is_dataclass(inner) and b.isinstance(value[f.name], b.dict):
                    value[f.name] = _heraspec_rebuild(value[f.name], inner)
                    if b.isinstance(value[f.name], _HeraspecUnfit):
                        return _HeraspecUnfit(value, f.name + ": " + value[f.name].why)
            return cls(**value)
    except b.Exception as e:  # a missing or unknown field, a failed validation: said at the boundary
        return _HeraspecUnfit(value, "; ".join(b.str(e).split("\\n"))[:300])
    return value


class _HeraspecUnfit:  # [if model]
    # a value the annotated class refused, and why (reported by _heraspec_fits)
    def __init__(self, value, why):
        self.value, self.why = value, why

    def __repr__(self):
        return "_HeraspecUnfit(" + repr(self.value) + ", " + repr(self.why) + ")"


def _heraspec_fits(value, kind):  # [if int|float|bool|list|dict|listof|dictof|model]
    # whether a decoded input fits its annotation's kind (None passes: the kind does not say Optional)
    import builtins as b
    if value is None or kind is None:
        return True
    if kind.startswith("list"):  # [if listof]
        return b.isinstance(value, b.list) and (kind == "list" or b.all(_heraspec_fits(v, kind[5:]) for v in value))
    if kind.startswith("dict"):  # [if dictof]
        return b.isinstance(value, b.dict) and (kind == "dict" or b.all(_heraspec_fits(v, kind[5:]) for v in value.values()))
    if kind.startswith("model:"):  # [if model]
        return not b.isinstance(value, _HeraspecUnfit)
    if kind == "int":  # [if int]
        return b.isinstance(value, b.int) and not b.isinstance(value, b.bool)
    if kind == "float":  # [if float]
        return b.isinstance(value, (b.int, b.float)) and not b.isinstance(value, b.bool)
    if kind == "bool":  # [if bool]
        return b.isinstance(value, b.bool)
    if kind == "list":  # [if list]
        return b.isinstance(value, b.list)
    if kind == "dict":  # [if dict]
        return b.isinstance(value, b.dict)
    return True


def _heraspec_unfit(function, name, value):  # [if int|float|bool|list|dict|listof|dictof|model]
    # the boundary: a value that does not fit its annotation stops the task before the function runs
    import builtins as b
    why = ""
    if b.isinstance(value, _HeraspecUnfit):  # [if model]
        value, why = value.value, value.why and ": " + value.why
    want = function.__annotations__.get(name)
    want = want.__name__ if b.isinstance(want, b.type) else b.str(want).replace("typing.", "")
    raise SystemExit(f"heraspec: {function.__name__}({name}): expected {want}, got {b.repr(value)[:200]} "
                     f"({b.type(value).__name__}){why}")


def _heraspec_input(raw, kind, plan):  # [if plans]
    # one parameter's value from its text, following the compiler's plan for this task
    import builtins as b, json
    if plan and plan.startswith("item"):  # [if plan:item]
        # an item field is Argo's Item.String(): a string keeps its JSON escapes
        try:
            raw = json.loads('"' + raw + '"')
        except (b.ValueError, b.RecursionError):
            pass  # not an escaped string: a number, or JSON text with strings inside
        plan = plan[5:] or None  # then, for "item+agg" and the like, as the rest of the plan says
    if plan in ("agg", "agg:str"):  # [if plan:agg]
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
    if plan == "str" and kind is None:  # [if plan:str]
        return raw
    if plan == "json":  # [if plan:json]
        # a literal the compiler wrote as JSON, because its text alone would be misread
        try:
            return _heraspec_coerce(json.loads(raw), kind)
        except (b.ValueError, b.RecursionError):
            pass
    return _heraspec_decode(raw, kind)
'''

# --- the return value as exact JSON --------------------------------------------------------------------

RESULT = '''\
def _heraspec_plain(value, where, path="result"):  # [if value]
    # the value as plain JSON data, exactly, or SystemExit naming what cannot be sent and the way out.
    # Subclasses of the JSON types (numpy.float64, Counter, OrderedDict, IntEnum, a str subclass, a
    # namedtuple) are sent as their base value, an Enum as its value, numpy scalars and 0-d arrays as
    # the Python value .item() gives (exact: int64 an int, bool_ a bool)
    import builtins as b, math
    t = b.type(value)
    if value is None or t in (b.bool, b.int, b.str):
        return value
    if b.isinstance(value, b.float):
        if math.isfinite(value):
            return b.float(value)
        what, fix = "the float " + b.repr(b.float(value)), "return None or a string in its place"
    elif b.isinstance(value, (b.list, b.tuple)):
        return [_heraspec_plain(v, where, path + "[" + b.str(i) + "]") for i, v in b.enumerate(value)]
    elif b.isinstance(value, b.dict):
        out = {}
        for k, v in value.items():
            if not b.isinstance(k, b.str):
                _heraspec_refuse(where, path, "a dict with a key of type " + b.type(k).__name__,
                                 "use str keys (JSON object keys are strings)")
            out[b.str(k)] = _heraspec_plain(v, where, path + "[" + b.repr(b.str(k)) + "]")
        return out
    elif b.hasattr(value, "_value_"):  # an Enum member
        return _heraspec_plain(value.value, where, path)
    elif b.isinstance(value, (b.int, b.str)):
        return (b.int if b.isinstance(value, b.int) else b.str)(value)
    elif b.getattr(value, "ndim", 1) == 0:  # a numpy scalar or 0-d array
        return _heraspec_plain(value.item(), where, path)
    elif b.callable(b.getattr(value, "model_dump", None)) and not b.isinstance(value, b.type):  # Pydantic v2
        return _heraspec_plain(value.model_dump(mode="json"), where, path)
    else:
        import dataclasses
        if dataclasses.is_dataclass(value) and not b.isinstance(value, b.type):
            return _heraspec_plain(dataclasses.asdict(value), where, path)
        name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
        what, fix = "a " + name, _heraspec_fix(t)
    _heraspec_refuse(where, path, what, fix)


def _heraspec_fix(t):  # [if value]
    # the way out for a value of type t (written without `": ` so that compact JSON stays recognisable)
    import builtins as b
    if b.hasattr(t, "tolist") or b.hasattr(t, "to_dict") and b.hasattr(t, "iloc"):  # an array, a DataFrame or Series
        return "return value.tolist() (a DataFrame: .to_dict('list')), set `result: artifact` if large, or return a file (-> Path)"
    fix = b.dict(set="sorted(value)", frozenset="sorted(value)", date="value.isoformat()", datetime="value.isoformat()",
                 bytes="value.decode()", Decimal="str(value)", timedelta="value.total_seconds()").get(t.__name__)
    return ("return " + fix if fix else "convert it to a str, number, list or dict") + ", or return a file (-> Path)"


def _heraspec_refuse(where, path, what, fix):  # [if value]
    import sys
    sys.stderr.write("heraspec: " + where + ":" + " " + path + " is " + what + ", which has no exact JSON form; "
                     + fix + "\\n")
    raise SystemExit(1)


def _heraspec_unsafe(text):  # [if value|publish]
    # the first character Argo cannot substitute into another template, or None: simpleReplaceStrict
    # (util/template) escapes values with Go's strconv.Quote, whose \\a \\v \\xNN \\UNNNNNNNN escapes
    # are not JSON, and the template then fails "cannot finish template replacement"
    import builtins as b
    for c in text:
        n = b.ord(c)
        if (n < 32 and c not in "\\b\\t\\n\\f\\r") or n == 127 or (n > 0xFFFF and not c.isprintable()):
            return n
    return None


def _heraspec_result_text(value, where):  # [if result:parameter]
    # the result parameter's text: a str is its own text, anything else compact JSON
    import builtins as b
    # (a str with a control character Argo cannot substitute is kept: a consumer of it fails on
    # Argo, "cannot finish template replacement", and `heraspec run` fails it the same way)
    value = _heraspec_plain(value, where)
    return value if b.type(value) is b.str else _heraspec_json_text(value)


def _heraspec_json_text(value):  # [if value|publish]
    # compact JSON of plain data; ASCII-only when DEL or unprintable astral characters would stay raw
    import json
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if _heraspec_unsafe(text) is not None:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text
'''

# --- the entry point (placeholders @X@ filled in by script.script_source) --------------------------------

MAIN = '''\
def _heraspec_main(function=@FUNCTION@):  # bound here, before any local name can shadow it
    import json, os
    global _heraspec_names  # [if model]
    _heraspec_names = function.__globals__  # [if model]  where annotated classes are found (model:NAME)
    plans = json.loads(os.environ.get("@PLAN_ENV@") or "{}")  # [if plans]
    kwargs = {}
    for name, kind in @PARAMS@:
        raw = os.environ.get("@PREFIX@" + name)
        if raw is None or raw == "@MARKER@":  # Python applies the default
            continue
        if raw in ("@ONE@", "@MANY@"):  # [if artifact-in]  a file, or a value sent through the artifact repository
            kwargs[name] = _heraspec_read_artifact(name, raw, kind)
            if not _heraspec_fits(kwargs[name], kind):  # [if int|float|bool|list|dict|listof|dictof|model]
                _heraspec_unfit(function, name, kwargs[name])
            continue
        kwargs[name] = _heraspec_input(raw, kind, plans.get(name))  # [if plans]
        kwargs[name] = _heraspec_decode(raw, kind)  # [if !plans]
        if not _heraspec_fits(kwargs[name], kind):  # [if int|float|bool|list|dict|listof|dictof|model]
            _heraspec_unfit(function, name, kwargs[name])
    # the result goes to a file, never stdout, so print() in user code cannot corrupt it
    value = function(**kwargs)
    mode = os.environ.get("@MODE_ENV@")  # [if mode]
    if mode == "file":  # [if result:file]
        return _heraspec_write_file(value)
    result = _heraspec_plain(value, "the result of @REF@")  # [if value]
    _heraspec_write_value(result, mode == "artifact", "@FUNCTION@", "the result of @REF@")  # [if result:artifact]
    _heraspec_write_value(result, False, "@FUNCTION@", "the result of @REF@")  # [if write:parameter]
    keys = os.environ.get("@OUTPUTS_ENV@")  # [if publish]
    if keys:  # [if publish]  named outputs: fields of the result (an empty key path: all of it), each as JSON
        folder = os.path.join(os.path.dirname(os.environ.get("@PATH_ENV@") or "@RESULT_PATH@"), "outputs")
        _heraspec_publish(result, json.loads(keys), folder)


def _heraspec_publish(result, keys, folder):  # [if publish]
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

# --- the user's code: the importer serving the carried modules (script.code_text) ------------------------

IMPORTER = '''\
def _heraspec_importer(code):
    # Serves the carried modules under their own names, before anything installed; each runs
    # from its original file name and line numbers, so tracebacks point at your files. `code`:
    # the modules (and data files) as compressed JSON, or None: the workflow's copy, in env
    # @CODE_ENV@. Only what every task needs is imported here (start-up is per task): linecache
    # and traceback (which pull in re) wait until an exception is printed.
    import binascii, os, sys, zlib
    ModuleSpec = sys.modules["_frozen_importlib"].ModuleSpec  # importlib.machinery's, already loaded
    if code is None:
        code = os.environ.get("@CODE_ENV@", "")
    packed = binascii.a2b_base64(code.replace("-", "+").replace("_", "/"))
    table = _heraspec_json.loads(zlib.decompress(packed).decode("utf-8"))
    modules = table["modules"]
    data = {}  # [if !data]
    data = table.get("data") or {}  # [if data]
    if data:  # [if data]  files the code reads beside its modules (Path(__file__).parent, importlib.resources)
        root = os.path.join(os.environ.get("TMPDIR") or "/tmp", "heraspec", "code")
        files = {filename: text.encode("utf-8") for filename, _, text in modules.values()}
        files.update((path, binascii.a2b_base64(text)) for path, text in data.items())
        for path, content in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(content)
        for name, (filename, package, text) in modules.items():
            modules[name] = [os.path.join(root, filename), package, text]

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

        def get_data(self, path):  # [if data]  pkgutil.get_data
            with open(path, "rb") as f:
                return f.read()

        def get_resource_reader(self, name):  # [if data]  importlib.resources.files(), with the data written out
            return self

        def files(self):  # [if data]
            import pathlib
            return pathlib.Path(os.path.dirname(self.filename))

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name not in modules:
                return None
            filename, package, code = modules[name]
            loaded[filename] = code
            spec = ModuleSpec(name, Loader(filename, code), origin=filename, is_package=package)
            if package and data:  # [if data]
                spec.submodule_search_locations.append(os.path.dirname(filename))
            spec.has_location = bool(data)  # [if data]
            return spec

    def excepthook(kind, value, tb):  # with the carried source lines
        import linecache, traceback
        for filename, code in loaded.items():
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        traceback.print_exception(kind, value, tb)

    sys.meta_path.insert(0, Finder())
    sys.excepthook = excepthook
'''

# --- the package step (only in templates whose task declares `packages`) ---------------------------------

PACKAGES = '''\
def _heraspec_packages():
    # The task's `packages`, installed before any of its code runs (heraspec run prepares them
    # in a cached environment instead and says so through HERASPEC_PACKAGES_INSTALLED). Locked
    # (`heraspec lock`): exactly the pins, hashes required, nothing resolved. A failed install ends
    # with exit code @INSTALL_FAILED@, which the retry strategy does not retry, and pip's reason.
    import json, os, subprocess, sys, tempfile
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
    if spec.get("locked"):
        pins = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        pins.write("\\n".join(spec["locked"]) + "\\n")
        pins.close()
        command += ["--no-deps", "--require-hashes", "-r", pins.name]
        what = " ".join(line.split(" ")[0] for line in spec["locked"])
    else:
        command += spec["packages"]
        what = " ".join(spec["packages"])
    env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        out = done.stdout.decode("utf-8", "replace")
        sys.stderr.write(out)
        # the reason: the first lines a failed build printed itself, then pip's ERROR / error / x lines
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        own, said, block = [], [], 0
        for line in lines:
            if line.endswith(" lines of output]"):
                block = 2
            elif block and line != "[end of output]":
                own.append(line)
                block -= 1
            elif line.split(" ")[0] in ("ERROR:", "error:", "\\u00d7") and "subprocess-exited-with-error" not in line:
                said.append(line)
        why = list(dict.fromkeys(own + said)) or lines[-3:]
        sys.stderr.write("heraspec: installing packages " + what + " failed (pip exit code "
                         + str(done.returncode) + "): " + " / ".join(why[:6]) + "\\n")
        raise SystemExit(@INSTALL_FAILED@)


_heraspec_packages()
'''
