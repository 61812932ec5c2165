"""apply / diff against the test Argo server over real HTTP on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import copy
import io
import json
import re
import traceback

import pytest

import heraspec
from heraspec.argo import applier as A  # the module behind heraspec.apply()
from heraspec.argo.client import ArgoClient
from heraspec.argo.connection import Connection
from heraspec.argo.resources import ArgoError
from heraspec.cli import argo_server as C
from heraspec.errors import UsageError
from tests.argo_schema import argo_errors, assert_argo_valid
from tests.argo_server import TOKEN, ArgoTestServer
from tests.cli import FAST, connection as conn, server_verb as cli


def script(name: str = "say", image: str = "python:3.12", **extra) -> dict:
    return {"name": name, "inputs": {"parameters": [{"name": "msg"}]},
            "script": {"image": image, "command": ["python"], "source": "print('hi')\n",
                       "env": [{"name": "HERASPEC_IN_msg", "value": "{{inputs.parameters.msg}}"}], **extra}}


def template(name: str = "greet", kind: str = "WorkflowTemplate", image: str = "python:3.12",
             ns: str | None = "argo") -> dict:
    md = {"name": name, **({"namespace": ns} if ns and kind != "ClusterWorkflowTemplate" else {})}
    m = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": md,
         "spec": {"entrypoint": "main", "arguments": {"parameters": [{"name": "greeting", "value": "hello"}]},
                  "templates": [{"name": "main", "dag": {"tasks": [
                      {"name": "task-a", "template": "say",
                       "arguments": {"parameters": [{"name": "msg", "value": "{{workflow.parameters.greeting}}"}]}}]}},
                      script(image=image)]}}
    assert_argo_valid(m)
    return m


def workflow(generate: str | None = "hello-", name: str | None = None, outcome: str | None = None,
             ns: str = "argo") -> dict:
    m = template(kind="Workflow")
    m["metadata"] = {"namespace": ns, **({"generateName": generate} if generate and not name else {"name": name})}
    if outcome:
        m["metadata"]["labels"] = {"heraspec.test/outcome": outcome}
    assert_argo_valid(m)
    return m


def cron(name: str = "nightly") -> dict:
    spec = template()["spec"]
    m = {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "metadata": {"name": name, "namespace": "argo"},
         "spec": {"schedules": ["0 3 * * *"], "workflowSpec": spec}}
    assert_argo_valid(m)
    return m


# -- create, unchanged, update, conflict ------------------------------------------------------

def test_create_template_and_workflow(argo):
    code, out, _ = cli(C.apply_manifests, [template(), workflow()], argo)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "workflowtemplate/argo/greet created"
    assert re.fullmatch(r"workflow/argo/hello-[a-z0-9]{5} created", lines[1])
    assert len(argo.state.of_kind("WorkflowTemplate")) == 1 and len(argo.state.of_kind("Workflow")) == 1


def test_generate_name_is_resolved_on_the_client(argo):
    report = A.apply([workflow("hello-")], **conn(argo))
    (posted,) = [r.body for r in argo.state.requests if r.method == "POST"]
    md = posted["workflow"]["metadata"]
    assert "generateName" not in md and re.fullmatch(r"hello-[a-z0-9]{5}", md["name"])
    assert report.results[0].name == md["name"]


def test_apply_twice_is_unchanged_without_put(argo):
    assert A.apply([template(), cron()], **conn(argo)).ok
    before = len(argo.state.requests)
    code, out, _ = cli(C.apply_manifests, [template(), cron()], argo)
    assert code == 0
    assert out.splitlines() == ["workflowtemplate/argo/greet unchanged", "cronworkflow/argo/nightly unchanged"]
    later = argo.state.requests[before:]
    assert [r.method for r in later] == ["GET", "GET"]


def test_changed_template_is_put_with_the_live_resource_version(argo):
    A.apply([template()], **conn(argo))
    live_rv = argo.state.get("WorkflowTemplate", "argo", "greet")["metadata"]["resourceVersion"]
    report = A.apply([template(image="python:3.13")], **conn(argo))
    assert [r.line() for r in report.results] == ["workflowtemplate/argo/greet updated"]
    (put,) = [r for r in argo.state.requests if r.method == "PUT"]
    assert put.body["template"]["metadata"]["resourceVersion"] == live_rv
    live = argo.state.get("WorkflowTemplate", "argo", "greet")
    assert live["spec"]["templates"][1]["script"]["image"] == "python:3.13"
    assert live["metadata"]["generation"] == 2


def test_conflict_is_reread_and_retried_once(argo):
    A.apply([template()], **conn(argo))
    argo.fault("PUT", "/workflow-templates/argo/greet$", "bump")  # another writer gets in first
    report = A.apply([template(image="python:3.13")], **conn(argo))
    assert report.results[0].action == "updated"
    assert argo.state.count("PUT") == 2 and argo.state.count("GET") == 3


def test_second_conflict_fails_with_argos_message(argo):
    A.apply([template()], **conn(argo))
    argo.fault("PUT", "/workflow-templates/argo/greet$", "bump", times=2)
    code, out, _ = cli(C.apply_manifests, [template(image="python:3.13")], argo)
    assert code == 1
    assert out.startswith("workflowtemplate/argo/greet failed (Operation cannot be fulfilled")
    assert "[HTTP 409 Aborted]" in out


def test_cluster_template_line_has_no_namespace(argo):
    code, out, _ = cli(C.apply_manifests, [template("shared", kind="ClusterWorkflowTemplate")], argo)
    assert (code, out) == (0, "clusterworkflowtemplate/shared created\n")
    assert argo.state.count("POST", "^/api/v1/cluster-workflow-templates$") == 1
    assert A.apply([template("shared", kind="ClusterWorkflowTemplate")], **conn(argo)).results[0].action == "unchanged"


def test_many_templates_keep_input_order_and_templates_go_first(argo):
    wf = workflow()
    wf["spec"] = {"workflowTemplateRef": {"name": "t-07"}}
    names = [f"t-{i:02d}" for i in range(20)]
    code, out, _ = cli(C.apply_manifests, [wf] + [template(n) for n in names], argo)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("workflow/argo/hello-") and lines[0].endswith(" created")
    assert lines[1:] == [f"workflowtemplate/argo/{n} created" for n in names]


def test_namespace_default_from_option_env_then_argo(argo, monkeypatch):
    m = template()
    del m["metadata"]["namespace"]
    monkeypatch.setenv("ARGO_NAMESPACE", "from-env")
    assert A.apply([m], **conn(argo)).results[0].ref == "workflowtemplate/from-env/greet"
    assert A.apply([m], **conn(argo, namespace="from-flag")).results[0].ref == "workflowtemplate/from-flag/greet"
    monkeypatch.delenv("ARGO_NAMESPACE")
    assert A.apply([m], **conn(argo)).results[0].ref == "workflowtemplate/argo/greet"
    assert A.apply([template(ns="team")], **conn(argo, namespace="x")).results[0].namespace == "team"


def test_template_without_name_fails_before_sending(argo):
    m = template()
    m["metadata"] = {"generateName": "greet-", "namespace": "argo"}
    report = A.apply([m], **conn(argo))
    assert report.results[0].line() == ("workflowtemplate/argo/greet- failed (WorkflowTemplate needs metadata.name "
                                        "(generateName is for Workflows))")
    assert argo.state.requests == []


# -- fixed-name Workflows -----------------------------------------------------------------------

def test_fixed_name_that_exists_is_an_error_unless_replace(argo):
    assert A.apply([workflow(name="nightly-run")], **conn(argo)).ok
    uid = argo.state.get("Workflow", "argo", "nightly-run")["metadata"]["uid"]
    code, out, _ = cli(C.apply_manifests, [workflow(name="nightly-run")], argo)
    assert (code, out) == (
        1, "workflow/argo/nightly-run failed (already exists; use --replace to delete and recreate)\n")
    code, out, _ = cli(C.apply_manifests, [workflow(name="nightly-run")], argo, replace=True)
    assert (code, out) == (0, "workflow/argo/nightly-run created\n")
    assert argo.state.count("DELETE") == 1
    assert len(argo.state.of_kind("Workflow")) == 1
    assert argo.state.get("Workflow", "argo", "nightly-run")["metadata"]["uid"] != uid


# -- transient failures ---------------------------------------------------------------------------

def test_503_on_get_is_retried(argo):
    argo.fault("GET", "/workflow-templates/", "status", status=503, times=2)
    report = A.apply([template()], **conn(argo))
    assert report.results[0].action == "created"
    assert argo.state.count("GET") == 3


def test_503_on_template_create_checks_before_posting_again(argo):
    argo.fault("POST", "/workflow-templates/argo$", "status", status=503)
    report = A.apply([template()], **conn(argo))
    assert report.results[0].action == "created"
    assert argo.state.count("POST") == 2 and len(argo.state.of_kind("WorkflowTemplate")) == 1


def test_lost_template_create_answer_is_reported_created(argo):
    argo.fault("POST", "/workflow-templates/argo$", "drop")
    report = A.apply([template()], **conn(argo))
    assert report.results[0].action == "created"
    assert argo.state.count("POST") == 1


def test_dropped_response_on_workflow_create_makes_one_workflow(argo):
    argo.fault("POST", "^/api/v1/workflows/argo$", "drop")
    code, out, _ = cli(C.apply_manifests, [workflow()], argo)
    assert code == 0 and out.endswith(" created\n")
    assert argo.state.count("POST") == 1
    assert len(argo.state.of_kind("Workflow")) == 1


def test_request_lost_before_the_server_sees_it_is_posted_again(argo):
    argo.fault("POST", "^/api/v1/workflows/argo$", "drop_before")
    report = A.apply([workflow()], **conn(argo))
    assert report.results[0].action == "created"
    posts = [r for r in argo.state.requests if r.method == "POST"]
    assert len(posts) == 2 and posts[0].body == posts[1].body  # same own name both times
    assert len(argo.state.of_kind("Workflow")) == 1


def test_read_timeout_is_retried(argo):
    argo.fault("GET", "/workflow-templates/", "delay", delay=0.5)
    report = A.apply([template()], **conn(argo, read_timeout=0.1))
    assert report.results[0].action == "created"


def test_persistent_non_json_502_gives_a_clear_message(argo):
    argo.fault("GET", "/workflow-templates/", "html", status=502, times=10)
    code, out, _ = cli(C.apply_manifests, [template()], argo, max_tries=3)
    assert code == 1
    assert out == ("workflowtemplate/argo/greet failed (HTTP 502 from the Argo server without an Argo error message "
                   "(text/html body: '<html><body><h1>502 Bad Gateway</h1></body></html>'))\n")
    assert argo.state.count("GET") == 3


def test_post_is_never_blindly_retried_on_a_non_transient_error(argo):
    argo.fault("POST", "^/api/v1/workflows/argo$", "html", status=500)
    report = A.apply([workflow()], **conn(argo))
    assert report.results[0].action == "failed" and "HTTP 500" in report.results[0].reason
    assert argo.state.count("POST") == 1 and argo.state.count("GET") == 0


def test_unreachable_server_names_the_address_and_a_hint():
    report = A.apply([template()], server="127.0.0.1:9", secure=False, max_tries=2, retry_delay=0.001)
    (r,) = report.results
    assert r.action == "failed"
    assert "cannot reach the Argo server at http://127.0.0.1:9" in r.reason and "port-forward" in r.reason


# -- auth and secrecy -----------------------------------------------------------------------------

@pytest.mark.parametrize("verbose", [False, True])
def test_bad_token_fails_and_never_shows_the_token(argo, verbose):
    bad = "wrong-token-abcdef-987654"
    code, out, err = cli(C.apply_manifests, [template(), workflow()], argo, token=bad, verbose=verbose)
    assert code == 1
    assert "failed (token not valid" in out and "[HTTP 401 Unauthenticated]" in out
    assert "***" in out  # the server echoed the header; we scrubbed it
    if verbose:
        assert "argo: GET /api/v1/workflow-templates/argo/greet -> 401" in err
    assert bad not in out + err
    code, out, err = cli(C.diff_manifests, [template()], argo, token=bad, verbose=verbose)
    assert code == 1 and "token not valid" in err and bad not in out + err


def test_token_absent_from_exceptions_and_reprs(argo, tmp_path):
    bad = "another-bad-token-1122334455"
    with pytest.raises(ArgoError) as info:
        A.diff([template()], **conn(argo, token=bad))
    text = str(info.value) + repr(info.value) + "".join(traceback.format_exception(info.value))
    assert "token not valid" in text and bad not in text
    conn_obj = Connection.resolve(server=argo.server, secure=False, token=bad)
    client = ArgoClient(conn_obj)
    assert bad not in repr(conn_obj) + repr(client) + repr(client._http.headers)
    client.close()
    token_file = tmp_path / "token"
    token_file.write_text(f"Bearer {TOKEN}\n")
    assert A.apply([template()], server=argo.server, secure=False, token_file=str(token_file)).ok


def test_unreachable_server_with_verbose_keeps_token_out(capsys):
    code, out, err = cli(C.apply_manifests, [template()], None, verbose=True, max_tries=1, token="tok-ZZZ-unique")
    assert code == 1 and "tok-ZZZ-unique" not in out + err


# -- dry runs -------------------------------------------------------------------------------------

def test_dry_run_client_sends_nothing_and_prints_bodies(argo):
    code, out, _ = cli(C.apply_manifests, [template(), workflow()], argo, dry_run="client", parameters=["greeting=yo"])
    assert code == 0 and argo.state.requests == []
    blocks = re.split(r"^# .*$\n", out, flags=re.M)[1:]
    bodies = [json.loads(b) for b in blocks]
    assert bodies[0]["template"]["metadata"]["name"] == "greet" and bodies[0]["namespace"] == "argo"
    assert bodies[1]["workflow"]["spec"]["arguments"]["parameters"] == [{"name": "greeting", "value": "yo"}]
    assert out.startswith("# workflowtemplate/argo/greet: POST /api/v1/workflow-templates/argo\n")


def test_dry_run_server_lints_and_stores_nothing(argo):
    A.apply([template("same")], **conn(argo))
    before = len(argo.state.requests)
    code, out, _ = cli(C.apply_manifests, [template("same"), template(), workflow()], argo, dry_run="server")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["workflowtemplate/argo/same unchanged", "workflowtemplate/argo/greet created (server dry run)"]
    assert lines[2].endswith(" created (server dry run)")
    lints = argo.state.count("POST", "/lint$")
    assert lints == 2 and argo.state.count("POST") - lints == 1
    assert len(argo.state.of_kind("WorkflowTemplate")) == 1 and argo.state.of_kind("Workflow") == []
    assert all(r.method in ("GET", "POST") for r in argo.state.requests[before:])


def test_dry_run_server_surfaces_lint_rejection(argo):
    bad = template()
    bad["spec"]["templates"][1]["script"]["imagee"] = "typo"
    report = A.apply([bad], dry_run="server", **conn(argo))
    assert report.results[0].action == "failed" and "'imagee' was unexpected" in report.results[0].reason


# -- server-side validation -----------------------------------------------------------------------

def test_invalid_manifest_is_rejected_by_the_server_with_its_message(argo):
    bad = template()
    bad["spec"]["templates"][1]["script"]["imagee"] = "typo"
    assert argo_errors(bad)  # strict Argo rejects it; the client does not pre-validate
    code, out, _ = cli(C.apply_manifests, [bad, template("fine")], argo)
    assert code == 1
    first, second = out.splitlines()
    assert first.startswith("workflowtemplate/argo/greet failed (WorkflowTemplate is invalid: spec/templates/1/script: "
                            "Additional properties are not allowed ('imagee' was unexpected)")
    assert first.endswith("[HTTP 400 InvalidArgument])")
    assert second == "workflowtemplate/argo/fine created"


def test_unsupported_kind_fails_locally(argo):
    report = A.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}], **conn(argo))
    assert report.results[0].line() == "configmap/argo/x failed (unsupported kind 'ConfigMap')"
    assert argo.state.requests == []


# -- parameters -----------------------------------------------------------------------------------

def test_parameter_override(argo):
    code, _, _ = cli(C.apply_manifests, [workflow()], argo, parameters=["greeting=good morning"])
    assert code == 0
    (wf,) = argo.state.of_kind("Workflow")
    assert wf["spec"]["arguments"]["parameters"] == [{"name": "greeting", "value": "good morning"}]
    report = A.apply([workflow()], parameters={"greeting": "x=y"}, **conn(argo))
    assert report.ok


def test_unknown_parameter_is_a_usage_error_before_any_request(argo):
    message = r"-p nope: no Workflow in this batch declares this parameter \(declared: greeting\)"
    with pytest.raises(UsageError, match=message):
        cli(C.apply_manifests, [workflow(), template()], argo, parameters=["nope=1"])
    with pytest.raises(UsageError, match="-p must look like NAME=VALUE"):
        cli(C.apply_manifests, [workflow()], argo, parameters=["novalue"])
    assert argo.state.requests == []


# -- wait, watch, logs ----------------------------------------------------------------------------

def test_wait_success(argo):
    code, out, err = cli(C.apply_manifests, [workflow()], argo, wait=True)
    assert code == 0
    created, final = out.splitlines()
    assert final == created.replace(" created", " Succeeded")
    assert ": Running" in err and "task-a (Pod): Succeeded" in err
    assert argo.state.count("GET", "^/api/v1/workflow-events/argo$") == 1
    query = [r.query for r in argo.state.requests if "workflow-events" in r.path][0]
    assert query == {"listOptions.fieldSelector": f"metadata.name={created.split('/')[2].split()[0]}"}


def test_wait_failure_exits_1_with_the_message(argo):
    code, out, err = cli(C.apply_manifests, [workflow(outcome="Failed"), workflow("ok-")], argo, wait=True)
    assert code == 1
    finals = out.splitlines()[2:]
    assert re.fullmatch(r"workflow/argo/hello-\w{5} Failed \(child 'hello-\w{5}-1000' failed\)", finals[0])
    assert finals[1].endswith(" Succeeded")
    report = A.apply([workflow(outcome="Failed")], wait=True, **conn(argo))
    assert report.results[0].phase == "Failed" and not report.ok


def test_broken_watch_reconnects(argo):
    argo.fault("GET", "/workflow-events/", "break_stream", after_events=1)
    code, out, err = cli(C.apply_manifests, [workflow()], argo, wait=True)
    assert code == 0 and out.splitlines()[-1].endswith(" Succeeded")
    assert "the watch stream broke" in err and "reconnecting" in err
    assert argo.state.count("GET", "/workflow-events/") == 2


def test_watch_broken_twice_falls_back_to_polling(argo):
    argo.fault("GET", "/workflow-events/", "break_stream", after_events=1, times=2)
    report = A.apply([workflow()], wait=True, **conn(argo))
    assert report.results[0].phase == "Succeeded" and report.ok
    assert argo.state.count("GET", "^/api/v1/workflows/argo/hello-") >= 1


def test_watch_unavailable_then_polling(argo):
    argo.fault("GET", "/workflow-events/", "status", status=503, times=20)
    err = io.StringIO()
    report = A.apply([workflow()], wait=True, stderr=err, **conn(argo))
    assert report.ok and "polling instead" in err.getvalue()


def test_logs_are_streamed(argo):
    argo.state.logs = {}
    code, out, _ = cli(C.apply_manifests, [workflow()], argo, logs=True)
    assert code == 0
    name = out.splitlines()[0].split("/")[2].split()[0]
    assert f"{name}-main-1000: hello from {name}" in out.splitlines()
    (q,) = [r.query for r in argo.state.requests if r.path.endswith("/log")]
    assert q == {"logOptions.container": "main", "logOptions.follow": "true"}


def test_no_wait_on_dry_run(argo):
    assert cli(C.apply_manifests, [workflow()], argo, dry_run="server", wait=True)[0] == 0
    assert argo.state.count("GET", "/workflow-events/") == 0


# -- diff -----------------------------------------------------------------------------------------

def test_diff_is_empty_when_equal_and_unified_otherwise(argo):
    A.apply([template()], **conn(argo))
    assert A.diff([template()], **conn(argo)) == ""
    text = A.diff([template(image="python:3.13"), template("new")], **conn(argo))
    assert "--- workflowtemplate/argo/greet (live)\n+++ workflowtemplate/argo/greet (compiled)\n" in text
    assert "-      image: python:3.12\n+      image: python:3.13\n" in text
    assert "--- workflowtemplate/argo/new (not on the server)\n" in text and "+  name: new\n" in text
    assert "creationTimestamp" not in text and "resourceVersion" not in text and "creator" not in text
    code, out, _ = cli(C.diff_manifests, [template()], argo)
    assert (code, out) == (0, "")
    assert cli(C.diff_manifests, [template(image="x")], argo, exit_code=True)[0] == 1


def test_comparable_ignores_server_fields_and_quantity_spelling():
    mine = template()
    mine["spec"]["templates"][1]["script"]["resources"] = {"requests": {"cpu": "0.5", "memory": "1024Mi"}}
    live = copy.deepcopy(mine)
    live["metadata"].update(uid="u", resourceVersion="9", generation=3, creationTimestamp="t", managedFields=[{}],
                            labels={"workflows.argoproj.io/creator": "me"}, annotations={})
    live["status"] = {}
    live["spec"]["templates"][1]["script"]["resources"] = {"requests": {"cpu": "500m", "memory": "1Gi"}}
    live["spec"]["templates"][0].update(inputs={}, outputs={}, metadata={})
    kind = heraspec.argo.resources.KINDS["WorkflowTemplate"]
    have, want = A.live_view(live, mine, kind)
    assert have == want
    live["spec"]["templates"][1]["script"]["resources"]["requests"]["cpu"] = "1"
    assert A.live_view(live, mine, kind)[0] != want


# -- connection -----------------------------------------------------------------------------------

def test_connection_resolution(monkeypatch, tmp_path):
    env = {"ARGO_SERVER": "argo.example:2746", "ARGO_TOKEN": "abc-0123456789", "ARGO_BASE_HREF": "/argo/",
           "ARGO_NAMESPACE": "ml"}
    c = Connection.resolve(env=env)
    assert (c.base_url, c.verify_tls, c.default_namespace, c.authorization) == (
        "https://argo.example:2746/argo", True, "ml", "Bearer abc-0123456789")
    c = Connection.resolve(env={**env, "ARGO_SECURE": "false", "ARGO_INSECURE_SKIP_VERIFY": "true"})
    assert (c.base_url, c.verify_tls) == ("http://argo.example:2746/argo", False)
    c = Connection.resolve(server="http://h:1/x", token="Bearer zz-0123456789", base_href="", env={})
    assert (c.base_url, c.authorization, c.default_namespace) == ("http://h:1/x", "Bearer zz-0123456789", "argo")
    assert "zz-0123456789" not in repr(c)
    with pytest.raises(UsageError, match="no Argo server"):
        Connection.resolve(env={})
    with pytest.raises(UsageError, match="cannot read token file") as info:
        Connection.resolve(server="h:1", token_file=str(tmp_path / "missing"), env={})
    with pytest.raises(UsageError, match="cannot be sent") as info:
        Connection.resolve(server="h:1", token="bad\ntoken", env={})
    assert "bad" not in str(info.value)


def test_base_href(argo):
    with ArgoTestServer(base_href="/argo/") as srv:
        assert A.apply([template()], server=srv.server, secure=False, base_href="/argo/", **FAST).ok
        report = A.apply([template("x")], server=srv.server, secure=False, max_tries=1)
        assert "HTTP 404" in report.results[0].reason


# -- TLS ------------------------------------------------------------------------------------------



def test_tls_is_verified_by_default_and_with_a_ca_bundle(self_signed):
    cert, key = self_signed
    with ArgoTestServer(token=TOKEN, tls=(cert, key)) as srv:
        report = A.apply([template()], server=srv.server, token=TOKEN, **FAST)
        reason = report.results[0].reason
        assert report.results[0].action == "failed" and "--ca-cert" in reason and "ARGO_INSECURE_SKIP_VERIFY" in reason
        assert srv.state.requests == []
        err = io.StringIO()
        report = A.apply([template()], server=srv.server, token=TOKEN, ca_cert=cert, stderr=err, **FAST)
        assert report.results[0].action == "created" and err.getvalue() == ""


def test_insecure_skip_verify_warns_once(self_signed, monkeypatch):
    cert, key = self_signed
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
    with ArgoTestServer(token=TOKEN, tls=(cert, key)) as srv:
        code, out, err = cli(C.apply_manifests, [template(f"t{i}") for i in range(5)], srv, plaintext=None)
        assert code == 0, out
        assert err.count("TLS certificate verification is disabled") == 1


# -- compiled examples (the real compiler's output through the real client and server) -------------

def _compiled_examples() -> list[dict]:
    from pathlib import Path

    from heraspec.errors import Errors
    from heraspec.pipeline import build

    paths = sorted(str(p) for p in (Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))
    errors = Errors()
    compiled = build(paths, errors)
    assert not errors, errors.format()
    return [c.manifest for c in compiled]


def test_compiled_examples_apply_wait_and_diff(argo):
    manifests = _compiled_examples()
    assert manifests
    for m in manifests:
        assert_argo_valid(m)
    code, out, err = cli(C.apply_manifests, manifests, argo, wait=True)
    assert code == 0, out + err
    lines = out.splitlines()
    assert len(lines) == 2 * len(manifests)
    assert all(line.endswith(" created") for line in lines[:len(manifests)])
    assert all(line.endswith(" Succeeded") for line in lines[len(manifests):])
    assert len(argo.state.of_kind("Workflow")) == len(manifests)
    fixed = [m for m in manifests if m["metadata"].get("name")]
    assert fixed and A.diff(fixed, **conn(argo)) == ""
    code, out, _ = cli(C.apply_manifests, fixed, argo)
    assert code == 1 and all("already exists" in line for line in out.splitlines())


def test_cli_main_apply_end_to_end(argo, monkeypatch):
    from pathlib import Path

    from heraspec.cli import main

    monkeypatch.setenv("ARGO_TOKEN", TOKEN)
    example = str(Path(__file__).resolve().parents[1] / "examples" / "diamond.yaml")
    assert main(["apply", "--server", argo.server, "--plaintext", example]) == 0


def test_diff_of_a_generated_workflow_reads_nothing(argo):
    text = A.diff([workflow("hello-")], **conn(argo))
    assert re.match(r"--- workflow/argo/hello-\w{5} \(not on the server\)\n", text)
    assert argo.state.requests == []


def test_httpx_is_imported_only_when_a_client_is_built():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, heraspec.argo.applier, heraspec.argo.client; print('httpx' in sys.modules)"
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "False"
