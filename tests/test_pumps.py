"""`heraspec run` copies every task's stdout and stderr with one thread (heraspec/local/pumps.py):
the log gets the bytes as printed, the live display the lines a terminal would show, and a copy
ends when its task's pipe does, also after the thread has gone idle and started again. Real
subprocesses and pipes; the CLI-level behaviour is in test_run.py and test_forkserver.py."""

from __future__ import annotations

import io
import subprocess
import sys
import time

from heraspec.local.pumps import Pumps

PRINTS = r'''
import sys, time
sys.stdout.write("one\n")
sys.stdout.flush()
time.sleep(0.05)
sys.stdout.write("10%\r50%\r100%\n")
sys.stderr.write("warn\n")
sys.stdout.write("caf\xe9 no newline")
'''


def copy_of(pumps: Pumps, code: str) -> tuple[bytes, list[str], bytes, list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = io.BytesIO(), io.BytesIO()
    out_lines: list[str] = []
    err_lines: list[str] = []
    copies = [pumps.add(proc.stdout, out, out_lines.append), pumps.add(proc.stderr, err, err_lines.append)]
    assert proc.wait(timeout=30) == 0
    assert all(c.wait(timeout=10) for c in copies), "a copy did not end with its pipe"
    return out.getvalue(), out_lines, err.getvalue(), err_lines


def test_the_log_gets_the_bytes_and_the_display_the_lines_a_terminal_shows() -> None:
    out, lines, err, err_lines = copy_of(Pumps(), PRINTS)
    assert out == "one\n10%\r50%\r100%\ncafé no newline".encode()
    assert lines == ["one", "100%", "café no newline"]  # a last line without a newline is shown too
    assert err == b"warn\n" and err_lines == ["warn"]


def test_copies_end_after_the_thread_went_idle_and_came_back() -> None:
    pumps = Pumps()
    first = copy_of(pumps, 'print("first")')
    time.sleep(0.3)  # the thread waits, idle, and is woken by the next task's pipes
    woken = copy_of(pumps, 'print("woken")')
    time.sleep(1.3)  # longer than the idle time: the thread ends, and the next task starts another
    assert pumps._thread is None
    second = copy_of(pumps, 'print("second")')
    assert first[1] == ["first"] and woken[1] == ["woken"] and second[1] == ["second"]


def test_many_tasks_at_once_each_get_their_own_output() -> None:
    from concurrent.futures import ThreadPoolExecutor

    pumps = Pumps()
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda i: copy_of(pumps, f'print("task {i}"); print("e{i}", file=__import__("sys").stderr)'),
                              range(40)))
    for i, (out, lines, err, _) in enumerate(results):
        assert out == f"task {i}\n".encode() and lines == [f"task {i}"] and err == f"e{i}\n".encode()


def test_a_long_line_is_shown_cut_and_logged_whole() -> None:
    from heraspec.local.pumps import CUT, LINE_LIMIT

    code = "import sys; sys.stdout.write('a' * 300_000 + '\\nshort\\n' + 'b' * 70_000)"
    out, lines, _, _ = copy_of(Pumps(), code)
    assert out == b"a" * 300_000 + b"\nshort\n" + b"b" * 70_000
    assert lines == ["a" * LINE_LIMIT + CUT, "short", "b" * LINE_LIMIT + CUT]


def test_a_dropped_copy_keeps_what_its_pipe_already_holds() -> None:
    # A finished task's helper still holds the pipe, so the runner drops the copy after its grace; if
    # the output thread got no CPU in that time (a loaded machine), what the task printed before must
    # still reach the log and the display, not be lost with the pipe.
    import os

    pumps = Pumps()
    for round_ in range(20):  # dropped before the thread registers the pipe, or after: never a lost byte
        r, w = os.pipe()
        os.write(w, b"result line %d\npartial" % round_)  # the write end stays open: a helper holding it
        log, lines = io.BytesIO(), []
        copy = pumps.add(os.fdopen(r, "rb", buffering=0), log, lines.append)
        pumps.drop(copy)
        assert copy.wait(timeout=10)
        os.close(w)
        assert log.getvalue() == b"result line %d\npartial" % round_
        assert lines == ["result line %d" % round_, "partial"]
