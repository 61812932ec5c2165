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
                                  f"target the {phase} phase of a failed task before it, so the workflow is "
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
