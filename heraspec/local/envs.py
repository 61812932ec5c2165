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
redone the next time. A built environment's site-packages is made read-only, and the marker
records what it holds at its top level: an environment a task wrote into (a `.pth`, a module; root
ignores the permissions) is rebuilt before it is used again, so one spec's task never changes what
another's imports. A failed install raises EnvError with pip's (or uv's) last lines.
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

from ..cachedir import cache_root
from ..python.packages import PackageSet

__all__ = ["EnvError", "cache_root", "python_for", "remove_env", "uv_env"]

READY = ".heraspec-ready"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class EnvError(Exception):
    """The task's environment could not be made (the message says why; `output`: the installer's)."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


def uv_env() -> dict[str, str]:
    """The environment uv runs with: its cache inside heraspec's (not ~/.cache/uv), no Python downloads."""
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.setdefault("UV_CACHE_DIR", str(cache_root() / "uv"))
    return env


def _wheels_args() -> list[str]:
    """pip's settings for installing without an index (PIP_NO_INDEX, PIP_FIND_LINKS: the folder of
    `heraspec lock --wheels`), as uv's options: pip reads them from the environment, uv does not."""
    out = ["--no-index"] if os.environ.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on") else []
    return out + [a for link in os.environ.get("PIP_FIND_LINKS", "").split() for a in ("--find-links", link)]


def base_python() -> str:
    """The interpreter heraspec runs on, outside any virtual environment it may be in."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _key(packages: PackageSet | None) -> str:
    identity = {"python": list(sys.version_info[:3]), "impl": sys.implementation.name, "base": base_python(),
                "packages": packages.identity() if packages else None}
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
    if _intact(folder):
        return str(python)
    root.mkdir(parents=True, exist_ok=True)
    with _lock(key), open(root / f"{key}.lock", "w") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)  # another heraspec run may be building it too
        if _intact(folder):
            return str(python)
        if (folder / READY).is_file() and say:
            say(f"the cached environment {folder} was changed since it was built (a task wrote into it): rebuilding it")
        _build(folder, packages, say)
        _seal(folder)
        (folder / READY).write_text(json.dumps({"packages": json.loads(packages.env_value()) if packages else None,
                                                "contents": _contents(folder)}, sort_keys=True))
    return str(python)


def _site(folder: Path) -> list[Path]:
    return sorted((folder / "lib").glob("python*/site-packages"))


def _contents(folder: Path) -> list[list]:
    """What the environment's site-packages holds at its top level (names, and sizes of files): a `.pth`
    file, a module or a package a task adds there, or a file it rewrites, shows as a difference
    (`__pycache__` is left out: Python writes it on import)."""
    out = []
    for site in _site(folder):
        with os.scandir(site) as entries:
            for e in entries:
                if e.name != "__pycache__":
                    out.append([e.name, -1 if e.is_dir(follow_symlinks=False) else e.stat(follow_symlinks=False).st_size])
    return sorted(out)


def _intact(folder: Path) -> bool:
    """Built completely, and nothing was written into it since: an environment is shared by every task
    (of every spec) with the same packages, so one task's `.pth` must not reach another's."""
    try:
        marker = json.loads((folder / READY).read_text())
        return isinstance(marker, dict) and marker.get("contents") == _contents(folder)
    except (OSError, ValueError):
        return False


def _seal(folder: Path) -> None:
    """Make site-packages read-only (a user without root privileges cannot add to it any more)."""
    for site in _site(folder):
        for dirpath, _dirs, _files in os.walk(site):
            os.chmod(dirpath, 0o555)


def _unseal(folder: Path) -> None:
    for site in _site(folder):
        for dirpath, _dirs, _files in os.walk(site):
            os.chmod(dirpath, 0o755)


def remove_env(folder: Path) -> None:
    """Delete a cached environment (its site-packages is read-only: made writable first)."""
    _unseal(folder)
    shutil.rmtree(folder)


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    from ..python.lock import failure_reason

    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    except OSError as e:
        raise EnvError(f"{what} failed: cannot start {argv[0]}: {e.strerror}") from None
    if done.returncode != 0:
        output = done.stdout.decode("utf-8", "replace")
        raise EnvError(f"{what} failed (exit code {done.returncode}): {failure_reason(output)}", output)


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
        remove_env(folder)  # a build that did not finish, or one a task changed
    uv = shutil.which("uv")
    started = time.monotonic()
    if packages and say:
        tool = "uv" if uv else "pip"
        what = ("the locked " + " ".join(p.split(" ")[0] for p in packages.locked)) if packages.locked else " ".join(packages.packages)
        say(f"installing packages with {tool} into a cached environment ({folder}): {what}")
    own_pip = not uv and _pip_can_target()
    try:
        if uv:
            _run([uv, "venv", "--quiet", "--python", base_python(), str(folder)], "creating the environment", uv_env())
        else:
            with_pip = bool(packages) and not own_pip
            _run([base_python(), "-m", "venv", *([] if with_pip else ["--without-pip"]), str(folder)],
                 "creating the environment")
        if packages:
            python = str(folder / "bin" / "python")
            index = [*(["--index-url", packages.index_url] if packages.index_url else []),
                     *[a for url in packages.extra_index_urls for a in ("--extra-index-url", url)]]
            wanted: list[str] = list(packages.packages)
            if packages.locked:  # exactly the pins of the lock file, hashes required, nothing resolved
                pins = folder / "heraspec-locked.txt"
                pins.write_text("\n".join(packages.locked) + "\n", encoding="utf-8")
                wanted = ["--no-deps", "--require-hashes", "-r", str(pins)]
            pip = ["install", "--quiet", "--no-input", "--disable-pip-version-check", *index, *wanted]
            env = uv_env()
            if uv and not packages.index_url and env.get("PIP_INDEX_URL"):  # pip_index_url from a Secret
                env.setdefault("UV_INDEX_URL", env["PIP_INDEX_URL"])
            if uv:
                # bytecode now: site-packages is read-only once built (pip compiles by default)
                argv = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python, *index,
                        *_wheels_args(), *wanted]
            elif own_pip:  # heraspec's own pip installs into the environment: no pip copied into it
                argv = [sys.executable, "-m", "pip", "--python", python, *pip]
            else:
                argv = [python, "-m", "pip", *pip]
            shown = " ".join(p.split(" ")[0] for p in packages.locked) if packages.locked else " ".join(packages.packages)
            _run(argv, "installing packages " + shown, env)
    except EnvError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if packages and say:
        say(f"packages installed in {time.monotonic() - started:.1f}s")
