"""Strict validation of manifests against Argo's own JSON Schema.

By default the schema is the strict subset the package carries (heraspec/argo/data/argo-schema.json,
made by scripts/argo_schema_subset.py): the definitions the four Workflow kinds reach, in Argo's
strict mode. With `--argo-src=PATH` (or HERASPEC_ARGO_SRC; see tests/conftest.py) pointing at
Argo v4.1.2's upstream material — a checkout of argoproj/argo-workflows, or a folder holding its
schema.json, swagger.json and examples/ side by side (../shared/argo in this project's CI) — the
full upstream schema is used instead, made strict the same way: IntOrString accepts
integers too, and every definition that lists properties forbids unknown keys (Argo's Go decoder
rejects them). Tests that need the upstream material itself (the examples) call `upstream`.
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBSET = ROOT / "heraspec" / "argo" / "data" / "argo-schema.json"
KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
ENV = "HERASPEC_ARGO_SRC"

argo_src: Path | None = None  # set by tests/conftest.py from --argo-src / HERASPEC_ARGO_SRC


# where each piece lies in an argo-workflows checkout; a folder of the three pieces holds them flat
CHECKOUT = {"schema.json": "api/jsonschema/schema.json", "swagger.json": "api/openapi-spec/swagger.json",
            "examples": "examples"}


def upstream(piece: str) -> Path:
    """One piece of Argo's upstream material ("schema.json", "swagger.json" or "examples"), or a
    skip when --argo-src was not given; with CI set, a failure (CI passes --argo-src)."""
    found = None
    if argo_src is not None:
        found = next((p for p in (argo_src / CHECKOUT[piece], argo_src / piece) if p.exists()), None)
    if found is None:
        reason = (f"needs Argo's upstream material: --argo-src PATH or {ENV}=PATH"
                  + (f" (no {piece} in {argo_src})" if argo_src is not None else ""))
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must give it")
        pytest.skip(reason)
    return found


@lru_cache(maxsize=None)
def strict_schema() -> dict:
    if argo_src is None:
        return json.loads(SUBSET.read_text())
    schema = json.loads(upstream("schema.json").read_text())
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
