"""A task's body: the function it runs (resolved, its args checked against the signature, the code
it carries into the pod) or its container command. `semantic.check` calls `check_body` for every task
and exit handler; the checks read the body as written (which keys it writes together), each problem
located in the spec (a problem in the function's code also names its source line).
"""

from __future__ import annotations

from typing import Any

from ..document.load import Document
from ..document.nodes import Spec
from ..document.schema import misspelt_body
from ..errors import Errors, hint_close, note
from ..python import functions

_UNSEEN = object()
_CODE_SETTINGS = ("code", "image", "packages", "pip_index_url", "pip_extra_index_urls")  # what _check_carried reads
_NOT_A_FUNCTION = ("template_ref", "pipeline", "command")
_CLEAN_KEY_READS = frozenset(_CODE_SETTINGS + _NOT_A_FUNCTION)  # with `function` and `args`


def _clean_key(task: dict) -> tuple | None:
    """Everything `check_body` reads of a function task's body (with `spec` given), when the task
    runs a function with one mapping of args or none (no template_ref, pipeline or command):
    the function, the settings of its code (code, image, packages, index URLs) and the names of
    its args (not their values). None for any other body, or one holding an unhashable setting.
    Two tasks of one check with the same key get the same findings at their own positions."""
    ref, args = task.get("function"), task.get("args")
    if not isinstance(ref, str) or args is not None and not isinstance(args, dict):
        return None
    settings: tuple = ()  # the common case: the task writes none of them
    if not _CLEAN_KEY_READS.isdisjoint(task):
        if any(task.get(k) is not None for k in _NOT_A_FUNCTION):
            return None
        # a list as a tuple: YAML and TOML give no tuples, so none is taken for a list
        settings = tuple(tuple(v) if isinstance(v, list) else v for v in map(task.get, _CODE_SETTINGS))
    key = (ref, settings, None if args is None else tuple(args))
    try:
        hash(key)
    except TypeError:  # a malformed setting (a mapping where a text goes): the schema check reports it
        return None
    return key


def check_body(doc: Document, base: tuple, name: str, task: dict, search_path: list[str],
               errors: Errors, spec: tuple[dict, dict] | None = None,
               memo: dict | None = None, clean: dict | None = None) -> functions.Function | None:
    """A task body: a function (resolved, its args checked) or a container command.
    `spec`: (spec data, defaults) for the code checks of a task (packages, size, image mode);
    `memo`, `clean`: shared by the tasks of one check (see _check_carried); `clean` holds the
    function of each body (by `_clean_key`) found with nothing to report, so that the tasks alike
    to it are not checked again."""
    key = _clean_key(task) if clean is not None and spec is not None else None
    if key is not None:
        fn = clean.get(key, _UNSEEN)  # type: ignore[union-attr]
        if fn is not _UNSEEN:
            return fn  # type: ignore[return-value]
        found = Errors()
        fn = check_body(doc, base, name, task, search_path, found, spec, memo)
        if not found.items:
            clean[key] = fn  # type: ignore[index]
        errors.extend(found)
        return fn
    ref = task.get("function")
    fn = None
    for kind, what in (("template_ref", "input parameters"), ("pipeline", "that spec's parameters")):
        if task.get(kind) is None:
            continue
        for other in ("function", "command", "outputs", "template_ref"):
            if other != kind and task.get(other) is not None:
                doc.error(errors, base + (other,), f"task '{name}' runs a {kind}: it has no '{other}'", key=True)
        if task.get("args") is not None and not isinstance(task.get("args"), dict):
            doc.error(errors, base + ("args",), f"task '{name}' runs a {kind}: its args are a mapping of {what}")
        return None
    if isinstance(ref, str):
        fn, problems = functions.resolve(ref, search_path)
        data, defaults = spec or ({}, {})
        image_mode = (task.get("code") or defaults.get("code")) == "image"
        if fn is not None and image_mode:
            problems = []  # the image has the code: what cannot be carried does not matter
        for p in problems:
            _function_error(doc, base, p.message, p.hint, p.file, p.line, p.col, errors)
        if fn is not None and not problems and not image_mode and spec is not None:
            _check_carried(doc, base, task, fn, data, defaults, errors, memo)
        if fn is not None:
            _check_args(doc, name, task, fn, errors, base)
    elif ref is None and not misspelt_body(task):
        if task.get("command") is None:
            doc.error(errors, base, f"task '{name}' needs a 'function' (or 'command' for a container task)",
                      "e.g. function: mypkg.steps:train", key=True)
        elif isinstance(task.get("args"), dict):
            doc.error(errors, base + ("args",), f"task '{name}' is a container task: its args must be a list")
    if isinstance(ref, str) and task.get("command") is not None:
        doc.error(errors, base + ("command",), f"task '{name}' has both 'function' and 'command'",
                  "a task runs either a Python function or a container command", key=True)
    return fn


def carried_notes(fns: dict[str, functions.Function], spec: Spec) -> list[str]:
    """A located note (in the module's file) per import by a computed name of a first-party module
    the pod may not have (modules.Bundle.notes), once however many tasks carry it; a `code: image`
    task carries nothing (the image has the code)."""
    out: list[str] = []
    said: set[functions.Function] = set()
    for name, fn in fns.items():
        if fn in said:  # most tasks share their function with others
            continue
        found = functions.bundle(fn).notes
        task = spec.tasks.get(name)  # None: an exit handler's function
        if not found or (task is not None and task.code == "image"):
            continue
        said.add(fn)
        for p in found:
            text = note(p.file or "", p.line or 0, p.col or 0, p.message + (f"; {p.hint}" if p.hint else ""))
            if text not in out:
                out.append(text)
    return out


def _function_error(doc: Document, base: tuple, message: str, hint: str | None, file: str | None,
                    line: int | None, col: int | None, errors: Errors) -> None:
    """An error about the function's code: at the spec's `function` line, naming the source line."""
    where = f" ({functions.shown(file)}:{line}:{col})" if file and line else ""
    doc.error(errors, base + ("function",), message + where, hint)


def _check_carried(doc: Document, base: tuple, task: dict, fn: functions.Function, data: dict, defaults: dict,
                   errors: Errors, memo: dict | None = None) -> None:
    """The code a pod gets: within the size limit, and every import available there. `memo`: the
    findings by (function, packages, image), for the other tasks of the same check that share them."""
    from ..python import packages

    declared = packages.for_task(data, task, defaults)
    image = task.get("image") or defaults.get("image") or data.get("image") or "python:3.12"
    try:
        key = (id(fn), declared, image if isinstance(image, str) else None) if memo is not None else None
        found = memo.get(key) if key is not None else None  # type: ignore[union-attr]
    except TypeError:  # an unhashable (malformed) setting: the schema check reports it
        key = found = None
    if found is None:
        found = _carried_findings(fn, declared, image)
        if key is not None:
            memo[key] = found  # type: ignore[index]
    for message, hint, file, line, col in found:
        _function_error(doc, base, message, hint, file, line, col, errors)


def _carried_findings(fn: functions.Function, declared: Any, image: Any) -> list[tuple]:
    """(message, hint, file, line, col) of each problem with the code `fn` carries into a pod with
    `declared` packages on `image` (file None: at the spec's `function` line only)."""
    from ..python import packages

    from ..python.codetext import CODE_LIMIT, code_text

    out: list[tuple] = []
    bundle = functions.bundle(fn)
    # compressed, base64 makes at most 4/3 of the source: smaller sources need no compressing here
    packed = len(code_text(bundle.modules, bundle.data)) if bundle.size * 4 // 3 + 1024 > CODE_LIMIT else 0
    if packed > CODE_LIMIT:
        out.append((f"the code '{bundle.entry}' carries into the pod is {bundle.size / 1024:.0f} KiB "
                    f"({len(bundle.modules)} modules, {len(bundle.data)} data files), {packed / 1024:.0f} KiB compressed: "
                    f"over the {CODE_LIMIT // 1024} KiB a pod can receive in one environment variable "
                    "(Linux refuses 128 KiB, and Argo passes the template to the pod in one)",
                    "build an image that contains your package and set `code: image` on the task (or in `defaults`): "
                    "the script then imports the function from the image", None, None, None))
    for name, req in packages.shadowed({m.name.partition(".")[0] for m in bundle.modules}, declared):
        out.append((f"your module '{name}' has the name of a module of the package '{req}' this task installs: in the "
                    f"pod your '{name}' is imported instead of the package's", f"rename your module '{name}'",
                    None, None, None))
    if not isinstance(image, str) or not packages.bare_python_image(image):
        return out  # a custom image may well have them
    for imp, message, hint in packages.uncovered(bundle.imports, declared):
        out.append((message, hint, imp.file, imp.line, imp.col))
    return out


def _check_args(doc: Document, name: str, task: dict, fn: functions.Function, errors: Errors,
                where: tuple | None = None) -> None:
    where = where if where is not None else ("tasks", name)
    base = where + ("args",)
    args = task.get("args")
    sets: list[tuple[tuple, Any]]
    if args is None:
        sets = [(base, {})]
    elif isinstance(args, dict):
        sets = [(base, args)]
    elif isinstance(args, list):
        sets = [(base + (i,), a) for i, a in enumerate(args)]
        for path, a in sets:
            if not isinstance(a, dict):
                doc.error(errors, path, f"task '{name}' calls a function: each argument set must be a mapping")
        if not args:
            doc.error(errors, base, "an empty list of argument sets runs nothing")
    else:
        return
    known = [p.name for p in fn.params]
    for path, a in sets:
        if not isinstance(a, dict):
            continue
        for k in a:
            if k not in known:
                doc.error(errors, path + (k,), f"{fn.name}() has no parameter '{k}'",
                          hint_close(str(k), known, "parameters"), key=True)
        missing = [p.name for p in fn.params if p.required and p.name not in a]
        if missing:
            at = path if task.get("args") is not None else where
            doc.error(errors, at, f"{fn.name}() is missing argument{'s' if len(missing) > 1 else ''} "
                      + ", ".join(f"'{m}'" for m in missing), f"{fn.name} is defined at {fn.file}:{fn.line}",
                      key=task.get("args") is None)
