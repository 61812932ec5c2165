"""`heraspec`'s entry point: parse the arguments, run the chosen verb behind one error boundary, and
pick the exit code: a spec's errors (all of them, located) exit 1, usage errors 2, an unexpected
exception 3 with one line asking for a report (`--debug` shows the trace); never a traceback."""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Callable, NoReturn, Sequence

from ..errors import HeraspecError, SpecInvalid, UsageError
from .exits import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, REPORT_URL
from .quickargs import read_quick
from .specs import check_utf8

if TYPE_CHECKING:
    import argparse

# verb -> (module of heraspec.cli, its handler): only the chosen verb's module is imported
VERBS: dict[str, tuple[str, str]] = {
    "validate": ("verbs", "cmd_validate"), "lock": ("verbs", "cmd_lock"), "compile": ("verbs", "cmd_compile"),
    "run": ("local_run", "cmd_run"), "apply": ("argo_server", "cmd_apply"), "diff": ("argo_server", "cmd_diff"),
    "graph": ("verbs", "cmd_graph"), "init": ("verbs", "cmd_init"), "cache": ("verbs", "cmd_cache"),
    "schema": ("verbs", "cmd_schema"), "lsp": ("verbs", "cmd_lsp"),
}


def handler(verb: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs `verb`: it takes the parsed arguments and returns the exit code."""
    import importlib

    module, name = VERBS[verb]
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


# Verbs after which the process ends without tearing its heap down: they start no thread and register
# nothing to run at exit, and what they print is flushed first. Freeing every object one by one at
# interpreter shutdown is a tenth of a `validate` (and of nothing the user sees).
# The cyclic collector stays paused for the whole of such a process: the verb's stages pause it anyway
# (pipeline.GcPaused), and resuming it at their end would first scan every object they left (~6 ms
# after a 5,000-task compile) only for the exit to drop them all.
QUICK_EXIT = frozenset({"validate", "compile"})


def process_main(argv: Sequence[str] | None = None) -> NoReturn:
    """The `heraspec` process (console script, `python -m heraspec`): `main`, then exit with its
    code; after a QUICK_EXIT verb, with os._exit once stdout and stderr are flushed, the cyclic
    collector paused throughout. (`main` itself returns, for callers in the same process.)"""
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = bool(argv) and argv[0] in QUICK_EXIT
    collecting = gc.isenabled()
    if quick:
        gc.disable()
    code = main(argv)
    if quick and _nothing_left_to_run():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # a closed pipe: the interpreter's own exit reports it, as without this
            _exit_as_usual(code, collecting)
        os._exit(code)
    _exit_as_usual(code, collecting)


def _exit_as_usual(code: int, collecting: bool) -> NoReturn:
    """The interpreter's own exit (exit functions, then teardown), with the collector as it was."""
    if collecting:
        gc.enable()
    sys.exit(code)


def _nothing_left_to_run() -> bool:
    """No other thread runs and nothing waits for the exit (atexit: logging, once imported, flushes
    its handlers there); unknown (another interpreter than CPython) counts as something."""
    import atexit

    threading = sys.modules.get("threading")
    pending = getattr(atexit, "_ncallbacks", None)  # CPython's count of registered exit functions
    return (threading is None or threading.active_count() == 1) and callable(pending) and pending() == 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = read_quick(argv)  # `validate FILE...`, `compile FILE...`: no parser to build
    if args is None:
        from .parser import build_parser

        parser = build_parser(argv[0] if argv and argv[0] in VERBS else None)
        args = parser.parse_args(argv)
        if not args.verb:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
    try:
        check_utf8(args)
        return handler(args.verb)(args)
    except SpecInvalid as exc:
        print(exc.errors.format(), file=sys.stderr)
        n = len(exc.errors)
        print(f"{n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"heraspec: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HeraspecError as exc:
        print(f"heraspec: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # before OSError, whose subclass it is: `heraspec compile | head` is fine
        return EXIT_OK
    except OSError as exc:
        path = _given_path(args, exc)
        if path is None:  # not a path the user named: heraspec's own files, a bug until shown otherwise
            return _internal_error(args, exc)
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        print(f"heraspec: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        print(f"  hint: {path} is given on the command line: check that its folder exists and that you may "
              "write there", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("heraspec: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _internal_error(args, exc)


def _given_path(args: argparse.Namespace, exc: OSError) -> str | None:
    """The output path on the command line (-o, --workdir, init's DIR) that `exc` is about, or None."""
    failed = os.path.abspath(os.fsdecode(exc.filename)) if exc.filename is not None else None
    if failed is None:
        return None
    for attr in ("output", "workdir", "dir"):
        given = getattr(args, attr, None)
        if isinstance(given, str) and given:
            root = os.path.abspath(given)
            # the path itself, a parent on the way to it (mkdir -p), or a file written inside it
            if failed == root or root.startswith(failed.rstrip(os.sep) + os.sep) or failed.startswith(root + os.sep):
                return given
    return None


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    if getattr(args, "debug", False):
        import traceback

        traceback.print_exception(exc)
    print(f"heraspec: internal error ({type(exc).__name__}); please report it at {REPORT_URL} "
          "with the command you ran (rerun with --debug to see the trace)", file=sys.stderr)
    return EXIT_INTERNAL
