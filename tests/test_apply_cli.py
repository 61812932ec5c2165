"""`heraspec apply` as a new user meets it: a client dry run with no server, the namespace it picks
when the spec sets none, and the Argo UI link of each submitted Workflow. Real subprocesses, real
HTTP on 127.0.0.1 (tests/argo_server.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import heraspec
from tests.argo_schema import assert_argo_valid
from tests.argo_server import TOKEN, serve
from tests.cli import heraspec as heraspec_cli

ROOT = Path(__file__).resolve().parents[1]
DIAMOND = str(ROOT / "examples" / "diamond.yaml")


@pytest.fixture
def argo_prefixed():
    yield from serve(base_href="/argo/")


@pytest.mark.parametrize("spec", ["diamond.yaml", "diamond.toml"])
def test_client_dry_run_needs_no_server_and_names_the_default_namespace(spec: str):
    proc = heraspec_cli("apply", str(ROOT / "examples" / spec), "--dry-run=client")
    assert proc.returncode == 0, proc.stderr
    head, body = proc.stdout.split("\n", 1)
    assert head == "# workflow/argo/parallel-diamonds: POST /api/v1/workflows/argo"
    sent = json.loads(body)
    assert sent["namespace"] == "argo"
    assert_argo_valid(sent["workflow"])
    assert proc.stderr == ("note: namespace 'argo' is heraspec's default (set namespace: in the spec, -n NS or "
                           "ARGO_NAMESPACE); it applies to workflow/argo/parallel-diamonds\n")


@pytest.mark.parametrize("how", [["-n", "ml"], []])
def test_a_chosen_namespace_needs_no_note(how: list[str]):
    proc = heraspec_cli("apply", DIAMOND, "--dry-run=client", *how, env={} if how else {"ARGO_NAMESPACE": "ml"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# workflow/ml/parallel-diamonds: POST /api/v1/workflows/ml\n")
    assert "note:" not in proc.stderr


def test_the_python_api_dry_runs_without_a_server_and_reports_ui_links(monkeypatch, argo_prefixed):
    import io

    for k in [k for k in os.environ if k.startswith("ARGO_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("ARGO_NAMESPACE", "team")
    err = io.StringIO()
    report = heraspec.apply([DIAMOND], dry_run="client", stderr=err, namespace=None)
    assert report.ok and report.results[0].namespace == "team" and report.results[0].url is None
    assert err.getvalue() == "note: namespace 'team' is from ARGO_NAMESPACE; it applies to workflow/team/parallel-diamonds\n"
    srv = argo_prefixed
    report = heraspec.apply([DIAMOND], server=srv.server, secure=False, base_href="/argo/", token=TOKEN)
    assert report.results[0].url == f"http://{srv.server}/argo/workflows/team/parallel-diamonds"


def test_apply_prints_the_argo_ui_link_of_each_submitted_workflow(argo_prefixed):
    srv = argo_prefixed
    proc = heraspec_cli("apply", DIAMOND, str(ROOT / "examples" / "ml-pipeline.yaml"), "--server", srv.server,
                        "--plaintext", "--base-href", "/argo/", env={"ARGO_TOKEN": TOKEN})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()  # stdout: still one line per resource
    assert lines[0] == "workflow/argo/parallel-diamonds created"
    assert lines[1].startswith("workflow/argo/ml-pipeline-") and lines[1].endswith(" created")
    ml = lines[1].split()[0].rsplit("/", 1)[1]
    base = f"http://{srv.server}/argo"
    assert f"workflow/argo/parallel-diamonds: {base}/workflows/argo/parallel-diamonds\n" in proc.stderr
    assert f"workflow/argo/{ml}: {base}/workflows/argo/{ml}\n" in proc.stderr


def test_a_dry_run_or_a_template_has_no_link(argo_prefixed, tmp_path: Path):
    srv = argo_prefixed
    spec = tmp_path / "t.yaml"
    spec.write_text((ROOT / "examples" / "diamond.yaml").read_text().replace("kind: Workflow", "kind: WorkflowTemplate")
                    .replace("# yaml-language-server", "#"))
    (tmp_path / "steps.py").write_text((ROOT / "examples" / "steps.py").read_text())
    common = ("--server", srv.server, "--plaintext", "--base-href", "/argo/")
    for args in ([DIAMOND, "--dry-run=server"], [str(spec)]):
        proc = heraspec_cli("apply", *args, *common, env={"ARGO_TOKEN": TOKEN})
        assert proc.returncode == 0, proc.stderr
        assert "/workflows/" not in proc.stderr
