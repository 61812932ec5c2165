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
             python: str = sys.executable, repo: Repository | None = None) -> tuple[Any, str]:
    """Execute DAG task `task` (Argo name); returns (decoded result, stdout). `python`: the image's
    interpreter (a template with `packages` pip-installs into it). With artifacts (`repo`), a task
    whose result is an output artifact returns the path of the stored artifact instead."""
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["entrypoint"]]["dag"]["tasks"]
    dtask = next(t for t in dag if t["name"] == task)
    scope: dict[str, str] = dict(repo.scope) if repo is not None else {}
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
    if repo is not None:  # the container's file system: declared paths under folder/fs
        env["HERASPEC_ARTIFACT_DIR"] = str(folder / "fs" / "tmp/heraspec/artifacts")
        repo.place(dtask, tmpl, folder / "fs", {**scope, **in_scope})
    params = tmpl["outputs"].get("parameters") or []
    out_path = params[0]["valueFrom"]["path"] if params else "/tmp/heraspec/result.json"
    env["HERASPEC_RESULT_PATH"] = str(folder / "out" / out_path.lstrip("/"))
    proc = subprocess.run([python, "-I", "script.py"], cwd=folder, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"script failed:\n{proc.stderr}"
    if repo is not None and tmpl["outputs"].get("artifacts"):
        return repo.collect(task, tmpl, folder / "fs", {**scope, **in_scope}), proc.stdout
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


class Repository:
    """An artifact repository as Argo's executor uses it (a folder stands in for the bucket), written
    independently of heraspec's runner: output artifacts are saved under their key (`s3.key` after
    substitution, else Argo's default `{{workflow.name}}/{{pod.name}}/<file name>`, `archive: none`),
    input artifacts are loaded from `from` (the producer's recorded key), a key (a prefix loads the
    whole folder, as the S3 driver does), `http` (downloaded), or `s3`/`gcs` with a bucket
    (`buckets/<bucket>/<key>`), and copied to the template's `path`."""

    def __init__(self, root: Path, buckets: Path | None = None, workflow: str = "wf", uid: str = "uid-1"):
        self.root, self.buckets = root, buckets
        self.scope = {"workflow.name": workflow, "workflow.uid": uid}
        self.keys: dict[str, str] = {}  # "tasks.X.outputs.artifacts.N" -> key

    def place(self, dtask: dict, tmpl: dict, fs: Path, scope: dict[str, str]) -> None:
        import shutil
        import urllib.request

        args = {a["name"]: a for a in dtask.get("arguments", {}).get("artifacts", [])}
        full = {**self.scope, **scope, **self.keys}
        for art in tmpl.get("inputs", {}).get("artifacts", []):
            a = args[art["name"]]
            if "from" in a:
                src = self.root / substitute(a["from"], full)
            elif "http" in a:
                src = fs.parent / "download" / art["name"]
                src.parent.mkdir(parents=True, exist_ok=True)
                with urllib.request.urlopen(substitute(a["http"]["url"], full)) as r:  # noqa: S310 (a test server)
                    src.write_bytes(r.read())
            else:
                loc = a.get("s3") or a.get("gcs")
                key = substitute(loc["key"], full)
                assert self.buckets is not None or not loc.get("bucket")
                src = (self.buckets / substitute(loc["bucket"], full) / key) if loc.get("bucket") \
                    else self.root / key  # type: ignore[operator]
            dst = fs / substitute(art["path"], full).lstrip("/")  # ProcessArgs substitutes the template
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(src, dst) if src.is_dir() else shutil.copyfile(src, dst)

    def collect(self, task: str, tmpl: dict, fs: Path, scope: dict[str, str]) -> Path:
        import shutil

        stored = None
        for art in tmpl["outputs"]["artifacts"]:
            assert art.get("archive") == {"none": {}}, "heraspec stores artifacts unarchived"
            full = {**self.scope, **scope}
            key = substitute(art["s3"]["key"], full) if "s3" in art else \
                f"{full['workflow.name']}/{task}-pod/{Path(art['path']).name}"
            stored = self.root / key
            stored.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(fs / art["path"].lstrip("/")), stored)
            self.keys[f"tasks.{task}.outputs.artifacts.{art['name']}"] = key
        assert stored is not None
        return stored
