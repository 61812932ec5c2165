"""Put compiled manifests on an Argo Server: create-or-update, diff against the live objects, wait.

Workflows are runs: each apply creates one (a fixed name that exists is an error unless
`replace`). Templates and CronWorkflows are configuration: read, compare ignoring what the
server adds, then create, update (with the live resourceVersion) or leave alone.

Only the `apply` and `diff` verbs import this module (it pulls in httpx through argo.py).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, TextIO

from .argo import (KINDS, ArgoClient, ArgoError, Connection, Kind, collection_path, follow_workflow,
                   item_path, stream_logs)
from .errors import UsageError

MAX_WORKERS = 8
CONNECTION_OPTIONS = ("server", "secure", "insecure_skip_verify", "ca_cert", "base_href", "namespace",
                      "token", "token_file")
CLIENT_OPTIONS = ("transport", "retry_delay", "max_tries", "connect_timeout", "read_timeout")
WAIT_OPTIONS = ("poll_interval", "watch_timeout")
# metadata the API server owns; never part of what the user declared
SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
ARGO_KEY_PREFIX = "workflows.argoproj.io/"
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
    request: tuple[str, str, dict] | None = field(default=None, repr=False)  # client dry run

    @property
    def ref(self) -> str:
        kind = KINDS.get(self.kind)
        parts = [self.kind.lower()] + ([self.namespace] if self.namespace and (kind is None or kind.namespaced) else [])
        return "/".join(parts + [self.name])

    def line(self) -> str:
        if self.action == "failed":
            return f"{self.ref} failed ({self.reason})"
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
    def exit_code(self) -> int:
        return 0 if self.ok else 1

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

    def result(self, action: str, reason: str | None = None, dry_run: str | None = None) -> ResourceResult:
        return ResourceResult(self.kind_name, self.namespace, self.name, action, reason, dry_run)

    def body(self, obj: dict | None = None) -> dict:
        body: dict = {self.kind.body_key: self.obj if obj is None else obj}  # type: ignore[union-attr]
        if self.kind and self.kind.namespaced:
            body["namespace"] = self.namespace
        return body


# -- public API -------------------------------------------------------------------------------

def apply(manifests: list[dict], *, dry_run: str | None = None, wait: bool = False, logs: bool = False,
          replace: bool = False, parameters: Mapping[str, str] | None = None, stdout: TextIO | None = None,
          stderr: TextIO | None = None, **connection: Any) -> ApplyReport:
    """Create or update every manifest; with `wait` (implied by `logs`) follow the Workflows.

    `stdout` receives per-resource lines, client dry-run bodies and logs; `stderr` progress and
    warnings; both default to silence (the report carries the results)."""
    session = _Session(connection, stdout=stdout, stderr=stderr)
    items = _prepare(manifests, session.conn, parameters or {})
    return _run(session, items, dry_run=dry_run, wait=wait, logs=logs, replace=replace)


def diff(manifests: list[dict], **connection: Any) -> str:
    """A unified diff (YAML, sorted keys) of each live object against its compiled form; "" if none."""
    session = _Session(connection)
    items = _prepare(manifests, session.conn, {})
    with session:
        parts = session.map(items, session.diff_one)
    return "".join(parts)


def cli_apply(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    opts = _options_from_args(args)
    session = _Session(opts, stdout=stdout, stderr=stderr, verbose=bool(getattr(args, "verbose", False)))
    items = _prepare(manifests, session.conn, _parse_parameters(_first(args, "parameters", "parameter", "params")))
    report = _run(session, items, dry_run=getattr(args, "dry_run", None), wait=bool(getattr(args, "wait", False)),
                  logs=bool(getattr(args, "logs", False)), replace=bool(getattr(args, "replace", False)))
    return report.exit_code


def cli_diff(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Prints the diff; exit 0 (1 with `--exit-code` when there are differences, or on failure)."""
    session = _Session(_options_from_args(args), stdout=stdout, stderr=stderr,
                       verbose=bool(getattr(args, "verbose", False)))
    items = _prepare(manifests, session.conn, {})
    try:
        with session:
            text = "".join(session.map(items, session.diff_one))
    except ArgoError as e:
        print(f"error: {session.client_redact(str(e))}", file=stderr)
        return 1
    stdout.write(text)
    return 1 if text and getattr(args, "exit_code", False) else 0


def _run(session: "_Session", items: list[_Item], *, dry_run: str | None, wait: bool, logs: bool,
         replace: bool) -> ApplyReport:
    if dry_run in (None, "none"):
        dry_run = None
    elif dry_run not in ("client", "server"):
        raise UsageError(f"--dry-run must be none, client or server, not {dry_run!r}")
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
        if kind is None:
            items.append(_Item(i, None, kind_name or "unknown", namespace, str(md.get("name", "?")), obj,
                               f"unsupported kind {kind_name!r}"))
            continue
        if kind.namespaced:
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        error = None
        if not md.get("name") and md.get("generateName") and kind.name == "Workflow":
            # named here, not by the server, so a retry after a lost response can find its own run
            md["name"] = md.pop("generateName")[:58] + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        elif not md.get("name"):
            error = f"{kind.name} needs metadata.name" + (" (generateName is for Workflows)" if md.get("generateName") else "")
        items.append(_Item(i, kind, kind.name, namespace, str(md.get("name") or md.get("generateName") or "?"),
                           obj, error))
    _override_parameters([it.obj for it in items if it.kind_name == "Workflow"], parameters)
    return items


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


def _parse_parameters(raw: Any) -> dict[str, str]:
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    out = {}
    for item in raw:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-p {item!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def _first(args: argparse.Namespace, *names: str) -> Any:
    for n in names:
        if getattr(args, n, None) is not None:
            return getattr(args, n)
    return None


def _options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    # client/wait knobs are not CLI flags; tests and embedders may set them on the namespace
    names = CONNECTION_OPTIONS + CLIENT_OPTIONS + WAIT_OPTIONS
    opts = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    if getattr(args, "plaintext", None):  # the CLI spells ARGO_SECURE=false as --plaintext
        opts["secure"] = False
    return opts


# -- comparing live and compiled --------------------------------------------------------------

def comparable(obj: Mapping[str, Any], declared: Mapping[str, Any], kind: Kind) -> dict:
    """`obj` without what the server adds: status, server metadata, Argo's own labels and
    annotations (unless declared), and empty values Go's encoder adds or drops (`inputs: {}`)."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    for key in ("apiVersion", "kind"):  # typed GETs may drop TypeMeta
        out[key] = declared.get(key, out.get(key))
    md = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        md.pop(key, None)
    if not kind.namespaced:
        md.pop("namespace", None)
    mine = declared.get("metadata") or {}
    for key in ("labels", "annotations"):
        values = md.get(key) or {}
        md[key] = {k: v for k, v in values.items() if not k.startswith(ARGO_KEY_PREFIX) or k in (mine.get(key) or {})}
    return _prune(out)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


_QUANTITY_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "n": Decimal("1e-9"),
                    "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                    "P": 10**15, "E": 10**18}


def _quantity(text: Any) -> Decimal | None:
    if not isinstance(text, (str, int)):
        return None
    text = str(text).strip()
    for suffix in sorted(_QUANTITY_SUFFIX, key=len, reverse=True):
        if text.endswith(suffix) and text[:-len(suffix)]:
            try:
                return Decimal(text[:-len(suffix)]) * Decimal(_QUANTITY_SUFFIX[suffix])
            except InvalidOperation:
                return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _align_resources(live: Any, declared: Any) -> Any:
    if isinstance(live, dict) and isinstance(declared, dict):
        out = {}
        for k, v in live.items():
            d = declared.get(k)
            if k in ("requests", "limits") and isinstance(v, dict) and isinstance(d, dict):
                out[k] = {q: (d[q] if q in d and _quantity(x) is not None and _quantity(x) == _quantity(d[q]) else x)
                          for q, x in v.items()}
            else:
                out[k] = _align_resources(v, d)
        return out
    if isinstance(live, list) and isinstance(declared, list):
        return [_align_resources(v, declared[i] if i < len(declared) else None) for i, v in enumerate(live)]
    return live


def live_view(live: Mapping[str, Any], declared: Mapping[str, Any], kind: Kind) -> tuple[dict, dict]:
    """(live, declared) in comparable form; equal when an apply would change nothing."""
    mine = comparable(declared, declared, kind)
    return _align_resources(comparable(live, declared, kind), mine), mine


def _yaml_lines(obj: Any) -> list[str]:
    import yaml

    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True).splitlines(keepends=True)


# -- the work ---------------------------------------------------------------------------------

class _Session:
    """One client, one pool, one place that writes output for a batch of manifests."""

    def __init__(self, options: Mapping[str, Any], *, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 verbose: bool = False):
        unknown = set(options) - set(CONNECTION_OPTIONS) - set(CLIENT_OPTIONS) - set(WAIT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown connection option(s): {', '.join(sorted(unknown))}")
        self.conn = Connection.resolve(**{k: v for k, v in options.items() if k in CONNECTION_OPTIONS})
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

    def client_redact(self, text: str) -> str:
        from .argo import redact

        return redact(text, self.conn.secrets)

    def out(self, text: str) -> None:
        if self.stdout:
            with self._lock:
                print(text, file=self.stdout, flush=True)

    def err(self, text: str) -> None:
        if self.stderr:
            with self._lock:
                print(self.client_redact(text), file=self.stderr, flush=True)

    def map(self, items: list[_Item], fn: Callable[[_Item], Any]) -> list[Any]:
        """fn over items, ORDER group by group, at most MAX_WORKERS at a time; results in input order."""
        results: list[Any] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(items)))) as pool:
            for group in sorted({ORDER.get(it.kind_name, 1) for it in items}):
                batch = [it for it in items if ORDER.get(it.kind_name, 1) == group]
                for it, res in zip(batch, pool.map(fn, batch)):
                    results[it.index] = res
        return results

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
                return it.result("failed", self.client_redact(e.describe()), dry_run)

        report = ApplyReport(self.map(items, one))
        for r in report.results:
            self.out(r.line())
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
                c.request("POST", collection_path(it.kind, it.namespace), body=it.body(), retry=False)
                return it.result("created")
            except ArgoError as e:
                error = e
                if e.already_exists and not replace:
                    return it.result("failed", "already exists; use --replace to delete and recreate")
                if not (e.transient or e.already_exists):  # already_exists after DELETE: still terminating
                    raise
            c.sleep_backoff(attempt)
            if error.transient and self._get_or_none(path) is not None:
                return it.result("created")  # the name is ours: the lost POST did create it
        assert error is not None
        raise error

    def _apply_config(self, it: _Item, dry_run: str | None) -> ResourceResult:
        """GET; absent → POST; equal → unchanged; else PUT with the live resourceVersion.
        One re-read on a conflict; `wrote` remembers a write whose answer we may have lost."""
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
                    c.request("POST", coll, body=it.body(), retry=False)
                    return it.result("created")
                except ArgoError as e:
                    if e.already_exists and conflicts < 1:
                        conflicts += 1
                    elif e.transient and lost + 1 < c.max_tries:
                        c.sleep_backoff(lost)
                        lost += 1
                    else:
                        raise
                    wrote = "created"
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
        live = None if it.kind.name == "Workflow" and not (it.obj.get("metadata") or {}).get("name") else \
            self._get_or_none(item_path(it.kind, it.namespace, it.name))
        if live is None:
            have, want = [], _yaml_lines(comparable(it.obj, it.obj, it.kind))
            return "".join(difflib.unified_diff(have, want, f"{ref} (not on the server)", f"{ref} (compiled)"))
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
            for wf in follow_workflow(self.client, ns, res.name, note=lambda s: self.err(f"{res.ref}: {s}"),
                                      **self.wait_options):
                self._progress(res, wf, seen)
                status = wf.get("status") or {}
                res.phase = status.get("phase") or res.phase
                if res.phase in ("Failed", "Error"):
                    res.reason = status.get("message") or None
        except ArgoError as e:
            res.phase = res.phase if res.phase in ("Failed", "Error") else "Unknown"
            res.reason = f"waiting failed: {self.client_redact(e.describe())}"
        if log_thread:
            log_thread.join(timeout=30)

    def _progress(self, res: ResourceResult, wf: dict, seen: dict[str, str]) -> None:
        status = wf.get("status") or {}
        changes = [("", status.get("phase") or "Pending")]
        for node_id, node in sorted((status.get("nodes") or {}).items(), key=lambda kv: str(kv[1].get("startedAt", ""))):
            label = f": {node.get('displayName') or node_id} ({node.get('type', 'node')})"
            changes.append((label, node.get("phase") or "Pending"))
        for label, phase in changes:
            if seen.get(label) != phase:
                seen[label] = phase
                self.err(f"{res.ref}{label}: {phase}")

    def _logs(self, res: ResourceResult, ns: str) -> None:
        try:
            for pod, line in stream_logs(self.client, ns, res.name, read_timeout=self.wait_options.get("watch_timeout", 300.0)):
                self.out(f"{pod}: {line}")
        except ArgoError as e:
            self.err(f"{res.ref}: logs: {self.client_redact(e.describe())}")
