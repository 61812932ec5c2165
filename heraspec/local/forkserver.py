"""A warm start for `heraspec run`'s script tasks: one fork server per interpreter, forking per task.

    server = ForkServer(python, flags, startup_env); proc = server.spawn(argv, env, cwd, fds); server.close()

Starting Python costs more than a trivial task's work, so each run keeps one small server process
per (interpreter, flags, locale), started exactly as a task would be (`python -I -u`, the task's
virtual environment) but running only the loop below. For each task it forks once, writes the
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

# The server's whole program (read from stdin): built-in modules only, and json, which every heraspec
# script imports first (script.JSON_FIRST), so that a task sees the modules a fresh interpreter has.
# Requests: 8-byte length, then marshal((argv, env, cwd, paths)), with 4 descriptors (stdin, stdout, stderr,
# status pipe) attached to the first bytes. The status pipe gets the task's pid, then its exit code;
# the task writes "=CODE" there itself as it ends, which may come before the pid.
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
    # A task may signal its parent: the server ignores every signal it can (the runner stops tasks
    # itself, and closes the socket to end the server); each task gets a fresh process's handlers back
    dispositions = {}
    for sig in _signal.valid_signals():
        if sig in (_signal.SIGKILL, _signal.SIGSTOP, _signal.SIGCHLD):
            continue
        try:
            dispositions[sig] = _signal.signal(sig, _signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    _signal.signal(_signal.SIGCHLD, reap)
    chld = {_signal.SIGCHLD}
    # A SIGCHLD landing after the last check for signals and before a receive blocks runs reap() only
    # once that receive returns (it is not interrupted): a killed task's code would wait for the next
    # request. So a receive waits at most a second, and then the ended tasks are reaped.
    sock.settimeout(1.0)
    def receive(call, *args):
        while True:
            try:
                return call(*args)
            except TimeoutError:
                _signal.pthread_sigmask(_signal.SIG_BLOCK, chld)
                reap()
                _signal.pthread_sigmask(_signal.SIG_UNBLOCK, chld)
    while True:
        head, anc, _, _ = receive(sock.recvmsg, 8, _socket.CMSG_SPACE(4 * 4))
        while head and len(head) < 8:
            more = receive(sock.recv, 8 - len(head))
            head = head + more if more else b""
        size = int.from_bytes(head, "big") if head else 0
        body = bytearray()
        while head and len(body) < size:
            more = receive(sock.recv, min(size - len(body), 1 << 20))
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
        led_r, led_w = os.pipe()  # closed by the task once it leads its own session (or by its death)
        pid = os.fork()
        if pid == 0:
            os.setsid()
            os.close(led_w)
            os.close(led_r)
            sock.close()
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            for sig, was in dispositions.items():
                _signal.signal(sig, was)
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, chld)
            return fds, request, code
        stdin, stdout, stderr, status = fds
        for f in (stdin, stdout, stderr):
            os.close(f)
        # the pid goes out only once the task leads its session: the runner kills a task by its group
        # (killpg(pid)) as soon as it has the pid, and a group not made yet would be missed (ESRCH)
        os.close(led_w)
        os.read(led_r, 1)
        os.close(led_r)
        try:
            os.write(status, b"%d\n" % pid)
        except OSError:
            pass
        watching[pid] = status
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, chld)
def _compiled(request, cache):
    # each task of a template runs the same script text: compile it once, here, for every fork
    argv, env, cwd, _ = request
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
    for i, f in enumerate(fds[:3]):
        os.dup2(f, i)
    status = fds[3]  # the task reports its own exit code too: it still arrives if the server is killed
    os.set_inheritable(status, False)
    os.closerange(3, status)
    os.closerange(status + 1, 1 << 16)
    argv, env, cwd, paths = request
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv[:] = argv
    if paths:  # the pod's paths, mapped where files are opened (pathmap.py)
        _heraspec_map_paths(*paths)
    return argv[0], code, status
def _run(path, code, status_fd):
    # the script as `python -I script.py` runs it: in a fresh __main__ (this program's names gone)
    import sys
    status_of, report, finish = _ending(set(sys.modules), status_fd)
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
        report(e)
        status = 1
    finish(status)
def _ending(ours, status_fd):
    # How the interpreter ends a script (pythonrun.c, pylifecycle.c Py_FinalizeEx), for what a task
    # can see of it; the server's own objects are not torn down (see the module's docstring)
    import sys, os, gc
    task = os.getpid()
    def write_err(text):  # to sys.stderr, or to fd 2 when there is none (PySys_WriteStderr)
        err = sys.stderr
        try:
            if err is None:
                os.write(2, text.encode("utf-8", "backslashreplace"))
            else:
                err.write(text)
        except BaseException:
            pass
    def status_of(e):  # _Py_HandleSystemExit
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):  # read as a C long: out of its range, -1
            return code & 0xFF if -(1 << 63) <= code < (1 << 63) else 255
        try:
            text = str(code)
        except BaseException:
            text = ""
        write_err(text + "\n")
        return 1
    def report(e):  # _PyErr_PrintEx: sys.excepthook, and what happens when it is missing or fails
        if not hasattr(sys, "excepthook"):
            write_err("sys.excepthook is missing\n")
            return sys.__excepthook__(type(e), e, e.__traceback__)
        failed = None
        try:
            sys.excepthook(type(e), e, e.__traceback__)  # None: a TypeError, as calling it from C gives
        except BaseException as x:
            failed = x
        if failed is not None:
            failed.__context__ = None  # the hook's own error, not one raised while handling e
            failed.__traceback__ = failed.__traceback__.tb_next  # without this frame
            write_err("Error in sys.excepthook:\n")
            sys.__excepthook__(type(failed), failed, failed.__traceback__)
            write_err("\nOriginal exception was:\n")
            sys.__excepthook__(type(e), e, e.__traceback__)
    def is_closed(f):
        try:
            return bool(f.closed)
        except BaseException:
            return False
    def flush_std():  # flush_std_files: False when either stream fails (the exit code is then 120)
        ok, out, err = True, sys.stdout, sys.stderr
        if out is not None and not is_closed(out):
            try:
                out.flush()
            except BaseException as e:  # PyErr_WriteUnraisable(stdout)
                write_err(f"Exception ignored in: {out!r}\n")
                try:
                    sys.__excepthook__(type(e), e, e.__traceback__)
                except BaseException:
                    pass
                ok = False
        if err is not None and not is_closed(err):
            try:
                err.flush()
            except BaseException:
                ok = False
        return ok
    def teardown():
        # finalize_modules, for the modules the task imported and __main__: newest first, each
        # module's names starting with one underscore set to None, then the others; then the task's
        # cycles collected. Objects only they held go, as in the pod: files they held are flushed and
        # closed, __del__ runs, temporary files are removed. A daemon thread's objects stay. What
        # __del__ prints is lost, as it is there: the script's functions hold its modules' names
        # until the sys module itself is cleared, standard streams included.
        names = [n for n in reversed(list(sys.modules)) if n not in ours] + ["__main__"]
        for name in names:
            d = getattr(sys.modules.get(name), "__dict__", None)
            if not isinstance(d, dict):
                continue
            for key in [k for k in d if isinstance(k, str) and k[:1] == "_" and k[1:2] != "_"]:
                d[key] = None
            for key in [k for k in d if k != "__builtins__"]:
                d[key] = None
        gc.collect()
    def finish(status):
        try:
            if "threading" in sys.modules:
                sys.modules["threading"]._shutdown()  # wait_for_thread_shutdown
        except SystemExit as e:
            status = status_of(e)
        except BaseException:
            pass
        import atexit
        atexit._run_exitfuncs()
        ok = flush_std()
        streams = sys.stdout, sys.stderr
        try:
            sys.setswitchinterval(1e6)  # as at finalization, daemon threads should not run meanwhile
            sys.stdout = sys.stderr = None
            teardown()
        except BaseException:
            pass
        sys.stdout, sys.stderr = streams
        ok = flush_std() and ok
        status = status if ok else 120
        try:
            if os.getpid() == task:  # not a process the task forked, ending through here too
                os.write(status_fd, b"=%d\n" % status)
        except BaseException:
            pass
        os._exit(status)
    return status_of, report, finish
_run(*_start(*_serve(int(sys.argv[1]))))
'''


_SERVER = RUN_HOOK + _SERVER  # defines _heraspec_map_paths, called in a task that maps paths


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
        # the program on stdin (`python -I -u - FD`): a short command line in ps, and no file to keep
        self._proc = subprocess.Popen([python, *flags, "-", str(theirs.fileno())], env=env,
                                      pass_fds=[theirs.fileno()], stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._proc.stdin.write(_SERVER.encode())  # type: ignore[union-attr]
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
