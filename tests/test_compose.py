"""Pipelines that compose (issue 16), through the CLI: named results, container results, exit
handlers, templates by reference and sub-pipelines. Each spec is written in YAML and in TOML; both
compile to the same strict-valid Argo manifest and run (`heraspec run`) to the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]

STEPS = '''\
def train(lr: float = 0.1) -> dict:
    return {"best_lr": lr * 2, "metrics": {"accuracy": 0.93, "runs": [1, 2]}, "name": "m1"}


def show(x, y=None):
    print("showing", x)
    return {"x": x, "y": y}


def boom(x=None):
    raise SystemExit("boom: " + str(x))


def report(status: str, failures: str = "", name: str = "", duration: str = "") -> dict:
    return {"status": status, "failures": failures, "name": name, "duration": duration}
'''


def heraspec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "heraspec", *args], capture_output=True, text=True, cwd=cwd, env=env)


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "steps.py").write_text(STEPS)
    for name, text in files.items():
        (folder / name).write_text(text)


def compile_json(spec: Path, *extra: str) -> dict:
    proc = heraspec("compile", str(spec), "--format", "json", *extra, cwd=spec.parent)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)
    manifest = manifest[0] if isinstance(manifest, list) else manifest
    assert_argo_valid(manifest)
    return manifest


def run_json(spec: Path, *extra: str) -> tuple[int, dict, str]:
    workdir = spec.parent / f"run-{spec.suffix[1:]}-{len(list(spec.parent.glob('run-*')))}"
    proc = heraspec("run", str(spec), "--json", "--workdir", str(workdir), *extra, cwd=spec.parent)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def both(tmp_path: Path, yaml_text: str, toml_text: str, *extra: str, files: dict[str, str] | None = None):
    """Compile and run the YAML and TOML forms; they must agree. Returns (manifest, exit code, summary)."""
    write(tmp_path, {"spec.yaml": yaml_text, "spec.toml": toml_text, **(files or {})})
    ym, tm = compile_json(tmp_path / "spec.yaml", *extra), compile_json(tmp_path / "spec.toml", *extra)
    assert ym == tm
    yc, ys, _ = run_json(tmp_path / "spec.yaml", *extra)
    tc, ts, _ = run_json(tmp_path / "spec.toml", *extra)
    strip = lambda s: {k: (v["phase"], v["result"], v.get("outputs")) for k, v in s["tasks"].items()}  # noqa: E731
    assert (yc, ys["phase"], strip(ys)) == (tc, ts["phase"], strip(ts))
    return ym, yc, ys


def tasks_of(manifest: dict, template: str = "main") -> dict[str, dict]:
    tmpl = next(t for t in manifest["spec"]["templates"] if t["name"] == template)
    return {t["name"]: t for t in tmpl["dag"]["tasks"]}


def template(manifest: dict, name: str) -> dict:
    return next(t for t in manifest["spec"]["templates"] if t["name"] == name)


# --- named results ------------------------------------------------------------------------------

NAMED_YAML = '''\
name: named
tasks:
  train:
    function: steps:train
    outputs: {accuracy: metrics.accuracy}
  use:
    function: steps:show
    args: {x: {from: train, key: best_lr}, y: [{from: train, key: metrics.runs.1}, {from: train, key: name}]}
  gate:
    function: steps:show
    args: {x: passed}
    when: "{{tasks.train.outputs.parameters.accuracy}} > 0.9"
'''
NAMED_TOML = '''\
name = "named"
[tasks.train]
function = "steps:train"
outputs = {accuracy = "metrics.accuracy"}
[tasks.use]
function = "steps:show"
args = {x = {from = "train", key = "best_lr"}, y = [{from = "train", key = "metrics.runs.1"}, {from = "train", key = "name"}]}
[tasks.gate]
function = "steps:show"
args = {x = "passed"}
when = "{{tasks.train.outputs.parameters.accuracy}} > 0.9"
'''


def test_named_results_pass_fields_and_publish_outputs(tmp_path: Path):
    manifest, code, summary = both(tmp_path, NAMED_YAML, NAMED_TOML)
    dag = tasks_of(manifest)
    params = {p["name"]: p["value"] for p in dag["use"]["arguments"]["parameters"]}
    assert params == {"x": "{{tasks.train.outputs.parameters.best_lr}}",
                      "y": "[{{tasks.train.outputs.parameters.metrics-runs-1}},{{tasks.train.outputs.parameters.name}}]"}
    outs = {p["name"]: p["valueFrom"]["path"] for p in template(manifest, "train")["outputs"]["parameters"]}
    assert outs == {"result": "/tmp/heraspec/result.json", "accuracy": "/tmp/heraspec/outputs/accuracy",
                    "best_lr": "/tmp/heraspec/outputs/best_lr", "metrics-runs-1": "/tmp/heraspec/outputs/metrics-runs-1",
                    "name": "/tmp/heraspec/outputs/name"}
    assert code == 0 and summary["phase"] == "Succeeded"
    t = summary["tasks"]
    assert t["use"]["result"] == {"x": 0.2, "y": [2, "m1"]}
    assert t["train"]["outputs"] == {"accuracy": "0.93", "best_lr": "0.2", "metrics-runs-1": "2", "name": '"m1"'}
    assert t["gate"]["phase"] == "Succeeded" and t["gate"]["result"]["x"] == "passed"
    # the pod's script, run as Argo's executor would, writes each named output where the template says
    run_task(manifest, "train", tmp_path / "pod")
    written = tmp_path / "pod" / "out" / "tmp" / "heraspec" / "outputs"
    assert (written / "accuracy").read_text() == "0.93" and (written / "name").read_text() == '"m1"'


def test_a_missing_key_fails_the_producer_naming_the_keys_it_has(tmp_path: Path):
    yaml_text = "name: miss\ntasks:\n  train: {function: steps:train}\n" \
                "  use: {function: steps:show, args: {x: {from: train, key: metrics.f1}}}\n"
    toml_text = 'name = "miss"\n[tasks.train]\nfunction = "steps:train"\n' \
                '[tasks.use]\nfunction = "steps:show"\nargs = {x = {from = "train", key = "metrics.f1"}}\n'
    _m, code, summary = both(tmp_path, yaml_text, toml_text)
    assert code == 1 and summary["phase"] == "Failed"
    assert summary["tasks"]["train"]["phase"] == "Failed"
    assert "the result field metrics has no 'f1' (its keys: accuracy, runs)" in summary["tasks"]["train"]["message"]
    assert summary["tasks"]["use"]["phase"] == "Omitted"


def test_bad_keys_and_outputs_are_located_errors(tmp_path: Path):
    write(tmp_path, {"bad.yaml": '''\
name: bad
tasks:
  train: {function: steps:train}
  c: {image: alpine, command: [echo, hi], outputs: {a: b}}
  d: {function: steps:show, args: {x: {from: c, key: a}}}
  e: {function: steps:show, args: {x: {from: train, key: "a..b"}}}
  f: {function: steps:train, outputs: {result: a, "bad name": b}}
'''})
    proc = heraspec("validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert "bad.yaml:4:43: error: task 'c' has no function: only a function's result has named fields" in err
    assert "bad.yaml:5:54: error: task 'c' has no function, so its result has no keys" in err
    assert "bad.yaml:6:58: error: key 'a..b' is not a field path of a result" in err
    assert err.count("bad.yaml:7:") == 2


# --- container results --------------------------------------------------------------------------

CONTAINER_YAML = """\
name: stdout
tasks:
  hello:
    image: alpine
    command: [sh, -c]
    args: ['echo ''["a", "b"]''']
  word: {image: alpine, command: [echo, plain words]}
  fan:
    function: steps:show
    foreach: {from: hello}
    args: {x: {item: true}}
  whole: {function: steps:show, args: {x: {from: hello}, y: {from: word}}}
"""
CONTAINER_TOML = '''\
name = "stdout"
[tasks.hello]
image = "alpine"
command = ["sh", "-c"]
args = ["echo '[\\"a\\", \\"b\\"]'"]
[tasks.word]
image = "alpine"
command = ["echo", "plain words"]
[tasks.fan]
function = "steps:show"
foreach = {from = "hello"}
args = {x = {item = true}}
[tasks.whole]
function = "steps:show"
args = {x = {from = "hello"}, y = {from = "word"}}
'''


def test_container_stdout_is_its_result(tmp_path: Path):
    manifest, code, summary = both(tmp_path, CONTAINER_YAML, CONTAINER_TOML)
    dag = tasks_of(manifest)
    assert dag["fan"]["withParam"] == "{{tasks.hello.outputs.result}}"
    assert dag["whole"]["arguments"]["parameters"] == [{"name": "x", "value": "{{tasks.hello.outputs.result}}"},
                                                       {"name": "y", "value": "{{tasks.word.outputs.result}}"}]
    assert code == 0, summary
    t = summary["tasks"]
    assert t["hello"]["result"] == ["a", "b"] and t["word"]["result"] == "plain words"
    assert [c["result"]["x"] for c in t["fan"]["children"]] == ["a", "b"]
    assert t["whole"]["result"] == {"x": ["a", "b"], "y": "plain words"}
