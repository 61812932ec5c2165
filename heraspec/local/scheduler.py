"""The loop that runs a workflow's pods for `heraspec run` (`Runner`): it starts each unit that needs
a pod on a thread pool, one attempt at a time, within the run's, the DAGs' and the templates' limits
(parallelism, mutexes, semaphores), retries as operator.go ``processNodeRetries`` does (back-off,
``maxDuration`` as a deadline), applies the workflow's deadline and `argo stop`, reads memoized
results, and hands each ended unit back to its DAG (dagstate.py), which it advances.
"""

from __future__ import annotations

import heapq
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import repository, retries
from .attempt import LineSink, Outcome, Processes, TaskError, as_list, execute, inside, prepare
from .dagstate import Dag
from .expr import ExprError, go_json, parse_duration, substitute
from .memo import Memo
from .memo import content_digest as memo_digest, fill as memo_fill
from .results import STOPPED_PENDING, STOPPED_RUNNING, STOPPED_WORKFLOW, TaskResult, utc_now
from .sync import Locks
from .units import Unit, decode_output
from ..argo import scheduling
from ..merge import merge_mappings

if TYPE_CHECKING:
    from .progress import Reporter


_STR_MARK = "heraspec.str-result"  # kept with cached outputs: the result is a str (shown as one)


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
        self.deadline_at: datetime | None = None  # the same, as Argo's controller states it
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

    def _expired_for(self, unit: Unit) -> bool:
        """Past the workflow's deadline, and not an exit hook's pod: workflowpod.go build gives an onExit
        pod no workflow deadline, exec_control.go and failNodesWithoutCreatedPodsAfterDeadlineOrShutdown
        spare it (IsPartOfExitHandler); a hook's Retry node still ends at the deadline once an attempt
        failed (processNodeRetries)."""
        return self.expired and (not self.exit_pod(unit) or bool(unit.res.failed_attempts))

    def deadline_outcome(self, unit: Unit | None = None) -> Outcome:
        """A node at the workflow's deadline. executor.go's deadline monitor (running pods) and operator.go
        (pending nodes): "Step exceeded its deadline"; a Retry node with a failed attempt, processNodeRetries:
        "retry exceeded workflow deadline T" (getWorkflowDeadline: the start, to the second, plus the seconds)."""
        out = Outcome("Failed", f"the workflow's deadline ({self.deadline_s}s, activeDeadlineSeconds) was exceeded",
                      argo_message="Step exceeded its deadline")
        if unit is not None and unit.retry and unit.res.failed_attempts and self.deadline_at is not None:
            out.argo_message = f"retry exceeded workflow deadline {self.deadline_at:%Y-%m-%d %H:%M:%S} +0000 UTC"
        return out

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

    def halted(self, dag: Dag) -> None:
        """A DAG that failFast stopped (operator.go checkParallelism: ErrParallelismReached for every
        node under it from then on): its units waiting for a slot or a back-off never start."""
        def keep(u: Unit) -> bool:
            return all(d is not dag for d in self._dags(u))
        self.ready = [u for u in self.ready if keep(u)]
        kept = [e for e in self.delayed if keep(e[2])]
        if len(kept) != len(self.delayed):
            self.delayed = kept
            heapq.heapify(self.delayed)

    def _can_start(self, unit: Unit) -> bool:
        return self.running < self.limit and all(d.limit is None or d.active < d.limit
                                                 for d in self._dags(unit)) and (unit.locked or self.locks.free(unit.template))

    def loop(self, root: Dag) -> None:
        if self.deadline_s is not None:
            self.deadline = time.monotonic() + self.deadline_s
            self.deadline_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=self.deadline_s)
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
                    # spec.activeDeadlineSeconds: Argo stops the running pods and starts no more, but
                    # exit hooks' (exec_control.go: an onExit pod is not subject to the deadline)
                    self.expired = True
                    self.procs.stop()
                if self.stop_signal is not None and not self.stopping and not self.on_exit:
                    self.stopping = True
                    self.procs.stop()
                    getattr(self.reporter, "run_stopping", lambda _: None)(self.stop_signal)
                while self.delayed and (self.delayed[0][0] <= now or self.stopping or self.expired):
                    unit = heapq.heappop(self.delayed)[2]
                    if unit.final is not None and not self.stopping and not self.expired:
                        final, unit.final = unit.final, None  # its back-off waited out: it ends
                        self.finish_unit(unit, final)
                        self.progressed = True
                    else:
                        self.ready.append(unit)
                for unit in list(self.ready):
                    if self._expired_for(unit) or (self.stopping and not self.exit_pod(unit)) or self._can_start(unit):
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
        if self._expired_for(unit):
            return self.finish_unit(unit, self.deadline_outcome(unit))
        if self.stopping and not self.exit_pod(unit):
            res.started = res.started or utc_now()
            if unit.retry and res.failed_attempts:  # a Retry node in its back-off: every child fulfilled
                # operator.go failNodesWithoutCreatedPodsAfterDeadlineOrShutdown (and processNodeRetries)
                return self.finish_unit(unit, Outcome("Failed", STOPPED_WORKFLOW, argo_message=STOPPED_WORKFLOW))
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
            if tmpl.get("timeout") and parse_duration(tmpl["timeout"]) <= 2:
                return self._no_time_to_start(unit, first)
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

    def _no_time_to_start(self, unit: Unit, first: bool) -> None:
        """workflowpod.go build: a template `timeout` becomes the pod's activeDeadlineSeconds as
        int64(node start + timeout - now), and at 1 or less no pod is made: "NODE exceeded its
        deadline", so a timeout of 2s or less ends every attempt in Error before it starts. Without
        a retryPolicy that retries errors, operator.go executeTemplate returns the error and dag.go
        executeDAGTask marks the task node "task 'NODE' errored: …"; else the Retry node goes on."""
        res = unit.res
        if first:
            self.report("task_started", res)
        node = f"{self.wf_scope['workflow.name']}.{res.name}"
        pod = f"{node}({res.attempts - 1})" if unit.retry else node
        message = f"{pod} exceeded its deadline"
        out = Outcome("Error", f"{message}: on Argo a template timeout of 2s or less leaves the pod no time to "
                      "start (its activeDeadlineSeconds would be 1 or less), so none is created; use 3s or more",
                      argo_message=message)
        if unit.retry and retries.policy(unit.retry) in ("Always", "OnError", "OnTransientError"):
            return self._attempt_done(unit, out)
        if unit.retry:
            res.failed_attempts.append((res.attempts - 1, "Error", message, utc_now()))
        out.argo_message = f"task '{node}' errored: {message}"
        return self.finish_unit(unit, out)

    def _notify(self, unit: Unit, fut: Future) -> None:
        with self.cond:
            self.completed.append((unit, fut))
            self.cond.notify()

    def _attempt_done(self, unit: Unit, out: Outcome) -> None:
        stopped = self.stopping and not self.exit_pod(unit)
        if unit.retry and out.phase in ("Failed", "Error"):  # a pod node of its own under the Retry node
            pod = STOPPED_RUNNING if stopped else out.message if out.argo_message is None else out.argo_message
            if self.expired and out.message == "cancelled":  # killed at the workflow's deadline
                pod = self.deadline_outcome().argo_message or pod
            unit.res.failed_attempts.append((unit.res.attempts - 1, out.phase, pod, utc_now()))
        if self._expired_for(unit) or (self.expired and unit.retry and out.phase in ("Failed", "Error")):
            return self.finish_unit(unit, self.deadline_outcome(unit))
        if stopped:  # processNodeRetries: a stopped Retry node says "Stopped with strategy 'Stop'"
            return self.finish_unit(unit, out if out.phase == "Succeeded" else Outcome(
                "Failed", STOPPED_RUNNING, out.outputs, out.stdout, out.exit_code,
                argo_message=STOPPED_WORKFLOW if unit.retry else None))
        if not unit.retry or out.phase not in ("Failed", "Error") or self.procs.cancelled:
            return self.finish_unit(unit, out)
        try:  # operator.go processNodeRetries (retries.py)
            v = retries.verdict(unit.retry, out.phase, out.exit_code, unit.res.attempts, time.monotonic() - unit.t0)
        except (ExprError, ValueError) as e:  # executeTemplate: markNodeError(retryNodeName, retryErr)
            return self.finish_unit(unit, Outcome("Error", f"retryStrategy: {e}", argo_message=str(e)))
        if not v.retry:
            if v.message is not None:  # the Retry node's own message; else its last attempt's
                out.argo_message = v.message
                if v.message in (retries.MAX_DURATION, retries.BACKOFF_EXCEEDS):
                    out.message = f"{v.message} (last attempt: {out.message})"
            if v.wait <= 0:
                return self.finish_unit(unit, out)
            unit.final = out  # the controller waits out the back-off before it decides not to retry
        else:
            self.report("task_retrying", unit.res, v.wait)
        unit.res.message = out.message
        heapq.heappush(self.delayed, (time.monotonic() + v.wait, id(unit), unit))

    def finish_unit(self, unit: Unit, out: Outcome) -> None:
        res = unit.res
        if unit.locked:
            self.locks.give(unit.template)
            unit.locked = False
        res.phase, res.message, res.outputs = out.phase, out.message, out.outputs
        res.argo_message = out.argo_message
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
