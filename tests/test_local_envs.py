"""`heraspec run` gives each task what its pod would have: an isolated Python with the standard
library, the carried code and its declared packages (a real pip install of a small pure-Python
distribution from the package index, cached for the test session), never heraspec's own
environment; and the pod's own pip step, run as Argo would run the script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import heraspec
from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

pytestmark = [pytest.mark.slow,  # real pip installs into cached environments
              pytest.mark.usefixtures("fresh_functions")]

PROJECT = Path(__file__).parent / "fixtures" / "project"
TABULATE = "tabulate==0.9.0"  # small, pure Python, not a dependency of heraspec or its tests

STEPS = """\
def table(rows: list) -> str:
    from tabulate import tabulate

    return tabulate(rows, tablefmt="plain")


def uses_yaml() -> str:
    import yaml

    return yaml.__name__
"""


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One environment cache for the session: each package set is installed once."""
    return tmp_path_factory.mktemp("heraspec-cache")


def cli(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    return heraspec_cli(*args, cwd=cwd, env={"HERASPEC_CACHE_DIR": str(cache)})


def project(tmp_path: Path, spec: str, name: str = "spec.yaml") -> Path:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    path = tmp_path / name
    path.write_text(spec, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_declared_packages_are_installed_once_and_used(tmp_path: Path, cache: Path, fmt: str) -> None:
    text = (f"name: tab\npackages: ['{TABULATE}']\ntasks:\n  a: {{function: steps:table, args: {{rows: [[1, 2]]}}}}\n"
            "  b: {function: steps:table, args: {rows: [[3, 4]]}}\n" if fmt == "yaml" else
            f'name = "tab"\npackages = ["{TABULATE}"]\n[tasks.a]\nfunction = "steps:table"\nargs = {{rows = [[1, 2]]}}\n'
            '[tasks.b]\nfunction = "steps:table"\nargs = {rows = [[3, 4]]}\n')
    spec = project(tmp_path, text, f"spec.{fmt}")
    assert cli("validate", str(spec), cwd=tmp_path, cache=cache).returncode == 0  # tabulate is declared
    first = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r1"), cwd=tmp_path, cache=cache)
    assert first.returncode == 0, first.stderr
    assert {k: v["result"] for k, v in json.loads(first.stdout)["tasks"].items()} == {"a": "1  2", "b": "3  4"}
    def envs() -> list[Path]:
        return [p for p in (cache / "envs").iterdir() if TABULATE in _marker(p)]

    assert len(envs()) == 1  # both tasks (and both formats) share one environment
    again = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r2"), cwd=tmp_path, cache=cache)
    assert again.returncode == 0 and "installing packages" not in again.stderr  # reused across runs
    assert len(envs()) == 1


def _marker(folder: Path) -> str:
    """What a complete environment holds (its ready marker), or '' for anything else."""
    marker = folder / ".heraspec-ready"
    return marker.read_text() if marker.is_file() else ""


def test_installing_shows_progress_the_first_time(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    fresh = tmp_path_factory.mktemp("fresh-cache")
    spec = project(tmp_path, f"name: tab\ntasks:\n  a: {{function: steps:table, args: {{rows: [[5]]}}, "
                             f"packages: ['{TABULATE}']}}\n")
    proc = cli("run", str(spec), "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=fresh)
    assert proc.returncode == 0, proc.stderr
    tool = "uv" if shutil.which("uv") else "pip"  # uv when it is on PATH (heraspec's `lock` extra installs it)
    assert f"installing packages with {tool} into a cached environment ({fresh}/envs/" in proc.stderr
    assert "packages installed in " in proc.stderr


def test_a_package_heraspec_has_is_not_there_unless_declared(tmp_path: Path, cache: Path) -> None:
    # a custom image may have yaml, so validate lets it through; locally, as in a bare pod, it is absent
    spec = project(tmp_path, "name: iso\nimage: ghcr.io/acme/base:1\ntasks:\n  y: {function: steps:uses_yaml}\n")
    proc = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    task = json.loads(proc.stdout)["tasks"]["y"]
    assert task["phase"] == "Failed" and "ModuleNotFoundError: No module named 'yaml'" in task["message"]


def test_a_failed_install_fails_the_task_with_the_cause(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, "name: bad\ntasks:\n  a: {function: steps:table, args: {rows: []}, "
                             "packages: ['tabulate==0.0.0.1']}\n")
    proc = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    task = json.loads(proc.stdout)["tasks"]["a"]
    assert task["phase"] == "Failed"
    assert task["message"].startswith("installing packages tabulate==0.0.0.1 failed (exit code 1): ")
    # pip's reason, or uv's (when uv is on PATH)
    assert ("No matching distribution found for tabulate==0.0.0.1" in task["message"]
            or "there is no version of tabulate==0.0.0.1" in task["message"]), task["message"]
    # nothing half-made is left to be used: every environment folder in the cache is complete
    assert all((p / ".heraspec-ready").is_file() for p in (cache / "envs").iterdir() if p.is_dir())


def test_image_mode_runs_with_the_project_as_the_image_would_have_it(tmp_path: Path, cache: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: img\ndefaults: {code: image, image: ghcr.io/acme/shop:1}\n"
                    "tasks:\n  t: {function: shop.orders:total, args: {items: [1]}}\n")
    proc = cli("run", str(spec), "--path", str(PROJECT), "--json", "--workdir", str(tmp_path / "r"),
               cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tasks"]["t"]["result"]["amount"] == 1.2


def test_image_mode_exit_handlers_have_the_project_too(tmp_path: Path, cache: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: img\ndefaults: {code: image, image: ghcr.io/acme/shop:1}\n"
                    "tasks:\n  t: {function: shop.orders:total, args: {items: [1]}}\n"
                    "on_exit: {function: shop.orders:total, args: {items: [1, 2]}}\n")
    proc = cli("run", str(spec), "--path", str(PROJECT), "--json", "--workdir", str(tmp_path / "r"),
               cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    assert tasks["onExit"]["phase"] == "Succeeded", tasks["onExit"]
    assert tasks["onExit"]["result"]["amount"] > tasks["t"]["result"]["amount"]


@pytest.fixture(scope="session")
def pod_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A stand-in for the python image: an environment of its own with a pip (the base interpreter's
    when it has one)."""
    from heraspec.local.envs import base_python

    folder = tmp_path_factory.mktemp("pod") / "python"
    subprocess.run([base_python(), "-m", "venv", "--without-pip", "--system-site-packages", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        subprocess.run([base_python(), "-m", "venv", "--clear", str(folder)], check=True)  # a pip of its own
    return python


def test_the_pod_installs_the_packages_before_the_code_runs(tmp_path: Path, pod_python: str) -> None:
    spec = project(tmp_path, f"name: pod\npackages: ['{TABULATE}']\ntasks:\n  a: {{function: steps:table, "
                             "args: {rows: [[7, 8]]}}\n")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    result, stdout = run_task(compiled.manifest, "a", tmp_path / "pod", python=pod_python)
    assert result == "7  8" and stdout == ""  # quietly


def test_the_pod_fails_clearly_when_installation_fails(tmp_path: Path, pod_python: str) -> None:
    spec = project(tmp_path, "name: pod\npackages: ['tabulate==0.0.0.1']\ntasks:\n  a: {function: steps:table, "
                             "args: {rows: []}}\n")
    (compiled,) = heraspec.compile([str(spec)])
    with pytest.raises(AssertionError) as failed:
        run_task(compiled.manifest, "a", tmp_path / "pod", python=pod_python)
    assert "heraspec: installing packages tabulate==0.0.0.1 failed (pip exit code 1)" in str(failed.value)


@pytest.fixture(scope="session")
def uv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with `uv` (from its wheel on the package index), to put on PATH."""
    import shutil
    import sys
    import zipfile

    work = tmp_path_factory.mktemp("uv")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "uv", "-d", str(work)], check=True)
    wheel = next(work.glob("uv-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        member = next(n for n in z.namelist() if n.endswith(".data/scripts/uv"))
        z.extract(member, work)
    folder = work / "bin"
    folder.mkdir()
    shutil.copy(work / member, folder / "uv")
    (folder / "uv").chmod(0o755)
    return folder


def test_uv_installs_the_packages_when_it_is_on_path(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                                     uv_bin: Path) -> None:
    fresh = tmp_path_factory.mktemp("uv-cache")
    spec = project(tmp_path, f"name: tab\ntasks:\n  a: {{function: steps:table, args: {{rows: [[6]]}}, "
                             f"packages: ['{TABULATE}']}}\n")
    env = {"HERASPEC_CACHE_DIR": str(fresh), "PATH": f"{uv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "installing packages with uv into a cached environment" in proc.stderr
    assert json.loads(proc.stdout)["tasks"]["a"]["result"] == "6"


def test_the_bookshop_example_runs_task_by_task_as_argo_would(tmp_path: Path, pod_python: str) -> None:
    """The example's package (four modules, relative and absolute imports) and its declared package,
    each task alone in an empty folder with a bare interpreter, results passed on as Argo passes them."""
    (compiled,) = heraspec.compile([str(Path(__file__).resolve().parents[1] / "examples" / "bookshop.yaml")])
    assert_argo_valid(compiled.manifest)
    m = compiled.manifest
    shelves = [run_task(m, "load", tmp_path / f"load-{g}", item={"genre": g})[0] for g in ("novel", "poetry")]
    assert [len(s) for s in shelves] == [2, 2]
    priced, _ = run_task(m, "price", tmp_path / "price", results={"load": shelves})
    assert [b["price"] for b in priced] == [11.87, 9.4, 6.84, 6.08]
    table, stdout = run_task(m, "report", tmp_path / "report", results={"price": priced}, python=pod_python)
    assert table.splitlines()[-1].split() == ["total", "34.19", "EUR"] and table in stdout
