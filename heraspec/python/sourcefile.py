"""A user's Python file as Python compiles it on import, read with `ast` (never imported), and the
Problem every reader of the user's code reports.

    load_module(path) -> ModuleInfo | Problem    parsed whole, cached while the file is unchanged
    shown(path) -> str                           a path as a message shows it

A syntax error anywhere, a coding cookie other than UTF-8, bytes that are not UTF-8: a Problem at
Python's position. Each file is parsed once per process however many readers ask (functions.py,
modules.py, annotations.py, pkgdata.py share the tree).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass

from .closure import ModuleInfo

__all__ = ["Problem", "forget_modules", "load_module", "shown"]


@dataclass(frozen=True)
class Problem:
    """Something wrong, for the caller to report at the spec's position."""

    message: str
    hint: str | None = None
    file: str | None = None  # set when the problem is inside the module file
    line: int | None = None
    col: int | None = None  # 1-based, in characters


def shown(path: str) -> str:
    """A path as the user would like to read it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path or ".")
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


_show = shown

_MODULES: dict[str, tuple[tuple[int, int], ModuleInfo | Problem]] = {}


def forget_modules() -> None:
    """Forget every parsed module (each is read again on its next load)."""
    _MODULES.clear()


def load_module(path: str) -> ModuleInfo | Problem:
    """The module parsed whole, cached while its file is unchanged."""
    try:
        st = os.stat(path)
    except OSError as e:
        _MODULES.pop(path, None)
        return Problem(f"cannot read {_show(path)}: {e.strerror}", file=path)
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _MODULES.get(path)
    if cached is None or cached[0] != stamp:
        cached = _MODULES[path] = (stamp, _parse(path))
    return cached[1]


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263, as Python's tokenizer reads it


def _coding_cookie(data: bytes, path: str) -> Problem | None:
    """A PEP 263 coding line naming anything but UTF-8 is refused: Python would decode the file with
    it (a `# coding: utf-7` module hides code in what reads as a comment), while heraspec reads and
    carries modules as UTF-8, so the pod would run different code than Python runs here."""
    import codecs

    for line_no, line in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 2)[:2], 1):
        m = _COOKIE.match(line)
        if m is None:
            if line.strip() and not line.lstrip().startswith(b"#"):
                return None  # a cookie counts only on line 1 or 2, before any code
            continue
        name = m.group(1).decode("ascii", "replace")
        try:
            utf8 = codecs.lookup(name).name in ("utf-8", "utf-8-sig")
        except LookupError:
            utf8 = False
        if utf8:
            return None
        return Problem(f"{_show(path)} declares the source encoding '{name}': heraspec reads and carries "
                       "modules as UTF-8 only", "save the file as UTF-8 and remove the coding line",
                       path, line_no, m.start(1) + 1)
    return None


def _syntax_problem(path: str, e: SyntaxError) -> Problem:
    return Problem(f"syntax error in {_show(path)}: {e.msg}", file=path, line=e.lineno, col=e.offset)


def _parse(path: str) -> ModuleInfo | Problem:
    """The module, or why Python could not import it (a syntax error anywhere in it is a Problem)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        cookie = _coding_cookie(data, path)
        if cookie is not None:
            return cookie
        source = data.decode("utf-8-sig")
    except OSError as e:
        return Problem(f"cannot read {_show(path)}: {e.strerror}", file=path)
    except UnicodeDecodeError as e:
        return Problem(f"cannot read {_show(path)}: not UTF-8 (byte {e.start})", file=path)
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # what Python's tokenizer does too
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        return _syntax_problem(path, e)
    except ValueError as e:  # null bytes (Python < 3.12)
        return Problem(f"cannot parse {_show(path)}: {e}", file=path)
    except (RecursionError, MemoryError):  # Python cannot import it either
        return Problem(f"cannot parse {_show(path)}: expressions nest too deeply for Python's parser",
                       "split the long expression (e.g. a '+' chain of thousands of terms) into parts", file=path)
    return ModuleInfo(source, tree)
