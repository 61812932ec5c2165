"""A DAG's nodes as Argo's controller sees them once they ran, for `heraspec run`: the node graph
that dag.go ``assessDAGPhase`` walks (dagphase.py), so the DAG's phase and `{{workflow.status}}`,
the warnings where Argo's outcome is its own defect, and every node the DAG ran (the run's summary,
`{{workflow.failures}}`). dagstate.Dag is a DagView."""

from __future__ import annotations

import re

from .dagphase import BOUNDARY, assess_dag_phase, leaf_targets
from .results import TaskResult
from .units import DagHost, DagTask, Unit

INHERITED = "fails the workflow"
HOOKED = "this failure does not fail the workflow"


class DagView:
    """The phase and nodes of one DAG template invocation (its state is dagstate.Dag's)."""

    run: DagHost
    template: dict
    tasks: dict[str, DagTask]
    targets: list[str]
    prefix: str
    absent: set[str]
    _hook_counted: list[str]

    def phase(self) -> str:
        """The DAG node's phase once it ended: Succeeded, Failed or Error (assessDAGPhase)."""
        return self.status()

    def status(self) -> str:
        """dag.go assessDAGPhase (dagphase.py) over this DAG's nodes: what Argo's DAG node, and
        `{{workflow.status}}` for a workflow whose entrypoint is this DAG, says."""
        children: dict[str, list[str]] = {}
        phases: dict[str, str] = {}
        outbound, roots = self.phase_graph(children, phases)
        children[BOUNDARY] = roots
        names = list(self.targets) or leaf_targets({n: sorted(t.deps) for n, t in self.tasks.items()})
        targets = [self.tasks[n].res.name for n in names]
        by_id = {t.res.name: t for t in self.tasks.values()}
        fail_fast = self.template["dag"].get("failFast")
        phase = assess_dag_phase(children, phases, targets, lambda n, p: by_id[n].continues_on(p),
                                 fail_fast is None or bool(fail_fast))
        self._warn_inherited(names, phase)
        self._warn_hooked_retry(outbound, phase)
        return "Failed" if phase == "Running" else phase

    def phase_graph(self, children: dict[str, list[str]], phases: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
        """This DAG's nodes for assessDAGPhase's walk, added to `children` and `phases` (node ids are
        the results' names, unique through nested DAGs): each task's outbound nodes (operator.go
        getOutboundNodes) by task name, and the tasks that depend on nothing (the boundary's children).
        A nested DAG's node has its inner root tasks as children and its inner targets' outbound
        nodes as its own, so the walk goes through it as Argo's does."""
        outbound: dict[str, list[str]] = {}
        for t in self.tasks.values():
            node = t.res.name
            phases[node] = t.res.phase
            if t.fanout and t.units:
                children[node] = [u.res.name for u in t.units]
                outbound[t.name] = [o for u in t.units for o in self._unit_outbound(u, children, phases)]
                if t.group_hook and t.hook_units:
                    # the group's exit hook node is one of the TaskGroup node's children (runOnExitNode:
                    # addChildNode), so getOutboundNodes returns it too: the tasks after the fan-out
                    # hang from it as well and inherit its phase in assessDAGPhase (an Argo defect)
                    hook = f"{node}.onExit"
                    children[node].append(hook)
                    phases[hook] = t.hook_units[-1].res.phase
                    outbound[t.name].append(hook)
            elif t.units and t.units[0].inner is not None and t.units[0].res is t.res:
                outbound[t.name] = self._unit_outbound(t.units[0], children, phases)
            elif t.hook_units and "retryStrategy" in self.run.templates.get(str(t.spec.get("template")), {}):
                # operator.go getOutboundNodes: a Retry node's outbound node is its last child, and the
                # exit hook node (added as its child when the task ended) is that last child
                hook = f"{node}.onExit"
                children[node] = [hook]
                phases[hook] = t.hook_units[-1].res.phase
                outbound[t.name] = [hook]
            else:
                outbound[t.name] = [node]
        roots = []
        for t in self.tasks.values():
            deps = [d for d in sorted(t.deps) if d in self.tasks]
            if not deps:
                roots.append(t.res.name)
            for d in deps:
                for o in outbound[d]:
                    children.setdefault(o, []).append(t.res.name)
        return outbound, roots

    def _unit_outbound(self, u: Unit, children: dict[str, list[str]], phases: dict[str, str]) -> list[str]:
        """A unit's outbound nodes: itself, or for a nested DAG (operator.go getOutboundNodes, dag.go
        updateOutboundNodesForTargetTasks) its inner targets' outbound nodes, its inner roots its children."""
        phases[u.res.name] = u.res.phase
        inner = u.inner
        if inner is None:
            return [u.res.name]
        inner_out, roots = inner.phase_graph(children, phases)
        children.setdefault(u.res.name, []).extend(roots)
        names = list(inner.targets) or leaf_targets({n: sorted(t.deps) for n, t in inner.tasks.items()})
        return [o for n in names for o in inner_out.get(n, [])] or [u.res.name]

    def _warn_hooked_retry(self, outbound: dict[str, list[str]], phase: str) -> None:
        """Say so where a failed retried task with an exit hook does not fail the DAG."""
        if phase != "Succeeded":
            return
        depended = {d for t in self.tasks.values() for d in t.deps}
        for t in self.tasks.values():
            if t.name in depended and outbound.get(t.name) == [f"{t.res.name}.onExit"] and \
                    t.res.phase in ("Failed", "Error") and HOOKED not in t.res.message:
                t.res.message += (f" ({HOOKED}: with a retryStrategy its exit hook is the last child of its Retry "
                                  "node, so the tasks after it inherit the hook's phase in assessDAGPhase and "
                                  "Argo v4.1.2 reports the workflow Succeeded, as heraspec run does; an Argo "
                                  "defect, see upstream issues argoproj/argo-workflows#11589 and #13239)")

    def _warn_inherited(self, targets: list[str], phase: str) -> None:
        """Say so where a Skipped or Omitted target fails the DAG by inheriting a handled failure (one
        its task's continueOn covers); an unhandled failure before it fails the DAG as expected."""
        if phase not in ("Failed", "Error"):
            return
        for n in targets:
            t = self.tasks.get(n)
            if t is not None and t.res.phase in ("Skipped", "Omitted") and INHERITED not in t.res.message \
                    and not self._unhandled_failure_before(t):
                t.res.message += (f" ({INHERITED} on the cluster: Argo v4.1.2's assessDAGPhase gives a {t.res.phase} "
                                  f"target the {phase} phase of a failed task (or exit hook) before it, so the workflow is "
                                  f"{phase}; upstream issue argoproj/argo-workflows#13967)")

    def _unhandled_failure_before(self, t: DagTask) -> bool:
        """Whether a task `t` depends on (directly or not) Failed or Errored unhandled: without a
        continueOn for it and with no task's `depends` naming that result (`A.Failed`, `A.Errored`, as
        heraspec's `continue_on` compiles)."""
        seen, todo = set(), list(t.deps)
        while todo:
            name = todo.pop()
            d = self.tasks.get(name)
            if name in seen or d is None:
                continue
            seen.add(name)
            if d.res.phase in ("Failed", "Error") and not d.continues_on(d.res.phase):
                named = re.compile(r"(?<![\w-])%s\.%s\b" % (re.escape(name), "Failed" if d.res.phase == "Failed"
                                                            else "Errored"))
                if not any(named.search(str(x.spec.get("depends") or "")) for x in self.tasks.values()):
                    return True
            todo.extend(d.deps)
        return False

    def _hook_note(self) -> str:
        if not self._hook_counted:
            return ""
        return (f" (on Argo v4.1.2 {', '.join(self._hook_counted)} counts the fan-out's own exit hook as one of its "
                "items, as heraspec run does: dag.go evaluateDependsLogic reads the group node's children, the hook among them)")

    def _waits_forever(self, message: str) -> str:
        """A note for a task whose `{{tasks.X.outputs.parameters…}}` / `outputs.result` tag cannot be
        resolved once X has ended without that output: dag.go resolveDependencyReferences substitutes
        with ReplaceStrictAny (strict for `tasks.`), whose "failed to resolve" is a missing variable
        (IsMissingVariableErr), so Argo v4.1.2 requeues the task for ever and the workflow never ends.
        X Failed or Errored (continue_on let the task run) and kept no outputs, X was Skipped and the
        tag is one no Skipped node has (`outputs.result`), or X fanned out and no item Succeeded
        (every item Skipped: its group is Succeeded with no outputs). Not for an absent optional (a
        Skipped producer's declared output without a default): that one fails for good."""
        m = re.match(r"cannot resolve \{\{\s*(tasks\.([^.}]+)\.outputs\.(?:parameters|result)[^}]*?)\s*\}\}", message)
        t = self.tasks.get(m.group(2)) if m else None
        if m is None or t is None or t.state != "done" or m.group(1) in self.absent:
            return ""
        if t.fanout and t.units and all(u.res.phase == "Skipped" for u in t.units):
            why = f"every item of '{t.name}' was Skipped, so its group is Succeeded with no outputs; v3.5 ended it in Error"
        elif t.fanout and t.units and not any(u.res.phase == "Succeeded" for u in t.units):
            why = f"no item of '{t.name}' Succeeded, so its group has no outputs"
        elif t.res.phase in ("Failed", "Error"):
            why = f"'{t.name}' ended {t.res.phase} without this output"
        else:
            why = f"'{t.name}' was {t.res.phase} and has no such output"
        return f" (on Argo v4.1.2 this task would wait for ever and the workflow never end: {why})"

    def nodes(self) -> list[tuple[str, str, TaskResult]]:
        """Every node this DAG ran, as (display name, template name, result): tasks, loop items,
        nested DAGs' nodes and exit hooks, in the order they were declared."""
        out: list[tuple[str, str, TaskResult]] = []
        for t in self.tasks.values():
            out.append((t.name, str(t.spec.get("template", "")), t.res))
            for u in t.units:
                if t.fanout:
                    out.append((u.res.name[len(self.prefix):], str(t.spec.get("template", "")), u.res))
                if u.inner is not None:
                    out.extend(u.inner.nodes())
            for hu in t.hook_units:
                out.append((hu.res.name[len(self.prefix):], str(t.hook.get("template", "")) if t.hook else "", hu.res))
        return out
