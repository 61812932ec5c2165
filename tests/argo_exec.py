"""Run one compiled script template the way Argo's executor would, for tests.

Argo resolves the DAG task's arguments, fills the template's inputs (defaults for missing ones),
substitutes `{{inputs.parameters.*}}` across the whole template, writes `script.source` to a file
and runs `command` on it in the container. Here the "container" is a bare `python3 -I` in an empty
folder, so the user's module is not importable, and the output parameter's path is redirected into
that folder through HERASPEC_RESULT_PATH (the compiled script honours it; Argo never sets it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

_EXPR = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def workflow_spec(manifest: dict) -> dict:
    spec = manifest["spec"]
    return spec["workflowSpec"] if manifest["kind"] == "CronWorkflow" else spec


def substitute(text: str, scope: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key not in scope:
            raise KeyError(f"unresolved Argo expression {{{{{key}}}}}")
        return scope[key]

    return _EXPR.sub(repl, text)


def run_task(manifest: dict, task: str, folder: Path, *, results: dict[str, Any] | None = None,
             item: Any = None, parameters: dict[str, str] | None = None,
             python: str = sys.executable) -> tuple[Any, str]:
    """Execute DAG task `task` (Argo name); returns (decoded result, stdout). `python`: the image's
    interpreter (a template with `packages` pip-installs into it)."""
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["entrypoint"]]["dag"]["tasks"]
    dtask = next(t for t in dag if t["name"] == task)
    scope: dict[str, str] = {}
    for p in spec.get("arguments", {}).get("parameters", []):
        scope[f"workflow.parameters.{p['name']}"] = (parameters or {}).get(p["name"], p["value"])
    for name, value in (results or {}).items():
        scope[f"tasks.{name}.outputs.parameters.result"] = json.dumps(value)
    if item is not None:
        scope["item"] = item if isinstance(item, str) else json.dumps(item)
        if isinstance(item, dict):
            for k, v in item.items():
                scope[f"item.{k}"] = v if isinstance(v, str) else json.dumps(v)
    args = {p["name"]: substitute(p["value"], scope) for p in dtask.get("arguments", {}).get("parameters", [])}
    tmpl = templates[dtask["template"]]
    inputs: dict[str, str] = {}
    for p in tmpl.get("inputs", {}).get("parameters", []):
        if p["name"] in args:
            inputs[p["name"]] = args[p["name"]]
        elif "default" in p:
            inputs[p["name"]] = p["default"]
        else:
            raise AssertionError(f"input {p['name']} of template {tmpl['name']} has no value")
    in_scope = {f"inputs.parameters.{k}": v for k, v in inputs.items()}
    script = tmpl["script"]
    assert "{{" not in script["source"], "Argo would substitute inside the script source"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for e in script.get("env", []):
        if "value" in e:
            env[e["name"]] = substitute(e["value"], in_scope)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.py").write_text(script["source"], encoding="utf-8")
    out_path = tmpl["outputs"]["parameters"][0]["valueFrom"]["path"]
    env["HERASPEC_RESULT_PATH"] = str(folder / "out" / out_path.lstrip("/"))
    proc = subprocess.run([python, "-I", "script.py"], cwd=folder, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"script failed:\n{proc.stderr}"
    return json.loads(Path(env["HERASPEC_RESULT_PATH"]).read_text(encoding="utf-8")), proc.stdout


def run_script(source: str, folder: Path, env: dict[str, str] | None = None, *,
               python: str = sys.executable, flag: str = "-I") -> tuple[subprocess.CompletedProcess, Path]:
    """Run one script source as the pod would: alone in `folder`, inputs only through `env`;
    returns the process and where its result is written (HERASPEC_RESULT_PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.py").write_text(source, encoding="utf-8")
    result = folder / "out" / "result.json"
    full = {"PATH": os.environ.get("PATH", ""), "HERASPEC_RESULT_PATH": str(result), **(env or {})}
    proc = subprocess.run([python, flag, "script.py"], cwd=folder, env=full, capture_output=True, text=True)
    return proc, result
