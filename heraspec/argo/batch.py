"""A batch of manifests made ready to send to the Argo Server, and what happened to each.

`prepare_batch` copies each manifest, places it in its namespace, names a generateName Workflow (so a
retry after a lost answer can find its own run), checks every name and namespace that goes into a
URL, and sets `-p` parameters; a manifest it refuses is a `BatchItem` with an `error`, reported, never
sent. `ORDER` is the order kinds are applied in.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import UsageError
from ..document.patterns import name_problem, namespace_problem
from ..textsafe import printable
from .connection import Connection
from .resources import KINDS, Kind

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
class BatchItem:
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


def prepare_batch(manifests: Iterable[dict], conn: Connection, parameters: Mapping[str, str]) -> list[BatchItem]:
    items = []
    for i, manifest in enumerate(manifests):
        obj = copy.deepcopy(manifest)
        kind_name = str(obj.get("kind", ""))
        kind = KINDS.get(kind_name)
        md = obj.setdefault("metadata", {})
        namespace = conn.namespace_for(obj) if kind is None or kind.namespaced else None
        defaulted = namespace is not None and not md.get("namespace")
        if kind is None:
            items.append(BatchItem(i, None, printable(kind_name or "unknown"), printable(namespace),
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
        items.append(BatchItem(i, kind, kind.name, namespace if error is None else printable(namespace),
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
