"""`heraspec run` against tasks that misbehave at the process level (issue 28): detached helpers,
tasks that signal their parent, floods of output, and heraspec itself being signalled. Real
subprocesses and real signals through the real CLI; after each, no process of the run survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import ROOT


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "heraspec", *args], cwd=tmp_path, env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:  # what it left behind may hold its pipes
            _, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            err = "(its output pipes are still held by processes it left behind)"
        pytest.fail(f"heraspec run did not end within {timeout}s:\n{err[-3000:]}")
    return proc.returncode, out, err


def alive(pid: int) -> bool:
    """Running or stopped; a zombie (killed, not yet reaped) is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def reap(pids: list[int]) -> None:
    """Kill what a failing test left behind (never needed when the test passes)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path: Path):
    """After each test (passing or not), kill what still works in its folder: a failing run must not
    leave processes on the machine (the assertions about survivors are made inside the tests)."""
    yield
    for line in survivors(tmp_path):
        reap([int(line.split(":", 1)[0])])


DETACH = '''\
import os, subprocess, sys


def detach(n: int) -> int:
    # a helper in its own session that keeps the task's stdout and stderr
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    with open(os.path.join(os.environ["PIDS"], f"pid-{n}"), "w") as f:
        f.write(str(child.pid))
    print("helper started")
    return n


def leave(code: int) -> int:
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    sys.exit(code)
'''


@pytest.mark.parametrize("defaults", [{}, {"code": "image", "image": "ghcr.io/acme/steps:1"}],
                         ids=["forked", "started"])
def test_a_detached_helper_does_not_hang_the_run_and_is_killed(tmp_path: Path, defaults: dict) -> None:
    (tmp_path / "steps.py").write_text(DETACH)
    pids = tmp_path / "pids"
    pids.mkdir()
    spec = {"name": "detached", "defaults": defaults, "tasks": {
        "quick": {"function": "steps:detach", "args": {"n": 1}, "env": {"PIDS": str(pids)}},
        "fails": {"function": "steps:leave", "args": {"code": 3}}}}
    (tmp_path / "spec.yaml").write_text(json.dumps(spec))
    t0 = time.monotonic()
    code, out, err = finish(start(tmp_path, "run", "spec.yaml", "--json"), timeout=60)
    took = time.monotonic() - t0
    helper = pids_in(pids / "pid-1")
    try:
        assert code == 1, err
        tasks = json.loads(out)["tasks"]
        assert tasks["quick"]["phase"] == "Succeeded" and tasks["quick"]["result"] == 1
        assert tasks["fails"]["phase"] == "Failed" and tasks["fails"]["message"] == "exit code 3"  # its real code
        assert took < 30, f"the run took {took:.1f}s"
        assert helper and not any(alive(p) for p in helper), "the detached helper survived the run"
    finally:
        reap(helper)


SIGNALLER = '''\
import os, signal, time


def nap(n: int) -> int:
    time.sleep(n / 10)
    return n


def handlers(n: int) -> dict:
    return {s.name: str(signal.getsignal(s)) for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)}


def signal_parent(sig: int) -> int:
    time.sleep(0.5)  # the naps are running meanwhile
    os.kill(os.getppid(), sig)
    time.sleep(0.5)
    return sig
'''


@pytest.mark.slow  # each signal's run waits for its tasks: ~3 s each, 5 signals
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL, signal.SIGSTOP],
                         ids=lambda s: signal.Signals(s).name)
def test_a_task_signalling_its_parent_harms_no_other_task(tmp_path: Path, sig: int) -> None:
    (tmp_path / "steps.py").write_text(SIGNALLER)
    spec = {"name": "signals", "tasks": {
        "signaller": {"function": "steps:signal_parent", "args": {"sig": int(sig)}},
        "nap1": {"function": "steps:nap", "args": {"n": 15}},
        "nap2": {"function": "steps:nap", "args": {"n": 16}},
        "later": {"function": "steps:nap", "args": {"n": 1}, "after": ["signaller"]},
        "handlers": {"function": "steps:handlers", "args": {"n": 0}, "after": ["later"]}}}
    (tmp_path / "spec.yaml").write_text(json.dumps(spec))
    code, out, err = finish(start(tmp_path, "run", "spec.yaml", "--json"), timeout=90)
    assert code == 0, err
    tasks = json.loads(out)["tasks"]
    fresh = subprocess.run([sys.executable, "-I", "-c", "import json, signal; print(json.dumps({s.name: "
                            "str(signal.getsignal(s)) for s in signal.Signals if s not in (signal.SIGKILL, "
                            "signal.SIGSTOP)}))"], capture_output=True, text=True, check=True)
    assert tasks.pop("handlers")["result"] == json.loads(fresh.stdout)  # a task's handlers are a fresh process's
    assert {n: (t["phase"], t["result"]) for n, t in tasks.items()} == {
        "signaller": ("Succeeded", int(sig)), "nap1": ("Succeeded", 15), "nap2": ("Succeeded", 16),
        "later": ("Succeeded", 1)}


def survivors(tmp_path: Path) -> list[str]:
    """Processes working in the test's folder (the tasks, what they started, the fork server)."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                cwd = os.readlink(f"/proc/{d}/cwd")
            except OSError:
                continue
            if (cwd == str(tmp_path) or cwd.startswith(f"{tmp_path}/")) and alive(int(d)):
                found.append(f"{d}: {Path(f'/proc/{d}/cmdline').read_bytes().replace(bytes(1), b' ').decode()}")
    return found


STOPPABLE = '''\
import os, subprocess, sys, time


def slow(n: int) -> int:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(os.path.join(os.environ["PIDS"], "slow"), "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(120)
    return n


def slow_cleanup(status: str) -> str:
    with open(os.path.join(os.environ["PIDS"], "cleanup-pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)
    return status


def cleanup(status: str) -> str:
    with open(os.path.join(os.environ["PIDS"], "cleanup"), "w") as f:
        f.write(status)
    return status
'''


def started_run(tmp_path: Path, *extra: str, on_exit: str = "cleanup") -> subprocess.Popen:
    (tmp_path / "steps.py").write_text(STOPPABLE)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {"PIDS": str(pids)}
    spec = {"name": "stoppable", "tasks": {
        "slow": {"function": "steps:slow", "args": {"n": 1}, "env": env},
        "queued": {"function": "steps:slow", "args": {"n": 2}, "env": env},
        "after": {"function": "steps:slow", "args": {"n": 3}, "env": env, "after": ["slow"]}},
        "on_exit": {"function": f"steps:{on_exit}", "args": {"status": {"workflow": "status"}}, "env": env}}
    (tmp_path / "spec.yaml").write_text(json.dumps(spec))
    proc = start(tmp_path, "run", "spec.yaml", "--parallelism", "1", "--json", *extra)
    deadline = time.monotonic() + 60
    while not (pids / "slow").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the task did not start: {proc.communicate()[1][-3000:]}")
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_the_run_as_argo_stop_does_and_leaves_no_process(tmp_path: Path, sig: int) -> None:
    proc = started_run(tmp_path)
    task_pids = pids_in(tmp_path / "pids" / "slow")
    try:
        proc.send_signal(sig)
        code, out, err = finish(proc, timeout=60)
        assert code == 128 + sig, err
        assert survivors(tmp_path) == []
        assert not any(alive(p) for p in task_pids)
        summary = json.loads(out)
        run_dir = Path(summary["run_dir"])
        assert json.loads((run_dir / "summary.json").read_text()) == summary
        assert summary["phase"] == "Failed" and summary["message"] == "Stopped with strategy 'Stop'"
        assert summary["stopped_by"] == signal.Signals(sig).name
        tasks = summary["tasks"]
        assert (tasks["slow"]["phase"], tasks["slow"]["message"]) == ("Failed", "workflow shutdown with strategy:  Stop")
        assert (tasks["queued"]["phase"], tasks["queued"]["message"]) == ("Failed", "workflow shutdown with strategy: Stop")
        assert tasks["after"]["phase"] == "Omitted"
        # the exit handler ran, with the workflow's status, as Argo runs onExit after `argo stop`
        assert tasks["onExit"]["phase"] == "Succeeded" and tasks["onExit"]["result"] == "Failed"
        assert (tmp_path / "pids" / "cleanup").read_text() == "Failed"
        assert (f"Stopped by {signal.Signals(sig).name}, as `argo stop` stops a workflow: interrupted: slow; "
                "not started: queued; the exit handler ran") in err
        assert (f"  stopping ({signal.Signals(sig).name}) as `argo stop` does: the running tasks are killed, the "
                "exit handler runs; a second signal ends heraspec at once\n") in err
    finally:
        reap(task_pids)


def test_a_stop_during_a_retrys_back_off_ends_it_as_argo_stop_does(tmp_path: Path) -> None:
    # operator.go failNodesWithoutCreatedPodsAfterDeadlineOrShutdown: `argo stop` fails a Retry node
    # whose children are all fulfilled (it waits out a back-off) with "Stopped with strategy 'Stop'",
    # the message `{{workflow.failures}}` carries; its failed attempt keeps its own
    (tmp_path / "steps.py").write_text(
        "def boom():\n    raise SystemExit('boom')\n\n\n"
        "def rows(failures: str) -> list:\n    import json\n"
        "    return [[r['displayName'], r['message']] for r in json.loads(json.loads(failures)) or []]\n")
    (tmp_path / "spec.yaml").write_text(json.dumps({"name": "stop-backoff", "tasks": {
        "a": {"function": "steps:boom", "retry": {"limit": 3, "backoff": {"duration": "60s"}}}},
        "on_exit": {"function": "steps:rows", "args": {"failures": {"workflow": "failures"}}}}))
    proc = start(tmp_path, "run", "spec.yaml", "--json", "--workdir", "run")
    log, deadline = tmp_path / "run" / "a" / "attempt-1" / "stderr.log", time.monotonic() + 60
    while not (log.exists() and "boom" in log.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the first attempt did not fail: {proc.communicate()[1][-3000:]}")
        time.sleep(0.05)
    time.sleep(1.0)  # the attempt's end is handled: `a` waits out its 60s back-off
    proc.send_signal(signal.SIGTERM)
    code, out, err = finish(proc, timeout=40)
    assert code == 128 + signal.SIGTERM, err
    tasks = json.loads(out)["tasks"]
    assert (tasks["a"]["phase"], tasks["a"]["message"], tasks["a"]["attempts"]) == (
        "Failed", "Stopped with strategy 'Stop'", 1)
    assert tasks["onExit"]["result"] == [["stop-backoff", ""], ["a", "Stopped with strategy 'Stop'"],
                                         ["a(0)", "main: Error (exit code 1)"]]
    assert "interrupted: a; not started: none" in err


FLOOD = '''\
import sys


def flood(mib: int) -> int:
    chunk = (b"x" * 1023 + b"\\n") * 1024
    for _ in range(mib):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.write(b"the end\\n")
    return mib


def one_line(mib: int) -> int:
    chunk = b"y" * (1 << 20)
    for _ in range(mib):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.write(b"\\n")
    return mib
'''


# Started from a small fresh interpreter: a child forked from this (large) test process would count
# the parent's pages in its peak (exec records the old memory's high-water mark).
MEASURE = """
import os, subprocess, sys
with open(sys.argv[1], "wb") as err:
    proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_mib(tmp_path: Path, *args: str) -> tuple[int, float]:
    """Run heraspec to its end: (exit code, its peak resident memory in MiB, its tasks' included)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / "err.txt"), sys.executable, "-m", "heraspec",
                           *args], cwd=tmp_path, env=full, capture_output=True, text=True, check=True)
    code, kib = done.stdout.split()
    return int(code), int(kib) / 1024


@pytest.mark.parametrize("function, mib", [("flood", 256), ("one_line", 128)])
def test_a_task_printing_hundreds_of_mib_costs_heraspec_little_memory(tmp_path: Path, function: str, mib: int) -> None:
    (tmp_path / "steps.py").write_text(FLOOD)
    (tmp_path / "spec.yaml").write_text(json.dumps({"name": "flood", "tasks": {
        "loud": {"function": f"steps:{function}", "args": {"mib": mib}}}}))
    code, peak = peak_rss_mib(tmp_path, "run", "spec.yaml", "--workdir", "run", "--quiet")
    assert code == 0, (tmp_path / "err.txt").read_text()[-3000:]
    assert peak < 150, f"heraspec's peak memory was {peak:.0f} MiB for {mib} MiB of output"
    log = tmp_path / "run" / "loud" / "stdout.log"
    assert log.stat().st_size > mib << 20  # the whole output stays on disk
    kept = json.loads((tmp_path / "run" / "loud" / "outputs.json").read_text())["result"]
    # outputs.result: Argo's executor keeps the last 256 kB (CaptureScriptResult, maxAnnotationSize)
    assert len(kept.encode()) == 256 * 1024
    assert kept.endswith("the end" if function == "flood" else "y" * 100)


def test_a_second_signal_terminates_the_exit_handler_too(tmp_path: Path) -> None:
    proc = started_run(tmp_path, on_exit="slow_cleanup")
    pids = tmp_path / "pids"
    task_pids = pids_in(pids / "slow")
    try:
        proc.send_signal(signal.SIGINT)  # stop: the task is killed, the exit handler starts
        deadline = time.monotonic() + 60
        while not (pids / "cleanup-pid").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        task_pids += pids_in(pids / "cleanup-pid")
        assert (pids / "cleanup-pid").exists(), "the exit handler did not start after the first signal"
        proc.send_signal(signal.SIGTERM)  # terminate: the exit handler is killed too
        code, _, err = finish(proc, timeout=60)
        assert code == 130 and err.rstrip().endswith("heraspec: interrupted"), err
        assert survivors(tmp_path) == []
    finally:
        reap(task_pids)
