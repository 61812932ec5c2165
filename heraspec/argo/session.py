"""One client, one thread pool and one place that writes output, for a batch of manifests sent to
the Argo Server: everything printed passes through `out` / `err`, which hide the token and show
control characters as escapes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, TextIO

from .batch import ORDER, BatchItem
from .client import ArgoClient
from .connection import Connection, redact, shown
from .resources import ArgoError

MAX_WORKERS = 16  # requests in flight at once: enough to hide latency, few enough to be polite
CONNECTION_OPTIONS = ("server", "secure", "insecure_skip_verify", "ca_cert", "base_href", "namespace",
                      "token", "token_file")
CLIENT_OPTIONS = ("transport", "retry_delay", "max_tries", "connect_timeout", "read_timeout")
WAIT_OPTIONS = ("poll_interval", "watch_timeout")


class Session:
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

    def __enter__(self) -> "Session":
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

    def map(self, items: list[BatchItem], fn: Callable[[BatchItem], Any]) -> list[Any]:
        """fn over items, ORDER group by group, at most MAX_WORKERS at a time; results in input order."""
        results: list[Any] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, len(items)))) as pool:
            for group in sorted({ORDER.get(it.kind_name, 1) for it in items}):
                batch = [it for it in items if ORDER.get(it.kind_name, 1) == group]
                for it, res in zip(batch, pool.map(fn, batch)):
                    results[it.index] = res
        return results

    def namespace_note(self, items: list[BatchItem]) -> None:
        """Say where the namespace of manifests that set none came from (once for the batch)."""
        refs = [it.result("").ref for it in items if it.defaulted and not it.error]
        if not refs:
            return
        ns, src = self.conn.default_namespace, self.conn.namespace_source
        why = {"default": "heraspec's default (set namespace: in the spec, -n NS or ARGO_NAMESPACE)",
               "ARGO_NAMESPACE": "from ARGO_NAMESPACE"}.get(src, "from the namespace option")
        shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        self.err(f"note: namespace {ns!r} is {why}; it applies to {shown}")

    def get_or_none(self, path: str) -> dict | None:
        try:
            return self.client.get(path)
        except ArgoError as e:
            if e.not_found:
                return None
            raise
