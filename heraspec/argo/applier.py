"""Put compiled manifests on an Argo Server: create-or-update, diff against the live objects, wait.

Workflows are runs: each apply creates one (a fixed name that exists is an error unless
`replace`). Templates and CronWorkflows are configuration: read, compare ignoring what the
server adds, then create, update (with the live resourceVersion) or leave alone.

Only the `apply` and `diff` verbs import this module (it pulls in httpx through argo.py).
"""

from __future__ import annotations

import copy
import difflib
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TextIO

from .client import ArgoClient
from .connection import Connection, redact, shown
from .resources import KINDS, ArgoError, Kind, collection_path, item_path
from .compare import comparable, live_view
from .follow import follow_workflow, stream_logs
from ..errors import UsageError
from ..document.patterns import name_problem, namespace_problem
from ..textsafe import printable

MAX_WORKERS = 16  # requests in flight at once: enough to hide latency, few enough to be polite
CONNECTION_OPTIONS = ("server", "secure", "insecure_skip_verify", "ca_cert", "base_href", "namespace",
                      "token", "token_file")
CLIENT_OPTIONS = ("transport", "retry_delay", "max_tries", "connect_timeout", "read_timeout")
WAIT_OPTIONS = ("poll_interval", "watch_timeout")
# applied in this order: a Workflow's workflowTemplateRef must find its template at create time
ORDER = {"ClusterWorkflowTemplate": 0, "WorkflowTemplate": 0, "CronWorkflow": 1, "Workflow": 1}
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet (no vowels)


@dataclass
class ResourceResult:
    """What happened to one manifest. `action`: created | updated | unchanged | failed | dry-run."""

    kind: str
    namespace: str | None
    name: str
    action: str
    reason: str | None = None
    dry_run: str | None = None
    phase: str | None = None  # the Workflow's final phase after waiting
    uid: str | None = None  # a created Workflow's uid: --wait follows this object and no other
    request: tuple[str, str, dict] | None = field(default=None, repr=False)  # client dry run
    url: str | None = None  # a submitted Workflow's page in the Argo UI

    @property
    def ref(self) -> str:
        kind = KINDS.get(self.kind)
        parts = [self.kind.lower()] + ([self.namespace] if self.namespace and (kind is None or kind.namespaced) else [])
        return "/".join(parts + [self.name])

    def line(self) -> str:
        if self.action == "failed":
            return f"{self.ref} failed ({printable(self.reason)})"
        suffix = f" ({self.dry_run} dry run)" if self.dry_run and self.action != "unchanged" else ""
        return f"{self.ref} {self.action}{suffix}"


@dataclass
class ApplyReport:
    results: list[ResourceResult]
    waited: bool = False

    @property
    def ok(self) -> bool:
        if any(r.action == "failed" for r in self.results):
            return False
        return not self.waited or all(r.phase == "Succeeded" for r in self.workflows)

    @property
    def workflows(self) -> list[ResourceResult]:
        return [r for r in self.results if r.kind == "Workflow" and r.action == "created" and not r.dry_run]


@dataclass
class _Item:
    index: int
    kind: Kind | None
    kind_name: str
    namespace: str | None
    name: str
    obj: dict
    error: str | None = None
    generated: bool = False  # the name came from generateName
    defaulted: bool = False  # the manifest had no namespace: the connection's default is used

    def result(self, action: str, reason: str | None = None, dry_run: str | None = None,
               uid: Any = None) -> ResourceResult:
        return ResourceResult(self.kind_name, self.namespace, self.name, action, reason, dry_run,
                              uid=uid if isinstance(uid, str) and uid else None)

    def body(self, obj: dict | None = None) -> dict:
        body: dict = {self.kind.body_key: self.obj if obj is None else obj}  # type: ignore[union-attr]
        if self.kind and self.kind.namespaced:
            body["namespace"] = self.namespace
        return body


# -- public API -------------------------------------------------------------------------------

def apply(manifests: list[dict], *, dry_run: str | None = None, wait: bool = False, logs: bool = False,
          replace: bool = False, parameters: Mapping[str, str] | None = None, stdout: TextIO | None = None,
          stderr: TextIO | None = None, verbose: bool = False, **connection: Any) -> ApplyReport:
    """Create or update every manifest; with `wait` (implied by `logs`) follow the Workflows.

    `stdout` receives per-resource lines, client dry-run bodies and logs; `stderr` progress and
    warnings (and with `verbose` each request); both default to silence (the report carries the results).
    `connection`: CONNECTION_OPTIONS, CLIENT_OPTIONS and WAIT_OPTIONS by name."""
    session = _Session(connection, stdout=stdout, stderr=stderr, verbose=verbose, offline=dry_run == "client")
    items = _prepare(manifests, session.conn, parameters or {})
    return _run(session, items, dry_run=dry_run, wait=wait, logs=logs, replace=replace)


def diff(manifests: list[dict], *, stderr: TextIO | None = None, verbose: bool = False, **connection: Any) -> str:
    """A unified diff (YAML, sorted keys) of each live object against its compiled form; "" if none.

    The text is fit to print (no control characters, no token), and so is an ArgoError's message.
    `stderr` receives warnings (and with `verbose` each request)."""
    session = _Session(connection, stderr=stderr, verbose=verbose)
    items = _prepare(manifests, session.conn, {})
    try:
        with session:
            parts = session.map(items, session.diff_one)
    except ArgoError as e:
        raise ArgoError(session.shown(e.message), status=e.status, code=e.code, transient=e.transient) from None
    return shown("".join(parts), session.conn.secrets, keep_lines=True)


def _run(session: "_Session", items: list[_Item], *, dry_run: str | None, wait: bool, logs: bool,
         replace: bool) -> ApplyReport:
    if dry_run in (None, "none"):
        dry_run = None
    elif dry_run not in ("client", "server"):
        raise UsageError(f"--dry-run must be none, client or server, not {dry_run!r}")
    session.namespace_note(items)
    if dry_run == "client":
        return session.client_dry_run(items)
    with session:
        report = session.submit(items, replace=replace, dry_run=dry_run)
        if (wait or logs) and dry_run is None:
            session.wait(report, logs=logs)
    return report


# -- preparing what is sent -------------------------------------------------------------------

def _prepare(manifests: Iterable[dict], conn: Connection, parameters: Mapping[str, str]) -> list[_Item]:
    items = []
    for i, manifest in enumerate(manifests):
        obj = copy.deepcopy(manifest)
        kind_name = str(obj.get("kind", ""))
        kind = KINDS.get(kind_name)
        md = obj.setdefault("metadata", {})
        namespace = conn.namespace_for(obj) if kind is None or kind.namespaced else None
        defaulted = namespace is not None and not md.get("namespace")
        if kind is None:
            items.append(_Item(i, None, printable(kind_name or "unknown"), printable(namespace),
                               printable(md.get("name", "?")), obj, f"unsupported kind {kind_name!r}"))
            continue
        if kind.namespaced:
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        error, generated = None, False
        if not md.get("name") and isinstance(md.get("generateName"), str) and kind.name == "Workflow":
            generated = True
            # named here, not by the server, so a retry after a lost response can find its own run
            md["name"] = md.pop("generateName")[:58] + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        elif not md.get("name"):
            error = f"{kind.name} needs metadata.name"
            if md.get("generateName"):
                error += " (generateName must be text)" if kind.name == "Workflow" else " (generateName is for Workflows)"
        if error is None:
            error = _name_error(kind, namespace, md.get("name"))
        # a refused item is only shown: its names may hold anything (a newline would forge a line)
        items.append(_Item(i, kind, kind.name, namespace if error is None else printable(namespace),
                           printable(md.get("name") or md.get("generateName") or "?"), obj, error, generated, defaulted))
    _override_parameters([it.obj for it in items if it.kind_name == "Workflow"], parameters)
    return items


def _name_error(kind: Kind, namespace: str | None, name: Any) -> str | None:
    """Names and namespaces go into request URLs (`DELETE .../workflows/NS/NAME` on --replace):
    whatever their source (spec, `argo:` escape hatch, library caller), only Kubernetes names
    are sent. `heraspec validate` reports the spec's own at their line; this guards the rest."""
    if problem := name_problem(kind.name, name):
        return f"metadata.name: {problem}"
    if kind.namespaced and (problem := namespace_problem(namespace)):
        return f"metadata.namespace: {problem}"
    return None


def _override_parameters(workflows: list[dict], parameters: Mapping[str, str]) -> None:
    if not parameters:
        return
    declared = {p.get("name") for wf in workflows
                for p in ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or []}
    unknown = sorted(set(parameters) - declared)
    if unknown:
        known = ", ".join(sorted(n for n in declared if n)) or "none"
        raise UsageError(f"-p {', '.join(unknown)}: no Workflow in this batch declares "
                         f"{'this parameter' if len(unknown) == 1 else 'these parameters'} (declared: {known})")
    for wf in workflows:
        for p in ((wf.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
            if p.get("name") in parameters:
                p["value"] = str(parameters[p["name"]])
                p.pop("valueFrom", None)


def _yaml_lines(obj: Any) -> list[str]:
    import yaml

    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True).splitlines(keepends=True)


# -- the work ---------------------------------------------------------------------------------

class _Session:
    """One client, one pool, one place that writes output for a batch of manifests."""

    def __init__(self, options: Mapping[str, Any], *, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 verbose: bool = False, offline: bool = False):
        unknown = set(options) - set(CONNECTION_OPTIONS) - set(CLIENT_OPTIONS) - set(WAIT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown connection option(s): {', '.join(sorted(unknown))}")
        self.conn = Connection.resolve(**{k: v for k, v in options.items() if k in CONNECTION_OPTIONS},
                                       require_server=not offline)
        self.client_options = {k: v for k, v in options.items() if k in CLIENT_OPTIONS}
        self.wait_options = {k: v for k, v in options.items() if k in WAIT_OPTIONS}
        self.stdout, self.stderr, self.verbose = stdout, stderr, verbose
        self._lock = threading.Lock()
        self._client: ArgoClient | None = None

    def __enter__(self) -> "_Session":
        warn = (lambda s: self.err(s)) if self.stderr else None
        self._client = ArgoClient(self.conn, log=self.err if self.verbose else None, warn=warn, **self.client_options)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client:
            self._client.close()

    @property
    def client(self) -> ArgoClient:
        assert self._client is not None, "use the session as a context manager"
        return self._client

    def redact(self, text: str) -> str:
        return redact(text, self.conn.secrets)

    def shown(self, text: Any) -> str:
        """One piece of server text for one of our lines: no control characters (so no newline to
        forge a line of ours), no token."""
        return shown(text, self.conn.secrets)

    # Everything printed passes through here: escape sequences and the token cannot reach the
    # terminal whatever a code path forgot (multi-line text keeps its newlines and tabs).
    def out(self, text: str) -> None:
        if self.stdout:
            with self._lock:
                print(shown(text, self.conn.secrets, keep_lines=True), file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        if self.stderr:
            with self._lock:
                print(shown(text, self.conn.secrets, keep_lines=True), file=self.stderr, flush=True)

    def map(self, items: list[_Item], fn: Callable[[_Item], Any]) -> list[Any]:
        """fn over items, ORDER group by group, at most MAX_WORKERS at a time; results in input order."""
        results: list[Any] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(items)))) as pool:
            for group in sorted({ORDER.get(it.kind_name, 1) for it in items}):
                batch = [it for it in items if ORDER.get(it.kind_name, 1) == group]
                for it, res in zip(batch, pool.map(fn, batch)):
                    results[it.index] = res
        return results

    def namespace_note(self, items: list[_Item]) -> None:
        """Say where the namespace of manifests that set none came from (once for the batch)."""
        refs = [it.result("").ref for it in items if it.defaulted and not it.error]
        if not refs:
            return
        ns, src = self.conn.default_namespace, self.conn.namespace_source
        why = {"default": "heraspec's default (set namespace: in the spec, -n NS or ARGO_NAMESPACE)",
               "ARGO_NAMESPACE": "from ARGO_NAMESPACE"}.get(src, "from the namespace option")
        shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        self.err(f"note: namespace {ns!r} is {why}; it applies to {shown}")

    # -- apply ---------------------------------------------------------------------------------

    def client_dry_run(self, items: list[_Item]) -> ApplyReport:
        import json

        results = []
        for it in items:
            if it.error or it.kind is None:
                results.append(it.result("failed", it.error))
                continue
            request = ("POST", collection_path(it.kind, it.namespace), it.body())
            self.out(f"# {it.result('dry-run').ref}: {request[0]} {request[1]}\n{json.dumps(request[2], indent=2)}")
            res = it.result("dry-run", dry_run="client")
            res.request = request
            results.append(res)
        for r in results:
            if r.action == "failed":
                self.out(r.line())
        return ApplyReport(results)

    def submit(self, items: list[_Item], *, replace: bool, dry_run: str | None) -> ApplyReport:
        def one(it: _Item) -> ResourceResult:
            if it.error or it.kind is None:
                return it.result("failed", it.error)
            try:
                if it.kind.updatable:
                    return self._apply_config(it, dry_run)
                return self._create_workflow(it, replace, dry_run)
            except ArgoError as e:
                return it.result("failed", self.shown(e.describe()), dry_run)

        report = ApplyReport(self.map(items, one))
        for r in report.results:
            self.out(r.line())
        for r in report.workflows:  # on stderr: stdout stays one line per resource
            r.url = self.conn.ui_url(r.namespace or self.conn.default_namespace, r.name)
            self.err(f"{r.ref}: {r.url}")
        return report

    def _get_or_none(self, path: str) -> dict | None:
        try:
            return self.client.get(path)
        except ArgoError as e:
            if e.not_found:
                return None
            raise

    def _lint(self, it: _Item) -> ResourceResult:
        self.client.request("POST", collection_path(it.kind, it.namespace) + "/lint", body=it.body(), retry=True)  # type: ignore[arg-type]
        return it.result("created", dry_run="server")

    def _create_workflow(self, it: _Item, replace: bool, dry_run: str | None) -> ResourceResult:
        assert it.kind is not None
        c, path = self.client, item_path(it.kind, it.namespace, it.name)
        if dry_run == "server":
            return self._lint(it)
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
                    if (live := self._get_or_none(path)) is not None:  # the name is ours: the lost POST did create it
                        return it.result("created", uid=(live.get("metadata") or {}).get("uid"))
                except ArgoError as e:
                    if e.status in (401, 403):
                        raise
                    error = e  # cannot check now: posting the same name again cannot make a second run
        assert error is not None
        raise error

    def _apply_config(self, it: _Item, dry_run: str | None) -> ResourceResult:
        sent: list[str] = []
        try:
            return self._apply_config_loop(it, dry_run, sent)
        except ArgoError as e:
            if dry_run or not sent:
                raise
            # a write went out, then a call failed (a retried PUT refused, a 500...): the write may
            # have landed, so report what the server holds rather than a failure that is not true
            try:
                live = self._get_or_none(item_path(it.kind, it.namespace, it.name))  # type: ignore[arg-type]
            except ArgoError:
                raise e from None
            if live is not None and (lambda v: v[0] == v[1])(live_view(live, it.obj, it.kind)):  # type: ignore[arg-type]
                return it.result(sent[-1])
            raise

    def _apply_config_loop(self, it: _Item, dry_run: str | None, sent: list[str]) -> ResourceResult:
        """GET; absent → POST; equal → unchanged; else PUT with the live resourceVersion.
        One re-read on a conflict; `wrote` remembers a write whose answer we may have lost;
        `sent` collects the writes sent (created / updated)."""
        assert it.kind is not None
        c = self.client
        path, coll = item_path(it.kind, it.namespace, it.name), collection_path(it.kind, it.namespace)
        wrote, conflicts, lost = None, 0, 0
        while True:
            live = self._get_or_none(path)
            if live is None:
                if dry_run == "server":
                    return self._lint(it)
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
                self._lint(it)
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

    # -- diff ----------------------------------------------------------------------------------

    def diff_one(self, it: _Item) -> str:
        if it.error or it.kind is None:
            raise ArgoError(f"{it.result('failed').ref}: {it.error}")
        ref = it.result("diff").ref
        # a generated Workflow name is new by construction: nothing to read
        live = None if it.generated else self._get_or_none(item_path(it.kind, it.namespace, it.name))
        if live is None:
            want = _yaml_lines(comparable(it.obj, it.obj, it.kind))
            return "".join(difflib.unified_diff([], want, f"{ref} (not on the server)", f"{ref} (compiled)"))
        view, mine = live_view(live, it.obj, it.kind)
        if view == mine:
            return ""
        return "".join(difflib.unified_diff(_yaml_lines(view), _yaml_lines(mine), f"{ref} (live)", f"{ref} (compiled)"))

    # -- wait and logs -------------------------------------------------------------------------

    def wait(self, report: ApplyReport, *, logs: bool) -> None:
        report.waited = True
        runs = report.workflows
        if runs:
            with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(runs))) as pool:
                list(pool.map(lambda r: self._follow(r, logs), runs))
        for r in runs:
            self.out(f"{r.ref} {r.phase}" + (f" ({r.reason})" if r.reason else ""))

    def _follow(self, res: ResourceResult, logs: bool) -> None:
        ns = res.namespace or self.conn.default_namespace
        log_thread = None
        if logs:
            log_thread = threading.Thread(target=self._logs, args=(res, ns), daemon=True)
            log_thread.start()
        seen: dict[str, str] = {}
        try:
            for wf in follow_workflow(self.client, ns, res.name, uid=res.uid,
                                      note=lambda s: self.err(f"{res.ref}: {s}"), **self.wait_options):
                self._progress(res, wf, seen)
                status = _mapping(wf.get("status"))
                res.phase = self.shown(status["phase"]) if status.get("phase") else res.phase
                if res.phase in ("Failed", "Error"):
                    res.reason = self.shown(status["message"]) if status.get("message") else None
        except ArgoError as e:
            res.phase = res.phase if res.phase in ("Failed", "Error") else "Unknown"
            res.reason = f"waiting failed: {self.shown(e.describe())}"
        if log_thread:
            log_thread.join(timeout=30)

    def _progress(self, res: ResourceResult, wf: dict, seen: dict[str, str]) -> None:
        # node names, types and phases are the server's text: each shown on one line of ours
        status = _mapping(wf.get("status"))
        changes = [("", self.shown(status.get("phase") or "Pending"))]
        nodes = [(k, v) for k, v in _mapping(status.get("nodes")).items() if isinstance(v, dict)]
        for node_id, node in sorted(nodes, key=lambda kv: str(kv[1].get("startedAt", ""))):
            label = f": {self.shown(node.get('displayName') or node_id)} ({self.shown(node.get('type', 'node'))})"
            changes.append((label, self.shown(node.get("phase") or "Pending")))
        for label, phase in changes:
            if seen.get(label) != phase:
                seen[label] = phase
                self.err(f"{res.ref}{label}: {phase}")

    def _logs(self, res: ResourceResult, ns: str) -> None:
        try:
            timeout = self.wait_options.get("watch_timeout", 300.0)
            for pod, content in stream_logs(self.client, ns, res.name, read_timeout=timeout):
                # each line of the content gets the pod prefix, so no line can pass for one of ours;
                # tabs stay, escape sequences are shown, the token is hidden
                prefix = self.shown(pod)
                for line in content.split("\n"):
                    self.out(f"{prefix}: {line.removesuffix(chr(13))}")
        except ArgoError as e:
            self.err(f"{res.ref}: logs: {self.shown(e.describe())}")


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
