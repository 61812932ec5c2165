"""Third-party packages: `packages` merged from spec, defaults and task; every import of the carried
code checked at validate time; the size guard and `code: image`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heraspec
from tests.argo_exec import run_script, workflow_spec
from tests.cli import heraspec as cli
from tests.argo_schema import assert_argo_valid

STEPS = """\
import json
import yaml
from sklearn.svm import SVC


def fit(x: int) -> str:
    return yaml.safe_dump({"x": x}) + str(SVC) + json.dumps(x)


def plain(x: int) -> int:
    return x + 1
"""


pytestmark = pytest.mark.usefixtures("fresh_functions")


def write(tmp_path: Path, spec: str, name: str = "spec.yaml") -> Path:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    path = tmp_path / name
    path.write_text(spec, encoding="utf-8")
    return path


def test_imports_the_pod_would_not_have_are_located_errors_naming_the_distribution(tmp_path: Path) -> None:
    spec = write(tmp_path, "name: p\ntasks:\n  a: {function: steps:fit, args: {x: 1}}\n")
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    out = proc.stderr
    assert ("spec.yaml:3:17: error: 'import sklearn': 'sklearn' is not in the standard library, not a module of your "
            "project and not in this task's packages, so the pod will not have it (steps.py:3:1)\n"
            "  hint: add it to the task's (or the spec's) packages: packages: [scikit-learn] (the distribution that "
            "provides 'sklearn')") in out
    # yaml is installed where heraspec runs (a dependency of heraspec): local success would be a cluster failure
    assert ("'import yaml': 'yaml' is not in the standard library, not a module of your project and not in this "
            "task's packages, so the pod will not have it; it is installed where heraspec runs (PyYAML), but the pod "
            "has only what packages lists (steps.py:2:1)\n"
            "  hint: add it to the task's (or the spec's) packages: packages: [PyYAML]") in out
    assert "2 errors" in out


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_declared_packages_cover_imports_and_merge_task_wins(tmp_path: Path, fmt: str) -> None:
    if fmt == "yaml":
        text = ("name: p\npackages: [PyYAML>=6, scikit-learn]\ndefaults: {packages: [\"scikit-learn==1.5.*\"]}\n"
                "pip_extra_index_urls: [https://download.pytorch.org/whl/cpu]\n"
                "tasks:\n  a: {function: steps:fit, args: {x: 1}, packages: [PyYAML==6.0.2]}\n"
                "  b: {function: steps:fit, args: {x: 2}}\n  c: {function: steps:plain, args: {x: 3}}\n")
    else:
        text = ('name = "p"\npackages = ["PyYAML>=6", "scikit-learn"]\npip_extra_index_urls = '
                '["https://download.pytorch.org/whl/cpu"]\n[defaults]\npackages = ["scikit-learn==1.5.*"]\n'
                '[tasks.a]\nfunction = "steps:fit"\nargs = {x = 1}\npackages = ["PyYAML==6.0.2"]\n'
                '[tasks.b]\nfunction = "steps:fit"\nargs = {x = 2}\n[tasks.c]\nfunction = "steps:plain"\nargs = {x = 3}\n')
    spec = write(tmp_path, text, f"spec.{fmt}")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    templates = {t["name"]: t for t in workflow_spec(compiled.manifest)["templates"]}
    envs = {name: {e["name"]: e.get("value") for e in t["script"]["env"]} for name, t in templates.items() if "script" in t}
    installs = sorted(json.loads(e["HERASPEC_PACKAGES"])["packages"] for e in envs.values())
    assert installs == [["PyYAML==6.0.2", "scikit-learn==1.5.*"], ["PyYAML>=6", "scikit-learn==1.5.*"],
                        ["PyYAML>=6", "scikit-learn==1.5.*"]]
    assert all(json.loads(e["HERASPEC_PACKAGES"])["extra_index_urls"] == ["https://download.pytorch.org/whl/cpu"]
               for e in envs.values())
    assert all("\ninstall_packages()\n" in t["script"]["source"] for t in templates.values() if "script" in t)


def test_a_custom_image_may_have_the_imports(tmp_path: Path) -> None:
    spec = write(tmp_path, "name: p\nimage: ghcr.io/acme/ml:1\ntasks:\n  a: {function: steps:fit, args: {x: 1}}\n")
    assert cli("validate", str(spec), cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_bad_package_specs_are_located(tmp_path: Path, fmt: str) -> None:
    if fmt == "yaml":
        text = "name: p\npackages: [numpy, 'not a spec!', numpy<3]\ntasks:\n  a: {function: steps:plain, args: {x: 1}}\n"
        where = ["spec.yaml:2:19:", "spec.yaml:2:34:"]
    else:
        text = ('name = "p"\npackages = ["numpy", "not a spec!", "numpy<3"]\n[tasks.a]\nfunction = "steps:plain"\n'
                'args = {x = 1}\n')
        where = ["spec.toml:2:22:", "spec.toml:2:37:"]
    spec = write(tmp_path, text, f"spec.{fmt}")
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert f"{where[0]} error: 'not a spec!' is not a requirement pip can read" in proc.stderr
    assert f"{where[1]} error: 'numpy' is listed twice (items 1 and 3)" in proc.stderr


def test_carried_code_over_the_limit_points_to_image_mode(tmp_path: Path) -> None:
    import random

    rng = random.Random(0)  # incompressible: the carried code travels compressed
    big = "".join(f"C{i} = {''.join(rng.choice('0123456789abcdef') for _ in range(100))!r}\n" for i in range(3000))
    (tmp_path / "big.py").write_text(big + "\n\ndef f() -> int:\n    return len([" +
                                     ", ".join(f"C{i}" for i in range(3000)) + "])\n", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: big\ntasks:\n  a: {function: big:f}\n", encoding="utf-8")
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert "spec.yaml:3:17: error: the code 'big' carries into the pod is " in proc.stderr
    assert "compressed: over the 112 KiB a pod can receive" in proc.stderr and "set `code: image`" in proc.stderr
    spec.write_text("name: big\ndefaults: {code: image, image: ghcr.io/acme/big:1}\ntasks:\n  a: {function: big:f}\n")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    source = workflow_spec(compiled.manifest)["templates"][1]["script"]["source"]
    assert "from heraspec.python.pod import main\n" in source and "main('big', 'f', {})\n" in source
    assert "C1 = " not in source and len(source) < 500  # the image has the runtime and the code


def test_image_mode_ignores_what_cannot_be_carried_and_runs_with_the_package_installed(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "acme"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "steps.py").write_text("from .gen import *\n\n\ndef f(x: int) -> int:\n    return double(x)\n")
    (pkg / "gen.py").write_text("def double(x):\n    return 2 * x\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: img\ntasks:\n  a: {function: acme.steps:f, args: {x: 21}, code: image, image: acme:1}\n")
    (compiled,) = heraspec.compile([str(spec)], path=[str(tmp_path / "src")])
    assert_argo_valid(compiled.manifest)
    tmpl = workflow_spec(compiled.manifest)["templates"][1]
    # the image has the package installed: here, PYTHONPATH plays that part
    proc, result = run_script(tmpl["script"]["source"], tmp_path / "pod",
                              {"PYTHONPATH": str(tmp_path / "src"), "HERASPEC_IN_x": "21"}, flag="-s")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(result.read_text()) == 42


def test_a_module_of_yours_named_like_a_declared_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tabulate.py").write_text("def tabulate(rows):\n    return str(rows)\n")
    (tmp_path / "steps.py").write_text("from tabulate import tabulate\n\n\ndef f() -> str:\n    return tabulate([1])\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\ntasks:\n  a: {function: steps:f, packages: [tabulate==0.9.0]}\n")
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert ("spec.yaml:3:17: error: your module 'tabulate' has the name of a module of the package 'tabulate==0.9.0' "
            "this task installs: in the pod your 'tabulate' is imported instead of the package's") in proc.stderr


@pytest.mark.parametrize("retry, policy", [("3", "OnFailure"), ("{limit: 2, policy: OnError}", "OnError"),
                                           ("{limit: 2, policy: Always}", "Always")])
def test_a_task_with_packages_retries_what_the_same_task_without_them_retries(tmp_path: Path, retry: str,
                                                                              policy: str) -> None:
    # the expression that keeps a failed install from being retried would, alone, turn Argo's policy
    # to Always (RetryStrategy.RetryPolicyActual, mirrored by heraspec run's retries.policy)
    from heraspec.local.retries import policy as actual_policy

    spec = write(tmp_path, f"name: p\ntasks:\n  a: {{function: steps:fit, args: {{x: 1}}, packages: [PyYAML, scikit-learn], "
                           f"retry: {retry}}}\n  b: {{command: [echo, hi], retry: {retry}}}\n")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    strategies = {t["name"]: t["retryStrategy"] for t in workflow_spec(compiled.manifest)["templates"] if "retryStrategy" in t}
    with_packages, = (s for s in strategies.values() if "expression" in s)
    without, = (s for s in strategies.values() if "expression" not in s)
    assert actual_policy(with_packages) == actual_policy(without) == policy
