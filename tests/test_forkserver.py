"""`heraspec run` starts heraspec's script tasks from a warm fork server (heraspec/local/forkserver.py):
each task must still behave as the pod's fresh `python -I script.py` does — nothing shared between
tasks, its own environment and working folder, its output captured, timeouts kill it and what it
started, exit codes and tracebacks as the interpreter gives them. All through the real CLI."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heraspec.local.forkserver import ForkServer
from tests.cli import heraspec as heraspec_cli

STEPS = '''\
import atexit, os, sys, threading, time

SEEN = []


def touch(tag: str) -> dict:
    # module state, an import and an env change that a later task must not see
    SEEN.append(tag)
    env = sorted(os.environ)
    os.environ["LEAKED"] = tag
    import decimal
    return {"seen": list(SEEN), "leaked": os.environ.get("LEAKED_BEFORE", ""), "cwd": os.getcwd(),
            "decimal_before": "decimal" in DECIMAL_AT_START, "argv": sys.argv[1:], "name": __name__,
            "env": env, "tmp": os.path.realpath(os.environ["TMPDIR"]),
            "main_names": sorted(n for n in vars(sys.modules["__main__"]) if n.startswith("_") or n in ("gc", "marshal"))}


DECIMAL_AT_START = set(sys.modules)


def talk(n: int) -> int:
    print("to stdout", n)
    print("to stderr", n, file=sys.stderr)
    atexit.register(lambda: print("atexit ran", flush=True))
    threading.Thread(target=lambda: (time.sleep(0.2), print("thread done"))).start()
    return n


def leave(code: int) -> int:
    sys.exit(code)


def crash(n: int) -> int:
    return n // 0


def hang(n: int) -> int:
    import subprocess
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open("pids", "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(60)
    return n
'''

SPEC = """\
name: forked
tasks:
  one: {function: steps:touch, args: {tag: one}}
  two: {function: steps:touch, args: {tag: two}, after: [one], env: {LEAKED_BEFORE: mine}}
  talk: {function: steps:talk, args: {n: 7}}
"""

TOML = """\
name = "forked"
[tasks.one]
function = "steps:touch"
args = {tag = "one"}
[tasks.two]
function = "steps:touch"
args = {tag = "two"}
after = ["one"]
env = {LEAKED_BEFORE = "mine"}
[tasks.talk]
function = "steps:talk"
args = {n = 7}
"""


def run(tmp_path: Path, spec: str, name: str = "spec.yaml", *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / name).write_text(spec)
    proc = heraspec_cli("run", name, "--json", "--keep", "--workdir", "run", *extra, cwd=tmp_path,
                        env={"HERASPEC_SECRET_OF_THE_RUNNER": "x"})
    return proc, json.loads(proc.stdout) if proc.stdout.strip() else {}


def folder(tmp_path: Path, task: str) -> Path:
    return tmp_path / "run" / task


@pytest.mark.parametrize("name, spec", [("spec.yaml", SPEC), ("spec.toml", TOML)])
def test_tasks_share_nothing_and_see_their_own_env_and_folder(tmp_path: Path, name: str, spec: str) -> None:
    proc, out = run(tmp_path, spec, name)
    assert proc.returncode == 0, proc.stderr
    one, two = out["tasks"]["one"]["result"], out["tasks"]["two"]["result"]
    assert one["seen"] == ["one"] and two["seen"] == ["two"]  # module state starts afresh
    assert one["leaked"] == "" and two["leaked"] == "mine"  # the task's own env, nothing set by another task
    assert not one["decimal_before"] and not two["decimal_before"]  # nor the modules another task imported
    assert "HERASPEC_SECRET_OF_THE_RUNNER" not in one["env"] and "LEAKED" not in two["env"]
    assert one["cwd"] == str(folder(tmp_path, "one").resolve()) and two["cwd"] == str(folder(tmp_path, "two").resolve())
    assert two["tmp"] == str((folder(tmp_path, "two") / "tmp").resolve())  # itself, or a short link to it
    assert one["name"] == "steps" and one["argv"] == []
    assert one["main_names"] == ["__builtins__", "__cached__", "__doc__", "__file__", "__loader__", "__name__",
                                 "__package__", "__spec__"]  # __main__ holds the script's names only (none private)


def test_output_is_captured_and_the_interpreter_shuts_down_normally(tmp_path: Path) -> None:
    proc, out = run(tmp_path, SPEC)
    assert proc.returncode == 0, proc.stderr
    assert out["tasks"]["talk"]["result"] == 7
    talk = folder(tmp_path, "talk")
    # non-daemon threads are joined and atexit handlers run before the task ends, as in a fresh process
    assert (talk / "stdout.log").read_text() == "to stdout 7\nthread done\natexit ran\n"
    assert (talk / "stderr.log").read_text() == "to stderr 7\n"


def test_exit_codes_and_tracebacks_are_the_interpreters(tmp_path: Path) -> None:
    spec = ("name: fails\ntasks:\n  leave: {function: steps:leave, args: {code: 3}}\n"
            "  crash: {function: steps:crash, args: {n: 1}}\n")
    proc, out = run(tmp_path, spec)
    assert proc.returncode == 1
    assert out["tasks"]["leave"]["phase"] == "Failed" and out["tasks"]["leave"]["message"] == "exit code 3"
    crash = out["tasks"]["crash"]
    assert crash["message"] == "exit code 1: ZeroDivisionError: integer division or modulo by zero"
    err = (folder(tmp_path, "crash") / "stderr.log").read_text()
    assert err.startswith("Traceback (most recent call last):\n  File ")  # no frame of the fork server
    line = STEPS.splitlines().index("    return n // 0") + 1
    assert f'File "steps.py", line {line}, in crash' in err and "return n // 0" in err
    assert "forkserver" not in err and "<stdin>" not in err


@pytest.mark.slow
def test_a_timeout_kills_the_task_and_what_it_started(tmp_path: Path) -> None:
    spec = "name: slow\ntasks:\n  hang: {function: steps:hang, args: {n: 1}, timeout: 8s}  # room for a loaded machine to start both\n"
    proc, out = run(tmp_path, spec)
    assert proc.returncode == 1
    assert out["tasks"]["hang"]["message"].startswith("timed out after 8s")
    pids = [int(p) for p in (folder(tmp_path, "hang") / "pids").read_text().split()]
    assert not any(alive(pid) for pid in pids)


def alive(pid: int) -> bool:
    """Running or stopped; a zombie (killed, not yet reaped by its new parent) is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


ENDINGS = '''\
import sys

LOG = open("log.txt", "w")


class Loud:
    def __del__(self):
        print("__del__ ran")


KEPT = Loud()


def unclosed(n: int) -> int:
    LOG.write(f"left open {n} {type(KEPT).__name__}")
    sys.stdout.write("no newline at the end")
    return n


def message(n: int) -> int:
    print("before")
    sys.exit(f"stopped at {n}")


def code(n: int) -> int:
    sys.exit(n)


def huge(n: int) -> int:
    sys.exit(-(2 ** 70) - n)  # no C long holds it: the interpreter exits with 255, not 0


def quiet_message(n: int) -> int:
    sys.stderr = None
    sys.exit(f"to fd 2 at {n}")


def closed_stdout(n: int) -> int:
    sys.stdout.close()
    return n


class BadStream:
    def write(self, text):
        return len(text)

    def flush(self):
        raise OSError("cannot flush")


def bad_stderr(n: int) -> int:
    sys.stderr = BadStream()  # a stream that cannot be flushed at exit: 120, whatever came before
    return n


def broken_hook(n: int) -> int:
    def hook(*_):
        raise RuntimeError("hook broke")
    sys.excepthook = hook
    raise ValueError(f"task failed at {n}")


def stuck_writer(n: int) -> int:
    # a daemon thread blocked writing to a child that never reads: the interpreter leaves it be
    import subprocess, threading
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    threading.Thread(target=child.stdin.write, args=(b"x" * 1_000_000,), daemon=True).start()
    return n


def temporary(n: int) -> int:
    from leftover import TEMP  # a module-level temporary file, in a module only this task imports

    TEMP.write(b"data")
    return n
'''
LEFTOVER = '''TEMP = __import__("tempfile").NamedTemporaryFile(dir=".", prefix="left-", delete=True)\n'''


def test_a_task_ends_as_the_pods_fresh_interpreter_ends(tmp_path: Path) -> None:
    # the forked task skips the interpreter's teardown of the server's objects; what a task can see
    # of its ending must still be the pod's: files it left open written out, output flushed, exit
    # codes and SystemExit messages, and no more (__del__ of module objects as the pod has it)
    from tests.argo_exec import run_script

    (tmp_path / "steps.py").write_text(ENDINGS)
    (tmp_path / "leftover.py").write_text(LEFTOVER)
    names = ("unclosed", "message", "code", "huge", "quiet_message", "closed_stdout", "bad_stderr", "broken_hook",
             "stuck_writer", "temporary")
    (tmp_path / "spec.yaml").write_text("name: endings\ntasks:\n" + "".join(
        f"  {f}: {{function: steps:{f}, args: {{n: 5}}}}\n" for f in names))
    proc = heraspec_cli("run", "spec.yaml", "--json", "--keep", "--workdir", "run", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    manifest = json.loads(heraspec_cli("compile", "spec.yaml", "--format", "json", cwd=tmp_path).stdout)
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    seen = {}
    for task in names:
        node = task.replace("_", "-")
        code = {p["name"]: p["value"] for p in manifest["spec"]["arguments"]["parameters"]}["heraspec-code"]
        fresh, _ = run_script(templates[node]["script"]["source"], tmp_path / "fresh" / task,
                              {"HERASPEC_IN_n": "5", "HERASPEC_CODE": code}, flag="-Iu")  # the workflow's code
        forked = folder(tmp_path, node)
        where = (str(tmp_path / "fresh" / task / "script.py"), "script.py")
        assert (forked / "stdout.log").read_text() == fresh.stdout
        if task != "huge":  # 3.13 also prints "Exception ignored on threading shutdown: OverflowError"
            addresses = re.compile(r" at 0x[0-9a-f]+>")  # an object's address differs from run to run
            assert addresses.sub(" at 0x>", (forked / "stderr.log").read_text().replace(str(forked / "script.py"), "script.py")) \
                == addresses.sub(" at 0x>", fresh.stderr.replace(*where))
        for made in ("log.txt", "out.txt"):
            assert _text(forked / made) == _text(tmp_path / "fresh" / task / made)
        assert sorted(p.name for p in forked.glob("left-*")) == sorted(p.name for p in (tmp_path / "fresh" / task).glob("left-*"))
        phase = "Succeeded" if fresh.returncode == 0 else "Failed"
        assert tasks[task]["phase"] == phase
        if fresh.returncode:
            assert tasks[task]["message"].startswith(f"exit code {fresh.returncode}")
        seen[task] = (fresh.returncode, fresh.stdout, fresh.stderr)
    # what the pod does, so that the comparison above compared something
    assert seen["unclosed"][:2] == (0, "no newline at the end__del__ ran\n")  # the module's objects go before sys
    assert (folder(tmp_path, "unclosed") / "log.txt").read_text() == "left open 5 Loud"
    assert seen["message"] == (1, "before\n__del__ ran\n", "stopped at 5\n")
    assert seen["code"][0] == 5 and seen["huge"][0] == 255
    assert seen["quiet_message"] == (1, "__del__ ran\n", "to fd 2 at 5\n")
    assert seen["broken_hook"][1] == ""  # the hook the task set holds its module until sys goes, streams first
    assert seen["closed_stdout"][0] == 0 and seen["bad_stderr"][0] == 120
    assert seen["broken_hook"][2].startswith("Error in sys.excepthook:\n") and "Original exception was:" in seen["broken_hook"][2]
    assert seen["stuck_writer"][0] == 0 and tasks["stuck_writer"]["duration_s"] < 5  # it left: no hang
    assert seen["temporary"][0] == 0 and not list((tmp_path / "fresh" / "temporary").glob("left-*"))


def _text(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def test_a_task_leads_its_own_session_as_soon_as_it_is_started(tmp_path: Path) -> None:
    # A timeout or a stop kills a task's process group (killpg(pid)) the moment the runner has its pid;
    # a task that had not yet taken its new session then had no such group, the kill missed (ESRCH) and
    # the runner waited for a task that might never end. The server reports the pid only once the task
    # leads its session, so every kill reaches it, however loaded the machine.
    (tmp_path / "sleep.py").write_text("import time\ntime.sleep(60)\n")
    server = ForkServer(sys.executable, ["-I", "-u"], {})
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for _ in range(100):
            task = server.spawn(["sleep.py"], {}, str(tmp_path), devnull, devnull)
            assert os.getsid(task.pid) == task.pid
            task.kill()  # as the runner kills a task (a timeout, a stop)
            assert task.wait(timeout=20) == -9
    finally:
        os.close(devnull)
        server.close()


def state(pid: int) -> str:
    """A process's state letter from /proc: R, S, T (stopped), Z, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_task_killed_while_a_task_has_stopped_the_server_still_ends(tmp_path: Path) -> None:
    # A task killed by a signal cannot report its own exit code: its server writes it as it reaps the
    # task. A server another task stopped (SIGSTOP, the one stop it cannot ignore) reaps nothing, so the
    # runner's wait for the killed task (a timeout, a stop) never ended; killing a task continues its server.
    (tmp_path / "sleep.py").write_text("import time\ntime.sleep(60)\n")
    # the stopper waits until its start has returned (the file 'go'), so the stop lands on a running server
    (tmp_path / "stop.py").write_text("import os, pathlib, signal, time\n"
                                      "while not pathlib.Path('go').exists():\n    time.sleep(0.01)\n"
                                      "os.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(60)\n")
    server = ForkServer(sys.executable, ["-I", "-u"], {})
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        task = server.spawn(["sleep.py"], {}, str(tmp_path), devnull, devnull)
        server_pid = int(Path(f"/proc/{task.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])  # its parent
        stopper = server.spawn(["stop.py"], {}, str(tmp_path), devnull, devnull)
        (tmp_path / "go").touch()
        deadline = time.monotonic() + 60
        while state(server_pid) != "T":  # until the stopper has stopped the server
            assert time.monotonic() < deadline, "the task did not stop its server"
            time.sleep(0.01)
        task.kill()
        assert task.wait(timeout=20) == -9
        stopper.kill()
        assert stopper.wait(timeout=20) == -9
    finally:
        os.close(devnull)
        server.close()
