"""Locked packages: `heraspec lock` resolves every `packages:` set of a spec once, for the pods' Python
and platform, into a lock file beside the spec; `compile` embeds its exact pins and hashes, so every
pod (and `heraspec run`'s environment) installs the same distributions, with no resolution at start.

    path_for(spec) -> Path                         `<spec file>.lock` (JSON), committed with the spec
    sets(data, fns, exit_key) -> [Wanted]                    every package set of a spec's function tasks
    resolve_pins(pkgs, python) -> [pin lines]      uv pip compile (else pip) for linux and that Python
    write_lock(spec, data, fns, exit_key) -> Path  the lock, written
    Lock.load(spec) -> Lock | None | str           None: no lock; str: why it cannot be read
    Lock.pinned(pkgs, python) -> PackageSet | None the set with its pins, None when the lock lacks it
    download_wheels(lock, folder) -> [Path]        every pinned wheel for the pods, hashes checked, for a
                                                   cluster without internet (`heraspec lock --wheels DIR`)

A set is identified by its requirements, index settings and target Python (`set_id`): a spec whose
`packages:` changed since the lock was written has a set the lock does not know (validate says
which and names the command). The target Python is the image's (`python:3.12-slim` -> 3.12), else
3.12, the default image's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import packages as P
from ..record import Record

__all__ = ["DEFAULT_PYTHON", "Lock", "LockError", "Wanted", "check", "download_wheels", "failure_reason", "path_for",
           "python_of", "resolve_pins", "set_id", "sets", "write_lock"]

DEFAULT_PYTHON = "3.12"  # the default image's (python:3.12)
FORMAT = 1
_PY_TAG = re.compile(r"^(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)(?:[.\-@].*)?$")


class LockError(Exception):
    """The resolver could not lock a set (the message carries its reason lines)."""


def path_for(spec: str | Path) -> Path:
    p = Path(spec)
    return p.with_name(p.name + ".lock")


def python_of(image: Any) -> str:
    m = _PY_TAG.match(image) if isinstance(image, str) else None
    return m.group(1) if m else DEFAULT_PYTHON


def set_id(pkgs: P.PackageSet, python: str) -> str:
    identity = {"requirements": list(pkgs.packages), "index_url": pkgs.index_url, "index_secret": pkgs.index_secret,
                "extra_index_urls": list(pkgs.extra_index_urls), "python": python, "platform": "linux"}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


class Wanted(Record):
    __slots__ = ("path", "packages", "python")

    path: tuple  # where the set is declared (for located errors): the nearest `packages` key
    packages: P.PackageSet
    python: str

    def __init__(self, path: tuple, packages: P.PackageSet, python: str) -> None:
        self.path = path
        self.packages = packages
        self.python = python


def sets(data: dict, fns: dict, exit_key: str) -> list[Wanted]:
    """The package set of every function task and exit handler (`fns`: semantic.check's map, whose
    exit handlers' keys end with `exit_key`, check/compose.EXIT_KEY)."""
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
    out: list[Wanted] = []
    for key in fns:
        task_name, exit_mark, _ = key.partition(exit_key)
        if exit_mark:
            owner = tasks.get(task_name) if task_name else data
            body = owner.get("on_exit") if isinstance(owner, dict) else None
            base = (("tasks", task_name) if task_name else ()) + ("on_exit",)
        else:
            body, base = tasks.get(key), ("tasks", key)
        if not isinstance(body, dict):
            continue
        pkgs = P.for_task(data, body, defaults, own_only=bool(exit_mark))
        if pkgs is None:
            continue
        where = (base + ("packages",) if body.get("packages") else ("defaults", "packages")
                 if defaults.get("packages") else ("packages",))
        image = body.get("image") or defaults.get("image") or data.get("image")
        out.append(Wanted(where, pkgs, python_of(image)))
    return out


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # the `uv` distribution (heraspec's `lock` extra)

        return find_uv_bin()
    except Exception:
        return None


def _index_args(pkgs: P.PackageSet) -> list[str]:
    return [*(["--index-url", pkgs.index_url] if pkgs.index_url else []),
            *[a for url in pkgs.extra_index_urls for a in ("--extra-index-url", url)]]


_BLOCK = re.compile(r"\[(\d+ lines of output|stderr|stdout)\]$")  # a build's own output: pip's, uv's
_GENERIC = ("error: subprocess-exited-with-error", "See above for output", "[end of output]")


def failure_reason(output: str) -> str:
    """The lines of a resolver's (or pip's) output that say why it failed: the first lines a failed
    build printed itself (`The 'sklearn' PyPI package is deprecated, ...`), then pip's and uv's
    `ERROR:` / `error:` / `cause:` / `hint:` / `×` lines."""
    own: list[str] = []
    said: list[str] = []
    block = 0
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _BLOCK.search(line):
            block = 2
        elif block and line != "[end of output]":
            own.append(line)
            block -= 1
        elif (re.match(r"(error|ERROR|cause|hint|Because|And because)\b", line) or line[:1] in ("\u00d7", "\u2570")
              or "No matching distribution" in line or "Could not find a version" in line):
            if not any(g in line for g in _GENERIC):
                said.append(line)
    why = list(dict.fromkeys(own + said))
    if not why:
        why = [ln.strip() for ln in output.splitlines() if ln.strip()][-3:]
    return " / ".join(why[:6])


def resolve_pins(pkgs: P.PackageSet, python: str) -> list[str]:
    """Pinned requirement lines (`name==version --hash=sha256:... ...`) for linux and `python`."""
    with tempfile.TemporaryDirectory(prefix="heraspec-lock-") as tmp:
        reqs = Path(tmp) / "requirements.in"
        reqs.write_text("\n".join(pkgs.packages) + "\n", encoding="utf-8")
        env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")  # the target Python is named, not needed
        if pkgs.index_secret and not pkgs.index_url:
            url = os.environ.get("PIP_INDEX_URL")  # the Secret's value, given to heraspec as the pod gets it
            if not url:
                raise LockError(f"the index is the Secret {pkgs.index_secret[0]} (key {pkgs.index_secret[1]}): set "
                                "PIP_INDEX_URL to its URL to lock against the index the pods install from")
            env["UV_INDEX_URL"] = url
        uv = _uv()
        if uv:
            argv = [uv, "pip", "compile", "--quiet", "--python-version", python, "--python-platform", "linux",
                    "--generate-hashes", "--no-header", "--no-annotate", *_index_args(pkgs), str(reqs)]
            done = subprocess.run(argv, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise LockError(failure_reason(done.stderr + done.stdout))
            return _pins(done.stdout)
        return _pip_resolve(pkgs, python, reqs, Path(tmp), env)


def _pins(text: str) -> list[str]:
    """pip-compile's format (continuation lines joined) -> one line per distribution."""
    joined = re.sub(r"\s*\\\n\s*", " ", text)
    return sorted((ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")),
                  key=lambda ln: P.canonical(ln.split("==")[0]))


def _pip_resolve(pkgs: P.PackageSet, python: str, reqs: Path, tmp: Path, env: dict) -> list[str]:
    """pip's own resolver (`install --dry-run --report`) for the target: wheels only (the pods'
    platform may not be this one), each pin with the hash of the file pip chose."""
    report = tmp / "report.json"
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed", "--no-input",
            "--disable-pip-version-check", "--report", str(report), "--only-binary=:all:", "--python-version", python,
            "--platform", "manylinux2014_x86_64", "--platform", "linux_x86_64", "--target", str(tmp / "t"),
            *_index_args(pkgs), "-r", str(reqs)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise LockError(failure_reason(done.stderr + done.stdout))
    out = []
    for item in json.loads(report.read_text())["install"]:
        meta, hashes = item["metadata"], (item.get("download_info") or {}).get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            raise LockError(f"pip gave no sha256 hash for {meta['name']} (from {item['download_info'].get('url')})")
        out.append(f"{meta['name']}=={meta['version']} --hash=sha256:{hashes['sha256']}")
    return sorted(out, key=lambda ln: P.canonical(ln.split("==")[0]))


class Lock:
    __slots__ = ("path", "entries")

    path: Path
    entries: dict[str, dict]

    def __init__(self, path: Path, entries: dict[str, dict]) -> None:
        self.path = path
        self.entries = entries

    @staticmethod
    def load(spec: str | Path) -> "Lock | None | str":
        path = path_for(spec)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            return f"{path} cannot be read: {e}"
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("sets"), dict):
            return f"{path} is not a heraspec lock file (format {FORMAT})"
        return Lock(path, data["sets"])

    def pinned(self, pkgs: P.PackageSet | None, python: str) -> P.PackageSet | None:
        if pkgs is None:
            return None
        entry = self.entries.get(set_id(pkgs, python))
        if not isinstance(entry, dict) or not isinstance(entry.get("pins"), list):
            return None
        return P.PackageSet(pkgs.packages, pkgs.index_url, pkgs.extra_index_urls, pkgs.index_secret,
                            locked=tuple(str(x) for x in entry["pins"]), python=python)


def write_lock(spec: str | Path, data: dict, fns: dict, exit_key: str, say: Any = None) -> Path:
    """Resolve every set of the spec and write its lock (sets already locked are kept as they are)."""
    old = Lock.load(spec)
    known = old.entries if isinstance(old, Lock) else {}
    entries: dict[str, dict] = {}
    for w in sets(data, fns, exit_key):
        sid = set_id(w.packages, w.python)
        if sid in entries:
            continue
        if sid in known and isinstance(known[sid], dict) and known[sid].get("pins"):
            entries[sid] = known[sid]
            continue
        if say:
            say(f"resolving {' '.join(w.packages.packages)} for Python {w.python} on linux")
        entries[sid] = {"requirements": list(w.packages.packages), "python": w.python, "platform": "linux",
                        **({"index_url": w.packages.index_url} if w.packages.index_url else {}),
                        **({"extra_index_urls": list(w.packages.extra_index_urls)}
                           if w.packages.extra_index_urls else {}),
                        "pins": resolve_pins(w.packages, w.python)}
    path = path_for(spec)
    text = json.dumps({"format": FORMAT, "generated_by": "heraspec lock", "sets": dict(sorted(entries.items()))},
                      indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def check(doc: Any, fns: dict, errors: Any, exit_key: str) -> "tuple[Lock | None, list[str]]":
    """The spec's lock, checked against its `packages:` (a located error per set the lock lacks); and
    notes (a spec with packages and no lock)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    wanted = sets(data, fns, exit_key)
    lock = Lock.load(doc.path)
    if isinstance(lock, str):
        errors.add(str(path_for(doc.path)), 1, 1, lock, f"rewrite it: heraspec lock {doc.path}")
        return None, []
    if lock is None:
        if wanted:
            return None, [f"{doc.path}: note: packages are not locked: each pod resolves them when it starts, and pods "
                          f"may get different versions (run `heraspec lock {doc.path}` to pin them with hashes)"]
        return None, []
    seen = set()
    for w in wanted:
        if w.path in seen or set_id(w.packages, w.python) in lock.entries:
            continue
        seen.add(w.path)
        doc.error(errors, w.path, f"packages changed since {lock.path.name} was written: it has no entry for "
                  f"{' '.join(w.packages.packages) or 'this set'} (Python {w.python})",
                  f"run `heraspec lock {doc.path}` and commit the lock file with the spec")
    return lock, []


# the pods' platform: Linux on x86-64 with the glibc of the python images (Debian bookworm: 2.36); pip
# also accepts the older manylinux tags below a manylinux_2_X one, and pure-Python `any` wheels
_PLATFORMS = ("manylinux_2_36_x86_64", "manylinux2014_x86_64", "linux_x86_64")


def download_wheels(lock: Lock, folder: Path, say: Any = None) -> list[Path]:
    """Every pinned distribution of every set of the lock, as the wheel a pod of its Python installs,
    into `folder` (pip download, hashes required: a file that is not the locked one is refused), and an
    `index.html` linking them with their sha256 (a page pip's `--find-links` reads when the folder is
    served by a server that lists no folders). Wheels only: an air-gapped pod could not build an sdist
    (it would need its build requirements, from an index). Returns the files of the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in lock.entries.values():
        pins, python = entry.get("pins") or [], str(entry.get("python") or DEFAULT_PYTHON)
        if not pins:
            continue
        if say:
            say(f"downloading {' '.join(p.split(' ')[0] for p in pins)} for Python {python} on linux")
        with tempfile.TemporaryDirectory(prefix="heraspec-wheels-") as tmp:
            reqs = Path(tmp) / "pins.txt"
            reqs.write_text("\n".join(pins) + "\n", encoding="utf-8")
            index = _index_args(P.PackageSet((), entry.get("index_url"), tuple(entry.get("extra_index_urls") or ())))
            argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-input", "--disable-pip-version-check",
                    "--no-deps", "--require-hashes", "--only-binary=:all:", "--python-version", python,
                    *[a for plat in _PLATFORMS for a in ("--platform", plat)], *index, "--dest", str(folder),
                    "-r", str(reqs)]
            done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            why = failure_reason(done.stderr + done.stdout)
            if "No matching distribution" in why or "Could not find a version" in why:
                why += (f" (a pinned version may publish no wheel for Linux and Python {python}: build one with "
                        f"`pip wheel --no-deps` into {folder}, or install it in the image)")
            raise LockError(why)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "index.html")
    links = "".join(f'<a href="{f.name}#sha256={hashlib.sha256(f.read_bytes()).hexdigest()}">{f.name}</a><br>\n'
                    for f in files)
    (folder / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n", encoding="utf-8")
    return files
