"""Argo's own rules (heraspec/check/rules.py): what the compiler emits for them, and what `heraspec run`
does with it. The located messages of each rule are in tests/fixtures/bad/argo_*.(yaml|toml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heraspec
from heraspec.check.cron_rules import schedule_problem
from heraspec.check.rules import manifest_problems
from heraspec.check.task_rules import depends_syntax
from heraspec.document.settings import quantity
from tests.argo_exec import workflow_spec
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

STEPS = "def say(msg: str) -> str:\n    return msg\n\n\ndef boom(msg: str) -> str:\n    raise SystemExit(3)\n"


def compile_both(tmp_path: Path, yaml_text: str, toml_text: str) -> dict:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "s.yaml").write_text(yaml_text)
    (tmp_path / "s.toml").write_text(toml_text)
    (a,) = heraspec.compile([str(tmp_path / "s.yaml")])
    (b,) = heraspec.compile([str(tmp_path / "s.toml")])
    assert a.manifest == b.manifest
    assert_argo_valid(a.manifest)
    assert manifest_problems(a.manifest) == []
    return a.manifest


def container_resources(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t["script"]["resources"] for t in workflow_spec(manifest)["templates"] if "script" in t}


def test_a_limit_without_a_request_sets_the_request_and_false_drops_it(tmp_path: Path):
    m = compile_both(tmp_path,
                     "name: r\ntasks:\n"
                     "  small: {function: steps:say, args: {msg: a}, resources: {limits: {memory: 1Gi}}}\n"
                     "  bare: {function: steps:boom, args: {msg: b}, resources: {cpu: null, memory: false}}\n",
                     'name = "r"\n[tasks.small]\nfunction = "steps:say"\nargs = {msg = "a"}\n'
                     'resources = {limits = {memory = "1Gi"}}\n'
                     '[tasks.bare]\nfunction = "steps:boom"\nargs = {msg = "b"}\nresources = {cpu = false, memory = false}\n')
    res = container_resources(m)
    # never the default 4Gi request above a 1Gi limit: Kubernetes would refuse the pod
    assert res["say"] == {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert res["boom"] == {"requests": {}}


def test_continue_on_compiles_into_the_dependents_depends_and_runs_them(tmp_path: Path):
    m = compile_both(tmp_path,
                     "name: c\ntasks:\n"
                     "  flaky: {function: steps:boom, args: {msg: a}, continue_on: [failed]}\n"
                     "  after: {function: steps:say, args: {msg: b}, after: [flaky]}\n"
                     "  either: {function: steps:say, args: {msg: c}, depends: flaky || after}\n",
                     'name = "c"\n[tasks.flaky]\nfunction = "steps:boom"\nargs = {msg = "a"}\ncontinue_on = ["failed"]\n'
                     '[tasks.after]\nfunction = "steps:say"\nargs = {msg = "b"}\nafter = ["flaky"]\n'
                     '[tasks.either]\nfunction = "steps:say"\nargs = {msg = "c"}\ndepends = "flaky || after"\n')
    tasks = {t["name"]: t for t in workflow_spec(m)["templates"][0]["dag"]["tasks"]}
    widened = "(flaky.Succeeded || flaky.Skipped || flaky.Daemoned || flaky.Failed)"
    assert tasks["after"]["depends"] == widened
    assert tasks["either"]["depends"] == widened + " || after"
    assert "continueOn" not in tasks["flaky"]
    proc = heraspec_cli("run", str(tmp_path / "s.yaml"), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    summary = json.loads(proc.stdout)
    assert {k: v["phase"] for k, v in summary["tasks"].items()} == {"flaky": "Failed", "after": "Succeeded",
                                                                     "either": "Succeeded"}
    assert proc.returncode == 0 and summary["phase"] == "Succeeded", proc.stderr


def test_continue_on_without_depends_is_argos_continue_on(tmp_path: Path):
    m = compile_both(tmp_path, "name: c\ntasks:\n  a: {function: steps:boom, args: {msg: a}, continue_on: [failed, error]}\n",
                     'name = "c"\n[tasks.a]\nfunction = "steps:boom"\nargs = {msg = "a"}\ncontinue_on = ["failed", "error"]\n')
    (task,) = workflow_spec(m)["templates"][0]["dag"]["tasks"]
    assert task["continueOn"] == {"failed": True, "error": True}


@pytest.mark.parametrize("expr, problem", [
    ("a c", ("expected '&&' or '||' before 'c'", 2)), ("a &&", ("depends ends with '&&'", 2)),
    ("(a", ("'(' is never closed", 0)), ("a)", ("')' without a matching '('", 1)), ("&& a", ("expected a task name before '&&'", 0)),
    ("!(a.Failed || b) && c-d.Succeeded", None), ("(" * 3000 + "a" + ")" * 3000, None), ("", ("empty depends expression", 0)),
])
def test_depends_grammar(expr: str, problem):
    assert depends_syntax(expr) == problem


@pytest.mark.parametrize("schedule, ok", [
    ("0 3 * * *", True), ("*/15 9-17 * jan-mar mon-fri", True), ("5/10 * ? * *", True), ("@every 1h30m", True),
    ("CRON_TZ=Europe/Paris 0 3 * * *", True), ("0 3 * * * *", False), ("0 24 * * *", False), ("0 3 0 * *", False),
    ("0 3 * * sun-sat/2", True), ("0 3 * * 5-1", False), ("@reboot", False), ("0 3 * * 1,2,x", False),
])
def test_cron_schedules_as_robfig_parses_them(schedule: str, ok: bool):
    assert (schedule_problem(schedule) is None) == ok, schedule_problem(schedule)


def test_quantities_compare_exactly():
    assert quantity("1Gi") == 1024**3 and quantity("500m") * 2 == quantity("1") and quantity("1e3") == quantity("1k")
    assert quantity("4Gi") > quantity("4G") and quantity("lots") is None


def test_manifest_checks_find_what_argo_refuses():
    """The checks the property tests run on compiled output catch each rule (so passing means something)."""
    bad = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "x", "labels": {"a": "b c"}},
           "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "a b", "value": "1"}]},
                    "templates": [{"name": "main", "dag": {"tasks": [
                        {"name": "1st", "template": "t"},
                        {"name": "in", "template": "t", "depends": "1st", "continueOn": {"failed": True}},
                        {"name": "b", "template": "t", "depends": "in.AnySucceeded && (",
                         "arguments": {"parameters": [{"name": "x", "value": "{{workflow.parameters.nope}}"}]}},
                        {"name": "c", "template": "t", "depends": "in", "withItems": [1],
                         "arguments": {"parameters": [{"name": "x", "value": "{{item.k}}"}]}}]}},
                        {"name": "t", "retryStrategy": {"limit": "1", "backoff": {"factor": "1.5"}},
                         "container": {"image": "a", "resources": {"requests": {"memory": "2Gi", "kubernetes.io/gpu": "1"},
                                                                    "limits": {"memory": "1Gi"}}}}]}}
    problems = "\n".join(manifest_problems(bad))
    for expected in ["label a=b c", "parameter name 'a b'", "back-off without duration", "factor '1.5'",
                     "request of memory above its limit", "starts with a digit", "continueOn in a DAG", "depends ends",
                     "undeclared workflow parameter 'nope'", "an item lacks key 'k'", "task in: named like",
                     "resource name 'kubernetes.io/gpu'"]:
        assert expected in problems, expected


# --- the argo: escape hatch ----------------------------------------------------------------------


def _argo_documents():
    from tests.argo_schema import upstream
    import yaml

    out = []
    for f in sorted(upstream("examples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate",
                                                            "CronWorkflow"):
                out.append((f.name, doc))
    return out


def test_every_upstream_argo_example_passes_the_escape_hatch_check():
    """No false alarms: each of Argo's own example documents, its templates and DAG tasks, as `argo:` blocks."""
    from heraspec.check.argo_fields import problems

    docs = _argo_documents()
    assert len(docs) == 223
    found, checked = [], 0
    for name, doc in docs:
        found += [(name, p) for p in problems(doc, doc["kind"])]
        spec = doc["spec"].get("workflowSpec", doc["spec"]) if doc["kind"] == "CronWorkflow" else doc["spec"]
        for t in spec.get("templates") or []:
            found += [(name, p) for p in problems(t, "Template")]
            checked += 1
            for task in (t.get("dag") or {}).get("tasks") or []:
                found += [(name, p) for p in problems(task, "DAGTask")]
                checked += 1
    assert checked > 500 and found == []


def test_null_where_argo_wants_a_mapping_is_located(tmp_path: Path):
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: n\ntasks:\n  A:\n    function: steps:say\n    args: {msg: a}\n"
                    "    argo: {template: {container: null}}\n")
    proc = heraspec_cli("validate", str(spec))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{spec}:6:34: error: tasks.A.argo.template.container: Argo expects a mapping "
                                  "here, not empty (null)\n")


def test_argo_lists_merge_by_name_and_cron_spec_fields_land_in_the_workflow_spec(tmp_path: Path):
    m = compile_both(
        tmp_path,
        "kind: CronWorkflow\nname: m\nschedule: '0 3 * * *'\n"
        "argo:\n  spec:\n    startingDeadlineSeconds: 60\n    podGC: {strategy: OnPodSuccess}\n    onExit: notify\n"
        "    templates: [{name: notify, container: {image: alpine, command: [echo, done]}}]\n"
        "tasks:\n  A:\n    function: steps:say\n    args: {msg: a}\n"
        "    env: {LEVEL: debug}\n"
        "    argo: {template: {script: {env: [{name: EXTRA, value: '1'}, {name: LEVEL, value: info}]}}}\n",
        'kind = "CronWorkflow"\nname = "m"\nschedule = "0 3 * * *"\n'
        '[argo.spec]\nstartingDeadlineSeconds = 60\npodGC = {strategy = "OnPodSuccess"}\nonExit = "notify"\n'
        'templates = [{name = "notify", container = {image = "alpine", command = ["echo", "done"]}}]\n'
        '[tasks.A]\nfunction = "steps:say"\nargs = {msg = "a"}\nenv = {LEVEL = "debug"}\n'
        '[tasks.A.argo.template.script]\nenv = [{name = "EXTRA", value = "1"}, {name = "LEVEL", value = "info"}]\n')
    assert m["spec"]["startingDeadlineSeconds"] == 60
    wf = m["spec"]["workflowSpec"]
    assert wf["podGC"] == {"strategy": "OnPodSuccess"} and wf["onExit"] == "notify"
    assert [t["name"] for t in wf["templates"]] == ["main", "say", "notify"]  # main is kept
    env = {e["name"]: e.get("value") for e in wf["templates"][1]["script"]["env"]}
    assert env["HERASPEC_IN_msg"] == "{{inputs.parameters.msg}}"  # the inputs still reach the function
    assert env["LEVEL"] == "info" and env["EXTRA"] == "1"


def test_run_names_what_it_cannot_do_instead_of_silently_succeeding(tmp_path: Path):
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: n\nargo:\n  spec:\n    templates: [{name: notify, container: {image: alpine, command: [echo, bye]}}]\n"
        "tasks:\n  A:\n    function: steps:say\n    args: {msg: a}\n    argo:\n"
        "      task: {hooks: {exit: {template: notify}, running: {template: notify, expression: 'true'}}}\n"
        "      template:\n        initContainers: [{name: prep, image: alpine}]\n"
        "        sidecars: [{name: db, image: postgres}]\n")
    proc = heraspec_cli("run", str(spec), "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for note in ["template 'say': init containers (initContainers) are not run locally",
                 "template 'say': sidecars (sidecars) are not run locally",
                 "task 'A': lifecycle hooks 'running' are not run locally"]:
        assert proc.stderr.count(note) == 1, (note, proc.stderr)


def test_upstream_argo_examples_follow_the_rules():
    """No false alarms: Argo's own examples pass the manifest checks, except one upstream mistake that
    Kubernetes refuses too: fun-with-gifs.yaml indents `generateName` under `labels`, and a label value
    may not end with '-' (apimachinery IsValidLabelValue); the example is marked no-test upstream."""
    found = {(name, p) for name, doc in _argo_documents() for p in manifest_problems(doc)}
    assert found == {("fun-with-gifs.yaml", "label generateName=fun-with-gifs-")}
