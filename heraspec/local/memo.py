"""`heraspec run`'s cache of memoized results, kept as Argo keeps them: per ConfigMap, per key; and
why each cached task ran or did not.

`<cwd>/.heraspec/cache/<config map>/<key>.json` holds the outputs of the attempt that computed them,
as Argo's memoization saves a node's outputs: its parameters, and its artifacts by key (a cached
task's files are under `heraspec-cache/<key>/…`, kept in `<cwd>/.heraspec/cache/files/` and put back
into the run's artifact repository on a hit), and when. The key is the
one Argo's controller computes from the template's `memoize.key` (argo/scheduling.key): the hash
of the carried script, image, env, packages and input declarations, and of the input values and
the workflow parameters the template reads. Locally a task's input files count too: the key of a
task with input artifacts gets the digest of their content (so a producer's changed file is a
miss). An entry older than `maxAge` is recomputed; `--no-cache` reads none (and writes the fresh
results). A corrupt entry is a miss; an entry that cannot be written is a note, never a failure.

Each decision has a reason: `cached`, or `ran: ...` naming what differs from the last entry of a
template of that name (`code of helpers.scale`, `input n`, `file data`, `packages`, `image`,
`env X`, `parameter p`), kept in `<config map>/.last/<template>.json` (an item of a fan-out:
`<template>(i).json`, compared with the last run's item of its index). A fan-out's decision is its
items' (`group_reason`: `cached`, or `ran K of N items: ...`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..argo import scheduling
from ..python.script import CODE_ENV
from .expr import ExprError, parse_duration

CACHE_DIR = Path(".heraspec") / "cache"
_LOOP_INDEX = re.compile(r"\((\d+)(?=[:)])")  # the loop index of an item node's name (dag.go expandTask)


@dataclass
class Where:
    path: Path  # the entry
    age: float | None  # maxAge in seconds (None: no limit)
    parts: dict[str, str] = field(default_factory=dict)  # what the key stands for, by part, hashed
    last: Path | None = None  # the last entry's parts for this template (for the reason of a miss)


def _h(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def content_digest(location: Path | str) -> str:
    """The content of an input file or folder (a raw artifact's text), hashed."""
    if isinstance(location, str):
        return _h(location)
    h = hashlib.sha256()
    files = [location] if location.is_file() else sorted(p for p in location.rglob("*") if p.is_file())
    for p in files:
        h.update(str(p.relative_to(location)).encode() if p != location else b"")
        h.update(b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def _table_parts(text: str, files: set[str] | None = None) -> dict[str, str]:
    """`code of MODULE.NAME` per top-level function or class of each carried module (of those in
    `files`, when given), `code of MODULE` for the rest, from the carried code's text
    (python/script.code_text: JSON, zlib, URL-safe base64)."""
    import base64
    import zlib

    table = json.loads(zlib.decompress(base64.urlsafe_b64decode(text.encode("ascii"))).decode("utf-8"))
    out: dict[str, str] = {}
    for module, entry in sorted((table.get("modules") or {}).items()):
        if files is not None and entry[0] not in files:
            continue  # another function's module, in the workflow's shared copy
        source = entry[2]
        tree = ast.parse(source)
        named = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        rest = source
        for n in named:
            segment = ast.get_source_segment(source, n) or ""
            out[f"code of {module}.{n.name}"] = _h(segment)
            rest = rest.replace(segment, "", 1)
        out[f"code of {module}"] = _h(rest)
    return out


def _code_parts(source: str, shared: str) -> dict[str, str]:
    """What the script runs, by part: its carried functions and classes (`shared`: the code a shared
    script reads from its workflow parameter; else the text the script passes its importer), and
    heraspec's script around them; the whole script when no code can be read (`code: image`)."""
    out = {"heraspec's script": _h(source)}
    try:
        text = shared
        if not text:
            tree = ast.parse(source)
            call = next(n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                        and getattr(n.value.func, "id", "") == "_heraspec_importer")
            text = call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else ""
        # a shared script names its own modules' files (python/script.script_source)
        mine = re.search(r"_heraspec_importer\(None\)\s+# from the workflow's parameter [\w-]+: (.*) \(sha256", source)
        if text:
            out.update(_table_parts(text, set(mine.group(1).split(", ")) if shared and mine else None))
    except (SyntaxError, StopIteration, ValueError, TypeError, AttributeError, KeyError, IndexError):
        pass
    return out


def parts(template: dict, inputs: dict[str, str], workflow: dict[str, str], files: dict[str, str]) -> dict[str, str]:
    body = template.get("script") or template.get("container") or {}
    out: dict[str, str] = {}
    if isinstance(body.get("source"), str):
        shared = next((e.get("value", "") for e in body.get("env") or []
                       if isinstance(e, dict) and e.get("name") == CODE_ENV), "")
        m = re.fullmatch(r"\{\{workflow\.parameters\.([^}]+)\}\}", shared or "")
        out.update(_code_parts(body["source"], workflow.get(m.group(1), "") if m else ""))
    out["image"] = _h(body.get("image", ""))
    out["command"] = _h([body.get("command"), body.get("args")])
    for e in body.get("env") or []:
        if isinstance(e, dict) and e.get("name") != CODE_ENV:
            out["packages" if e.get("name") == "HERASPEC_PACKAGES" else f"env {e.get('name')}"] = _h(e)
    origin = "heraspec-files-"  # scheduling.files_param: what an input file is (its producer's key)
    out.update({f"input {k}": _h(v) for k, v in inputs.items() if not k.startswith(origin)})
    files = {k: v + inputs.get(origin + k, "") for k, v in files.items()}
    key = str((template.get("memoize") or {}).get("key", ""))
    out.update({f"parameter {n}": _h(workflow.get(n, "")) for n in re.findall(r"workflow\.parameters\['([^']+)'\]", key)})
    out.update({f"file {k}": v for k, v in files.items()})
    return out


def miss_reason(old: dict | None, new: dict[str, str]) -> str:
    if not isinstance(old, dict):
        return "ran: not in the cache"
    changed = [k for k in new if old.get(k) != new[k]] + [k for k in old if k not in new]
    code = [k for k in changed if k.startswith("code of ")]
    shown = code or changed  # a changed function says more than the script around it
    if not shown:
        return "ran: not in the cache"
    more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
    return f"ran: {', '.join(shown[:3])}{more} changed"


def group_reason(items: list[tuple[str, str]]) -> str:
    """The decision of a fan-out from its items' (node name, decision): `cached` when every item was,
    else which items ran and why (one reason for all of them is said once)."""
    decided = [(n, d) for n, d in items if d]
    ran = [(n, d.removeprefix("ran: ")) for n, d in decided if d != "cached"]
    if not decided or not ran:
        return "cached" if decided else ""
    head = f"ran {len(ran)} of {len(items)} items"
    if len(ran) > 1 and len({d for _, d in ran}) == 1:
        return f"{head}: {ran[0][1]}"
    more = f"; and {len(ran) - 3} more" if len(ran) > 3 else ""
    return f"{head}: " + "; ".join(f"{n} {d}" for n, d in ran[:3]) + more


class Memo:
    def __init__(self, root: Path, read: bool = True):
        self.root, self.read = root, read

    def key(self, template: dict, inputs: dict[str, str], workflow: dict[str, str] | None = None,
            files: dict[str, str] | None = None, node: str = "") -> Where | None:
        """Where the template's entry for these inputs lives (`workflow`: the workflow parameters;
        `files`: input artifact name -> content digest; `node`: the node's name, whose loop indices
        tell the items of a fan-out apart for the reason of a miss), or None when it has no usable key."""
        memo = template.get("memoize")
        if not isinstance(memo, dict) or not isinstance(memo.get("key"), str):
            return None
        cm = str(((memo.get("cache") or {}).get("configMap") or {}).get("name") or scheduling.DEFAULT_CACHE_CONFIG_MAP)
        key = scheduling.key(memo["key"], inputs, workflow or {})
        if files:
            key += "-" + _h(sorted(files.items()))
        if "/" in key or "/" in cm or key.startswith(".") or cm.startswith("."):
            return None  # not a key Argo accepts either (cacheKeyRegex); never a path outside the cache
        try:
            age = parse_duration(memo["maxAge"]) if memo.get("maxAge") else None
        except ExprError:
            age = None
        # an item is compared with the last run's item of its index: `train(1:lr:5,name:b)` -> `train(1)`
        name = str(template.get("name", "")) + "".join(f"({i})" for i in _LOOP_INDEX.findall(node))
        last = self.root / cm / ".last" / f"{name}.json" if name and "/" not in name and not name.startswith(".") else None
        return Where(self.root / cm / f"{key}.json", age, parts(template, inputs, workflow or {}, files or {}), last)

    def lookup(self, where: Where, stored: Callable[[str], Path]
               ) -> tuple[tuple[dict[str, str], dict[str, str]] | None, str]:
        """((the cached outputs, output artifact -> key), "cached"), or (None, why the task runs). A hit's
        files are put back into the run's artifact repository (`stored`: key -> its local path)."""
        if not self.read:
            return None, "ran: --no-cache"
        entry = self.load(where)
        if entry is not None:
            keys = entry[1]
            try:
                for key in keys.values():
                    _copy(self.files(key), stored(key))
            except OSError:
                return None, "ran: the cached files are gone"
            return entry, "cached"
        if where.path.is_file():
            return None, "ran: the cached result is older than maxAge, or unreadable"
        old = None
        if where.last is not None:
            try:
                old = json.loads(where.last.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
        return None, miss_reason(old, where.parts)

    def files(self, key: str) -> Path:
        """Where a cached task's file is kept between runs (its content-addressed key, under the cache)."""
        clean = os.path.normpath("/" + key).lstrip("/")
        return self.root / "files" / clean

    def load(self, where: Where) -> tuple[dict[str, str], dict[str, str]] | None:
        """(output parameters, output artifact -> key) of a usable entry, else None."""
        if not self.read:
            return None
        try:
            entry = json.loads(where.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent, unreadable or not JSON: a miss
        if not isinstance(entry, dict):
            return None  # written by something else: a miss, never an internal error
        created = entry.get("created", 0)
        if isinstance(created, bool) or not isinstance(created, (int, float)):
            return None
        if where.age is not None and time.time() - float(created) > where.age:
            return None
        outputs, arts = entry.get("outputs"), entry.get("artifacts", {})
        if not (isinstance(outputs, dict) and all(isinstance(v, str) for v in outputs.values())
                and isinstance(arts, dict) and all(isinstance(v, str) for v in arts.values())):
            return None
        return outputs, arts

    def save(self, where: Where, outputs: dict[str, str], node: str, artifacts: dict[str, str] | None = None,
             stored: Callable[[str], Path] | None = None) -> str | None:
        """Keep the entry, and the files of its content-addressed output artifacts (`stored`: key -> the
        local path of the run's copy); None, or why it could not be kept (a note: the result stands)."""
        path = where.path
        kept = {k: v for k, v in (artifacts or {}).items() if v.startswith(scheduling.FILES_PREFIX + "/")}
        if len(kept) != len(artifacts or {}) or (kept and stored is None):
            return "the result was not cached: its files are not stored under a cache key"
        try:
            for key in kept.values():
                _copy(stored(key), self.files(key))  # type: ignore[misc]
            _write(path, {"node": node, "created": time.time(), "outputs": outputs, "artifacts": kept})
            if where.last is not None:
                _write(where.last, where.parts)
        except OSError as e:
            return f"the result was not cached: cannot write {path.parent}: {e.strerror or e}"
        return None


def remove_entry(entry: Path) -> None:
    """Delete a cache entry and the files it names (`<root>/<config map>/<key>.json`, files under
    `<root>/files/`); the next run of its task is a miss."""
    try:
        keys = json.loads(entry.read_text(encoding="utf-8")).get("artifacts") or {}
    except (OSError, ValueError, AttributeError):
        keys = {}
    memo = Memo(entry.parent.parent)
    for key in keys.values() if isinstance(keys, dict) else ():
        if isinstance(key, str) and key.startswith(scheduling.FILES_PREFIX + "/"):
            shutil.rmtree(memo.files(key), ignore_errors=True)
    entry.unlink(missing_ok=True)


def _copy(src: Path, dst: Path) -> None:
    """A file or folder to `dst` (kept when it is there already: content-addressed, it is the same)."""
    if dst.exists():
        return
    if not src.exists():
        raise FileNotFoundError(str(src))
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
    if src.is_dir():
        shutil.copytree(src, tmp)
    else:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def fill_item_keys(value: Any, scope: dict[str, str]) -> Any:
    """`value` (a DAG task's arguments) with each scheduling.item_files_key expression evaluated as the
    controller does, from `scope`'s `tasks.X.outputs.parameters.heraspec-files-key` (the aggregate of
    the Succeeded items, in loop order); an index past its end is Argo's evaluation error (ExprError)."""
    def repl(m: re.Match) -> str:
        task, index = m.group(1), int(m.group(2))
        try:
            keys = json.loads(scope.get(f"tasks.{task}.outputs.parameters.{scheduling.FILES_KEY}", ""))
        except ValueError:
            raise ExprError(f"cannot resolve {m.group()}: task {task!r} has no {scheduling.FILES_KEY}") from None
        if not isinstance(keys, list) or index >= len(keys):
            n = len(keys) if isinstance(keys, list) else 0
            raise ExprError(f"failed to evaluate expression: index out of range: {index} (array length {n}): "
                            f"an item of {task!r} did not succeed, so its files are not there to read")
        return str(keys[index])
    if isinstance(value, str):
        return scheduling.ITEM_KEY.sub(repl, value) if "{{=" in value else value
    if isinstance(value, dict):
        return {k: fill_item_keys(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_item_keys(v, scope) for v in value]
    return value


def fill(template: dict, expression: str, key: str) -> dict:
    """The template with its memoize key expression, where it repeats it (its files' keys), replaced by
    the key Argo computes for this node (memoize itself is kept as it is)."""
    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace(expression, key) if expression in v else v
        if isinstance(v, dict):
            return {k: (x if k == "memoize" else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(template) if expression != key else template


def _write(path: Path, data: object) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)  # a reader sees the old entry or the new one, never half of one
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
