"""Python environments for `heraspec run`: a script task runs with what its pod would have.

    python_for(packages, say) -> path of the Python executable to run the task's script with

A pod of the default image has the standard library, the code its script carries and the packages it
installs; nothing of the user's folders and nothing of the environment heraspec runs in. Locally
every script task therefore runs with `python -I` (no script folder, no user site, no PYTHON*
variables) from a virtual environment made from the base interpreter heraspec runs on
(`sys._base_executable`, without `--system-site-packages`), so `import yaml` fails unless `packages`
lists PyYAML, as it would in the pod.

Environments are cached per (Python version, base interpreter, package set, index settings) in
`$HERASPEC_CACHE_DIR` (default `$XDG_CACHE_HOME/heraspec` or `~/.cache/heraspec`), under
`envs/<hash>`, and reused across runs. A task with no packages gets the empty environment of its
Python. Packages are installed with `uv` when it is on PATH, else with the pip of heraspec's own
interpreter (`pip --python ENV`, pip 22.3+), else with a pip copied into the environment. Building holds a lock (a thread lock and an flock on `<hash>.lock`), so
parallel tasks and concurrent runs build each environment once; an environment is used only once
its `.heraspec-ready` marker is written, so a failed or interrupted build is never used and is
redone the next time. A failed install raises EnvError with pip's (or uv's) last lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..python.packages import PackageSet

__all__ = ["EnvError", "cache_root", "python_for"]

READY = ".heraspec-ready"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class EnvError(Exception):
    """The task's environment could not be made (the message says why)."""


def cache_root() -> Path:
    if os.environ.get("HERASPEC_CACHE_DIR"):
        return Path(os.environ["HERASPEC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "heraspec"


def base_python() -> str:
    """The interpreter heraspec runs on, outside any virtual environment it may be in."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _key(packages: PackageSet | None) -> str:
    identity = {"python": list(sys.version_info[:3]), "impl": sys.implementation.name, "base": base_python(),
                "packages": json.loads(packages.env_value()) if packages else None}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def python_for(packages: PackageSet | None, say: Callable[[str], None] | None = None) -> str:
    """The Python of the cached environment with exactly these packages, built if needed."""
    key = _key(packages)
    root = cache_root() / "envs"
    folder = root / key
    python = folder / "bin" / "python"
    if (folder / READY).is_file():
        return str(python)
    root.mkdir(parents=True, exist_ok=True)
    with _lock(key), open(root / f"{key}.lock", "w") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)  # another heraspec run may be building it too
        if (folder / READY).is_file():
            return str(python)
        _build(folder, packages, say)
        (folder / READY).write_text(packages.env_value() if packages else "{}")
    return str(python)


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise EnvError(f"{what} failed: cannot start {argv[0]}: {e.strerror}") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.lstrip().upper().startswith("ERROR")] or lines[-3:]
        raise EnvError(f"{what} failed (exit code {done.returncode}): " + " / ".join(e.strip() for e in errors[-3:]))


def _pip_can_target() -> bool:
    """heraspec's interpreter has a pip that installs into another environment (`--python`, pip 22.3+)."""
    try:
        from pip import __version__
    except ImportError:
        return False
    major, minor = (int(x) if x.isdigit() else 0 for x in (__version__.split(".") + ["0"])[:2])
    return (major, minor) >= (22, 3)


def _build(folder: Path, packages: PackageSet | None, say: Callable[[str], None] | None) -> None:
    if folder.exists():
        shutil.rmtree(folder)  # a build that did not finish
    uv = shutil.which("uv")
    started = time.monotonic()
    if packages and say:
        tool = "uv" if uv else "pip"
        say(f"installing packages with {tool} into a cached environment ({folder}): {' '.join(packages.packages)}")
    own_pip = not uv and _pip_can_target()
    try:
        if uv:
            _run([uv, "venv", "--quiet", "--python", base_python(), str(folder)], "creating the environment")
        else:
            with_pip = bool(packages) and not own_pip
            _run([base_python(), "-m", "venv", *([] if with_pip else ["--without-pip"]), str(folder)],
                 "creating the environment")
        if packages:
            python = str(folder / "bin" / "python")
            index = [*(["--index-url", packages.index_url] if packages.index_url else []),
                     *[a for url in packages.extra_index_urls for a in ("--extra-index-url", url)]]
            pip = ["install", "--quiet", "--no-input", "--disable-pip-version-check", *index, *packages.packages]
            if uv:
                argv = [uv, "pip", "install", "--quiet", "--python", python, *index, *packages.packages]
            elif own_pip:  # heraspec's own pip installs into the environment: no pip copied into it
                argv = [sys.executable, "-m", "pip", "--python", python, *pip]
            else:
                argv = [python, "-m", "pip", *pip]
            _run(argv, "installing packages " + " ".join(packages.packages))
    except EnvError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if packages and say:
        say(f"packages installed in {time.monotonic() - started:.1f}s")
