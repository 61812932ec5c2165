"""The benchmark script works: its case builders make valid inputs, and a --quick run produces tables.

Timings are not asserted here (benchmarks/run.py is a report, not a test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import heraspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cases  # noqa: E402


def test_generated_specs_compile(tmp_path: Path) -> None:
    for shape in ("chain", "fanin"):
        spec, _hera = cases.write_dag_case(tmp_path, shape, 5)
        (compiled,) = heraspec.compile([str(spec)])
        tasks = compiled.manifest["spec"]["templates"][0]["dag"]["tasks"]
        assert len(tasks) == (5 if shape == "chain" else 6)
        if shape == "chain":
            assert tasks[3]["depends"] == "t2"
        else:
            assert tasks[-1]["depends"] == " && ".join(f"t{k}" for k in range(5))
    (tmp_path / "run.yaml").write_text(cases.independent_spec(3))
    (tmp_path / "tmpl.yaml").write_text(cases.template_spec(1))
    assert heraspec.validate([str(tmp_path / "run.yaml"), str(tmp_path / "tmpl.yaml")]) == []


@pytest.mark.slow
def test_quick_run_produces_tables() -> None:
    pytest.importorskip("hera")  # the comparison needs Hera (the test and bench extras install it)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--no-write"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for title in ("## Targets", "## 1. Cold start", "## 2. Compile", "## 3. Local run", "## 4. Apply",
                  "## 5. Cached rerun", "## 6. Largest DAG"):
        assert title in out
    assert "| heraspec validate examples/diamond.yaml |" in out
    assert "failed:" not in out, out


def test_the_fit_search_finds_the_last_size_under_the_limit_where_bytes_per_task_change() -> None:
    import run

    def size(n: int) -> int:  # bytes per task grow with the digits of the task's number, as names do
        return 500 + sum(100 + len(str(k)) for k in range(n))

    calls: list[int] = []
    for limit in (1_000, 50_000, 1_048_576):
        n, here, after = run.largest_fit(lambda k: calls.append(k) or size(k), limit, 10, 20)
        assert here == size(n) <= limit < size(n + 1) == after
    assert len(calls) < 30


def test_stored_bytes_count_json_as_go_writes_it(tmp_path: Path) -> None:
    import run

    (tmp_path / "m.json").write_text('{\n  "a": "x < y && z"\n}', encoding="utf-8")
    assert run.stored_bytes(tmp_path / "m.json") == len('{"a":"x \\u003c y \\u0026\\u0026 z"}')


def test_a_run_over_its_time_limit_is_stopped_and_reported(tmp_path: Path) -> None:
    # Hera's 100,000-task fan-in takes over an hour: the benchmark stops it and says so
    import run

    elapsed, _rss, _size, error = run.run_once([sys.executable, "-c", "import time; time.sleep(60)"],
                                              cwd=tmp_path, env=run.child_env(), timeout=1.0)
    assert elapsed < 30
    assert error.startswith("stopped after 1 s (peak RSS by then ")
    _t, _r, _s, error = run.run_once([sys.executable, "-c", "pass"], cwd=tmp_path, env=run.child_env(), timeout=30)
    assert error == ""
