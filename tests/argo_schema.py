"""Strict validation of manifests against Argo's own JSON Schema in ../shared (never copied here).

Strict mode, as ../shared/argo/README.md describes: IntOrString accepts integers too, and every
definition that lists properties forbids unknown keys (Argo's Go decoder rejects them).
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
ARGO = SHARED / "argo"
KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def require_shared() -> Path:
    """The shared Argo material, or a skip (locally) / failure (in CI) when it is absent."""
    if not (ARGO / "schema.json").is_file():
        reason = f"Argo schema not found at {ARGO} (../shared is absent)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have it")
        pytest.skip(reason)
    return ARGO


@lru_cache(maxsize=None)
def strict_schema() -> dict:
    schema = json.loads((require_shared() / "schema.json").read_text())
    schema.pop("oneOf", None)
    defs = schema["definitions"]
    defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
    for d in defs.values():
        if "properties" in d and "additionalProperties" not in d:
            d["additionalProperties"] = False
    return schema


@lru_cache(maxsize=None)
def _validator(kind: str):
    from jsonschema import Draft202012Validator

    schema = copy.copy(strict_schema())
    schema["$ref"] = f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"
    return Draft202012Validator(schema)


def argo_errors(manifest: dict) -> list[str]:
    """Every strict-schema problem of one manifest, as 'path: message' lines (empty when valid)."""
    kind = manifest.get("kind")
    if kind not in KINDS:
        return [f"kind: unknown kind {kind!r}"]
    out = []
    for e in _validator(kind).iter_errors(manifest):
        out.append("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
    return sorted(out)


def assert_argo_valid(manifest: dict) -> None:
    errs = argo_errors(manifest)
    assert not errs, "manifest is not strict-valid Argo:\n" + "\n".join(errs[:20])
