"""The public Python API: `heraspec.validate/compile/run/apply/diff` stay functions."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import heraspec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_exported_members():
    assert set(heraspec.__all__) == {"Errors", "HeraspecError", "SpecError", "SpecInvalid", "UsageError",
                                     "validate", "compile", "run", "apply", "diff"}
    # importing the stage modules must not replace the API functions on the package
    for module in ("argo.applier", "argo.compiler", "local.runner", "document.values", "python.functions"):
        importlib.import_module(f"heraspec.{module}")

    for name in ("validate", "compile", "run", "apply", "diff"):
        assert inspect.isfunction(getattr(heraspec, name)), name


def test_validate_compile_and_run_from_python(tmp_path: Path):
    assert heraspec.validate([str(EXAMPLES / "diamond.yaml")]) == []
    errors = heraspec.validate([str(Path(__file__).parent / "fixtures" / "bad" / "cycle.yaml")])
    assert [e.message for e in errors] == ["dependency cycle: A >> B >> C >> A"]
    (compiled,) = heraspec.compile([str(EXAMPLES / "diamond.yaml")], namespace="ml")
    assert compiled.manifest["metadata"] == {"name": "parallel-diamonds", "namespace": "ml"}
    assert compiled.task_names == {"A": "A", "B": "B", "C": "C", "D": "D"}
    result = heraspec.run(str(EXAMPLES / "diamond.yaml"), workdir=str(tmp_path / "run"))
    assert result.phase == "Succeeded"
    assert result.tasks["D"].result == "This is task D!"


def test_compile_raises_with_every_problem():
    bad = Path(__file__).parent / "fixtures" / "bad" / "graph.yaml"
    try:
        heraspec.compile([str(bad)])
    except heraspec.SpecInvalid as exc:
        assert len(exc.errors) == 5
        assert str(exc).startswith(f"{bad}:5:24: error: unknown task 'X'")
    else:
        raise AssertionError("SpecInvalid not raised")
