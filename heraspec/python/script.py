"""The program an Argo `script` template runs (`command: [python]`), the same locally and in the pod.

    script_source(fn, code, packages, needs) -> str    the program: package step, carried modules, decoder, entry

The program is assembled from the tagged pieces of runtime.py (and artifact_paths.RUNTIME_SOURCE): only
the branches the function's parameter kinds use, the plans the tasks calling the template pass,
the artifact code where an input or the result is a file, named outputs where a task publishes
them (`Needs`, from the compiler; the default `Needs()` is everything); no comments but the first
line. `decode`, `coerce` and `argo_unsafe` run the whole runtime, so the compiler's checks and the
scripts share one decoder.

In order, the program
  1. installs the task's `packages` (env HERASPEC_PACKAGES, JSON) with pip, quietly, before any
     user code runs; a failed install prints pip's output and exits 1 (`heraspec run` prepares a
     cached environment instead and sets HERASPEC_PACKAGES_INSTALLED to the same value);
  2. `code: carry` (default): holds the user's modules, whole, and the data files they read
     (`code_text`: JSON, zlib-compressed, URL-safe base64, so it never holds `{{`), in the script
     or, with `shared=True`, in env CODE_ENV, which the compiler fills from the workflow's
     parameter CODE_PARAM (one copy per workflow however many templates use it); puts an
     importer first on `sys.meta_path`, so `from mypkg.steps import train` imports them under
     their own names, relative imports and all, as Python does; tracebacks show the original file
     names and lines (linecache holds their text). With data files, modules and data are written
     under $TMPDIR/heraspec/code (/tmp in the pod) and `__file__` points there.
     `code: image`: imports the function from the image instead (Hera's runner does the same);
  3. reads each parameter from env var `HERASPEC_IN_<name>` (absent or `__heraspec_default__`:
     Python applies the default) and decodes it (`_heraspec_input`, where tasks pass plans: the
     task's plan from env HERASPEC_PLAN first, for aggregates and str results; then annotation
     `str`: the raw text; otherwise JSON where it parses, else the raw text; then
     int/float/bool/list[...] coercion and dataclass/Pydantic rebuilding);
  4. calls the function with keywords and writes the result exactly (`_heraspec_result_text`: a
     str is its own text, anything else compact JSON; dataclasses and Pydantic models as their
     JSON; a value without an exact JSON form exits 1 naming it and the fix) plus one newline
     for Argo's executor to trim, to RESULT_PATH, or to env `HERASPEC_RESULT_PATH` when set (the
     local runner uses that).
The program never contains `{{` (Argo substitutes it everywhere, script source included).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Iterable

from . import artifact_paths, runtime as pieces
from .functions import Function, bundle
from .modules import Carried, DataFile

RESULT_PATH = "/tmp/heraspec/result.json"
RESULT_PATH_ENV = "HERASPEC_RESULT_PATH"
OUTPUTS_DIR = "/tmp/heraspec/outputs/"  # named outputs (`outputs:`, `{from, key}`), beside the result
OUTPUTS_ENV = "HERASPEC_OUTPUTS"  # {output name: dotted key path}, JSON
INPUT_ENV_PREFIX = "HERASPEC_IN_"
DEFAULT_MARKER = "__heraspec_default__"  # env value meaning "let Python apply the default"
PLAN_ENV = "HERASPEC_PLAN"  # per task: how to read inputs that are results (see _heraspec_input)
PLAN_INPUT = "heraspec-plan"  # the template input carrying it, present only where a task needs one

__all__ = ["DEFAULT_MARKER", "INPUT_ENV_PREFIX", "OUTPUTS_DIR", "OUTPUTS_ENV", "PLAN_ENV", "PLAN_INPUT",
           "RESULT_PATH", "RESULT_PATH_ENV", "Needs", "argo_unsafe", "decode", "script_source"]

# --- what a template's script must handle --------------------------------------------------------------

PLANS = frozenset({"agg", "agg:str", "str", "json", "item", "item+agg", "item+agg:str", "item+str"})  # runtime.DECODE
RESULTS = frozenset({"parameter", "artifact", "file"})  # where a return value goes (artifact_paths.RESULT_MODE_ENV)


@dataclass(frozen=True)
class Needs:
    """What one template's script must read and write beyond what its function's annotations say; the
    compiler knows it from the tasks calling the template. The default is everything: a script any
    caller may use."""

    plans: frozenset[str] = PLANS  # plans a task may pass (PLAN_ENV)
    artifact_inputs: bool = True  # an input may arrive as a file (HERASPEC_IN_x is artifact_paths.ONE / MANY)
    results: frozenset[str] = RESULTS
    publish: bool = True  # named outputs (OUTPUTS_ENV)


EVERYTHING = Needs()


def kinds(annotations: Iterable[str | None]) -> set[str]:
    """Every kind the decoder may be asked for, given the parameters' kinds: theirs and their elements'."""
    out: set[str] = set()
    for kind in annotations:
        while kind:
            out.add(kind)
            kind = kind[5:] if kind.startswith(("list:", "dict:")) else None
    return out


def tags(annotations: Iterable[str | None], needs: Needs = EVERYTHING) -> frozenset[str]:
    """The runtime's tags (runtime.py) a script needs for parameters of these kinds and these needs."""
    plans = needs.plans
    found = kinds(annotations) | ({"str"} if any(p.endswith("agg:str") for p in plans) else set())  # its elements
    out = {k for k in found if k in ("str", "int", "float", "bool", "list", "dict")}
    out |= {tag for tag, prefix in (("listof", "list:"), ("dictof", "dict:"), ("model", "model:"))
            if any(k.startswith(prefix) for k in found)}
    if plans:
        out.add("plans")
        out |= {"plan:" + part.split(":")[0] for p in plans for part in p.split("+")}
    if needs.artifact_inputs:
        out.add("artifact-in")
    out |= {"result:" + r for r in needs.results}
    if needs.results & {"parameter", "artifact"}:
        out.add("value")
    if needs.results & {"artifact", "file"}:
        out.add("mode")
    if "parameter" in needs.results and "artifact" not in needs.results:
        out.add("write:parameter")
    if needs.publish and "value" in out:  # named outputs are fields of a value (never of a file)
        out.add("publish")
    return frozenset(out)


ALL_TAGS = tags(["str", "int", "float", "bool", "list", "dict", "list:str", "dict:str", "model:_"]) | {"write:parameter", "data"}

# --- the runtime, shared by the script and by the compiler's checks (one source of truth) -----------

_namespaces: dict[frozenset[str], dict] = {}


def runtime_namespace(tags: frozenset[str] = ALL_TAGS) -> dict:
    """The decoder and result functions a script with these tags carries, run here: the compiler's
    checks use the whole of it (`decode`, `coerce`, `argo_unsafe`); tests compare cut ones with it."""
    space = _namespaces.get(tags)
    if space is None:  # compiled on first use (not on every `heraspec validate` start)
        space = _namespaces[tags] = {}
        source = pieces.select(pieces.DECODE, tags) + pieces.select(pieces.RESULT, tags)
        exec(compile(source, "<heraspec runtime>", "exec"), space)  # noqa: S102 (our own constant)
    return space


def decode(raw: str, annotation: str | None) -> object:
    """The script's own decoder."""
    return runtime_namespace()["_heraspec_decode"](raw, annotation)


def coerce(value: object, annotation: str | None) -> object:
    """The script's coercion of an already decoded value to its annotation's kind."""
    return runtime_namespace()["_heraspec_coerce"](value, annotation)


def argo_unsafe(text: str) -> int | None:
    """The code point of the first character Argo cannot substitute into a template, or None."""
    return runtime_namespace()["_heraspec_unsafe"](text)


_SCRIPTS: dict[tuple[Function, str, bool, Needs, bool], tuple[object, str]] = {}
PACKAGES_ENV = "HERASPEC_PACKAGES"
INSTALL_FAILED = 97  # the exit code of a failed package install: retryStrategy.expression does not retry it
IMAGE_MARKER = "# heraspec: code: image"
SCRIPT_MARKER = "# heraspec script for "  # the first line: `heraspec run` knows its own scripts by it
JSON_FIRST = "import json as _heraspec_json\n"  # the second line
CODE_ENV = "HERASPEC_CODE"  # a shared script's carried code (script_source(shared=True))
CODE_PARAM = "heraspec-code"  # the workflow parameter holding it (argo/code.py)
ENV_LIMIT = 131072  # bytes of one environment variable: Argo's common.MaxEnvVarLen (Linux MAX_ARG_STRLEN)
CODE_LIMIT = ENV_LIMIT - 16 * 1024  # of one code text (code_text), leaving room for the template around it


# --- the script ------------------------------------------------------------------------------------


def script_source(fn: Function, code: str = "carry", packages: bool = False, needs: Needs = EVERYTHING,
                  shared: bool = False) -> str:
    """The complete Python program for the Argo script template; it never contains `{{`.
    `code`: "carry" (the function's modules travel in the script) or "image" (the image has them);
    `packages`: the task declares packages (the template sets HERASPEC_PACKAGES); `needs`: what the
    tasks calling the template pass and expect (the default: anything), so that the script carries
    only the runtime it can use; `shared`: the carried code comes from env CODE_ENV (a text with
    at least every module the function's bundle holds), the script names its digest."""
    carried = bundle(fn)  # a changed file, re-resolved, makes a new Bundle
    cached = _SCRIPTS.get((fn, code, packages, needs, shared))
    if cached is not None and cached[0] is carried:  # re-resolving a changed file makes a new Bundle
        return cached[1]
    if code == "carry" and carried.problems:
        raise ValueError(f"cannot build a script for {fn.ref}: " + "; ".join(p.message for p in carried.problems))
    # every script reads JSON; importing it first makes `heraspec run`'s warm start (forkserver.py),
    # which has it imported, the same as the pod's fresh interpreter when the user's code is imported
    header = f"{SCRIPT_MARKER}{fn.ref} ({carried.modules[0].filename}); generated, edit the module instead\n{JSON_FIRST}"
    wanted = tags([p.annotation for p in fn.params], needs)
    if code == "image":
        user = f"{IMAGE_MARKER} (the image provides '{fn.module}')\nfrom {fn.module} import {fn.name}\n"
    else:
        modules, data = carried.modules, carried.data
        shown = ", ".join(m.filename for m in modules if m.source) + "".join(f", {d.path}" for d in data)
        importer = pieces.select(pieces.IMPORTER, wanted | ({"data"} if data else set())).replace("@CODE_ENV@", CODE_ENV)
        if shared:
            call = (f"_heraspec_importer(None)  # from the workflow's parameter {CODE_PARAM}: {shown} "
                    f"(sha256 {digest(modules, data)})\n")
        else:
            text = code_text(modules, data)
            chunks = "\n".join(f' "{text[i:i + 96]}"' for i in range(0, len(text), 96))
            call = f"_heraspec_importer(  # {shown}, compressed\n{chunks}\n)\n"
        user = f"{importer}{call}from {fn.module} import {fn.name}\n"
    entry = (pieces.select(pieces.MAIN, wanted).replace("@PARAMS@", repr([(p.name, p.annotation) for p in fn.params]))
             .replace("@FUNCTION@", fn.name).replace("@PREFIX@", INPUT_ENV_PREFIX).replace("@REF@", fn.ref)
             .replace("@PLAN_ENV@", PLAN_ENV)
             .replace("@MARKER@", DEFAULT_MARKER).replace("@PATH_ENV@", RESULT_PATH_ENV).replace("@OUTPUTS_ENV@", OUTPUTS_ENV)
             .replace("@RESULT_PATH@", RESULT_PATH).replace("@ONE@", artifact_paths.ONE).replace("@MANY@", artifact_paths.MANY)
             .replace("@MODE_ENV@", artifact_paths.RESULT_MODE_ENV))
    install = (pieces.select(pieces.PACKAGES, wanted).replace("@PACKAGES_ENV@", PACKAGES_ENV)
               .replace("@INSTALL_FAILED@", str(INSTALL_FAILED))) if packages else ""
    runtime = [pieces.select(text, wanted) for text in (pieces.DECODE, pieces.RESULT,
                                                        artifact_paths.runtime_source(RESULT_PATH, RESULT_PATH_ENV))]
    program = header + install + user + "".join(runtime) + entry
    if "{{" in program:  # cannot happen: every part above is free of it; never emit one anyway
        raise RuntimeError(f"internal error: the script for {fn.ref} contains double braces")
    _SCRIPTS[(fn, code, packages, needs, shared)] = (carried, program)
    return program


def _table(modules: Iterable[Carried], data: Iterable[DataFile]) -> bytes:
    table = {"modules": {m.name: [m.filename, m.is_package, m.source] for m in modules},
             "data": {d.path: base64.b64encode(d.data).decode("ascii") for d in data}}
    return json.dumps(table, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def code_text(modules: Iterable[Carried], data: Iterable[DataFile] = ()) -> str:
    """The modules and data files as the importer reads them: JSON, zlib-compressed, URL-safe base64
    (no `{{` for Argo to substitute, no `/` for `heraspec run` to take for a path)."""
    import zlib

    return base64.urlsafe_b64encode(zlib.compress(_table(modules, data), 9)).decode("ascii")


def digest(modules: Iterable[Carried], data: Iterable[DataFile] = ()) -> str:
    """A short hash of the carried code: in a shared script's text, so its cache key follows the code."""
    import hashlib

    return hashlib.sha256(_table(modules, data)).hexdigest()[:16]
