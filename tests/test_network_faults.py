"""A flaky network never double-submits or half-applies, and every failure has a specific message.

Against the real test server (tests/argo_server.py) with its fault injection. tests/test_apply.py has
the single-fault basics (503 on GET, a lost create answer, a 502 HTML page, a broken watch...); this
file adds the remaining faults one by one, then batches of 20 applies with faults injected at random
(seeded), checking every output line against the server's store and the request log.
"""

from __future__ import annotations

import copy
import json
import random
import re
import socket

import pytest

from heraspec.cli import argo_server as C
from heraspec.argo import applier as A
from heraspec.argo.resources import KINDS
from heraspec.argo.compare import live_view
from tests.argo_schema import assert_argo_valid
from tests.argo_server import TOKEN, ArgoTestServer
from tests.cli import connection, server_verb

LINE = re.compile(r"^(?P<kind>\w+)/(?:(?P<ns>[^/ ]+)/)?(?P<name>[^ /]+) "
                  r"(?P<action>created|updated|unchanged|failed)(?: \((?P<reason>.*)\))?$")




def manifest(kind: str, name: str, image: str = "python:3.12", generate: bool = False) -> dict:
    body = {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [{"name": "a", "template": "say"}]}},
        {"name": "say", "script": {"image": image, "command": ["python"], "source": "print('hi')\n"}}]}
    md = {"generateName": name} if generate else {"name": name}
    if kind != "ClusterWorkflowTemplate":
        md["namespace"] = "argo"
    m = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": md,
         "spec": {"schedules": ["0 3 * * *"], "workflowSpec": body} if kind == "CronWorkflow" else body}
    assert_argo_valid(m)
    return m


def cli_apply(manifests: list[dict], srv: ArgoTestServer | None, **kw) -> tuple[int, str, str]:
    return server_verb(C.apply_manifests, manifests, srv, **kw)


def posts(srv: ArgoTestServer, path: str) -> list:
    return [r for r in srv.state.requests if r.method == "POST" and re.search(path, r.path)]


# --- one fault at a time ---------------------------------------------------------------------------


def test_connection_refused_names_the_server_and_sends_nothing_else():
    with socket.socket() as s:  # a port that is certainly closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = cli_apply([manifest("WorkflowTemplate", "t")], None, server=f"127.0.0.1:{port}", max_tries=2)
    assert code == 1
    assert out.startswith(f"workflowtemplate/argo/t failed (cannot reach the Argo server at http://127.0.0.1:{port} "
                          "(ConnectError: ")
    assert out.rstrip().endswith("is the server running (kubectl -n argo port-forward svc/argo-server 2746:2746)?)")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_transient_statuses_on_get_and_put_are_retried(argo, status: int):
    A.apply([manifest("WorkflowTemplate", "t")], **connection(argo))
    argo.state.requests.clear()
    argo.fault("GET", "/workflow-templates/argo/t$", "status", status=status)
    argo.fault("PUT", "/workflow-templates/argo/t$", "status", status=status)
    code, out, _ = cli_apply([manifest("WorkflowTemplate", "t", image="python:3.13")], argo)
    assert (code, out) == (0, "workflowtemplate/argo/t updated\n")
    assert argo.state.count("PUT") == 2 and argo.state.count("GET") == 2


def test_500_is_not_retried_and_says_what_the_server_said(argo):
    argo.fault("GET", "/workflow-templates/argo/t$", "status", status=500)
    code, out, _ = cli_apply([manifest("WorkflowTemplate", "t")], argo)
    assert (code, out) == (1, "workflowtemplate/argo/t failed (the server is currently unable to handle the request "
                              "[HTTP 500 Unavailable])\n")
    assert argo.state.count() == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_transient_error_on_workflow_create_checks_its_own_name_before_posting_again(argo, status: int):
    argo.fault("POST", "^/api/v1/workflows/argo$", "status", status=status)
    code, out, _ = cli_apply([manifest("Workflow", "run-", generate=True)], argo)
    assert code == 0 and re.fullmatch(r"workflow/argo/run-\w{5} created\n", out)
    first, second = posts(argo, "^/api/v1/workflows/argo$")
    name = first.body["workflow"]["metadata"]["name"]
    assert second.body == first.body  # the same client-generated name both times
    methods = [(r.method, r.path) for r in argo.state.requests]
    assert methods == [("POST", "/api/v1/workflows/argo"), ("GET", f"/api/v1/workflows/argo/{name}"),
                       ("POST", "/api/v1/workflows/argo")]
    assert len(argo.state.of_kind("Workflow")) == 1


def test_a_timed_out_workflow_create_makes_one_workflow(argo):
    # the first POST is still being processed when the check finds nothing: the second POST carries
    # the same client-generated name, so at most one of them can create a run
    argo.fault("POST", "^/api/v1/workflows/argo$", "delay", delay=0.6)
    code, out, _ = cli_apply([manifest("Workflow", "run-", generate=True)], argo, read_timeout=0.2)
    assert code == 0 and out.endswith(" created\n")
    bodies = [p.body for p in posts(argo, "^/api/v1/workflows/argo$")]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert len(argo.state.of_kind("Workflow")) == 1


def test_a_late_create_found_by_the_retry_is_reported_created(argo):
    # processed but unanswered, and the check cannot tell (503s): the retry's AlreadyExists for a
    # random client-generated name means our own first attempt landed
    argo.fault("POST", "^/api/v1/workflows/argo$", "drop")
    argo.fault("GET", "^/api/v1/workflows/argo/run-", "status", status=503, times=4)
    code, out, _ = cli_apply([manifest("Workflow", "run-", generate=True)], argo, max_tries=4)
    assert code == 0 and re.fullmatch(r"workflow/argo/run-\w{5} created\n", out), out
    assert len(argo.state.of_kind("Workflow")) == 1


def test_a_write_that_landed_before_a_failure_is_reported_as_done(argo):
    A.apply([manifest("WorkflowTemplate", "t")], **connection(argo))
    argo.fault("PUT", "/workflow-templates/argo/t$", "drop")  # applied, answer lost
    argo.fault("PUT", "/workflow-templates/argo/t$", "status", status=500)  # the retry is refused
    code, out, _ = cli_apply([manifest("WorkflowTemplate", "t", image="python:3.13")], argo)
    assert (code, out) == (0, "workflowtemplate/argo/t updated\n")


def test_an_html_answer_to_a_workflow_create_is_checked_not_reposted_blindly(argo):
    argo.fault("POST", "^/api/v1/workflows/argo$", "html", status=502)
    code, out, _ = cli_apply([manifest("Workflow", "run-", generate=True)], argo)
    assert code == 0 and out.endswith(" created\n")
    assert [r.method for r in argo.state.requests] == ["POST", "GET", "POST"]
    assert len(argo.state.of_kind("Workflow")) == 1


def test_a_lost_put_answer_is_reread_not_reported_failed(argo):
    A.apply([manifest("CronWorkflow", "nightly")], **connection(argo))
    argo.fault("PUT", "/cron-workflows/argo/nightly$", "drop")  # applied, answer lost
    code, out, _ = cli_apply([manifest("CronWorkflow", "nightly", image="python:3.13")], argo)
    assert (code, out) == (0, "cronworkflow/argo/nightly updated\n")
    live = argo.state.get("CronWorkflow", "argo", "nightly")
    assert live["spec"]["workflowSpec"]["templates"][1]["script"]["image"] == "python:3.13"


def test_409_on_update_rereads_then_updates(argo):
    A.apply([manifest("ClusterWorkflowTemplate", "shared")], **connection(argo))
    argo.fault("PUT", "/cluster-workflow-templates/shared$", "bump")
    code, out, _ = cli_apply([manifest("ClusterWorkflowTemplate", "shared", image="python:3.13")], argo)
    assert (code, out) == (0, "clusterworkflowtemplate/shared updated\n")
    assert argo.state.count("PUT") == 2


def test_a_200_with_a_non_json_body_is_a_clear_error(argo):
    with ArgoTestServer(token=TOKEN) as srv:
        srv.fault("GET", "/workflow-templates/argo/t$", "html", status=200, times=5)
        code, out, _ = cli_apply([manifest("WorkflowTemplate", "t")], srv)
    assert code == 1
    assert out == ("workflowtemplate/argo/t failed (the Argo server answered HTTP 200 with a body that is not JSON: "
                   "'<html><body><h1>200 Bad Gateway</h1></body></html>')\n")


def test_an_html_error_page_for_a_wrong_base_href_gets_a_hint(argo):
    argo.fault("GET", "/workflow-templates/", "html", status=404)
    code, out, _ = cli_apply([manifest("WorkflowTemplate", "t")], argo)
    assert code == 1
    assert "HTTP 404 from the Argo server without an Argo error message (text/html body:" in out
    assert "is ARGO_SERVER / ARGO_BASE_HREF pointing at the Argo Server?" in out


# --- batches of 20 with random faults ----------------------------------------------------------------

ACTIONS = [("status", 503), ("status", 502), ("status", 504), ("status", 500), ("html", 502), ("drop", None),
           ("drop_before", None), ("bump", None), ("delay", None)]


def _snapshot(srv: ArgoTestServer) -> dict:
    with srv.state.cond:
        return copy.deepcopy(srv.state.objects)


@pytest.mark.parametrize("seed", range(30))
def test_a_batch_of_20_with_random_faults_ends_as_the_output_says(seed: int):
    rng = random.Random(seed)
    with ArgoTestServer(token=TOKEN) as srv:
        batch: list[dict] = []
        existing: list[dict] = []
        for i in range(20):
            kind = rng.choice(["WorkflowTemplate", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate",
                               "Workflow", "Workflow"])
            if kind == "Workflow":
                batch.append(manifest(kind, f"run{i}-", generate=True))
                continue
            m = manifest(kind, f"obj-{i}", image=rng.choice(["python:3.12", "python:3.13"]))
            batch.append(m)
            if rng.random() < 0.5:  # already on the server, equal or different
                existing.append(manifest(kind, f"obj-{i}", image=rng.choice(["python:3.12", "python:3.11"])))
        assert A.apply(existing, **connection(srv)).ok
        before = _snapshot(srv)
        srv.state.requests.clear()
        for _ in range(rng.randint(4, 12)):
            m = rng.choice(batch)
            kind = KINDS[m["kind"]]
            base = f"/api/v1/{kind.collection}" + ("/argo" if kind.namespaced else "")
            method = rng.choice(["GET", "POST", "PUT"] if kind.updatable else ["GET", "POST"])
            path = re.escape(base) + ("$" if method == "POST" else "/" + re.escape(m["metadata"].get("name", "run")))
            action, status = rng.choice(ACTIONS)
            if action == "delay" and method != "GET":
                # a write that times out may still be applied by the server after the client gave up;
                # no client can report that truthfully (see docs/safety.md): delays go on reads here
                method, path = "GET", re.escape(base) + "/" + re.escape(m["metadata"].get("name", "run"))
            srv.fault(method, path, action, status=status or 503, delay=0.5, times=rng.randint(1, 2))
        code, out, err = cli_apply(batch, srv, read_timeout=0.2, max_tries=4)
        after = _snapshot(srv)
        lines = out.splitlines()
        assert len(lines) == len(batch), out

        workflows = {k[2]: o for k, o in after.items() if k[0] == "Workflow"}
        created_runs = 0
        for m, line in zip(batch, lines):
            got = LINE.match(line)
            assert got, line
            action, name = got["action"], got["name"]
            kind = KINDS[m["kind"]]
            ns = "argo" if kind.namespaced else ""
            if m["kind"] == "Workflow":
                prefix = m["metadata"]["generateName"]
                mine = [n for n in workflows if n.startswith(prefix)]
                if action == "created":
                    created_runs += 1
                    assert mine == [name], f"{line}: on the server: {mine}"
                else:
                    assert action == "failed" and mine == [], f"{line}: on the server: {mine}"
                continue
            live = after.get((m["kind"], ns, name))
            if action in ("created", "updated", "unchanged"):
                assert live is not None, line
                have, want = live_view(live, m, kind)
                assert have == want, f"{line} but the server has another version"
                if action == "unchanged":
                    assert (m["kind"], ns, name) in before
            else:
                old = before.get((m["kind"], ns, name))
                if old is None:
                    assert live is None, f"{line} but it is on the server"
                else:
                    assert live_view(live, old, kind) == live_view(old, old, kind), f"{line} but it changed"
        assert created_runs == len(workflows), "exactly one Workflow per Workflow reported created"
        assert code == (0 if all(" failed" not in line for line in lines) else 1)
        _assert_no_blind_reposts(srv)


def _assert_no_blind_reposts(srv: ArgoTestServer) -> None:
    """Between two POSTs of the same object there is always a GET of that object (the check)."""
    last_post: dict[str, int] = {}
    for i, r in enumerate(srv.state.requests):
        if r.method == "POST" and isinstance(r.body, dict):
            obj = next(iter(v for k, v in r.body.items() if k != "namespace"))
            path = r.path + "/" + obj["metadata"]["name"]
            if path in last_post:
                between = srv.state.requests[last_post[path] + 1:i]
                assert any(b.method == "GET" and b.path == path for b in between), \
                    f"POST {path} repeated without checking: {json.dumps([(b.method, b.path) for b in between])}"
            last_post[path] = i
