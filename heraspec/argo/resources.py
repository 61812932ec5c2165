"""The Argo Server's resources as heraspec calls them: the kinds it writes, their URLs (each name one
escaped path segment), and the error a call ends with.

    HeraspecError
    └── ArgoError      the server said no (status + gRPC code + Argo's message), or could not be
                       reached (status None); `transient` marks what a retry may fix
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from ..errors import HeraspecError

GRPC_CODES = {
    1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
    6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted", 9: "FailedPrecondition",
    10: "Aborted", 12: "Unimplemented", 13: "Internal", 14: "Unavailable", 16: "Unauthenticated",
}


@dataclass(frozen=True)
class Kind:
    name: str  # Workflow, ...
    collection: str  # URL segment after /api/v1/
    body_key: str  # field of the create/update/lint request holding the object
    namespaced: bool = True
    updatable: bool = True  # Workflows have no PUT: each create is a new run


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("Workflow", "workflows", "workflow", updatable=False),
        Kind("WorkflowTemplate", "workflow-templates", "template"),
        Kind("ClusterWorkflowTemplate", "cluster-workflow-templates", "template", namespaced=False),
        Kind("CronWorkflow", "cron-workflows", "cronWorkflow"),
    )
}


def segment(text: str) -> str:
    """One URL path segment: every reserved character escaped, so a name can never add segments
    or climb out of its collection (`../../workflow-templates/argo/prod`). Names are validated
    before any request; this is the second lock."""
    if text in ("", ".", ".."):
        raise ArgoError(f"{text!r} cannot be a name in a request URL")
    return quote(text, safe="")


def collection_path(kind: Kind, namespace: str | None) -> str:
    return f"/api/v1/{kind.collection}" + (f"/{segment(namespace or '')}" if kind.namespaced else "")


def item_path(kind: Kind, namespace: str | None, name: str) -> str:
    return f"{collection_path(kind, namespace)}/{segment(name)}"


class ArgoError(HeraspecError):
    """A failed Argo Server call. `status` is None when no HTTP response arrived."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 transient: bool = False):
        self.message = message
        self.status = status if isinstance(status, int) else None
        self.code = code if isinstance(code, int) else None
        self.transient = transient
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.status is None or f"HTTP {self.status}" in self.message:
            return self.message
        tag = f"HTTP {self.status}"
        if self.code in GRPC_CODES:
            tag += f" {GRPC_CODES[self.code]}"
        return f"{self.message} [{tag}]"

    @property
    def not_found(self) -> bool:
        # Argo's own "no such object" (gRPC NotFound); a 404 page from a proxy or a wrong base href
        # is not an answer about the object
        return self.status == 404 and self.code == 5

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.code == 6

    @property
    def conflict(self) -> bool:
        return self.status == 409 and not self.already_exists
