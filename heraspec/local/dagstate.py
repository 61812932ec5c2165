"""The state of DAG template invocations for `heraspec run`: Argo's semantics of ``depends`` /
``dependencies``, ``when``, fan-out (``withItems``/``withParam``/``withSequence``) with aggregated
outputs, ``dag.target``, nested DAGs, exit hooks. The scheduler's loop (scheduler.py) advances a root
`Dag`; units that need a pod are handed back to it through ``enqueue``. Its phase and nodes are
dagview.py's; tasks and units are units.py's.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .attempt import Outcome, TaskError, as_list
from .dagphase import group_phase
from .dagview import DagView
from .memo import fill_item_keys, group_reason
from .results import RunError, TaskResult, utc_now
from .units import ABSENT, MAX_LOCAL_ITEMS, DagHost, DagTask, Unit, decode_output, loads_json, template_inputs
from ..document import patterns
from .expr import (
    ExprError,
    eval_depends,
    eval_when,
    aggregated_json_value_list,
    aggregated_results,
    go_json,
    item_field_str,
    item_node_desc,
    item_str,
    parse_raw,
    sequence_items,
    substitute,
)

_TASK_NAME = re.compile(patterns.ARGO_TASK_NAME)
FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled"  # operator.go checkParallelism


class Dag(DagView):
    """The state of one DAG template invocation; advanced by the scheduler's loop (scheduler.Runner)."""

    def __init__(self, run: DagHost, template: dict, inputs: dict[str, str], folder: Path, prefix: str):
        self.run, self.folder, self.prefix = run, folder, prefix
        self.template = template
        self.tasks: dict[str, DagTask] = {}
        self.parent: Dag | None = None
        self.depth = 1  # Argo's stack depth of this DAG's executeTemplate (the entrypoint's is 1)
        for spec in template["dag"].get("tasks") or []:
            try:
                self.tasks[spec["name"]] = DagTask(spec, prefix)
            except ExprError as e:
                raise RunError(f"template {template['name']!r}, task {spec['name']!r}: {e}") from None
        self.scope = dict(run.wf_scope)
        self.scope.update({f"inputs.parameters.{k}": v for k, v in inputs.items()})
        self.limit = int(template["parallelism"]) if template.get("parallelism") else None
        self.agg_errors: dict[str, str] = {}
        self._open: dict[str, DagTask] | None = None  # the tasks not done yet (advance)
        self._template_text: str | None = None
        self.active = 0
        self.done = False
        self._hook_counted: list[str] = []  # depends results a fan-out's group exit hook decided (_check_dep)
        self.message = ""  # the DAG node's own message, as Argo's controller sets it (failFast only)
        self.hooks: list[TaskResult] = []  # exit hooks run, in the order they started
        self.absent: set[str] = set()  # scope keys of Skipped/Omitted tasks' outputs without a default
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
            if not _TASK_NAME.fullmatch(t.name):  # Argo's IsValidWorkflowFieldName (workflow/util); names are folders here
                raise RunError(f"{where}: {t.name!r} is not a valid Argo task name: letters, digits and '-', "
                               "starting with a letter or digit, at most 128 characters")
            unknown = t.deps - set(self.tasks)
            if unknown:
                raise RunError(f"{where}: task {t.name!r} depends on unknown task(s) {', '.join(sorted(unknown))}")
            if "templateRef" in t.spec or "inline" in t.spec:
                raise RunError(f"{where}: task {t.name!r}: templateRef/inline are not supported by heraspec run")
            if t.spec.get("template") not in self.run.templates:
                raise RunError(f"{where}: task {t.name!r} uses unknown template {t.spec.get('template')!r}")
            if t.hook is not None and t.hook.get("template") not in self.run.templates:
                raise RunError(f"{where}: the exit hook of task {t.name!r} uses unknown template "
                               f"{t.hook.get('template')!r} (templateRef hooks are not supported by heraspec run)")
        seen: dict[str, int] = {}  # 1: on the current path, 2: done; iterative (a 1,500-task chain)
        for root in self.tasks:
            if seen.get(root):
                continue
            path, stack = [root], [iter(sorted(self.tasks[root].deps))]
            seen[root] = 1
            while stack:
                d = next(stack[-1], None)
                if d is None:
                    seen[path.pop()] = 2
                    stack.pop()
                elif seen.get(d) == 1:
                    raise RunError(f"{where}: dependency cycle {' -> '.join(path + [d])}")
                elif not seen.get(d):
                    seen[d] = 1
                    path.append(d)
                    stack.append(iter(sorted(self.tasks[d].deps)))

    def _check_dep(self, name: str, result: str | None) -> bool:
        t = self.tasks[name]
        ph = t.res.phase
        # dag.go evaluateDependsLogic: AnySucceeded/AllFailed look at a TaskGroup's children only
        # (false for a task that does not fan out)
        kids = [c.phase for c in t.res.children] if t.fanout else []
        if result is None:  # ancestry.go expandDependency: Succeeded || Skipped || Daemoned (+ continueOn)
            return ph in ("Succeeded", "Skipped") or t.continues_on(ph)
        if result not in ("AnySucceeded", "AllFailed"):
            return ph == {"Errored": "Error", "Daemoned": "-"}.get(result, result)
        value = self._any_all(result, kids)
        if t.fanout and t.group_hook and t.hook_units:
            # the group's exit hook node is one of depNode.Children (exit_handler.go runOnExitNode:
            # addChildNode), which evaluateDependsLogic counts as it counts the items: an Argo defect
            hooked = self._any_all(result, kids + [t.hook_units[-1].res.phase])
            if hooked != value:
                self._hook_counted.append(f"{name}.{result}")
            value = hooked
        return value

    @staticmethod
    def _any_all(result: str, kids: list[str]) -> bool:
        if result == "AnySucceeded":
            return "Succeeded" in kids
        return bool(kids) and all(k == "Failed" for k in kids)  # dag.go evaluateDependsLogic: NodeFailed only

    # --- advancing ---------------------------------------------------------------------------

    def advance(self) -> bool:
        changed = False
        if self._open is None:
            self._open = {n: t for n, t in self.tasks.items() if t.state != "done"}
        # only the tasks not done yet: a done task never changes again (done -> hook happens within
        # _finish_task, while the task is still open), and a wide DAG is advanced once per task ending
        halted = self._fail_fast_halted()
        for t in self._open.values():
            if t.state == "pending" and not halted and all(self.tasks[d].state == "done" for d in t.deps):
                changed = True
                self._hook_counted = []
                if t.tree is not None and not eval_depends(t.tree, self._check_dep):
                    self._finish_task(t, "Omitted", "depends not satisfied: " + str(t.spec.get("depends")
                                                                                 or t.spec.get("dependencies"))
                                      + self._hook_note())
                else:
                    t.note = self._hook_note()  # it runs because a group exit hook was counted
                    if self._ancestor_agg_error(t) is not None:
                        t.state, t.t0 = "running", time.monotonic()
                        self._finish_task(t, "Error", self._ancestor_agg_error(t) or "")
                    else:
                        self._launch(t)
            if t.state == "hook" and t.fanout and not t.group_hook:
                changed = self._child_hooks(t) or changed
                if all(hu.done for hu in t.hook_units) and self._child_hooks_done(t):
                    t.group_hook = True  # the group node completes after its children's hooks: its own hook
                    self._start_hook(t, t.res.name, {})
                    changed = True
            elif t.state == "hook" and all(hu.done for hu in t.hook_units):
                t.state = "done"
                changed = True
            if t.state == "running":
                for u in t.units:
                    if u.inner is not None and not u.done:
                        while u.inner.advance():
                            changed = True
                        if u.inner.done:
                            self.run.finish_unit(u, self._dag_outcome(u))
                if t.fanout and t.hook is not None:
                    changed = self._child_hooks(t) or changed
                if all(u.done for u in t.units):
                    self._complete(t)
                    changed = True
        if changed:
            self._open = {n: t for n, t in self._open.items() if t.state != "done"}
        if not self.done and self._open and self.active == 0 and self._fail_fast_halted():
            # operator.go checkParallelism: once no pod of the DAG runs, "template has failed or errored
            # children and failFast enabled" ends it; what it had not started never starts
            self.done = True
            self.message = FAIL_FAST_MESSAGE
            self.run.halted(self)
            changed = True
        if not self.done and not self._open:
            self.done = True
            changed = True
        return changed

    def _fail_fast_halted(self) -> bool:
        """operator.go checkParallelism: a DAG template with `failFast: true` starts nothing more
        once one of its children Failed or Errored (getUnsuccessfulChildren); it then ends Failed."""
        if not self.template.get("failFast"):
            return False
        return any(x.phase in ("Failed", "Error") for t in self.tasks.values()
                   for x in ([u.res for u in t.units] if t.units else [t.res]))

    def _launch(self, t: DagTask) -> None:
        t.state, t.t0 = "running", time.monotonic()
        t.res.started = utc_now()
        spec, scope = t.spec, self.scope
        when = str(spec["when"]) if spec.get("when") not in (None, "") else None
        try:
            if when is not None and "{{item" not in when.replace(" ", ""):
                when = substitute(when, scope)  # dag.go resolveDependencyReferences, before expandTask
            items = self._items(spec, scope)
            # dag.go executeDAGTask evaluates `when` (steps.go shouldExecute, govaluate) on each expanded
            # task: a fan-out's false `when` skips every child, and its TaskGroup is Succeeded, not Skipped
            if items is None and when is not None and "{{item" not in when.replace(" ", ""):
                if not eval_when(when):
                    return self._finish_task(t, "Skipped", f"when '{when}' evaluated false")
                when = None
        except ExprError as e:
            return self._finish_task(t, "Error", str(e) + self._waits_forever(str(e)))
        folder = self.folder / t.name
        if items is None:
            self._start_unit(t, t.res, scope, when, folder)
        elif not items:
            return self._finish_task(t, "Skipped", "Skipped, empty params")
        else:
            t.fanout = True
            for i, item in enumerate(items):
                # operator.go processItem: {{item}}, {{item.KEY}} and the child's name
                s = dict(scope)
                s["item"] = item_str(item)
                if isinstance(item, dict):
                    s.update({f"item.{k}": item_field_str(v) for k, v in item.items()})
                child = TaskResult(f"{self.prefix}{t.name}({i}:{item_node_desc(item)})")
                t.res.children.append(child)
                self._start_unit(t, child, s, when, folder / str(i))
        if t.fanout or "dag" in self.run.templates[spec["template"]]:
            self.run.report("task_started", t.res)

    def _items(self, spec: dict, scope: dict[str, str]) -> list | None:
        if spec.get("withItems"):  # DAGTask.ShouldExpand: an empty withItems is no loop, the task runs once
            # wfv1.Item keeps each item's JSON as submitted (heraspec apply sends JSON, as written here)
            return parse_raw(json.dumps(substitute(as_list(spec["withItems"]), scope), ensure_ascii=False))
        if spec.get("withParam") not in (None, ""):  # ShouldExpand: WithParam != ""
            # dag.go expandTask: json.Unmarshal into []wfv1.Item, which keeps each item's raw JSON
            text = substitute(str(spec["withParam"]), scope)
            try:
                value = loads_json(text, raw=True)
            except (ValueError, RecursionError):
                value = None
            if not isinstance(value, list):
                raise ExprError(f"withParam must be a JSON list, got {text[:200]!r}")
            return value
        if spec.get("withSequence") is not None:
            return sequence_items(substitute(spec["withSequence"] or {}, scope), MAX_LOCAL_ITEMS)
        return None

    def _start_unit(self, t: DagTask, res: TaskResult, scope: dict[str, str], when: str | None,
                    folder: Path) -> None:
        template = self.run.templates[t.spec["template"]]
        unit = Unit(self, t, res, template, folder)
        t.units.append(unit)
        if self.depth + 1 >= patterns.ARGO_MAX_STACK_DEPTH:  # operator.go executeTemplate
            res.started = utc_now()
            return self.run.finish_unit(unit, Outcome("Error", patterns.ARGO_MAX_DEPTH_MESSAGE))
        try:
            if when is not None:
                text = substitute(when, scope)
                if not eval_when(text):
                    res.started = utc_now()
                    return self.run.finish_unit(unit, Outcome("Skipped", f"when '{text}' evaluated false"))
            args = substitute(self._mark_absent((t.spec.get("arguments") or {}).get("parameters") or []), scope)
            unit.inputs = template_inputs(template, {a["name"]: str(a.get("value", "")) for a in args}, self.run.wf_scope)
            unit.artifacts = substitute(fill_item_keys(as_list((t.spec.get("arguments") or {}).get("artifacts")), scope),
                                        scope)  # a cached fan-out's files by item (scheduling.item_files_key)
        except (ExprError, TaskError) as e:
            res.started = utc_now()
            return self.run.finish_unit(unit, Outcome("Error", str(e) + self._waits_forever(str(e))))
        if "dag" in template:
            res.started = utc_now()
            unit.inner = Dag(self.run, template, unit.inputs, folder, f"{res.name}.")
            unit.inner.parent = self
            unit.inner.depth = self.depth + 1
            return
        self.run.enqueue(unit)

    def _dag_outcome(self, u: Unit) -> Outcome:
        inner = u.inner
        assert inner is not None
        u.res.children = [x.res for x in inner.tasks.values()]
        phase = inner.phase()
        outputs: dict[str, str] = {}
        try:
            for p in as_list((u.template.get("outputs") or {}).get("parameters")):
                vf = p.get("valueFrom") or {}
                if "parameter" in vf:
                    outputs[p["name"]] = substitute(str(vf["parameter"]), inner.scope)
        except ExprError as e:
            if phase == "Succeeded":
                return Outcome("Error", str(e))
        # dag.go executeDAG: markNodePhase(nodeName, dagPhase) sets no message on the DAG node (but
        # checkParallelism's failFast does)
        return Outcome(phase, "" if phase == "Succeeded" else inner.message or "a task of this DAG failed", outputs,
                       argo_message=inner.message)

    def _complete(self, t: DagTask) -> None:
        if not t.fanout:
            u = t.units[0]
            t.t0 = u.t0 or t.t0
            # Argo does not aggregate loop children's artifacts: only a single task's are in scope
            self.scope.update({f"tasks.{t.name}.outputs.artifacts.{k}": v for k, v in u.artifact_keys.items()})
            return self._finish_task(t, t.res.phase, t.res.message, u.stdout, u.exit_code)
        kids = [u.res for u in t.units]
        phase = group_phase([k.phase for k in kids])  # every item Skipped: the group is Succeeded
        # operator.go processAggregateNodeOutputs: succeeded children in loop order; per output
        # parameter, aggregatedJSONValueList; `outputs.result`, when the DAG refers to it, must be
        # JSON in every child, else the tasks after this one cannot be resolved (Error)
        ok = [u for u in t.units if u.res.phase == "Succeeded"]
        agg: dict[str, str] = {}
        for n in dict.fromkeys(n for u in ok for n in u.res.outputs):
            agg[n] = aggregated_json_value_list([u.res.outputs[n] for u in ok if n in u.res.outputs])
        t.res.outputs = agg
        t.res.cached = bool(kids) and all(k.cached for k in kids)
        t.res.cache = group_reason([(k.name, k.cache) for k in kids])  # each item's decision, in one line
        p = f"tasks.{t.name}.outputs"
        self.scope[f"{p}.parameters"] = go_json([u.res.outputs for u in ok if u.res.outputs])
        if self._refers_to_result(t.name):
            try:
                self.scope[f"{p}.result"] = aggregated_results([u.stdout or "" for u in ok])
            except ExprError as e:
                self.agg_errors[t.name] = f"task {t.name!r}: {e}"
        # shown: the items' stdout where it is their result (a container's), never beside a file result
        stdouts = [decode_output(u.stdout) for u in ok if u.stdout is not None and "result" not in u.res.artifacts]
        if "result" not in agg and stdouts:
            t.res.result = stdouts
        bad = [k for k in kids if k.phase in ("Failed", "Error")]
        msg = f"{len(bad)} of {len(kids)} failed" if bad else ""
        # A fan-out is not retried as a whole (its items are): report the most any item needed.
        t.res.attempts = max((k.attempts for k in kids), default=0)
        self._finish_task(t, phase, msg)
        t.res.argo_message = ""  # dag.go executeDAGTask: markNodePhase(taskGroupNode.Name, groupPhase), no message

    def _refers_to_result(self, name: str) -> bool:
        """operator.go hasOutputResultRef: Argo captures stdout only when the template mentions it."""
        if self._template_text is None:
            self._template_text = json.dumps(self.template)
        return re.search(r"tasks\.%s\.outputs\.result|tasks\[['\"]%s['\"]\]\.outputs\.result"
                         % (re.escape(name), re.escape(name)), self._template_text) is not None

    def _ancestor_agg_error(self, t: DagTask) -> str | None:
        """dag.go buildLocalScopeFromTask aggregates every fanned-out ancestor's outputs first."""
        if not self.agg_errors:  # the common case: no walk over the ancestors (a chain's is all of it)
            return None
        seen, todo = set(), list(t.deps)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.agg_errors:
                return self.agg_errors[name]
            todo.extend(self.tasks[name].deps)
        return None

    def _finish_task(self, t: DagTask, phase: str, message: str, stdout: str | None = None,
                     exit_code: int | None = None) -> None:
        t.state = "done"
        r = t.res
        r.phase, r.message = phase, (message + t.note if message else t.note.lstrip())
        r.started = r.started or utc_now()
        r.finished = utc_now()
        r.duration_s = round(time.monotonic() - t.t0, 3) if t.t0 else 0.0
        # shown to the user: a fanned-out task's children's values (Argo's aggregate text stays in scope)
        if t.fanout and "result" in r.outputs:
            r.result = [u.res.result for u in t.units if u.res.phase == "Succeeded" and "result" in u.res.outputs]
        elif ("result" in r.outputs or (stdout is not None and "result" not in r.artifacts)) \
                and not (t.units and t.units[0].res is r):
            r.result = decode_output(r.outputs["result"] if "result" in r.outputs else stdout)
        p = f"tasks.{t.name}"
        if phase in ("Skipped", "Omitted") and not t.fanout:
            self._skipped_outputs(t)
        self.scope[f"{p}.status"] = phase
        self.scope[f"{p}.startedAt"] = r.started.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.scope[f"{p}.finishedAt"] = r.finished.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.scope.update({f"{p}.outputs.parameters.{k}": v for k, v in r.outputs.items()})
        if stdout is not None:
            self.scope[f"{p}.outputs.result"] = stdout
        if exit_code is not None:
            self.scope[f"{p}.exitCode"] = str(exit_code)
        self.run.report("task_finished", r)
        if t.hook is not None and t.fanout:
            t.state = "hook"  # the children's hooks (_child_hooks), then the group's
            self._child_hooks(t)
        elif t.hook is not None and phase in ("Succeeded", "Failed", "Error"):
            t.state = "hook"
            self._start_hook(t, r.name, {})

    def _child_hooks(self, t: DagTask) -> bool:
        """dag.go executeDAGTask over a fan-out's expanded children, in order: a child that Completed
        (a Skipped one has no hook) gets its exit hook (runOnExitNode) as soon as it ends, but the walk
        returns at the first child whose hook is not fulfilled yet, so a child's hook waits for the
        hooks of the children before it (not for those children's pods). Whether one started."""
        for i, u in enumerate(t.units):
            if not u.done or u.res.phase not in ("Succeeded", "Failed", "Error"):
                continue
            hook = t.child_hooks.get(i)
            if hook is None:
                over = {f"tasks.{t.name}.outputs.parameters.{k}": v for k, v in u.res.outputs.items()}
                over[f"tasks.{t.name}.status"] = u.res.phase
                t.child_hooks[i] = self._start_hook(t, u.res.name, over)
                return True
            if not hook.done:
                return False
        return False

    def _child_hooks_done(self, t: DagTask) -> bool:
        return all(i in t.child_hooks and t.child_hooks[i].done for i, u in enumerate(t.units)
                   if u.res.phase in ("Succeeded", "Failed", "Error"))

    def _skipped_outputs(self, t: DagTask) -> None:
        """scope.go addSkippedNodeOutputsToScope: a Skipped/Omitted task's declared output
        parameters are its `valueFrom.default`, else absent optionals (self.absent)."""
        template = self.run.templates.get(str(t.spec.get("template")), {})
        for param in as_list((template.get("outputs") or {}).get("parameters")):
            key = f"tasks.{t.name}.outputs.parameters.{param['name']}"
            default = (param.get("valueFrom") or {}).get("default")
            if default is not None:
                self.scope[key] = str(default)
            else:
                self.absent.add(key)

    def _mark_absent(self, args: list) -> list:
        """scope.go markAbsentOptionalArgs: an argument that is exactly `{{KEY}}` for an absent
        optional becomes ABSENT, which _inputs treats as not given."""
        if not self.absent:
            return args
        out = []
        for a in args:
            v = a.get("value") if isinstance(a, dict) else None
            if isinstance(v, str) and v.startswith("{{") and v.endswith("}}") and v[2:-2].strip() in self.absent:
                a = dict(a, value=ABSENT)
            out.append(a)
        return out

    def _start_hook(self, t: DagTask, node: str, over: dict[str, str]) -> Unit:
        """The exit hook of node `node` (the task's, or a loop child's), its arguments resolved in
        the DAG's scope with `over` (a child's outputs and status), as exit_handler.go
        runOnExitNode / resolveExitTmplArgument do; its node is `NODE.onExit`."""
        assert t.hook is not None
        template = self.run.templates[t.hook["template"]]
        res = TaskResult(f"{node}.onExit")
        self.hooks.append(res)
        index = len(t.hook_units)
        unit = Unit(self, t, res, template, self.folder / t.name / ("onExit" if not index else f"onExit-{index}"))
        t.hook_units.append(unit)
        try:
            if "dag" in template:
                raise TaskError(f"template {template['name']!r}: DAG templates as exit hooks are not supported by heraspec run")
            # exit_handler.go resolveExitTmplArgument: ReplaceStrictAny without strict prefixes, so a
            # tag that does not resolve (a failed task's missing output) stays as written
            args = substitute(self._mark_absent((t.hook.get("arguments") or {}).get("parameters") or []),
                              {**self.scope, **over}, strict=False)
            unit.inputs = template_inputs(template, {a["name"]: str(a.get("value", "")) for a in args}, self.run.wf_scope)
        except (ExprError, TaskError) as e:
            res.started = utc_now()
            self.run.finish_unit(unit, Outcome("Error", str(e)))
            return unit
        self.run.enqueue(unit)
        return unit


