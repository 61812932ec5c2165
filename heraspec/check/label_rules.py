"""Kubernetes' label, annotation and extended-resource name rules (apimachinery's validation), on the
spec's `labels` / `annotations`, those an `argo:` block sets, and the production keys' pod labels."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..document.load import Document
from ..document.nodes import Spec, mapping
from ..document.patterns import K8S_NAME
from ..errors import Errors

# apimachinery validation.IsQualifiedName / IsValidLabelValue / IsDNS1123Subdomain
# compiled on first use (re's cache): a spec without labels or annotations never matches them
_QUALIFIED_PART = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
_DNS1123_SUBDOMAIN = K8S_NAME
ANNOTATIONS_MAX = 256 * 1024  # apimachinery ValidateAnnotationsSize: TotalAnnotationSizeLimitB


def qualified_name_problem(key: str) -> str | None:
    """apimachinery IsQualifiedName: `[prefix/]name`, the rule for label and annotation keys."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "the prefix before '/' is empty"
    if prefix and (len(prefix) > 253 or not re.match(_DNS1123_SUBDOMAIN, prefix)):
        return f"prefix '{prefix}' is not a DNS subdomain (lowercase letters, digits, '-', '.'; at most 253)"
    if not name:
        return "the name is empty"
    if len(name) > 63:
        return f"the name part is {len(name)} characters; at most 63"
    if not re.match(_QUALIFIED_PART, name):
        return "the name part must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def label_value_problem(value: str) -> str | None:
    """apimachinery IsValidLabelValue: empty, or at most 63 name characters."""
    if len(value) > 63:
        return f"it is {len(value)} characters; a label value has at most 63"
    if value and not re.match(_QUALIFIED_PART, value):
        return "a label value is letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def extended_resource_problem(name: str) -> str | None:
    """apimachinery/helper IsExtendedResourceName: a qualified name with a domain outside kubernetes.io."""
    if "/" not in name or "kubernetes.io/" in name:
        return "it needs a domain outside kubernetes.io, as in vendor.com/NAME"
    if name.startswith("requests."):
        return "it may not start with 'requests.'"
    return qualified_name_problem(name) or qualified_name_problem("requests." + name)


def check(doc: Document, spec: Spec, errors: Errors) -> None:
    """The spec's labels/annotations, and those an `argo:` block sets on the resource."""
    meta = mapping(spec.argo.get("metadata"))  # argo: passes Argo's own fields through
    labels_check(doc, (), spec.labels, spec.annotations, errors)
    labels_check(doc, ("argo", "metadata"), mapping(meta.get("labels")), mapping(meta.get("annotations")), errors)


def labels_check(doc: Document, base: tuple, labels: Mapping[str, Any], notes: Mapping[str, Any], errors: Errors,
                 names: tuple[str, str] = ("labels", "annotations")) -> None:
    """Kubernetes' label and annotation rules on `labels` / `notes`, written at `base + names[0]` /
    `base + names[1]` (also pod_labels…)."""
    for k, v in labels.items():
        problem = qualified_name_problem(str(k))
        if problem:
            # apimachinery ValidateLabels: ValidateLabelName + IsValidLabelValue
            doc.error(errors, base + (names[0], k), f"label key '{k}' is not valid: {problem}",
                      "e.g. team or app.kubernetes.io/name", key=True)
        problem = label_value_problem(v) if isinstance(v, str) else None
        if problem:
            doc.error(errors, base + (names[0], k), f"label value '{v}' is not valid: {problem}",
                      "put longer or free text in annotations")
    total = 0
    for k, v in notes.items():
        problem = qualified_name_problem(str(k))
        if problem:
            # apimachinery ValidateAnnotations: keys are qualified names; values total at most 256 KiB
            doc.error(errors, base + (names[1], k), f"annotation key '{k}' is not valid: {problem}",
                      "e.g. owner or example.com/owner", key=True)
        total += len(str(k).encode()) + len(str(v).encode())
    if total > ANNOTATIONS_MAX:
        doc.error(errors, base + (names[1],), f"annotations take {total:,} bytes; Kubernetes allows "
                  f"{ANNOTATIONS_MAX:,}", key=True)
