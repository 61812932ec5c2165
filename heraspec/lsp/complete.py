"""Completion: what may be typed at the cursor of a spec, YAML or TOML.

    function: values    `module:function` of the project's modules (read with ast, never imported),
                        with the signature as detail and the docstring as documentation
    args: keys          the referenced function's parameters, with type and default
    task names          in after, depends, edges, result and {from: ...}
    {param: ...}        the workflow's parameters
    keys and values     from the JSON Schema (schemas/heraspec.schema.json), so one server does all

Items are plain dicts (label, kind, detail, documentation, text, start); server.py makes them LSP
items whose edit replaces the word from `start` to the cursor.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from ..python import functions
from ..python.modules import first_party_roots
from . import text as textpos
from .project import Analysis, Project

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "dist-packages", "build", "dist"}
_MAX_MODULES = 400
_MODULE_TTL = 3.0  # seconds a listing of the project's modules is reused
MAX_FUNCTIONS = 50  # functions read for their signature per completion


def signature(fn: functions.Function) -> str:
    """`name(a: int, b: str = "x") -> dict`, from what heraspec read of the def."""
    parts = []
    for p in fn.params:
        s = p.name + (f": {p.annotation}" if p.annotation else "")
        if not p.required:
            s += f" = {p.default}" if p.default is not None else " = …"
        parts.append(s)
    ret = f" -> {fn.returns_annotation}" if fn.returns_annotation else ""
    return f"{fn.name}({', '.join(parts)}){ret}"


class Modules:
    """The Python modules under the first-party search directories, listed at most every few
    seconds (a completion should not walk the disk on each keystroke)."""

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple[float, list[str]]] = {}

    def forget(self) -> None:
        self._cache.clear()

    def names(self, search_path: list[str]) -> list[str]:
        roots = tuple(first_party_roots(search_path))
        hit = self._cache.get(roots)
        if hit is not None and time.monotonic() - hit[0] < _MODULE_TTL:
            return hit[1]
        out: list[str] = []
        for root in roots:
            for folder, dirs, files in os.walk(root):
                rel = os.path.relpath(folder, root)
                depth = 0 if rel == "." else rel.count(os.sep) + 1
                dirs[:] = sorted(d for d in dirs if d.isidentifier() and d not in _SKIP_DIRS and depth < 3
                                 and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
                prefix = "" if rel == "." else rel.replace(os.sep, ".") + "."
                for f in sorted(files):
                    stem = f[:-3]
                    if f.endswith(".py") and stem.isidentifier():
                        name = prefix[:-1] if stem == "__init__" else prefix + stem
                        if name and name not in out:
                            out.append(name)
                if len(out) >= _MAX_MODULES:
                    break
        self._cache[roots] = (time.monotonic(), out)
        return out


def complete(an: Analysis, project: Project, modules: Modules, line: int, character: int) -> list[dict]:
    cur = textpos.cursor(an.text, an.fmt, line, character)
    items = _complete(an, project, modules, cur, line)
    if an.fmt == "toml" and not cur.quoted and not cur.at_key:  # a TOML string value needs its quotes
        for it in items:
            if it["kind"] in ("function", "task", "parameter") or (it["kind"] == "value" and it.get("string")):
                it["text"] = '"' + it["text"] + '"'
    return items


def _complete(an: Analysis, project: Project, modules: Modules, cur: textpos.Cursor, line: int) -> list[dict]:
    data = an.data
    p = cur.path
    if cur.at_key:
        if p and p[-1] == "args":
            body = _body(data, p[:-1]) or {}
            ref = body.get("function") if an.checked is not None else None
            ref = ref if isinstance(ref, str) else textpos.function_of(an.text, an.fmt, p[:-1])
            if ref:
                given = set(body.get("args") or ()) if isinstance(body.get("args"), dict) else set()
                return _args(ref, project.search_path(an.path), given | cur.siblings | textpos.sibling_keys(an.text, an.fmt, line), cur)
        return _schema_keys(p, cur, set(_body(data, p) or ()) | cur.siblings | textpos.sibling_keys(an.text, an.fmt, line))
    key = p[-1] if p else None
    tasks = list(data.get("tasks") or {}) if isinstance(data.get("tasks"), dict) else []
    if key == "function":
        return _functions(project.search_path(an.path), modules, cur)
    if key in ("from", "after", "depends", "result") or p[:1] == ("edges",):
        # a task cannot name itself, but its exit handler reads its result (`tasks.X.on_exit`)
        own = p[1] if len(p) > 1 and p[0] == "tasks" and "on_exit" not in p else None
        return _names(tasks, cur, "task", exclude=own)
    if key == "param":
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        return _names(list(params), cur, "parameter", details={k: f"default: {v!r}" for k, v in params.items()})
    return _schema_values(p, cur)


def _body(data: dict, path: tuple) -> dict | None:
    node: Any = data
    for seg in path:
        node = node.get(seg) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _item(label: str, kind: str, cur: textpos.Cursor, *, detail: str = "", doc: str = "",
          text: str | None = None, start: int | None = None) -> dict:
    return {"label": label, "kind": kind, "detail": detail, "documentation": doc,
            "text": label if text is None else text, "start": cur.start if start is None else start}


def _functions(search_path: list[str], modules: Modules, cur: textpos.Cursor) -> list[dict]:
    """`module:function` refs of the modules named by what is typed; when there are more than
    MAX_FUNCTIONS, those starting with it, at most MAX_FUNCTIONS of them read for their signatures and
    the list marked incomplete, so the editor asks again as the user types on."""
    only = cur.prefix.split(":", 1)[0] if ":" in cur.prefix else None
    names = [only] if only else [m for m in modules.names(search_path) if m.startswith(cur.prefix.split(".")[0])]
    refs = [f"{module}:{name}" for module in names for name in functions.module_functions(module, search_path)
            if not name.startswith("_")]
    if len(refs) > MAX_FUNCTIONS:
        refs = [r for r in refs if r.startswith(cur.prefix)]
    out: list[dict] = []
    for ref in refs[:MAX_FUNCTIONS]:
        fn, _ = functions.resolve(ref, search_path)
        if fn is None:
            continue
        doc = functions.docstring(fn) or ""
        where = f"{functions.shown(fn.file)}:{fn.line}"
        out.append(_item(ref, "function", cur, detail=signature(fn),
                         doc=f"```python\ndef {signature(fn)}\n```\n\n{doc}\n\n{where}".replace("\n\n\n\n", "\n\n")))
    if len(refs) > MAX_FUNCTIONS:
        out += [_item(ref, "function", cur, detail="…") for ref in refs[MAX_FUNCTIONS:4 * MAX_FUNCTIONS]]
        if out:
            out[0]["incomplete"] = True
    return out


def _args(ref: str, search_path: list[str], given: set, cur: textpos.Cursor) -> list[dict]:
    fn, _ = functions.resolve(ref, search_path)
    if fn is None:
        return []
    out = []
    for p in fn.params:
        if p.name in given and p.name != cur.prefix:
            continue
        detail = (p.annotation or "any") + ("" if p.required else
                                            f" = {p.default}" if p.default is not None else " (has a default)")
        out.append(_item(p.name, "argument", cur, detail=detail,
                         doc=f"argument of `{signature(fn)}`" + (" (required)" if p.required else "")))
    return out


def _names(names: list[str], cur: textpos.Cursor, kind: str, exclude: str | None = None,
           details: dict[str, str] | None = None) -> list[dict]:
    m = re.search(r"[\w-]*$", cur.prefix)
    start = cur.start + (m.start() if m else len(cur.prefix))
    return [_item(n, kind, cur, start=start, detail=(details or {}).get(n, kind)) for n in names if n != exclude]


# --- the JSON Schema --------------------------------------------------------------------------------


def _resolve(schema: dict, node: Any) -> dict:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        seen += 1
    return node if isinstance(node, dict) else {}


def _branches(schema: dict, node: dict) -> list[dict]:
    """The node and the alternatives / parts it is made of (anyOf, oneOf, allOf), resolved."""
    out, todo = [], [node]
    while todo and len(out) < 40:
        n = _resolve(schema, todo.pop(0))
        out.append(n)
        for k in ("allOf", "anyOf", "oneOf"):
            todo.extend(n.get(k) or [])
    return out


def schema_node(path: tuple) -> list[dict]:
    """The schema's possible nodes at a key path (list items are reached through their list)."""
    from ..document.schema import load_schema

    schema = load_schema()
    nodes = [schema]
    for seg in path:
        nxt = []
        for n in (b for node in nodes for b in _branches(schema, node)):
            if "items" in n and "properties" not in n:
                n = _resolve(schema, n["items"])
                nxt.extend(_step(schema, b, seg) for b in _branches(schema, n))
            else:
                nxt.append(_step(schema, n, seg))
        nodes = [n for n in nxt if n]
        if not nodes:
            return []
    out = []
    for node in nodes:
        for b in _branches(schema, node):
            out.extend(_branches(schema, b["items"]) if "items" in b and "properties" not in b else [b])
    return out


def _step(schema: dict, node: dict, seg: str) -> dict | None:
    props = node.get("properties") or {}
    if seg in props:
        return _resolve(schema, props[seg]) or None
    extra = node.get("additionalProperties")
    return _resolve(schema, extra) if isinstance(extra, dict) else None


def _schema_keys(path: tuple, cur: textpos.Cursor, present: set) -> list[dict]:
    out, seen = [], set()
    for node in schema_node(path):
        for key, sub in (node.get("properties") or {}).items():
            if key in seen or key == "$schema" or (key in present and key != cur.prefix):
                continue
            seen.add(key)
            out.append(_item(key, "key", cur, detail="heraspec", doc=sub.get("markdownDescription") or sub.get("description", "")))
    return out


def _schema_values(path: tuple, cur: textpos.Cursor) -> list[dict]:
    out, seen = [], set()
    for node in schema_node(path):
        values = list(node.get("enum") or []) + ([node["const"]] if "const" in node else [])
        if node.get("type") == "boolean":
            values += [True, False]
        for v in values:
            label = ("true" if v else "false") if isinstance(v, bool) else str(v)
            if label not in seen and (v is not None):
                seen.add(label)
                item = _item(label, "value", cur, detail="heraspec", doc=node.get("description", ""))
                item["string"] = isinstance(v, str)
                out.append(item)
    return out
