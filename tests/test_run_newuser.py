"""`heraspec run` as a new user meets it (issue 28): the spec's project holds its runs and cache
wherever heraspec is started from, `heraspec run` alone runs the spec `init` wrote, a failure is
told once, tracebacks point into the run's own folder, a GPU task gets a word. Real CLI runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import heraspec

STEPS = '''\
import os


def count(n: int) -> dict:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("ran\\n")
    return {"n": n}


def boom(n: int) -> int:
    raise ValueError(f"bad value {n}")
'''


def project(tmp_path: Path, spec: dict) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "steps.py").write_text(STEPS)
    (proj / "heraspec.yaml").write_text(json.dumps(spec))
    return proj


def test_runs_and_the_cache_live_beside_the_spec_wherever_heraspec_starts(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    proj = project(tmp_path, {"name": "cached", "tasks": {
        "count": {"function": "steps:count", "args": {"n": 2}, "cache": True, "env": {"COUNTER": str(counter)}}}})
    first = heraspec("run", "proj/heraspec.yaml", "--json", cwd=tmp_path)  # from the parent folder
    assert first.returncode == 0, first.stderr
    second = heraspec("run", "--json", cwd=proj)  # from the spec's folder, the spec named by default
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["tasks"]["count"] == {**json.loads(second.stdout)["tasks"]["count"],
                                                          "phase": "Succeeded", "cached": True}
    assert counter.read_text() == "ran\n"  # it ran once: the second run hit the first run's cache
    assert not (tmp_path / ".heraspec").exists()
    runs = sorted(p.name for p in (proj / ".heraspec" / "runs").iterdir())
    assert len(runs) == 2 and all(r.startswith("cached-") for r in runs)
    assert Path(json.loads(first.stdout)["run_dir"]).parent == (proj / ".heraspec" / "runs").resolve()


def test_run_without_a_spec_says_what_it_looked_for(tmp_path: Path) -> None:
    r = heraspec("run", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == ("heraspec: error: no SPEC given and no heraspec.yaml or heraspec.toml in this folder: "
                                "name the spec to run (heraspec run FILE), or create one with `heraspec init`")


def test_a_failure_is_told_once_and_its_traceback_points_into_the_run_folder(tmp_path: Path) -> None:
    proj = project(tmp_path, {"name": "fails", "tasks": {"boom": {"function": "steps:boom", "args": {"n": 3}}}})
    r = heraspec("run", "--quiet", cwd=proj)
    assert r.returncode == 1
    assert r.stderr.count("bad value 3") == 1, r.stderr
    assert "  ✗ boom  Failed" in r.stderr and "(exit code 1)" in r.stderr
    assert "\nboom: Failed: exit code 1\n" in r.stderr and "  | ValueError: bad value 3\n" in r.stderr
    (run_dir,) = (proj / ".heraspec" / "runs").iterdir()
    err = (run_dir / "boom" / "stderr.log").read_text()
    # the script each traceback starts in is the run's own (kept in .scripts/ by a run without --keep)
    assert f'File "{run_dir.resolve()}/.scripts/' in err, err
    assert "pending" not in err
    assert not (proj / ".heraspec" / "runs" / "pending").exists()


def test_a_gpu_task_run_here_gets_a_note(tmp_path: Path) -> None:
    proj = project(tmp_path, {"name": "gpu", "tasks": {
        "train": {"function": "steps:count", "args": {"n": 1}, "env": {"COUNTER": str(tmp_path / "c")},
                  "resources": {"gpu": 1}}}})
    r = heraspec("run", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert ("  note: template 'count' asks for nvidia.com/gpu: locally no GPU is reserved for it; it runs with "
            "whatever this machine has (on the CPU when there is no GPU, which may be slow)") in r.stderr


# A module the task imports that holds "{{" (carried encoded) and one that does not: both must
# reach /vol; "/vol" as a plain string (a URL route) must stay as written.
PLAIN = '''\
import os
from pathlib import Path

ROUTE = "/vol"


def write(n: int) -> dict:
    os.makedirs("/vol/out", exist_ok=True)
    with open("/vol/out/plain.txt", "w") as f:
        f.write(f"plain {n}")
    from braces import write_braced
    write_braced(n)
    return {"route": ROUTE, "url": "http://example.com/vol/x", "listed": sorted(os.listdir("/vol/out")),
            "exists": Path("/vol/out/plain.txt").exists()}


def broken(n: int) -> str:
    return open("/vol/missing.txt").read()
'''

BRACED = '''\
TEMPLATE = "{{ not an argo tag }}"


def write_braced(n: int) -> None:
    with open("/vol/out/braced.txt", "w") as f:
        f.write(f"braced {n}")
'''


@pytest.mark.parametrize("defaults", [{}, {"code": "image", "image": "ghcr.io/acme/steps:1"}],
                         ids=["forked", "started"])
def test_pod_paths_reach_the_volume_from_every_module_and_no_string_is_rewritten(tmp_path: Path, defaults: dict) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "steps.py").write_text(PLAIN)
    (proj / "braces.py").write_text(BRACED)
    volume = {"volume": {"size": "1Gi", "mount_path": "/vol"}}
    (proj / "heraspec.yaml").write_text(json.dumps({"name": "vol", "defaults": defaults, "tasks": {
        "write": {"function": "steps:write", "args": {"n": 4}, "resources": volume},
        "broken": {"function": "steps:broken", "args": {"n": 4}, "resources": volume}}}))
    r = heraspec("run", "--json", "--keep", cwd=proj)
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["tasks"]["write"]["result"] == {"route": "/vol", "url": "http://example.com/vol/x",
                                               "listed": ["braced.txt", "plain.txt"], "exists": True}
    assert not Path("/vol/out").exists()
    volume_dir = Path(out["run_dir"]) / "volumes" / "write-vol" / "out"
    assert {p.name: p.read_text() for p in volume_dir.iterdir()} == {"braced.txt": "braced 4", "plain.txt": "plain 4"}
    # a missing file: the local place is named, and the extra frame says what it is
    err = (Path(out["run_dir"]) / "broken" / "stderr.log").read_text()
    assert err.endswith(f"FileNotFoundError: [Errno 2] No such file or directory: "
                        f"'{Path(out['run_dir']) / 'volumes' / 'broken-vol' / 'missing.txt'}'\n"), err
    assert 'File "<heraspec run: pod paths mapped to the run folder>", line ' in err and ", in open\n" in err


def test_cache_list_shows_what_heraspec_keeps_with_sizes_and_prune_removes_it(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    proj = project(tmp_path, {"name": "kept", "tasks": {
        "count": {"function": "steps:count", "args": {"n": 2}, "cache": True, "env": {"COUNTER": str(counter)}}}})
    env = {"HERASPEC_CACHE_DIR": str(tmp_path / "envcache")}
    for _ in range(3):
        assert heraspec("run", cwd=proj, env=env).returncode == 0
    (proj / ".heraspec" / "runs" / "kept-running").mkdir()  # a run without summary.json: running, or killed
    listed = heraspec("cache", "list", "heraspec.yaml", cwd=proj, env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    runs = proj / ".heraspec" / "runs"
    sizes = {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in runs.iterdir()}
    assert lines[0] == f"run folders: 4, {sum(sizes.values()) / 1000:.1f} kB in {runs}"
    assert sum(ln.endswith("  Succeeded") for ln in lines) == 3 and any(ln.endswith("  no summary.json") for ln in lines)
    assert "task cache: 1, " in listed.stdout and "  1 entries" in listed.stdout
    assert "Python environments (shared by all projects): 1, " in listed.stdout and "  no packages" in listed.stdout
    assert lines[-1].startswith("total: ")

    pruned = heraspec("cache", "prune", "--runs", "--keep", "1", cwd=proj, env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.splitlines()[-1].startswith("removed 2 items, ")
    assert "kept 1 run folder without summary.json (running, or killed)" in pruned.stderr
    assert len(list(runs.iterdir())) == 2  # the newest finished run, and the one still running
    assert counter.read_text() == "ran\n"
    assert heraspec("cache", "prune", "--results", "--envs", cwd=proj, env=env).returncode == 0
    assert not list((proj / ".heraspec" / "cache").rglob("*.json"))
    assert not [p for p in (tmp_path / "envcache" / "envs").iterdir() if p.is_dir()]
    assert heraspec("run", cwd=proj, env=env).returncode == 0
    assert counter.read_text() == "ran\nran\n"  # its cached result was pruned: it ran again


def test_the_python_api_keeps_runs_beside_the_spec_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import heraspec as api

    proj = project(tmp_path, {"name": "api", "tasks": {
        "count": {"function": "steps:count", "args": {"n": 5}, "env": {"COUNTER": str(tmp_path / "c")}}}})
    monkeypatch.chdir(tmp_path)
    result = api.run("proj/heraspec.yaml")
    assert result.phase == "Succeeded" and result.tasks["count"].result == {"n": 5}
    assert result.run_dir.parent == (proj / ".heraspec" / "runs").resolve()
    assert not (tmp_path / ".heraspec").exists()
