"""A typo is reported once, at its root: nothing that only follows from it (a misspelt `fucntion:`
making the task "a container task", `kind: workflow` making generate_name wrong). YAML and TOML."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli import heraspec

ROOT = Path(__file__).resolve().parents[1]

SPECS = {
    "fucntion": ("""\
kind: Workflow
name: files
tasks:
  files:
    fucntion: steps:say
    outputs: {a: a}
    args: {msg: hi}
  use:
    function: steps:say
    args: {msg: {from: files, key: a}}
""", """\
kind = "Workflow"
name = "files"

[tasks.files]
fucntion = "steps:say"
outputs = {a = "a"}
args = {msg = "hi"}

[tasks.use]
function = "steps:say"
args = {msg = {from = "files", key = "a"}}
"""),
    "artifact": ("""\
kind: Workflow
name: files
tasks:
  files:
    fucntion: steps:say
    result: artifact
    args: {msg: hi}
""", """\
kind = "Workflow"
name = "files"

[tasks.files]
fucntion = "steps:say"
result = "artifact"
args = {msg = "hi"}
"""),
    "kind": ("""\
kind: workflow
generate_name: diamonds-
tasks:
  A: {function: steps:say, args: {msg: a}}
""", """\
kind = "workflow"
generate_name = "diamonds-"

[tasks.A]
function = "steps:say"
args = {msg = "a"}
"""),
}

EXPECTED = {
    ("fucntion", "yaml"): "{f}:5:5: error: unknown key 'fucntion' in task 'files'\n  hint: did you mean 'function'?\n1 error\n",
    ("fucntion", "toml"): "{f}:5:1: error: unknown key 'fucntion' in task 'files'\n  hint: did you mean 'function'?\n1 error\n",
    ("artifact", "yaml"): "{f}:5:5: error: unknown key 'fucntion' in task 'files'\n  hint: did you mean 'function'?\n1 error\n",
    ("artifact", "toml"): "{f}:5:1: error: unknown key 'fucntion' in task 'files'\n  hint: did you mean 'function'?\n1 error\n",
    ("kind", "yaml"): ("{f}:1:7: error: kind must be one of Workflow, WorkflowTemplate, ClusterWorkflowTemplate, "
                       "CronWorkflow; got 'workflow'\n  hint: did you mean 'Workflow'?\n1 error\n"),
    ("kind", "toml"): ("{f}:1:8: error: kind must be one of Workflow, WorkflowTemplate, ClusterWorkflowTemplate, "
                       "CronWorkflow; got 'workflow'\n  hint: did you mean 'Workflow'?\n1 error\n"),
}


def validate(spec: Path) -> subprocess.CompletedProcess:
    return heraspec("validate", spec.name, cwd=spec.parent)


@pytest.mark.parametrize("form", ["yaml", "toml"])
@pytest.mark.parametrize("case", sorted(SPECS))
def test_the_root_cause_is_the_only_error(tmp_path: Path, case: str, form: str):
    (tmp_path / "steps.py").write_text((ROOT / "examples" / "steps.py").read_text())
    spec = tmp_path / f"spec.{form}"
    spec.write_text(SPECS[case][form == "toml"])
    proc = validate(spec)
    assert proc.returncode == 1
    assert proc.stderr == EXPECTED[case, form].format(f=spec.name)


def test_without_a_typo_the_kind_dependent_errors_still_show(tmp_path: Path):
    (tmp_path / "steps.py").write_text((ROOT / "examples" / "steps.py").read_text())
    spec = tmp_path / "spec.yaml"
    spec.write_text("kind: WorkflowTemplate\ngenerate_name: d-\ntasks:\n  files:\n    retries: 3\n"
                    "  use: {function: steps:say, args: {msg: {from: files, key: a}}}\n")
    err = validate(spec).stderr
    assert "generate_name is for Workflows; a WorkflowTemplate needs a fixed 'name'" in err
    assert "task 'files' needs a 'function' (or 'command' for a container task)" in err  # 'retries' is no typo of it
    assert "task 'files' has no function, so its result has no keys" in err
