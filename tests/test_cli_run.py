"""`heraspec run` from the command line, as README's first command uses it (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import heraspec

ROOT = Path(__file__).resolve().parents[1]


def test_run_example_json_summary(tmp_path: Path):
    proc = heraspec("run", str(ROOT / "examples" / "diamond.yaml"), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["phase"] == "Succeeded"
    assert {k: v["result"] for k, v in summary["tasks"].items()} == {
        "A": "This is task A!", "B": "This is task B!", "C": "This is task C!", "D": "This is task D!"}
    assert "images are not used locally" in proc.stderr
    assert (tmp_path / "run").is_dir()


def test_parameter_override_reaches_the_function(tmp_path: Path):
    spec = ROOT / "examples" / "ml-pipeline.yaml"
    proc = heraspec("run", str(spec), "-p", "n_points=50", "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["tasks"]["prepare"]["result"]
    assert len(data["train"]) + len(data["test"]) == 50


def test_invalid_spec_runs_nothing(tmp_path: Path):
    bad = ROOT / "tests" / "fixtures" / "bad" / "cycle.yaml"
    proc = heraspec("run", str(bad), cwd=tmp_path)
    assert proc.returncode == 1
    assert "dependency cycle: A >> B >> C >> A" in proc.stderr
    assert not (tmp_path / ".heraspec").exists()


def test_usage_errors_exit_2(tmp_path: Path):
    spec = str(ROOT / "examples" / "diamond.yaml")
    assert heraspec("run", spec, "-p", "novalue", cwd=tmp_path).returncode == 2
    assert heraspec("run", spec, "-p", "nosuch=1", cwd=tmp_path).returncode == 2
    assert heraspec("run", spec, "--parallelism", "0", cwd=tmp_path).returncode == 2
    assert not (tmp_path / ".heraspec").exists()
