"""`heraspec`'s entry point: parse the arguments, run the chosen verb behind one error boundary, and
pick the exit code: a spec's errors (all of them, located) exit 1, usage errors 2, an unexpected
exception 3 with one line asking for a report (`--debug` shows the trace); never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from ..errors import HeraspecError, SpecInvalid, UsageError
from .argo_server import cmd_apply, cmd_diff
from .exits import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, REPORT_URL
from .local_run import cmd_run
from .parser import build_parser
from .specs import check_utf8
from .verbs import cmd_cache, cmd_compile, cmd_graph, cmd_init, cmd_lock, cmd_lsp, cmd_schema, cmd_validate


VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": cmd_validate, "lock": cmd_lock, "compile": cmd_compile, "run": cmd_run, "apply": cmd_apply,
    "diff": cmd_diff, "graph": cmd_graph, "init": cmd_init, "cache": cmd_cache, "schema": cmd_schema,
    "lsp": cmd_lsp,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        check_utf8(args)
        return VERBS[args.verb](args)
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
