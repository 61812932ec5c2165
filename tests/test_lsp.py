"""The schema works in a real editor backend: yaml-language-server completes, documents and checks specs.

The server comes from npm (tests/lsp/package.json, installed by `npm ci` in .ci/run); locally the tests
skip when it is not installed, in CI they fail. Every wait has a timeout (tests/lsp/client.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp import REPO, SCHEMA, YAML_SERVER, require
from tests.lsp.client import LspClient

SCHEMA_URI = SCHEMA.as_uri()
SETTINGS = {
    "yaml": {"validate": True, "completion": True, "hover": True, "format": {"enable": False},
             "schemas": {SCHEMA_URI: ["*.heraspec.yaml", "heraspec.yaml"]}, "schemaStore": {"enable": False}},
    "http": {"proxy": "", "proxyStrictSSL": False},
    "[yaml]": {}, "editor": {"tabSize": 2}, "files": {},
}


def _server(settings: dict, root: Path) -> LspClient:
    client = LspClient(require(YAML_SERVER) + ["--stdio"], settings=settings, cwd=str(root))
    client.initialize(root)
    return client


@pytest.fixture(scope="module")
def lsp():
    client = _server(SETTINGS, REPO)
    yield client
    client.close()


def _open(lsp: LspClient, path: Path, text: str) -> list[dict]:
    """Open a document and wait for its first diagnostics (before any completion request)."""
    uri = path.as_uri()
    lsp.open(uri, "yaml", text)
    return lsp.notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)["diagnostics"]


def _complete(lsp: LspClient, path: Path, line: int, character: int) -> dict[str, dict]:
    result = lsp.request("textDocument/completion", {"textDocument": {"uri": path.as_uri()},
                                                     "position": {"line": line, "character": character}})
    items = result["items"] if isinstance(result, dict) else result
    return {i["label"]: i for i in items}


def _doc_text(item: dict) -> str:
    doc = item.get("documentation") or ""
    return doc["value"] if isinstance(doc, dict) else doc


def test_completion_at_the_root_offers_the_top_level_keys(lsp, tmp_path):
    path = tmp_path / "root.heraspec.yaml"
    _open(lsp, path, "name: demo\n\n")
    items = _complete(lsp, path, 1, 0)
    assert {"tasks", "edges", "kind", "parameters", "defaults", "image"} <= set(items)
    assert "module" not in _doc_text(items["tasks"])  # documentation is the key's own
    assert "by name" in _doc_text(items["tasks"])
    assert "chains" in _doc_text(items["edges"])


def test_completion_inside_a_task_offers_task_keys_with_their_docs(lsp, tmp_path):
    path = tmp_path / "task.heraspec.yaml"
    text = "name: demo\ntasks:\n  train:\n    function: steps:train\n    \n"
    _open(lsp, path, text)
    items = _complete(lsp, path, 4, 4)
    assert {"args", "resources", "after", "retry", "foreach", "when"} <= set(items)
    assert "function" not in items  # already there
    assert "fan the task out" in _doc_text(items["args"])
    assert "CPU, memory" in _doc_text(items["resources"])
    # a fresh task also gets `function` and the snippets
    path2 = tmp_path / "task2.heraspec.yaml"
    _open(lsp, path2, "name: demo\ntasks:\n  train:\n    \n")
    items = _complete(lsp, path2, 3, 4)
    assert "module.path:function" in _doc_text(items["function"])
    assert "mypkg.steps:train" in items["function"].get("insertText", "")  # the schema's example
    assert {"function task", "fan-out task"} <= set(items)


def test_completion_offers_the_snippets(lsp, tmp_path):
    path = tmp_path / "snippets.heraspec.yaml"
    _open(lsp, path, "name: demo\ntasks:\n  A:\n    function: steps:say\n    resources:\n      \n")
    items = _complete(lsp, path, 5, 6)
    assert {"cpu", "memory", "gpu", "volume"} <= set(items)
    assert "new volume" in items
    assert "volume" in _doc_text(items["new volume"]) or "volume" in items["new volume"]["insertText"]
    empty = tmp_path / "empty.heraspec.yaml"
    _open(lsp, empty, "\n")
    items = _complete(lsp, empty, 0, 0)
    assert "heraspec spec" in items
    assert "tasks:" in items["heraspec spec"]["insertText"]


def test_completion_of_an_enum_offers_its_values(lsp, tmp_path):
    path = tmp_path / "kind.heraspec.yaml"
    _open(lsp, path, "kind: \ntasks:\n  A: {function: steps:say}\n")
    items = _complete(lsp, path, 0, 6)
    assert {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"} <= set(items)


def test_hover_over_a_key_shows_its_docs(lsp, tmp_path):
    path = tmp_path / "hover.heraspec.yaml"
    text = "name: demo\ntasks:\n  train:\n    function: steps:train\n    resources: {cpu: 2}\n"
    _open(lsp, path, text)
    hover = lsp.request("textDocument/hover", {"textDocument": {"uri": path.as_uri()},
                                               "position": {"line": 3, "character": 6}})
    contents = hover["contents"]
    value = contents["value"] if isinstance(contents, dict) else str(contents)
    assert "module.path:function" in value and "never imported" in value
    hover = lsp.request("textDocument/hover", {"textDocument": {"uri": path.as_uri()},
                                               "position": {"line": 4, "character": 18}})
    assert "CPU cores requested" in hover["contents"]["value"]


def test_a_misspelt_key_gets_a_diagnostic_at_the_key(lsp, tmp_path):
    path = tmp_path / "typo.heraspec.yaml"
    diags = _open(lsp, path, "name: demo\ntasks:\n  train:\n    fucntion: steps:train\n")
    assert diags, "the misspelt key was not flagged"
    typo = [d for d in diags if "fucntion" in d["message"]]
    assert typo and typo[0]["range"]["start"] == {"line": 3, "character": 4}
    assert typo[0]["severity"] == 1


def test_bad_values_get_diagnostics(lsp, tmp_path):
    path = tmp_path / "values.heraspec.yaml"
    diags = _open(lsp, path, "kind: Pipeline\ntasks:\n  A:\n    function: not a reference\n"
                             "    resources: {memory: lots}\n")
    lines = sorted(d["range"]["start"]["line"] for d in diags)
    assert lines == [0, 3, 4], diags


@pytest.mark.parametrize("example", sorted(p.name for p in (REPO / "examples").glob("*.yaml")))
def test_the_examples_are_clean_through_their_modeline(lsp, example):
    path = REPO / "examples" / example
    assert _open(lsp, path, path.read_text(encoding="utf-8")) == []


def test_the_modeline_alone_associates_the_schema(lsp, tmp_path):
    # not a *.heraspec.yaml name: only the modeline can tell the server which schema applies
    path = tmp_path / "pipeline.yaml"
    diags = _open(lsp, path, f"# yaml-language-server: $schema={SCHEMA_URI}\nname: demo\n"
                             "tasks:\n  A: {fucntion: steps:say}\n")
    assert any("fucntion" in d["message"] for d in diags), diags


def test_init_output_is_clean_and_its_vscode_settings_associate_the_schema(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "heraspec", "init", str(tmp_path)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    vscode = json.loads((tmp_path / ".vscode" / "settings.json").read_text())
    settings = {**SETTINGS, "yaml": {**SETTINGS["yaml"], "schemas": vscode["yaml.schemas"]}}
    lsp = _server(settings, tmp_path)
    try:
        spec = tmp_path / "heraspec.yaml"
        assert _open(lsp, spec, spec.read_text()) == []
        nested = tmp_path / "more" / "etl.heraspec.yaml"  # no modeline: the settings' pattern applies
        diags = _open(lsp, nested, "name: etl\ntasks:\n  A: {fucntion: steps:say}\n")
        assert any("fucntion" in d["message"] for d in diags), diags
    finally:
        lsp.close()
