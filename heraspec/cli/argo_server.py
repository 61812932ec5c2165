"""`heraspec apply` and `heraspec diff`: compiled specs against an Argo Server, with the connection
the command line names (argo CLI flags and ARGO_* variables)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .exits import EXIT_INVALID, EXIT_OK
from .specs import compile_specs, parse_assignments


def cmd_apply(args: argparse.Namespace) -> int:
    parse_assignments(args.parameters, "-p")
    compiled = compile_specs(args, args.files)
    return apply_manifests([c.manifest for c in compiled], args, sys.stdout, sys.stderr)


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Argo Server connection the command line names, as applier's keyword options."""
    from ..argo.session import CLIENT_OPTIONS, CONNECTION_OPTIONS, WAIT_OPTIONS

    # client/wait knobs are not CLI flags; tests and embedders may set them on the namespace
    names = CONNECTION_OPTIONS + CLIENT_OPTIONS + WAIT_OPTIONS
    opts = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    if getattr(args, "plaintext", None):  # the CLI spells ARGO_SECURE=false as --plaintext
        opts["secure"] = False
    return opts


def apply_manifests(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """`heraspec apply` of compiled manifests: exit 0 when every resource was applied (and every
    waited-for Workflow succeeded), else 1."""
    from ..argo import applier

    report = applier.apply(manifests, dry_run=getattr(args, "dry_run", None), wait=bool(getattr(args, "wait", False)),
                           logs=bool(getattr(args, "logs", False)), replace=bool(getattr(args, "replace", False)),
                           parameters=parse_assignments(getattr(args, "parameters", None) or [], "-p"),
                           stdout=stdout, stderr=stderr, verbose=bool(getattr(args, "verbose", False)),
                           **connection_options(args))
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_diff(args: argparse.Namespace) -> int:
    compiled = compile_specs(args, args.files)
    return diff_manifests([c.manifest for c in compiled], args, sys.stdout, sys.stderr)


def diff_manifests(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Prints the diff; exit 0 (1 with `--exit-code` when there are differences, or on failure)."""
    from ..argo import applier
    from ..argo.resources import ArgoError

    try:
        text = applier.diff(manifests, stderr=stderr, verbose=bool(getattr(args, "verbose", False)),
                            **connection_options(args))
    except ArgoError as e:  # its message is fit to print (applier.diff)
        print(f"error: {e}", file=stderr)
        return EXIT_INVALID
    stdout.write(text)
    return EXIT_INVALID if text and getattr(args, "exit_code", False) else EXIT_OK
