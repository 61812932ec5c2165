"""The program an Argo `script` template runs (`command: [python]`), the same locally and in the pod.

    script_source(fn) -> str          the whole program: carried user code, decoder, main entry

The script reads each parameter from env var `HERASPEC_IN_<name>` (absent or `__heraspec_default__`:
Python applies the default), decodes it (annotation `str`: the raw text; otherwise JSON where it
parses, else the raw text; then int/float/bool coercion), calls the function with keywords and
writes `json.dumps(result, default=str)` to RESULT_PATH, or to env `HERASPEC_RESULT_PATH` when set
(the local runner uses that). The program never contains `{{` (Argo substitutes it everywhere):
when the carried code does, it is embedded base64-encoded and run with `exec(compile(...))` under
its own file name, padded so tracebacks show the original line numbers.
"""

from __future__ import annotations

import base64

from .functions import Function, _Carried as Carried, _carried, carried_source

RESULT_PATH = "/tmp/heraspec/result.json"
RESULT_PATH_ENV = "HERASPEC_RESULT_PATH"
OUTPUTS_DIR = "/tmp/heraspec/outputs/"  # named outputs (`outputs:`, `{from, key}`), beside the result
OUTPUTS_ENV = "HERASPEC_OUTPUTS"  # {output name: dotted key path}, JSON
INPUT_ENV_PREFIX = "HERASPEC_IN_"
DEFAULT_MARKER = "__heraspec_default__"  # env value meaning "let Python apply the default"

__all__ = ["DEFAULT_MARKER", "INPUT_ENV_PREFIX", "OUTPUTS_DIR", "OUTPUTS_ENV", "RESULT_PATH", "RESULT_PATH_ENV", "decode",
           "script_source"]

# --- the decoder, shared by the script and by the default check (one source of truth) -------------

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
'''
_namespace: dict = {}


def decode(raw: str, annotation: str | None) -> object:
    """The script's own decoder, compiled on first use (not on every `heraspec validate` start)."""
    if not _namespace:
        exec(compile(_DECODE_SOURCE, "<heraspec decoder>", "exec"), _namespace)  # noqa: S102 (our own constant)
    return _namespace["_heraspec_decode"](raw, annotation)

_MAIN_SOURCE = '''\
def _heraspec_main(function=@FUNCTION@):  # bound here, before any local name can shadow it
    import builtins as b, json, os
    kwargs = {}
    for name, kind in @PARAMS@:
        raw = os.environ.get("@PREFIX@" + name)
        if raw is not None and raw != "@MARKER@":
            kwargs[name] = _heraspec_decode(raw, kind)
    # the result goes to a file, never stdout, so print() in user code cannot corrupt it
    text = json.dumps(function(**kwargs), default=b.str)
    path = os.environ.get("@PATH_ENV@") or "@RESULT_PATH@"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with b.open(path, "w", encoding="utf-8") as out:
        out.write(text)
    keys = os.environ.get("@OUTPUTS_ENV@")
    if keys:  # named outputs: fields of the result as decoded by a consumer, each written as JSON
        _heraspec_publish(json.loads(text), json.loads(keys), os.path.join(os.path.dirname(path), "outputs"))


def _heraspec_publish(result, keys, folder):
    import builtins as b, json, os, sys
    os.makedirs(folder, exist_ok=True)
    for name, path in keys.items():
        value, seen = result, []
        for part in path.split("."):
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
        with b.open(os.path.join(folder, name), "w", encoding="utf-8") as out:
            out.write(json.dumps(value, default=b.str))


_heraspec_main()
'''


_SCRIPTS: dict[Function, tuple[Carried, str]] = {}


# --- the script ------------------------------------------------------------------------------------


def script_source(fn: Function) -> str:
    """The complete Python program for the Argo script template; it never contains `{{`."""
    carried = _carried(fn)
    cached = _SCRIPTS.get(fn)
    if cached is not None and cached[0] is carried:  # re-resolving a changed file makes a new _Carried
        return cached[1]
    if carried.problems:
        raise ValueError(f"cannot build a script for {fn.ref}: " + "; ".join(p.message for p in carried.problems))
    user = carried_source(fn)
    header = f"# heraspec script for {fn.ref} ({carried.filename}); generated, edit the module instead\n"
    if "{{" in user:
        user = _embedded(carried)
    entry = (_MAIN_SOURCE.replace("@PARAMS@", repr([(p.name, p.annotation) for p in fn.params]))
             .replace("@FUNCTION@", fn.name).replace("@PREFIX@", INPUT_ENV_PREFIX)
             .replace("@MARKER@", DEFAULT_MARKER).replace("@PATH_ENV@", RESULT_PATH_ENV).replace("@OUTPUTS_ENV@", OUTPUTS_ENV)
             .replace("@RESULT_PATH@", RESULT_PATH))
    program = f"{header}{user}\n\n{_DECODE_SOURCE}\n\n{entry}"
    if "{{" in program:  # cannot happen: every part above is free of it; never emit one anyway
        raise RuntimeError(f"internal error: the script for {fn.ref} contains double braces")
    _SCRIPTS[fn] = (carried, program)
    return program


def _embedded(carried: Carried) -> str:
    """The carried code base64-encoded, each statement at its original line (tracebacks match)."""
    lines: list[str] = []
    for line, text, _ in carried.pieces:
        lines.extend([""] * (line - 1 - len(lines)))
        lines.extend(text.split("\n"))
    code = base64.b64encode(("\n".join(lines) + "\n").encode("utf-8")).decode("ascii")
    chunks = "\n".join(f'        "{code[i:i + 76]}"' for i in range(0, len(code), 76))
    return (
        "# The module code contains double braces, which Argo would substitute, so it is embedded\n"
        "# base64-encoded and runs unchanged under its own file name.\n"
        "def _heraspec_load():\n"
        "    import base64 as _heraspec_base64\n\n"
        f"    code = _heraspec_base64.b64decode(\n{chunks}\n    ).decode(\"utf-8\")\n"
        f"    exec(compile(code, {carried.filename!r}, \"exec\"), globals())\n\n\n"
        "_heraspec_load()\n"
    )
