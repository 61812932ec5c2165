"""A warm start for `heraspec run`'s script tasks: one fork server per interpreter, forking per task.

    server = ForkServer(python, flags, startup_env); proc = server.spawn(argv, env, cwd, fds); server.close()

Starting Python costs more than a trivial task's work, so each run keeps one small server process
per (interpreter, flags, locale), started exactly as a task would be (`python -I -u`, the task's
virtual environment) but running only the loop below. For each task it forks once, writes the
task's pid on the task's status pipe and, when the task ends (SIGCHLD), its exit code; the task
takes a new session (so it and its children are killed together), the task's stdin,
stdout and stderr (passed over a Unix socket), working folder and whole environment, then runs the
same script file as `__main__` as `python -I -u script.py` would, and ends as the interpreter's
shutdown does what a task can see: non-daemon threads joined, atexit handlers run, files the task
left open flushed, buffered output flushed, the exit code from `SystemExit` as the interpreter
reads it.

Each task starts from the server's state, which is a fresh interpreter's plus `_socket` (a
built-in module) and `json` (every heraspec script imports it first, script.JSON_FIRST); the
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
import socket
import subprocess
import threading
from typing import IO

__all__ = ["ForkServer", "Forked", "STARTUP_ENV"]

STARTUP_ENV = ("LANG", "LC_ALL", "LC_CTYPE")  # what a -I interpreter reads from the environment at start

# The server's whole program (read from stdin): built-in modules only, and json, which every heraspec
# script imports first (script.JSON_FIRST), so that a task sees the modules a fresh interpreter has.
# Requests: 8-byte length, then marshal((argv, env, cwd)), with 4 descriptors (stdin, stdout, stderr,
# status pipe) attached to the first bytes. The status pipe gets the task's pid, then its exit code.
_SERVER = r'''
import sys, os, gc, marshal, _socket, _signal, json
def _serve(fd):
    compiled, watching = {}, {}  # watching: the pid of each running task -> its status pipe
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)
    def reap(*_, block=False):  # SIGCHLD: each ended task's exit code to its status pipe
        while watching:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            out = watching.pop(pid, None)
            if out is not None:
                try:
                    os.write(out, b"%d\n" % os.waitstatus_to_exitcode(status))
                except OSError:  # the runner stopped listening
                    pass
                os.close(out)
    _signal.signal(_signal.SIGCHLD, reap)
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # the runner stops tasks itself
    chld = {_signal.SIGCHLD}
    while True:
        head, anc, _, _ = sock.recvmsg(8, _socket.CMSG_SPACE(4 * 4))
        while head and len(head) < 8:
            more = sock.recv(8 - len(head))
            head = head + more if more else b""
        size = int.from_bytes(head, "big") if head else 0
        body = bytearray()
        while head and len(body) < size:
            more = sock.recv(min(size - len(body), 1 << 20))
            if not more:
                head = b""
            body += more
        if not head:  # the runner is done: report the tasks still running as they end, then go
            _signal.pthread_sigmask(_signal.SIG_BLOCK, chld)
            reap(block=True)
            os._exit(0)
        data = b"".join(d for level, kind, d in anc if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS)
        fds = [int.from_bytes(data[i:i + 4], sys.byteorder) for i in range(0, len(data) - 3, 4)]
        request = marshal.loads(bytes(body))
        code = _compiled(request, compiled)
        gc.freeze()  # the server's objects: a task's collections and its exit never touch (copy) them
        _signal.pthread_sigmask(_signal.SIG_BLOCK, chld)  # reap() must find the task in watching
        pid = os.fork()
        if pid == 0:
            sock.close()
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, chld)
            return fds, request, code
        stdin, stdout, stderr, status = fds
        for f in (stdin, stdout, stderr):
            os.close(f)
        try:
            os.write(status, b"%d\n" % pid)
        except OSError:
            pass
        watching[pid] = status
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, chld)
def _compiled(request, cache):
    # each task of a template runs the same script text: compile it once, here, for every fork
    argv, env, cwd = request
    try:
        with open(os.path.join(cwd, argv[0]), "rb") as f:
            text = f.read()
        code = cache.get(text)
        if code is None:
            if len(cache) >= 64:
                cache.clear()
            code = cache[text] = compile(text, argv[0], "exec")
        return code
    except BaseException:  # the task reads and compiles it itself, and fails as `python script.py` would
        return None
def _start(fds, request, code):
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    os.setsid()
    for i, f in enumerate(fds[:3]):
        os.dup2(f, i)
    os.closerange(3, 1 << 16)
    argv, env, cwd = request
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv[:] = argv
    return argv[0], code
def _run(path, code):
    # the script as `python -I script.py` runs it: in a fresh __main__ (this program's names gone)
    import sys
    status_of, finish = _ending(set(sys.modules))
    main = sys.modules["__main__"]
    main.__dict__.clear()
    main.__dict__.update(__name__="__main__", __doc__=None, __package__=None, __spec__=None, __cached__=None,
                         __builtins__=sys.modules["builtins"], __file__=path,
                         __loader__=sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path))
    if code is None:
        with open(path, "rb") as f:
            code = compile(f.read(), path, "exec")
    else:
        sys.modules["_imp"]._fix_co_filename(code, path)  # as a .pyc is given its file's name
    try:
        exec(code, main.__dict__)
        status = 0
    except SystemExit as e:
        status = status_of(e)
    except BaseException as e:  # shown as the interpreter shows it, without this frame
        e.__traceback__ = e.__traceback__.tb_next
        sys.excepthook(type(e), e, e.__traceback__)
        status = 1
    finish(status)
def _ending(ours):
    import sys, os, gc
    def status_of(e):  # a SystemExit as the interpreter reads it (handle_system_exit)
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code & 0xFF
        try:
            print(e.code, file=sys.stderr)
        except BaseException:
            pass
        return 1
    def flush(status):
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except BaseException:
                if stream is sys.stdout and status == 0:
                    status = 120  # as the interpreter exits when stdout cannot be flushed
        return status
    def finish(status):
        # What the interpreter's shutdown does that a task can see, in its order (Py_FinalizeEx):
        # non-daemon threads joined, atexit handlers run, the standard streams flushed, and what the
        # task left in files it never closed written out. Nothing else: a normal exit would tear down
        # the server's objects too, which costs a forked task most of its run (each page it touches
        # is copied from the server), and runs no code of the task's (the modules a heraspec script
        # imports stay alive to the end: their objects' __del__ does not run there either).
        try:
            if "threading" in sys.modules:
                sys.modules["threading"]._shutdown()
        except SystemExit as e:
            status = status_of(e)
        except BaseException:
            pass
        import atexit
        atexit._run_exitfuncs()
        status = flush(status)
        base = sys.modules["_io"]._IOBase
        for obj in gc.get_objects():  # the task's objects only: the server's are frozen
            if isinstance(obj, base):
                try:
                    if not obj.closed:
                        obj.flush()
                except BaseException:
                    pass
        os._exit(flush(status))
    return status_of, finish
_run(*_start(*_serve(int(sys.argv[1]))))
'''


class Forked:
    """A task started by a fork server; the small part of `subprocess.Popen` the runner uses."""

    def __init__(self, status: int, stdout: IO[bytes] | None, stderr: IO[bytes] | None):
        self._status, self.stdout, self.stderr = status, stdout, stderr
        self._buf = b""
        line = self._line(None)
        if line is None:
            os.close(status)
            raise OSError("the fork server did not start the task")
        self.pid = int(line)
        self.returncode: int | None = None

    def _line(self, timeout: float | None) -> bytes | None:
        while b"\n" not in self._buf:
            ready, _, _ = select.select([self._status], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("task", timeout or 0.0)
            chunk = os.read(self._status, 64)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            line = self._line(timeout)
            os.close(self._status)
            self.returncode = int(line) if line is not None else -9  # the server died: the task was killed
        return self.returncode


class ForkServer:
    def __init__(self, python: str, flags: list[str], env: dict[str, str]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock, self._lock = ours, threading.Lock()
        # the program on stdin (`python -I -u - FD`): a short command line in ps, and no file to keep
        self._proc = subprocess.Popen([python, *flags, "-", str(theirs.fileno())], env=env,
                                      pass_fds=[theirs.fileno()], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._proc.stdin.write(_SERVER.encode())  # type: ignore[union-attr]
        self._proc.stdin.close()  # type: ignore[union-attr]

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str, stdout: int | None, stderr: int | None) -> Forked:
        """`stdout`/`stderr`: None for a pipe the caller reads (as Popen's PIPE), else the file's descriptor."""
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
            body = marshal.dumps((argv, env, cwd))
            head = len(body).to_bytes(8, "big")
            with self._lock:
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
        return Forked(status_r, next(readers) if stdout is None else None, next(readers) if stderr is None else None)

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
