"""The summary cache of parsed modules (python/sourcefile.py, issue 25): a module read again from
`$HERASPEC_CACHE_DIR/modules/` gives exactly what parsing it gives (the function, its problems, the
carried modules and imports, the annotation types), a changed file is parsed again (a syntax error is
always reported), a damaged entry is a miss, the folder stays bounded, and the project gets nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from heraspec.python import functions as F
from heraspec.python.annotations import signature_types
from heraspec.python.sourcefile import load_module
from tests.test_realcode import CASES, ROOT

TRICKY = '''\
"""A module whose statements do not each sit on lines of their own."""
from __future__ import annotations
import os; import json
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from collections import OrderedDict
try:
    from tables.convert import *
except ImportError:
    pass
A = 1; B = (2,
  3); C = [A,
           B]
TABLE = {}
for k in range(3): TABLE[k] = k * A


def deco(
    scale,
):
    def wrap(f):
        def inner(*a, **kw):
            return f(*a, **kw) * scale
        return inner
    return wrap


@deco(
    2,
)
def doubled(x: int) -> int:
    import math
    return math.floor(x) + C[0]


class Box:
    size: int = 1; label: str = "b"


def uses_box(b: Box, n: int = A) -> dict:
    return {"size": b.size, "n": n, "keys": sorted(TABLE)}


def dyn(name: str):
    return globals()[name]


def lazy():
    global _T
    _T = json.dumps(os.sep)
    return _T
'''
TRICKY_REFS = ["tricky:doubled", "tricky:uses_box", "tricky:dyn", "tricky:lazy", "tricky:by_file"]


def snapshot(refs: list[str], dirs: list[str]) -> list:
    """Everything validate and compile read of each function."""
    out = []
    for ref in refs:
        fn, problems = F.resolve(ref, dirs)
        if fn is None:
            out.append((ref, problems))
            continue
        b = F.bundle(fn)
        out.append((fn, problems, list(b.modules), b.imports, b.problems,
                    b.size, list(b.data), signature_types(fn, dirs)))
    return out


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HERASPEC_CACHE_DIR", str(tmp_path / "cache"))
    tmp_path = tmp_path / "proj"
    for pkg in ("tables", "geo", "shapes", "deco", "itertools_plus", "semverish", "cyclepkg"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tricky.py").write_text(TRICKY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    F.clear_cache()
    yield tmp_path
    F.clear_cache()


def test_a_module_read_from_its_summary_gives_what_parsing_it_gives(project: Path) -> None:
    refs = [ref for ref, _ in CASES.values()] + TRICKY_REFS
    dirs = [str(project)]
    cold = snapshot(refs, dirs)
    summaries = list((project.parent / "cache" / "modules").glob("*.json"))
    assert len(summaries) >= 10  # each module read, summarised
    assert not any(project.rglob(".heraspec"))  # nothing in the project
    F.clear_cache()  # a new process: every module comes back from its summary
    assert not isinstance(load_module(str(project / "tricky.py")).body, list)  # read back, not parsed whole
    F.clear_cache()
    assert snapshot(refs, dirs) == cold
    assert [isinstance(x[0], F.Function) for x in cold[-5:]] == [True] * 5  # by_file: through the star import


def test_a_changed_module_is_parsed_again_and_its_syntax_error_reported(project: Path) -> None:
    dirs = [str(project)]
    fn, problems = F.resolve("tricky:doubled", dirs)
    assert fn is not None and not problems
    broken = TRICKY.replace("def dyn(name: str):", "def dyn(name: str)")  # same length - 1, same mtime second
    (project / "tricky.py").write_text(broken, encoding="utf-8")
    F.clear_cache()
    fn, problems = F.resolve("tricky:doubled", dirs)
    assert fn is None and problems[0].message == "syntax error in tricky.py: expected ':'"
    assert problems[0].line == TRICKY.splitlines().index("def dyn(name: str):") + 1
    (project / "tricky.py").write_text(TRICKY, encoding="utf-8")  # back as it was: its summary is used again
    F.clear_cache()
    assert F.resolve("tricky:doubled", dirs)[0] is not None


def test_a_summary_of_another_shape_or_damaged_is_a_miss(project: Path) -> None:
    dirs = [str(project)]
    cold = snapshot(["tricky:uses_box"], dirs)
    for entry in (project.parent / "cache" / "modules").glob("*.json"):
        text = entry.read_text(encoding="utf-8")
        entry.write_text(text.replace('"bindings"', '"bindingz"') if "uses_box" in text else "{not json",
                         encoding="utf-8")
    F.clear_cache()
    assert snapshot(["tricky:uses_box"], dirs) == cold


def test_the_summaries_kept_are_bounded(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from heraspec.python import sourcefile

    monkeypatch.setattr(sourcefile, "SUMMARIES_KEPT", 4)
    for i in range(7):  # seven versions of one module: seven summaries written, the oldest pruned
        (project / "tricky.py").write_text(TRICKY + f"\nV = {i}\n", encoding="utf-8")
        F.clear_cache()
        assert F.resolve("tricky:doubled", [str(project)])[0] is not None
    assert 2 <= len(list((project.parent / "cache" / "modules").iterdir())) <= 4
