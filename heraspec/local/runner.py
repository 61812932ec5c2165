"""Run a compiled Argo manifest on this machine, no cluster: what runs locally is what Argo would run.

The entrypoint's DAG is executed with Argo's semantics (``depends``/``dependencies``, ``when``,
``withItems``/``withParam``/``withSequence`` fan-out with aggregated outputs, ``retryStrategy``,
``timeout``/``activeDeadlineSeconds``, ``continueOn``, ``dag.target``, nested DAG templates,
``spec.templateDefaults``, ``spec.parallelism`` and DAG-template ``parallelism`` and ``failFast``).
The DAG's phase is assessed as Argo's assessDAGPhase does (dagphase.py): a target task (``dag.target``,
else every task nothing depends on, by name) that Failed or Errored, a Skipped or Omitted one taking
its failed branch's phase, makes the DAG, and the workflow, Failed or Error; other branches run to
the end.

Local choices, where a cluster has no equivalent:
- Images are never used. Script and container templates run ``command`` (+ the script file) +
  ``args`` as a subprocess: anything but ``python``/``python3`` must be on PATH, or the task ends in
  Error saying so. heraspec's own scripts run with ``python -I`` from a cached environment holding
  exactly the task's ``packages`` (envs.py), as their pod would; other ``python`` commands are this
  interpreter (``sys.executable``).
- Every attempt runs in its own fresh folder ``<run_dir>/<task>[/<item index>][/attempt-N]`` which
  is its working directory and holds ``stdout.log`` and ``stderr.log`` (with a reporter that has
  ``task_output``, the pipes are also read line by line as the task prints). Environment: the
  template's ``env`` plus PATH, HOME, TMPDIR (inside the folder) and HERASPEC_RESULT_PATH, and
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
- Exit handlers run: ``spec.onExit`` after the entrypoint (``_exit.py``: the values Argo gives it) and
  a DAG task's ``hooks.exit`` / ``onExit`` when the task ends (its dependents wait for the hook).
Not supported: steps, resource, suspend, http, data, plugin and containerSet templates, templateRef,
non-raw input artifacts, ``{{=expr}}`` tags (a ``memoize.key`` is computed as the controller does:
memo.py), ``retryStrategy.expression`` (ignored), hooks other than ``exit`` and daemons. The
workflow-level ``activeDeadlineSeconds`` kills the running tasks and fails those not yet started.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import re
import string
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import repository
from .memo import CACHE_DIR, Memo
from .memo import content_digest as memo_digest, fill as memo_fill
from ..argo import scheduling
from .sync import production_notes
from .sync import Locks
from ._attempt import LineSink, Outcome, Processes, TaskError, as_list, execute, inside, prepare
from ._dagstate import Dag, decode_output, template_inputs, Unit
from .results import STOPPED_PENDING, STOPPED_RUNNING, STOPPED_WORKFLOW, RunError, RunResult, TaskResult, utc_now
from ..errors import UsageError
from ..merge import merge_mappings
from .expr import ExprError, go_json, parse_duration, substitute

if TYPE_CHECKING:
    from .progress import Reporter

__all__ = ["TaskResult", "RunResult", "RunError", "Stopper", "run_workflow", "prune_run_dir"]

DONE = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")






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


_STR_MARK = "heraspec.str-result"  # kept with cached outputs: the result is a str (shown as one)


_LAST_EXIT = re.compile(r'^\s*lastRetry\.exitCode\s*!=\s*"(-?\d+)"\s*$')


def _retry_expression(retry: dict, out: Outcome) -> bool:
    """retryStrategy.expression, for the one form heraspec writes (`lastRetry.exitCode != "97"`: a
    failed package install is not retried); any other expression is not evaluated (retried)."""
    m = _LAST_EXIT.match(str(retry.get("expression") or ""))
    return not m or str(out.exit_code if out.exit_code is not None else -1) != m.group(1)


class Runner:
    """Starts pods (one attempt each) on a thread pool from a single loop that owns all state."""

    def __init__(self, spec: dict, wf_scope: dict[str, str], run_dir: Path, limit: int,
                 reporter: Reporter | None, semaphores: dict[str, int] | None = None, memo: Memo | None = None):
        defaults = spec.get("templateDefaults") or {}
        self.templates = {t["name"]: merge_mappings(defaults, t) if defaults else t
                          for t in as_list(spec.get("templates"))}
        self.wf_scope, self.run_dir, self.limit, self.reporter = wf_scope, run_dir, limit, reporter
        self.code_path: tuple[str, ...] = ()  # the project's folders, for `code: image` tasks
        self.scripts: Path | None = None  # where tasks share their script files (prepare), if they do
        self.store = repository.Store(run_dir, None)  # replaced once the run folder exists
        self.cond = threading.Condition()
        self.completed: list[tuple[Unit, Future]] = []
        self.ready: list[Unit] = []
        self.delayed: list[tuple[float, int, Unit]] = []
        self.running = 0
        self.procs = Processes(self.cond)
        self.pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="heraspec-task")
        self.locks = Locks(semaphores or {})  # templates' mutexes and semaphores (sync.py)
        self.memo = memo  # memoized results (memo.py); None: the cache is not used
        self.progressed = False
        seconds = spec.get("activeDeadlineSeconds")
        self.deadline_s = int(seconds) if isinstance(seconds, int) and not isinstance(seconds, bool) else None
        self.deadline: float | None = None  # monotonic time, set when the loop starts
        self.expired = False
        self.stop_signal: int | None = None  # set by a signal's handler (Stopper)
        self.stopping = False  # the run is being stopped (`argo stop`): only exit handlers start
        self.on_exit = False  # this runner runs the workflow's exit handler

    def stop(self, signum: int) -> None:
        """From a signal handler (main thread): stop the run as `argo stop` does, at the loop's next
        turn. The condition's lock is reentrant: taken here even if the loop holds it."""
        with self.cond:
            self.stop_signal = signum
            self.cond.notify_all()

    def exit_pod(self, unit: Unit) -> bool:
        """Part of an exit handler (the workflow's, or a task's exit hook): stopping does not stop it."""
        return self.on_exit or any(hu is unit for hu in unit.task.hook_units)

    def deadline_outcome(self) -> Outcome:
        return Outcome("Failed", f"the workflow's deadline ({self.deadline_s}s, activeDeadlineSeconds) was exceeded")

    def report(self, event: str, res: TaskResult, *args: Any) -> None:
        if self.reporter is not None:
            getattr(self.reporter, event)(res, *args)

    def _output_sink(self, res: TaskResult) -> LineSink | None:
        """Where the lines a task prints go as it prints them (also to its log files), if anywhere."""
        show = getattr(self.reporter, "task_output", None)
        return None if show is None else (lambda line: show(res, line))

    def enqueue(self, unit: Unit) -> None:
        self.ready.append(unit)

    def _dags(self, unit: Unit) -> list[Dag]:
        out, d = [], unit.dag
        while d is not None:
            out.append(d)
            d = d.parent
        return out

    def _can_start(self, unit: Unit) -> bool:
        return self.running < self.limit and all(d.limit is None or d.active < d.limit
                                                 for d in self._dags(unit)) and (unit.locked or self.locks.free(unit.template))

    def loop(self, root: Dag) -> None:
        if self.deadline_s is not None:
            self.deadline = time.monotonic() + self.deadline_s
        try:
            while True:
                with self.cond:
                    done, self.completed = self.completed, []
                for unit, fut in done:
                    self.running -= 1
                    for d in self._dags(unit):
                        d.active -= 1
                    self._attempt_done(unit, fut.result())
                while root.advance():
                    pass
                now = time.monotonic()
                if self.deadline is not None and now >= self.deadline and not self.expired:
                    # spec.activeDeadlineSeconds: Argo stops the running pods and starts no more
                    self.expired = True
                    self.procs.kill_all()
                if self.stop_signal is not None and not self.stopping and not self.on_exit:
                    self.stopping = True
                    self.procs.stop()
                    getattr(self.reporter, "run_stopping", lambda _: None)(self.stop_signal)
                while self.delayed and (self.delayed[0][0] <= now or self.stopping):
                    self.ready.append(heapq.heappop(self.delayed)[2])
                for unit in list(self.ready):
                    if self.expired or (self.stopping and not self.exit_pod(unit)) or self._can_start(unit):
                        self.ready.remove(unit)
                        self._begin(unit)
                if root.done and not self.running and not self.ready and not self.delayed:
                    return
                if self.progressed:  # a task finished without running (cached): advance at once
                    self.progressed = False
                    continue
                with self.cond:
                    if not self.completed:
                        wait = self.delayed[0][0] - time.monotonic() if self.delayed else 1.0
                        if self.deadline is not None and not self.expired:
                            wait = min(wait, self.deadline - time.monotonic())
                        if self.stop_signal is None or self.stopping or self.on_exit:
                            self.cond.wait(max(0.0, min(wait, 1.0)))
        finally:
            self.procs.kill_all()
            self.pool.shutdown(wait=True)

    def _begin(self, unit: Unit) -> None:
        res = unit.res
        if self.expired:
            return self.finish_unit(unit, self.deadline_outcome())
        if self.stopping and not self.exit_pod(unit):
            res.started = res.started or utc_now()
            return self.finish_unit(unit, Outcome("Failed", STOPPED_PENDING))
        res.attempts += 1
        first = res.attempts == 1
        if first:
            unit.t0, res.started = time.monotonic(), utc_now()
        scope = dict(self.wf_scope)
        scope.update({f"inputs.parameters.{k}": v for k, v in unit.inputs.items()})
        scope["inputs.parameters"] = go_json([{"name": k, "value": v} for k, v in unit.inputs.items()])
        scope["retries"] = str(res.attempts - 1)
        scope["pod.name"] = f"{self.wf_scope['workflow.name']}-{res.name}-{res.attempts}"
        try:
            # memoize.key is Argo's expression over the inputs: memo.py computes it as the controller does,
            # and fills it where the template repeats it (its files' keys, scheduling.address_outputs)
            template = unit.template
            memo_expr = (template.get("memoize") or {}).get("key")
            wf = {k[len("workflow.parameters."):]: v for k, v in self.wf_scope.items()
                  if k.startswith("workflow.parameters.")}
            if isinstance(memo_expr, str):
                template = memo_fill(template, memo_expr, scheduling.key(memo_expr, unit.inputs, wf))
            tmpl = substitute({k: v for k, v in template.items() if k not in ("name", "memoize")}, scope)
            if first and self.memo is not None and "memoize" in unit.template:
                files = {str(a.get("name")): memo_digest(self.store.locate(a)) for a in unit.artifacts}
                unit.memo = self.memo.key(unit.template, unit.inputs, wf, files, res.name)
                hit, res.cache = self.memo.lookup(unit.memo, self.store.path) if unit.memo else (None, "")
                if hit is not None:
                    res.cached = self.progressed = True
                    self.report("task_started", res)
                    outputs, keys = dict(hit[0]), hit[1]
                    marked = outputs.pop(_STR_MARK, None) is not None  # not an output: Argo names cannot hold "."
                    return self.finish_unit(unit, Outcome("Succeeded", "", outputs, str_result=marked, artifacts=keys))
            unit.retry = tmpl.get("retryStrategy") or {}
            folder = unit.folder / f"attempt-{res.attempts}" if "retryStrategy" in tmpl else unit.folder
            prep = prepare(tmpl, unit.template["name"], folder, self.run_dir, self.code_path, self.scripts)
            max_duration = ((unit.retry.get("backoff") or {}) if isinstance(unit.retry, dict) else {}).get("maxDuration")
            if not first and max_duration:
                # operator.go processNodeRetries: from the second attempt on, the first attempt's start +
                # maxDuration is the pod's executionDeadline (activeDeadlineSeconds, ARGO_DEADLINE)
                left = unit.t0 + parse_duration(max_duration) - time.monotonic()
                if prep.timeout is None or left < prep.timeout:
                    prep.timeout, prep.timeout_message = max(left, 0.0), "Step exceeded its deadline"
                at = datetime.now(timezone.utc) + timedelta(seconds=max(left, 0.0))
                prep.env["ARGO_DEADLINE"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            prep.on_exit = self.exit_pod(unit)
            if (tmpl.get("inputs") or {}).get("artifacts") or (tmpl.get("outputs") or {}).get("artifacts"):
                key = f"{self.wf_scope['workflow.name']}/{scope['pod.name']}"  # Argo's DefaultArchivePattern
                prep.artifacts = repository.plan(tmpl, unit.artifacts, folder, self.store, key, prep.env, inside)
        except (ExprError, TaskError, repository.ArtifactError) as e:
            return self.finish_unit(unit, Outcome("Error", str(e)))
        res.log_path = folder / "stdout.log"
        if first:
            self.report("task_started", res)
        self.running += 1
        if not unit.locked:  # a retried task keeps its mutex/semaphore through the back-off: Argo's
            self.locks.take(unit.template)  # Retry node holds it until it is fulfilled (dag.go executeDAGTask)
            unit.locked = True
        for d in self._dags(unit):
            d.active += 1
        fut = self.pool.submit(execute, prep, self.procs, self._output_sink(res))
        fut.add_done_callback(lambda f, u=unit: self._notify(u, f))

    def _notify(self, unit: Unit, fut: Future) -> None:
        with self.cond:
            self.completed.append((unit, fut))
            self.cond.notify()

    def _attempt_done(self, unit: Unit, out: Outcome) -> None:
        # operator.go processNodeRetries: attempts > limit stops; wait duration * factor**(attempts-1),
        # capped; maxDuration counts from the first attempt's start
        if unit.retry and out.phase in ("Failed", "Error"):  # a pod node of its own under the Retry node
            unit.res.failed_attempts.append((unit.res.attempts - 1, out.phase, out.message, utc_now()))
        if self.expired:
            return self.finish_unit(unit, self.deadline_outcome())
        if self.stopping and not self.exit_pod(unit):
            return self.finish_unit(unit, out if out.phase == "Succeeded" else Outcome(
                "Failed", STOPPED_RUNNING, out.outputs, out.stdout, out.exit_code))
        policy = str(unit.retry.get("retryPolicy") or "OnFailure")
        retryable = {"Always": ("Failed", "Error"), "OnFailure": ("Failed",), "OnError": ("Error",)}
        limit = unit.retry.get("limit")
        if (not unit.retry or out.phase not in retryable.get(policy, ()) or not _retry_expression(unit.retry, out)
                or (limit not in (None, "") and unit.res.attempts > int(limit)) or self.procs.cancelled):
            return self.finish_unit(unit, out)
        backoff = unit.retry.get("backoff") or {}
        delay = 0.0
        try:
            if backoff.get("duration"):
                delay = parse_duration(backoff["duration"])
                factor = float(backoff.get("factor") or 0)
                if factor > 0:
                    delay *= factor ** (unit.res.attempts - 1)
                if backoff.get("cap"):
                    delay = min(delay, parse_duration(backoff["cap"]))
            if backoff.get("maxDuration"):
                deadline = unit.t0 + parse_duration(backoff["maxDuration"])
                if time.monotonic() > deadline or time.monotonic() + delay > deadline:
                    out.message = ("Max duration limit exceeded" if time.monotonic() > deadline
                                   else "Backoff would exceed max duration limit") + f" (last attempt: {out.message})"
                    return self.finish_unit(unit, out)
        except ExprError as e:
            return self.finish_unit(unit, Outcome("Error", f"retryStrategy: {e}"))
        unit.res.message = out.message
        self.report("task_retrying", unit.res, delay)
        heapq.heappush(self.delayed, (time.monotonic() + delay, id(unit), unit))

    def finish_unit(self, unit: Unit, out: Outcome) -> None:
        res = unit.res
        if unit.locked:
            self.locks.give(unit.template)
            unit.locked = False
        res.phase, res.message, res.outputs = out.phase, out.message, out.outputs
        res.artifacts = {k: repository.local_path(self.store, v) for k, v in out.artifacts.items()}
        unit.artifact_keys = out.artifacts
        if out.phase == "Succeeded" and unit.memo is not None and self.memo is not None and not res.cached:
            saved = dict(out.outputs, **({_STR_MARK: ""} if out.str_result else {}))
            # Argo saves the node's outputs: parameters, and artifacts by location
            note = self.memo.save(unit.memo, saved, res.name, out.artifacts, self.store.path)
            if note:
                res.cache += f" ({note})"
        unit.stdout, unit.exit_code, unit.done = out.stdout, out.exit_code, True
        res.started = res.started or utc_now()
        res.finished = utc_now()
        res.duration_s = round(time.monotonic() - unit.t0, 3) if unit.t0 else 0.0
        # a template without a `result` output parameter: its result is its stdout (Argo's outputs.result),
        # or the value heraspec's script sent as the artifact `result` (`result: artifact`)
        if out.str_result and "result" in out.outputs:  # the script marked a str result (PATH.str)
            res.result = out.outputs["result"]
        elif "result" in out.outputs or "result" not in out.artifacts:
            res.result = decode_output(out.outputs["result"] if "result" in out.outputs else out.stdout)
        else:
            res.result = decode_output(repository.value_text(self.store, out.artifacts["result"]))
        if unit.task.res is not res:
            self.report("task_finished", res)


# --- entry points --------------------------------------------------------------------------------

def _workflow_spec(manifest: dict) -> dict:
    kind = manifest.get("kind", "Workflow") if isinstance(manifest, dict) else None
    if kind == "CronWorkflow":
        spec = (manifest.get("spec") or {}).get("workflowSpec")
    elif kind in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate"):
        spec = manifest.get("spec")
    else:
        raise RunError(f"cannot run a manifest of kind {kind!r}: expected Workflow, WorkflowTemplate, "
                       "ClusterWorkflowTemplate or CronWorkflow")
    if not isinstance(spec, dict) or not spec.get("templates"):
        raise RunError("the manifest has no workflow spec with templates")
    return spec


def _parameters(spec: dict, given: dict[str, str]) -> dict[str, str]:
    declared = {p["name"]: p for p in as_list((spec.get("arguments") or {}).get("parameters"))}
    for name in given:
        if name not in declared:
            users = [n for n in declared if not n.startswith("heraspec-code")]  # not the carried code (argo/code.py)
            takes = ", ".join(users) if users else "no parameters"
            raise UsageError(f"unknown parameter {name!r} (-p): this workflow takes {takes}")
    values: dict[str, str] = {}
    for name, p in declared.items():
        if name in given:
            values[name] = str(given[name])
        elif "value" in p:
            values[name] = str(p["value"])
        elif "valueFrom" in p:
            raise UsageError(f"parameter {name!r} comes from {next(iter(p['valueFrom']))}, which heraspec run "
                             f"cannot read: pass -p {name}=VALUE")
        else:
            raise UsageError(f"parameter {name!r} has no value: pass -p {name}=VALUE")
        if p.get("enum") and values[name] not in [str(e) for e in p["enum"]]:
            raise UsageError(f"parameter {name!r} must be one of {', '.join(map(str, p['enum']))}, "
                             f"not {values[name]!r}")
    return values


def _requests(template: dict) -> tuple[str, str] | None:
    c = template.get("script") or template.get("container") or {}
    req = (c.get("resources") or {}).get("requests") or {}
    return (str(req.get("cpu")), str(req.get("memory"))) if req else None


def _notes(spec: dict, templates: dict[str, dict]) -> list[str]:
    py = f"{sys.version.split()[0]} at {sys.executable}"
    notes = [f"images are not used locally: tasks run with this Python ({py}) and this machine's commands"]
    entry = templates.get(str(spec.get("entrypoint")), {})
    tasks = as_list((entry.get("dag") or {}).get("tasks"))
    default = [t for t in tasks if _requests(templates.get(t.get("template"), {})) == ("1", "4Gi")]
    if default:
        # resources are not limited locally; say what a cluster will be asked for before it is
        notes.append(f"on a cluster, {len(default)} of {len(tasks)} tasks request 1 CPU and 4Gi of memory each "
                     "(heraspec's default, per item of a fan-out): set resources in the spec to change it")
    for name, t in templates.items():
        if (t.get("retryStrategy") or {}).get("expression"):
            notes.append(f"template {name!r}: retryStrategy.expression is ignored locally")
        if any((t.get(k) or {}).get("envFrom") for k in ("script", "container")):
            notes.append(f"template {name!r}: envFrom is ignored locally")
        # what Argo does around a task that this runner cannot: say so by name, once, instead of
        # letting the run succeed as if it had happened
        for key, what in (("initContainers", "init containers"), ("sidecars", "sidecars")):
            if t.get(key):
                notes.append(f"template {name!r}: {what} ({key}) are not run locally")
        res = (t.get("script") or t.get("container") or {}).get("resources") or {}
        gpus = sorted({k for part in ("limits", "requests") for k in (res.get(part) or {}) if "gpu" in str(k).lower()})
        if gpus:  # resources are not reserved locally: say so before a GPU job quietly runs on the CPU
            notes.append(f"template {name!r} asks for {', '.join(gpus)}: locally no GPU is reserved for it; it runs "
                         "with whatever this machine has (on the CPU when there is no GPU, which may be slow)")
        if t.get("daemon"):
            notes.append(f"template {name!r}: daemon runs as an ordinary task locally (it is waited for)")
        for task in as_list((t.get("dag") or {}).get("tasks")) + [s for group in as_list(t.get("steps"))
                                                                   for s in as_list(group)]:
            other = sorted(k for k in (task.get("hooks") or {}) if k != "exit") if isinstance(task, dict) else []
            if other:  # the exit hook runs (_dagstate); hooks on other events do not
                notes.append(f"task {task.get('name')!r}: lifecycle hooks {', '.join(map(repr, other))} are not run locally")
    if spec.get("hooks"):
        notes.append(f"workflow lifecycle hooks {', '.join(map(repr, sorted(spec['hooks'])))} (spec.hooks) are not run locally")
    return notes


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
    """spec.onExit, after the entrypoint ended, with workflow.status/failures/duration set (_exit.py)."""
    from . import _exit

    status = root.status()
    scope = dict(wf_scope)
    scope["workflow.status"] = status
    scope["workflow.duration"] = f"{time.monotonic() - started:f}"
    scope["workflow.failures"] = _exit.failures(root, wf_scope["workflow.name"], str(spec.get("entrypoint", "")),
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
    return _exit.exit_result(dag)


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
    spec = _workflow_spec(manifest)
    params = _parameters(spec, parameters or {})
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
        reporter.run_started(name, run_dir, _notes(spec, runner.templates) + production_notes(spec, runner.templates,
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
    message = STOPPED_WORKFLOW if runner.stopping and phase != "Succeeded" else ""
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
