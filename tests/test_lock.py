"""Locked packages (`heraspec lock`): every pod and `heraspec run` install the same pinned, hashed
distributions; package mistakes are found at validate; an install failure fails once, with the
installer's reason. Real resolves and installs of a small pure-Python distribution from the index."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

import heraspec
from heraspec.python import functions as F
from tests.argo_exec import pod_env, run_task, workflow_spec
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

STEPS = """\
def version(rows: list) -> str:
    import importlib.metadata
    from tabulate import tabulate

    return tabulate(rows, tablefmt="plain") + " " + importlib.metadata.version("tabulate")


def hello() -> str:
    import importlib.util

    return "tabulate" if importlib.util.find_spec("tabulate") else "bare"
"""
LOOSE = "tabulate>=0.8,<0.10"  # 0.9.0 is the newest that fits: what the lock pins


pytestmark = pytest.mark.usefixtures("fresh_functions")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lock-cache")


def fresh_pod(folder: Path) -> str:
    """A stand-in for a new pod of the python image: a fresh interpreter with pip and nothing else."""
    from heraspec.local.envs import base_python

    subprocess.run([base_python(), "-m", "venv", str(folder)], check=True)
    return str(folder / "bin" / "python")


def cli(*args: str, cwd: Path, cache: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return heraspec_cli(*args, cwd=cwd, env={"HERASPEC_CACHE_DIR": str(cache), **(env or {})})


def project(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


SPEC = f"name: tab\npackages: ['{LOOSE}']\ntasks:\n  a: {{function: steps:version, args: {{rows: [[1, 2]]}}}}\n"


def _env(manifest: dict, task: str = "a") -> dict[str, dict]:
    """The env of the script a DAG task runs (`exit`: the workflow's exit handler's)."""
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["onExit"] if task == "exit" else spec["entrypoint"]]["dag"]["tasks"]
    name = dag[0]["template"] if task == "exit" else next(t["template"] for t in dag if t["name"] == task)
    return {e["name"]: e for e in templates[name]["script"]["env"]}


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_the_pods_and_the_local_run_install_exactly_the_locked_pins(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, SPEC)
    locked = cli("lock", str(spec), cwd=tmp_path, cache=cache)
    assert locked.returncode == 0, locked.stderr
    lock = json.loads((tmp_path / "spec.yaml.lock").read_text())
    (entry,) = lock["sets"].values()
    assert entry["requirements"] == [LOOSE] and entry["python"] == "3.12" and entry["platform"] == "linux"
    (pin,) = entry["pins"]
    assert re.fullmatch(r"tabulate==0\.9\.0( --hash=sha256:[0-9a-f]{64})+", pin), pin

    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    assert json.loads(_env(compiled.manifest)["HERASPEC_PACKAGES"]["value"])["locked"] == [pin]
    pod, _ = run_task(compiled.manifest, "a", tmp_path / "pod", python=fresh_pod(tmp_path / "image"))
    run = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)
    assert run.returncode == 0, run.stderr
    assert pod == json.loads(run.stdout)["tasks"]["a"]["result"] == "1  2 0.9.0"

    # the hashes are required, in the pod and locally: a pin whose hash is not the file's fails both
    entry["pins"] = [re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, pin)]
    (tmp_path / "spec.yaml.lock").write_text(json.dumps(lock))
    F.clear_cache()
    (tampered,) = heraspec.compile([str(spec)])
    with pytest.raises(AssertionError, match="(?i)hash"):
        run_task(tampered.manifest, "a", tmp_path / "pod2", python=fresh_pod(tmp_path / "image2"))
    bad = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r2"), cwd=tmp_path, cache=cache)
    assert bad.returncode == 1 and "hash" in json.loads(bad.stdout)["tasks"]["a"]["message"].lower()


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_equal_locks_share_one_environment(tmp_path: Path, cache: Path) -> None:
    # a loose and an exact requirement that lock to the same pins: one environment, not two
    for sub, req in (("one", LOOSE), ("two", "tabulate==0.9.0")):
        folder = tmp_path / sub
        folder.mkdir()
        spec = project(folder, SPEC.replace(LOOSE, req))
        assert cli("lock", str(spec), cwd=folder, cache=cache).returncode == 0
        assert cli("run", str(spec), "--workdir", str(folder / "r"), cwd=folder, cache=cache).returncode == 0
    markers = [json.loads((p / ".heraspec-ready").read_text()) for p in (cache / "envs").iterdir()
               if (p / ".heraspec-ready").is_file()]
    assert sum(1 for m in markers if "tabulate==0.9.0" in json.dumps(m)) == 1


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_changing_packages_without_relocking_is_refused(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, SPEC)
    assert cli("lock", str(spec), cwd=tmp_path, cache=cache).returncode == 0
    spec.write_text(SPEC.replace(LOOSE, "tabulate>=0.8"), encoding="utf-8")
    proc = cli("validate", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    assert f"{spec}:2:11: error: packages changed since spec.yaml.lock was written" in proc.stderr
    assert f"run `heraspec lock {spec}`" in proc.stderr
    assert cli("run", str(spec), cwd=tmp_path, cache=cache).returncode == 1  # nothing runs on a stale lock
    assert cli("lock", str(spec), cwd=tmp_path, cache=cache).returncode == 0  # the command it names fixes it
    assert cli("validate", str(spec), cwd=tmp_path, cache=cache).returncode == 0


def test_packages_without_a_lock_work_as_before_with_a_note(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, SPEC)
    proc = cli("validate", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 0 and proc.stdout == f"{spec}: ok\n"
    assert f"{spec}: note: packages are not locked" in proc.stderr and "heraspec lock" in proc.stderr
    (compiled,) = heraspec.compile([str(spec)])
    assert "locked" not in json.loads(_env(compiled.manifest)["HERASPEC_PACKAGES"]["value"])


def test_a_set_that_cannot_be_resolved_is_said_with_the_resolvers_reason(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, SPEC.replace(LOOSE, "tabulate==0.0.0.1"))
    proc = cli("lock", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot be locked" in proc.stderr and "tabulate==0.0.0.1" in proc.stderr
    assert not (tmp_path / "spec.yaml.lock").exists()


def test_the_exit_handler_installs_only_its_own_packages(tmp_path: Path) -> None:
    spec = project(tmp_path, SPEC + "on_exit: {function: steps:hello}\n")
    (compiled,) = heraspec.compile([str(spec)])
    assert "HERASPEC_PACKAGES" in _env(compiled.manifest, "a")
    assert "HERASPEC_PACKAGES" not in _env(compiled.manifest, "exit")
    F.clear_cache()
    spec.write_text(SPEC + "on_exit: {function: steps:hello, packages: [six]}\n", encoding="utf-8")
    (compiled,) = heraspec.compile([str(spec)])
    assert json.loads(_env(compiled.manifest, "exit")["HERASPEC_PACKAGES"]["value"])["packages"] == ["six"]


@pytest.mark.parametrize("imported,right", [("sklearn", "scikit-learn"), ("yaml", "PyYAML"), ("cv2", "opencv-python"),
                                            ("PIL", "Pillow"), ("bs4", "beautifulsoup4")])
def test_an_import_name_in_packages_is_refused_naming_the_distribution(tmp_path: Path, cache: Path,
                                                                       imported: str, right: str) -> None:
    spec = project(tmp_path, f"name: x\ntasks:\n  a: {{function: steps:hello, packages: ['{imported}>=1']}}\n")
    proc = cli("validate", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    assert (f"{spec}:3:41: error: '{imported}' is the name you import, not a distribution pip installs: "
            f"'import {imported}' comes from the distribution '{right}'") in proc.stderr
    assert f"hint: write '{right}>=1'" in proc.stderr


def test_an_invalid_requirement_is_located(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, "name: x\npackages: [six, 'numpy>=']\ntasks:\n  a: {function: steps:hello}\n")
    proc = cli("validate", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1 and f"{spec}:2:17: error: 'numpy>=' is not a requirement pip can read" in proc.stderr


def test_credentials_in_urls_are_refused_and_never_printed(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, "name: x\npip_index_url: https://bob:s3cret@pypi.example.com/simple\n"
                             "pip_extra_index_urls: ['https://tok3n@extra.example.com/simple']\n"
                             "tasks:\n  a: {function: steps:version, packages: [tabulate],\n"
                             "      args: {rows: {artifact: 'https://alice:pa55@files.example.com/rows.json'}}}\n")
    proc = cli("validate", str(spec), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    assert f"{spec}:2:16: error: 'https://***@pypi.example.com/simple' has credentials in it" in proc.stderr
    assert "pip_index_url: {secret: NAME, key: KEY}" in proc.stderr
    assert f"{spec}:3:24: error: 'https://***@extra.example.com/simple' has credentials in it" in proc.stderr
    assert "artifact URL 'https://***@files.example.com/rows.json' has credentials in it" in proc.stderr
    for secret in ("s3cret", "tok3n", "pa55"):
        assert secret not in proc.stderr + proc.stdout


def test_the_index_url_can_come_from_a_secret(tmp_path: Path) -> None:
    spec = project(tmp_path, SPEC + "pip_index_url: {secret: pypi-index, key: url}\n")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    env = _env(compiled.manifest)
    assert env["PIP_INDEX_URL"] == {"name": "PIP_INDEX_URL",
                                    "valueFrom": {"secretKeyRef": {"name": "pypi-index", "key": "url"}}}
    assert "index_url" not in json.loads(env["HERASPEC_PACKAGES"]["value"])


FAILING = ("name: bad\ntasks:\n  a: {function: steps:version, args: {rows: []}, retry: 3,\n"
           "      packages: ['tabulate==0.0.0.1']}\n")


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_a_failing_install_fails_once_with_the_installers_reason(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, FAILING)
    proc = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)
    assert proc.returncode == 1
    task = json.loads(proc.stdout)["tasks"]["a"]
    assert task["phase"] == "Failed" and task["attempts"] == 1  # retry: 3 is for the code, not the install
    assert "tabulate==0.0.0.1" in task["message"] and ("No matching distribution" in task["message"]
                                                       or "no version of tabulate==0.0.0.1" in task["message"])
    text = cli("run", str(spec), "--workdir", str(tmp_path / "r2"), cwd=tmp_path, cache=cache)
    logs = re.search(r"^  logs: (.+)$", text.stderr, re.M)
    assert logs, text.stderr
    assert "tabulate==0.0.0.1" in (Path(logs.group(1)) / "stderr.log").read_text()  # the installer's own output


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_the_pod_ends_a_failed_install_with_the_code_its_retry_strategy_does_not_retry(tmp_path: Path) -> None:
    spec = project(tmp_path, FAILING)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    tmpl = next(t for t in workflow_spec(compiled.manifest)["templates"] if "script" in t)
    assert tmpl["retryStrategy"] == {"limit": "3", "retryPolicy": "OnFailure", "expression": 'lastRetry.exitCode != "97"'}
    (tmp_path / "pod").mkdir()
    (tmp_path / "pod" / "script.py").write_text(tmpl["script"]["source"])
    env = {"PATH": os.environ["PATH"], **pod_env(compiled.manifest, tmpl)}
    proc = subprocess.run([fresh_pod(tmp_path / "image"), "-I", "script.py"], cwd=tmp_path / "pod", env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 97
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("heraspec: installing packages tabulate==0.0.0.1 failed (pip exit code 1): ERROR: ")


def test_the_bundled_example_with_packages_is_locked(tmp_path: Path, cache: Path) -> None:
    proc = cli("init", str(tmp_path / "shop"), "--example", "bookshop", cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "shop" / "bookshop.yaml.lock").is_file()
    checked = cli("validate", "bookshop.yaml", cwd=tmp_path / "shop", cache=cache)
    assert (checked.returncode, checked.stderr) == (0, "")  # no note: the pins are there
    F.clear_cache()
    (compiled,) = heraspec.compile([str(tmp_path / "shop" / "bookshop.yaml")])
    assert json.loads(_env(compiled.manifest, "report")["HERASPEC_PACKAGES"]["value"])["locked"][0].startswith(
        "tabulate==0.9.0 --hash=sha256:")


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_an_index_from_a_secret_is_locked_against_that_index_only(tmp_path: Path, cache: Path) -> None:
    spec = project(tmp_path, SPEC + "pip_index_url: {secret: pypi-index, key: url}\n")
    proc = cli("lock", str(spec), cwd=tmp_path, cache=cache, env={"PIP_INDEX_URL": ""})
    assert proc.returncode == 1 and "set PIP_INDEX_URL" in proc.stderr
    proc = cli("lock", str(spec), cwd=tmp_path, cache=cache, env={"PIP_INDEX_URL": "https://pypi.org/simple"})
    assert proc.returncode == 0, proc.stderr
    assert cli("validate", str(spec), cwd=tmp_path, cache=cache).returncode == 0


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_without_uv_pips_own_resolver_locks_the_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from heraspec.python import lock
    from heraspec.python.packages import PackageSet

    monkeypatch.setattr(lock, "_uv", lambda: None)  # as on a machine without uv
    (pin,) = lock.resolve_pins(PackageSet((LOOSE,)), "3.12")
    assert re.fullmatch(r"tabulate==0\.9\.0 --hash=sha256:[0-9a-f]{64}", pin), pin
    with pytest.raises(lock.LockError, match="tabulate==0.0.0.1"):
        lock.resolve_pins(PackageSet(("tabulate==0.0.0.1",)), "3.12")


def broken_sdist(folder: Path) -> Path:
    """A source distribution whose build fails, saying why, as a package needing a system library does."""
    import io
    import tarfile

    path = folder / "broken-1.0.tar.gz"
    files = {"broken-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n",
             "broken-1.0/setup.py": "import sys\nsys.stderr.write('broken needs libfoo-dev to build\\n')\nsys.exit(1)\n"}
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.slow  # real package installs and resolutions: 3-30 s each
def test_a_failed_build_shows_what_the_build_said(tmp_path: Path, cache: Path) -> None:
    sdist = broken_sdist(tmp_path)
    spec = project(tmp_path, f"name: b\ntasks:\n  a: {{function: steps:hello, retry: 2, "
                             f"packages: ['broken @ {sdist.as_uri()}']}}\n")
    proc = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=cache)
    task = json.loads(proc.stdout)["tasks"]["a"]
    assert task["phase"] == "Failed" and task["attempts"] == 1
    assert "broken needs libfoo-dev to build" in task["message"], task["message"]

    (compiled,) = heraspec.compile([str(spec)])
    tmpl = next(t for t in workflow_spec(compiled.manifest)["templates"] if "script" in t)
    (tmp_path / "pod").mkdir()
    (tmp_path / "pod" / "script.py").write_text(tmpl["script"]["source"])
    env = {"PATH": os.environ["PATH"], **pod_env(compiled.manifest, tmpl)}
    pod = subprocess.run([fresh_pod(tmp_path / "image"), "-I", "script.py"], cwd=tmp_path / "pod", env=env,
                         capture_output=True, text=True)
    assert pod.returncode == 97
    last = pod.stderr.strip().splitlines()[-1]
    assert last.startswith("heraspec: installing packages broken @ file:") and \
        "): broken needs libfoo-dev to build" in last, last


def test_a_cluster_without_internet_installs_the_locked_wheels_from_a_folder(tmp_path: Path, cache: Path) -> None:
    import functools
    import hashlib
    import http.server
    import threading

    spec = project(tmp_path, SPEC)
    wheels = tmp_path / "wheels"
    locked = cli("lock", str(spec), "--wheels", str(wheels), cwd=tmp_path, cache=cache)
    assert locked.returncode == 0, locked.stderr
    assert sorted(p.name for p in wheels.iterdir()) == ["index.html", "tabulate-0.9.0-py3-none-any.whl"]
    digest = hashlib.sha256((wheels / "tabulate-0.9.0-py3-none-any.whl").read_bytes()).hexdigest()
    (entry,) = json.loads((tmp_path / "spec.yaml.lock").read_text())["sets"].values()
    assert f"--hash=sha256:{digest}" in entry["pins"][0]  # the file the lock pins
    assert f'href="tabulate-0.9.0-py3-none-any.whl#sha256={digest}"' in (wheels / "index.html").read_text()

    # a pod that reaches no index (its pip's index is a closed port; no retries)
    offline = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0"}

    def pod(env: dict, name: str) -> str:
        F.clear_cache()
        spec.write_text(SPEC.replace("tasks:", "defaults: {env: %s}\ntasks:" % json.dumps(env)))
        (compiled,) = heraspec.compile([str(spec)])
        assert_argo_valid(compiled.manifest)
        return run_task(compiled.manifest, "a", tmp_path / name, python=fresh_pod(tmp_path / f"image-{name}"))[0]

    with pytest.raises(AssertionError, match="script failed"):
        pod(offline, "cut-off")
    # the folder mounted in the pod
    assert pod({**offline, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}, "mounted") == "1  2 0.9.0"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(wheels))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:  # the folder served (its index.html lists the wheels), to a pod and to heraspec run
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        assert pod({**offline, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": url}, "served") == "1  2 0.9.0"
        spec.write_text(SPEC)
        dead = "http://127.0.0.1:9"  # heraspec run's installer reaches no index either
        run = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "r"), cwd=tmp_path, cache=tmp_path / "c",
                  env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": url, "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
                       "NO_PROXY": "127.0.0.1"})
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["tasks"]["a"]["result"] == "1  2 0.9.0"
    finally:
        server.shutdown()
