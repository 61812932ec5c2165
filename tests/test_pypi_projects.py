"""Real projects from the package index, unmodified, as a project's own source (issue 25): the
pure-Python wheels of more-itertools, humanize, natsort, toolz, tabulate and semver (their source
modules and data files, as the sdists hold them, without building anything) are downloaded with pip
(skipped when the index cannot be reached), unpacked, and given with --path.
`validate` accepts them; every compiled script run as Argo's executor runs it, and `heraspec run`,
return what calling the function directly returns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import heraspec
from heraspec.python import functions as F
from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli

WHEELS = ["more-itertools==11.2.1", "humanize==4.17.0", "natsort==8.4.0", "toolz==1.2.0", "tabulate==0.10.0",
          "semver==3.2.0"]
CASES = {
    "take": ("more_itertools:take", {"n": 2, "iterable": [5, 6, 7]}),  # star re-exports from more.py, recipes.py
    "first": ("more_itertools:first", {"iterable": [9, 8]}),
    "intcomma": ("humanize:intcomma", {"value": 1234567}),  # __init__ re-exports, locale data files
    "naturalsize": ("humanize:naturalsize", {"value": 3000000}),
    "natsorted": ("natsort:natsorted", {"seq": ["a10", "a2", "a1"]}),  # conditional imports, enum defaults
    "frequencies": ("toolz:frequencies", {"seq": ["a", "b", "a"]}),  # star imports, curried sub-package
    "table": ("tabulate:tabulate", {"tabular_data": [[1, 2], [3, 4]], "headers": ["x", "y"]}),  # optional wcwidth
    "compare": ("semver:compare", {"ver1": "1.2.3", "ver2": "1.10.0"}),
}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    import zipfile

    where = tmp_path_factory.mktemp("wheels")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                           "-d", str(where), *WHEELS], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"the package index cannot be reached: {proc.stderr.strip().splitlines()[-1:]}")
    out = []
    for wheel in sorted(where.glob("*.whl")):
        folder = where / wheel.name.split("-")[0]
        with zipfile.ZipFile(wheel) as z:
            z.extractall(folder)
        out.append(str(folder))
    assert len(out) == len(WHEELS)
    return out


def direct(roots: list[str], ref: str, args: dict) -> object:
    module, name = ref.split(":")
    code = (f"import json, sys; sys.path[:0] = {roots!r}; from {module} import {name}; "
            f"print(json.dumps({name}(**json.loads(sys.argv[1]))))")
    proc = subprocess.run([sys.executable, "-I", "-c", code, json.dumps(args)], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow  # downloads six wheels and runs eight tasks three ways: ~25 s
def test_real_projects_run_as_direct_calls_do(roots: list[str], tmp_path: Path) -> None:
    F.clear_cache()
    spec = tmp_path / "pypi.yaml"
    spec.write_text("name: pypi\ntasks:\n" + "".join(f"  {t}: {{function: '{r}', args: {json.dumps(a)}}}\n"
                                                     for t, (r, a) in CASES.items()))
    paths = [x for r in roots for x in ("--path", r)]
    proc = cli("validate", str(spec), *paths, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(spec)], path=roots)
    assert_argo_valid(compiled.manifest)
    expected = {t: direct(roots, r, a) for t, (r, a) in CASES.items()}
    for task in CASES:
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == expected[task], task
    run = cli("run", str(spec), *paths, "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {t: v["result"] for t, v in json.loads(run.stdout)["tasks"].items()} == expected
