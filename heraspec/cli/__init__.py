"""The command line: the only place that parses arguments, prints errors and picks exit codes.

Exit codes (`exits.py`): 0 success; 1 invalid input, a failed run or a failed apply; 2 usage error;
3 internal error (one line asking for a report; `--debug` shows the trace).
`parser.py` defines the verbs and their options (`plain.py` reads `validate FILE...` and
`compile FILE... [-o PATH]` without building it); `boundary.main` runs the chosen verb behind one
error boundary; the verbs are `verbs.py` (validate, lock, compile, graph, init, cache, schema, lsp),
`local_run.py` (run) and `argo_server.py` (apply, diff), over `specs.py` (arguments to the pipeline's
options). Only the chosen verb's modules are imported, so `heraspec validate` starts fast.
"""

from __future__ import annotations

from typing import Any

from .boundary import main, process_main

__all__ = ["build_parser", "main", "process_main"]


def __getattr__(name: str) -> Any:
    """`build_parser`, imported when asked for: `validate FILE...` and `compile FILE...` need no
    argparse (plain.py)."""
    if name == "build_parser":
        from .parser import build_parser

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
