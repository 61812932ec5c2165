"""`heraspec run`'s cache of memoized results, kept as Argo keeps them: per ConfigMap, per key.

`<cwd>/.heraspec/cache/<config map>/<key>.json` holds the output parameters of the attempt that
computed them (Argo's memoization saves a node's output parameters only) and when. The key is the
one Argo's controller computes from the template's `memoize.key` (argo/scheduling.key): the hash
of the carried script, image, env, packages and input declarations, and of the input values. An
entry older than `maxAge` is recomputed; `--no-cache` reads none (and writes the fresh results).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..argo import scheduling
from .expr import ExprError, parse_duration

CACHE_DIR = Path(".heraspec") / "cache"


class Memo:
    def __init__(self, root: Path, read: bool = True):
        self.root, self.read = root, read

    def key(self, template: dict, inputs: dict[str, str]) -> tuple[Path, float | None] | None:
        """Where the template's entry for these inputs lives, and its max age (None: no limit)."""
        memo = template.get("memoize")
        if not isinstance(memo, dict) or not isinstance(memo.get("key"), str):
            return None
        cm = str(((memo.get("cache") or {}).get("configMap") or {}).get("name") or scheduling.DEFAULT_CACHE_CONFIG_MAP)
        key = scheduling.key(memo["key"], inputs)
        if "/" in key or "/" in cm or key.startswith(".") or cm.startswith("."):
            return None  # not a key Argo accepts either (cacheKeyRegex); never a path outside the cache
        try:
            age = parse_duration(memo["maxAge"]) if memo.get("maxAge") else None
        except ExprError:
            age = None
        return self.root / cm / f"{key}.json", age

    def load(self, where: tuple[Path, float | None]) -> dict[str, str] | None:
        path, age = where
        if not self.read:
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent, unreadable or not JSON: a miss
        if not isinstance(entry, dict):
            return None  # written by something else: a miss, never an internal error
        created = entry.get("created", 0)
        if isinstance(created, bool) or not isinstance(created, (int, float)):
            return None
        if age is not None and time.time() - float(created) > age:
            return None
        outputs = entry.get("outputs")
        return outputs if isinstance(outputs, dict) and all(isinstance(v, str) for v in outputs.values()) else None

    def save(self, where: tuple[Path, float | None], outputs: dict[str, str], node: str) -> str | None:
        """Keep the entry; None, or why it could not be kept (a note: the task's result stands)."""
        path = where[0]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"node": node, "created": time.time(), "outputs": outputs},
                                      ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)  # a reader sees the old entry or the new one, never half of one
        except OSError as e:
            try:
                tmp.unlink()
            except OSError:
                pass
            return f"the result was not cached: cannot write {path}: {e.strerror or e}"
        return None
