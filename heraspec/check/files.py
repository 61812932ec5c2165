"""Files between tasks: which values travel as Argo artifacts, and the validate-time rules about them.

A value is an artifact when the function says so with `pathlib.Path` (a parameter annotated `Path`
or `list[Path]`, a return annotated `-> Path`), when a task sets `result: artifact` (its JSON return
value goes through the artifact repository), or when an arg is `{artifact: URL}`. The compiler and
the checks both ask this module, so the two cannot disagree.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Errors
from ..python import functions
from ..python.artifact_paths import PARAMETER_LIMIT
from ..document.load import Document
from ..document.nodes import ExitHandler, Ref, Spec, mapping
from ..document.schema import misspelt_body  # `fucntion:` is reported by the schema check; nothing follows from it

SCHEMES = ("s3", "gs", "https", "http")
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/]*)/?(.*)$")
_REF_FIELDS = {"artifact", "endpoint", "secret"}


def is_artifact_ref(value: Any) -> bool:
    """`{artifact: URL | {key}}`, optionally with `endpoint` / `secret` (s3)."""
    return isinstance(value, dict) and "artifact" in value and set(value) <= _REF_FIELDS


def split_url(url: str) -> tuple[str, str, str] | None:
    """`s3://bucket/key` -> ("s3", "bucket", "key"); None when it is not a URL."""
    m = _URL.match(url)
    return (m.group(1).lower(), m.group(2), m.group(3)) if m else None


def fans_out(task: Any) -> bool:
    """Argo runs the task once per item (withItems / withParam): it has a `foreach`, or is a function
    task with a list of argument sets (a container task's list `args` are its container's args)."""
    return isinstance(task, dict) and (task.get("foreach") is not None or (
        isinstance(task.get("args"), list) and task.get("function") is not None))


def result_kind(task: Any, fn: functions.Function | None, defaults: dict) -> str:
    """How a task's return value travels: "file" (-> Path), "artifact" (`result: artifact`), "parameter"."""
    if fn is None:
        return "parameter"
    if fn.returns_annotation == "path":
        return "file"
    setting = task.get("result") if isinstance(task, dict) and "result" in task else defaults.get("result")
    return "artifact" if setting == "artifact" else "parameter"


def check(doc: Document, spec: Spec, fns: dict[str, functions.Function], errors: Errors) -> None:
    """Located errors for values that cannot travel the way the functions and the spec say."""
    kinds_of: dict[int, dict[str, str | None]] = {}  # by id(fn): how each parameter takes its value
    for name, task in spec.tasks.items():
        base, written = task.where, task.written
        if "function" not in written and task.own.result == "artifact" and not misspelt_body(written):
            doc.error(errors, base + ("result",), f"task '{name}' is a container task: 'result: artifact' applies to "
                      "functions' return values", "declare the container's output files with argo.template.outputs",
                      key=True)
        fe = task.foreach if "foreach" in task.data else None  # (the membership test: cheaper, for most)
        src = fe.target if isinstance(fe, Ref) and fe.kind == "from" and isinstance(fe.target, str) else None
        src_kind = _result_kind(spec, fns, src) if src is not None else "parameter"
        if src_kind == "file":
            doc.error(errors, base + ("foreach", "from"), f"task '{src}' returns a file (-> Path), not a list "
                      "to fan out over", "return a list of values, or pass the file to one task with {from: ...}")
        elif src_kind == "artifact":
            doc.error(errors, base + ("foreach", "from"), f"task '{src}' sends its result through the artifact "
                      "repository (`result: artifact`), but Argo fans out over a parameter (withParam)",
                      f"let '{src}' return its list as a parameter (drop `result: artifact`), or pass the "
                      "list to one task")
        fn = fns.get(name)
        if fn is None:  # containers, sub-pipelines, templateRefs: their inputs are parameters only
            for path, src in _froms(task.data.get("args"), base + ("args",)):
                if _result_kind(spec, fns, src) != "parameter":
                    doc.error(errors, path, f"task '{src}' returns a file (or `result: artifact`), which task '{name}' "
                              "cannot receive: only function tasks take files", "give the file to a function task")
            continue
        sets = task.args  # a function task's: one set, or one per item of a list
        kinds = kinds_of.get(id(fn))
        if kinds is None:
            kinds = kinds_of[id(fn)] = {p.name: p.annotation for p in fn.params}
        for argset in sets:
            for arg in argset:
                if arg.name in kinds:
                    _check_arg(doc, errors, arg.where, fn, arg.name, kinds[arg.name], arg.value, spec, fns)
        if len(sets) > 1:  # a fan-out over argument sets: a file is one template input, shared by all items
            for key in kinds:
                values = [arg for argset in sets for arg in argset if arg.name == key]
                if any(_travels_as_file(a.value, spec, fns) for a in values):
                    same = _location_kind(values[0].value)
                    for a in values[1:]:
                        v = a.value
                        # URLs of one kind (scheme, endpoint, secret) may differ: each item reads its own
                        if v != values[0].value and (same is None or _location_kind(v) != same):
                            doc.error(errors, a.where, f"parameter '{key}' of {fn.name}() gets another kind of "
                                      "file in this argument set: the items of a fan-out may read different "
                                      "{artifact: URL} of one kind (scheme, endpoint, secret), or share one file",
                                      "give each kind of source its own task")
    for where, handler, fn in _exit_bodies(spec, fns):
        args = mapping(handler.data.get("args"))  # its argument mapping (a list is not one: none checked)
        for p in fn.params:
            value = args.get(p.name)
            if p.annotation in ("path", "paths") or (p.name in args and _travels_as_file(value, spec, fns)):
                doc.error(errors, where + (("args", p.name) if p.name in args else ()),
                          f"parameter '{p.name}' of {fn.name}() takes a file, which an exit handler cannot receive",
                          "pass it a value (a path or key as str), or run the step as a task after the others")


def _location_kind(value: Any) -> tuple | None:
    """What must be shared by the {artifact: ...} of a fan-out's items (None: not a URL artifact)."""
    if not is_artifact_ref(value):
        return None
    art = value["artifact"]
    scheme = "key" if isinstance(art, dict) else (split_url(str(art)) or ("?",))[0]
    return scheme, value.get("endpoint"), value.get("secret")


def _result_kind(spec: Spec, fns: dict[str, functions.Function], name: Any) -> str:
    """`result_kind` of the task named `name` ("parameter" for a name that is no task)."""
    task = spec.tasks.get(name) if isinstance(name, str) else None
    return result_kind(task.data, fns.get(name), {}) if task is not None else "parameter"  # data: after `defaults`


def _travels_as_file(value: Any, spec: Spec, fns: dict[str, functions.Function]) -> bool:
    if is_artifact_ref(value):
        return True
    src = value.get("from") if isinstance(value, dict) else None
    return isinstance(src, str) and _result_kind(spec, fns, src) != "parameter"


def _exit_bodies(spec: Spec, fns: dict[str, functions.Function]) -> list[tuple[tuple, ExitHandler, functions.Function]]:
    """(path, handler, function) of every exit handler that runs a function (semantic.EXIT_KEY keys)."""
    out = []
    if spec.on_exit is not None and ":on_exit" in fns:
        out.append((spec.on_exit.where, spec.on_exit, fns[":on_exit"]))
    for name, task in spec.tasks.items():
        if "on_exit" in task.data and task.on_exit is not None and f"{name}:on_exit" in fns:  # (cheapest first)
            out.append((task.on_exit.where, task.on_exit, fns[f"{name}:on_exit"]))
    return out


def _check_arg(doc: Document, errors: Errors, path: tuple, fn: functions.Function, pname: str, kind: str | None,
               value: Any, spec: Spec, fns: dict[str, functions.Function]) -> None:
    is_path = kind in ("path", "paths")
    if not is_path and not isinstance(value, (dict, list)):  # a literal value: only its size matters
        _check_size(doc, errors, path, fn, pname, value)
        return
    where = f"parameter '{pname}' of {fn.name}()"
    at_fn = f"{fn.name} is defined at {fn.file}:{fn.line}"
    if is_artifact_ref(value):
        if not is_path:
            doc.error(errors, path + ("artifact",), f"{where} is not annotated Path: {{artifact: ...}} gives the "
                      "function a local file path", f"annotate it `{pname}: Path` ({at_fn})")
        _check_ref(doc, errors, path, value)
        return
    if isinstance(value, dict) and set(value) == {"from", "key"} and isinstance(value["from"], str) and \
            _result_kind(spec, fns, value["from"]) == "file":
        doc.error(errors, path + ("key",), f"task '{value['from']}' returns a file (-> Path): it has no fields to "
                  "take a key from", f"pass the file itself: {{from: {value['from']}}}")
        return
    if isinstance(value, dict) and len(value) == 1 and "from" in value and isinstance(value["from"], str):
        src = value["from"]
        producer = spec.tasks.get(src)
        if producer is None:
            return  # unknown task: reported by the graph checks
        produces = _result_kind(spec, fns, src)
        many = fans_out(producer.data)
        if is_path and produces != "file":
            doc.error(errors, path + ("from",), f"{where} is a Path, but task '{src}' returns a value, not a file",
                      f"annotate {src}'s function `-> Path` and return the path of the file it writes ({at_fn})")
        elif produces == "file" and not is_path:
            doc.error(errors, path + ("from",), f"task '{src}' returns a file (-> Path), but {where} is not a Path",
                      f"annotate it `{pname}: {'list[Path]' if many else 'Path'}` ({at_fn})")
        elif is_path and many and kind == "path":
            doc.error(errors, path + ("from",), f"task '{src}' is fanned out: {where} receives one file per item",
                      f"annotate it `{pname}: list[Path]` ({at_fn})")
        elif is_path and not many and kind == "paths":
            doc.error(errors, path + ("from",), f"task '{src}' returns one file, but {where} is a list[Path]",
                      f"annotate it `{pname}: Path` ({at_fn})")
        if produces != "parameter" and many and isinstance(producer.data.get("foreach"), dict):
            doc.error(errors, path + ("from",), f"task '{src}' fans out over a value known only at run time and "
                      "returns files (or `result: artifact`): their order cannot be kept, as Argo gives loop "
                      "children no index", f"fan '{src}' out over a list written in the spec (foreach: [...] or a "
                      "list of args), or let it return values")
        return
    if not is_path and not isinstance(value, dict) or (isinstance(value, dict) and not _has_ref(value)):
        _check_size(doc, errors, path, fn, pname, value)
    if is_path:
        what = ("a workflow parameter" if isinstance(value, dict) and "param" in value else
                "a fan-out item" if isinstance(value, dict) and "item" in value else "a literal value")
        doc.error(errors, path, f"{where} is a Path, but it is given {what}",
                  "pass a file: {from: TASK} (a task returning Path) or {artifact: s3://bucket/key | https://... | {key: ...}}"
                  f"; or annotate it with the type of the value ({at_fn})")
    elif isinstance(value, (dict, list)):
        for sub in _nested_froms(value):
            if _result_kind(spec, fns, sub) != "parameter":
                doc.error(errors, path, f"task '{sub}' returns a file or an artifact result, which cannot be "
                          f"nested inside the value of {where}", "pass it alone: {from: " + sub + "}")


def _check_size(doc: Document, errors: Errors, path: tuple, fn: functions.Function, pname: str, value: Any) -> None:
    """A value written in the spec fits the environment variable it reaches the pod through."""
    size = len(int.__repr__(value)) if type(value) is int else \
        len((value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))).encode("utf-8"))
    if size > PARAMETER_LIMIT:
        doc.error(errors, path, f"the value of parameter '{pname}' of {fn.name}() is {size:,} bytes: an input reaches "
                  "the pod through one environment variable, and Linux refuses one of 128 KiB or more (E2BIG)",
                  "put the data in a file and pass it as {artifact: URL} to a Path parameter")


def _froms(value: Any, path: tuple) -> list[tuple[tuple, str]]:
    """(path of the `from` key, task) of every {from: ...} inside an args value."""
    if isinstance(value, dict):
        if "from" in value and isinstance(value["from"], str) and set(value) <= {"from", "key"}:
            return [(path + ("from",), value["from"])]
        return [x for k, v in value.items() for x in _froms(v, path + (k,))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _froms(v, path + (i,))]
    return []


def _has_ref(value: Any) -> bool:
    return bool(_nested_froms(value)) or any(k in ("param", "item") for k in _keys(value))


def _keys(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if len(v) == 1:
                out.extend(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def _nested_froms(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if len(v) == 1 and "from" in v and isinstance(v["from"], str):
                out.append(v["from"])
            else:
                stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def _check_ref(doc: Document, errors: Errors, path: tuple, ref: dict) -> None:
    art = ref.get("artifact")
    if isinstance(art, dict):
        if set(art) != {"key"} or not isinstance(art.get("key"), str) or not art["key"].strip("/"):
            doc.error(errors, path + ("artifact",), "a repository artifact is written {key: PATH/IN/THE/REPOSITORY}")
        elif ".." in art["key"].split("/"):
            doc.error(errors, path + ("artifact", "key"), f"artifact key '{art['key']}' contains '..'")
        scheme = None
    elif isinstance(art, str):
        from ..document.patterns import url_redacted as redacted, url_userinfo as userinfo

        if userinfo(art):  # never printed: the message shows the URL without them
            doc.error(errors, path + ("artifact",), f"artifact URL '{redacted(art)}' has credentials in it "
                      "(user:password@): the Workflow would carry them in clear for anyone who can read it",
                      "keep credentials in a Secret: for s3:// write endpoint and secret: NAME (a Secret with "
                      "accessKey and secretKey); for https://, a URL that needs no login, or {key: ...} in the "
                      "artifact repository")
            return
        parts = split_url(art)
        if parts is None or parts[0] not in SCHEMES:
            doc.error(errors, path + ("artifact",), f"unknown artifact URL '{art}'" if parts is None else
                      f"unknown artifact URL scheme '{parts[0]}://'",
                      "use s3://bucket/key, gs://bucket/key, https://host/path, or {key: ...} in the artifact repository")
            return
        scheme, host, key = parts
        if not host or not key or ".." in key.split("/"):
            doc.error(errors, path + ("artifact",), f"artifact URL '{art}' needs a bucket (or host) and a path",
                      "e.g. s3://my-bucket/reads/sample1.fq")
    else:
        doc.error(errors, path + ("artifact",), "artifact must be a URL or {key: ...}")
        return
    for extra in ("endpoint", "secret"):
        if extra in ref and scheme != "s3":
            doc.error(errors, path + (extra,), f"'{extra}' applies to s3:// artifacts only", key=True)
        elif extra in ref and not isinstance(ref[extra], str):
            doc.error(errors, path + (extra,), f"'{extra}' must be a string")
    if scheme == "s3" and "endpoint" not in ref:
        doc.error(errors, path + ("artifact",), f"'{art}' needs an 'endpoint': without one Argo reads the key from "
                  "the bucket of the workflow's artifact repository, not from this bucket",
                  "add endpoint: s3.amazonaws.com (or your MinIO host) and, unless the pod's IAM role may read it, "
                  "secret: NAME (a Secret with accessKey and secretKey); or write {artifact: {key: ...}} for a key "
                  "in the artifact repository")
    if "secret" in ref and "endpoint" not in ref:
        doc.error(errors, path + ("secret",), "'secret' needs 'endpoint' (without an endpoint Argo uses the artifact "
                  "repository's own credentials)", key=True)
