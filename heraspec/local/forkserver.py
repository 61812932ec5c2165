"""A warm start for `heraspec run`'s script tasks: one fork server per interpreter, forking per task.

    server = ForkServer(python, flags, startup_env); proc = server.spawn(argv, env, cwd, fds); server.close()

Starting Python costs more than a trivial task's work, so each run keeps one small server process
per (interpreter, flags, locale), started exactly as a task would be (`python -I -u`, the task's
virtual environment) but running only its own loop (forkserver_program.py). For each task it forks once, writes the
task's pid on the task's status pipe and, when the task ends (SIGCHLD), its exit code (a task
ending as Python ends writes its exit code there itself first, so that a killed server loses only
the codes of tasks killed by a signal); the server ignores every signal it can, so that a task
signalling its parent cannot stop it (a stopped server is continued before each task: SIGSTOP
cannot be ignored), and a dead server is replaced for the next task (see `alive`); the task gets a fresh process's signal handlers back and
takes a new session (so it and its children are killed together; its pid is reported only once it
leads that session, so a kill right after the start reaches it), the task's stdin,
stdout and stderr (passed over a Unix socket), working folder and whole environment, then runs the
same script file as `__main__` as `python -I -u script.py` would, and ends as the interpreter's
shutdown ends it where a task can tell (pythonrun.c, Py_FinalizeEx): the exit code and message of
`SystemExit`, sys.excepthook and its failures, non-daemon threads joined, atexit handlers run, the
standard streams flushed (120 when one cannot be), then the modules the task imported torn down
as finalize_modules does (what only they held goes: files flushed and closed, temporary files
removed; a daemon thread's objects stay), the streams flushed again.

Each task starts from the server's state, which is a fresh interpreter's plus `_socket` and `gc`
(built-in modules) and `json` (every heraspec script imports it first, script.JSON_FIRST); the
server never imports or runs task code, so nothing passes from one task to the next. Left as a
fresh process has them, not as they would differ: the hash seed (shared by the tasks of one
server, where each pod draws its own), `/proc/PID/cmdline` (the server's), and the server's own
objects, which are frozen out of the task's garbage collector (`gc.freeze`) and not torn down at
its exit: tearing them down costs a forked task most of its run (each page it touches is copied
from the server), and runs none of the task's code. The server reads only the standard streams' locale
at start, so LANG/LC_ALL/LC_CTYPE are part of its key.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from typing import IO

from .pathmap import RUN_HOOK

__all__ = ["ForkServer", "Forked", "STARTUP_ENV"]

STARTUP_ENV = ("LANG", "LC_ALL", "LC_CTYPE")  # what a -I interpreter reads from the environment at start

# The server's program, a module of its own (run as a file: it imports nothing of heraspec); the
# requests it reads and what it writes back are described there
PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forkserver_program.py")


class Forked:
    """A task started by a fork server; the small part of `subprocess.Popen` the runner uses."""

    def __init__(self, status: int, stdout: IO[bytes] | None, stderr: IO[bytes] | None,
                 server: subprocess.Popen):
        self._status, self.stdout, self.stderr = status, stdout, stderr
        self._server = server  # the fork server that started it (its parent)
        self._buf = b""
        self._own: bytes | None = None  # the task's own report ("=CODE"), which may come before its pid
        line = self._line(None)
        while line is not None and line.startswith(b"="):
            self._own, line = line[1:], self._line(None)
        if line is None:
            os.close(status)
            raise OSError("the fork server did not start the task")
        self.pid = int(line)
        self.returncode: int | None = None

    def _line(self, timeout: float | None) -> bytes | None:
        end = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buf:
            # a task may stop its server (SIGSTOP) before the server reports its pid or reaps it:
            # the server is continued each second while the line is awaited
            left = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
            ready, _, _ = select.select([self._status], [], [], left)
            if not ready:
                if end is not None and time.monotonic() >= end:
                    raise subprocess.TimeoutExpired("task", timeout or 0.0)
                self._continue_server()
                continue
            chunk = os.read(self._status, 64)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def kill(self) -> None:
        """SIGKILL the task and its process group (the session it leads from the start). A task killed
        by a signal cannot report its exit code: its server writes it as it reaps the task, so a server
        another task stopped (SIGSTOP) is continued."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self._continue_server()

    def _continue_server(self) -> None:
        try:
            self._server.send_signal(signal.SIGCONT)  # polls first: never a reused pid
        except OSError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            line = self._own if self._own is not None else self._line(timeout)
            line = line[1:] if line is not None and line.startswith(b"=") else line
            os.close(self._status)
            self.returncode = int(line) if line is not None else -9  # the server died: the task was killed
        return self.returncode


class ForkServer:
    def __init__(self, python: str, flags: list[str], env: dict[str, str]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock, self._lock = ours, threading.Lock()
        # `python -I -u forkserver_program.py FD`, the path hook (pathmap.HOOK) on its stdin
        self._proc = subprocess.Popen([python, *flags, PROGRAM, str(theirs.fileno())], env=env,
                                      pass_fds=[theirs.fileno()], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._proc.stdin.write(RUN_HOOK.encode())  # type: ignore[union-attr]
        self._proc.stdin.close()  # type: ignore[union-attr]

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str, stdout: int | None, stderr: int | None,
              paths: tuple[list[tuple[str, str]], list[str]] | None = None) -> Forked:
        """`stdout`/`stderr`: None for a pipe the caller reads (as Popen's PIPE), else the file's descriptor;
        `paths`: (pod path -> local path pairs, folders never mapped) for pathmap.HOOK, or None."""
        import marshal

        pipes: list[tuple[int, int]] = []
        fds: list[int] = []
        for given in (stdout, stderr):
            if given is None:
                r, w = os.pipe()
                pipes.append((r, w))
                fds.append(w)
            else:
                fds.append(given)
        status_r, status_w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            body = marshal.dumps((argv, env, cwd, paths))
            head = len(body).to_bytes(8, "big")
            with self._lock:
                try:  # a task may have stopped its parent (SIGSTOP, the one stop it cannot ignore)
                    os.kill(self._proc.pid, signal.SIGCONT)
                except OSError:
                    pass
                self._sock.sendmsg([head], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                             _ints([devnull, *fds, status_w]))])
                self._sock.sendall(body)
        except OSError:
            for r, w in pipes:
                os.close(r)
            os.close(status_r)
            raise
        finally:
            os.close(devnull)
            os.close(status_w)
            for _, w in pipes:
                os.close(w)
        readers = iter([os.fdopen(r, "rb") for r, _ in pipes])
        return Forked(status_r, next(readers) if stdout is None else None, next(readers) if stderr is None else None,
                      self._proc)

    def alive(self) -> bool:
        """False once the server has ended (killed: a task can SIGKILL its parent); start another."""
        return self._proc.poll() is None

    def close(self) -> None:
        self._sock.close()  # the server exits at end of input; its tasks run on until they end or are killed
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _ints(fds: list[int]) -> bytes:
    import array

    return array.array("i", fds).tobytes()
