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


FAN_IN = '''\
def record(i: int) -> dict:
    return {"big": 2**63 + 5, "exact": 2**53 - 1, "one": 1.0, "i": i}


def echo(xs) -> list:
    return xs
'''


def test_fanned_in_mappings_pass_through_go_float64_as_argo_prints_them(tmp_path: Path) -> None:
    # aggregatedJSONValueList decodes each child's JSON into `any` (numbers float64) and json.Marshal
    # prints an integral float64 below 1e21 with strconv's shortest digits, 'f' format (encoding/json
    # floatEncoder): 2**63 + 5 becomes 9223372036854776000, not 9223372036854775808
    (tmp_path / "steps.py").write_text(FAN_IN, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: go-numbers\ntasks:\n  mk: {function: steps:record, foreach: [0, 1], args: {i: {item: true}}}\n"
                    "  all: {function: steps:echo, args: {xs: {from: mk}}}\n", encoding="utf-8")
    want = [{"big": 9223372036854776000, "exact": 2**53 - 1, "i": i, "one": 1} for i in (0, 1)]
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tasks"]["all"]["result"] == want
    (compiled,) = heraspec.compile([str(spec)])
    assert json.loads(run_dag(compiled.manifest, tmp_path / "argo")["all"]) == want
