"""`heraspec run` shows what the tasks print, as it happens, each line prefixed with its task, through
a pipe and through a real terminal (a pty); `--quiet` hides it, `--json` keeps stdout clean, the log
files stay. Real subprocesses, no mocks."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIAMOND = str(ROOT / "examples" / "diamond.yaml")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

CHATTY = """\
import sys


def talk(n: int) -> int:
    for j in range(LINES):
        # long lines, half on stderr, so that a torn or interleaved line would show
        print(f"task {n} line {j} " + "x" * 300, file=sys.stderr if j % 2 else sys.stdout)
    return n


def flaky(n: int) -> int:
    import os
    marker = os.path.join(os.environ["HOME"], f"flaky-{n}")
    if n == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit("first try fails")
    print(f"item {n} ok")
    return n


def read_data() -> str:
    print("reading data/input.csv")
    with open("data/input.csv") as f:
        return f.read()
"""

CHATTY_YAML = """\
kind: Workflow
name: chatty
tasks:
  talk:
    function: steps:talk
    args: [{n: 0}, {n: 1}, {n: 2}, {n: 3}, {n: 4}, {n: 5}]
  flaky:
    function: steps:flaky
    args: [{n: 0}, {n: 1}, {n: 2}]
    retry: 2
"""

CHATTY_TOML = """\
kind = "Workflow"
name = "chatty"

[tasks.talk]
function = "steps:talk"
args = [{n = 0}, {n = 1}, {n = 2}, {n = 3}, {n = 4}, {n = 5}]

[tasks.flaky]
function = "steps:flaky"
args = [{n = 0}, {n = 1}, {n = 2}]
retry = 2
"""

LINES = 200


def _project(tmp_path: Path, form: str = "yaml") -> Path:
    (tmp_path / "steps.py").write_text(CHATTY.replace("LINES", str(LINES)))
    spec = tmp_path / f"chatty.{form}"
    spec.write_text(CHATTY_YAML if form == "yaml" else CHATTY_TOML)
    (tmp_path / "home").mkdir()
    return spec


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home"), "COLUMNS": "200"}


def heraspec(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = env or {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "heraspec", *args], capture_output=True, text=True, cwd=cwd,
                          env=env)


def in_terminal(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run heraspec with stdout and stderr on a real pseudo-terminal; return its exit code and screen text."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "heraspec", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode("utf-8", errors="replace")


def test_the_diamond_shows_each_tasks_print_through_a_pipe(tmp_path: Path):
    proc = heraspec("run", DIAMOND, "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    for t in "ABCD":
        said = lines.index(f"{t} | This is task {t}!")
        # between the task's start and its end, as it happened
        assert lines.index(f"  ▶ {t}  Running") < said < next(
            i for i, ln in enumerate(lines) if ln.startswith(f"  ✓ {t}  Succeeded"))
        # and still in the task's log file
        assert (tmp_path / "run" / t / "stdout.log").read_text() == f"This is task {t}!\n"


def test_the_diamond_shows_each_tasks_print_in_a_terminal(tmp_path: Path):
    rc, screen = in_terminal("run", DIAMOND, "--workdir", str(tmp_path / "run"), cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert rc == 0, screen
    lines = [ANSI.sub("", ln).strip("\r") for ln in screen.split("\n")]
    for t in "ABCD":
        assert f"{t} | This is task {t}!" in lines, screen
    assert "\x1b[" in screen  # the live display (and coloured task labels) are on


@pytest.mark.parametrize("form", ["yaml", "toml"])
def test_parallel_fan_out_lines_are_whole_and_labelled_with_the_item(tmp_path: Path, form: str):
    spec = _project(tmp_path, form)
    proc = heraspec("run", str(spec), "--parallelism", "6", "--workdir", str(tmp_path / "run"), cwd=tmp_path,
                    env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    got: dict[int, list[int]] = {n: [] for n in range(6)}
    for ln in proc.stderr.splitlines():
        if ln.startswith("talk("):
            m = re.fullmatch(r"talk\((\d)\) +\| task (\d) line (\d+) x{300}", ln)
            assert m and m.group(1) == m.group(2), ln[:120]
            got[int(m.group(1))].append(int(m.group(3)))
    # every line of every item, none torn; each stream's own order is kept
    for n, seen in got.items():
        assert sorted(seen) == list(range(LINES))
        assert [j for j in seen if j % 2 == 0] == list(range(0, LINES, 2))
    assert "flaky(0) | item 0 ok" in proc.stderr.splitlines()  # padded to the longest label yet


def test_parallel_fan_out_in_a_terminal(tmp_path: Path):
    spec = _project(tmp_path)
    rc, screen = in_terminal("run", str(spec), "--parallelism", "6", "--workdir", str(tmp_path / "run"),
                             cwd=tmp_path, env={**_env(tmp_path), "NO_COLOR": "1"})
    assert rc == 0, screen[-3000:]
    count = 0
    for ln in screen.split("\r\n"):
        ln = ANSI.sub("", ln).lstrip("\r")
        if "| task" in ln:
            assert re.fullmatch(r"talk\((\d)\) +\| task \1 line \d+ x{300}", ln), ln[:120]
            count += 1
    assert count == 6 * LINES


def test_quiet_hides_task_output_and_keeps_the_logs(tmp_path: Path):
    proc = heraspec("run", DIAMOND, "--quiet", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "| This is task" not in proc.stderr
    assert "A     Succeeded" in proc.stderr  # progress and summary still show
    assert (tmp_path / "run" / "A" / "stdout.log").read_text() == "This is task A!\n"


def test_json_keeps_stdout_clean_and_reports_fan_out_attempts(tmp_path: Path):
    spec = _project(tmp_path)
    proc = heraspec("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)  # nothing else on stdout
    assert "flaky(1) | item 1 ok" in proc.stderr.splitlines()  # task output goes to stderr
    flaky = summary["tasks"]["flaky"]
    # one item needed a second attempt: the fan-out reports the most any item needed, not the sum
    assert [c["attempts"] for c in flaky["children"]] == [1, 2, 1]
    assert (flaky["attempts"], flaky["items"]) == (2, 3)
    assert (summary["tasks"]["talk"]["attempts"], summary["tasks"]["talk"]["items"]) == (1, 6)


def test_a_relative_path_that_is_missing_gets_a_hint_about_the_task_folder(tmp_path: Path):
    (tmp_path / "steps.py").write_text(CHATTY.replace("LINES", "1"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "input.csv").write_text("a,b\n")  # exists where heraspec starts, not in the task
    spec = tmp_path / "read.yaml"
    spec.write_text("kind: Workflow\nname: read\ntasks:\n  load: {function: steps:read_data}\n")
    proc = heraspec("run", str(spec), "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "load | reading data/input.csv" in proc.stderr.splitlines()
    assert ("hint: 'data/input.csv' is a relative path, and each task runs in its own empty folder "
            f"({tmp_path / 'run' / 'load'})") in proc.stderr


def test_escape_sequences_a_task_prints_are_shown_not_obeyed(tmp_path: Path):
    (tmp_path / "steps.py").write_text(
        "def evil() -> None:\n    print('\\x1b]52;c;aGk=\\x07 \\x1b[1A\\x1b[2K  ✓ forged  Succeeded')\n")
    spec = tmp_path / "evil.yaml"
    spec.write_text("kind: Workflow\nname: evil\ntasks:\n  evil: {function: steps:evil}\n")
    rc, screen = in_terminal("run", str(spec), "--workdir", str(tmp_path / "run"), cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    assert rc == 0, screen
    assert "\x1b]52" not in screen and "\x07" not in screen
    assert r"evil | \x1b]52;c;aGk=\x07 \x1b[1A\x1b[2K  ✓ forged  Succeeded" in screen
