"""Run compiled script templates the way Argo's executor and controller would, for tests.

Argo resolves the DAG task's arguments, fills the template's inputs (defaults for missing ones),
substitutes `{{inputs.parameters.*}}` across the whole template, writes `script.source` to a file
and runs `command` on it in the container; the executor reads the output parameter's file and trims
one trailing newline. Here the "container" is a bare `python3 -I` in an empty folder, so the user's
module is not importable, and the output parameter's path is redirected into that folder through
HERASPEC_RESULT_PATH (the compiled script honours it; Argo never sets it).

Written apart from heraspec.local (the runner) on purpose, from Argo v4.1.2's Go code, so that the
two cannot share a mistake: fan-in values are aggregated as operator.go aggregatedJSONValueList does
(decoded only when every child's value is a JSON object or array, else the list of raw strings),
and loop items are formatted as processItem does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

_EXPR = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


class Fanned(list):
    """The result texts of a fanned-out task's children, in loop order."""


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


def _go_numbers(value: Any) -> Any:
    # json.Unmarshal into `any` makes every number a float64; Marshal (encoding/json floatEncoder) prints
    # one below 1e21 with strconv's shortest digits in 'f' format: integral ones bare, 2**63 as
    # 9223372036854775808's shortest digits 9223372036854776 padded with zeros
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        f = float(value)
        return int(Decimal(repr(f))) if f.is_integer() and abs(f) < 1e21 else f
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return {k: _go_numbers(v) for k, v in value.items()}


def argo_aggregate(texts: list[str]) -> str:
    """The text `{{tasks.X.outputs.parameters.NAME}}` has for a fanned-out X."""
    decoded = []
    for text in texts:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, (dict, list)):
            return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
        decoded.append(_go_numbers(value))
    return json.dumps(decoded, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def argo_item(value: Any) -> str:
    """The text `{{item}}` has for one loop item (operator.go processItem)."""
    if isinstance(value, str):
        return value
    if value is None:  # Item.GetType takes null for a list; GetListVal() is then a nil slice: Marshal gives null
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def argo_item_field(value: Any) -> str:
    """The text `{{item.KEY}}` has: Item.String(), a string's JSON escapes kept, quotes removed."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text[1:-1] if isinstance(value, str) else text


def producer_text(value: Any) -> str:
    """What a heraspec script writes for a returned value (after the executor trims the newline)."""
    if isinstance(value, Fanned):
        return argo_aggregate(list(value))
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def run_task(manifest: dict, task: str, folder: Path, *, results: dict[str, Any] | None = None,
             item: Any = Ellipsis, parameters: dict[str, str] | None = None,
             python: str = sys.executable, repo: Repository | None = None, text: bool = False,
             texts: dict[str, str] | None = None, image: list[str] | None = None) -> tuple[Any, str]:
    """Execute DAG task `task` (Argo name); returns (result, stdout): the result's text with
    `text=True`, else that text decoded as JSON where it parses. `results`: the producers' returned
    values, or `Fanned([...texts])` for a fanned-out producer (aggregated here as Argo does);
    `texts`: producers' result texts as they are. `python`: the image's interpreter (a template with
    `packages` pip-installs into it). With artifacts (`repo`), a task whose result is an output
    artifact returns the path of the stored artifact instead. `image`: the folders a `code: image`
    task's image has installed (heraspec, the project): on PYTHONPATH, the script run as `python -S`
    (Argo runs `python script`; -S keeps this machine's site-packages out: the image has only these)."""
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["entrypoint"]]["dag"]["tasks"]
    dtask = next(t for t in dag if t["name"] == task)
    scope: dict[str, str] = dict(repo.scope) if repo is not None else {}
    for p in spec.get("arguments", {}).get("parameters", []):
        scope[f"workflow.parameters.{p['name']}"] = (parameters or {}).get(p["name"], p["value"])
    for name, value in (results or {}).items():
        scope[f"tasks.{name}.outputs.parameters.result"] = producer_text(value)
        if not isinstance(value, Fanned):  # the whole result as JSON, for references nested in arguments
            scope[f"tasks.{name}.outputs.parameters.result-json"] = json.dumps(value, ensure_ascii=False,
                                                                              separators=(",", ":"))
    for name, value in (texts or {}).items():  # "task" (its result) or a whole scope key
        scope[name if "." in name else f"tasks.{name}.outputs.parameters.result"] = value
    if item is not Ellipsis:  # a loop item (None is one: `foreach: [1, null]`)
        scope["item"] = argo_item(item)
        if isinstance(item, dict):
            for k, v in item.items():
                scope[f"item.{k}"] = argo_item_field(v)
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
    # common/util.go SubstituteParams: the globals (workflow.*) are replaced across the template's JSON,
    # inputs' values included, before the inputs are (a tag they do not resolve stays as written)
    for k, v in inputs.items():  # the template's JSON is parsed by fasttemplate, which needs each `{{` closed
        if re.search(r"\{\{(?!.*\}\})", v, re.S):
            raise ValueError(f"Cannot find end tag in the value of input {k!r}: {v!r}")
    globals_ = {k: v for k, v in scope.items() if k.startswith("workflow.")}
    inputs = {k: _EXPR.sub(lambda m: globals_.get(m.group(1), m.group(0)), v) for k, v in inputs.items()}
    in_scope = {f"inputs.parameters.{k}": v for k, v in inputs.items()}
    script = tmpl["script"]
    assert "{{" not in script["source"], "Argo would substitute inside the script source"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for e in script.get("env", []):
        if "value" in e:
            env[e["name"]] = substitute(e["value"], {**scope, **in_scope})  # workflow.parameters too
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.py").write_text(script["source"], encoding="utf-8")
    if repo is not None:  # the container's file system: declared paths under folder/fs
        env["HERASPEC_ARTIFACT_DIR"] = str(folder / "fs" / "tmp/heraspec/artifacts")
        repo.place(dtask, tmpl, folder / "fs", {**scope, **in_scope})
    params = tmpl["outputs"].get("parameters") or []
    out_path = params[0]["valueFrom"]["path"] if params else "/tmp/heraspec/result.json"
    env["HERASPEC_RESULT_PATH"] = str(folder / "out" / out_path.lstrip("/"))
    if image is not None:
        env["PYTHONPATH"] = os.pathsep.join(image)
    flag = "-I" if image is None else "-S"
    proc = subprocess.run([python, flag, "script.py"], cwd=folder, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"script failed:\n{proc.stderr}"
    if repo is not None and tmpl["outputs"].get("artifacts"):
        return repo.collect(task, tmpl, folder / "fs", {**scope, **in_scope}), proc.stdout
    out = Path(env["HERASPEC_RESULT_PATH"]).read_bytes().decode("utf-8").removesuffix("\n")  # SaveParameters trims one
    if text:
        return out, proc.stdout
    try:
        return json.loads(out), proc.stdout
    except ValueError:
        return out, proc.stdout  # a str result is its own text


def pod_env(manifest: dict, tmpl: dict) -> dict[str, str]:
    """A script template's env values with the workflow's parameters substituted, as its pod gets
    them (its runtime and carried code, HERASPEC_CODE, among them); other expressions left as they are."""
    scope = {p["name"]: p["value"] for p in workflow_spec(manifest).get("arguments", {}).get("parameters", [])}
    return {e["name"]: re.sub(r"\{\{workflow\.parameters\.([-\w]+)\}\}", lambda m: scope[m.group(1)], e["value"])
            for e in tmpl["script"].get("env", []) if "value" in e}


def run_script(source: str, folder: Path, env: dict[str, str] | None = None, *,
               python: str = sys.executable, flag: str = "-I") -> tuple[subprocess.CompletedProcess, Path]:
    """Run one script source as the pod would: alone in `folder`, inputs only through `env`, with a
    fresh empty temporary folder (a container's own /tmp: nothing an earlier pod wrote there; short,
    for Unix sockets) unless `env` names one; returns the process and where its result is written
    (HERASPEC_RESULT_PATH)."""
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.py").write_text(source, encoding="utf-8")
    result = folder / "out" / "result.json"
    tmp = tempfile.mkdtemp(prefix="pod-")
    full = {"PATH": os.environ.get("PATH", ""), "HERASPEC_RESULT_PATH": str(result), "TMPDIR": tmp, **(env or {})}
    try:
        proc = subprocess.run([python, flag, "script.py"], cwd=folder, env=full, capture_output=True, text=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
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


def run_dag(manifest: dict, folder: Path, *, parameters: dict[str, str] | None = None,
            image: list[str] | None = None) -> dict[str, str]:
    """Run every task of the entrypoint DAG in dependency order (no `when`, every task succeeds):
    task -> its result text, the aggregate for a fanned-out task. `image`: as for run_task."""
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = {t["name"]: t for t in templates[spec["entrypoint"]]["dag"]["tasks"]}
    scope: dict[str, str] = {}
    for p in spec.get("arguments", {}).get("parameters", []):
        scope[f"workflow.parameters.{p['name']}"] = (parameters or {}).get(p["name"], p["value"])
    done: dict[str, str] = {}
    while len(done) < len(tasks):
        ready = [n for n, t in tasks.items() if n not in done
                 and all(d in done for d in re.findall(r"[A-Za-z0-9][-A-Za-z0-9]*", t.get("depends", "")))]
        assert ready, "dependency cycle"
        for name in ready:
            t = tasks[name]
            if "withItems" in t or "withParam" in t:
                # dag.go resolveDependencyReferences: the task's JSON is substituted before its items
                # are expanded; a value lands inside a JSON string, escaped (simpleReplaceStrict)
                items = json.loads(_EXPR.sub(lambda m: json.dumps(substitute(m.group(0), scope), ensure_ascii=False)[1:-1],
                                             json.dumps(t["withItems"], ensure_ascii=False))) if "withItems" in t \
                    else json.loads(substitute(t["withParam"], scope))
                texts = []
                for i, item in enumerate(items):
                    texts.append(run_task(manifest, name, folder / name / str(i), texts=scope, item=item,
                                          parameters=parameters, text=True, image=image)[0])
                done[name] = argo_aggregate(texts)
                named: dict[str, list[str]] = {}  # named outputs, aggregated as the result is
                for i in range(len(items)):
                    outputs = folder / name / str(i) / "out" / "tmp" / "heraspec" / "outputs"
                    for f in sorted(outputs.iterdir() if outputs.is_dir() else []):
                        named.setdefault(f.name, []).append(f.read_text(encoding="utf-8"))
                for key, values in named.items():
                    scope[f"tasks.{name}.outputs.parameters.{key}"] = argo_aggregate(values)
            else:
                done[name] = run_task(manifest, name, folder / name, texts=scope, parameters=parameters, text=True,
                                      image=image)[0]
                outputs = folder / name / "out" / "tmp" / "heraspec" / "outputs"  # named outputs, as written
                for f in (outputs.iterdir() if outputs.is_dir() else []):
                    scope[f"tasks.{name}.outputs.parameters.{f.name}"] = f.read_text(encoding="utf-8")
            scope[f"tasks.{name}.outputs.parameters.result"] = done[name]
    return done


def carried_modules(manifest: dict) -> dict[str, str]:
    """The user's modules a Workflow carries (its heraspec-code parameters), by name: their text."""
    import base64
    import zlib

    out: dict[str, str] = {}
    for p in workflow_spec(manifest).get("arguments", {}).get("parameters", []):
        if p["name"].startswith("heraspec-code"):
            table = json.loads(zlib.decompress(base64.urlsafe_b64decode(p["value"])))
            out.update({name: source for name, (_, _, source) in table["modules"].items()})
    return out
