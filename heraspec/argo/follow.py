"""Following a Workflow on the Argo Server: its watch stream (with polling as the fallback) and
its pods' logs; `wait` follows the Workflows an apply created, for `apply --wait` / `--logs`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, Mapping

from .batch import ApplyReport, ResourceResult
from .client import ArgoClient
from .resources import KINDS, ArgoError, item_path, segment
from .session import MAX_WORKERS, Session

DONE_PHASES = frozenset({"Succeeded", "Failed", "Error"})


def workflow_done(obj: Mapping[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") in DONE_PHASES


def follow_workflow(client: ArgoClient, namespace: str, name: str, *, uid: str | None = None,
                    poll_interval: float = 2.0, watch_timeout: float = 300.0,
                    note: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Yield the Workflow each time it changes, until it is done. Uses the watch stream; if that
    breaks, reconnects once, then polls GET (itself retried) every `poll_interval` seconds.

    Only our object counts: the stream may carry others (a server ignoring the field selector),
    which are skipped; the same name with another `uid` means ours was deleted and re-created by
    someone else, which ends the wait with an error rather than another run's phase."""
    ref = f"workflow {namespace}/{name}"

    def ours(obj: Any) -> bool:
        md = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(md, dict) or md.get("name") != name or md.get("namespace", namespace) != namespace:
            return False
        if uid is not None and md.get("uid") not in (None, uid):
            raise ArgoError(f"{ref} was deleted and re-created by someone else while waiting "
                            f"(uid {client.shown(md.get('uid'))}, not {uid})")
        return True

    params = {"listOptions.fieldSelector": f"metadata.name={name}"}
    events = f"/api/v1/workflow-events/{segment(namespace)}"
    for attempt in range(2):
        deleted = False
        try:
            for event in client.stream(events, params, read_timeout=watch_timeout):
                obj = event.get("object")
                if not ours(obj):
                    continue
                if event.get("type") == "DELETED":
                    deleted = True
                    break
                if uid is not None and (obj.get("metadata") or {}).get("uid") != uid:
                    continue  # without its uid it could be anyone's: not a phase to trust
                yield obj
                if workflow_done(obj):
                    return
            reason = "the watch stream ended"
        except ArgoError as e:
            # reconnecting or polling helps a broken line or a failing watch, not a refusal (401/403,
            # a redirect to a login page), an oversized line or a replaced workflow: GET would
            # meet the same
            if not e.transient and (e.status is None or e.status < 400 or e.status in (401, 403)):
                raise
            reason = f"the watch stream broke ({e})"
        if deleted:
            raise ArgoError(f"{ref} was deleted while waiting")
        if note:
            note(f"{reason}; " + ("reconnecting" if attempt == 0 else "polling instead"))
    path = item_path(KINDS["Workflow"], namespace, name)
    while True:
        obj = client.get(path)
        if not ours(obj) or (uid is not None and (obj.get("metadata") or {}).get("uid") != uid):
            raise ArgoError(f"the Argo server answered GET {path} with another object than {ref}")
        yield obj
        if workflow_done(obj):
            return
        time.sleep(poll_interval)


def stream_logs(client: ArgoClient, namespace: str, name: str, *, read_timeout: float = 300.0,
                container: str = "main") -> Iterator[tuple[str, str]]:
    """(podName, line) pairs of the Workflow's `main` containers, following until the run ends."""
    params = {"logOptions.container": container, "logOptions.follow": "true"}
    path = f"{item_path(KINDS['Workflow'], namespace, name)}/log"
    for entry in client.stream(path, params, read_timeout=read_timeout):
        yield str(entry.get("podName", "")), str(entry.get("content", ""))


def wait(session: Session, report: ApplyReport, *, logs: bool) -> None:
    """Follow each Workflow the report created until it ends (its phase, and the reason of a failure,
    go into the report; progress on stderr); with `logs` stream its pods' logs to stdout."""
    report.waited = True
    runs = report.workflows
    if runs:
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(runs))) as pool:
            list(pool.map(lambda r: _follow(session, r, logs), runs))
    for r in runs:
        session.out(f"{r.ref} {r.phase}" + (f" ({r.reason})" if r.reason else ""))


def _follow(session: Session, res: ResourceResult, logs: bool) -> None:
    ns = res.namespace or session.conn.default_namespace
    log_thread = None
    if logs:
        log_thread = threading.Thread(target=_logs, args=(session, res, ns), daemon=True)
        log_thread.start()
    seen: dict[str, str] = {}
    try:
        for wf in follow_workflow(session.client, ns, res.name, uid=res.uid,
                                  note=lambda s: session.err(f"{res.ref}: {s}"), **session.wait_options):
            _progress(session, res, wf, seen)
            status = _mapping(wf.get("status"))
            res.phase = session.shown(status["phase"]) if status.get("phase") else res.phase
            if res.phase in ("Failed", "Error"):
                res.reason = session.shown(status["message"]) if status.get("message") else None
    except ArgoError as e:
        res.phase = res.phase if res.phase in ("Failed", "Error") else "Unknown"
        res.reason = f"waiting failed: {session.shown(e.describe())}"
    if log_thread:
        log_thread.join(timeout=30)


def _progress(session: Session, res: ResourceResult, wf: dict, seen: dict[str, str]) -> None:
    # node names, types and phases are the server's text: each shown on one line of ours
    status = _mapping(wf.get("status"))
    changes = [("", session.shown(status.get("phase") or "Pending"))]
    nodes = [(k, v) for k, v in _mapping(status.get("nodes")).items() if isinstance(v, dict)]
    for node_id, node in sorted(nodes, key=lambda kv: str(kv[1].get("startedAt", ""))):
        label = f": {session.shown(node.get('displayName') or node_id)} ({session.shown(node.get('type', 'node'))})"
        changes.append((label, session.shown(node.get("phase") or "Pending")))
    for label, phase in changes:
        if seen.get(label) != phase:
            seen[label] = phase
            session.err(f"{res.ref}{label}: {phase}")


def _logs(session: Session, res: ResourceResult, ns: str) -> None:
    try:
        timeout = session.wait_options.get("watch_timeout", 300.0)
        for pod, content in stream_logs(session.client, ns, res.name, read_timeout=timeout):
            # each line of the content gets the pod prefix, so no line can pass for one of ours;
            # tabs stay, escape sequences are shown, the token is hidden
            prefix = session.shown(pod)
            for line in content.split("\n"):
                session.out(f"{prefix}: {line.removesuffix(chr(13))}")
    except ArgoError as e:
        session.err(f"{res.ref}: logs: {session.shown(e.describe())}")


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
