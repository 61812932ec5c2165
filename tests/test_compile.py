"""`heraspec compile`: strict-valid Argo manifests whose scripts run as Argo would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import heraspec
from heraspec.cli import main
from tests.argo_exec import run_task, workflow_spec
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SPECS = sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("*.toml"))


def compile_text(tmp_path: Path, text: str, *, modules: dict[str, str] | None = None, name: str = "spec.yaml") -> dict:
    for mod, src in (modules or {}).items():
        (tmp_path / mod).write_text(src, encoding="utf-8")
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    return compiled.manifest


def emitted(manifest: dict) -> dict:
    """The manifest as a cluster would read it: through the YAML heraspec writes."""
    from heraspec.argo.emit import to_yaml

    return yaml.safe_load(to_yaml([manifest]))


def templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in workflow_spec(manifest)["templates"]}


def dag_tasks(manifest: dict) -> dict[str, dict]:
    spec = workflow_spec(manifest)
    return {t["name"]: t for t in templates(manifest)[spec["entrypoint"]]["dag"]["tasks"]}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_examples_compile_to_strict_valid_argo(spec: Path):
    for c in heraspec.compile([str(spec)]):
        assert_argo_valid(c.manifest)
        assert_argo_valid(emitted(c.manifest))


@pytest.mark.parametrize("stem", sorted({p.stem for p in SPECS if p.with_suffix(".toml").exists() and p.with_suffix(".yaml").exists()}))
def test_yaml_and_toml_twins_compile_identically(stem: str):
    (a,) = heraspec.compile([str(EXAMPLES / f"{stem}.yaml")])
    (b,) = heraspec.compile([str(EXAMPLES / f"{stem}.toml")])
    assert a.manifest == b.manifest


def test_output_is_byte_identical_across_processes(tmp_path: Path):
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    outs = {subprocess.run([sys.executable, "-m", "heraspec", "compile", *map(str, SPECS)], capture_output=True,
                           env=env, check=True, cwd=tmp_path).stdout for _ in range(3)}
    assert len(outs) == 1
    docs = list(yaml.safe_load_all(outs.pop()))
    assert len(docs) == len(SPECS)


def test_output_directory_and_json_format(tmp_path: Path, capsys):
    assert main(["compile", str(EXAMPLES / "diamond.yaml"), str(EXAMPLES / "volume.yaml"), "-o", str(tmp_path / "out"),
                 "--format", "json"]) == 0
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["diamond.json", "volume.json"]
    doc = json.loads((tmp_path / "out" / "diamond.json").read_text())
    assert doc["metadata"]["name"] == "parallel-diamonds"


def test_json_is_compact_into_a_file_or_pipe_and_indented_on_a_terminal(tmp_path: Path):
    import pty

    spec = str(EXAMPLES / "diamond.yaml")
    base = [sys.executable, "-m", "heraspec", "compile", spec, "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    piped = subprocess.run(base, capture_output=True, text=True, env=env, check=True).stdout
    assert piped.count("\n") == 1 and '": ' not in piped and '", "' not in piped  # as the API server stores it
    assert main(["compile", spec, "--format", "json", "-o", str(tmp_path / "d.json")]) == 0
    assert (tmp_path / "d.json").read_text() == piped
    pretty = subprocess.run(base + ["--pretty"], capture_output=True, text=True, env=env, check=True).stdout
    assert pretty.startswith('{\n  "apiVersion": ') and json.loads(pretty) == json.loads(piped)
    # on a terminal: indented unless --no-pretty
    for extra, indented in (([], True), (["--no-pretty"], False)):
        leader, follower = pty.openpty()
        proc = subprocess.Popen(base + extra, stdout=follower, stderr=subprocess.PIPE, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.wait() == 0
        text = b"".join(chunks).decode().replace("\r\n", "\n")
        assert json.loads(text) == json.loads(piped)
        assert (text.count("\n") > 10) is indented


def test_diamond_shares_one_template_and_runs_as_argo_would(tmp_path: Path):
    (c,) = heraspec.compile([str(EXAMPLES / "diamond.yaml")])
    m = emitted(c.manifest)
    assert list(templates(m)) == ["main", "say"]
    tasks = dag_tasks(m)
    assert {n: t.get("depends") for n, t in tasks.items()} == {"A": None, "B": "A", "C": "A", "D": "B && C"}
    assert templates(m)["say"]["script"]["resources"] == {"requests": {"cpu": "1", "memory": "4Gi"}}
    result, stdout = run_task(m, "B", tmp_path / "B")
    assert result == "This is task B!" and stdout == "This is task B!\n"


def test_volume_example_resources_and_claims():
    (c,) = heraspec.compile([str(EXAMPLES / "volume.yaml")])
    m = c.manifest
    tmpl = templates(m)[dag_tasks(m)["B"]["template"]]
    assert tmpl["script"]["resources"] == {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                                           "limits": {"nvidia.com/gpu": "1"}}
    assert tmpl["script"]["volumeMounts"] == [{"name": "b-vol", "mountPath": "/vol"}]
    assert m["spec"]["volumeClaimTemplates"] == [{"metadata": {"name": "b-vol"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}}}]
    others = {templates(m)[t["template"]]["name"] for n, t in dag_tasks(m).items() if n != "B"}
    assert all("volumeMounts" not in templates(m)[t]["script"] for t in others)


STEPS = '''
import json as j
import math
from collections import Counter

SCALE = 10
OFFSET = SCALE * 2
UNUSED = object()


def _norm(xs):
    return [x / SCALE for x in xs]


class Box:
    def __init__(self, v):
        self.v = v


def stats(xs: list, power: int = 2, label: str = "n", when=None) -> dict:
    """Uses an import, an aliased import, a constant chain, a helper and a class."""
    c = Counter(xs)
    b = Box(math.pow(len(xs), power))
    return {"label": label, "norm": _norm(xs), "pow": b.v, "top": c.most_common(1)[0][0],
            "offset": OFFSET, "dump": j.dumps(xs), "when": when}


def braces(text: str) -> str:
    template = "{{inputs.parameters.x}}"
    name = "world"
    return f"{{{name}}} {{literal}} " + template + " }} {{ " + text


def echo(value):
    print("noise on stdout", value)
    return value
'''


def test_scripts_carry_imports_helpers_constants_and_defaults(tmp_path: Path):
    m = emitted(compile_text(tmp_path, "name: carry\ntasks:\n  S: {function: steps:stats, args: {xs: [10, 20, 20]}}\n",
                             modules={"steps.py": STEPS}))
    source = templates(m)["stats"]["script"]["source"]
    assert "UNUSED" not in source and "def echo" not in source
    result, _ = run_task(m, "S", tmp_path / "run")
    assert result == {"label": "n", "norm": [1.0, 2.0, 2.0], "pow": 9.0, "top": 20, "offset": 20,
                      "dump": "[10, 20, 20]", "when": None}
    inputs = {p["name"]: p.get("default") for p in templates(m)["stats"]["inputs"]["parameters"]}
    assert inputs == {"xs": None, "power": "2", "label": "n", "when": "null"}


def test_user_code_with_braces_runs_byte_for_byte(tmp_path: Path):
    m = emitted(compile_text(tmp_path, "name: braces\ntasks:\n  B: {function: steps:braces, args: {text: 'a {{b}}'}}\n",
                             modules={"steps.py": STEPS}))
    assert "{{" not in templates(m)["braces"]["script"]["source"]
    # the argument itself is a raw Argo-looking string: Argo would try to resolve it, so pass it as a literal here
    tasks = dag_tasks(m)
    assert tasks["B"]["arguments"]["parameters"] == [{"name": "text", "value": "a {{b}}"}]
    tasks["B"]["arguments"]["parameters"][0]["value"] = "plain"
    result, _ = run_task(m, "B", tmp_path / "run")
    assert result == "{world} {literal} {{inputs.parameters.x}} }} {{ plain"


HOSTILE = ["it's \"quoted\"", "'''triple'''", 'back\\slash \\n not a newline', "line1\nline2\n\n  indented",
           "ünïcødé ✓ 𝄞 中文", "{\"looks\": \"like json\"}", "--- not yaml ---", "  ", "x" * 100_000, "tab\there",
           "$(rm -rf /) `echo hi` ${HOME}", "null", "123", "true"]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:20]))
def test_hostile_argument_values_arrive_intact(tmp_path: Path, value: str):
    spec = {"name": "hostile", "tasks": {"E": {"function": "steps:echo", "args": {"value": value}}}}
    m = emitted(compile_text(tmp_path, json.dumps(spec, ensure_ascii=False), modules={"steps.py": STEPS}))
    result, stdout = run_task(m, "E", tmp_path / "run")
    # unannotated parameters decode JSON where it parses (documented); strings that are not JSON arrive as they are
    try:
        expected = json.loads(value)
    except ValueError:
        expected = value
    assert result == expected
    assert stdout.startswith("noise on stdout")


def test_str_annotation_keeps_json_looking_text(tmp_path: Path):
    m = emitted(compile_text(tmp_path, "name: s\ntasks:\n  B: {function: steps:braces, args: {text: '123'}}\n",
                             modules={"steps.py": STEPS}))
    result, _ = run_task(m, "B", tmp_path / "run")
    assert result.endswith(" 123")


def test_from_and_param_and_fan_out(tmp_path: Path):
    steps = "def make(n: int) -> list:\n    return list(range(n))\n\ndef sq(x: int) -> int:\n    return x * x\n\n" \
            "def total(xs: list) -> int:\n    return sum(xs)\n"
    text = """
name: fan
parameters: {n: 3}
tasks:
  make: {function: steps:make, args: {n: {param: n}}}
  sq: {function: steps:sq, foreach: {from: make}, args: {x: {item: true}}}
  sq_list: {function: steps:sq, args: [{x: 5}, {x: 6}]}
  total: {function: steps:total, args: {xs: {from: sq}}}
"""
    m = emitted(compile_text(tmp_path, text, modules={"steps.py": steps}))
    tasks = dag_tasks(m)
    assert tasks["sq"]["withParam"] == "{{tasks.make.outputs.parameters.result}}"
    assert tasks["sq"]["depends"] == "make"
    assert tasks["sq-list"]["withItems"] == [{"x": 5}, {"x": 6}]
    assert tasks["total"]["depends"] == "sq"
    made, _ = run_task(m, "make", tmp_path / "make")
    assert made == [0, 1, 2]
    assert [run_task(m, "sq", tmp_path / f"sq{i}", results={"make": made}, item=i)[0] for i in made] == [0, 1, 4]
    assert run_task(m, "sq-list", tmp_path / "l", item={"x": 6})[0] == 36
    assert run_task(m, "total", tmp_path / "t", results={"sq": [0, 1, 4]})[0] == 5


def test_settings_retry_timeout_env_when_depends(tmp_path: Path):
    text = """
name: settings
defaults:
  retry: {limit: 3, backoff: {duration: 5s, factor: 2, max_duration: 1m}, policy: Always}
  env: {A: 1, TOKEN: {secret: creds, key: token}}
  resources: {cpu: 2}
tasks:
  a: {function: steps:echo, args: {value: 1}}
  b_task:
    function: steps:echo
    args: {value: 2}
    timeout: 10m
    when: "{{tasks.a.outputs.parameters.result}} == 1"
    depends: a.Succeeded || a.Failed
    env: {CFG: {config_map: settings, key: mode}}
    resources: {memory: 1Gi, limits: true}
"""
    m = compile_text(tmp_path, text, modules={"steps.py": STEPS})
    b = dag_tasks(m)["b-task"]
    assert b["depends"] == "a.Succeeded || a.Failed"
    assert b["when"] == "{{tasks.a.outputs.parameters.result}} == 1"
    t = templates(m)[b["template"]]
    assert t["timeout"] == "10m"
    assert t["retryStrategy"] == {"limit": "3", "retryPolicy": "Always",
                                  "backoff": {"duration": "5s", "factor": "2", "maxDuration": "1m"}}
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in t["script"]["env"]}
    assert env["A"] == "1" and env["TOKEN"] == {"secretKeyRef": {"name": "creds", "key": "token"}}
    assert env["CFG"] == {"configMapKeyRef": {"name": "settings", "key": "mode"}}
    assert t["script"]["resources"] == {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}


def test_kinds_cron_cluster_template_and_escape_hatch(tmp_path: Path):
    steps = {"steps.py": STEPS}
    cron = compile_text(tmp_path, "kind: CronWorkflow\nname: nightly\nnamespace: ml\nschedule: '0 3 * * *'\n"
                        "timezone: Europe/Paris\nconcurrency_policy: Forbid\n"
                        "tasks: {a: {function: steps:echo, args: {value: 1}}}\n", modules=steps, name="c.yaml")
    assert cron["spec"]["schedules"] == ["0 3 * * *"] and cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["metadata"] == {"name": "nightly", "namespace": "ml"}
    cwt = compile_text(tmp_path, "kind: ClusterWorkflowTemplate\nname: shared\n"
                       "tasks: {a: {function: steps:echo, args: {value: 1}}}\n", modules=steps, name="t.yaml")
    assert "namespace" not in cwt["metadata"]
    hatch = compile_text(tmp_path, """
name: hatch
argo:
  spec: {podGC: {strategy: OnPodSuccess}, serviceAccountName: runner}
  metadata: {labels: {team: ml}}
tasks:
  a:
    function: steps:echo
    args: {value: 1}
    argo:
      task: {continueOn: {failed: true}}
      template: {nodeSelector: {gpu: "yes"}, script: {imagePullPolicy: Always}}
""", modules=steps, name="h.yaml")
    assert hatch["spec"]["podGC"] == {"strategy": "OnPodSuccess"} and hatch["metadata"]["labels"] == {"team": "ml"}
    a = dag_tasks(hatch)["a"]
    assert a["continueOn"] == {"failed": True}
    t = templates(hatch)[a["template"]]
    assert t["nodeSelector"] == {"gpu": "yes"}
    assert t["script"]["imagePullPolicy"] == "Always" and t["script"]["command"] == ["python"]


def test_container_tasks_and_existing_claims(tmp_path: Path):
    m = compile_text(tmp_path, """
name: containers
tasks:
  make: {function: steps:echo, args: {value: 3}}
  shell:
    image: alpine:3.20
    command: [sh, -c]
    args: ["echo $0 && ls /data", {from: make}]
    resources: {volume: {claim: datasets, mount_path: /data, read_only: true}}
""", modules={"steps.py": STEPS})
    shell = dag_tasks(m)["shell"]
    t = templates(m)[shell["template"]]
    assert t["container"]["args"] == ["echo $0 && ls /data", "{{inputs.parameters.arg1}}"]
    assert shell["arguments"]["parameters"] == [{"name": "arg1", "value": "{{tasks.make.outputs.parameters.result}}"}]
    assert m["spec"]["volumes"] == [{"name": "datasets", "persistentVolumeClaim": {"claimName": "datasets", "readOnly": True}}]


@pytest.mark.parametrize("n,shape", [(30, "chain"), (30, "fan-in"), (12, "grid")])
def test_generated_specs_are_strict_valid(tmp_path: Path, n: int, shape: str):
    tasks, edges = {}, []
    for i in range(n):
        t = {"function": "steps:echo", "args": {"value": i}}
        if i % 4 == 1:
            t["resources"] = {"cpu": f"{100 * i}m", "memory": f"{i}Gi"}
        if i % 5 == 2:
            t["retry"] = i
        tasks[f"t_{i}"] = t
    if shape == "chain":
        edges = [" >> ".join(f"t_{i}" for i in range(n))]
    elif shape == "fan-in":
        edges = [f"[{', '.join(f't_{i}' for i in range(1, n))}] >> t_0"]
    else:
        edges = [f"t_{i} >> t_{i + 1}" for i in range(0, n - 1, 2)] + [f"t_{i} >> t_{i + 3}" for i in range(n - 3)]
    kinds = ["Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate"]
    for k in kinds:
        spec = {"kind": k, "name": f"gen-{shape}", "tasks": tasks, "edges": edges}
        if k == "CronWorkflow":
            spec["schedule"] = ["0 * * * *", "30 * * * *"]
        compile_text(tmp_path, json.dumps(spec), modules={"steps.py": STEPS}, name=f"{k}.yaml")


def test_uncarriable_name_points_at_spec_and_source(tmp_path: Path, capsys):
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "bad.py").write_text("import os\nfrom helpers import Y\n\n\ndef f() -> str:\n    return Y\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: star\ntasks:\n  A: {function: bad:f}\n")
    assert main(["compile", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:3:17: error: cannot import name 'Y' from 'helpers'" in err
    assert "bad.py:2:1" in err


def test_namespace_from_flag_or_environment(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("ARGO_NAMESPACE", "from-env")
    assert main(["compile", str(EXAMPLES / "diamond.yaml")]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["metadata"]["namespace"] == "from-env"
    assert main(["compile", "-n", "flag", str(EXAMPLES / "diamond.yaml")]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["metadata"]["namespace"] == "flag"


def test_raw_task_expressions_imply_edges_and_use_argo_names(tmp_path: Path):
    m = compile_text(tmp_path, """
name: raw
tasks:
  check_data: {function: steps:echo, args: {value: true}}
  train:
    function: steps:echo
    args: {value: "{{tasks.check_data.outputs.parameters.result}}"}
    when: "{{tasks.check_data.outputs.parameters.result}} == true"
""", modules={"steps.py": STEPS})
    train = dag_tasks(m)["train"]
    assert train["depends"] == "check-data"
    assert train["when"] == "{{tasks.check-data.outputs.parameters.result}} == true"
    assert train["arguments"]["parameters"][0]["value"] == "{{tasks.check-data.outputs.parameters.result}}"


def test_unknown_task_in_a_raw_expression_is_located(tmp_path: Path, capsys):
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: raw\ntasks:\n  a: {function: steps:echo, args: {value: 1}}\n"
                    "  b: {function: steps:echo, args: {value: 1}, when: '{{tasks.chek.outputs.result}} == 1'}\n")
    assert main(["validate", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:4:62: error: unknown task 'chek'" in err


def test_entry_survives_user_names_that_shadow_its_own(tmp_path: Path):
    steps = "def json(os: int, b: str = 'x', kwargs=None) -> list:\n    return [os, b, kwargs]\n\nstr = None\nopen = None\n"
    m = emitted(compile_text(tmp_path, "name: shadow\ntasks:\n  a: {function: steps:json, args: {os: 3}}\n",
                             modules={"steps.py": steps}))
    result, _ = run_task(m, "a", tmp_path / "run")
    assert result == [3, "x", None]


def test_template_names_made_unique_stay_within_argos_128_characters(tmp_path: Path):
    """Two container tasks named with 128 characters that differ only in case: their templates are
    lowercased, so the second needs a suffix; `<name>-2` (130 characters) is refused by Argo
    (validate.go isValidWorkflowFieldName: workflowFieldMaxLength 128)."""
    from heraspec.check.rules import manifest_problems

    stem = "a" * 127
    manifest = compile_text(tmp_path, f"name: s\ntasks:\n  {stem}x: {{image: alpine, command: [echo, one]}}\n"
                                      f"  {stem}X: {{image: alpine, command: [echo, two]}}\n")
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert names == ["main", stem + "x", stem[:126] + "-2"]
    assert manifest_problems(manifest) == []
    assert [t["template"] for t in manifest["spec"]["templates"][0]["dag"]["tasks"]] == names[1:]
    proc = heraspec_cli("run", "spec.yaml", "--json", "--workdir", "run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {k: v["result"] for k, v in json.loads(proc.stdout)["tasks"].items()} == {stem + "x": "one", stem + "X": "two"}
