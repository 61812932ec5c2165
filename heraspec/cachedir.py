"""Where heraspec keeps what it reuses across projects: `$HERASPEC_CACHE_DIR`, else
`$XDG_CACHE_HOME/heraspec`, else `~/.cache/heraspec` (the Python environments, local/envs.py; uv's
cache; the summaries of parsed modules, python/sourcefile.py; the pod runtime's index,
python/pod_source.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["cache_dir", "cache_root"]


def cache_dir() -> str:
    """Absolute: tasks run in their own folders, so a relative setting would name another place."""
    if os.environ.get("HERASPEC_CACHE_DIR"):
        return os.path.abspath(os.environ["HERASPEC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "heraspec")


def cache_root() -> Path:
    """cache_dir() as a Path (a compile reads its cache with os.path: pathlib is ~3 ms of its start)."""
    from pathlib import Path

    return Path(cache_dir())
