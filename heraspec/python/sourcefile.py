"""A user's Python file as Python compiles it on import, read with `ast` (never imported), and the
Problem every reader of the user's code reports.

    load_module(path) -> ModuleInfo | Problem    the module, cached while the file is unchanged
    shown(path) -> str                           a path as a message shows it

A syntax error anywhere, a coding cookie other than UTF-8, bytes that are not UTF-8: a Problem at
Python's position. Each file is read once per process however many readers ask (functions.py,
modules.py, annotations.py, pkgdata.py share one ModuleInfo). A file whose bytes parsed before (in
any process) is not parsed whole again: its ModuleInfo comes back from the summary kept in heraspec's
cache folder, each statement parsed alone when first read (below, "the summary cache").
"""

from __future__ import annotations

import ast
import functools
import gc
import json
import os
import re
import sys
from collections.abc import Callable, Sequence

from ..cachedir import cache_dir
from ..digest import sha256_hex
from .closure import ModuleInfo
from ..record import Record

__all__ = ["Problem", "forget_modules", "load_module", "shown"]


class Problem(Record):
    """Something wrong, for the caller to report at the spec's position."""

    __slots__ = ("message", "hint", "file", "line", "col")

    message: str
    hint: str | None
    file: str | None  # set when the problem is inside the module file
    line: int | None
    col: int | None  # 1-based, in characters

    def __init__(self, message: str, hint: str | None = None, file: str | None = None, line: int | None = None,
                 col: int | None = None) -> None:
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.col = col


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
        # what decode("utf-8-sig") gives (error offsets too), without importing that codec
        source = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except OSError as e:
        return Problem(f"cannot read {_show(path)}: {e.strerror}", file=path)
    except UnicodeDecodeError as e:
        return Problem(f"cannot read {_show(path)}: not UTF-8 (byte {e.start})", file=path)
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # what Python's tokenizer does too
    if len(data) < SUMMARY_MIN_BYTES:  # parsed faster than its summary is hashed and read
        key = cache = ""
        facts = None
    else:
        key = sha256_hex(b"%d.%d/%d\0" % (*sys.version_info[:2], _SUMMARY_VERSION) + data)
        cache = os.path.join(cache_dir(), "modules", key + ".json")
        facts = _read_summary(cache, key)
    if facts is not None:  # parsed whole before, with no problem: the same bytes parse the same way
        try:
            whole = functools.cache(lambda: _parse_whole(source, path))
            return ModuleInfo.restored(source, facts, _Statements(source, facts["spans"], whole), whole)
        except (KeyError, TypeError, ValueError, StopIteration):
            pass  # an entry from another layout: parse
    try:
        tree = _parse_whole(source, path)
    except SyntaxError as e:
        return _syntax_problem(path, e)
    except ValueError as e:  # null bytes (Python < 3.12)
        return Problem(f"cannot parse {_show(path)}: {e}", file=path)
    except (RecursionError, MemoryError):  # Python cannot import it either
        return Problem(f"cannot parse {_show(path)}: expressions nest too deeply for Python's parser",
                       "split the long expression (e.g. a '+' chain of thousands of terms) into parts", file=path)
    info = ModuleInfo(source, tree)
    if cache:
        _write_summary(cache, key, info.facts())
    return info


def _parse_whole(source: str, path: str) -> ast.Module:
    # the collector would walk the growing tree many times over; nothing here makes cycles
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=path)
    finally:
        if enabled:
            gc.enable()


# --- the summary cache: what validate reads of a module, without parsing it again ------------------
#
# `modules/` in heraspec's cache folder (cachedir.py) holds, for each module that parsed without a
# problem, its ModuleInfo.facts() under the SHA-256 of its bytes (and this Python's version): a file
# whose bytes changed misses and is parsed whole again (so a syntax error is always found), one that
# did not is rebuilt from the facts, its statements parsed one by one as they are read (_Statements).
# Only modules of SUMMARY_MIN_BYTES or more are summarised: a smaller one parses in less time.
# Project folders get nothing; the folder keeps the newest SUMMARIES_KEPT summaries.

_SUMMARY_VERSION = 1
SUMMARIES_KEPT = 4096
SUMMARY_MIN_BYTES = 32 * 1024  # smaller modules are parsed each time (no hashlib import, no file)


def _read_summary(cache: str, key: str) -> dict | None:
    try:
        with open(cache, encoding="utf-8") as f:
            entry = json.load(f)
    except (OSError, ValueError):
        return None
    return entry.get("facts") if isinstance(entry, dict) and entry.get("key") == key else None


def _write_summary(cache: str, key: str, facts: dict) -> None:
    """Best effort: a folder that cannot be written only means the next run parses again."""
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp = f"{cache}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"key": key, "facts": facts}, f, separators=(",", ":"))
        os.replace(tmp, cache)  # whole or not at all, also beside another heraspec writing it
        folder = os.path.dirname(cache)
        entries = os.listdir(folder)
        if len(entries) > SUMMARIES_KEPT:  # the oldest half goes
            by_age = sorted(entries, key=lambda e: os.stat(os.path.join(folder, e)).st_mtime_ns)
            for e in by_age[:len(by_age) - SUMMARIES_KEPT // 2]:
                os.unlink(os.path.join(folder, e))
    except OSError:
        pass


class _Statements(Sequence):
    """The top-level statements of a module known to parse, each parsed alone from its own lines
    (padded so that positions are the whole file's) when first read. A statement that does not read
    back at its recorded position alone (it shares a line with the one before, say) comes from the
    whole tree instead, parsed then."""

    def __init__(self, source: str, spans: list, whole: Callable[[], ast.Module]) -> None:
        self.lines, self.spans, self.whole = source.split("\n"), spans, whole
        self.parsed: dict[int, ast.stmt] = {}

    def __len__(self) -> int:
        return len(self.spans)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        stmt = self.parsed.get(index)
        if stmt is None:
            stmt = self.parsed[index] = self.alone(index) or self.whole().body[index]
        return stmt

    def alone(self, index: int) -> ast.stmt | None:
        first, *at = self.spans[index]
        text = "\n" * (first - 1) + "\n".join(self.lines[first - 1:at[2]])
        try:
            body = ast.parse(text).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return next((s for s in body if [s.lineno, s.col_offset, s.end_lineno, s.end_col_offset] == at), None)
