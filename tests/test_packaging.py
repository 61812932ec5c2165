"""What `pip install heraspec` and the sdist hold: built for real with `python -m build` (an isolated
build from the package index), then inspected and installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the sdist and wheel and installs them

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "-o", str(out), str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    # the license as an SPDX expression, not the table form setuptools deprecates
    assert "project.license` as a TOML table is deprecated" not in log
    assert "License classifiers are deprecated" not in log
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def test_the_wheel_ships_the_examples_the_schema_and_the_license(dist):
    names = set(zipfile.ZipFile(dist["wheel"]).namelist())
    for rel in ("diamond.yaml", "diamond.toml", "steps.py", "ml-pipeline.yaml", "mlpipe/train.py"):
        assert f"heraspec/examples/{rel}" in names
    assert "heraspec/heraspec.schema.json" in names
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(dist["wheel"]).read(meta).decode()
    assert "License-Expression: Apache-2.0" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_the_sdist_holds_what_its_tests_need(dist):
    names = {n.split("/", 1)[1] for n in tarfile.open(dist["sdist"]).getnames() if "/" in n}
    for rel in ("LICENSE", "tests/__init__.py", "tests/argo_server.py", "tests/argo_schema.py", "tests/argo_exec.py",
                "tests/fixtures/bad/cycle.yaml", "tests/fixtures/bad/cycle.yaml.expected", "examples/diamond.yaml",
                "schemas/heraspec.schema.json", "benchmarks/cases.py", ".pre-commit-hooks.yaml"):
        assert rel in names, rel
    assert not any("node_modules" in n or "__pycache__" in n for n in names)


def test_after_pip_install_the_readme_example_is_one_command_away(dist, tmp_path: Path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    str(dist["wheel"])], check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def heraspec(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "heraspec", *args], cwd=work, env=env, capture_output=True,
                              text=True)

    where = subprocess.run([sys.executable, "-c", "import heraspec; print(heraspec.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True).stdout
    assert where.startswith(str(site))  # the installed wheel, not the checkout
    assert heraspec("init", "--example", "diamond", "examples").returncode == 0
    proc = heraspec("run", "examples/diamond.yaml", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tasks"]["D"]["result"] == "This is task D!"
    assert "A | This is task A!" in proc.stderr.splitlines()
