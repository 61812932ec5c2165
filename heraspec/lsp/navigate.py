"""Hover, go to definition, references, rename and the quick fixes of errors, as plain values
(server.py makes LSP types of them). Positions are 0-based (line, character)."""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import Errors
from ..pipeline import SPEC_SUFFIXES, TEMPLATE_KINDS
from ..python import functions
from ..document.load import load_file
from ..document.patterns import TASK_NAME
from .complete import signature
from .project import Analysis, Project
from .symbols import Symbol


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    start: int
    end: int


# --- hover ----------------------------------------------------------------------------------------


def hover(an: Analysis, project: Project, line: int, character: int) -> tuple[str, Symbol] | None:
    """Markdown for the symbol under the cursor, and the symbol."""
    sym = an.symbols.at(line, character) if an.symbols else None
    if sym is None:
        return _key_doc(an, line, character)
    if sym.kind == "function":
        fn, problems = functions.resolve(sym.name, project.search_path(an.path))
        if fn is None:
            return (f"`{sym.name}`: " + (problems[0].message if problems else "not found")), sym
        return function_markdown(fn), sym
    if sym.kind in ("task", "task-ref"):
        return task_markdown(an, sym.name), sym
    if sym.kind in ("param", "param-ref"):
        params = an.data.get("parameters") or {}
        return f"**workflow parameter** `{sym.name}`\n\ndefault: `{json.dumps(params.get(sym.name))}`", sym
    if sym.kind == "arg":
        fn = _function_of(an, project, sym)
        param = next((p for p in fn.params if p.name == sym.name), None) if fn else None
        if fn is None or param is None:
            return None
        kind = param.annotation or "any type"
        default = "required" if param.required else (f"default `{param.default}`" if param.default is not None
                                                     else "has a default")
        return f"**argument** `{sym.name}`: {kind}, {default}\n\nof `{signature(fn)}`", sym
    return None


def _function_of(an: Analysis, project: Project, sym: Symbol) -> functions.Function | None:
    """The function whose args hold the key `sym` (path ... "args", NAME)."""
    node: Any = an.data
    for seg in sym.path[:-2]:
        node = node.get(seg) if isinstance(node, dict) else None
    ref = node.get("function") if isinstance(node, dict) else None
    return functions.resolve(ref, project.search_path(an.path))[0] if isinstance(ref, str) else None


def _key_doc(an: Analysis, line: int, character: int) -> tuple[str, Symbol] | None:
    """The schema's documentation of the key under the cursor (`resources:`, `retry =`)."""
    from . import text as textpos
    from .complete import schema_node

    text = an.text.split("\n")[line] if line < len(an.text.split("\n")) else ""
    start = end = min(character, len(text))
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
        end += 1
    if start == end or not re.match(r"\s*[:=]", text[end:]):
        return None
    cur = textpos.cursor(an.text, an.fmt, line, end)
    if not cur.at_key:
        return None
    for node in schema_node(cur.path):
        prop = (node.get("properties") or {}).get(text[start:end])
        if isinstance(prop, dict) and (prop.get("markdownDescription") or prop.get("description")):
            doc = prop.get("markdownDescription") or prop["description"]
            return f"**{text[start:end]}**\n\n{doc}", Symbol("key", text[start:end], line, start, end)
    return None


def function_markdown(fn: functions.Function) -> str:
    doc = functions.docstring(fn)
    parts = [f"```python\ndef {signature(fn)}\n```"]
    if doc:
        parts.append(doc)
    parts.append(f"{functions.shown(fn.file)}, line {fn.line}")
    return "\n\n".join(parts)


def task_markdown(an: Analysis, name: str) -> str:
    tasks = an.data.get("tasks") if isinstance(an.data.get("tasks"), dict) else {}
    task = tasks.get(name)
    if not isinstance(task, dict):
        return f"**task** `{name}` (not defined)"
    out = [f"**task** `{name}`" + (f" runs `{task['function']}`" if isinstance(task.get("function"), str) else "")]
    tpl = _template(an, name)
    if tpl is not None:
        body = tpl.get("script") or tpl.get("container") or {}
        if body.get("image"):
            out.append(f"image: `{body['image']}`")
        res = body.get("resources")
        if res:
            out.append("resources: " + ", ".join(f"{kind} `{json.dumps(v, separators=(',', ':'))}`"
                                                 for kind, v in res.items()))
        if tpl.get("retryStrategy"):
            out.append(f"retries: `{json.dumps(tpl['retryStrategy'], separators=(',', ':'))}`")
        if tpl.get("activeDeadlineSeconds"):
            out.append(f"timeout: {tpl['activeDeadlineSeconds']} s")
    else:
        # the typed model when the schema check passed (document/nodes.py: defaults applied once),
        # else the text's data as it reads, which may hold anything
        model = an.checked.spec if an.checked is not None and an.checked.doc is an.doc else None
        node = model.tasks.get(name) if model is not None else None
        out.extend(_settings(node.settings, model.image) if node is not None else _raw_settings(an.data, task))
        out.append("(as the spec reads with its defaults; the compiled values show when the spec is valid)")
    receives = []
    args = task.get("args")
    for k, v in (args.items() if isinstance(args, dict) else ()):
        receives.append(f"- `{k}` ← {_source(v, an.data)}")
    if isinstance(task.get("foreach"), dict):
        receives.append(f"- each item ← {_source(task['foreach'], an.data)}")
    if receives:
        out.append("receives:\n" + "\n".join(receives))
    after = task.get("after")
    if after or task.get("depends"):
        out.append("runs after: " + (f"`{task['depends']}`" if task.get("depends") else ", ".join(f"`{a}`" for a in after)))
    return "\n\n".join(out)


def _raw_settings(data: dict, task: dict) -> list[str]:
    """Image, resources and retries from the text of a spec with schema errors, `defaults` applied
    (document/settings.py) where they read."""
    from ..document.settings import effective

    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    try:
        return _settings(effective(task, defaults), data.get("image"))
    except (TypeError, AttributeError, ValueError):  # a spec with errors may hold anything
        return []


def _settings(eff: Mapping[str, Any], spec_image: Any) -> list[str]:
    """Image, resources and retries of a task's settings after `defaults`."""
    from ..document.settings import requests_and_limits

    requests, limits = requests_and_limits(eff.get("resources") or {})
    out = []
    image = eff.get("image") or spec_image
    if isinstance(image, str):
        out.append(f"image: `{image}`")
    res = {"requests": requests, **({"limits": limits} if limits else {})}
    out.append("resources: " + ", ".join(f"{k} `{json.dumps(v, separators=(',', ':'))}`" for k, v in res.items()))
    if eff.get("retry") is not None:
        out.append(f"retries: `{json.dumps(eff['retry'], separators=(',', ':'))}`")
    return out


def _source(v: Any, data: dict) -> str:
    if isinstance(v, dict) and isinstance(v.get("from"), str):
        key = f", field `{v['key']}`" if v.get("key") is not None else ""
        return f"the result of task `{v['from']}`{key}"
    if isinstance(v, dict) and isinstance(v.get("param"), str):
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        return f"workflow parameter `{v['param']}` (default `{json.dumps(params.get(v['param']))}`)"
    if isinstance(v, dict) and "item" in v:
        return "the item of this task's fan-out" + (f", field `{v['item']}`" if v["item"] is not True else "")
    if isinstance(v, dict) and "workflow" in v:
        return f"the workflow's `{v['workflow']}`"
    return f"`{json.dumps(v)}`"


def _template(an: Analysis, name: str) -> dict | None:
    """The Argo template task `name` runs in the compiled manifest (what the cluster gets)."""
    compiled = an.compiled
    if compiled is None:
        return None
    spec = compiled.manifest.get("spec") or {}
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    main = templates.get(spec.get("entrypoint")) or {}
    argo_name = next((a for a, s in compiled.task_names.items() if s == name), name.replace("_", "-"))
    for t in (main.get("dag") or {}).get("tasks") or []:
        if t.get("name") == argo_name:
            return templates.get(t.get("template"))
    return None


# --- definition, references, rename ---------------------------------------------------------------


def definition(an: Analysis, project: Project, line: int, character: int) -> Location | None:
    sym = an.symbols.at(line, character) if an.symbols else None
    if sym is None:
        return None
    if sym.kind == "function":
        fn, _ = functions.resolve(sym.name, project.search_path(an.path))
        if fn is None:
            return None
        return _def_location(fn)
    if sym.kind in ("task", "task-ref"):
        d = an.symbols.task_definition(sym.name)  # type: ignore[union-attr]
        return Location(an.path, d.line, d.start, d.end) if d else None
    if sym.kind in ("param", "param-ref"):
        d = an.symbols.param_definition(sym.name)  # type: ignore[union-attr]
        return Location(an.path, d.line, d.start, d.end) if d else None
    if sym.kind == "arg":
        fn = _function_of(an, project, sym)
        return _def_location(fn) if fn else None
    if sym.kind == "pipeline":
        target = os.path.normpath(os.path.join(os.path.dirname(an.path), sym.name))
        return Location(target, 0, 0, 0) if os.path.isfile(target) else None
    if sym.kind == "template":
        return template_file(an, project, sym.name)
    return None


def _def_location(fn: functions.Function) -> Location:
    line = fn.line - 1
    try:
        with open(fn.file, encoding="utf-8") as f:
            text = f.read().split("\n")
        m = re.search(r"\bdef\s+(" + re.escape(fn.name) + r")\b", text[line])
        if m:
            return Location(fn.file, line, m.start(1), m.end(1))
    except (OSError, IndexError):
        pass
    return Location(fn.file, line, 0, 0)


def template_file(an: Analysis, project: Project, name: str) -> Location | None:
    """The spec that defines WorkflowTemplate `name`: beside this spec, then below the working
    directory (at most a few thousand files looked at)."""
    seen = 0
    for root in dict.fromkeys([os.path.dirname(an.path), os.getcwd()]):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
            for f in files:
                if not f.endswith(SPEC_SUFFIXES):
                    continue
                seen += 1
                if seen > 3000:
                    return None
                path = os.path.join(folder, f)
                try:
                    text = Path(path).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if name not in text or "WorkflowTemplate" not in text:
                    continue
                doc = load_file(path, Errors())
                data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
                if data.get("kind") in TEMPLATE_KINDS and data.get("name") == name:
                    line, col = doc.pos(("name",))  # type: ignore[union-attr]
                    return Location(path, line - 1, col - 1, col - 1 + len(name))
    return None


def find_references(an: Analysis, line: int, character: int, include_declaration: bool) -> list[Location]:
    sym = an.symbols.at(line, character) if an.symbols else None
    if sym is None or sym.kind not in ("task", "task-ref"):
        return []
    return [Location(an.path, s.line, s.start, s.end) for s in an.symbols.task_occurrences(sym.name)  # type: ignore[union-attr]
            if include_declaration or s.kind != "task"]


def rename_target(an: Analysis, line: int, character: int) -> Symbol | None:
    sym = an.symbols.at(line, character) if an.symbols else None
    return sym if sym is not None and sym.kind in ("task", "task-ref") else None


def rename(an: Analysis, line: int, character: int, new_name: str) -> list[Location] | str:
    """The ranges to replace with `new_name`, or why not."""
    sym = rename_target(an, line, character)
    if sym is None:
        return "only a task name can be renamed here"
    if not re.fullmatch(TASK_NAME, new_name):
        return f"'{new_name}' is not a task name: use letters, digits, '-' and '_'"
    if new_name in (an.data.get("tasks") or {}) and new_name != sym.name:
        return f"a task named '{new_name}' exists already"
    return [Location(an.path, s.line, s.start, s.end) for s in an.symbols.task_occurrences(sym.name)]  # type: ignore[union-attr]


# --- quick fixes ----------------------------------------------------------------------------------

_DID_YOU_MEAN = re.compile(r"did you mean ((?:'[^']+'(?: or )?)+)")


def fixes(line: str, start: int, end: int, message: str, fix: str | None = None) -> list[tuple[str, int, int, str]]:
    """(title, start, end, replacement) on `line` for the error `message` at line[start:end]
    (validate's text, `hint: ...` on its second line): a fix the error carries, each "did you mean
    'X'", and quoting a value as a string where the hint says to quote it."""
    token = line[start:end]
    out: list[tuple[str, int, int, str]] = []
    if fix:
        out.append((f"Change to {fix}", start, end, fix))
    hint = message.split("\nhint: ", 1)[1] if "\nhint: " in message else ""
    m = _DID_YOU_MEAN.search(hint)
    for suggestion in re.findall(r"'([^']+)'", m.group(1)) if m else []:
        new = _replace_closest(token, suggestion)
        if new != token:
            out.append((f"Change to '{suggestion}'", start, end, new))
    if re.search(r"\bquot", hint, re.I):
        if token == ":":  # `key: a: b`, a YAML syntax error at the second colon: the value is `a: b`
            key = re.match(r"^\s*(?:-\s+)*[^\s:#][^:#]*:\s+", line)
            if key and key.end() < start:
                start, end = key.end(), len(line.split(" #", 1)[0].rstrip())
                token = line[start:end]
        if token and token[0] not in "\"'{[:" and token[-1] != ":":
            out.append((f"Quote {token} as a string", start, end, json.dumps(token)))
    return out


def _replace_closest(token: str, suggestion: str) -> str:
    """The token with its part closest to `suggestion` replaced: the whole value, the module or
    the function of `module:function`, or one dotted part."""
    q = token[0] if token[:1] in ("'", '"') and token[-1:] == token[0] and len(token) > 1 else ""
    inner = token[1:-1] if q else token
    spans = [(0, len(inner))]
    if ":" in inner:
        i = inner.index(":")
        spans += [(0, i), (i + 1, len(inner))]
    spans += [m.span() for m in re.finditer(r"[^:.\s]+", inner)]
    best = max(spans, key=lambda sp: (difflib.SequenceMatcher(None, inner[sp[0]:sp[1]], suggestion).ratio(),
                                      sp[1] - sp[0]))
    return q + inner[:best[0]] + suggestion + inner[best[1]:] + q
