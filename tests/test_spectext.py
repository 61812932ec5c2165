"""`check/spectext.may_hold`: a rule skipped because the spec's text cannot hold what it looks for
reports exactly what walking every task reports, and a word that reaches the data only through an
escape or a values placeholder is still found."""

from __future__ import annotations

import contextlib
import io
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heraspec.check.spectext import PLACEHOLDER_MARKERS
from heraspec.cli import main
from heraspec.document import values
from heraspec.document.load import load_file
from heraspec.errors import Errors
from tests.cli import in_process
from tests.strategies import STEPS_SOURCE, mutations, specs, to_toml, to_yaml

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "fixtures" / "bad"
EXAMPLES = ROOT / "examples"
SPECS = sorted(p for d in (BAD, EXAMPLES) for p in d.iterdir() if p.suffix in (".yaml", ".toml"))
# a comment holding a backslash changes no value, but the text may then hold anything: every rule walks
OPEN = "\n# \\ (every rule walks every task)\n"

STEPS = "def work(i: int) -> int:\n    return i\n"
_count = itertools.count()


def test_placeholder_markers_are_the_values_ones():
    assert PLACEHOLDER_MARKERS == (values.VAR_START, values.BLOCK_START, values.COMMENT_START)


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> tuple[Path, Path]:
    """The bad fixtures and examples twice: as they are, and each spec with OPEN appended."""
    base = tmp_path_factory.mktemp("spectext")
    for name in ("plain", "open"):
        for src in (BAD, EXAMPLES):
            shutil.copytree(src, base / name / src.name)
    for spec in (base / "open").glob("*/*"):
        if spec.suffix in (".yaml", ".toml"):
            spec.write_text(spec.read_text() + OPEN)
    return base / "plain", base / "open"


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_skipped_rules_report_what_walking_reports(spec: Path, copies, capsys):
    if spec.stem == "empty":
        pytest.skip("the appended comment would be the file's only content")
    plain, opened = (d / spec.parent.name / spec.name for d in copies)
    code, _, err = in_process(capsys, "validate", str(plain))
    open_code, _, open_err = in_process(capsys, "validate", str(opened))
    assert (open_code, open_err.replace(str(copies[1]), str(copies[0]))) == (code, err)


def _validate(tmp_path: Path, capsys, spec: str, *extra: str) -> str:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "spec.yaml").write_text("name: x\n" + spec)
    code, _, err = in_process(capsys, "validate", *extra, str(tmp_path / "spec.yaml"))
    assert code == 1
    return err


def test_a_key_written_with_an_escape_is_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: 1}, "for\\x65ach": []}\n')
    assert "spec.yaml:3:59: error: an empty foreach runs nothing" in err, err


def test_a_text_written_with_an_escape_is_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: "{{w\\x6frkflow.parameters.nope}}"}}\n')
    assert "unknown workflow parameter 'nope'" in err, err


def test_a_text_a_placeholder_gives_is_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: "[[ text ]]"}}\n',
                    "--set", "text={{workflow.parameters.nope}}")
    assert "unknown workflow parameter 'nope'" in err, err


def test_a_text_a_placeholder_comment_joins_is_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: "{{workflow.param[# x #]eters.nope}}"}}\n',
                    "--set", "unused=1")
    assert "unknown workflow parameter 'nope'" in err, err


def test_a_mapping_a_placeholder_gives_is_checked(tmp_path, capsys):
    (tmp_path / "values.yaml").write_text("arg: {item: 'not a name'}\n")
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: "[[ arg ]]"}}\n',
                    "--values", str(tmp_path / "values.yaml"))
    assert 'item key "not a name" is not a name Argo can substitute' in err, err


def test_a_fan_out_written_with_an_escape_is_type_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  m: {function: "steps:work", args: {i: 1}}\n'
                    '  a: {function: "steps:work", "for\\x65ach": {from: m}, args: {i: {item: true}}}\n')
    assert "foreach needs a list, but it gets the result of 'm' (work() -> int)" in err, err


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("spectext-mutated")
    (d / "steps.py").write_text(STEPS_SOURCE)
    return d


def _loaded(path: Path) -> Any:
    doc = load_file(str(path), Errors())
    return None if doc is None else doc.data


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(fmt=st.sampled_from(["yaml", "toml"]), gen=specs(max_tasks=3), data=st.data())
def test_mutated_specs_report_what_walking_reports(project, fmt, gen, data):
    """Generated specs, broken at random: where the appended comment leaves the data as it was, the
    messages are the same with the skips and without."""
    text = to_yaml(gen.data) if fmt == "yaml" else to_toml(gen.data)
    broken = data.draw(mutations(text), label="mutated")
    n = next(_count)
    plain, opened = project / f"spec{n}.{fmt}", project / f"open{n}.{fmt}"
    plain.write_bytes(broken)
    opened.write_bytes(broken + OPEN.encode())
    assume(_loaded(plain) is not None and _loaded(plain) == _loaded(opened))
    code, _, err = in_process_quiet("validate", str(plain))
    open_code, _, open_err = in_process_quiet("validate", str(opened))
    assert (open_code, open_err.replace(opened.name, plain.name)) == (code, err)


def in_process_quiet(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_an_argo_block_written_with_an_escape_is_checked(tmp_path, capsys):
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: 1}, "\\x61rgo": {task: {bogus: 1}}}\n')
    assert "Argo has no field 'bogus' here" in err, err


def test_packages_written_with_an_escape_are_checked_against_the_lock(tmp_path, capsys):
    (tmp_path / "spec.yaml.lock").write_text("not a lock\n")
    err = _validate(tmp_path, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: 1}, "p\\x61ckages": [requests]}\n')
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "spec.yaml.lock").write_text("not a lock\n")
    assert err.replace(str(tmp_path), "T") == _validate(plain, capsys, 'tasks:\n  a: {function: "steps:work", args: {i: 1}, packages: [requests]}\n').replace(str(plain), "T"), err
