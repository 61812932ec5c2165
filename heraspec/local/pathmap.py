"""Pod paths for a local Python task, mapped where the task opens files, never in its source text.

    python -I -u -c LAUNCH '[[POD, LOCAL], ...]' RUN_DIR script.py ARGS...   (forkserver.py runs HOOK itself)

A pod sees its volumes and declared output/input paths at absolute paths (`/data`, `/tmp/outputs/x`);
`heraspec run` keeps them in the run folder. Rewriting those paths in a script's text would change
strings that are not paths (a URL route `"/data"`) and miss modules carried encoded. Instead, before
the script runs, HOOK wraps the filesystem functions a Python program reaches files through —
`open`/`io.open`, and `os`'s `open stat lstat access listdir scandir mkdir rmdir remove unlink
rename replace chmod chown utime truncate link symlink readlink chdir` (so pathlib, glob, shutil,
os.path and os.walk follow) — so that an absolute path at or under a pod path is opened at its local
place. Nothing else is touched: a string is mapped only when it is given to one of these functions.
A path already inside the run folder is never mapped again (TMPDIR lives there). Not mapped: paths
that C extensions open themselves (sqlite3, h5py), and commands run with subprocess (their
arguments are the program's own; a container task's command, args and env are mapped by prepare).
"""

from __future__ import annotations

import json

__all__ = ["HOOK", "HOOK_NAME", "RUN_HOOK", "LAUNCH", "launch_argv"]

# Defines _heraspec_map_paths(pairs, exempt); self-contained (stdlib, no globals used once it ran),
# as the fork server clears the namespace it was defined in before the task runs.
HOOK = r'''
def _heraspec_map_paths(pairs, exempt):
    import builtins, io, os, posixpath
    pairs = sorted(((posixpath.normpath(p), local) for p, local in pairs), key=lambda x: -len(x[0]))
    exempt = [posixpath.normpath(e) for e in exempt]
    fspath, normpath, isinstance_, str_, bytes_ = os.fspath, posixpath.normpath, isinstance, str, bytes

    def under(path, root):
        return path == root or path.startswith(root + "/") or root == "/"

    def mapped(path):
        if isinstance_(path, int) or path is None:
            return path
        try:
            text = fspath(path)
        except TypeError:
            return path
        raw = isinstance_(text, bytes_)
        s = os.fsdecode(text) if raw else text
        if not s.startswith("/"):
            return path
        norm = normpath(s)
        if norm.startswith("//"):
            norm = "/" + norm.lstrip("/")
        for root in exempt:
            if under(norm, root):
                return path
        for pod, local in pairs:
            if under(norm, pod):
                out = local + norm[len(pod):] if pod != "/" else local + norm
                return os.fsencode(out) if raw else out
        return path

    def wrap(fn, count):
        def wrapper(*args, **kwargs):
            if count == 1 and args:
                args = (mapped(args[0]),) + args[1:]
            elif count == 2:
                args = tuple(mapped(a) if i < 2 else a for i, a in enumerate(args))
            for key in ("path", "file", "src", "dst"):
                if key in kwargs:
                    kwargs[key] = mapped(kwargs[key])
            return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        wrapper.__code__ = wrapper.__code__.replace(co_name=fn.__name__)  # a traceback says `in open`
        wrapper.__wrapped__ = fn
        return wrapper

    import sys
    accessor = None
    if sys.version_info < (3, 11):
        # Python 3.10's pathlib calls os's functions through `_NormalAccessor`, whose class attributes
        # take them when pathlib is first imported: imported before the wrapping, Path would reach pod
        # paths unmapped; imported after, a wrapper (a Python function) would bind as a method and get
        # the accessor as its path. So pathlib is imported first, and its accessor gets the wrappers
        # as static methods below: what `Path.open`/`stat`/... reach on 3.11 and later.
        import pathlib
        accessor = getattr(pathlib, "_NormalAccessor", None)
    wrappers = {}
    opener = wrappers[io.open] = wrap(io.open, 1)
    builtins.open = io.open = opener
    for count, names in ((1, ("open", "stat", "lstat", "access", "listdir", "scandir", "mkdir", "rmdir", "remove",
                              "unlink", "chmod", "chown", "utime", "truncate", "readlink", "chdir")),
                         (2, ("rename", "replace", "link", "symlink"))):
        for name in names:
            if hasattr(os, name):
                original = getattr(os, name)
                wrappers[original] = wrap(original, count)
                setattr(os, name, wrappers[original])
    for name, value in list(vars(accessor).items()) if accessor is not None else ():
        if callable(value) and value in wrappers:
            setattr(accessor, name, staticmethod(wrappers[value]))
'''

# HOOK as a program runs it: under a name that says, in a traceback through a wrapped function,
# what the extra frame is
HOOK_NAME = "<heraspec run: pod paths mapped to the run folder>"
RUN_HOOK = f"exec(compile({HOOK!r}, {HOOK_NAME!r}, 'exec'))\n"

# `python -c LAUNCH PAIRS RUN_DIR script.py ARGS`: HOOK, then the script as `python script.py` runs
# it: argv, sys.path[0] (unless -I/-P), a fresh __main__, tracebacks without this program's frames.
LAUNCH = RUN_HOOK + r'''
def _heraspec_launch():
    import sys, os, json
    pairs, exempt = json.loads(sys.argv[1]), [sys.argv[2]]
    del sys.argv[:3]
    path = sys.argv[0]
    if sys.path and sys.path[0] == "" and not sys.flags.isolated and not getattr(sys.flags, "safe_path", False):
        sys.path[0] = os.path.dirname(os.path.realpath(path))
    elif sys.path and sys.path[0] == "":
        del sys.path[0]
    _heraspec_map_paths(pairs, exempt)
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")
    main = sys.modules["__main__"]
    main.__dict__.clear()
    main.__dict__.update(__name__="__main__", __doc__=None, __package__=None, __spec__=None, __cached__=None,
                         __builtins__=sys.modules["builtins"], __file__=path,
                         __loader__=sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path))
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as e:  # shown as the interpreter shows it, from the script's first frame
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
            tb = tb.tb_next
        e.__traceback__ = tb  # the interpreter prints the exception's own traceback
        sys.excepthook(type(e), e, tb)
        sys.exit(1)
_heraspec_launch()
'''


def launch_argv(argv: list[str], script: str, pairs: dict[str, str], run_dir: str) -> list[str]:
    """`argv` (`python [flags] script args`) with the launcher before the script."""
    at = argv.index(script, 1)
    return [*argv[:at], "-c", LAUNCH, json.dumps(sorted(pairs.items())), run_dir, *argv[at:]]
