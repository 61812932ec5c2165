"""The fork server's own program (forkserver.py runs it: `python -I -u forkserver_program.py FD`).

It imports built-in modules only, and json, which every heraspec script imports first
(script.JSON_FIRST), so that a task sees the modules a fresh interpreter has; nothing of heraspec
(the path hook, pathmap.HOOK, arrives on stdin and is run first). Requests on the socket FD:
8-byte length, then marshal((argv, env, cwd, paths)), with 4 descriptors (stdin, stdout, stderr,
status pipe) attached to the first bytes. The status pipe gets the task's pid, then its exit code;
the task writes "=CODE" there itself as it ends, which may come before the pid. Each task is a fork
that runs its script in a fresh `__main__` (this program's names gone) and ends as the interpreter
ends (see forkserver.py).
"""

import sys, os, gc, marshal, _socket, _signal, json  # noqa: E401,F401 (json: what a fresh task has, see above)

exec(compile(sys.stdin.read(), "<heraspec path hook>", "exec"))  # defines _heraspec_map_paths (pathmap.HOOK)


# --- the server: one fork per request ------------------------------------------------------------------

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

# --- in the task: its script, compiled once per text; its descriptors, folder and environment ---------

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

# --- in the task: the script as `python -I script.py` runs it, and its ending ----------------------

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
        # finalize_modules (pylifecycle.c), for the modules the task imported and __main__, with the
        # standard streams as finalize_modules_delete_special restores them (sys.__stdout__,
        # sys.__stderr__): newest first, each module's names starting with one underscore set to
        # None, then the others (_PyModule_Clear); then the task's cycles collected. A module whose
        # names a sys hook the task set still holds (sys.excepthook's globals) outlives them all, as
        # in the pod: it goes as sys is cleared, with no streams left to print to. Objects only these
        # held go, as in the pod: files are flushed and closed, __del__ runs, temporary files are
        # removed. A daemon thread's objects stay.
        hooks = ("excepthook", "displayhook", "breakpointhook")
        held = [getattr(getattr(sys, hook, None), "__globals__", None) for hook in hooks]
        names = [n for n in reversed(list(sys.modules)) if n not in ours] + ["__main__"]
        spaces = [getattr(sys.modules.get(name), "__dict__", None) for name in names]
        def clear(d):
            for key in [k for k in d if isinstance(k, str) and k[:1] == "_" and k[1:2] != "_"]:
                d[key] = None
            for key in [k for k in d if k != "__builtins__"]:
                d[key] = None
        for d in spaces:
            if isinstance(d, dict) and not any(d is h for h in held):
                clear(d)
        gc.collect()
        sys.stdout = sys.stderr = None
        for hook in hooks:
            setattr(sys, hook, getattr(sys, "__" + hook + "__"))
        for d in spaces:
            if isinstance(d, dict) and any(d is h for h in held):
                clear(d)
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
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
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
