"""The program an Argo `script` template runs (`command: [python]`), the same locally and in the pod.

    script_source(fn, code, packages, needs, shared) -> str    the program
    shared_code(names, modules, data) -> str                   a Workflow's runtime and code, its parameter

The runtime is the package python/pod/, real modules (read them there, with their comments); a
script runs the parts of it its template uses (runtime_roots -> pod_source.cut: the kinds of the
function's parameters, the plans the tasks calling the template pass, the artifact code where an
input or the result is a file, named outputs where a task publishes them: `Needs`, from the
compiler; the default `Needs()` is everything), then
  1. `install_packages()` where the task declares `packages` (env HERASPEC_PACKAGES, JSON): pip,
     quietly, before any user code runs (`heraspec run` prepares a cached environment instead);
  2. `code: carry` (default): `serve_carried_modules(...)` with the user's modules, whole, and the
     data files they read (`code_text`: JSON, zlib-compressed, URL-safe base64, so it never holds
     `{{`);
  3. `main(module, function, kinds)`: imports the function, reads, decodes and checks each
     parameter, calls it and writes the result exactly (pod.main).
Where the runtime and the code are:
- a Workflow's (or CronWorkflow's) script, `shared=True`: a few lines that unpack env CODE_ENV, which
  the compiler fills from the workflow's parameter CODE_PARAM[-N] (argo/code.py: one copy per
  workflow however many templates use it), run the runtime it holds (the union of the definitions
  of the templates reading it: `shared_code`), then call 2 and 3. The script names the digest of its
  own part of the runtime and of its own modules, so its cache key follows them;
- a WorkflowTemplate's script (called by templateRef from workflows without that parameter): the
  runtime's parts written out in the script, and the code as a string;
- `code: image`: the image has heraspec and the user's code installed; the script imports
  `install_packages` and `main` from heraspec.python.pod and carries nothing else.
The program never contains `{{` (Argo substitutes it everywhere, script source included).
"""

from __future__ import annotations

from typing import Iterable

from . import pod
from .codetext import CODE_LIMIT, ENV_LIMIT, code_text, digest
from .functions import Function, boundary_kinds, bundle
from .modules import Carried, DataFile
from ..record import Record

RESULT_PATH = pod.RESULT_PATH
RESULT_PATH_ENV = pod.RESULT_PATH_ENV
OUTPUTS_DIR = "/tmp/heraspec/outputs/"  # named outputs (`outputs:`, `{from, key}`), beside the result (pod.publish)
OUTPUTS_ENV = pod.OUTPUTS_ENV
INPUT_ENV_PREFIX = pod.INPUT_PREFIX
DEFAULT_MARKER = pod.DEFAULT_MARKER
PLAN_ENV = pod.PLAN_ENV
PLAN_INPUT = "heraspec-plan"  # the template input carrying it, present only where a task needs one
PACKAGES_ENV = pod.PACKAGES_ENV
INSTALL_FAILED = pod.INSTALL_FAILED
decode, coerce, argo_unsafe = pod.decode, pod.coerce, pod.argo_unsafe  # the compiler's checks read values as pods do

__all__ = ["CODE_LIMIT", "DEFAULT_MARKER", "ENV_LIMIT", "INPUT_ENV_PREFIX", "OUTPUTS_DIR", "OUTPUTS_ENV", "PLAN_ENV", "PLAN_INPUT",
           "RESULT_PATH", "RESULT_PATH_ENV", "Needs", "argo_unsafe", "carried_in", "code_text", "coerce", "decode",
           "digest", "image_runtime", "kinds", "roots", "runtime_roots", "runtime_text", "script_source", "shared_code"]

# --- what a template's script must handle --------------------------------------------------------------

PLANS = frozenset({"agg", "agg:str", "str", "json", "item", "item+agg", "item+agg:str", "item+str"})  # pod.read_input
RESULTS = frozenset({"parameter", "artifact", "file"})  # where a return value goes (pod.RESULT_MODE_ENV)


class Needs(Record):
    """What one template's script must read and write beyond what its function's annotations say; the
    compiler knows it from the tasks calling the template. The default is everything: a script any
    caller may use."""

    __slots__ = ("plans", "artifact_inputs", "results", "publish")

    plans: frozenset[str]  # plans a task may pass (PLAN_ENV)
    artifact_inputs: bool  # an input may arrive as a file (HERASPEC_IN_x is pod.ONE / MANY)
    results: frozenset[str]
    publish: bool  # named outputs (OUTPUTS_ENV)

    def __init__(self, plans: frozenset[str] = PLANS, artifact_inputs: bool = True, results: frozenset[str] = RESULTS,
                 publish: bool = True) -> None:
        self.plans = plans
        self.artifact_inputs = artifact_inputs
        self.results = results
        self.publish = publish


EVERYTHING = Needs()


def kinds(annotations: Iterable[str | None]) -> set[str]:
    """Every kind the decoder may be asked for, given the parameters' kinds: theirs and their elements'
    (without " | None")."""
    out: set[str] = set()
    for kind in annotations:
        kind = kind[:-7] if kind and kind.endswith(" | None") else kind
        while kind:
            out.add(kind)
            head, _, inner = kind.partition(":")
            kind = inner if head in ("list", "dict", "tuple", "set", "frozenset") else None
    return out


_PLAN_READERS = {"item": "read_item_field", "agg": "read_aggregate", "json": "read_json_literal"}


def roots(annotations: Iterable[str | None], needs: Needs = EVERYTHING, data: bool = False) -> frozenset[str]:
    """The definitions of python/pod a script needs (pod_source.cut) for parameters of these kinds
    (the pod's kinds, " | None" included) and these needs; `data`: the carried code has data files."""
    from . import pod_source  # only where a script is built: validate does not load it

    annotations = list(annotations)
    defined = pod_source.defined_names()
    out = {"main"}
    found = kinds(annotations)
    aggregates_strs = any(p.endswith("agg:str") for p in needs.plans)
    if aggregates_strs:
        found.add("str")
    heads = {k.partition(":")[0] for k in found}
    out |= {"coerce_" + h for h in heads - {"str"}} & defined
    # a str parameter's text is decoded as it is; a str elsewhere may arrive as another value (an
    # element, a value from the artifact repository, an aggregate's child), which coerce_str makes text
    elements = kinds(inner for head, _, inner in (k.partition(":") for k in found)
                     if head in ("list", "dict", "tuple", "set", "frozenset"))
    if "str" in heads and (aggregates_strs or needs.artifact_inputs or "str" in elements):
        out.add("coerce_str")
    if any(k is not None and k.partition(":")[0] not in ("path", "paths") for k in annotations):
        out |= {"fits"} | ({"fits_" + h for h in heads} & defined)
    if "str | None" in annotations:
        out.add("is_null_text")
    if "model" in heads:
        out.add("Unfit")
    out |= {_PLAN_READERS[part.partition(":")[0]] for p in needs.plans for part in p.split("+")
            if part.partition(":")[0] in _PLAN_READERS}
    if needs.artifact_inputs:
        out.add("read_artifact")
    if "file" in needs.results:
        out.add("write_file_result")
    if needs.results & {"parameter", "artifact"}:
        out.add("write_value_result")
        out |= {"write_result_parameter"} if "parameter" in needs.results else set()
        out |= {"write_value_artifact"} if "artifact" in needs.results else set()
        if needs.publish:  # named outputs are fields of a value (never of a file)
            out.add("publish")
    if data:
        out |= {"write_data_files", "CarriedFileLoader"}
    return frozenset(out)


_SCRIPTS: dict[tuple[Function, str, bool, Needs, bool], tuple[object, str]] = {}
IMAGE_MARKER = "# heraspec: code: image"
SCRIPT_MARKER = "# heraspec script for "  # the first line: `heraspec run` knows its own scripts by it
JSON_FIRST = "import json\n"  # every script imports json before any user code (the fork server has it: forkserver.py)
CODE_ENV = "HERASPEC_CODE"  # a Workflow's script's runtime and carried code (script_source(shared=True))
CODE_PARAM = "heraspec-code"  # the workflow parameter holding it (argo/code.py)


# --- the script ------------------------------------------------------------------------------------


def runtime_roots(fn: Function, needs: Needs = EVERYTHING, packages: bool = False) -> frozenset[str]:
    """The definitions of python/pod (pod_source.cut) a `code: carry` script of `fn` runs, for these
    callers' `needs` and with `packages` or not."""
    wanted = roots(boundary_kinds(fn).values(), needs, bool(bundle(fn).data)) | {"serve_carried_modules"}
    return wanted | {"install_packages"} if packages else wanted


def runtime_text(names: frozenset[str]) -> str:
    """The runtime holding `names` (pod_source.cut), readable, ends with a newline."""
    text = _RUNTIMES.get(names)
    if text is None:
        from . import pod_source

        text = _RUNTIMES[names] = pod_source.cut(names)
    return text


_RUNTIMES: dict[frozenset[str], str] = {}


def script_source(fn: Function, code: str = "carry", packages: bool = False, needs: Needs = EVERYTHING,
                  shared: bool = False) -> str:
    """The complete Python program for the Argo script template; it never contains `{{`.
    `code`: "carry" (the function's modules travel in the script) or "image" (the image has them,
    and heraspec); `packages`: the task declares packages (the template sets HERASPEC_PACKAGES);
    `needs`: what the tasks calling the template pass and expect (the default: anything), so that the
    script carries only the runtime it can use; `shared`: a Workflow's script, a few lines that run
    the runtime and the carried code from env CODE_ENV (shared_code: a text with at least the
    runtime_roots and every module the function's bundle holds), naming the digests of both."""
    carried = bundle(fn)  # a changed file, re-resolved, makes a new Bundle
    cached = _SCRIPTS.get((fn, code, packages, needs, shared))
    if cached is not None and cached[0] is carried:  # re-resolving a changed file makes a new Bundle
        return cached[1]
    if code == "carry" and carried.problems:
        raise ValueError(f"cannot build a script for {fn.ref}: " + "; ".join(p.message for p in carried.problems))
    header = f"{SCRIPT_MARKER}{fn.ref} ({carried.modules[0].filename}); generated, edit the module instead\n"
    kinds_text = "{" + ", ".join(f"{p!r}: {k!r}" for p, k in boundary_kinds(fn).items()) + "}"
    # a child process multiprocessing starts with spawn or forkserver (Python 3.14's default on Linux)
    # runs this file again as `__mp_main__`: it gets the code served, and no second call of main
    call = ("if __name__ == '__main__':\n"
            f"    main({fn.module!r}, {fn.name!r}, {kinds_text})\n")
    install = "install_packages()\n" if packages else ""
    if code == "image":
        names = "install_packages, main" if packages else "main"
        program = (f"{header}{IMAGE_MARKER} (the image provides '{fn.module}' and heraspec)\n"
                   f"from heraspec.python.pod import {names}\n\n" + install + call)
    else:
        modules, data = carried.modules, carried.data
        wanted = runtime_roots(fn, needs, packages)
        shown = ", ".join(m.filename for m in modules if m.source) + "".join(f", {d.path}" for d in data)
        if shared:
            from ..digest import sha256_hex

            runtime = sha256_hex(runtime_text(wanted).encode("utf-8"))[:16]
            program = (header + _BOOTSTRAP.format(env=CODE_ENV, param=CODE_PARAM, runtime=runtime, shown=shown,
                                                  code=digest(modules, data), file=pod.RUNTIME_FILE)
                       + install + "serve_carried_modules(shared)\n" + call)
        else:
            text = code_text(modules, data)
            chunks = "\n".join(f'    "{text[i:i + 96]}"' for i in range(0, len(text), 96))
            serve = f"serve_carried_modules(  # {shown}, compressed\n{chunks}\n)\n"
            program = (header + runtime_text(wanted) + "\n\n# --- this task " + "-" * 88 + "\n\n"
                       + install + serve + call)
    if "{{" in program:  # cannot happen: every part above is free of it; never emit one anyway
        raise RuntimeError(f"internal error: the script for {fn.ref} contains double braces")
    _SCRIPTS[(fn, code, packages, needs, shared)] = (carried, program)
    return program


# A Workflow's script: the runtime (python/pod, the definitions its templates use) and the carried
# code are the workflow's parameter (shared_code), which Argo puts in env CODE_ENV; the script unpacks
# it as pod.unpack_code does, runs the runtime, then serves the code and calls main.
_BOOTSTRAP = """\
import binascii
import json
import os
import zlib

# heraspec's pod runtime (the parts of heraspec/python/pod this workflow's templates use) and your
# code are stored once for the whole workflow, compressed, in its parameter {param} (or
# {param}-N), which Argo passes here as env {env}.
# your code: {shown} (sha256 {code})
# the runtime's parts this template uses: sha256 {runtime}
packed = binascii.a2b_base64(os.environ["{env}"].replace("-", "+").replace("_", "/"))
shared = json.loads(zlib.decompress(packed).decode("utf-8"))  # {{"runtime", "modules", "data"}}
exec(compile(shared["runtime"], "{file}", "exec"))
"""


def shared_code(names: frozenset[str], modules: Iterable[Carried], data: Iterable[DataFile] = ()) -> str:
    """A Workflow's parameter CODE_PARAM[-N]: the runtime holding `names` (runtime_text) with the
    modules and data files, packed as code_text packs them. Its scripts (script_source(shared=True))
    run it from env CODE_ENV."""
    return code_text(modules, data, runtime_text(names))


def image_runtime(folder: str) -> str:
    """A folder holding heraspec/python/pod/ (and the packages' empty __init__ files): on PYTHONPATH,
    it gives a `code: image` script run locally the runtime its image would have installed.
    Returns `folder`."""
    import os
    import shutil

    from . import pod_source

    target = os.path.join(folder, "heraspec", "python", "pod")
    os.makedirs(target, exist_ok=True)
    for init in (os.path.join(folder, "heraspec", "__init__.py"), os.path.join(folder, "heraspec", "python", "__init__.py")):
        if not os.path.exists(init):
            open(init, "w").close()
    for path in pod_source.folder().glob("*.py"):
        shutil.copyfile(path, os.path.join(target, path.name))
    return folder


def carried_in(source: str) -> tuple[str, list[str] | None]:
    """What a script of script_source carries: (the code text it passes serve_carried_modules, or ""
    when it reads the workflow's parameter or imports from the image; the files a shared script
    names as its own, or None)."""
    import ast
    import re

    text = ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", None
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", "") == "serve_carried_modules" and node.value.args and \
                isinstance(node.value.args[0], ast.Constant) and isinstance(node.value.args[0].value, str):
            text = node.value.args[0].value
    mine = re.search(r"^# your code: (.*) \(sha256 [0-9a-f]+\)$", source, re.M)
    return text, mine.group(1).split(", ") if mine else None
