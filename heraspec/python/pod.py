"""The runtime of a heraspec script task: read the inputs, check them, call the function, write its result.

    main(module, name, kinds)    in the pod: `module.name(**inputs)`, its result written where Argo reads it

This is the program an Argo `script` template runs (`python -I`), the same locally (`heraspec run`)
and in the pod. It imports only the standard library and nothing of heraspec: with `code: carry`
(the default) script.py copies the parts a template uses into its script, whole top-level
definitions as written here; with `code: image` the script imports `main` from this module,
installed in the image with heraspec. The compiler's own checks call `decode` and `coerce` here, so
that they and the pods read values alike.

Kinds (the compiler's reading of each annotation, see functions.Param.annotation): None (no
annotation, or Any), "str" "int" "float" "bool" "list" "dict", "list:KIND" "dict:KIND" (the
elements' kind), "tuple" "set" ("tuple:KIND" "set:KIND"), "model:NAME" (a class of the user's code:
a dataclass, NamedTuple, Enum, TypedDict or Pydantic model), "path" "paths" (files, read by the
artifact code). A parameter's kind ending in " | None" admits None; any other annotated parameter
refuses it. Plans (from the compiler, per task, in env PLAN_ENV): "str" (the text is a str result,
kept as it is), "json" (a literal written as JSON because its own text would be misread: the str
"42"), "agg" / "agg:str" (Argo's aggregate of a fanned-out task's results) and "item" or
"item+PLAN" ({{item.KEY}}, whose strings keep their JSON escapes, then read as PLAN).

A function whose kind or plan a template never uses is left out of its script; so is an `if`
statement (without `else`) that calls one of the optional functions left out (script.py says
which are optional). Everything else stays as it is here, comments included.
"""

import json
import os
import sys

# --- names the compiler, the local runner and the script share ----------------------------------------

INPUT_PREFIX = "HERASPEC_IN_"  # each parameter's text is in env HERASPEC_IN_<name>
DEFAULT_MARKER = "__heraspec_default__"  # the env value meaning "let Python apply the default"
PLAN_ENV = "HERASPEC_PLAN"  # per task: how to read inputs that are results (read_input)
RESULT_PATH = "/tmp/heraspec/result.json"  # the result parameter's file
RESULT_PATH_ENV = "HERASPEC_RESULT_PATH"  # moves it (the local runner sets it)
RESULT_MODE_ENV = "HERASPEC_RESULT"  # where the result goes: "file" or "artifact" (unset: a parameter)
OUTPUTS_ENV = "HERASPEC_OUTPUTS"  # named outputs: {output name: dotted key path}, JSON
ARTIFACT_DIR = "/tmp/heraspec/artifacts"  # in/<param>/<entry> and out/result/<entry> (artifact_paths.py)
ARTIFACT_DIR_ENV = "HERASPEC_ARTIFACT_DIR"  # moves it (the local runner sets it)
ONE = "__heraspec_artifact__"  # an input's env value: it is the folder in/<param>
MANY = "__heraspec_artifacts__"  # an input's env value: it is in/<param>/<index>/..., a fan-in
VALUE_FILE = "value.json"  # a value sent through the artifact repository (`result: artifact`)
# Argo puts each input of a script in one environment variable; Linux refuses (E2BIG) a variable of
# MAX_ARG_STRLEN = 128 KiB or more, which Argo also knows as common.MaxEnvVarLen (workflow/common/
# common.go). A result passed as a parameter must leave room for the consumer's variable name.
PARAMETER_LIMIT = 128 * 1024 - 1024
PACKAGES_ENV = "HERASPEC_PACKAGES"  # the task's packages, JSON (install_packages)
INSTALL_FAILED = 97  # the exit code of a failed install: the retry strategy does not retry it


# --- the package step: the task's `packages`, before any of its code is imported ---------------------

def install_packages():
    """Install the task's `packages` (env PACKAGES_ENV) with pip, quietly. `heraspec run` prepares
    them in a cached environment instead and says so through PACKAGES_ENV_INSTALLED. Locked
    (`heraspec lock`): exactly the pins, hashes required, nothing resolved. A failed install ends
    with exit code INSTALL_FAILED and pip's reason."""
    import subprocess
    import tempfile

    wanted = os.environ.get(PACKAGES_ENV)
    if not wanted or os.environ.get(PACKAGES_ENV + "_INSTALLED") == wanted:
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
        pins.write("\n".join(spec["locked"]) + "\n")
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
        sys.stderr.write(f"heraspec: installing packages {what} failed (pip exit code {done.returncode}): "
                         + " / ".join(pip_reason(out)[:6]) + "\n")
        raise SystemExit(INSTALL_FAILED)


def pip_reason(out):
    """The reason in pip's output: the first lines a failed build printed itself, then pip's
    ERROR / error / × lines (else its last three lines)."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    own, said, block = [], [], 0
    for line in lines:
        if line.endswith(" lines of output]"):
            block = 2
        elif block and line != "[end of output]":
            own.append(line)
            block -= 1
        elif line.split(" ")[0] in ("ERROR:", "error:", "\u00d7") and "subprocess-exited-with-error" not in line:
            said.append(line)
    return list(dict.fromkeys(own + said)) or lines[-3:]


# --- the carried code: the user's modules, served under their own names ---------------------------------

def serve_carried_modules(code):
    """Serve the carried modules under their own names, before anything installed, so that
    `from mypkg.steps import train` imports them as Python would, relative imports and all. Each
    runs from its original file name and line numbers, so tracebacks point at your files. `code`:
    the modules (and data files) as JSON, zlib-compressed, URL-safe base64 (script.code_text).
    Only what every task needs is imported here (start-up is per task): linecache and traceback,
    which pull in re, wait until an exception is printed."""
    import binascii  # not base64, which imports more
    import zlib

    packed = binascii.a2b_base64(code.replace("-", "+").replace("_", "/"))
    table = json.loads(zlib.decompress(packed).decode("utf-8"))
    modules, data = table["modules"], table.get("data") or {}
    if data:
        write_data_files(modules, data)
    finder = CarriedFinder(modules, on_disk=bool(data))
    sys.meta_path.insert(0, finder)

    def excepthook(kind, value, tb):  # with the carried source lines
        import linecache
        import traceback

        for filename, text in finder.loaded.items():
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        traceback.print_exception(kind, value, tb)

    sys.excepthook = excepthook


def write_data_files(modules, data):
    """Write the modules and the data files they read beside them (Path(__file__).parent,
    importlib.resources) under $TMPDIR/heraspec/code, and point the modules' file names there."""
    import binascii

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


class CarriedFinder:
    """The meta path finder of the carried modules: {name: [filename, is_package, source]}."""

    def __init__(self, modules, on_disk):
        self.modules, self.on_disk = modules, on_disk
        self.loaded = {}  # filename -> source of the carried modules imported so far

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        filename, package, text = self.modules[name]
        self.loaded[filename] = text
        ModuleSpec = sys.modules["_frozen_importlib"].ModuleSpec  # importlib.machinery's, already loaded
        if self.on_disk:  # written out with its data files: a package finds its resources there
            spec = ModuleSpec(name, CarriedFileLoader(filename, text), origin=filename, is_package=package)
            if package:
                spec.submodule_search_locations.append(os.path.dirname(filename))
            spec.has_location = True
            return spec
        return ModuleSpec(name, CarriedLoader(filename, text), origin=filename, is_package=package)


class CarriedLoader:
    """The loader protocol (create_module, exec_module, get_source) for one carried module
    (importlib.abc would cost ~10 ms of start-up)."""

    def __init__(self, filename, text):
        self.filename, self.text = filename, text

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.filename
        exec(compile(self.text, self.filename, "exec"), module.__dict__)

    def get_source(self, name):  # linecache reads carried lines through this (lazycache)
        return self.text


class CarriedFileLoader(CarriedLoader):
    """The loader of a carried module written out with its data files (write_data_files)."""

    def get_data(self, path):  # pkgutil.get_data
        with open(path, "rb") as f:
            return f.read()

    def get_resource_reader(self, name):  # importlib.resources.files(), with the data written out
        return self

    def files(self):
        import pathlib

        return pathlib.Path(os.path.dirname(self.filename))


# --- decoding inputs -----------------------------------------------------------------------------------

def read_input(raw, kind, plan, classes=None):
    """One parameter's value from its text, following the compiler's plan for this task."""
    if plan and plan.startswith("item"):
        raw = read_item_field(raw)
        plan = plan[5:] or None  # then, for "item+agg" and the like, as the rest of the plan says
    if plan in ("agg", "agg:str"):
        return read_aggregate(raw, kind, plan, classes)
    if plan == "json":
        return read_json_literal(raw, kind, classes)
    if plan == "str" and kind is None:
        return raw
    return decode(raw, kind, classes)


def read_item_field(raw):
    """An item field is Argo's Item.String(): a string keeps its JSON escapes."""
    try:
        return json.loads('"' + raw + '"')
    except (ValueError, RecursionError):
        return raw  # not an escaped string: a number, or JSON text with strings inside


def read_aggregate(raw, kind, plan, classes=None):
    """Argo's aggregate (aggregatedJSONValueList): the children's values decoded when every one is
    a JSON object or array, else the list of their raw texts; each text is decoded as its child
    wrote it (a str result is its own text)."""
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):
        items = None
    if not isinstance(items, list):
        return decode(raw, kind, classes)
    inner = kind[5:] if kind and kind.startswith("list:") else "str" if plan == "agg:str" else None
    values = [decode(v, inner, classes) if isinstance(v, str) else coerce(v, inner, classes) for v in items]
    if kind == "str":
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return values if kind is None or kind.startswith("list") else coerce(values, kind, classes)


def read_json_literal(raw, kind, classes=None):
    """A literal the compiler wrote as JSON, because its text alone would be misread."""
    try:
        return coerce(json.loads(raw), kind, classes)
    except (ValueError, RecursionError):
        return decode(raw, kind, classes)


def decode(raw, kind, classes=None):
    """A value from its text: Argo passes every input as text, JSON where it parses, else the raw
    text; then made what the annotation asks (coerce). `classes`: where "model:NAME" finds NAME."""
    if kind == "str":
        return raw
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = raw
    return coerce(value, kind, classes)


def coerce(value, kind, classes=None):
    """An already decoded value made what its kind asks where that is lossless (3.0 for an int is
    3, "yes" for a bool is True, a JSON text for a container is decoded, a mapping for a class is
    the class); what cannot be made so is left as it is, for `fits` to refuse."""
    if kind is None or value is None:
        return value
    head, _, inner = kind.partition(":")
    if isinstance(value, str) and head in ("list", "dict", "tuple", "set", "model"):
        value = decoded_container(value)
    convert = globals().get("coerce_" + head)  # a script has those of the kinds its template uses
    return convert(value, inner, classes) if convert else value


def decoded_container(text):
    """JSON text given for a container or a class, decoded (as a literal and through {param}
    alike), or the text as it is."""
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return decoded if isinstance(decoded, (list, dict)) else text


def coerce_int(value, inner, classes):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    return value


def coerce_float(value, inner, classes):
    if type(value) is int:
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    return value


def coerce_bool(value, inner, classes):
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "yes", "y", "on", "1"):
            return True
        if word in ("false", "no", "n", "off", "0"):
            return False
    elif type(value) is int and value in (0, 1):
        return bool(value)
    return value


def coerce_list(value, inner, classes):
    if not (inner and isinstance(value, list)):
        return value
    return [decode(v, inner, classes) if isinstance(v, str) else coerce(v, inner, classes) for v in value]


def coerce_tuple(value, inner, classes):
    return tuple(coerce_list(value, inner, classes)) if isinstance(value, list) else value


def coerce_set(value, inner, classes):
    if not isinstance(value, list):
        return value
    try:
        return set(coerce_list(value, inner, classes))
    except TypeError:  # an unhashable element: refused at the boundary
        return value


def coerce_dict(value, inner, classes):
    if not (inner and isinstance(value, dict)):
        return value
    return {k: decode(v, inner, classes) if isinstance(v, str) and inner != "str" else coerce(v, inner, classes)
            for k, v in value.items()}


def coerce_model(value, name, classes):
    return rebuild(value, (classes or {}).get(name))


def rebuild(value, cls):
    """The annotated class (of the user's code, wherever it is defined) made from its JSON form: a
    dataclass or NamedTuple from its fields (a field annotated with a dataclass rebuilt too), a
    Pydantic model validated, an Enum by value or name; a TypedDict stays the dict it is. What does
    not fit comes back as Unfit, for the boundary to refuse; other classes are left alone."""
    if not isinstance(cls, type):
        return value
    try:
        if issubclass(cls, dict) and hasattr(cls, "__total__"):  # a TypedDict
            return value if isinstance(value, dict) else Unfit(value, "")
        if callable(getattr(cls, "model_validate", None)):  # Pydantic v2
            return value if isinstance(value, cls) else cls.model_validate(value)
        if any(c.__module__ == "enum" and c.__name__ == "Enum" for c in cls.__mro__):
            if isinstance(value, cls):
                return value
            try:
                return cls(value)
            except ValueError:
                if isinstance(value, str) and value in cls.__members__:
                    return cls[value]
                raise
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # a NamedTuple
            if isinstance(value, cls):
                return value
            if isinstance(value, dict):
                return cls(**value)
            return cls(*value) if isinstance(value, list) else Unfit(value, "")
        import dataclasses

        if dataclasses.is_dataclass(cls):
            if isinstance(value, cls):
                return value
            if not isinstance(value, dict):
                return Unfit(value, "")
            space = getattr(sys.modules.get(cls.__module__), "__dict__", {})
            value = dict(value)
            for f in dataclasses.fields(cls):
                inner = space.get(f.type) if isinstance(f.type, str) else f.type
                if f.name in value and dataclasses.is_dataclass(inner) and isinstance(value[f.name], dict):
                    value[f.name] = rebuild(value[f.name], inner)
                    if isinstance(value[f.name], Unfit):
                        return Unfit(value, f"{f.name}: {value[f.name].why}")
            return cls(**value)
    except Exception as e:  # a missing or unknown field, a failed validation: said at the boundary
        return Unfit(value, "; ".join(str(e).split("\n"))[:300])
    return value


class Unfit:
    """A value the annotated class refused, and why (reported by refuse_unfit)."""

    def __init__(self, value, why):
        self.value, self.why = value, why

    def __repr__(self):
        return f"Unfit({self.value!r}, {self.why!r})"


# --- the boundary: a value that does not fit its annotation stops the task before the function runs -

def fits(value, kind):
    """Whether a decoded input fits its kind: None only where the kind admits it (" | None", or no
    annotation; an element of a container is not checked for None)."""
    if kind is None:
        return True
    if value is None:
        return kind.endswith(" | None")
    head, _, inner = kind[:-7].partition(":") if kind.endswith(" | None") else kind.partition(":")
    check = globals().get("fits_" + head)  # a script has those of the kinds its template uses
    return check(value, inner) if check else True


def fits_element(value, kind):
    return value is None or fits(value, kind)


def fits_int(value, inner):
    return isinstance(value, int) and not isinstance(value, bool)


def fits_float(value, inner):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fits_bool(value, inner):
    return isinstance(value, bool)


def fits_list(value, inner):
    return isinstance(value, list) and (not inner or all(fits_element(v, inner) for v in value))


def fits_tuple(value, inner):
    return isinstance(value, tuple) and (not inner or all(fits_element(v, inner) for v in value))


def fits_set(value, inner):
    return isinstance(value, set) and (not inner or all(fits_element(v, inner) for v in value))


def fits_dict(value, inner):
    return isinstance(value, dict) and (not inner or all(fits_element(v, inner) for v in value.values()))


def fits_model(value, inner):
    return not isinstance(value, Unfit)


def refuse_unfit(function, name, value):
    """Stop the task: `fn(param): expected int, got 'abc' (str)`, with the class's reason if any."""
    want = function.__annotations__.get(name)
    want = want.__name__ if isinstance(want, type) else str(want).replace("typing.", "")
    got = f"{repr(value)[:200]} ({type(value).__name__})"
    if isinstance(value, Unfit):  # a class refused it, and said why
        got = f"{repr(value.value)[:200]} ({type(value.value).__name__}){': ' + value.why if value.why else ''}"
    raise SystemExit(f"heraspec: {function.__name__}({name}): expected {want}, got {got}")


# --- files: inputs that arrive through the artifact repository, a result that is a file --------------

def artifact_root(*parts):
    import pathlib

    return pathlib.Path(os.environ.get(ARTIFACT_DIR_ENV) or ARTIFACT_DIR, *parts)


def only_entry(folder):
    """The one file or folder the producer returned: an artifact is a folder holding one entry."""
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(entries) != 1:
        raise FileNotFoundError(f"heraspec: expected one file in {folder}, found {len(entries)}")
    return entries[0]


def read_artifact(name, raw, kind, classes=None):
    """An input placed by Argo's executor (or heraspec run) at in/<name> (raw is ONE), or a fan-in's,
    one sub-folder per item index, read back in item order (raw is MANY): the paths for a `Path`
    parameter, else the values sent through the repository (their value.json)."""
    folder = artifact_root("in", name)
    if raw == MANY:
        subs = [p for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
        found = [only_entry(p) for p in sorted(subs, key=lambda p: int(p.name))]
    else:
        found = [only_entry(folder)]
    if kind not in ("path", "paths"):
        inner = kind if raw != MANY else kind[5:] if kind and kind.startswith("list:") else None
        found = [coerce(json.loads(p.read_text(encoding="utf-8")), inner, classes) for p in found]
    return found if raw == MANY else found[0]


def write_file_result(value):
    """`-> Path`: move what the function wrote into out/result, keeping its name."""
    import pathlib
    import shutil
    import tempfile

    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"heraspec: the function is annotated -> Path but returned {type(value).__name__}")
    path = pathlib.Path(value).absolute()
    if not path.exists():
        raise FileNotFoundError(f"heraspec: the returned path {value} does not exist")
    roots = [pathlib.Path.cwd().resolve(), pathlib.Path(tempfile.gettempdir()).resolve()]
    real = path.resolve()
    if not any(r in real.parents for r in roots):
        raise ValueError(f"heraspec: the returned path {value} lies outside the task's working folder "
                         f"({roots[0]}); write the file there and return its path")
    out = artifact_root("out", "result")
    out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(real), str(out / (path.name or "result")))


# --- the return value, exactly -------------------------------------------------------------------------

def write_value_result(value, mode, where):
    """The return value as plain JSON data: a file in the artifact repository (`result: artifact`)
    or the result parameter; then its named outputs."""
    result = plain(value, where)
    if mode == "artifact":
        write_value_artifact(result)
    else:
        write_result_parameter(result, where)
    if os.environ.get(OUTPUTS_ENV):
        publish(result)


def plain(value, where, path="result"):
    """The value as plain JSON data, exactly, or SystemExit naming what cannot be sent and the way
    out. Subclasses of the JSON types (numpy.float64, Counter, OrderedDict, IntEnum, a str subclass,
    a namedtuple) are sent as their base value, an Enum as its value, numpy scalars and 0-d arrays
    as the Python value .item() gives (exact: int64 an int, bool_ a bool), dataclasses and Pydantic
    models as their fields."""
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if isinstance(value, float):
        if value == value and value not in (float("inf"), float("-inf")):
            return float(value)
        what, fix = "the float " + repr(float(value)), "return None or a string in its place"
    elif isinstance(value, (list, tuple)):
        return [plain(v, where, f"{path}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                refuse_result(where, path, "a dict with a key of type " + type(k).__name__,
                              "use str keys (JSON object keys are strings)")
            out[str(k)] = plain(v, where, f"{path}[{str(k)!r}]")
        return out
    elif hasattr(value, "_value_"):  # an Enum member
        return plain(value.value, where, path)
    elif isinstance(value, (int, str)):
        return (int if isinstance(value, int) else str)(value)
    elif getattr(value, "ndim", 1) == 0:  # a numpy scalar or 0-d array
        return plain(value.item(), where, path)
    elif callable(getattr(value, "model_dump", None)) and not isinstance(value, type):  # Pydantic v2
        return plain(value.model_dump(mode="json"), where, path)
    else:
        import dataclasses

        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return plain(dataclasses.asdict(value), where, path)
        name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
        what, fix = "a " + name, way_out(t)
    refuse_result(where, path, what, fix)


def way_out(t):
    """What to return instead of a value of type t."""
    if hasattr(t, "tolist") or hasattr(t, "to_dict") and hasattr(t, "iloc"):  # an array, a DataFrame or Series
        return ("return value.tolist() (a DataFrame: .to_dict('list')), set `result: artifact` if large, "
                "or return a file (-> Path)")
    fix = dict(set="sorted(value)", frozenset="sorted(value)", date="value.isoformat()", datetime="value.isoformat()",
               bytes="value.decode()", Decimal="str(value)", timedelta="value.total_seconds()").get(t.__name__)
    return ("return " + fix if fix else "convert it to a str, number, list or dict") + ", or return a file (-> Path)"


def refuse_result(where, path, what, fix):
    sys.stderr.write(f"heraspec: {where}: {path} is {what}, which has no exact JSON form; {fix}\n")
    raise SystemExit(1)


def argo_unsafe(text):
    """The code point of the first character Argo cannot substitute into another template, or None:
    simpleReplaceStrict (util/template) escapes values with Go's strconv.Quote, whose \\a \\v \\xNN
    \\UNNNNNNNN escapes are not JSON, and the template then fails "cannot finish template replacement"."""
    for c in text:
        n = ord(c)
        if (n < 32 and c not in "\b\t\n\f\r") or n == 127 or (n > 0xFFFF and not c.isprintable()):
            return n
    return None


def json_text(value):
    """Compact JSON of plain data; ASCII-only when DEL or unprintable astral characters would stay raw."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if argo_unsafe(text) is not None:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def result_text(result):
    """The result parameter's text: a str is its own text, anything else compact JSON. (A str with a
    character Argo cannot substitute is kept: its consumer fails on Argo, "cannot finish template
    replacement", and `heraspec run` fails it the same way.)"""
    return result if type(result) is str else json_text(result)


def write_value_artifact(result):
    """The result's JSON as a file in out/result, read back by the consumer's script, never substituted."""
    out = artifact_root("out", "result")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / VALUE_FILE, "w", encoding="utf-8") as f:
        f.write(json_text(result))


def write_result_parameter(result, where):
    """The output parameter's file, after checking it fits: a parameter reaches its consumer through
    one environment variable. Argo's executor trims one newline from a parameter file."""
    text = result_text(result)
    size = len(text.encode("utf-8"))
    if size > PARAMETER_LIMIT:
        raise SystemExit(
            f"heraspec: {where} is {size:,} bytes; a result passed as an Argo parameter must "
            f"stay under {PARAMETER_LIMIT:,} bytes (Linux refuses an environment variable of 128 KiB or more, E2BIG, "
            "and Argo caps parameters at 256 KiB). Set `result: artifact` on the task (or in `defaults`) to send "
            "it through the artifact repository, or return a file (-> Path)")
    path = os.environ.get(RESULT_PATH_ENV) or RESULT_PATH
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    if type(result) is str:  # PATH.str marks a str result, so that `heraspec run` shows it as one
        open(path + ".str", "w").close()


def publish(result):
    """Named outputs (env OUTPUTS_ENV): fields of the result (an empty key path: all of it), each as
    JSON in outputs/<name> beside the result's file, read by `{from, key}` and spliced into nested
    arguments."""
    keys = json.loads(os.environ[OUTPUTS_ENV])
    folder = os.path.join(os.path.dirname(os.environ.get(RESULT_PATH_ENV) or RESULT_PATH), "outputs")
    os.makedirs(folder, exist_ok=True)
    for name, path in keys.items():
        value, seen = result, []
        for part in (path.split(".") if path else []):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                where = "the result" + ("" if not seen else " field " + ".".join(seen))
                if isinstance(value, dict):
                    has = "its keys: " + (", ".join(map(str, value)) or "none")
                elif isinstance(value, list):
                    has = f"it is a list of {len(value)}"
                else:
                    has = "it is " + type(value).__name__ + ", not a mapping"
                raise SystemExit(f"heraspec: output {name!r} reads key {path!r}, but {where} has no {part!r} ({has})")
            seen.append(part)
        with open(os.path.join(folder, name), "w", encoding="utf-8") as out:
            out.write(json_text(value))


# --- the entry point -----------------------------------------------------------------------------------

def main(module, name, kinds):
    """Call `module.name` with each parameter of `kinds` ({name: kind}) read from env
    INPUT_PREFIX<name> (absent or DEFAULT_MARKER: Python applies the default), decoded and checked
    against its kind; write the result to a file, never stdout, so that print() cannot corrupt it."""
    import importlib

    function = getattr(importlib.import_module(module), name)
    classes = function.__globals__  # where a "model:NAME" kind finds its class
    plans = json.loads(os.environ.get(PLAN_ENV) or "{}")
    kwargs = {}
    for param, kind in kinds.items():
        raw = os.environ.get(INPUT_PREFIX + param)
        if raw is None or raw == DEFAULT_MARKER:
            continue
        base = kind[:-7] if kind and kind.endswith(" | None") else kind
        if raw in (ONE, MANY):  # a file, or a value sent through the artifact repository
            value = read_artifact(param, raw, base, classes)
        else:
            value = read_input(raw, base, plans.get(param), classes)
        if not fits(value, kind):
            refuse_unfit(function, param, value)
        kwargs[param] = value
    value = function(**kwargs)
    mode = os.environ.get(RESULT_MODE_ENV)
    if mode == "file":
        write_file_result(value)
    else:
        write_value_result(value, mode, f"the result of {module}:{name}")
