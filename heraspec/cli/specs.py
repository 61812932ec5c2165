"""What the parsed arguments mean to the pipeline: `-p` / `--set` assignments, the namespace, the
search path and values as `pipeline.Options`, and the specs checked and compiled (an invalid spec is
SpecInvalid, for the boundary to print)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import Errors, SpecInvalid, UsageError

if TYPE_CHECKING:
    import argparse

    from ..argo.compiler import Compiled
    from ..pipeline import Options


def parse_assignments(items: Sequence[str], what: str) -> dict[str, str]:
    """`NAME=VALUE` items as a mapping (later wins); a malformed one is a usage error naming `what`."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} must look like NAME=VALUE, got '{item}'")
        out[name] = value
    return out


def _check_namespace(value: str | None, source: str) -> None:
    # the namespace goes into every request URL: refuse `../x` here, before anything is compiled
    from ..document.patterns import NAME_HINT, namespace_problem

    if value and (problem := namespace_problem(value)):
        raise UsageError(f"{source}: {problem} ({NAME_HINT}, at most 63 characters)")


def check_utf8(args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 reach argv as lone surrogates ('\\udcff'): YAML, JSON and Argo (Go) can
    carry none of them, so they are a usage error here, naming the argument, not a broken manifest."""
    for flag, attr in (("--set", "sets"), ("-p", "parameters")):
        for item in getattr(args, attr, None) or ():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                try:
                    raw = item.encode("utf-8", "surrogateescape")
                except UnicodeEncodeError:  # a surrogate that no byte gave (from a file or the API)
                    raw = item.encode("utf-8", "backslashreplace")
                shown = repr(raw[:80])[2:-1]  # the bytes as given: x=\xff
                part = "name" if e.start < len(item.partition("=")[0]) else "value"
                raise UsageError(f"{flag} '{shown}': the {part} is not valid UTF-8 "
                                 "(Argo and YAML carry only UTF-8 text)") from None


def spec_options(args: argparse.Namespace) -> Options:
    """The pipeline's options the arguments name; the namespace (it goes into request URLs) is checked here."""
    from ..pipeline import Options

    ns = getattr(args, "namespace", None) or os.environ.get("ARGO_NAMESPACE") or None
    _check_namespace(getattr(args, "namespace", None), "--namespace")
    if not getattr(args, "namespace", None):
        _check_namespace(os.environ.get("ARGO_NAMESPACE"), "ARGO_NAMESPACE")
    return Options(search_path=args.path, namespace=ns, values=getattr(args, "values", []), sets=getattr(args, "sets", []),
                   templates=getattr(args, "templates", []),
                   parameters=parse_assignments(getattr(args, "parameters", None) or [], "-p"))


def compile_specs(args: argparse.Namespace, files: Sequence[str]) -> list[Compiled]:
    """The files checked and compiled; SpecInvalid with every error of every file when any has one."""
    from ..pipeline import build

    errors = Errors()
    compiled = build(files, errors, spec_options(args))
    if errors:
        raise SpecInvalid(errors)
    return compiled


def print_notes(checked: Sequence[Any]) -> None:
    """Each checked spec's notes, on stderr."""
    for c in checked:
        for note in c.notes:
            print(note, file=sys.stderr)
