"""A `str` receives a value's own text wherever it is annotated (issue: values arrive exactly): as an
element of `list[str]`, `dict[str, str]` or `tuple[str, ...]`, from a result sent through the artifact
repository, and from a fanned-out `-> str` task whose strs Argo's aggregate decoded, under
`heraspec run` and in the compiled pods run as Argo's executor runs them (tests/argo_exec.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import heraspec
from tests.argo_exec import run_dag
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

STEPS = '''\
def show(x) -> list:
    return [type(x).__name__, x]


def strs(x: list[str]) -> list:
    return [type(v).__name__ for v in x] + [x]


def table(x: dict[str, str]) -> list:
    return [type(v).__name__ for v in x.values()] + [x]


def row(x: tuple[str, ...]) -> list:
    return [type(v).__name__ for v in x] + [list(x)]


def text(x: str) -> list:
    return [type(x).__name__, x]


def five() -> int:
    return 5


def record() -> dict:
    return {"b": 1, "a": [2]}


def as_json(i: int) -> str:
    return '{"n": %d}' % i
'''


def project(tmp_path: Path, tasks: str) -> Path:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: texts\ntasks:\n" + tasks, encoding="utf-8")
    return spec


def run_locally(spec: Path, tmp: Path) -> dict[str, Any]:
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp / "run"), cwd=spec.parent)
    assert proc.returncode == 0, proc.stderr
    return {k: v["result"] for k, v in json.loads(proc.stdout)["tasks"].items()}


def run_as_argo(spec: Path, tmp: Path) -> dict[str, Any]:
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    return {k: json.loads(v) for k, v in run_dag(compiled.manifest, tmp / "argo").items()}


def test_scalars_written_for_str_elements_arrive_as_their_text(tmp_path: Path) -> None:
    spec = project(tmp_path, "  l: {function: steps:strs, args: {x: [1, 2.5, true, abc]}}\n"
                             "  d: {function: steps:table, args: {x: {k: 1, j: false}}}\n"
                             "  t: {function: steps:row, args: {x: [7, x]}}\n")
    assert heraspec_cli("validate", str(spec)).returncode == 0
    want = {"l": ["str", "str", "str", "str", ["1", "2.5", "true", "abc"]],
            "d": ["str", "str", {"k": "1", "j": "false"}],
            "t": ["str", "str", ["7", "x"]]}
    assert run_locally(spec, tmp_path) == want
    assert run_as_argo(spec, tmp_path) == want


def test_a_fanned_out_str_task_gives_strs_even_when_each_is_json_object_text(tmp_path: Path) -> None:
    # every child's text is a JSON object, so Argo's aggregate decodes them (aggregatedJSONValueList):
    # the consumer still receives strs, each the object's JSON as Go wrote it
    spec = project(tmp_path, "  mk: {function: steps:as_json, foreach: [1, 2], args: {i: {item: true}}}\n"
                             "  typed: {function: steps:strs, args: {x: {from: mk}}}\n"
                             "  plain: {function: steps:show, args: {x: {from: mk}}}\n")
    want = {"typed": ["str", "str", ['{"n":1}', '{"n":2}']], "plain": ["list", ['{"n":1}', '{"n":2}']]}
    local = run_locally(spec, tmp_path)
    assert {k: local[k] for k in want} == want
    argo = run_as_argo(spec, tmp_path)
    assert {k: argo[k] for k in want} == want


def test_a_str_parameter_receives_the_json_of_a_value_sent_through_the_artifact_repository(tmp_path: Path) -> None:
    spec = project(tmp_path, "  n: {function: steps:five, result: artifact}\n"
                             "  r: {function: steps:record, result: artifact}\n"
                             "  tn: {function: steps:text, args: {x: {from: n}}}\n"
                             "  tr: {function: steps:text, args: {x: {from: r}}}\n")
    results = run_locally(spec, tmp_path)
    assert results["tn"] == ["str", "5"] and results["tr"] == ["str", '{"b":1,"a":[2]}']


def test_argo_expressions_inside_a_value_are_substituted_as_argo_does_on_its_way_in(tmp_path: Path) -> None:
    # common/util.go SubstituteParams replaces the globals (workflow.*) across the template's JSON,
    # input values included, before the inputs themselves: a str holding `{{workflow.parameters.who}}`
    # arrives with it replaced, on Argo and under `heraspec run`; other tags stay as written
    (tmp_path / "steps.py").write_text(STEPS + '''

def shout(who: str) -> str:
    return "p={{workflow.parameters.who}} n={{nope}} i={{inputs.parameters.x}}"
''', encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: texts\nparameters: {who: ann}\ntasks:\n  mk: {function: steps:shout, args: {who: {param: who}}}\n"
                    "  use: {function: steps:text, args: {x: {from: mk}}}\n", encoding="utf-8")
    want = ["str", "p=ann n={{nope}} i={{inputs.parameters.x}}"]
    assert run_locally(spec, tmp_path)["use"] == want
    (compiled,) = heraspec.compile([str(spec)])
    assert json.loads(run_dag(compiled.manifest, tmp_path / "argo")["use"]) == want


def test_a_value_with_an_unmatched_opening_tag_ends_its_consumer_in_error_as_on_argo(tmp_path: Path) -> None:
    # SubstituteParams parses the template's JSON, input values included, with fasttemplate: a `{{`
    # with no `}}` after it is "Cannot find end tag", and the consumer's node ends in Error
    (tmp_path / "steps.py").write_text(STEPS + '''

def brace() -> str:
    return "a {{ b"
''', encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: texts\ntasks:\n  mk: {function: steps:brace}\n"
                    "  use: {function: steps:text, args: {x: {from: mk}}}\n", encoding="utf-8")
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1
    tasks = json.loads(proc.stdout)["tasks"]
    assert tasks["mk"]["phase"] == "Succeeded" and tasks["use"]["phase"] == "Error"
    assert "Cannot find end tag" in tasks["use"]["message"] and "input 'x'" in tasks["use"]["message"]
    (compiled,) = heraspec.compile([str(spec)])
    with pytest.raises(ValueError, match="Cannot find end tag"):
        run_dag(compiled.manifest, tmp_path / "argo")
