"""Package data: the files beside carried modules that their code may read, carried with them.

    PackageData(roots).add(name, file, is_package, info) ... .files() -> [DataFile]; .problems

A module reads files beside it when its text mentions `__file__`, `importlib.resources`,
`pkgutil` or `pkg_resources`. Then, for a module in a package, every other file of the top-level
package's folder travels (not Python or compiled modules, type stubs, C/Cython sources, gettext
catalogue sources, caches or hidden files); for a top-level module, the files its string constants
name beside it. Problems, located at the first such mention: a data file that is a link to a file
outside the project's folders, over DATA_FILE_LIMIT of them, and a file the module names that
exists near it but is not carried (`Path(__file__).parent.parent / "settings.toml"`): the pod would
not have it.
"""

from __future__ import annotations

import ast
import os
import re
from typing import NamedTuple

from .closure import ModuleInfo
from .sourcefile import Problem, shown as _show

__all__ = ["DATA_FILE_LIMIT", "DataFile", "PackageData", "outside"]

# what in a module's text means it may read files beside it
_READS_DATA = re.compile(r"__file__|importlib[._]resources|importlib_resources|from\s+importlib\s+import\s+[^\n]*\bresources\b"
                         r"|pkgutil|pkg_resources")
# never read by running code: Python and compiled modules, type stubs, C/Cython sources, gettext
# catalogues' sources (gettext reads the compiled .mo)
_NOT_DATA = (".py", ".pyc", ".pyo", ".pyd", ".so", ".pyi", "py.typed", ".c", ".h", ".pyx", ".pxd", ".po", ".pot")
DATA_FILE_LIMIT = 1024 * 1024  # bytes of one package's data files before heraspec stops collecting them




class DataFile(NamedTuple):
    """A file a carried package may read, placed beside its modules in the pod (a value; a named
    tuple, which costs `validate`'s start a fifth of what a frozen dataclass does)."""

    path: str  # relative to the root, "/"-separated: "mypkg/data/table.json"
    data: bytes


def outside(path: str, roots: list[str]) -> bool:
    """Whether the file's real path (links followed) is outside every root: a committed link
    `settings.py -> ../outside/.env` must not carry that file into the manifest."""
    real = os.path.realpath(path)
    return not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class PackageData:
    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.problems: list[Problem] = []
        self.found: dict[str, DataFile] = {}

    def add(self, name: str, file: str, is_package: bool, info: ModuleInfo) -> None:
        """Collect the files module `name` (at `file`) may read."""
        if not _READS_DATA.search(info.text):
            return
        root = os.path.dirname(file)
        for _ in range(name.count(".") + is_package):
            root = os.path.dirname(root)
        top = name.partition(".")[0]
        if is_package or "." in name:
            names = _walk_files(os.path.join(root, top))
        else:
            names = [os.path.join(root, c) for c in _string_constants(info) if os.path.isfile(os.path.join(root, c))]
        out, total = self.found, 0
        for path in names:
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if rel in out or rel.endswith(_NOT_DATA):
                continue
            if outside(path, self.roots):
                self.problems.append(Problem(f"the data file {_show(path)} of '{top}' is a link to "
                                             f"{os.path.realpath(path)}, outside your project's folders: heraspec "
                                             "does not carry it", "copy the file into the project", file,
                                             *_first_read(info)))
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read(DATA_FILE_LIMIT + 1)
            except OSError:
                continue
            total += len(data)
            if total > DATA_FILE_LIMIT:
                self.problems.append(Problem(f"'{top}' reads files beside its modules ({_show(file)}), and its "
                                             f"folder holds over {DATA_FILE_LIMIT // 1024} KiB of them: too much to "
                                             "carry in the workflow", "build an image that contains your package and "
                                             "set `code: image` on the task (or in `defaults`)", file, *_first_read(info)))
                break
            out[rel] = DataFile(rel, data)
        self.uncarried(file, info, root)

    def uncarried(self, file: str, info: ModuleInfo, root: str) -> None:
        """A file the module names that exists near it but is not carried: the pod would not have it."""
        here = os.path.dirname(file)
        for name in sorted(_string_constants(info)):
            for folder in (here, os.path.dirname(here), root):
                path = os.path.normpath(os.path.join(folder, name))
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                if rel in self.found or not os.path.isfile(path) or path.endswith(_NOT_DATA) or outside(path, self.roots):
                    continue
                self.problems.append(Problem(
                    f"{_show(file)} names the file '{name}' ({_show(path)}), which is outside its package's folder: "
                    "heraspec carries only the files in the folder of a package that reads files, so the pod would "
                    "not have it", "move the file into the package's folder (read it with importlib.resources), or "
                    "build an image with your project and set `code: image`", file, *_first_read(info)))
                break

    def files(self) -> list[DataFile]:
        return [self.found[k] for k in sorted(self.found)]


def _walk_files(folder: str) -> list[str]:
    out = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out.extend(os.path.join(here, f) for f in sorted(files) if not f.startswith("."))
    return out


def _first_read(info: ModuleInfo) -> tuple[int, int]:
    """Line and column of the first text in the module that may read a file."""
    m = _READS_DATA.search(info.text)
    if m is None:
        return 1, 1
    before = info.text[: m.start()]
    return before.count("\n") + 1, m.start() - (before.rfind("\n") + 1) + 1


def _string_constants(info: ModuleInfo) -> set[str]:
    out = set()
    for node in ast.walk(info.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 200 \
                and "\n" not in node.value and not node.value.startswith(("/", ".")) and "." in node.value:
            out.add(node.value)
    return out


