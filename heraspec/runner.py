"""Run a compiled Argo manifest on this machine, no cluster: what runs locally is what Argo would run.

The entrypoint's DAG is executed with Argo's semantics (``depends``/``dependencies``, ``when``,
``withItems``/``withParam``/``withSequence`` fan-out with aggregated outputs, ``retryStrategy``,
``timeout``/``activeDeadlineSeconds``, ``continueOn``, ``dag.target``, nested DAG templates,
``spec.templateDefaults``, ``spec.parallelism`` and DAG-template ``parallelism``). The workflow is
Failed when a target task (``dag.target``, else every task nothing depends on) Failed or Errored, an
Omitted target counting as its failed ancestor, as Argo does; other branches always run to the end
(``dag.failFast`` is not honoured).

Local choices, where a cluster has no equivalent:
- Images are never used. Script and container templates run ``command`` (+ the script file) +
  ``args`` as a subprocess: ``python``/``python3`` is this interpreter (``sys.executable``), anything
  else must be on PATH, or the task ends in Error saying so.
- Every attempt runs in its own fresh folder ``<run_dir>/<task>[/<item index>][/attempt-N]`` which
  is its working directory and holds ``stdout.log`` and ``stderr.log``. Environment: the template's
  ``env`` plus PATH, HOME, TMPDIR (inside the folder) and HERASPEC_RESULT_PATH. An env var taken
  ``valueFrom`` a Secret/ConfigMap/field is passed through from heraspec's own environment when a
  variable of that name is set there, else the task ends in Error naming what to set; ``envFrom`` is
  ignored.
- Declared paths are mapped into the run folder: output parameter/artifact paths and input
  artifact paths to ``<attempt folder>/<path>``, volume mounts to ``<run_dir>/volumes/<volume>``
  (shared by all tasks). Literal occurrences of those paths in the script source, command, args and
  env values are rewritten, except the ``result`` path in sources that read HERASPEC_RESULT_PATH
  (heraspec's scripts), which is set to the mapped result path instead. Nothing is written outside
  the run folder by heraspec; scripts that write elsewhere on purpose are not sandboxed.
- ``{{retries}}`` is the attempt number from 0; a retryStrategy without ``limit`` retries for ever,
  as in Argo (bounded only by ``backoff.maxDuration``). Argo's ``Error`` (a task that could not be started)
  is a task phase; the workflow's phase is Succeeded or Failed.
- The run folder is ``workdir`` (must be absent or empty) or a fresh ``./.heraspec/runs/<name>-<time>``;
  it ends with ``summary.json``, and each attempt folder with ``outputs.json``. ``keep=False``
  (cli_run without ``--keep``) then prunes every other file: logs and outputs stay.
Not supported: steps, resource, suspend, http, data, plugin and containerSet templates, templateRef,
non-raw input artifacts, ``{{=expr}}`` tags, ``retryStrategy.expression`` (ignored), onExit hooks,
daemons and the workflow-level activeDeadlineSeconds.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from heraspec.errors import HeraspecError, UsageError
from heraspec.expr import (Dep, ExprError, depends_names, eval_depends, eval_when, go_json, item_str,
                           parse_depends, parse_duration, substitute)

if TYPE_CHECKING:
    from heraspec.progress import Reporter

__all__ = ["TaskResult", "RunResult", "RunError", "run_workflow", "cli_run", "prune_run_dir"]

DONE = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
_UNSUPPORTED = ("steps", "resource", "suspend", "http", "data", "plugin", "containerSet")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")


class RunError(HeraspecError):
    """The manifest cannot be run at all (no entrypoint, unknown template, a dependency cycle...)."""


@dataclass
class TaskResult:
    name: str
    phase: str = "Pending"
    started: datetime | None = None
    finished: datetime | None = None
    duration_s: float = 0.0
    result: Any = None
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    log_path: Path | None = None
    children: list[TaskResult] = field(default_factory=list)
    attempts: int = 0


@dataclass
class RunResult:
    phase: str
    tasks: dict[str, TaskResult]
    run_dir: Path
    duration_s: float
    workflow_name: str = ""


class _TaskError(Exception):
    """This task cannot run locally; it ends in Error with this message."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class _Outcome:
    phase: str
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str | None = None
    exit_code: int | None = None


@dataclass
class _Prep:
    argv: list[str]
    env: dict[str, str]
    folder: Path
    timeout: float | None
    files: dict[Path, str]
    mkdirs: list[Path]
    outputs: list[tuple[str, Path | None, str | None]]  # name, mapped path, default


class _Unit:
    """One execution of a template for one task or loop item: a pod (with retries) or a nested DAG."""

    def __init__(self, dag: _Dag, task: _Task, res: TaskResult, template: dict, folder: Path):
        self.dag, self.task, self.res, self.template, self.folder = dag, task, res, template, folder
        self.inputs: dict[str, str] = {}
        self.done = False
        self.stdout: str | None = None
        self.exit_code: int | None = None
        self.t0 = 0.0
        self.retry: dict = {}
        self.inner: _Dag | None = None


class _Task:
    def __init__(self, spec: dict, prefix: str):
        self.spec = spec
        self.name: str = spec["name"]
        self.res = TaskResult(prefix + self.name)
        if spec.get("depends"):
            self.tree: Dep | None = parse_depends(str(spec["depends"]))
        elif spec.get("dependencies"):
            self.tree = parse_depends(" && ".join(spec["dependencies"]))
        else:
            self.tree = None
        self.deps = depends_names(self.tree) if self.tree else set()
        self.units: list[_Unit] = []
        self.fanout = False
        self.state = "pending"
        self.t0 = 0.0

    def continues_on(self, phase: str) -> bool:
        c = self.spec.get("continueOn") or {}
        return (phase == "Failed" and bool(c.get("failed"))) or (phase == "Error" and bool(c.get("error")))


class _Dag:
    """The state of one DAG template invocation; advanced by the runner's loop."""

    def __init__(self, run: _Runner, template: dict, inputs: dict[str, str], folder: Path, prefix: str):
        self.run, self.folder, self.prefix = run, folder, prefix
        self.template = template
        self.tasks: dict[str, _Task] = {}
        self.parent: _Dag | None = None
        for spec in template["dag"].get("tasks") or []:
            try:
                self.tasks[spec["name"]] = _Task(spec, prefix)
            except ExprError as e:
                raise RunError(f"template {template['name']!r}, task {spec['name']!r}: {e}") from None
        self.scope = dict(run.wf_scope)
        self.scope.update({f"inputs.parameters.{k}": v for k, v in inputs.items()})
        self.limit = int(template["parallelism"]) if template.get("parallelism") else None
        self.active = 0
        self.done = False
        self._check()
        try:
            target = substitute(str(template["dag"].get("target") or ""), self.scope)
        except ExprError as e:
            raise RunError(f"template {template['name']!r}: dag.target: {e}") from None
        self.targets = target.replace(",", " ").split()
        if self.targets:
            # Argo runs only the targets and what they need.
            unknown = [n for n in self.targets if n not in self.tasks]
            if unknown:
                raise RunError(f"template {template['name']!r}: unknown dag.target {', '.join(unknown)}")
            needed, todo = set(), list(self.targets)
            while todo:
                name = todo.pop()
                if name not in needed:
                    needed.add(name)
                    todo.extend(self.tasks[name].deps)
            self.tasks = {n: t for n, t in self.tasks.items() if n in needed}

    def _check(self) -> None:
        where = f"template {self.template['name']!r}"
        for t in self.tasks.values():
            unknown = t.deps - set(self.tasks)
            if unknown:
                raise RunError(f"{where}: task {t.name!r} depends on unknown task(s) {', '.join(sorted(unknown))}")
            if "templateRef" in t.spec or "inline" in t.spec:
                raise RunError(f"{where}: task {t.name!r}: templateRef/inline are not supported by heraspec run")
            if t.spec.get("template") not in self.run.templates:
                raise RunError(f"{where}: task {t.name!r} uses unknown template {t.spec.get('template')!r}")
        seen: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if seen.get(name) == 2:
                return
            if seen.get(name) == 1:
                raise RunError(f"{where}: dependency cycle {' -> '.join(path + (name,))}")
            seen[name] = 1
            for d in sorted(self.tasks[name].deps):
                visit(d, path + (name,))
            seen[name] = 2

        for name in self.tasks:
            visit(name, ())

    # --- depends and phases ------------------------------------------------------------------

    def _check_dep(self, name: str, result: str | None) -> bool:
        t = self.tasks[name]
        ph = t.res.phase
        kids = [c.phase for c in t.res.children] if t.fanout else [ph]
        if result is None:
            return ph in ("Succeeded", "Skipped") or t.continues_on(ph)
        if result == "AnySucceeded":
            return "Succeeded" in kids
        if result == "AllFailed":
            return bool(kids) and all(k in ("Failed", "Error") for k in kids)
        return ph == {"Errored": "Error", "Daemoned": "-"}.get(result, result)

    def _branch_phase(self, name: str) -> str:
        t = self.tasks[name]
        if t.res.phase != "Omitted":
            return t.res.phase
        failing = [p for p in (self._branch_phase(d) for d in sorted(t.deps)) if p in ("Failed", "Error")]
        return failing[0] if failing else "Succeeded"

    def phase(self) -> str:
        target = self.targets
        if not target:
            needed = set().union(*(t.deps for t in self.tasks.values())) if self.tasks else set()
            target = [n for n in self.tasks if n not in needed]
        for name in target:
            if name in self.tasks:
                bp = self._branch_phase(name)
                if bp in ("Failed", "Error") and not self.tasks[name].continues_on(bp):
                    return "Failed"
        return "Succeeded"

    # --- advancing ---------------------------------------------------------------------------

    def advance(self) -> bool:
        changed = False
        for t in self.tasks.values():
            if t.state == "pending" and all(self.tasks[d].state == "done" for d in t.deps):
                changed = True
                if t.tree is not None and not eval_depends(t.tree, self._check_dep):
                    self._finish_task(t, "Omitted", "depends not satisfied: " + str(t.spec.get("depends")
                                                                                 or t.spec.get("dependencies")))
                else:
                    self._launch(t)
            if t.state == "running":
                for u in t.units:
                    if u.inner is not None and not u.done:
                        while u.inner.advance():
                            changed = True
                        if u.inner.done:
                            self.run.finish_unit(u, self._dag_outcome(u))
                if all(u.done for u in t.units):
                    self._complete(t)
                    changed = True
        if not self.done and all(t.state == "done" for t in self.tasks.values()):
            self.done = True
            changed = True
        return changed

    def _launch(self, t: _Task) -> None:
        t.state, t.t0 = "running", time.monotonic()
        t.res.started = _now()
        spec, scope = t.spec, self.scope
        when = str(spec["when"]) if spec.get("when") not in (None, "") else None
        try:
            if when is not None and "{{item" not in when.replace(" ", ""):
                text = substitute(when, scope)
                if not eval_when(text):
                    return self._finish_task(t, "Skipped", f"when '{text}' evaluated false")
                when = None
            items = self._items(spec, scope)
        except ExprError as e:
            return self._finish_task(t, "Error", str(e))
        folder = self.folder / t.name
        if items is None:
            self._start_unit(t, t.res, scope, when, folder)
        elif not items:
            return self._finish_task(t, "Skipped", "Skipped, empty params")
        else:
            t.fanout = True
            for i, item in enumerate(items):
                s = dict(scope)
                s["item"] = item_str(item)
                desc = s["item"]
                if isinstance(item, dict):
                    s.update({f"item.{k}": item_str(v) for k, v in item.items()})
                    desc = ",".join(f"{k}:{item_str(item[k])}" for k in sorted(item))
                child = TaskResult(f"{self.prefix}{t.name}({i}:{desc})")
                t.res.children.append(child)
                self._start_unit(t, child, s, when, folder / str(i))
        if t.fanout or "dag" in self.run.templates[spec["template"]]:
            self.run.report("task_started", t.res)

    def _items(self, spec: dict, scope: dict[str, str]) -> list | None:
        if "withItems" in spec:
            return substitute(_as_list(spec["withItems"]), scope)
        if "withParam" in spec:
            text = substitute(str(spec["withParam"]), scope)
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not isinstance(value, list):
                raise ExprError(f"withParam must be a JSON list, got {text[:200]!r}")
            return value
        if "withSequence" in spec:
            seq = substitute(spec["withSequence"] or {}, scope)
            fmt = seq.get("format") or "%d"
            start = int(seq.get("start") or 0)
            if seq.get("count") not in (None, ""):
                nums = list(range(start, start + int(seq["count"])))
            else:
                end = int(seq.get("end") or 0)
                nums = list(range(start, end + 1)) if end >= start else list(range(start, end - 1, -1))
            try:
                return [fmt % n for n in nums]
            except (TypeError, ValueError):
                raise ExprError(f"withSequence format {fmt!r} is not supported") from None
        return None

    def _start_unit(self, t: _Task, res: TaskResult, scope: dict[str, str], when: str | None,
                    folder: Path) -> None:
        template = self.run.templates[t.spec["template"]]
        unit = _Unit(self, t, res, template, folder)
        t.units.append(unit)
        try:
            if when is not None:
                text = substitute(when, scope)
                if not eval_when(text):
                    res.started = _now()
                    return self.run.finish_unit(unit, _Outcome("Skipped", f"when '{text}' evaluated false"))
            args = substitute((t.spec.get("arguments") or {}).get("parameters") or [], scope)
            unit.inputs = _inputs(template, {a["name"]: str(a.get("value", "")) for a in args})
        except (ExprError, _TaskError) as e:
            res.started = _now()
            return self.run.finish_unit(unit, _Outcome("Error", str(e)))
        if "dag" in template:
            res.started = _now()
            unit.inner = _Dag(self.run, template, unit.inputs, folder, f"{res.name}.")
            unit.inner.parent = self
            return
        self.run.enqueue(unit)

    def _dag_outcome(self, u: _Unit) -> _Outcome:
        inner = u.inner
        assert inner is not None
        u.res.children = [x.res for x in inner.tasks.values()]
        phase = inner.phase()
        outputs: dict[str, str] = {}
        try:
            for p in _as_list((u.template.get("outputs") or {}).get("parameters")):
                vf = p.get("valueFrom") or {}
                if "parameter" in vf:
                    outputs[p["name"]] = substitute(str(vf["parameter"]), inner.scope)
        except ExprError as e:
            if phase == "Succeeded":
                return _Outcome("Error", str(e))
        return _Outcome(phase, "" if phase == "Succeeded" else "a task of this DAG failed", outputs)

    def _complete(self, t: _Task) -> None:
        if not t.fanout:
            u = t.units[0]
            t.t0 = u.t0 or t.t0
            return self._finish_task(t, t.res.phase, t.res.message, u.stdout, u.exit_code)
        kids = [u.res for u in t.units]
        phases = {k.phase for k in kids}
        phase = next((p for p in ("Failed", "Error") if p in phases), None)
        phase = phase or ("Skipped" if phases == {"Skipped"} else "Succeeded")
        ok = [u for u in t.units if u.res.phase == "Succeeded"]
        agg: dict[str, str] = {}
        for n in dict.fromkeys(n for u in ok for n in u.res.outputs):
            values = [u.res.outputs[n] for u in ok if n in u.res.outputs]
            try:
                agg[n] = go_json([json.loads(v) for v in values])
            except ValueError:
                agg[n] = go_json(values)
        t.res.outputs = agg
        p = f"tasks.{t.name}.outputs"
        self.scope[f"{p}.parameters"] = go_json([u.res.outputs for u in ok if u.res.outputs])
        self.scope[f"{p}.result"] = go_json([_decode(u.stdout) for u in ok if u.stdout is not None])
        bad = [k for k in kids if k.phase in ("Failed", "Error")]
        msg = f"{len(bad)} of {len(kids)} failed" if bad else ""
        t.res.attempts = sum(k.attempts for k in kids)
        self._finish_task(t, phase, msg)

    def _finish_task(self, t: _Task, phase: str, message: str, stdout: str | None = None,
                     exit_code: int | None = None) -> None:
        t.state = "done"
        r = t.res
        r.phase, r.message = phase, message
        r.started = r.started or _now()
        r.finished = _now()
        r.duration_s = round(time.monotonic() - t.t0, 3) if t.t0 else 0.0
        r.result = _decode(r.outputs.get("result"))
        p = f"tasks.{t.name}"
        self.scope[f"{p}.status"] = phase
        self.scope[f"{p}.startedAt"] = r.started.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.scope[f"{p}.finishedAt"] = r.finished.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.scope.update({f"{p}.outputs.parameters.{k}": v for k, v in r.outputs.items()})
        if stdout is not None:
            self.scope[f"{p}.outputs.result"] = stdout
        if exit_code is not None:
            self.scope[f"{p}.exitCode"] = str(exit_code)
        self.run.report("task_finished", r)


def _inputs(template: dict, given: dict[str, str]) -> dict[str, str]:
    out = {}
    for p in _as_list((template.get("inputs") or {}).get("parameters")):
        name = p["name"]
        if name in given:
            out[name] = given[name]
        elif "value" in p:
            out[name] = str(p["value"])
        elif "default" in p:
            out[name] = str(p["default"])
        else:
            raise _TaskError(f"input parameter {name!r} of template {template['name']!r} has no value")
    return out


class _Runner:
    """Starts pods (one attempt each) on a thread pool from a single loop that owns all state."""

    def __init__(self, spec: dict, wf_scope: dict[str, str], run_dir: Path, limit: int,
                 reporter: Reporter | None):
        defaults = spec.get("templateDefaults") or {}
        self.templates = {t["name"]: _deep_merge(defaults, t) if defaults else t
                          for t in _as_list(spec.get("templates"))}
        self.wf_scope, self.run_dir, self.limit, self.reporter = wf_scope, run_dir, limit, reporter
        self.cond = threading.Condition()
        self.completed: list[tuple[_Unit, Future]] = []
        self.ready: list[_Unit] = []
        self.delayed: list[tuple[float, int, _Unit]] = []
        self.running = 0
        self.procs: set[subprocess.Popen] = set()
        self.cancelled = False
        self.pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="heraspec-task")

    def report(self, event: str, res: TaskResult, *args: Any) -> None:
        if self.reporter is not None:
            getattr(self.reporter, event)(res, *args)

    def enqueue(self, unit: _Unit) -> None:
        self.ready.append(unit)

    def _dags(self, unit: _Unit) -> list[_Dag]:
        out, d = [], unit.dag
        while d is not None:
            out.append(d)
            d = d.parent
        return out

    def _can_start(self, unit: _Unit) -> bool:
        return self.running < self.limit and all(d.limit is None or d.active < d.limit
                                                 for d in self._dags(unit))

    def loop(self, root: _Dag) -> None:
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
                while self.delayed and self.delayed[0][0] <= now:
                    self.ready.append(heapq.heappop(self.delayed)[2])
                for unit in list(self.ready):
                    if self._can_start(unit):
                        self.ready.remove(unit)
                        self._begin(unit)
                if root.done and not self.running and not self.ready and not self.delayed:
                    return
                with self.cond:
                    if not self.completed:
                        wait = self.delayed[0][0] - time.monotonic() if self.delayed else 1.0
                        self.cond.wait(max(0.0, min(wait, 1.0)))
        finally:
            self.cancelled = True
            with self.cond:
                for proc in list(self.procs):
                    _kill(proc)
            self.pool.shutdown(wait=True)

    def _begin(self, unit: _Unit) -> None:
        res = unit.res
        res.attempts += 1
        first = res.attempts == 1
        if first:
            unit.t0, res.started = time.monotonic(), _now()
        scope = dict(self.wf_scope)
        scope.update({f"inputs.parameters.{k}": v for k, v in unit.inputs.items()})
        scope["inputs.parameters"] = go_json([{"name": k, "value": v} for k, v in unit.inputs.items()])
        scope["retries"] = str(res.attempts - 1)
        scope["pod.name"] = f"{self.wf_scope['workflow.name']}-{res.name}-{res.attempts}"
        try:
            tmpl = substitute({k: v for k, v in unit.template.items() if k != "name"}, scope)
            unit.retry = tmpl.get("retryStrategy") or {}
            folder = unit.folder / f"attempt-{res.attempts}" if "retryStrategy" in tmpl else unit.folder
            prep = self._prepare(tmpl, unit.template["name"], folder)
        except (ExprError, _TaskError) as e:
            return self.finish_unit(unit, _Outcome("Error", str(e)))
        res.log_path = folder / "stdout.log"
        if first:
            self.report("task_started", res)
        self.running += 1
        for d in self._dags(unit):
            d.active += 1
        fut = self.pool.submit(self._execute, prep)
        fut.add_done_callback(lambda f, u=unit: self._notify(u, f))

    def _notify(self, unit: _Unit, fut: Future) -> None:
        with self.cond:
            self.completed.append((unit, fut))
            self.cond.notify()

    def _attempt_done(self, unit: _Unit, out: _Outcome) -> None:
        policy = str(unit.retry.get("retryPolicy") or "OnFailure")
        retryable = {"Always": ("Failed", "Error"), "OnFailure": ("Failed",), "OnError": ("Error",)}
        limit = unit.retry.get("limit")
        if (not unit.retry or out.phase not in retryable.get(policy, ())
                or (limit not in (None, "") and unit.res.attempts > int(limit)) or self.cancelled):
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
                if time.monotonic() + delay > deadline:
                    out.message += " (retries stopped: backoff maxDuration exceeded)"
                    return self.finish_unit(unit, out)
        except ExprError as e:
            return self.finish_unit(unit, _Outcome("Error", f"retryStrategy: {e}"))
        unit.res.message = out.message
        self.report("task_retrying", unit.res, delay)
        heapq.heappush(self.delayed, (time.monotonic() + delay, id(unit), unit))

    def finish_unit(self, unit: _Unit, out: _Outcome) -> None:
        res = unit.res
        res.phase, res.message, res.outputs = out.phase, out.message, out.outputs
        unit.stdout, unit.exit_code, unit.done = out.stdout, out.exit_code, True
        res.started = res.started or _now()
        res.finished = _now()
        res.duration_s = round(time.monotonic() - unit.t0, 3) if unit.t0 else 0.0
        res.result = _decode(out.outputs.get("result"))
        if unit.task.res is not res:
            self.report("task_finished", res)

    # --- one attempt -------------------------------------------------------------------------

    def _prepare(self, t: dict, name: str, folder: Path) -> _Prep:
        kind = "script" if "script" in t else "container" if "container" in t else None
        if kind is None:
            what = next((k for k in _UNSUPPORTED if k in t), "this kind of")
            raise _TaskError(f"template {name!r}: {what} templates are not supported by heraspec run")
        c = t[kind] or {}
        outs = t.get("outputs") or {}
        mapping: dict[str, Path] = {}
        files: dict[Path, str] = {}
        for a in _as_list((t.get("inputs") or {}).get("artifacts")):
            if "raw" not in a or not a.get("path"):
                raise _TaskError(f"input artifact {a.get('name')!r}: only raw artifacts can be used locally")
            mapping[a["path"]] = folder / a["path"].lstrip("/")
            files[mapping[a["path"]]] = str(a["raw"].get("data", ""))
        for p in _as_list(outs.get("parameters")) + _as_list(outs.get("artifacts")):
            path = (p.get("valueFrom") or {}).get("path") or p.get("path")
            if path:
                mapping[path] = folder / path.lstrip("/")
        for vm in _as_list(c.get("volumeMounts")):
            mapping[vm["mountPath"]] = self.run_dir / "volumes" / vm["name"] / str(vm.get("subPath") or "")
        result_path = (folder / "tmp/heraspec/result.json", "")
        for p in _as_list(outs.get("parameters")):
            if p["name"] == "result" and (p.get("valueFrom") or {}).get("path"):
                result_path = (mapping[p["valueFrom"]["path"]], p["valueFrom"]["path"])
        source = c.get("source")
        keep = {result_path[1]} if source and "HERASPEC_RESULT_PATH" in source else set()
        pattern = "|".join(re.escape(p) for p in sorted(set(mapping) - keep, key=len, reverse=True))
        regex = re.compile(rf"(?<![\w./-])({pattern})(?![\w.-])") if pattern else None

        def rewrite(s: str) -> str:
            return regex.sub(lambda m: str(mapping[m.group(1)]), s) if regex else s

        env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
        env.update(TMPDIR=str(folder / "tmp"), HERASPEC_RESULT_PATH=str(result_path[0]))
        for e in _as_list(c.get("env")):
            if "valueFrom" in e:
                if e["name"] not in os.environ:
                    ref = e["valueFrom"]
                    src = next(iter(ref), "valueFrom")
                    what = f"{src} {json.dumps(ref[src], sort_keys=True)}" if isinstance(ref.get(src), dict) else src
                    raise _TaskError(f"env var {e['name']} comes from {what}, which heraspec run cannot read; "
                                     f"set {e['name']} in heraspec's environment to provide it")
                env[e["name"]] = os.environ[e["name"]]
            else:
                env[e["name"]] = rewrite(str(e.get("value", "")))
        command = [rewrite(str(x)) for x in _as_list(c.get("command"))]
        args = [rewrite(str(x)) for x in _as_list(c.get("args"))]
        if not command:
            raise _TaskError(f"template {name!r} has no command: the image's entrypoint cannot be used locally")
        if kind == "script":
            script = folder / ("script.py" if _PYTHON.match(Path(command[0]).name) else "script")
            files[script] = rewrite(str(source or ""))
            command.append(str(script))
        if _PYTHON.match(Path(command[0]).name):
            command[0] = sys.executable
        elif shutil.which(command[0], path=env.get("PATH")) is None:
            raise _TaskError(f"command {command[0]!r} is not available on this machine; "
                             "heraspec run cannot run container tasks locally")
        limits = [parse_duration(t["timeout"])] if t.get("timeout") else []
        if t.get("activeDeadlineSeconds") not in (None, ""):
            limits.append(float(t["activeDeadlineSeconds"]))
        params = [(p["name"], mapping[p["valueFrom"]["path"]] if (p.get("valueFrom") or {}).get("path") else None,
                   (p.get("valueFrom") or {}).get("default", p.get("value")))
                  for p in _as_list(outs.get("parameters"))]
        mkdirs = [folder / "tmp"] + [p.parent for p in mapping.values()] + [p for p in mapping.values()
                                                                               if "volumes" in p.parts]
        return _Prep(command + args, env, folder, min(limits) if limits else None, files, mkdirs, params)

    def _execute(self, prep: _Prep) -> _Outcome:
        try:
            return self._attempt(prep)
        except Exception as e:  # a bug or an OS problem must end this task, not hang the run
            return _Outcome("Error", f"heraspec run could not run this task: {type(e).__name__}: {e}")

    def _attempt(self, prep: _Prep) -> _Outcome:
        for d in prep.mkdirs:
            d.mkdir(parents=True, exist_ok=True)
        for path, text in prep.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        out_log, err_log = prep.folder / "stdout.log", prep.folder / "stderr.log"
        timed_out = False
        with open(out_log, "wb") as fo, open(err_log, "wb") as fe:
            if self.cancelled:
                return _Outcome("Error", "cancelled")
            try:
                proc = subprocess.Popen(prep.argv, cwd=prep.folder, env=prep.env, stdin=subprocess.DEVNULL,
                                        stdout=fo, stderr=fe, start_new_session=True)
            except OSError as e:
                return _Outcome("Error", f"cannot start {prep.argv[0]!r}: {e}")
            with self.cond:
                self.procs.add(proc)
            try:
                rc = proc.wait(timeout=prep.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill(proc)
                rc = proc.wait()
            finally:
                with self.cond:
                    self.procs.discard(proc)
        stdout = out_log.read_text(errors="replace")
        stdout = stdout[:-1] if stdout.endswith("\n") else stdout
        if timed_out:
            return _Outcome("Failed", f"timed out after {prep.timeout:g}s (template timeout): killed", {}, stdout, rc)
        if rc != 0:
            tail = [ln for ln in err_log.read_text(errors="replace").splitlines() if ln.strip()][-1:]
            why = "cancelled" if self.cancelled else f"exit code {rc}" + (f": {tail[0][:300]}" if tail else "")
            return _Outcome("Failed", why, {}, stdout, rc)
        outputs: dict[str, str] = {}
        for name, path, default in prep.outputs:
            if path is not None and path.is_file():
                text = path.read_text(errors="replace")
                outputs[name] = text[:-1] if text.endswith("\n") else text
            elif default is not None:
                outputs[name] = str(default)
            else:
                return _Outcome("Error", f"output parameter {name!r}: {path} was not written", outputs, stdout, rc)
        (prep.folder / "outputs.json").write_text(json.dumps({"parameters": outputs, "result": stdout}, indent=2))
        return _Outcome("Succeeded", "", outputs, stdout, rc)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


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
    declared = {p["name"]: p for p in _as_list((spec.get("arguments") or {}).get("parameters"))}
    for name in given:
        if name not in declared:
            takes = ", ".join(declared) if declared else "no parameters"
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


def _notes(spec: dict, templates: dict[str, dict]) -> list[str]:
    py = f"{sys.version.split()[0]} at {sys.executable}"
    notes = [f"images are not used locally: tasks run with this Python ({py}) and this machine's commands"]
    if spec.get("onExit"):
        notes.append(f"the exit handler {spec['onExit']!r} (spec.onExit) is not run locally")
    for name, t in templates.items():
        if (t.get("retryStrategy") or {}).get("expression"):
            notes.append(f"template {name!r}: retryStrategy.expression is ignored locally")
        if any((t.get(k) or {}).get("envFrom") for k in ("script", "container")):
            notes.append(f"template {name!r}: envFrom is ignored locally")
    return notes


def _run_folder(workdir: str | Path | None, stem: str) -> Path:
    if workdir is not None:
        path = Path(workdir).resolve()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(f"run folder {path} already exists and is not empty: choose another --workdir")
        path.mkdir(parents=True, exist_ok=True)
        return path
    base = Path.cwd() / ".heraspec" / "runs"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = base / (f"{stem}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RunError(f"cannot create a fresh run folder under {base}")


def run_workflow(manifest: dict, *, parameters: dict[str, str] | None = None, parallelism: int | None = None,
                 workdir: str | Path | None = None, reporter: Reporter | None = None) -> RunResult:
    """Run the manifest's entrypoint in the run folder ``workdir`` (default: a fresh
    ``./.heraspec/runs/<workflow>-<timestamp>``). Raises UsageError for bad parameters and
    RunError for a manifest that cannot be run at all; task failures are results, not exceptions."""
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
                "workflow.uid": str(uuid.uuid4()), "workflow.creationTimestamp": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "workflow.serviceAccountName": str(spec.get("serviceAccountName") or "default"),
                "workflow.mainEntrypoint": str(spec.get("entrypoint", "")),
                "workflow.parameters": go_json([{"name": k, "value": v} for k, v in params.items()])}
    wf_scope.update({f"workflow.parameters.{k}": v for k, v in params.items()})
    wf_scope.update({f"workflow.labels.{k}": str(v) for k, v in (meta.get("labels") or {}).items()})
    wf_scope.update({f"workflow.annotations.{k}": str(v) for k, v in (meta.get("annotations") or {}).items()})
    run_dir = Path(workdir) if workdir else Path.cwd() / ".heraspec" / "runs" / "pending"
    runner = _Runner(spec, wf_scope, run_dir, limit, reporter)
    entry = spec.get("entrypoint")
    if entry not in runner.templates:
        raise RunError(f"entrypoint {entry!r} is not a template of this workflow")
    template = runner.templates[entry]
    if "dag" not in template:
        args = [{"name": p["name"], "value": "{{workflow.parameters.%s}}" % p["name"]}
                for p in _as_list((template.get("inputs") or {}).get("parameters")) if p["name"] in params]
        template = {"name": entry, "dag": {"tasks": [{"name": entry, "template": entry,
                                                      "arguments": {"parameters": args}}]}}
    try:
        inputs = _inputs(template, params)
    except _TaskError as e:
        raise RunError(str(e)) from None
    root = _Dag(runner, template, inputs, run_dir, "")
    run_dir = runner.run_dir = root.folder = _run_folder(workdir, stem)
    if reporter is not None:
        reporter.run_started(name, run_dir, _notes(spec, runner.templates))
    t0 = time.monotonic()
    runner.loop(root)
    result = RunResult(root.phase(), {n: t.res for n, t in root.tasks.items()}, run_dir,
                       round(time.monotonic() - t0, 3), name)
    from heraspec.progress import to_json

    (run_dir / "summary.json").write_text(json.dumps(to_json(result, {}), indent=2, default=str) + "\n")
    if reporter is not None:
        reporter.run_finished(result)
    return result


def prune_run_dir(run_dir: Path) -> None:
    """Delete the work files of a run, keeping logs, outputs.json files and summary.json."""
    for top, dirs, files in os.walk(run_dir, topdown=False):
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


def cli_run(manifest: dict, *, task_names: dict[str, str], parameters: dict[str, str], parallelism: int | None,
            as_json: bool, workdir: str | None, keep: bool, stdout: TextIO = sys.stdout,
            stderr: TextIO = sys.stderr) -> int:
    """``heraspec run``: progress and summary on stderr, ``--json`` summary on stdout; 0 or 1.

    Without ``keep`` the work folders are pruned after the run; logs and outputs stay."""
    from heraspec.progress import make_reporter, summary_text, to_json

    reporter = make_reporter(stderr, task_names)
    try:
        result = run_workflow(manifest, parameters=parameters, parallelism=parallelism, workdir=workdir,
                              reporter=reporter)
    except BaseException:  # Ctrl-C: the running tasks are already killed; leave the terminal clean
        getattr(reporter, "close", lambda: None)()
        raise
    if not keep:
        prune_run_dir(result.run_dir)
    stderr.write(summary_text(result, task_names))
    stderr.flush()
    if as_json:
        stdout.write(json.dumps(to_json(result, task_names), indent=2, default=str) + "\n")
        stdout.flush()
    return 0 if result.phase == "Succeeded" else 1
