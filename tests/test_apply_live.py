"""Opt-in: apply against a real Argo Server.

    kubectl -n argo port-forward svc/argo-server 2746:2746 &
    HERASPEC_LIVE_ARGO_SERVER=localhost:2746 HERASPEC_LIVE_ARGO_INSECURE=true \
    HERASPEC_LIVE_ARGO_TOKEN="$(kubectl -n argo create token argo-server)" \
    HERASPEC_LIVE_ARGO_NAMESPACE=argo python -m pytest tests/test_apply_live.py

Creates a WorkflowTemplate and a tiny Workflow with unique names and deletes both afterwards.
"""

from __future__ import annotations

import os
import secrets

import pytest

from heraspec.argo.client import ArgoClient
from heraspec.argo.connection import Connection
from heraspec.argo.resources import KINDS, ArgoError, item_path
from tests.test_apply import A, template, workflow

SERVER = os.environ.get("HERASPEC_LIVE_ARGO_SERVER")
pytestmark = pytest.mark.skipif(not SERVER, reason="set HERASPEC_LIVE_ARGO_SERVER to test against a real Argo Server")


@pytest.fixture
def live():
    insecure = os.environ.get("HERASPEC_LIVE_ARGO_INSECURE", "").lower() in ("1", "true", "yes")
    opts = {"server": SERVER, "token": os.environ.get("HERASPEC_LIVE_ARGO_TOKEN") or None,
            "namespace": os.environ.get("HERASPEC_LIVE_ARGO_NAMESPACE", "argo"), "insecure_skip_verify": insecure}
    created: list[tuple[str, str]] = []
    yield opts, created
    with ArgoClient(Connection.resolve(**opts)) as client:  # clean up even when the test failed
        for kind, name in created:
            try:
                client.request("DELETE", item_path(KINDS[kind], opts["namespace"], name))
            except ArgoError:
                pass


def _here(manifest: dict, namespace: str) -> dict:
    manifest["metadata"]["namespace"] = namespace
    for t in manifest["spec"].get("templates", []):
        if "script" in t:  # something every cluster can pull and run quickly
            t["script"].update(image="python:3.12-alpine", source="import os\nprint(os.environ['HERASPEC_IN_msg'])\n")
    return manifest


def test_template_created_then_unchanged(live):
    opts, created = live
    name = "heraspec-live-" + secrets.token_hex(3)
    wft = _here(template(name), opts["namespace"])
    created.append(("WorkflowTemplate", name))
    first = A.apply([wft], **opts)
    assert first.results[0].action in ("created", "updated"), first.results[0].line()
    second = A.apply([wft], **opts)
    assert second.results[0].action == "unchanged", second.results[0].line()
    assert A.diff([wft], **opts) == ""


def test_tiny_workflow_waits_to_success(live):
    opts, created = live
    wf = _here(workflow("heraspec-live-"), opts["namespace"])
    report = A.apply([wf], wait=True, **opts)
    created.append(("Workflow", report.results[0].name))
    assert report.results[0].action == "created", report.results[0].line()
    assert report.results[0].phase == "Succeeded", report.results[0].reason
