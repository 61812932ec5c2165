"""Pipelines that compose (issue 16), through the CLI: named results, container results, exit
handlers, templates by reference and sub-pipelines. Each spec is written in YAML and in TOML; both
compile to the same strict-valid Argo manifest and run (`heraspec run`) to the same results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec

ROOT = Path(__file__).resolve().parents[1]

STEPS = '''\
def train(lr: float = 0.1) -> dict:
    return {"best_lr": lr * 2, "metrics": {"accuracy": 0.93, "runs": [1, 2]}, "name": "m1"}


def show(x, y=None):
    print("showing", x)
    return {"x": x, "y": y}


def boom(x=None):
    raise SystemExit("boom: " + str(x))


def report(status: str, failures=None, name: str = "", duration: float = 0.0) -> dict:
    return {"status": status, "failures": failures, "name": name, "duration": duration}


def log(path: str, what=""):
    with open(path, "a") as f:
        f.write(what + "\\n")
    return what
'''


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


def compile_and_run(folder: Path, spec: str, steps: str) -> tuple[int, dict]:
    """`spec` beside a `steps.py` of `steps`, compiled (strict-valid) and run: (exit code, --json summary)."""
    (folder / "steps.py").write_text(steps)
    path = folder / "spec.yaml"
    path.write_text(spec)
    compile_json(path)
    code, data, _ = run_json(path)
    return code, data


def phases(data: dict) -> dict[str, str]:
    """Each task's phase in a `--json` summary."""
    return {name: t["phase"] for name, t in data["tasks"].items()}


def both(tmp_path: Path, yaml_text: str, toml_text: str, *extra: str, files: dict[str, str] | None = None):
    """Compile and run the YAML and TOML forms; they must agree. Returns (manifest, exit code, summary)."""
    write(tmp_path, {"spec.yaml": yaml_text, "spec.toml": toml_text, **(files or {})})
    ym, tm = compile_json(tmp_path / "spec.yaml", *extra), compile_json(tmp_path / "spec.toml", *extra)
    assert ym == tm
    yc, ys, _ = run_json(tmp_path / "spec.yaml", *extra)
    tc, ts, _ = run_json(tmp_path / "spec.toml", *extra)
    # the exit handler's values (times, durations) differ from run to run
    strip = lambda s: {k: (v["phase"], v["result"] if k != "onExit" else None, v.get("outputs"))  # noqa: E731
                       for k, v in s["tasks"].items()}
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
    # a raw expression naming an output the function task does not publish: Argo would refuse it
    write(tmp_path, {"raw.yaml": "name: raw\ntasks:\n  train: {function: steps:train, outputs: {accuracy: metrics.accuracy}}\n"
                                 "  gate:\n    function: steps:show\n    args: {x: '{{tasks.train.outputs.parameters.acuracy}}'}\n"
                                 "    when: '{{tasks.train.outputs.parameters.accuracy}} > 0.9'\n"})
    proc = heraspec("validate", "raw.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.splitlines()[:2] == [
        "raw.yaml:6:49: error: task 'train' has no output parameter 'acuracy'",
        "  hint: its outputs: result, accuracy (name more with outputs: {NAME: key.path})"]


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


# --- exit handlers ------------------------------------------------------------------------------

EXIT_YAML = """\
name: exits
parameters: {log: LOG}
on_exit:
  function: steps:report
  args: {status: {workflow: status}, failures: {workflow: failures}, name: {workflow: name}, duration: {workflow: duration}}
tasks:
  train:
    function: steps:log
    args: {path: {param: log}, what: train}
    on_exit: {function: steps:log, args: {path: {param: log}, what: {from: train}}}
  bad: {function: steps:boom, after: [train]}
  after_bad: {function: steps:log, args: {path: {param: log}, what: never}, after: [bad]}
"""
EXIT_TOML = """\
name = "exits"
parameters = {log = "LOG"}
[on_exit]
function = "steps:report"
args = {status = {workflow = "status"}, failures = {workflow = "failures"}, name = {workflow = "name"}, duration = {workflow = "duration"}}
[tasks.train]
function = "steps:log"
args = {path = {param = "log"}, what = "train"}
on_exit = {function = "steps:log", args = {path = {param = "log"}, what = {from = "train"}}}
[tasks.bad]
function = "steps:boom"
after = ["train"]
[tasks.after_bad]
function = "steps:log"
args = {path = {param = "log"}, what = "never"}
after = ["bad"]
"""


def test_exit_handlers_run_and_see_failed_and_the_failures_list(tmp_path: Path):
    log = tmp_path / "order.log"
    yaml_text, toml_text = EXIT_YAML.replace("LOG", str(log)), EXIT_TOML.replace("LOG", str(log))
    manifest, code, summary = both(tmp_path, yaml_text, toml_text)
    spec = manifest["spec"]
    assert spec["onExit"] == "exit-handler"
    call = tasks_of(manifest, "exit-handler")["on-exit"]
    assert {p["name"]: p["value"] for p in call["arguments"]["parameters"]} == {
        "status": "{{workflow.status}}", "failures": "{{workflow.failures}}", "name": "{{workflow.name}}",
        "duration": "{{workflow.duration}}"}
    hook = tasks_of(manifest)["train"]["hooks"]["exit"]
    assert hook["template"] == "log" and {"name": "what", "value": "{{tasks.train.outputs.parameters.result}}"} \
        in hook["arguments"]["parameters"]
    assert code == 1 and summary["phase"] == "Failed"
    t = summary["tasks"]
    assert t["train.onExit"]["phase"] == "Succeeded" and t["train.onExit"]["result"] == "train"
    assert t["after_bad"]["phase"] == "Omitted"
    report = t["onExit"]["result"]
    assert t["onExit"]["phase"] == "Succeeded" and report["status"] == "Failed" and report["name"] == "exits"
    assert isinstance(report["duration"], float) and report["duration"] >= 0
    # Argo's value: strconv.Quote of the JSON list, so the function gets a JSON string holding the list
    assert isinstance(report["failures"], str)
    failures = json.loads(report["failures"])
    assert [f["displayName"] for f in failures] == ["exits", "bad"]
    bad = failures[1]
    assert list(bad) == ["displayName", "message", "templateName", "phase", "podName", "finishedAt"]
    assert bad["templateName"] == "boom" and bad["phase"] == "Failed" and bad["message"] == "main: Error (exit code 1)"
    assert bad["podName"].startswith("exits-boom-") and bad["finishedAt"].endswith("Z")
    assert failures[0]["templateName"] == "main" and failures[0]["podName"] == "exits"
    # the task's hook ran when it ended, before its dependent started (both runs: YAML then TOML)
    assert log.read_text().splitlines() == ["train", "train", "train", "train"]


def test_exit_handler_of_a_successful_run_and_a_failing_handler(tmp_path: Path):
    write(tmp_path, {"ok.yaml": "name: ok\non_exit: {function: steps:report, args: {status: {workflow: status}, "
                                "failures: {workflow: failures}}}\ntasks:\n  a: {function: steps:show, args: {x: 1}}\n",
                     "fails.yaml": "name: fails\non_exit: {image: alpine, command: [sh, -c, 'exit 3']}\n"
                                   "tasks:\n  a: {function: steps:show, args: {x: 1}}\n"})
    compile_json(tmp_path / "ok.yaml")
    code, summary, _ = run_json(tmp_path / "ok.yaml")
    assert code == 0 and summary["tasks"]["onExit"]["result"]["status"] == "Succeeded"
    assert summary["tasks"]["onExit"]["result"]["failures"] == "null"  # Go marshals no failures as null
    # a task that cannot start ends in Error, and so does the workflow as its handler sees it
    (tmp_path / "error.yaml").write_text("name: error\non_exit: {function: steps:report, args: {status: {workflow: status}}}\n"
                                         "tasks:\n  a: {image: alpine, command: [no-such-command-heraspec]}\n")
    code, summary, _ = run_json(tmp_path / "error.yaml")
    assert code == 1 and summary["tasks"]["a"]["phase"] == "Error"
    assert summary["tasks"]["onExit"]["result"]["status"] == "Error"
    compile_json(tmp_path / "fails.yaml")
    code, summary, _ = run_json(tmp_path / "fails.yaml")
    assert code == 1 and summary["phase"] == "Failed" and summary["tasks"]["a"]["phase"] == "Succeeded"
    assert summary["tasks"]["onExit"]["phase"] == "Failed"


def test_exit_handler_references_are_located_errors(tmp_path: Path):
    write(tmp_path, {"bad.yaml": """\
name: bad
on_exit: {function: steps:show, args: {x: {from: a}, y: {workflow: bogus}}}
tasks:
  a:
    function: steps:show
    args: {x: 1}
    on_exit: {function: steps:show, args: {x: {from: b}, y: {workflow: status}}}
  b: {function: steps:show, args: {x: {from: a}}, on_exit: {function: steps:show, args: {x: {from: nope}}}}
  c: {function: steps:show, args: {x: {workflow: failures}}, on_exit: {function: steps:show, args: {z: 1}}}
"""})
    proc = heraspec("validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert "bad.yaml:2:50: error: the workflow's on_exit runs outside the DAG: task results are not in scope" in err
    assert "bad.yaml:2:68: error: unknown workflow value 'bogus'" in err
    assert "bad.yaml:7:54: error: task 'b' may not have ended when 'a' ends" in err
    assert "bad.yaml:7:72: error: {workflow: status} is set for the workflow's exit handler only" in err
    assert "bad.yaml:8:100: error: unknown task 'nope'" in err
    assert "bad.yaml:9:50: error: {workflow: failures} is set for the workflow's exit handler only" in err
    assert "bad.yaml:9:101: error: show() has no parameter 'z'" in err


# --- templates by reference ---------------------------------------------------------------------

SHARED = """\
kind: WorkflowTemplate
name: shared-steps
parameters: {lr: 0.5}
tasks:
  train: {function: steps:train, args: {lr: {param: lr}}}
  show: {function: steps:show, args: {x: {from: train, key: best_lr}}}
"""
REF_YAML = """\
name: use
parameters: {lr: 3}
tasks:
  a:
    template_ref: {name: shared-steps, template: show}
    args: {x: hello, y: [1, 2]}
  whole: {template_ref: {name: shared-steps, template: main}}
  c: {function: steps:show, args: {x: {from: a}}}
"""
REF_TOML = """\
name = "use"
parameters = {lr = 3}
[tasks.a]
template_ref = {name = "shared-steps", template = "show"}
args = {x = "hello", y = [1, 2]}
[tasks.whole]
template_ref = {name = "shared-steps", template = "main"}
[tasks.c]
function = "steps:show"
args = {x = {from = "a"}}
"""


def test_template_ref_compiles_and_runs_from_templates(tmp_path: Path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "steps.py").write_text(STEPS)
    (tmp_path / "lib" / "shared.yaml").write_text(SHARED)
    (tmp_path / "lib" / "notes.yaml").write_text("just: some other YAML\n")  # a folder may hold other files
    manifest, code, summary = both(tmp_path, REF_YAML, REF_TOML, "--templates", str(tmp_path / "lib"))
    dag = tasks_of(manifest)
    assert dag["a"]["templateRef"] == {"name": "shared-steps", "template": "show"}
    assert dag["a"]["arguments"]["parameters"] == [{"name": "x", "value": "hello"}, {"name": "y", "value": "[1,2]"}]
    assert "template" not in dag["a"] and [t["name"] for t in manifest["spec"]["templates"]] == ["main", "show"]
    assert code == 0, summary
    t = summary["tasks"]
    assert t["a"]["result"] == {"x": "hello", "y": [1, 2]} and t["c"]["result"]["x"] == {"x": "hello", "y": [1, 2]}
    # the whole WorkflowTemplate DAG, reading the calling workflow's parameter lr (as Argo does)
    assert [(c["name"], c["result"]["x"] if c["name"].endswith("show") else c["result"]["best_lr"])
            for c in t["whole"]["children"]] == [("whole.train", 6), ("whole.show", 6)]
    # the WorkflowTemplate itself compiles strict-valid, and a spec file works as --templates too
    compile_json(tmp_path / "lib" / "shared.yaml")
    assert run_json(tmp_path / "spec.yaml", "--templates", str(tmp_path / "lib" / "shared.yaml"))[0] == 0


def test_template_ref_unknown_locally_is_an_error_before_anything_runs(tmp_path: Path):
    write(tmp_path, {"spec.yaml": REF_YAML})
    assert heraspec("validate", "spec.yaml", cwd=tmp_path).returncode == 0  # unknown here: Argo checks it
    proc = heraspec("run", "spec.yaml", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1
    assert ("template 'main', task 'a': WorkflowTemplate 'shared-steps' is not available locally: "
            "give --templates PATH") in proc.stderr
    assert not (tmp_path / "run").exists()


def test_template_ref_args_are_checked_against_the_known_template(tmp_path: Path):
    write(tmp_path, {"shared.yaml": SHARED, "bad.yaml": """\
name: bad
tasks:
  a: {template_ref: {name: shared-steps, template: shw}}
  b:
    template_ref: {name: shared-steps, template: show}
    args: {z: 1}
  c: {template_ref: {name: shared-steps, template: main}}
  d: {template_ref: {name: shared-steps, template: show, cluster: true}, args: {x: 1}}
  e: {function: steps:show, args: {x: {from: c}}}
"""})
    proc = heraspec("validate", "bad.yaml", "shared.yaml", cwd=tmp_path)  # known: validated together
    assert proc.returncode == 1
    err = proc.stderr
    assert "bad.yaml:3:52: error: WorkflowTemplate 'shared-steps' has no template 'shw'\n  hint: did you mean 'show'?" in err
    assert "bad.yaml:6:11: error: template 'show' of WorkflowTemplate 'shared-steps' needs input 'x'" in err
    assert "bad.yaml:6:12: error: template 'show' of WorkflowTemplate 'shared-steps' has no input 'z'" in err
    assert ("bad.yaml:7:52: error: template 'main' of WorkflowTemplate 'shared-steps' reads workflow parameter 'lr', "
            "which this spec does not declare") in err
    assert "bad.yaml:9:46: error: template 'main' of WorkflowTemplate 'shared-steps' has no output parameter 'result'" in err
    assert err.endswith("5 errors\n")  # d names a ClusterWorkflowTemplate nobody defines: not checked
    again = heraspec("validate", "bad.yaml", "--templates", "shared.yaml", cwd=tmp_path)  # known: --templates
    assert again.stderr == err
    (tmp_path / "wf.yaml").write_text("name: wf\ntasks:\n  a: {function: steps:show, args: {x: 1}}\n")
    proc = heraspec("validate", "shared.yaml", "--templates", "wf.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "wf.yaml:1:1: error: --templates wf.yaml: not a WorkflowTemplate" in proc.stderr


def test_two_specs_defining_one_workflow_template_name_are_refused_naming_both(tmp_path: Path, argo, capsys,
                                                                              monkeypatch):
    """validate and run would use the first, apply would send both: a located error naming both files."""
    from tests.argo_server import TOKEN
    from tests.cli import in_process

    other = SHARED.replace("steps:show, args", "steps:log, args").replace("{x: {from: train, key: best_lr}}",
                                                                         "{path: out.txt}")
    write(tmp_path, {"shared.yaml": SHARED, "lib.yaml": "# another copy\n" + other, "spec.yaml": REF_YAML})
    proc = heraspec("validate", "spec.yaml", "shared.yaml", "lib.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lib.yaml:3:7: error: WorkflowTemplate 'shared-steps' is defined twice: "
                                  "in shared.yaml:2:7 and in lib.yaml\n  hint: rename one"), proc.stderr
    proc = heraspec("validate", "spec.yaml", "--templates", "shared.yaml", "--templates", "lib.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "lib.yaml:3:7: error: WorkflowTemplate 'shared-steps' is defined twice" in proc.stderr
    proc = heraspec("run", "spec.yaml", "--templates", "shared.yaml", "--templates", "lib.yaml",
                    "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1 and "is defined twice" in proc.stderr and not (tmp_path / "run").exists()
    monkeypatch.chdir(tmp_path)
    code, out, err = in_process(capsys, "apply", "shared.yaml", "lib.yaml", "--server", argo.server, "--plaintext",
                                "--token", TOKEN)
    assert code == 1 and "lib.yaml:3:7: error: WorkflowTemplate 'shared-steps' is defined twice" in err
    assert argo.state.requests == []  # nothing sent
    # a ClusterWorkflowTemplate of the same name is another object: no clash
    (tmp_path / "lib.yaml").write_text("kind: ClusterWorkflowTemplate\n" + other.split("\n", 1)[1])
    assert heraspec("validate", "spec.yaml", "shared.yaml", "lib.yaml", cwd=tmp_path).returncode == 0


LOOP = """\
kind: WorkflowTemplate
name: loop
tasks:
  again: {template_ref: {name: loop, template: main}, when: "1 == 1"}
"""


def test_a_workflow_template_calling_itself_stops_100_templates_deep_with_argos_error(tmp_path: Path):
    """Argo's controller marks the template at stack depth 100 Error (operator.go executeTemplate,
    maxAllowedStackDepth); the local run did not stop until Python's own RecursionError."""
    write(tmp_path, {"loop.yaml": LOOP, "use.yaml": "name: use\ntasks:\n  go: {template_ref: {name: loop, template: main}}\n"})
    proc = heraspec("run", "use.yaml", "--templates", "loop.yaml", "--json", "--workdir", str(tmp_path / "run"),
                    cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    node, depth = summary["tasks"]["go"], 2  # the entrypoint is depth 1, the task `go` 2
    while node.get("children"):  # dag.go assessDAGPhase: each DAG takes its target branch's Error
        assert node["phase"] == "Error", node["name"]
        (node,) = node["children"]
        depth += 1
    assert (depth, node["phase"]) == (100, "Error")
    assert node["message"] == ("Maximum recursion depth exceeded. See "
                               "https://argo-workflows.readthedocs.io/en/release-4.1/scaling/#maximum-recursion-depth")
    assert summary["phase"] == "Error"  # the entrypoint DAG's target branch ended in Error


def test_a_workflow_template_calling_itself_unconditionally_is_refused_at_validate(tmp_path: Path):
    direct = LOOP.replace(', when: "1 == 1"', "")
    ping = ("kind: WorkflowTemplate\nname: ping\ntasks:\n  first: {function: steps:show, args: {x: 1}}\n"
            "  pong: {template_ref: {name: pong, template: main}, after: [first]}\n")
    pong = "kind: WorkflowTemplate\nname: pong\ntasks:\n  ping: {template_ref: {name: ping, template: main}}\n"
    write(tmp_path, {"loop.yaml": direct, "ping.yaml": ping, "pong.yaml": pong})
    proc = heraspec("validate", "loop.yaml", "ping.yaml", "pong.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == (
        "loop.yaml:4:25: error: WorkflowTemplate 'loop' calls itself with no end: loop/main -> loop/main; "
        "Argo stops it 100 templates deep (Maximum recursion depth exceeded)\n"
        "  hint: make the call conditional (when: ...) so the recursion can end\n"
        "ping.yaml:5:24: error: WorkflowTemplate 'ping' calls itself with no end: ping/main -> pong/main -> ping/main; "
        "Argo stops it 100 templates deep (Maximum recursion depth exceeded)\n"
        "  hint: make the call conditional (when: ...) so the recursion can end\n"
        "pong.yaml:4:24: error: WorkflowTemplate 'pong' calls itself with no end: pong/main -> ping/main -> pong/main; "
        "Argo stops it 100 templates deep (Maximum recursion depth exceeded)\n"
        "  hint: make the call conditional (when: ...) so the recursion can end\n"
        "3 errors\n")
    # the same when the templates come with --templates
    (tmp_path / "use.yaml").write_text("name: use\ntasks:\n  go: {template_ref: {name: loop, template: main}}\n")
    proc = heraspec("validate", "use.yaml", "--templates", "loop.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.startswith("loop.yaml:4:25: error: WorkflowTemplate 'loop' calls itself")
    # a recursion that a `when` can end is Argo's documented pattern (examples/recursive-for-loop.yaml): accepted
    (tmp_path / "ping.yaml").write_text(ping.replace("after: [first]", "after: [first], when: '{{tasks.first.outputs.result}} == 2'"))
    (tmp_path / "loop.yaml").write_text(LOOP)
    proc = heraspec("validate", "loop.yaml", "ping.yaml", "pong.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_workflow_template_ref_submits_a_workflow_template(tmp_path: Path):
    yaml_text = "name: sub\nparameters: {lr: 2}\nworkflow_template_ref: {name: shared-steps}\n"
    toml_text = 'name = "sub"\nparameters = {lr = 2}\nworkflow_template_ref = {name = "shared-steps"}\n'
    manifest, code, summary = both(tmp_path, yaml_text, toml_text, "--templates", "shared.yaml",
                                   files={"shared.yaml": SHARED})
    assert manifest["spec"] == {"arguments": {"parameters": [{"name": "lr", "value": "2"}]},
                                "workflowTemplateRef": {"name": "shared-steps"}}
    assert code == 0 and summary["tasks"]["show"]["result"]["x"] == 4.0
    proc = heraspec("run", "spec.yaml", "--workdir", str(tmp_path / "r"), "-p", "lr=5", "--json",
                    "--templates", "shared.yaml", cwd=tmp_path)
    assert json.loads(proc.stdout)["tasks"]["show"]["result"]["x"] == 10.0


# --- sub-pipelines ------------------------------------------------------------------------------

PREP_YAML = """\
name: prep
parameters: {lr: 0.5}
result: use
tasks:
  train: {function: steps:train, args: {lr: {param: lr}}}
  use: {function: steps:show, args: {x: {from: train, key: best_lr}}}
"""
PREP_TOML = """\
name = "prep"
parameters = {lr = 0.5}
result = "use"
[tasks.train]
function = "steps:train"
args = {lr = {param = "lr"}}
[tasks.use]
function = "steps:show"
args = {x = {from = "train", key = "best_lr"}}
"""
TOP_YAML = """\
name: top
tasks:
  first: {pipeline: prep.heraspec.yaml, args: {lr: 4}}
  again: {pipeline: prep.heraspec.yaml}
  show: {function: steps:show, args: {x: {from: first}, y: {from: again}}}
  train: {function: steps:train}
"""
TOP_TOML = """\
name = "top"
[tasks.first]
pipeline = "prep.heraspec.toml"
args = {lr = 4}
[tasks.again]
pipeline = "prep.heraspec.toml"
[tasks.show]
function = "steps:show"
args = {x = {from = "first"}, y = {from = "again"}}
[tasks.train]
function = "steps:train"
"""


def test_sub_pipelines_run_as_nested_dags(tmp_path: Path):
    manifest, code, summary = both(tmp_path, TOP_YAML, TOP_TOML,
                                   files={"prep.heraspec.yaml": PREP_YAML, "prep.heraspec.toml": PREP_TOML})
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert len(names) == len(set(names)) and "prep" in names  # carried templates never collide
    dag = tasks_of(manifest)
    assert dag["first"] == {"name": "first", "template": "prep", "arguments": {"parameters": [{"name": "lr", "value": "4"}]}}
    prep = template(manifest, "prep")
    assert prep["inputs"] == {"parameters": [{"name": "lr", "default": "0.5"}]}
    assert prep["outputs"]["parameters"] == [{"name": "result", "valueFrom": {"parameter": "{{tasks.use.outputs.parameters.result}}"}}]
    assert tasks_of(manifest, "prep")["train"]["arguments"]["parameters"] == [{"name": "lr", "value": "{{inputs.parameters.lr}}"}]
    assert code == 0, summary
    t = summary["tasks"]
    assert [c["name"] for c in t["first"]["children"]] == ["first.train", "first.use"]
    assert t["show"]["result"] == {"x": {"x": 8.0, "y": None}, "y": {"x": 1.0, "y": None}}
    graph = heraspec("graph", "spec.yaml", cwd=tmp_path)
    assert graph.returncode == 0, graph.stderr
    assert 'subgraph first ["first: prep.heraspec.yaml"]\n        t_first_train["train"]' in graph.stdout
    assert "    first --> show\n" in graph.stdout
    dot = heraspec("graph", "spec.yaml", "--format", "dot", cwd=tmp_path).stdout
    assert 'subgraph "cluster_first" {' in dot and '"first.use" -> "show" [ltail="cluster_first"];' in dot


def test_sub_pipeline_problems_are_located_errors(tmp_path: Path):
    write(tmp_path, {
        "a.yaml": "name: a\ntasks:\n  x: {pipeline: b.yaml}\n  y: {pipeline: missing.yaml}\n"
                  "  z: {pipeline: noresult.yaml, args: {nope: 1}}\n  w: {function: steps:show, args: {x: {from: z}}}\n",
        "b.yaml": "name: b\nresult: nosuch\non_exit: {function: steps:show, args: {x: 1}}\n"
                  "tasks:\n  back: {pipeline: a.yaml}\n  s: {function: steps:show, args: {x: 1}}\n",
        "noresult.yaml": "name: noresult\nparameters: {p: 1}\ntasks:\n  s: {function: steps:show, args: {x: {param: p}}}\n"})
    proc = heraspec("validate", "a.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "a.yaml:4:17: error: pipeline file 'missing.yaml' not found",
        f"  hint: looked for {tmp_path / 'missing.yaml'}",
        "a.yaml:5:39: error: pipeline noresult.yaml has no parameter 'nope'",
        "  hint: known parameters: p",
        "a.yaml:6:46: error: pipeline noresult.yaml names no result",
        "  hint: add `result: TASK` to that spec (the task whose result it returns)",
        "b.yaml:2:9: error: result names no task: 'nosuch'",
        "  hint: known tasks: back, s",
        "b.yaml:3:1: error: 'on_exit' belongs to a whole workflow: it is not carried when a spec runs as a "
        "sub-pipeline (task 'x' of a.yaml)",
        "b.yaml:5:20: error: pipeline cycle: a.yaml >> b.yaml >> a.yaml",
        "  hint: a spec cannot run itself, even through others",
        "6 errors"]


def chain(folder: Path, n: int) -> None:
    """p0.yaml runs p1.yaml as a sub-pipeline, ..., p{n-1}.yaml runs a function."""
    files = {f"p{i}.yaml": f"name: p{i}\ntasks:\n  sub: {{pipeline: p{i + 1}.yaml}}\n" for i in range(n - 1)}
    files[f"p{n - 1}.yaml"] = f"name: p{n - 1}\nresult: a\ntasks:\n  a: {{function: steps:show, args: {{x: 1}}}}\n"
    write(folder, files)


@pytest.mark.slow
def test_sub_pipelines_nested_past_argos_depth_are_a_located_error(tmp_path: Path):
    """400 nested sub-pipelines validated, then compile ended in a RecursionError; Argo would stop
    their tasks 100 templates deep (maxAllowedStackDepth) anyway."""
    chain(tmp_path, 400)
    for verb in ("validate", "compile", "run"):
        proc = heraspec(verb, "p0.yaml", cwd=tmp_path)
        assert proc.returncode == 1 and "internal error" not in proc.stderr, proc.stderr
        assert proc.stderr == (
            "p97.yaml:3:19: error: sub-pipelines nested 98 deep: the tasks of 'p98.yaml' would run 100 templates "
            "deep, and Argo stops at 100 (Maximum recursion depth exceeded)\n"
            "  hint: run more tasks in one spec instead of nesting further\n1 error\n")
    # one level less: the deepest task runs 99 templates deep, as on Argo
    deep = tmp_path / "ok"
    chain(deep, 98)
    manifest = compile_json(deep / "p0.yaml")
    assert len(manifest["spec"]["templates"]) == 1 + 97 + 1
    code, summary, _ = run_json(deep / "p0.yaml")
    node, depth = summary["tasks"]["sub"], 2
    while node.get("children"):
        (node,) = node["children"]
        depth += 1
    assert (code, summary["phase"], node["phase"], depth) == (0, "Succeeded", "Succeeded", 99)


# --- the same DAG tasks as Hera builds ----------------------------------------------------------


def test_hera_builds_the_same_tasks_for_each_family(tmp_path: Path):
    """templateRef, a container's result fanned out, a named result: the DAG tasks heraspec emits
    equal those Hera's Python form builds (tests/test_hera_equivalence.py does the same for the seed)."""
    hera = pytest.importorskip("hera.workflows", reason="Hera is a test extra: pip install -e '.[test]'")
    from hera.workflows import models as m

    train = hera.Script(name="train", source="pass", image="python:3.12", command=["python"],
                        outputs=[hera.Parameter(name="best_lr", value_from=m.ValueFrom(path="/tmp/heraspec/outputs/best_lr"))])
    generate = hera.Container(name="generate", image="alpine", command=["sh", "-c"], args=["echo '[1, 2]'"])
    with hera.Workflow(generate_name="families-", entrypoint="main") as w:
        with hera.DAG(name="main"):
            hera.Task(name="a", template_ref=m.TemplateRef(name="shared-steps", template="show"), arguments={"x": "hello"})
            g = generate()
            g >> hera.Task(name="fan", template="show", arguments={"x": "{{item}}"}, with_param=g.result)
            t = train()
            t >> hera.Task(name="use", template="show", arguments={"x": t.get_parameter("best_lr")})
    theirs = {t["name"]: t for t in w.to_dict()["spec"]["templates"][0]["dag"]["tasks"]}
    write(tmp_path, {"spec.yaml": """\
generate_name: families-
tasks:
  a: {template_ref: {name: shared-steps, template: show}, args: {x: hello}}
  generate: {image: alpine, command: [sh, -c], args: ["echo '[1, 2]'"]}
  fan: {function: steps:show, foreach: {from: generate}, args: {x: {item: true}}}
  train: {function: steps:train}
  use: {function: steps:show, args: {x: {from: train, key: best_lr}}}
"""})
    ours = tasks_of(compile_json(tmp_path / "spec.yaml"))
    assert ours["a"] == theirs["a"] and ours["use"] == theirs["use"] and ours["fan"] == theirs["fan"]
