"""The test Argo server itself behaves like Argo's REST API (so apply tests prove something)."""

from __future__ import annotations

import json

import httpx
import pytest
import yaml

from tests.argo_schema import upstream
from tests.argo_server import TOKEN, ArgoTestServer
from tests.test_apply import template, workflow

AUTH = {"Authorization": f"Bearer {TOKEN}"}







@pytest.fixture
def http(argo):
    with httpx.Client(base_url=f"http://{argo.server}", headers=AUTH, timeout=10) as c:
        yield c


def error(resp: httpx.Response) -> tuple[int, int, str]:
    body = resp.json()
    assert set(body) == {"code", "message"}
    return resp.status_code, body["code"], body["message"]


def test_create_sets_server_fields(http, argo):
    r = http.post("/api/v1/workflow-templates/argo", json={"template": template(), "namespace": "argo"})
    assert r.status_code == 200
    md = r.json()["metadata"]
    assert md["uid"] and md["creationTimestamp"] and md["resourceVersion"] and md["generation"] == 1
    assert md["labels"]["workflows.argoproj.io/creator"] == "system-serviceaccount-argo-argo-server"
    assert r.json()["spec"]["templates"][0]["inputs"] == {}  # Go's empty structs come back
    assert http.get("/api/v1/workflow-templates/argo/greet").json() == r.json()


def test_errors_are_grpc_gateway_bodies(http):
    assert error(http.get("/api/v1/workflow-templates/argo/nope")) == (
        404, 5, 'workflowtemplates.argoproj.io "nope" not found')
    http.post("/api/v1/workflow-templates/argo", json={"template": template()})
    assert error(http.post("/api/v1/workflow-templates/argo", json={"template": template()}))[:2] == (409, 6)
    assert error(http.get("/api/v1/nothing-here"))[:2] == (404, 5)
    assert error(http.post("/api/v1/workflows/argo", content=b"{not json"))[:2] == (400, 3)


def test_auth(argo):
    with httpx.Client(base_url=f"http://{argo.server}") as c:
        assert error(c.get("/api/v1/workflow-templates/argo/x"))[:2] == (401, 16)
        r = c.get("/api/v1/workflow-templates/argo/x", headers={"Authorization": "Bearer no"})
        status, code, message = error(r)
        assert (status, code) == (401, 16) and "Bearer no" in message  # echo_auth: the worst case for redaction


def test_request_body_shape_is_checked_against_swagger(http):
    status, code, message = error(http.post("/api/v1/workflows/argo", json={"workflow": workflow(), "extra": 1}))
    assert (status, code) == (400, 3) and 'unknown field "extra"' in message
    status, _, message = error(http.post("/api/v1/workflows/argo",
                                         json={"workflow": workflow(), "createOptions": {"dryRunn": []}}))
    assert status == 400 and 'unknown field "createOptions.dryRunn"' in message
    ok = {"workflow": workflow(), "namespace": "argo", "serverDryRun": True, "createOptions": {"dryRun": ["All"]}}
    assert http.post("/api/v1/workflows/argo", json=ok).status_code == 200
    # PUT takes an update request: `createOptions` is not one of its fields
    http.post("/api/v1/workflow-templates/argo", json={"template": template()})
    assert error(http.put("/api/v1/workflow-templates/argo/greet",
                          json={"template": template(), "createOptions": {}}))[0] == 400


def test_objects_are_validated_strictly(http):
    bad = template()
    bad["spec"]["templates"][1]["script"]["imagee"] = "x"
    status, code, message = error(http.post("/api/v1/workflow-templates/argo", json={"template": bad}))
    assert (status, code) == (400, 3) and "'imagee' was unexpected" in message
    bad = template()
    bad["spec"]["entrypoint"] = "missing"
    r = http.post("/api/v1/workflow-templates/argo", json={"template": bad})
    assert 'template "missing" not found' in error(r)[2]
    bad = template()
    bad["metadata"]["name"] = "Not_DNS"
    assert "RFC 1123" in error(http.post("/api/v1/workflow-templates/argo", json={"template": bad}))[2]
    ref = workflow()
    ref["spec"] = {"workflowTemplateRef": {"name": "absent"}}
    assert error(http.post("/api/v1/workflows/argo", json={"workflow": ref}))[2] == (
        'workflowtemplates.argoproj.io "absent" not found')


def test_resource_version_rules(http, argo):
    live = http.post("/api/v1/workflow-templates/argo", json={"template": template()}).json()
    assert error(http.put("/api/v1/workflow-templates/argo/greet", json={"template": template()})) == (
        400, 3, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")
    stale = template()
    stale["metadata"]["resourceVersion"] = "1"
    status, code, message = error(http.put("/api/v1/workflow-templates/argo/greet", json={"template": stale}))
    assert (status, code) == (409, 10) and "the object has been modified" in message
    fresh = template(image="python:3.13")
    fresh["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    updated = http.put("/api/v1/workflow-templates/argo/greet", json={"template": fresh}).json()
    assert updated["metadata"]["uid"] == live["metadata"]["uid"]
    assert int(updated["metadata"]["resourceVersion"]) > int(live["metadata"]["resourceVersion"])
    assert error(http.put("/api/v1/workflows/argo/x", json={}))[:2] == (405, 12)  # Workflows have no PUT


def test_generate_name_and_lint(http, argo):
    wf = workflow("gen-")
    made = http.post("/api/v1/workflows/argo", json={"workflow": wf}).json()
    assert made["metadata"]["name"].startswith("gen-") and len(made["metadata"]["name"]) == 9
    assert http.post("/api/v1/workflows/argo/lint", json={"workflow": workflow("other-")}).status_code == 200
    assert len(argo.state.of_kind("Workflow")) == 1


def test_workflow_progress_watch_and_logs(http, argo):
    name = http.post("/api/v1/workflows/argo", json={"workflow": workflow(name="w1")}).json()["metadata"]["name"]
    events = []
    with http.stream("GET", "/api/v1/workflow-events/argo",
                     params={"listOptions.fieldSelector": f"metadata.name={name}"}) as r:
        for line in r.iter_lines():
            events.append(json.loads(line)["result"])
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED"]
    assert [(e["object"].get("status") or {}).get("phase") for e in events] == [None, "Running", "Running", "Succeeded"]
    with http.stream("GET", f"/api/v1/workflows/argo/{name}/log", params={"logOptions.follow": "true"}) as r:
        lines = [json.loads(x)["result"] for x in r.iter_lines()]
    assert lines == [{"content": f"hello from {name}", "podName": f"{name}-main-1000"}]


def test_manual_progress(argo):
    with ArgoTestServer(auto_advance=False) as srv, httpx.Client(base_url=f"http://{srv.server}") as c:
        c.post("/api/v1/workflows/argo", json={"workflow": workflow(name="w2")})
        assert "status" not in c.get("/api/v1/workflows/argo/w2").json()
        srv.state.finish("argo", "w2", "Failed")
        assert c.get("/api/v1/workflows/argo/w2").json()["status"]["phase"] == "Failed"


def test_faults(http, argo):
    argo.fault("GET", "/workflow-templates/", "status", status=503)
    assert error(http.get("/api/v1/workflow-templates/argo/x"))[:2] == (503, 14)
    argo.fault("GET", "/workflow-templates/", "html", status=502)
    r = http.get("/api/v1/workflow-templates/argo/x")
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    argo.fault("POST", "/workflow-templates/argo$", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/api/v1/workflow-templates/argo", json={"template": template()})
    assert len(argo.state.of_kind("WorkflowTemplate")) == 1  # processed before the drop
    http.post("/api/v1/workflows/argo", json={"workflow": workflow(name="w3")})
    argo.fault("GET", "/workflow-events/", "break_stream", after_events=1)
    with pytest.raises(httpx.RemoteProtocolError):
        params = {"listOptions.fieldSelector": "metadata.name=w3"}
        with http.stream("GET", "/api/v1/workflow-events/argo", params=params) as r:
            for _ in r.iter_lines():
                pass
    assert [q.fault for q in argo.state.requests].count("drop") == 1


def _upstream_documents():
    for path in sorted(upstream("examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
                yield path.name, doc


def test_upstream_template_examples_are_accepted(argo, http):
    """No false alarms: Argo's own example templates pass the server's strict checks."""
    docs = list(_upstream_documents())
    assert docs
    for name, doc in docs:
        kind = doc["kind"]
        cluster = kind == "ClusterWorkflowTemplate"
        path = "/api/v1/cluster-workflow-templates" if cluster else "/api/v1/workflow-templates/argo"
        doc.get("metadata", {}).pop("namespace", None)
        r = http.post(path + "/lint", json={"template": doc})
        assert r.status_code == 200, (name, r.text)
