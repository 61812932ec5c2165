"""Put compiled manifests on an Argo Server: `apply` (create or update, then optionally wait) and
`diff` (the live objects against the compiled ones, ignoring what the server adds).

The steps live by job: `batch.prepare_batch` readies the manifests, `session.Session` holds the client,
the pool and the output, `writes` creates or updates (argo/writes.py says how), `follow.wait`
follows the Workflows created.

Only the `apply` and `diff` verbs import this module (it pulls in httpx through the client).
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, TextIO

from . import follow, writes
from .batch import ApplyReport, BatchItem, prepare_batch
from .compare import comparable, live_view
from .connection import shown
from .resources import ArgoError, item_path
from .session import Session
from ..errors import UsageError


# -- public API -------------------------------------------------------------------------------

def apply(manifests: list[dict], *, dry_run: str | None = None, wait: bool = False, logs: bool = False,
          replace: bool = False, parameters: Mapping[str, str] | None = None, stdout: TextIO | None = None,
          stderr: TextIO | None = None, verbose: bool = False, **connection: Any) -> ApplyReport:
    """Create or update every manifest; with `wait` (implied by `logs`) follow the Workflows.

    `stdout` receives per-resource lines, client dry-run bodies and logs; `stderr` progress and
    warnings (and with `verbose` each request); both default to silence (the report carries the results).
    `connection`: CONNECTION_OPTIONS, CLIENT_OPTIONS and WAIT_OPTIONS by name."""
    session = Session(connection, stdout=stdout, stderr=stderr, verbose=verbose, offline=dry_run == "client")
    items = prepare_batch(manifests, session.conn, parameters or {})
    return _run(session, items, dry_run=dry_run, wait=wait, logs=logs, replace=replace)


def diff(manifests: list[dict], *, stderr: TextIO | None = None, verbose: bool = False, **connection: Any) -> str:
    """A unified diff (YAML, sorted keys) of each live object against its compiled form; "" if none.

    The text is fit to print (no control characters, no token), and so is an ArgoError's message.
    `stderr` receives warnings (and with `verbose` each request)."""
    session = Session(connection, stderr=stderr, verbose=verbose)
    items = prepare_batch(manifests, session.conn, {})
    try:
        with session:
            parts = session.map(items, lambda it: _diff_one(session, it))
    except ArgoError as e:
        raise ArgoError(session.shown(e.message), status=e.status, code=e.code, transient=e.transient) from None
    return shown("".join(parts), session.conn.secrets, keep_lines=True)


def _run(session: Session, items: list[BatchItem], *, dry_run: str | None, wait: bool, logs: bool,
         replace: bool) -> ApplyReport:
    if dry_run in (None, "none"):
        dry_run = None
    elif dry_run not in ("client", "server"):
        raise UsageError(f"--dry-run must be none, client or server, not {dry_run!r}")
    session.namespace_note(items)
    if dry_run == "client":
        return writes.client_dry_run(session, items)
    with session:
        report = writes.submit(session, items, replace=replace, dry_run=dry_run)
        if (wait or logs) and dry_run is None:
            follow.wait(session, report, logs=logs)
    return report


def _yaml_lines(obj: Any) -> list[str]:
    import yaml

    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True).splitlines(keepends=True)


def _diff_one(session: Session, it: BatchItem) -> str:
    if it.error or it.kind is None:
        raise ArgoError(f"{it.result('failed').ref}: {it.error}")
    ref = it.result("diff").ref
    # a generated Workflow name is new by construction: nothing to read
    live = None if it.generated else session.get_or_none(item_path(it.kind, it.namespace, it.name))
    if live is None:
        want = _yaml_lines(comparable(it.obj, it.obj, it.kind))
        return "".join(difflib.unified_diff([], want, f"{ref} (not on the server)", f"{ref} (compiled)"))
    view, mine = live_view(live, it.obj, it.kind)
    if view == mine:
        return ""
    return "".join(difflib.unified_diff(_yaml_lines(view), _yaml_lines(mine), f"{ref} (live)", f"{ref} (compiled)"))
