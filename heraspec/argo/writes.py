"""Create or update on the Argo Server. Workflows are runs: each apply creates one (a fixed name that
exists is an error unless `replace`; a lost answer is recovered by reading the name back).
Templates and CronWorkflows are configuration: read, compare ignoring what the server adds, then
create, update (with the live resourceVersion) or leave alone. A client dry run only prints the
requests."""

from __future__ import annotations

import copy

from .batch import ApplyReport, BatchItem, ResourceResult
from .compare import live_view
from .resources import ArgoError, collection_path, item_path
from .session import Session


def client_dry_run(session: Session, items: list[BatchItem]) -> ApplyReport:
    """Print the request each manifest would be (nothing is sent)."""
    import json

    results = []
    for it in items:
        if it.error or it.kind is None:
            results.append(it.result("failed", it.error))
            continue
        request = ("POST", collection_path(it.kind, it.namespace), it.body())
        session.out(f"# {it.result('dry-run').ref}: {request[0]} {request[1]}\n{json.dumps(request[2], indent=2)}")
        res = it.result("dry-run", dry_run="client")
        res.request = request
        results.append(res)
    for r in results:
        if r.action == "failed":
            session.out(r.line())
    return ApplyReport(results)


def submit(session: Session, items: list[BatchItem], *, replace: bool, dry_run: str | None) -> ApplyReport:
    """Create or update every item (ORDER group by group), one line each on stdout, and the Argo UI
    link of each created Workflow on stderr."""
    def one(it: BatchItem) -> ResourceResult:
        if it.error or it.kind is None:
            return it.result("failed", it.error)
        try:
            if it.kind.updatable:
                return _apply_config(session, it, dry_run)
            return _create_workflow(session, it, replace, dry_run)
        except ArgoError as e:
            return it.result("failed", session.shown(e.describe()), dry_run)

    report = ApplyReport(session.map(items, one))
    for r in report.results:
        session.out(r.line())
    for r in report.workflows:  # on stderr: stdout stays one line per resource
        r.url = session.conn.ui_url(r.namespace or session.conn.default_namespace, r.name)
        session.err(f"{r.ref}: {r.url}")
    return report


def _lint(session: Session, it: BatchItem) -> ResourceResult:
    session.client.request("POST", collection_path(it.kind, it.namespace) + "/lint", body=it.body(), retry=True)  # type: ignore[arg-type]
    return it.result("created", dry_run="server")


def _create_workflow(session: Session, it: BatchItem, replace: bool, dry_run: str | None) -> ResourceResult:
    assert it.kind is not None
    c, path = session.client, item_path(it.kind, it.namespace, it.name)
    if dry_run == "server":
        return _lint(session, it)
    if replace:
        try:
            c.request("DELETE", path)
        except ArgoError as e:
            if not e.not_found:
                raise
    error: ArgoError | None = None
    for attempt in range(c.max_tries):
        try:
            made = c.request("POST", collection_path(it.kind, it.namespace), body=it.body(), retry=False)
            return it.result("created", uid=(made.get("metadata") or {}).get("uid"))
        except ArgoError as e:
            error = e
            if e.already_exists and attempt > 0 and it.generated:
                return it.result("created")  # an earlier attempt got through late: the random name is ours
            if e.already_exists and not replace:
                return it.result("failed", "already exists; use --replace to delete and recreate" + (
                    " (it may be this very run: an earlier attempt's answer was lost)" if attempt else ""))
            if not (e.transient or e.already_exists):  # already_exists after DELETE: still terminating
                raise
        c.sleep_backoff(attempt)
        if error.transient:
            try:
                if (live := session.get_or_none(path)) is not None:  # the name is ours: the lost POST did create it
                    return it.result("created", uid=(live.get("metadata") or {}).get("uid"))
            except ArgoError as e:
                if e.status in (401, 403):
                    raise
                error = e  # cannot check now: posting the same name again cannot make a second run
    assert error is not None
    raise error


def _apply_config(session: Session, it: BatchItem, dry_run: str | None) -> ResourceResult:
    sent: list[str] = []
    try:
        return _apply_config_loop(session, it, dry_run, sent)
    except ArgoError as e:
        if dry_run or not sent:
            raise
        # a write went out, then a call failed (a retried PUT refused, a 500...): the write may
        # have landed, so report what the server holds rather than a failure that is not true
        try:
            live = session.get_or_none(item_path(it.kind, it.namespace, it.name))  # type: ignore[arg-type]
        except ArgoError:
            raise e from None
        if live is not None and (lambda v: v[0] == v[1])(live_view(live, it.obj, it.kind)):  # type: ignore[arg-type]
            return it.result(sent[-1])
        raise


def _apply_config_loop(session: Session, it: BatchItem, dry_run: str | None, sent: list[str]) -> ResourceResult:
    """GET; absent → POST; equal → unchanged; else PUT with the live resourceVersion.
    One re-read on a conflict; `wrote` remembers a write whose answer we may have lost;
    `sent` collects the writes sent (created / updated)."""
    assert it.kind is not None
    c = session.client
    path, coll = item_path(it.kind, it.namespace, it.name), collection_path(it.kind, it.namespace)
    wrote, conflicts, lost = None, 0, 0
    while True:
        live = session.get_or_none(path)
        if live is None:
            if dry_run == "server":
                return _lint(session, it)
            try:
                sent.append("created")
                c.request("POST", coll, body=it.body(), retry=False)
                return it.result("created")
            except ArgoError as e:
                if e.already_exists and conflicts < 1:
                    # someone created it between our GET and POST (another apply of the same
                    # spec): report what the server holds after re-reading, not our create —
                    # unless an earlier POST of ours, whose answer was lost, is what exists
                    sent.pop()
                    conflicts += 1
                elif e.transient and lost + 1 < c.max_tries:
                    c.sleep_backoff(lost)
                    lost += 1
                    wrote = "created"
                else:
                    raise
                continue
        have, want = live_view(live, it.obj, it.kind)
        if have == want:
            return it.result(wrote or "unchanged", dry_run=dry_run)
        if dry_run == "server":
            _lint(session, it)
            return it.result("updated", dry_run="server")
        obj = copy.deepcopy(it.obj)
        obj["metadata"]["resourceVersion"] = (live.get("metadata") or {}).get("resourceVersion")
        try:
            sent.append("updated")
            c.request("PUT", path, body=it.body(obj))
            return it.result("updated")
        except ArgoError as e:
            if not (e.conflict and conflicts < 1):
                raise
            conflicts += 1
            wrote = "updated"
