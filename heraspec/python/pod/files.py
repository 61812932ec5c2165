"""Files: inputs that arrive through the artifact repository, a result that is a file."""

import json
import os

from .names import ARTIFACT_DIR, ARTIFACT_DIR_ENV, MANY
from .decode import coerce

# --- files: inputs that arrive through the artifact repository, a result that is a file --------------

def artifact_root(*parts):
    import pathlib

    return pathlib.Path(os.environ.get(ARTIFACT_DIR_ENV) or ARTIFACT_DIR, *parts)


def only_entry(folder):
    """The one file or folder the producer returned: an artifact is a folder holding one entry."""
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(entries) != 1:
        raise FileNotFoundError(f"heraspec: expected one file in {folder}, found {len(entries)}")
    return entries[0]


def read_artifact(name, raw, kind, classes=None):
    """An input placed by Argo's executor (or heraspec run) at in/<name> (raw is ONE), or a fan-in's,
    one sub-folder per item index, read back in item order (raw is MANY): the paths for a `Path`
    parameter, else the values sent through the repository (their value.json)."""
    folder = artifact_root("in", name)
    if raw == MANY:
        subs = [p for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
        found = [only_entry(p) for p in sorted(subs, key=lambda p: int(p.name))]
    else:
        found = [only_entry(folder)]
    if kind not in ("path", "paths"):
        inner = kind if raw != MANY else kind[5:] if kind and kind.startswith("list:") else None
        found = [coerce(json.loads(p.read_text(encoding="utf-8")), inner, classes) for p in found]
    return found if raw == MANY else found[0]


def write_file_result(value):
    """`-> Path`: move what the function wrote into out/result, keeping its name."""
    import pathlib
    import shutil
    import tempfile

    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"heraspec: the function is annotated -> Path but returned {type(value).__name__}")
    path = pathlib.Path(value).absolute()
    if not path.exists():
        raise FileNotFoundError(f"heraspec: the returned path {value} does not exist")
    roots = [pathlib.Path.cwd().resolve(), pathlib.Path(tempfile.gettempdir()).resolve()]
    real = path.resolve()
    if not any(r in real.parents for r in roots):
        raise ValueError(f"heraspec: the returned path {value} lies outside the task's working folder "
                         f"({roots[0]}); write the file there and return its path")
    out = artifact_root("out", "result")
    out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(real), str(out / (path.name or "result")))
