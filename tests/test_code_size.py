"""The carried code's size in the manifest (issue 25): compressed, once per workflow however many
templates use it, and every pod's environment within Linux's and Argo's 128 KiB per variable
(ARGO_TEMPLATE included, which Argo v4.1.2 would otherwise offload into a ConfigMap per pod)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import heraspec
from heraspec.argo.code import CODE_LIMIT, ENV_LIMIT
from heraspec.python import pod
from heraspec.python import functions as F
from tests.argo_exec import run_task, substitute, workflow_spec
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli


def package(root: Path, modules: int, noise: int, seed: int = 1) -> None:
    """`big/m0.py`...: each with a function `f` and `noise` bytes of incompressible constants."""
    rng = random.Random(seed)
    pkg = root / "big"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for i in range(modules):
        blob = "".join(rng.choice("0123456789abcdef") for _ in range(noise))
        (pkg / f"m{i}.py").write_text(f'NOISE = "{blob}"\n\n\ndef f(x: int) -> int:\n    return x + {i} + len(NOISE)\n')


def spec(root: Path, refs: list[str]) -> Path:
    lines = ["name: big", "tasks:"] + [f"  t{i}: {{function: '{r}', args: {{x: 1}}}}" for i, r in enumerate(refs)]
    path = root / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def argo_template(manifest: dict, tmpl: dict) -> str:
    """ARGO_TEMPLATE as Argo v4.1.2 builds it: global parameters substituted, inputs.parameters
    cleared (workflowpod.go createWorkflowPod, simplifiedTmpl), compact JSON."""
    scope = {p["name"]: p["value"] for p in workflow_spec(manifest).get("arguments", {}).get("parameters", [])}
    text = json.dumps({k: v for k, v in tmpl.items() if k != "inputs"}, separators=(",", ":"))
    return re.sub(r"\{\{workflow\.parameters\.([-\w]+)\}\}", lambda m: json.dumps(scope[m.group(1)])[1:-1], text)


def test_a_module_used_by_many_templates_is_in_the_workflow_once(tmp_path: Path) -> None:
    F.clear_cache()
    package(tmp_path, 10, 2000)
    (compiled,) = heraspec.compile([str(spec(tmp_path, [f"big.m{i}:f" for i in range(10)]))], path=[str(tmp_path)])
    manifest = compiled.manifest
    assert_argo_valid(manifest)
    params = workflow_spec(manifest)["arguments"]["parameters"]
    assert [p["name"] for p in params] == ["heraspec-code"]
    text = json.dumps(manifest)
    assert text.count(params[0]["value"]) == 1  # one copy, not one per template
    for i in range(10):
        assert run_task(manifest, f"t{i}", tmp_path / f"pod{i}")[0] == 1 + i + 2000


def test_every_pods_environment_stays_under_128_kib(tmp_path: Path) -> None:
    # 12 modules of 16 KB of random hex: ~110 KB compressed each pair, so no one parameter holds all
    F.clear_cache()
    package(tmp_path, 12, 16000)
    refs = [f"big.m{i}:f" for i in range(12)]
    (compiled,) = heraspec.compile([str(spec(tmp_path, refs))], path=[str(tmp_path)])
    manifest = compiled.manifest
    wf = workflow_spec(manifest)
    params = {p["name"]: p["value"] for p in wf["arguments"]["parameters"]}
    assert len(params) > 1 and all(len(v) <= CODE_LIMIT for v in params.values())
    for tmpl in wf["templates"]:
        if "script" not in tmpl:
            continue
        assert len(argo_template(manifest, tmpl).encode()) < ENV_LIMIT, tmpl["name"]
        for e in tmpl["script"]["env"]:
            value = substitute(e["value"], {f"workflow.parameters.{k}": v for k, v in params.items()}) \
                if "workflow." in e["value"] else e["value"]
            assert len(e["name"]) + 1 + len(value.encode()) + 1 <= ENV_LIMIT
    # the templates of the second parameter run its own copy of the runtime, and their code, as Argo runs them
    tasks = {t["template"]: t["name"] for t in wf["templates"][0]["dag"]["tasks"]}
    second = [t["name"] for t in wf["templates"] if "script" in t
              and {"name": "HERASPEC_CODE", "value": "{{workflow.parameters.heraspec-code-2}}"} in t["script"]["env"]]
    assert second and "def main(" in pod.unpack_code(params["heraspec-code-2"])["runtime"]
    i = int(tasks[second[0]][1:])
    assert run_task(manifest, f"t{i}", tmp_path / "second")[0] == 1 + i + 16000
    assert run_task(manifest, "t11", tmp_path / "pod")[0] == 1 + 11 + 16000


def test_a_function_whose_own_code_is_too_large_is_refused_with_the_fix(tmp_path: Path) -> None:
    F.clear_cache()
    package(tmp_path, 1, 200_000)
    proc = cli("validate", str(spec(tmp_path, ["big.m0:f"])), "--path", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "compressed: over the" in proc.stdout + proc.stderr and "code: image" in proc.stdout + proc.stderr


def _two_functions_as(tmp_path: Path, header: str) -> dict:
    """The manifest of a two-function spec of the 100-line package, compiled as `header` says
    (`kind: ...`), checked against Argo's schema."""
    F.clear_cache()
    package(tmp_path, 2, 100)
    path = spec(tmp_path, ["big.m0:f", "big.m1:f"])
    path.write_text(path.read_text().replace("name: big\n", "name: big\n" + header))
    (compiled,) = heraspec.compile([str(path)], path=[str(tmp_path)])
    assert_argo_valid(compiled.manifest)
    return compiled.manifest


def test_a_workflow_templates_scripts_carry_their_own_code(tmp_path: Path) -> None:
    # other workflows call its templates by templateRef: `{{workflow.parameters...}}` would be theirs
    manifest = _two_functions_as(tmp_path, "kind: WorkflowTemplate\n")
    assert "arguments" not in manifest["spec"] and "workflow.parameters" not in json.dumps(manifest)
    assert run_task(manifest, "t1", tmp_path / "pod")[0] == 1 + 1 + 100


def test_a_cron_workflows_scripts_run_the_runtime_and_code_of_its_parameter(tmp_path: Path) -> None:
    manifest = _two_functions_as(tmp_path, "kind: CronWorkflow\nschedule: '0 3 * * *'\n")
    (param,) = manifest["spec"]["workflowSpec"]["arguments"]["parameters"]
    assert param["name"] == "heraspec-code" and "def main(" in pod.unpack_code(param["value"])["runtime"]
    assert "def main(" not in json.dumps(manifest)
    assert run_task(manifest, "t1", tmp_path / "pod")[0] == 1 + 1 + 100  # the pod gets the parameter's value
    assert run_task(manifest, "t1", tmp_path / "pod")[0] == 1 + 1 + 100


def test_a_parameter_named_like_the_code_parameter_is_refused(tmp_path: Path) -> None:
    F.clear_cache()
    package(tmp_path, 1, 10)
    path = spec(tmp_path, ["big.m0:f"])
    path.write_text(path.read_text().replace("name: big\n", "name: big\nparameters: {heraspec-code: x}\n"))
    proc = cli("validate", str(path), "--path", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1 and "parameter name 'heraspec-code' is reserved" in proc.stdout + proc.stderr


def test_an_unknown_run_parameter_lists_only_the_specs_own(tmp_path: Path) -> None:
    F.clear_cache()
    package(tmp_path, 1, 10)
    proc = cli("run", str(spec(tmp_path, ["big.m0:f"])), "--path", str(tmp_path), "-p", "nope=1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "this workflow takes no parameters" in proc.stderr and "heraspec-code" not in proc.stderr
