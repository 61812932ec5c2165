"""What `heraspec run` keeps on disk, with sizes, and pruning it: `heraspec cache list|prune`.

    heraspec cache list [DIR|SPEC]
    heraspec cache prune [DIR|SPEC] [--runs] [--results] [--envs] [--older-than SPAN] [--keep N] [--dry-run]

Three kinds, each where the run keeps it: the run folders (`<project>/.heraspec/runs/*`, the
project being the spec's folder, runner.py), the task cache (`<project>/.heraspec/cache/<config
map>/<key>.json`, memo.py) and the Python environments (`$HERASPEC_CACHE_DIR/envs/<hash>`, shared
by every project, envs.py). `prune` removes the kinds named (all three when none is), only what is
older than `--older-than` when given, and never the `--keep` newest finished runs. What may be in use is
left: a run folder without summary.json (running, or killed) unless `--older-than` covers it, an
environment being built (its lock is held).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

__all__ = ["Item", "Kept", "kept", "prune", "list_text", "human"]


@dataclass
class Item:
    path: Path
    size: int  # bytes, apparent size of its files (symlinks not followed)
    mtime: float  # when it was last written (an environment: when it was built)
    label: str = ""  # a run's phase, an environment's packages, a cache's entry count
    busy: bool = False  # may be in use: left by prune unless its age is given


@dataclass
class Kept:
    runs: list[Item] = field(default_factory=list)
    results: list[Item] = field(default_factory=list)  # one per config map
    envs: list[Item] = field(default_factory=list)
    where: dict[str, Path] = field(default_factory=dict)


def _size(path: Path) -> int:
    total = 0
    for top, dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                pass
    return total


def _project(target: str | None) -> Path:
    if target is None:
        return Path.cwd()
    path = Path(target)
    if path.is_dir():
        return path.resolve()
    if path.is_file():
        return path.resolve().parent
    raise UsageError(f"{target}: no such spec or folder")


def kept(target: str | None = None) -> Kept:
    """What is kept for the project of `target` (a spec or its folder; default: here), and the environments."""
    from .envs import READY, cache_root
    from .memo import CACHE_DIR
    from .runner import RUNS_DIR

    home = _project(target)
    out = Kept(where={"runs": home / RUNS_DIR, "results": home / CACHE_DIR, "envs": cache_root() / "envs"})
    runs = out.where["runs"]
    for d in sorted(runs.iterdir()) if runs.is_dir() else []:
        if not d.is_dir() or d.is_symlink():
            continue
        try:
            phase = str(json.loads((d / "summary.json").read_text(encoding="utf-8")).get("phase", "?"))
        except (OSError, ValueError, AttributeError):
            phase = ""
        out.runs.append(Item(d, _size(d), d.stat().st_mtime, phase or "no summary.json", busy=not phase))
    results = out.where["results"]
    for d in sorted(results.iterdir()) if results.is_dir() else []:
        if d.is_dir() and not d.is_symlink() and d.name != "files":  # files: the entries' (memo.remove_entry)
            entries = list(d.glob("*.json"))
            newest = max((e.stat().st_mtime for e in entries), default=d.stat().st_mtime)
            out.results.append(Item(d, _size(d), newest, f"{len(entries)} entries"))
    envs = out.where["envs"]
    for d in sorted(envs.iterdir()) if envs.is_dir() else []:
        if not d.is_dir() or d.is_symlink():
            continue
        ready = d / READY
        try:
            label, when = _packages(json.loads(ready.read_text(encoding="utf-8"))), ready.stat().st_mtime
        except (OSError, ValueError):
            label, when = "unfinished build", d.stat().st_mtime
        out.envs.append(Item(d, _size(d), when, label))
    return out


def _packages(marker: object) -> str:
    """The packages an environment's ready marker names (envs.py writes the task's package set)."""
    while isinstance(marker, dict):
        marker = marker.get("packages")
    names = [str(p) for p in marker] if isinstance(marker, list) else []
    return ", ".join(names) or "no packages"


def _env_lock_free(env: Path) -> bool:
    import fcntl

    try:
        with open(env.with_name(env.name + ".lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when closed
        return True
    except OSError:
        return False


def prune(found: Kept, kinds: set[str], older_than: float | None, keep: int, dry_run: bool = False) -> list[Item]:
    """Remove (unless `dry_run`) and return what the options select; see the module's docstring."""
    now = time.time()
    old = (lambda i: now - i.mtime >= older_than) if older_than is not None else (lambda i: True)
    chosen: list[Item] = []
    if "runs" in kinds:
        finished = sorted((i for i in found.runs if not i.busy), key=lambda i: i.mtime, reverse=True)
        chosen.extend(i for i in finished[keep:] if old(i))
        if older_than is not None:  # a run without summary.json goes only when old enough
            chosen.extend(i for i in found.runs if i.busy and old(i))
    if "results" in kinds:
        for item in found.results:
            # the entries, and what the last entry of each template stood for (memo.py's reasons)
            for entry in sorted([*item.path.glob("*.json"), *item.path.glob(".last/*.json")]):
                e = Item(entry, entry.stat().st_size, entry.stat().st_mtime)
                if old(e):
                    chosen.append(e)
    if "envs" in kinds:
        chosen.extend(i for i in found.envs if old(i) and _env_lock_free(i.path))
    if not dry_run:
        from .envs import remove_env
        from .memo import remove_entry

        envs = {i.path for i in found.envs}
        for item in chosen:
            if item.path in envs:
                try:
                    remove_env(item.path)  # its site-packages is read-only
                except OSError:
                    pass
            elif item.path.is_dir():
                shutil.rmtree(item.path, ignore_errors=True)
            elif item.path.suffix == ".json" and "results" in kinds:
                remove_entry(item.path)  # with the cached files it names
            else:
                item.path.unlink(missing_ok=True)
    return chosen


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def list_text(found: Kept) -> str:
    """`heraspec cache list`'s listing: each kind's count, total and place, then one line per item."""
    from ..textsafe import printable

    lines = []
    for kind, title, items in (("runs", "run folders", found.runs), ("results", "task cache", found.results),
                               ("envs", "Python environments (shared by all projects)", found.envs)):
        total = sum(i.size for i in items)
        lines.append(f"{title}: {len(items)}, {human(total)} in {found.where[kind]}")
        width = max((len(i.path.name) for i in items), default=0)
        for i in items:
            lines.append(f"  {printable(i.path.name).ljust(width)}  {human(i.size):>9}  {_when(i.mtime)}  {printable(i.label)}")
    total = sum(i.size for items in (found.runs, found.results, found.envs) for i in items)
    lines.append(f"total: {human(total)}")
    return "\n".join(lines) + "\n"
