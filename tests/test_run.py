"""heraspec.local.runner executes compiled manifests locally: real subprocesses and files, no mocks.

Manifests are written by hand here following the compiled-manifest contract (docs/DESIGN.md) and
checked against Argo's strict schema, so they are ones Argo would accept.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from heraspec.errors import UsageError
from heraspec.cli.local_run import run_manifest
from heraspec.local.runner import RunError, RunResult, run_workflow
from tests.argo_schema import assert_argo_valid

RESULT_PATH = "/tmp/heraspec/result.json"
# What a compiled heraspec script does around the user's function (contract: inputs from env vars,
# the return value at HERASPEC_RESULT_PATH, falling back to the declared path: a str as its own
# text, anything else as JSON).
PRELUDE = '''\
import json, os, sys, time
def arg(name):
    raw = os.environ["HERASPEC_IN_" + name]
    try:
        return json.loads(raw)
    except ValueError:
        return raw
def ret(value):
    path = os.environ.get("HERASPEC_RESULT_PATH", "/tmp/heraspec/result.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value))
'''


def py(name: str, body: str, inputs: tuple[str, ...] = (), **extra: Any) -> dict:
    """A heraspec-style script template running ``body`` after PRELUDE."""
    env = [{"name": f"HERASPEC_IN_{p}", "value": "{{inputs.parameters.%s}}" % p} for p in inputs]
    env += extra.pop("env", [])
    t: dict = {"name": name,
               "outputs": {"parameters": [{"name": "result", "valueFrom": {"path": RESULT_PATH}}]},
               "script": {"image": "python:3.12", "command": ["python"], "source": PRELUDE + body}}
    if inputs:
        t["inputs"] = {"parameters": [{"name": p} for p in inputs]}
    if env:
        t["script"]["env"] = env
    t.update(extra)
    return t


def task(name: str, template: str, depends: str | None = None, /, **args: str) -> dict:
    t: dict = {"name": name, "template": template}
    if depends:
        t["depends"] = depends
    if args:
        t["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in args.items()]}
    return t


def workflow(tasks: list[dict], templates: list[dict], params: dict[str, str] | None = None,
             kind: str = "Workflow", **spec: Any) -> dict:
    body = {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates], **spec}
    if params:
        body["arguments"] = {"parameters": [{"name": k, "value": v} for k, v in params.items()]}
    m: dict = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind}
    if kind == "CronWorkflow":
        m["metadata"] = {"name": "test-cron"}
        m["spec"] = {"schedules": ["0 * * * *"], "workflowSpec": body}
    elif kind == "Workflow":
        m["metadata"], m["spec"] = {"generateName": "test-"}, body
    else:
        m["metadata"], m["spec"] = {"name": "test-template"}, body
    assert_argo_valid(m)
    return m


def run(m: dict, tmp_path: Path, **kw: Any) -> RunResult:
    return run_workflow(m, workdir=tmp_path / "run", **kw)


def ref(task_name: str) -> str:
    return "{{tasks.%s.outputs.parameters.result}}" % task_name


STAMP = "import time\nstart = time.time()\ntime.sleep(0.5)\nret({'start': start, 'end': time.time()})\n"


# --- the DAG ----------------------------------------------------------------------------------

def test_diamond_results_and_order(tmp_path: Path) -> None:
    m = workflow(
        [task("a", "one"), task("b", "add", "a", x=ref("a"), y="1"), task("c", "mul", "a", x=ref("a"), y="10"),
         task("d", "add", "b && c", x=ref("b"), y=ref("c"))],
        [py("one", "ret(1)"), py("add", "ret(arg('x') + arg('y'))", ("x", "y")),
         py("mul", "ret(arg('x') * arg('y'))", ("x", "y"))])
    r = run(m, tmp_path)
    assert r.phase == "Succeeded"
    assert {n: t.result for n, t in r.tasks.items()} == {"a": 1, "b": 2, "c": 10, "d": 12}
    t = r.tasks
    assert t["a"].finished <= t["b"].started and t["a"].finished <= t["c"].started
    assert max(t["b"].finished, t["c"].finished) <= t["d"].started
    assert all(x.phase == "Succeeded" and x.attempts == 1 for x in t.values())
    assert t["d"].outputs == {"result": "12"}
    assert t["d"].log_path == r.run_dir / "d" / "stdout.log" and t["d"].log_path.is_file()
    assert json.loads((r.run_dir / "summary.json").read_text())["tasks"]["d"]["result"] == 12


@pytest.mark.parametrize("parallelism, spec_parallelism, overlap", [(2, None, True), (1, None, False),
                                                                     (4, 1, False)])
def test_parallelism(tmp_path: Path, parallelism: int, spec_parallelism: int | None, overlap: bool) -> None:
    extra = {"parallelism": spec_parallelism} if spec_parallelism else {}
    m = workflow([task("a", "stamp"), task("b", "stamp")], [py("stamp", STAMP)], **extra)
    r = run(m, tmp_path, parallelism=parallelism)
    a, b = r.tasks["a"].result, r.tasks["b"].result
    overlapped = max(a["start"], b["start"]) < min(a["end"], b["end"])
    assert overlapped is overlap


def test_failure_propagation(tmp_path: Path) -> None:
    m = workflow([task("a", "boom"), task("b", "one", "a"), task("c", "one", "b"), task("d", "one")],
                 [py("boom", "raise ValueError('boom at a')"), py("one", "ret(1)")])
    r = run(m, tmp_path)
    assert r.phase == "Failed"
    assert [r.tasks[n].phase for n in "abcd"] == ["Failed", "Omitted", "Omitted", "Succeeded"]
    assert "exit code 1" in r.tasks["a"].message and "ValueError: boom at a" in r.tasks["a"].message
    assert "boom at a" in (r.run_dir / "a" / "stderr.log").read_text()
    assert not (r.run_dir / "b").exists()
    err = io.StringIO()
    code = run_manifest(m, task_names={}, parameters={}, parallelism=None, as_json=False,
                   workdir=str(tmp_path / "cli"), keep=False, stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert "boom at a" in err.getvalue() and "Workflow Failed" in err.getvalue()


def test_depends_failed_and_or(tmp_path: Path) -> None:
    m = workflow([task("a", "boom"), task("on-fail", "one", "a.Failed"), task("either", "one", "a.Succeeded || a.Failed"),
                  task("on-ok", "one", "a.Succeeded"), task("not-a", "one", "!a.Succeeded && on-fail")],
                 [py("boom", "sys.exit(3)"), py("one", "ret(1)")])
    r = run(m, tmp_path)
    phases = {n: t.phase for n, t in r.tasks.items()}
    assert phases == {"a": "Failed", "on-fail": "Succeeded", "either": "Succeeded", "on-ok": "Omitted",
                      "not-a": "Succeeded"}
    assert r.tasks["a"].message == "exit code 3"
    # on-ok is an Omitted leaf below a failure: Argo fails the workflow through it.
    assert r.phase == "Failed"


def test_handled_failure_succeeds(tmp_path: Path) -> None:
    m = workflow([task("a", "boom"), task("handler", "one", "a.Failed")], [py("boom", "sys.exit(1)"), py("one", "ret(1)")])
    assert run(m, tmp_path).phase == "Succeeded"


def test_continue_on_failed(tmp_path: Path) -> None:
    t = task("a", "boom")
    t["continueOn"] = {"failed": True}
    m = workflow([t, task("b", "one", "a")], [py("boom", "sys.exit(1)"), py("one", "ret(1)")])
    r = run(m, tmp_path)
    assert (r.tasks["a"].phase, r.tasks["b"].phase, r.phase) == ("Failed", "Succeeded", "Succeeded")


def test_dependencies_list(tmp_path: Path) -> None:
    t = task("c", "one")
    t["dependencies"] = ["a", "b"]
    m = workflow([task("a", "one"), task("b", "boom"), t], [py("one", "ret(1)"), py("boom", "sys.exit(1)")])
    assert run(m, tmp_path).tasks["c"].phase == "Omitted"


# --- when, parameters -------------------------------------------------------------------------

def test_when(tmp_path: Path) -> None:
    def cond(name: str, when: str, depends: str = "a") -> dict:
        t = task(name, "one", depends)
        t["when"] = when
        return t

    m = workflow([task("a", "ten"), cond("big", ref("a") + " > 5"), cond("small", ref("a") + " < 5"),
                  cond("word", "{{workflow.parameters.coin}} == heads"), task("after", "one", "small"),
                  cond("bad", ref("a") + " > abc")],
                 [py("ten", "ret(10)"), py("one", "ret(1)")], params={"coin": "heads"})
    r = run(m, tmp_path)
    phases = {n: t.phase for n, t in r.tasks.items()}
    assert phases == {"a": "Succeeded", "big": "Succeeded", "small": "Skipped", "word": "Succeeded",
                      "after": "Succeeded", "bad": "Error"}
    assert r.tasks["small"].message == "when '10 < 5' evaluated false"
    assert "cannot be used with the comparator '>', it is not a number" in r.tasks["bad"].message  # govaluate's comparatorTypeCheck
    assert not (r.run_dir / "small").exists()
    r2 = run(m, tmp_path / "2", parameters={"coin": "tails"})
    assert r2.tasks["word"].phase == "Skipped"


def test_parameters_override_and_unknown(tmp_path: Path) -> None:
    m = workflow([task("a", "echo", msg="{{workflow.parameters.greeting}} from {{workflow.name}}")],
                 [py("echo", "ret(arg('msg'))", ("msg",))], params={"greeting": "hello"})
    r = run(m, tmp_path)
    assert r.tasks["a"].result == f"hello from {r.workflow_name}"
    assert r.workflow_name.startswith("test-")
    assert run(m, tmp_path / "2", parameters={"greeting": "hi"}).tasks["a"].result.startswith("hi from ")
    with pytest.raises(UsageError, match="unknown parameter 'nope'.*takes greeting"):
        run(m, tmp_path / "3", parameters={"nope": "x"})
    assert not (tmp_path / "3" / "run").exists()


def test_input_defaults_and_missing(tmp_path: Path) -> None:
    echo = py("echo", "ret([arg('a'), arg('b')])", ("a", "b"))
    echo["inputs"]["parameters"][1]["default"] = "7"
    m = workflow([task("ok", "echo", a="x"), task("missing", "echo", b="1")], [echo])
    r = run(m, tmp_path)
    assert r.tasks["ok"].result == ["x", 7]
    assert r.tasks["missing"].phase == "Error" and "input parameter 'a'" in r.tasks["missing"].message


# --- fan-out ----------------------------------------------------------------------------------

def test_with_items_scalars_and_aggregation(tmp_path: Path) -> None:
    sq = task("sq", "square", x="{{item}}")
    sq["withItems"] = [1, 2, 3]
    m = workflow([sq, task("total", "sum", "sq", xs=ref("sq"))],
                 [py("square", "ret(arg('x') ** 2)", ("x",)), py("sum", "ret(sum(map(int, arg('xs'))))", ("xs",))])
    r = run(m, tmp_path)
    assert r.phase == "Succeeded"
    assert [c.name for c in r.tasks["sq"].children] == ["sq(0:1)", "sq(1:2)", "sq(2:3)"]
    assert [c.result for c in r.tasks["sq"].children] == [1, 4, 9]
    # Argo's aggregatedJSONValueList: numbers are not objects or arrays, so the raw texts are listed
    assert r.tasks["sq"].result == [1, 4, 9] and r.tasks["sq"].outputs == {"result": '["1","4","9"]'}
    assert r.tasks["total"].result == 14
    assert (r.run_dir / "sq" / "2" / "stdout.log").is_file()


def test_with_items_maps(tmp_path: Path) -> None:
    t = task("greet", "greet", name="{{item.name}}", whole="{{item}}")
    t["withItems"] = [{"name": "ann", "n": 1}, {"name": "bob", "n": 2}]
    m = workflow([t], [py("greet", "ret([arg('name'), arg('whole')])", ("name", "whole"))])
    r = run(m, tmp_path)
    kids = r.tasks["greet"].children
    assert [c.name for c in kids] == ["greet(0:n:1,name:ann)", "greet(1:n:2,name:bob)"]
    assert kids[1].result == ["bob", {"n": 2, "name": "bob"}]


def test_with_param_from_previous_task(tmp_path: Path) -> None:
    up = task("up", "upper", "make", s="{{item}}")
    up["withParam"] = ref("make")
    m = workflow([task("make", "make"), up, task("join", "join", "up", xs=ref("up"))],
                 [py("make", "ret(['x', 'y', 'z'])"), py("upper", "ret(arg('s').upper())", ("s",)),
                  py("join", "ret('-'.join(arg('xs')))", ("xs",))])
    r = run(m, tmp_path)
    assert [c.name for c in r.tasks["up"].children] == ["up(0:x)", "up(1:y)", "up(2:z)"]
    assert r.tasks["join"].result == "X-Y-Z"


def test_fan_out_when_per_item_and_empty(tmp_path: Path) -> None:
    odd = task("odd", "echo", x="{{item}}")
    odd["withSequence"] = {"count": "4", "start": "1"}
    odd["when"] = "{{item}} != 2"
    empty = task("empty", "echo", x="{{item}}")
    empty["withParam"] = "[]"
    m = workflow([odd, empty, task("after", "echo", "empty", x="1")], [py("echo", "ret(arg('x'))", ("x",))])
    r = run(m, tmp_path)
    assert [c.phase for c in r.tasks["odd"].children] == ["Succeeded", "Skipped", "Succeeded", "Succeeded"]
    assert r.tasks["odd"].result == [1, 3, 4] and r.tasks["odd"].outputs["result"] == '["1","3","4"]'
    assert (r.tasks["empty"].phase, r.tasks["after"].phase) == ("Skipped", "Succeeded")


def test_fan_out_child_failure(tmp_path: Path) -> None:
    t = task("f", "maybe", x="{{item}}")
    t["withItems"] = ["ok", "bad"]
    m = workflow([t, task("all", "one", "f"), task("any", "one", "f.AnySucceeded")],
                 [py("maybe", "assert arg('x') == 'ok'\nret(1)", ("x",)), py("one", "ret(1)")])
    r = run(m, tmp_path)
    assert [c.phase for c in r.tasks["f"].children] == ["Succeeded", "Failed"]
    assert (r.tasks["f"].phase, r.tasks["all"].phase, r.tasks["any"].phase) == ("Failed", "Omitted", "Succeeded")


# --- retries, timeouts ------------------------------------------------------------------------

def test_retries_until_third_attempt(tmp_path: Path) -> None:
    flaky = py("flaky", "n = int(os.environ['ATTEMPT'])\nprint('attempt', n)\nassert n >= 2, 'not yet'\nret(n)",
               env=[{"name": "ATTEMPT", "value": "{{retries}}"}],
               retryStrategy={"limit": "3", "retryPolicy": "Always", "backoff": {"duration": "50ms", "factor": "2"}})
    m = workflow([task("a", "flaky")], [flaky])
    r = run(m, tmp_path)
    a = r.tasks["a"]
    assert (a.phase, a.attempts, a.result) == ("Succeeded", 3, 2)
    for n in (1, 2, 3):
        assert (r.run_dir / "a" / f"attempt-{n}" / "stdout.log").read_text() == f"attempt {n - 1}\n"
    assert a.log_path == r.run_dir / "a" / "attempt-3" / "stdout.log"


@pytest.mark.parametrize("strategy, attempts", [({"limit": 1}, 2), ({"limit": "2", "retryPolicy": "OnError"}, 1),
                                                ({"limit": "0"}, 1)])
def test_retry_limits_and_policy(tmp_path: Path, strategy: dict, attempts: int) -> None:
    m = workflow([task("a", "boom")], [py("boom", "sys.exit(1)", retryStrategy=strategy)])
    a = run(m, tmp_path).tasks["a"]
    assert (a.phase, a.attempts) == ("Failed", attempts)


def test_timeout_kills_the_task(tmp_path: Path) -> None:
    body = "open('pid', 'w').write(str(os.getpid()))\ntime.sleep(60)\nret(1)"
    m = workflow([task("slow", "slow"), task("after", "one", "slow")],
                 [py("slow", body, timeout="3s"), py("one", "ret(1)")])
    r = run(m, tmp_path)
    slow = r.tasks["slow"]
    assert (slow.phase, r.tasks["after"].phase, r.phase) == ("Failed", "Omitted", "Failed")
    assert "timed out after 3s" in slow.message
    pid = int((r.run_dir / "slow" / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_active_deadline_seconds(tmp_path: Path) -> None:
    m = workflow([task("slow", "slow")], [py("slow", "time.sleep(60)", activeDeadlineSeconds=1)])
    assert "timed out after 1s" in run(m, tmp_path).tasks["slow"].message


# --- containers, env, paths -------------------------------------------------------------------

def test_container_tasks(tmp_path: Path) -> None:
    echo = {"name": "echo", "inputs": {"parameters": [{"name": "msg"}]},
            "container": {"image": "busybox", "command": ["echo"], "args": ["{{inputs.parameters.msg}}"]}}
    missing = {"name": "missing", "container": {"image": "busybox", "command": ["heraspec-no-such-command"]}}
    m = workflow([task("e", "echo", msg="hello"), task("again", "echo", "e", msg="{{tasks.e.outputs.result}}!"),
                  task("m", "missing")], [echo, missing])
    r = run(m, tmp_path)
    assert r.tasks["again"].phase == "Succeeded"
    assert (r.run_dir / "again" / "stdout.log").read_text() == "hello!\n"
    assert r.tasks["m"].phase == "Error"
    assert r.tasks["m"].message == ("command 'heraspec-no-such-command' is not available on this machine; "
                                    "heraspec run cannot run container tasks locally")
    assert r.phase == "Error"  # dag.go assessDAGPhase: the leaf's Error is the DAG's, and the workflow's


def test_secret_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}
    m = workflow([task("a", "show")], [py("show", "ret(os.environ['TOKEN'])", env=[secret])])
    monkeypatch.delenv("TOKEN", raising=False)
    a = run(m, tmp_path).tasks["a"]
    assert a.phase == "Error" and "set TOKEN in heraspec's environment" in a.message and "creds" in a.message
    monkeypatch.setenv("TOKEN", "s3cret")
    assert run(m, tmp_path / "2").tasks["a"].result == "s3cret"


def test_nothing_written_outside_the_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Unique declared paths, so the check cannot be fooled by another process using /tmp/heraspec.
    outside = Path(f"/tmp/heraspec-test-{uuid.uuid4().hex}")
    heraspec_style = py("h", "ret({'cwd': os.getcwd(), 'tmp': os.path.realpath(os.environ['TMPDIR'])})")
    heraspec_style["outputs"]["parameters"][0]["valueFrom"]["path"] = f"{outside}/result.json"
    literal = {"name": "lit", "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": f"{outside}/out.txt"}}]},
               "script": {"image": "alpine", "command": ["sh"], "source": f"echo hi > {outside}/out.txt\n"}}
    m = workflow([task("h", "h"), task("lit", "lit")], [heraspec_style, literal])
    monkeypatch.chdir(tmp_path)
    r = run_workflow(m)
    assert r.phase == "Succeeded", r.tasks["lit"].message
    assert r.run_dir.parent == tmp_path / ".heraspec" / "runs"
    assert r.tasks["lit"].outputs == {"out": "hi"}
    assert not outside.exists()
    assert r.tasks["h"].result["cwd"] == str(r.run_dir / "h")
    assert Path(r.tasks["h"].result["tmp"]).is_relative_to(r.run_dir.resolve())  # itself, or a short link to it
    assert sorted(p.name for p in tmp_path.iterdir()) == [".heraspec"]
    assert (r.run_dir / "h" / outside.relative_to("/") / "result.json").is_file()


def test_volumes_are_shared_inside_the_run_folder(tmp_path: Path) -> None:
    mount = [{"name": "work", "mountPath": "/mnt/heraspec-work"}]
    write = py("write", "open('/mnt/heraspec-work/x.txt', 'w').write('shared')\nret(1)")
    read = py("read", "ret(open('/mnt/heraspec-work/x.txt').read())")
    write["script"]["volumeMounts"] = read["script"]["volumeMounts"] = mount
    m = workflow([task("w", "write"), task("r", "read", "w")], [write, read],
                 volumes=[{"name": "work", "emptyDir": {}}])
    r = run(m, tmp_path)
    assert r.tasks["r"].result == "shared"
    assert (r.run_dir / "volumes" / "work" / "x.txt").read_text() == "shared"


def test_missing_output_file_and_default(tmp_path: Path) -> None:
    none = py("none", "pass")
    dflt = py("dflt", "pass")
    dflt["outputs"]["parameters"][0]["valueFrom"]["default"] = "42"
    r = run(workflow([task("n", "none"), task("d", "dflt")], [none, dflt]), tmp_path)
    assert r.tasks["n"].phase == "Error" and "was not written" in r.tasks["n"].message
    assert r.tasks["d"].result == 42


# --- kinds, errors, CLI -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"])
def test_other_kinds(tmp_path: Path, kind: str) -> None:
    m = workflow([task("a", "one")], [py("one", "ret(1)")], kind=kind)
    assert run(m, tmp_path).tasks["a"].result == 1


def test_leaf_entrypoint(tmp_path: Path) -> None:
    m = workflow([], [py("echo", "ret(arg('msg'))", ("msg",))], params={"msg": "hi"})
    m["spec"]["entrypoint"] = "echo"
    del m["spec"]["templates"][0]
    assert run(m, tmp_path).tasks["echo"].result == "hi"


@pytest.mark.parametrize("change, message", [
    (lambda m: m["spec"].update(entrypoint="nope"), "entrypoint 'nope'"),
    (lambda m: m["spec"]["templates"][0]["dag"]["tasks"][0].update(depends="b"), "dependency cycle"),
    (lambda m: m["spec"]["templates"][0]["dag"]["tasks"][0].update(template="zzz"), "unknown template 'zzz'"),
    (lambda m: m["spec"]["templates"][0]["dag"]["tasks"][0].update(depends="ghost"), "unknown task(s) ghost"),
])
def test_unrunnable_manifests(tmp_path: Path, change: Any, message: str) -> None:
    m = workflow([task("a", "one"), task("b", "one", "a")], [py("one", "ret(1)")])
    change(m)
    with pytest.raises(RunError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(m, tmp_path)


def test_cli_run_json_and_exit_codes(tmp_path: Path) -> None:
    fan = task("fan-out", "one", "prep-data")
    fan["withItems"] = ["a", "b"]
    m = workflow([task("prep-data", "one"), fan], [py("one", "print('noise on stdout')\nret(1)")])
    out, err = io.StringIO(), io.StringIO()
    code = run_manifest(m, task_names={"prep-data": "prep_data", "fan-out": "fan_out"}, parameters={}, parallelism=2,
                   as_json=True, workdir=str(tmp_path / "run"), keep=False, stdout=out, stderr=err)
    assert code == 0
    data = json.loads(out.getvalue())
    assert data["phase"] == "Succeeded" and set(data["tasks"]) == {"prep_data", "fan_out"}
    assert data["tasks"]["prep_data"]["result"] == 1 and data["tasks"]["prep_data"]["phase"] == "Succeeded"
    assert isinstance(data["tasks"]["prep_data"]["duration_s"], float)
    kids = data["tasks"]["fan_out"]["children"]
    assert [k["name"] for k in kids] == ["fan_out(0:a)", "fan_out(1:b)"] and kids[0]["result"] == 1
    assert data["tasks"]["fan_out"]["result"] == [1, 1]
    text = err.getvalue()
    assert "✓ prep_data  Succeeded" in text or "ok prep_data  Succeeded" in text
    assert "images are not used locally" in text and str(tmp_path / "run") in text
    assert "prep-data" not in text.replace(str(tmp_path), "")
    # keep=False: logs and outputs stay, work files go.
    run_dir = tmp_path / "run"
    assert (run_dir / "prep-data" / "stdout.log").read_text() == "noise on stdout\n"
    assert (run_dir / "prep-data" / "outputs.json").is_file() and (run_dir / "summary.json").is_file()
    assert not (run_dir / "prep-data" / "script.py").exists()


def test_cli_run_keep_and_busy_workdir(tmp_path: Path) -> None:
    m = workflow([task("a", "one")], [py("one", "ret(1)")])
    args = dict(task_names={}, parameters={}, parallelism=None, as_json=False, stdout=io.StringIO(),
                stderr=io.StringIO())
    assert run_manifest(m, workdir=str(tmp_path / "run"), keep=True, **args) == 0
    assert (tmp_path / "run" / "a" / "script.py").is_file()
    with pytest.raises(UsageError, match="not empty"):
        run_manifest(m, workdir=str(tmp_path / "run"), keep=True, **args)


def test_live_reporter_on_a_terminal(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    m = workflow([task("a", "one"), task("b", "one", "a")], [py("one", "time.sleep(0.3)\nret(1)")])
    err = Terminal()
    assert run_manifest(m, task_names={}, parameters={}, parallelism=None, as_json=False,
                   workdir=str(tmp_path / "run"), keep=False, stdout=io.StringIO(), stderr=err) == 0
    text = err.getvalue()
    assert "\x1b[1A\x1b[2K" in text  # the running block was redrawn in place
    assert "✓ a  Succeeded" in text and "✓ b  Succeeded" in text and "Workflow Succeeded" in text


# --- end to end: heraspec's own examples, compiled by the pipeline, then run ----------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("spec", sorted(p.name for p in EXAMPLES.glob("*.*") if p.suffix in (".yaml", ".toml")))
def test_examples_compile_and_run(tmp_path: Path, spec: str) -> None:
    from heraspec import pipeline
    from heraspec.errors import Errors

    errors = Errors()
    (compiled,) = pipeline.build([str(EXAMPLES / spec)], errors)
    assert not errors, errors.format()
    out = io.StringIO()
    code = run_manifest(compiled.manifest, task_names=compiled.task_names, parameters={}, parallelism=None, as_json=True,
                   workdir=str(tmp_path / "run"), keep=False, stdout=out, stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert code == 0, data
    assert set(data["tasks"]) == set(compiled.task_names.values())
    assert all(t["phase"] == "Succeeded" for t in data["tasks"].values())
    if spec.startswith(("diamond", "volume")):
        assert data["tasks"]["D"]["result"] == "This is task D!"
    if spec.startswith("ml-pipeline"):
        assert len(data["tasks"]["train"]["children"]) == 4
        assert data["tasks"]["pick_best"]["result"] in data["tasks"]["train"]["result"]


# --- Argo's own examples (../shared), where they only need echo/sh ---------------------------------

UPSTREAM = {
    "dag-diamond.yaml": ("Succeeded", {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded", "D": "Succeeded"}),
    "dag-enhanced-depends.yaml": ("Succeeded", {"A": "Succeeded", "B": "Succeeded", "C": "Failed",
                                                "should-execute-1": "Succeeded", "should-execute-2": "Succeeded",
                                                "should-not-execute": "Omitted", "should-execute-3": "Succeeded"}),
    "dag-continue-on-fail.yaml": ("Failed", {"A": "Succeeded", "B": "Failed", "C": "Succeeded", "D": "Succeeded",
                                             "E": "Failed", "F": "Succeeded", "G": "Omitted"}),
    "dag-targets.yaml": ("Succeeded", {"A": "Succeeded", "C": "Succeeded", "E": "Succeeded"}),  # target E only
    "dag-nested.yaml": ("Succeeded", {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded", "D": "Succeeded"}),
    "parameter-aggregation-dag.yaml": ("Succeeded", {"odd-or-even": "Succeeded", "print-nums": "Succeeded",
                                                     "print-evenness": "Succeeded", "divide-by-2": "Succeeded",
                                                     "print": "Succeeded"}),
}


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_upstream_argo_examples(tmp_path: Path, name: str) -> None:
    import yaml

    from tests.argo_schema import upstream

    m = yaml.safe_load((upstream("examples") / name).read_text())
    r = run(m, tmp_path, parallelism=4)
    phase, tasks = UPSTREAM[name]
    assert (r.phase, {n: t.phase for n, t in r.tasks.items()}) == (phase, tasks)
    if name == "parameter-aggregation-dag.yaml":
        assert [c.phase for c in r.tasks["divide-by-2"].children] == ["Skipped", "Succeeded", "Skipped", "Succeeded"]
        assert (r.run_dir / "print" / "1" / "stdout.log").read_text() == "2\n"
        # aggregatedJSONValueList: decoded only when every value is a JSON object or array,
        # else the list of raw strings
        assert (r.run_dir / "print-nums" / "stdout.log").read_text() == '["1","2","3","4"]\n'
        assert (r.run_dir / "print-evenness" / "stdout.log").read_text() == '["odd","even","odd","even"]\n'
