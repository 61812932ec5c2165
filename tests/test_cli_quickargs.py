"""cli/quickargs.py reads `heraspec validate FILE...` and `heraspec compile FILE... [-o PATH]` without
argparse: what it reads is what the parser (cli/parser.py) reads, and anything else is left to it."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings, strategies as st

from heraspec.cli.parser import build_parser
from heraspec.cli.quickargs import DEFAULTS, read_quick


def parsed(argv: list[str]) -> dict | None:
    """What argparse reads from argv (the parser of argv's verb alone, and the whole command line's,
    agree), or None for a usage error."""
    readings = []
    for only in (argv[0] if argv and argv[0] in DEFAULTS else None, None):
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                readings.append(vars(build_parser(only).parse_args(argv)))
        except SystemExit:
            readings.append(None)
    assert readings[0] == readings[1]
    return readings[0]


@pytest.mark.parametrize("argv", [
    ["validate", "examples/diamond.yaml"],
    ["validate", "a.yaml", "with space.yaml", "", "ünï.toml"],
    ["compile", "chain.yaml"],
    ["compile", "a.yaml", "b.toml", "-o", "manifests/"],
    ["compile", "a.yaml", "-o", "/dev/null"],
    ["compile", "a.yaml", "-o", ""],
])
def test_plain_command_lines_read_as_argparse_reads_them(argv: list[str]):
    mine = read_quick(argv)
    assert mine is not None and vars(mine) == parsed(argv)


@pytest.mark.parametrize("argv", [
    [], ["validate"], ["compile"], ["compile", "-o", "x"], ["run", "a.yaml"], ["graph", "a.yaml"],
    ["validate", "--debug", "a.yaml"], ["validate", "a.yaml", "-o", "x"], ["validate", "-"],
    ["compile", "-o", "x", "a.yaml"], ["compile", "a.yaml", "-o"], ["compile", "a.yaml", "-o", "-1"],
    ["compile", "a.yaml", "-ox"], ["compile", "a.yaml", "--output", "x"], ["compile", "a.yaml", "-o", "x", "b.yaml"],
    ["compile", "a.yaml", "--", "b.yaml"], ["compile", "a.yaml", "-o", "x", "-o", "y"], ["compile", "--help"],
])
def test_any_other_command_line_is_left_to_argparse(argv: list[str]):
    assert read_quick(argv) is None


def test_each_option_left_out_has_the_parsers_default():
    """A verb's option added to parser.py, or a default changed there, shows here until DEFAULTS follows."""
    for verb, defaults in DEFAULTS.items():
        seen = parsed([verb, "x.yaml"])
        assert seen is not None
        assert {k: v for k, v in seen.items() if k not in ("verb", "files")} == defaults


def test_the_lists_read_are_the_callers_own():
    first = read_quick(["validate", "a.yaml"])
    first.path.append("src")
    assert read_quick(["validate", "a.yaml"]).path == [] and DEFAULTS["validate"]["path"] == []


WORDS = st.sampled_from(["validate", "compile", "a.yaml", "b.toml", "-o", "--output", "-ox", "--debug", "--", "-",
                         "", "-1", "--pretty", "x y", "--format", "json"])


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=6), st.sampled_from(["validate", "compile", "run", "lock"]))
def test_whatever_plain_reads_argparse_reads_alike(words: list[str], verb: str):
    argv = [verb, *words]
    mine = read_quick(argv)
    if mine is not None:
        assert vars(mine) == parsed(argv)
