"""The most common command lines, read without argparse: `heraspec validate FILE...` (a pre-commit
hook, an editor) and `heraspec compile FILE... [-o PATH]` (a build).

    read_quick(argv) -> SimpleNamespace | None    the arguments parser.build_parser(argv[0]) gives
                                                  for argv, or None for any other command line

Importing argparse (with gettext, and locale, which gettext reads when argparse builds a parser)
and building the verb's parser is ~4 ms of such a process. These command lines have one reading:
no word starts with '-' but `-o` before compile's last word, so each option keeps its default.
tests/test_cli_quickargs.py checks every reading against argparse's, and that DEFAULTS are the
parser's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Sequence

# the parsed arguments of each verb read here, left at their defaults (parser.py declares them)
DEFAULTS: dict[str, dict[str, object]] = {
    "validate": {"version": None, "debug": False, "path": [], "templates": [], "values": [], "sets": []},
    "compile": {"version": None, "debug": False, "output": None, "keep_ext": False, "format": "yaml", "pretty": None,
                "namespace": None, "path": [], "templates": [], "values": [], "sets": []},
}


def read_quick(argv: Sequence[str]) -> SimpleNamespace | None:
    """validate or compile, then one or more files, and for compile `-o PATH` at the end (no word
    starting with '-' otherwise): what argparse reads from them; None for anything else."""
    if not argv or argv[0] not in DEFAULTS:
        return None
    words, output = list(argv[1:]), None
    if argv[0] == "compile" and len(words) >= 3 and words[-2] == "-o":
        words, output = words[:-2], words[-1]
        if output.startswith("-"):
            return None
    if not words or any(w.startswith("-") for w in words):
        return None
    args = SimpleNamespace(verb=argv[0], files=words,
                           **{k: list(v) if isinstance(v, list) else v for k, v in DEFAULTS[argv[0]].items()})
    if output is not None:
        args.output = output
    return args
