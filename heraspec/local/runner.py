"""Run a compiled Argo manifest on this machine, no cluster: what runs locally is what Argo would run.

The entrypoint's DAG is executed with Argo's semantics (``depends``/``dependencies``, ``when``,
``withItems``/``withParam``/``withSequence`` fan-out with aggregated outputs, ``retryStrategy``,
``timeout``/``activeDeadlineSeconds``, ``continueOn``, ``dag.target``, nested DAG templates,
``spec.templateDefaults``, ``spec.parallelism`` and DAG-template ``parallelism`` and ``failFast``).
The DAG's phase is assessed as Argo's assessDAGPhase does (dagphase.py): a target task (``dag.target``,
else every task nothing depends on, by name) that Failed or Errored, a Skipped or Omitted one taking
its failed branch's phase, makes the DAG, and the workflow, Failed or Error; other branches run to
the end.

This module owns the run folder, the workflow's exit handler and signals (Stopper); preflight.py
checks the manifest before anything starts, scheduler.py runs the pods, dagstate.py applies the DAG
rules and dagview.py assesses phases.

Local choices, where a cluster has no equivalent:
- Images are never used. Script and container templates run ``command`` (+ the script file) +
  ``args`` as a subprocess: anything but ``python``/``python3`` must be on PATH, or the task ends in
  Error saying so. heraspec's own scripts run with ``python -I`` from a cached environment holding
  exactly the task's ``packages`` (envs.py), as their pod would; other ``python`` commands are this
  interpreter (``sys.executable``).
- Every attempt runs in its own fresh folder ``<run_dir>/<task>[/<item index>][/attempt-N]`` which
  is its working directory and holds ``stdout.log`` and ``stderr.log`` (with a reporter that has
  ``task_output``, the pipes are also read line by line as the task prints). Environment: the
  template's ``env`` plus PATH, HOME, TMPDIR (inside the folder, or a short link to it: see
  attempt.task_tmpdir) and HERASPEC_RESULT_PATH, and
  PYTHONUNBUFFERED=1 for Python (unless set) so that ``print`` shows as it happens. An env var taken
  ``valueFrom`` a Secret/ConfigMap/field is passed through from heraspec's own environment when a
  variable of that name is set there, else the task ends in Error naming what to set; ``envFrom`` is
  ignored.
- Declared paths are mapped into the run folder: output parameter/artifact paths and input
  artifact paths to ``<attempt folder>/<path>``, volume mounts to ``<run_dir>/volumes/<volume>``
  (shared by all tasks). A Python script's text is run as written: its file functions map those
  paths as it opens them (pathmap.py); in a container's command, args and env values and a
  non-Python script, literal occurrences are rewritten. The ``result`` path of sources that read
  HERASPEC_RESULT_PATH (heraspec's scripts) is set to the mapped result path instead. Nothing is
  written outside the run folder by heraspec; scripts that write elsewhere on purpose are not sandboxed.
- ``outputs.result`` is the last 256 kB of stdout (Argo's executor, CaptureScriptResult); the logs
  keep everything, and nothing reads a whole log into memory.
- SIGINT, SIGTERM and SIGHUP stop the run as ``argo stop`` does (Stopper): running tasks killed and
  Failed, pending ones Failed, exit handlers run, summary.json written; a second signal terminates.
- ``{{retries}}`` is the attempt number from 0; a retryStrategy without ``limit`` retries for ever,
  as in Argo (bounded only by ``backoff.maxDuration``, which is also the deadline of later attempts).
  Argo's ``Error`` (a task that could not be started) is a task phase, and a DAG's or the workflow's
  when its failed target branch ended so.
- The run folder is ``workdir`` (must be absent or empty) or a fresh ``<project>/.heraspec/runs/<name>-<time>``
  (the project: the spec's folder, wherever heraspec is started from; the task cache is beside it);
  it ends with ``summary.json``, and each attempt folder with ``outputs.json``. ``keep=False``
  (``heraspec run`` without ``--keep``) then prunes every other file: logs and outputs stay. Such a run also
  writes each distinct script text once, in ``.scripts/`` (as every pod of an Argo template runs
  /argo/staging/script), instead of a ``script.py`` in every attempt folder: on a disk where
  creating a file costs half a millisecond, that is a tenth of a small task's cost.
- Exit handlers run: ``spec.onExit`` after the entrypoint (``exithandler.py``: the values Argo gives it) and
  a DAG task's ``hooks.exit`` / ``onExit`` when the task ends (its dependents wait for the hook).
Not supported: steps, resource, suspend, http, data, plugin and containerSet templates, templateRef,
non-raw input artifacts, ``{{=expr}}`` tags (refused before the run starts, refuse_expressions; a
``memoize.key`` is computed as the controller does: memo.py), ``retryStrategy.expression`` (ignored), hooks other than ``exit`` and daemons. The
workflow-level ``activeDeadlineSeconds`` kills the running tasks and fails those not yet started.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import repository
from .dagstate import Dag
from .memo import CACHE_DIR, Memo
from .preflight import refuse_expressions, run_notes, workflow_parameters, workflow_spec
from .results import STOPPED_WORKFLOW, RunError, RunResult, TaskResult, utc_now
from .scheduler import Runner
from .sync import production_notes
from .attempt import TaskError, as_list
from .units import template_inputs
from ..errors import UsageError
from .expr import go_json

if TYPE_CHECKING:
    from .progress import Reporter

__all__ = ["TaskResult", "RunResult", "RunError", "Stopper", "run_workflow", "prune_run_dir"]

class Stopper:
    """SIGINT, SIGTERM and SIGHUP during a run: the first stops it as `argo stop` does (the running
    tasks killed, nothing more started, the exit handler run, summary.json written); a second one
    terminates it at once (KeyboardInterrupt). Installed only from the main thread (Python's rule)."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.signum: int | None = None
        self.runner: Runner | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> Stopper:
        import signal

        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, was in self.previous.items():
            if was is not None:  # None: a handler not set from Python, which cannot be put back
                signal.signal(sig, was)

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt  # the second: `argo terminate`
        self.signum = signum
        if self.runner is not None:
            self.runner.stop(signum)


# --- entry points --------------------------------------------------------------------------------

RUNS_DIR = Path(".heraspec") / "runs"  # in the spec's project, beside CACHE_DIR
CLAIM = ".heraspec-run"  # created exclusively in a --workdir: two runs cannot both take one folder


def _run_folder(workdir: str | Path | None, stem: str, project: Path | None = None) -> Path:
    if workdir is not None:
        path = Path(workdir).resolve()
        taken = UsageError(f"run folder {path} already exists and is not empty, or another heraspec run is "
                           "using it: choose another --workdir")
        if path.exists() and not path.is_dir():
            raise taken
        path.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two runs started together, exactly one gets the folder
            os.close(os.open(path / CLAIM, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            raise taken from None
        if any(p.name != CLAIM for p in path.iterdir()):
            (path / CLAIM).unlink()
            raise taken
        return path
    # metadata.name comes from the spec (or its argo: escape hatch): one path component, never '..'
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip(".-") or "workflow"
    base = (project or Path.cwd()) / RUNS_DIR
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = base / (f"{stem}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RunError(f"cannot create a fresh run folder under {base}")


def _as_dag(template: dict, params: dict[str, str]) -> dict:
    """A template run as the entrypoint (or the exit handler): a DAG, or one task calling it."""
    if "dag" in template:
        return template
    name = template["name"]
    args = [{"name": p["name"], "value": "{{workflow.parameters.%s}}" % p["name"]}
            for p in as_list((template.get("inputs") or {}).get("parameters")) if p["name"] in params]
    return {"name": name, "dag": {"tasks": [{"name": name, "template": name, "arguments": {"parameters": args}}]}}


def _run_exit_handler(spec: dict, root: Dag, main: Runner, wf_scope: dict[str, str], run_dir: Path, limit: int,
                      reporter: Reporter | None, params: dict[str, str], started: float,
                      stopper: Stopper) -> TaskResult:
    """spec.onExit, after the entrypoint ended, with workflow.status/failures/duration set (exithandler.py)."""
    from . import exithandler

    status = root.status()
    scope = dict(wf_scope)
    scope["workflow.status"] = status
    scope["workflow.duration"] = f"{time.monotonic() - started:f}"
    scope["workflow.failures"] = exithandler.failures(root, wf_scope["workflow.name"], str(spec.get("entrypoint", "")),
                                                status, utc_now())
    runner = Runner(spec, scope, run_dir, limit, reporter)
    runner.code_path, runner.scripts = main.code_path, main.scripts  # as the entrypoint's tasks have them
    runner.deadline_s = None  # workflowpod.go getDeadline: exit-handler pods (onExitPod) get no workflow deadline
    runner.on_exit = True  # a stop leaves it running (ShouldExecute(isOnExitPod)); a second signal ends it
    stopper.runner = runner
    name = spec["onExit"]
    if name not in runner.templates:
        raise RunError(f"onExit {name!r} is not a template of this workflow")
    dag = Dag(runner, _as_dag(runner.templates[name], params), {}, run_dir / "onExit", "onExit.")
    runner.loop(dag)
    return exithandler.exit_result(dag)


def run_workflow(manifest: dict, *, parameters: dict[str, str] | None = None, parallelism: int | None = None,
                 workdir: str | Path | None = None, reporter: Reporter | None = None,
                 code_path: tuple[str, ...] = (), artifacts_dir: str | Path | None = None,
                 semaphores: dict[str, int] | None = None, cache: bool = True, keep: bool = True,
                 project: str | Path | None = None) -> RunResult:
    """Run the manifest's entrypoint in the run folder ``workdir`` (default: a fresh
    ``<project>/.heraspec/runs/<workflow>-<timestamp>``; ``project``: the spec's folder, by default
    the current one, which also holds the task cache ``<project>/.heraspec/cache``). Raises UsageError for bad parameters and
    RunError for a manifest that cannot be run at all; task failures are results, not exceptions.
    ``code_path``: the project's folders, on the path of `code: image` tasks (their image has them).
    ``semaphores``: "CONFIG_MAP/KEY" -> limit (default 1); ``cache=False`` reads no memoized result;
    ``keep=False``: the work files will be pruned (prune_run_dir), so tasks running the same script
    text share one file in ``.scripts/`` instead of a copy in each task's folder."""
    spec = workflow_spec(manifest)
    params = workflow_parameters(spec, parameters or {})
    if parallelism is not None and parallelism < 1:
        raise UsageError(f"parallelism must be at least 1, not {parallelism}")
    limit = parallelism or os.cpu_count() or 1
    if spec.get("parallelism"):
        limit = min(limit, int(spec["parallelism"]))
    meta = manifest.get("metadata") or {}
    stem = str(meta.get("name") or meta.get("generateName") or "workflow").rstrip("-") or "workflow"
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    name = meta["name"] if manifest.get("kind", "Workflow") == "Workflow" and meta.get("name") else f"{stem}-{suffix}"
    wf_scope = {"workflow.name": name, "workflow.namespace": str(meta.get("namespace") or "default"),
                "workflow.uid": str(uuid.uuid4()), "workflow.creationTimestamp": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "workflow.serviceAccountName": str(spec.get("serviceAccountName") or "default"),
                "workflow.mainEntrypoint": str(spec.get("entrypoint", "")),
                "workflow.parameters": go_json([{"name": k, "value": v} for k, v in params.items()])}
    wf_scope.update({f"workflow.parameters.{k}": v for k, v in params.items()})
    wf_scope.update({f"workflow.labels.{k}": str(v) for k, v in (meta.get("labels") or {}).items()})
    wf_scope.update({f"workflow.annotations.{k}": str(v) for k, v in (meta.get("annotations") or {}).items()})
    home = Path(project).resolve() if project is not None else Path.cwd()
    run_dir = Path(workdir) if workdir else home / RUNS_DIR / "pending"  # the DAG is checked before it exists
    memo = Memo(home / CACHE_DIR, read=cache)
    runner = Runner(spec, wf_scope, run_dir, limit, reporter, semaphores, memo)
    runner.code_path = tuple(code_path)
    entry = spec.get("entrypoint")
    if entry not in runner.templates:
        raise RunError(f"entrypoint {entry!r} is not a template of this workflow")
    refuse_expressions(spec, runner.templates)
    template = _as_dag(runner.templates[entry], params)
    try:
        inputs = template_inputs(template, params)
    except TaskError as e:
        raise RunError(str(e)) from None
    root = Dag(runner, template, inputs, run_dir, "")
    external = Path(artifacts_dir).resolve() if artifacts_dir is not None else None
    if external is not None and not external.is_dir():
        raise UsageError(f"--artifacts {artifacts_dir}: not a folder (s3://BUCKET/KEY and gs://BUCKET/KEY are read "
                         "from DIR/BUCKET/KEY)")
    run_dir = runner.run_dir = root.folder = _run_folder(workdir, stem, home)
    runner.scripts = None if keep else run_dir.absolute() / ".scripts"  # no task or node folder starts with "."
    runner.store = repository.Store(run_dir, external)
    if reporter is not None:
        reporter.run_started(name, run_dir, run_notes(spec, runner.templates) + production_notes(spec, runner.templates,
                                                                                             semaphores or {}))
    t0 = time.monotonic()
    with Stopper() as stopper:
        stopper.runner = runner
        runner.loop(root)
        phase = root.phase()
        tasks = {n: t.res for n, t in root.tasks.items()}
        tasks.update({r.name: r for r in root.hooks})
        if spec.get("onExit"):
            tasks["onExit"] = handler = _run_exit_handler(spec, root, runner, wf_scope, run_dir, limit, reporter,
                                                          params, t0, stopper)
            if phase == "Succeeded" and handler.phase in ("Failed", "Error"):  # operate(): a failed exit
                phase = handler.phase  # handler fails (Failed) or errors (Error) a workflow that had succeeded
    # operator.go operate: the workflow's message is its entrypoint node's (a failFast DAG's own), or `argo stop`'s
    message = STOPPED_WORKFLOW if runner.stopping and phase != "Succeeded" else root.message if phase != "Succeeded" else ""
    result = RunResult(phase, tasks, run_dir, round(time.monotonic() - t0, 3), name, message,
                       runner.stop_signal if runner.stopping else None)
    from .progress import to_json

    (run_dir / "summary.json").write_text(json.dumps(to_json(result, {}), indent=2, default=str) + "\n")
    (run_dir / CLAIM).unlink(missing_ok=True)  # summary.json keeps the folder taken from now on
    if reporter is not None:
        reporter.run_finished(result)
    return result


def prune_run_dir(run_dir: Path) -> None:
    """Delete the work files of a run, keeping logs, outputs.json files, summary.json and the
    artifact repository (`artifacts/`, the files the tasks returned)."""
    for top, dirs, files in os.walk(run_dir, topdown=False):
        if Path(top) == run_dir / "artifacts" or run_dir / "artifacts" in Path(top).parents:
            continue
        for f in files:
            path = Path(top, f)
            if not (f.endswith(".log") or f == "outputs.json" or path == run_dir / "summary.json"):
                path.unlink()
        for d in dirs:
            path = Path(top, d)
            if path.is_symlink():
                path.unlink()
            elif not any(path.iterdir()):
                path.rmdir()
