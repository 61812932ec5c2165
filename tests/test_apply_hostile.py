"""A hostile or misconfigured server, proxy or environment cannot make `apply` / `diff` / `--wait` lie,
print what it should not, or run without bound (issue 15, "apply / diff / --wait").

Every case goes through the CLI (`heraspec.cli.main`, or `apply_manifests` with the parser's attributes
where a test needs fast retries) against the real test server on 127.0.0.1 with its hostile fault
modes (tests/argo_server.py: `redirect`, `huge`, `endless_line`, `foreign`, `race`, `decorate`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import heraspec.argo.client
import heraspec.argo.resources
from heraspec.argo import applier as A
from heraspec.argo.client import MAX_ERROR_BODY
from heraspec.argo.connection import Connection
from heraspec.argo.resources import KINDS, item_path
from heraspec.cli import argo_server as C
from heraspec.cli import main
from heraspec.errors import UsageError
from tests.argo_schema import assert_argo_valid
from tests.argo_server import TOKEN as GOOD, ArgoTestServer
from tests.cli import in_process, server_verb

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20
ESC = "\x1b"
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes `rm -rf ~` into the clipboard
TITLE = "\x1b]0;all good\x07"
FORGE = "\x1b[1A\x1b[2Kworkflowtemplate/argo/prod updated"  # cursor up, erase the line, print a fake one
TEMPLATE_SPEC = """\
kind: WorkflowTemplate
name: greet
namespace: argo
image: python:3.12
tasks:
  hello:
    function: steps:say
    args: {msg: hi}
"""
WORKFLOW_SPEC = TEMPLATE_SPEC.replace("WorkflowTemplate", "Workflow").replace("name: greet", "name: run")


pytestmark = pytest.mark.usefixtures("no_argo_env")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "examples" / "steps.py", tmp_path / "steps.py")
    (tmp_path / "template.yaml").write_text(TEMPLATE_SPEC)
    (tmp_path / "workflow.yaml").write_text(WORKFLOW_SPEC)
    return tmp_path


def run(capsys, srv: ArgoTestServer | None, *argv: str, token: str = GOOD) -> tuple[int, str, str]:
    conn = ["--server", srv.server if srv else "127.0.0.1:9", "--plaintext"] + (["--token", token] if token else [])
    return in_process(capsys, argv[0], *conn, *argv[1:])


def compiled(path: Path) -> list[dict]:
    from heraspec.cli.specs import compile_specs

    args = argparse.Namespace(path=[str(path.parent)], namespace=None, values=[], sets=[])
    manifests = [c.manifest for c in compile_specs(args, [str(path)])]
    for m in manifests:
        assert_argo_valid(m)
    return manifests


def cli_fast(manifests: list[dict], srv: ArgoTestServer, **kw) -> tuple[int, str, str]:
    """apply_manifests with the parser's attributes plus fast retries and polling (a test must end)."""
    return server_verb(C.apply_manifests, manifests, srv, **kw)


def no_control_characters(text: str) -> bool:
    return not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


# -- a 3xx is a failure --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,method,path", [("template.yaml", "GET", "/workflow-templates/argo/greet$"),
                                              ("workflow.yaml", "POST", "^/api/v1/workflows/argo$")])
def test_a_redirect_with_an_empty_body_is_a_failure_with_a_hint(argo, project, capsys, spec, method, path):
    # an SSO proxy in front of the Argo Server answers 302 to its login page, with no body
    argo.fault(method, path, "redirect", times=10)
    code, out, _ = run(capsys, argo, "apply", str(project / spec))
    assert code == 1
    ref = "workflowtemplate/argo/greet" if spec == "template.yaml" else "workflow/argo/run"
    assert out == (f"{ref} failed ({method} {path.strip('^$') if method == 'POST' else '/api/v1' + path.rstrip('$')}: "
                   "the server redirected (HTTP 302 to https://sso.example.com/oauth2/start) instead of answering; "
                   "a proxy in front of the Argo Server may be asking for a login (use a token it accepts or reach "
                   "the Argo Server directly), or the address or --base-href / ARGO_BASE_HREF is wrong)\n")
    assert argo.state.objects == {}


def test_wait_ends_with_an_error_when_the_watch_and_polling_are_redirected(argo, project):
    argo.fault("GET", "/workflow-events/", "redirect", times=200)
    argo.fault("GET", "^/api/v1/workflows/argo/run$", "redirect", times=200)
    code, out, err = cli_fast(compiled(project / "workflow.yaml"), argo, wait=True)
    assert code == 1
    assert out.splitlines() == [
        "workflow/argo/run created",
        "workflow/argo/run Unknown (waiting failed: GET /api/v1/workflow-events/argo: the server redirected "
        "(HTTP 302 to https://sso.example.com/oauth2/start) instead of answering; a proxy in front of the Argo "
        "Server may be asking for a login (use a token it accepts or reach the Argo Server directly), or the "
        "address or --base-href / ARGO_BASE_HREF is wrong)"]
    assert argo.state.count("GET", "/workflow-events/") == 1  # no reconnect, no polling after a redirect


def test_an_empty_200_answer_to_a_create_is_not_success(argo, project):
    argo.fault("POST", "^/api/v1/workflow-templates/argo$", "huge", status=200, size=0)
    code, out, _ = cli_fast(compiled(project / "template.yaml"), argo)
    assert (code, out) == (1, "workflowtemplate/argo/greet failed (the Argo server answered POST "
                              "/api/v1/workflow-templates/argo with HTTP 200 and an empty body; is ARGO_SERVER / "
                              "--base-href pointing at the Argo Server?)\n")


# -- names and namespaces ------------------------------------------------------------------------------

ESCAPE_HATCH = {
    "yaml": "argo:\n  metadata:\n    name: ../../workflow-templates/argo/prod-template\n    namespace: Prod/..\n",
    "toml": '[argo.metadata]\nname = "../../workflow-templates/argo/prod-template"\nnamespace = "Prod/.."\n',
}


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_names_from_the_argo_escape_hatch_are_located_errors(project, capsys, fmt):
    if fmt == "yaml":
        text = WORKFLOW_SPEC + ESCAPE_HATCH["yaml"]
        name_at, ns_at = "11:11", "12:16"
    else:
        text = ('kind = "Workflow"\nname = "run"\nimage = "python:3.12"\n\n[tasks.hello]\nfunction = "steps:say"\n'
                'args = {msg = "hi"}\n\n' + ESCAPE_HATCH["toml"])
        name_at, ns_at = "10:8", "11:13"
    spec = project / f"escape.{fmt}"
    spec.write_text(text)
    code = main(["validate", str(spec)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{spec}:{name_at}: error: name '../../workflow-templates/argo/prod-template' is not a valid Kubernetes " \
           "name\n  hint: use lowercase letters, digits and '-', starting and ending with a letter or digit" in err
    assert f"{spec}:{ns_at}: error: namespace 'Prod/..' is not a valid Kubernetes namespace" in err


def test_apply_replace_never_deletes_an_object_a_name_points_at(argo, project):
    code, _, _ = cli_fast([dict(compiled(project / "template.yaml")[0], metadata={"name": "prod-template",
                                                                                  "namespace": "argo"})], argo)
    assert code == 0
    argo.state.requests.clear()
    (wf,) = compiled(project / "workflow.yaml")
    wf["metadata"]["name"] = "../../workflow-templates/argo/prod-template"  # what `argo:` used to let through
    code, out, _ = cli_fast([wf], argo, replace=True)
    assert (code, out) == (1, "workflow/argo/../../workflow-templates/argo/prod-template failed (metadata.name: "
                              "name '../../workflow-templates/argo/prod-template' is not a valid Kubernetes name)\n")
    assert argo.state.requests == []
    assert argo.state.get("WorkflowTemplate", "argo", "prod-template") is not None


def test_refused_names_from_a_library_caller_cannot_forge_lines(argo):
    base = {"apiVersion": "argoproj.io/v1alpha1", "spec": {"entrypoint": "main", "templates": []}}
    forged = "x\nworkflowtemplate/argo/prod updated"
    report = A.apply([{**base, "kind": "WorkflowTemplate", "metadata": {"name": "ok", "namespace": forged}},
                      {**base, "kind": "Workflow", "metadata": {"generateName": 7}},
                      {**base, "kind": f"Work{ESC}[2Kflow", "metadata": {"name": forged}}],
                     server=argo.server, secure=False, token=GOOD)
    lines = [r.line() for r in report.results]
    assert lines == [
        "workflowtemplate/x\\x0aworkflowtemplate/argo/prod updated/ok failed (metadata.namespace: namespace "
        "'x\\nworkflowtemplate/argo/prod updated' is not a valid Kubernetes namespace)",
        "workflow/argo/7 failed (Workflow needs metadata.name (generateName must be text))",
        "work\\x1b[2kflow/argo/x\\x0aworkflowtemplate/argo/prod updated failed (unsupported kind 'Work\\x1b[2Kflow')"]
    assert argo.state.requests == []


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_namespace_from_the_flag_or_env_must_be_a_kubernetes_name(argo, project, capsys, monkeypatch, how):
    argv = ["apply", str(project / "template.yaml")]
    if how == "flag":
        argv += ["-n", "../workflow-templates/argo"]
    else:
        monkeypatch.setenv("ARGO_NAMESPACE", "../workflow-templates/argo")
    code, out, err = run(capsys, argo, *argv)
    source = "--namespace" if how == "flag" else "ARGO_NAMESPACE"
    assert (code, out) == (2, "")
    assert err == (f"heraspec: error: {source}: namespace '../workflow-templates/argo' is not a valid Kubernetes "
                   "namespace (use lowercase letters, digits and '-', starting and ending with a letter or digit, "
                   "at most 63 characters)\n")
    assert argo.state.requests == []


def test_every_path_segment_is_quoted_and_dot_segments_refused():
    kind = KINDS["WorkflowTemplate"]
    assert item_path(kind, "argo", "a/b?c#d") == "/api/v1/workflow-templates/argo/a%2Fb%3Fc%23d"
    for bad in ("..", ".", ""):
        with pytest.raises(heraspec.argo.resources.ArgoError, match="cannot be a name in a request URL"):
            item_path(kind, "argo", bad)
    with pytest.raises(UsageError, match="namespace: namespace '../x' is not a valid Kubernetes namespace"):
        Connection.resolve(server="h:1", namespace="../x", env={})
    with pytest.raises(UsageError, match="namespace: namespace 'argo\\\\n' is not a valid Kubernetes namespace"):
        Connection.resolve(server="h:1", namespace="argo\n", env={})  # the whole text is the name


# -- server text is shown, never obeyed ----------------------------------------------------------------

def test_escape_sequences_in_server_messages_are_shown_escaped(argo, project, capsys):
    argo.fault("GET", "/workflow-templates/argo/greet$", "status", status=500,
               message=f"denied{OSC52}{TITLE}\n{FORGE}")
    code, out, err = run(capsys, argo, "apply", str(project / "template.yaml"))
    assert code == 1 and no_control_characters(out + err)
    assert out == ("workflowtemplate/argo/greet failed (denied\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b]0;all good\\x07"
                   "\\x0a\\x1b[1A\\x1b[2Kworkflowtemplate/argo/prod updated [HTTP 500 Unavailable])\n")


def test_escape_sequences_in_node_names_status_and_logs_are_shown_escaped(argo, project, capsys):
    def hostile(wf):
        status = wf["status"]
        for node in status["nodes"].values():
            node["displayName"] = f"{node['displayName']}{TITLE}"
        if status["phase"] == "Failed":
            status["message"] = f"oops{OSC52}\n{FORGE}"

    argo.state.decorate = hostile
    argo.state.default_outcome = "Failed"
    argo.state.logs["*"] = [f"col1\tcol2{OSC52}", f"two\nlines{FORGE}", "progress\r100%"]
    code, out, err = run(capsys, argo, "apply", "--logs", str(project / "workflow.yaml"))
    assert code == 1 and no_control_characters((out + err).replace("\t", "").replace("\n", ""))
    lines = out.splitlines()
    pod = "run-main-1000"
    assert f"{pod}: col1\tcol2\\x1b]52;c;cm0gLXJmIH4K\\x07" in lines  # the tab is kept
    assert f"{pod}: two" in lines and f"{pod}: lines\\x1b[1A\\x1b[2Kworkflowtemplate/argo/prod updated" in lines
    assert f"{pod}: progress\\x0d100%" in lines
    assert lines[-1] == ("workflow/argo/run Failed (oops\\x1b]52;c;cm0gLXJmIH4K\\x07\\x0a\\x1b[1A\\x1b[2K"
                         "workflowtemplate/argo/prod updated)")
    assert "run: hello\\x1b]0;all good\\x07 (Pod): Failed" in err
    assert not any(line.startswith("workflowtemplate/") for line in (out + err).splitlines())


def test_escape_sequences_in_a_live_object_are_shown_escaped_by_diff(argo, project, capsys):
    assert run(capsys, argo, "apply", str(project / "template.yaml"))[0] == 0
    argo.state.touch("WorkflowTemplate", "argo", "greet",
                     lambda o: o["metadata"].setdefault("annotations", {}).update(note=f"x{OSC52}\u202eevil"))
    code, out, _ = run(capsys, argo, "diff", str(project / "template.yaml"))
    assert code == 0 and no_control_characters(out.replace("\n", "")) and "\u202e" not in out
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in out or "\\e]52;c;cm0gLXJmIH4K\\a" in out


# -- bounded memory -----------------------------------------------------------------------------------

def test_a_huge_error_body_is_not_read_past_one_mib(argo, project, capsys):
    fault = argo.fault("GET", "/workflow-templates/argo/greet$", "huge", status=500, size=300 * MiB)
    code, out, _ = run(capsys, argo, "apply", str(project / "template.yaml"))
    assert (code, out) == (1, "workflowtemplate/argo/greet failed (HTTP 500 from the Argo server with an error body "
                              "larger than 1 MiB (not read))\n")
    assert fault.sent < MAX_ERROR_BODY + 64 * MiB  # what was read, plus what the sockets' buffers took


def test_a_huge_answer_stops_at_the_limit_which_the_message_names(argo, project, capsys):
    fault = argo.fault("GET", "/workflow-templates/argo/greet$", "huge", status=200, size=300 * MiB)
    code, out, _ = run(capsys, argo, "apply", str(project / "template.yaml"))
    assert (code, out) == (1, "workflowtemplate/argo/greet failed (the answer to GET /api/v1/workflow-templates/argo/"
                              "greet is larger than 64 MiB, the most heraspec reads of one answer or stream line; "
                              "stopped reading (raise the limit with HERASPEC_ARGO_MAX_MB=<MiB> if the server is "
                              "right to send that much))\n")
    assert fault.sent < 128 * MiB


@pytest.mark.parametrize("stream", ["watch", "logs"])
def test_an_endless_line_in_a_stream_stops_at_the_limit(argo, project, capsys, monkeypatch, stream):
    monkeypatch.setenv("HERASPEC_ARGO_MAX_MB", "4")
    path = "/workflow-events/" if stream == "watch" else "/log$"
    fault = argo.fault("GET", path, "endless_line", size=200 * MiB)
    code, out, err = run(capsys, argo, "apply", "--logs", str(project / "workflow.yaml"))
    endless = ("is larger than 4 MiB, the most heraspec reads of one answer or stream line; stopped reading "
               "(raise the limit with HERASPEC_ARGO_MAX_MB=<MiB> if the server is right to send that much)")
    if stream == "watch":
        assert code == 1
        assert out.splitlines()[-1] == ("workflow/argo/run Unknown (waiting failed: a line of the stream from "
                                        f"/api/v1/workflow-events/argo {endless})")
    else:
        assert code == 0 and out.splitlines()[-1] == "workflow/argo/run Succeeded"
        assert f"workflow/argo/run: logs: a line of the stream from /api/v1/workflows/argo/run/log {endless}" in err
    assert fault.sent < 64 * MiB


# -- the token ----------------------------------------------------------------------------------------

def test_a_token_echoed_in_logs_and_the_final_wait_line_is_hidden(argo, project, capsys):
    def echo(wf):
        if wf["status"]["phase"] == "Failed":
            wf["status"]["message"] = f"pod env had ARGO_TOKEN={GOOD}"

    argo.state.decorate = echo
    argo.state.default_outcome = "Failed"
    argo.state.logs["*"] = [f"Authorization: Bearer {GOOD}", f"token={GOOD}!"]
    code, out, err = run(capsys, argo, "apply", "--logs", str(project / "workflow.yaml"))
    assert code == 1 and GOOD not in out + err
    assert "run-main-1000: Authorization: ***" in out.splitlines()
    assert "run-main-1000: token=***!" in out.splitlines()
    assert out.splitlines()[-1] == "workflow/argo/run Failed (pod env had ARGO_TOKEN=***)"


@pytest.mark.parametrize("source", ["env", "flag", "file"])
@pytest.mark.parametrize("token", ["a", "Bearer e", "1234567"])
def test_a_token_too_short_to_be_real_is_refused(argo, project, capsys, monkeypatch, tmp_path, source, token):
    argv = ["apply", str(project / "template.yaml")]
    if source == "env":
        monkeypatch.setenv("ARGO_TOKEN", token)
    elif source == "flag":
        argv += ["--token", token]
    else:
        (tmp_path / "token").write_text(token + "\n")
        argv += ["--token-file", str(tmp_path / "token")]
    code, out, err = run(capsys, argo, *argv, token="")
    n = len(token.removeprefix("Bearer "))
    assert (code, out) == (2, "")
    assert err == (f"heraspec: error: the Argo token is {n} characters long, too short to be a real token "
                   "(at least 8); check ARGO_TOKEN / --token / --token-file\n")
    assert argo.state.requests == []


# -- ARGO_INSECURE_SKIP_VERIFY ------------------------------------------------------------------------

@pytest.mark.parametrize("value,warns", [("n", False), ("false", False), ("0", False), ("flase", True),
                                         ("disabled", True), (" ", True), ("1", True), ("True", True),
                                         ("TRUE", True), ("t", True), (" true", True)])
def test_only_the_exact_value_true_turns_tls_verification_off(self_signed, project, capsys, monkeypatch,
                                                               value, warns):
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", value)
    with ArgoTestServer(token=GOOD, tls=self_signed) as srv:
        code = main(["apply", "--server", srv.server, "--token", GOOD, str(project / "template.yaml")])
        out, err = capsys.readouterr()
        assert code == 1 and "TLS failed" in out and srv.state.requests == []
        assert "verification is disabled" not in err
        warning = (f"warning: ARGO_INSECURE_SKIP_VERIFY={value!r} is not 'true' (the only value the argo CLI "
                   "accepts); TLS certificate verification stays on\n")
        assert err == (warning if warns else "")


def test_argo_insecure_skip_verify_true_still_turns_verification_off(self_signed, project, capsys, monkeypatch):
    monkeypatch.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
    with ArgoTestServer(token=GOOD, tls=self_signed) as srv:
        code = main(["apply", "--server", srv.server, "--token", GOOD, str(project / "template.yaml")])
        out, err = capsys.readouterr()
        assert (code, out) == (0, "workflowtemplate/argo/greet created\n")
        assert "TLS certificate verification is disabled" in err


@pytest.mark.parametrize("value", ["no", "0", "False", "off"])
def test_argo_secure_means_plain_http_only_when_exactly_false(argo, project, capsys, monkeypatch, value):
    monkeypatch.setenv("ARGO_SECURE", value)
    code = main(["apply", "--server", argo.server, "--token", GOOD, str(project / "template.yaml")])
    out, err = capsys.readouterr()
    assert code == 1 and "TLS failed" in out and argo.state.requests == []  # the token was not sent in clear
    assert err == (f"warning: ARGO_SECURE={value!r} is not 'false' (the only value the argo CLI reads as plain "
                   "HTTP); using TLS\n")
    monkeypatch.setenv("ARGO_SECURE", "false")
    assert main(["apply", "--server", argo.server, "--token", GOOD, str(project / "template.yaml")]) == 0


# -- --wait follows its own Workflow only ------------------------------------------------------------

def test_another_workflows_phase_in_the_watch_stream_is_ignored(argo, project, capsys):
    argo.state.default_outcome = "Failed"
    argo.fault("GET", "/workflow-events/", "foreign")
    code, out, _ = run(capsys, argo, "apply", "--wait", str(project / "workflow.yaml"))
    assert code == 1 and out.splitlines()[-1] == "workflow/argo/run Failed (child 'run-1000' failed)"


def test_the_same_name_with_another_uid_ends_the_wait_with_an_error(argo, project, capsys):
    argo.fault("GET", "/workflow-events/", "foreign", same_name=True)
    code, out, _ = run(capsys, argo, "apply", "--wait", str(project / "workflow.yaml"))
    uid = argo.state.get("Workflow", "argo", "run")["metadata"]["uid"]
    assert code == 1
    assert re.fullmatch(rf"workflow/argo/run Unknown \(waiting failed: workflow argo/run was deleted and re-created "
                        rf"by someone else while waiting \(uid [-0-9a-f]{{36}}, not {uid}\)\)", out.splitlines()[-1])


# -- two applies of the same new template -------------------------------------------------------------

@pytest.mark.parametrize("theirs,expected", [("same", "unchanged"), ("different", "updated")])
def test_losing_a_create_race_reports_what_the_server_holds(argo, project, capsys, theirs, expected):
    def other_client(obj):
        if theirs == "different":
            obj["spec"]["templates"][-1]["script"]["image"] = "python:3.11"

    argo.fault("POST", "^/api/v1/workflow-templates/argo$", "race", mutate=other_client)
    code, out, _ = run(capsys, argo, "apply", str(project / "template.yaml"))
    assert (code, out) == (0, f"workflowtemplate/argo/greet {expected}\n")
    live = argo.state.get("WorkflowTemplate", "argo", "greet")
    assert live["spec"]["templates"][-1]["script"]["image"] == "python:3.12"
    assert argo.state.count("PUT") == (1 if expected == "updated" else 0)


def test_two_real_applies_of_a_new_template_at_once_report_created_and_unchanged(argo, project):
    # both GETs are answered (nothing there) before either answer is sent, so both POST: one create
    # wins, the other gets AlreadyExists, re-reads and finds what it would have written
    argo.fault("GET", "/workflow-templates/argo/greet$", "gate", times=2, barrier=threading.Barrier(2))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ARGO_")}, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "heraspec", "apply", "--server", argo.server, "--plaintext", "--token", GOOD,
            str(project / "template.yaml")]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=project)
             for _ in range(2)]
    results = sorted((p.wait(timeout=120), *p.communicate()) for p in procs)
    assert [r[:2] for r in results] == [(0, "workflowtemplate/argo/greet created\n"),
                                        (0, "workflowtemplate/argo/greet unchanged\n")]
    assert argo.state.count("POST") == 2 and argo.state.count("PUT") == 0
    assert len(argo.state.of_kind("WorkflowTemplate")) == 1
