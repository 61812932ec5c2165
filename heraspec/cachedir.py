"""Where heraspec keeps what it reuses across projects: `$HERASPEC_CACHE_DIR`, else
`$XDG_CACHE_HOME/heraspec`, else `~/.cache/heraspec` (the Python environments, local/envs.py; uv's
cache; the summaries of parsed modules, python/sourcefile.py; the pod runtime's index,
python/pod_source.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """Absolute: tasks run in their own folders, so a relative setting would name another place."""
    from pathlib import Path  # here: `validate` imports this module but reads no cache folder

    if os.environ.get("HERASPEC_CACHE_DIR"):
        return Path(os.path.abspath(os.environ["HERASPEC_CACHE_DIR"]))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.path.abspath(base)) / "heraspec"
