"""Size limits of values are clear messages naming the limit and the way around it, at the task that
makes the value, under `heraspec run` and in the compiled pod run as Argo's executor runs it
(tests/argo_exec.py): a named output (`{from: T, key: K}`, `outputs:`) is an Argo parameter, which
reaches its consumer through one environment variable (Linux refuses one of 128 KiB or more)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import heraspec
from tests.argo_exec import run_dag
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

STEPS = '''\
def big() -> dict:
    return {"small": 1, "blob": "x" * 140_000}


def size(x) -> int:
    print("size ran")
    return len(x)
'''


@pytest.mark.parametrize("producer", [
    "{function: steps:big, result: artifact}",  # the key read by `use` is published
    "{function: steps:big, result: artifact, outputs: {blob: blob}}",  # named by the spec
])
def test_a_named_output_too_large_for_a_parameter_fails_its_producer_naming_the_way_around(
        producer: str, tmp_path: Path) -> None:
    # with `result: artifact` the whole result travels through the repository: only the field,
    # published as a parameter, is too large
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text(f"name: limits\ntasks:\n  mk: {producer}\n"
                    "  use: {function: steps:size, args: {x: {from: mk, key: blob}}}\n", encoding="utf-8")
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1
    tasks = json.loads(proc.stdout)["tasks"]
    message = "output 'blob' (key 'blob' of the result) is 140,002 bytes"
    assert tasks["mk"]["phase"] == "Failed" and message in tasks["mk"]["message"], tasks["mk"]
    assert "{from: TASK}" in tasks["mk"]["message"] and "130,048" in tasks["mk"]["message"]
    assert tasks.get("use", {}).get("phase") != "Succeeded"
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    with pytest.raises(AssertionError, match=re.escape(message)):
        run_dag(compiled.manifest, tmp_path / "argo")
