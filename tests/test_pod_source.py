"""The pod runtime's index (python/pod_source.py) kept in heraspec's cache folder: a cut read back
from the cache is the cut parsing gives, for every root set; a changed module, a damaged or foreign
entry is a miss; the folder stays bounded."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from heraspec.python import pod_source


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HERASPEC_CACHE_DIR", str(tmp_path / "cache"))
    pod_source.forget_index()
    yield tmp_path / "cache" / "pod-runtime"
    pod_source.forget_index()


def _root_sets() -> list[frozenset[str]]:
    names = sorted(pod_source.defined_names())
    rnd = random.Random(31)
    sets = [frozenset({"main"}), frozenset(names), frozenset({"main"} | pod_source.OPTIONAL)]
    sets += [frozenset({"main", opt}) for opt in sorted(pod_source.OPTIONAL)]
    sets += [frozenset(rnd.sample(names, k)) for k in (1, 3, 8, 20) for _ in range(15)]
    return sets


def test_cuts_read_back_from_the_cache_are_the_cuts_parsing_gives(cache: Path) -> None:
    parsed = [pod_source.cut(roots) for roots in _root_sets()]  # a miss: parsed, then written
    assert len(list(cache.glob("*.json"))) == 1
    pod_source.forget_index()  # a new process: the index comes from the cache
    assert [pod_source.cut(roots) for roots in _root_sets()] == parsed
    whole = pod_source.cut(pod_source.defined_names())
    assert whole.count("\ndef ") >= 20 and "def main(" in whole


def test_a_damaged_or_foreign_entry_is_a_miss(cache: Path) -> None:
    parsed = [pod_source.cut(roots) for roots in _root_sets()[:5]]
    (entry,) = cache.glob("*.json")
    for damaged in ("{not json", json.dumps({"key": "another", "units": []}), json.dumps({"key": entry.stem})):
        entry.write_text(damaged, encoding="utf-8")
        pod_source.forget_index()
        assert [pod_source.cut(roots) for roots in _root_sets()[:5]] == parsed


def test_a_changed_module_misses_and_is_parsed_again(cache: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = pod_source.cut(frozenset({"main"}))
    copy = tmp_path / "pod"
    shutil.copytree(pod_source.folder(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(pod_source, "FOLDER", str(copy))
    entry = copy / "entry.py"
    text = entry.read_text(encoding="utf-8")
    assert "def main(" in text
    entry.write_text(text.replace("def main(", "# a comment the cut keeps\ndef main(", 1), encoding="utf-8")
    pod_source.forget_index()
    after = pod_source.cut(frozenset({"main"}))
    assert "# a comment the cut keeps\ndef main(" in after and after != before
    assert len(list(cache.glob("*.json"))) == 2


def test_the_entries_kept_are_bounded(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pod_source, "INDEXES_KEPT", 3)
    copy = tmp_path / "pod"
    shutil.copytree(pod_source.folder(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(pod_source, "FOLDER", str(copy))
    names = copy / "names.py"
    text = names.read_text(encoding="utf-8")
    for i in range(6):  # six versions of the package: six entries written, the oldest pruned
        names.write_text(text + f"\nV{i} = {i}\n", encoding="utf-8")
        pod_source.forget_index()
        assert f"V{i} = {i}" in pod_source.cut(frozenset({f"V{i}"}))
    assert len(list(cache.iterdir())) == 3


def test_other_optional_definitions_miss(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index records which `if` branches name optional definitions: another OPTIONAL is another entry."""
    roots = frozenset({"main", "write_value_result", "write_result_parameter"})
    assert "publish(" not in pod_source.cut(roots)  # optional, not a root: its `if` goes
    monkeypatch.setattr(pod_source, "OPTIONAL", pod_source.OPTIONAL - {"publish"})
    pod_source.forget_index()
    assert "def publish(" in pod_source.cut(roots)  # no longer optional: the write's use keeps it
    assert len(list(cache.glob("*.json"))) == 2


def test_an_else_with_a_comment_takes_the_place_of_the_branch_left_out(cache: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "pod"
    shutil.copytree(pod_source.folder(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(pod_source, "FOLDER", str(copy))
    entry = copy / "entry.py"
    text = entry.read_text(encoding="utf-8")
    assert "        else:\n            value = read_input(" in text
    entry.write_text(text.replace("        else:\n            value = read_input(",
                                  "        else:  # a value in the parameter\n            value = read_input(", 1),
                     encoding="utf-8")
    pod_source.forget_index()
    cut = pod_source.cut(frozenset({"main"}))  # read_artifact left out: its branch goes, the else stays
    compile(cut, "<cut>", "exec")
    assert "def main(module, name, kinds):" in cut and "read_artifact" not in cut
    assert "\n        value = read_input(raw, base, plans.get(param), classes)\n" in cut
