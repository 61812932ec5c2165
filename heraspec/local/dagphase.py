"""The phase of a finished DAG, as Argo v4.1.2 assesses it: workflow/controller/dag.go
``assessDAGPhase`` (with phase_node.go's ``uniquePhaseNodeQueue``).

A breadth-first walk from the DAG's boundary node over each node's children (a task's children are
the tasks that depend on it; a fan-out group's are its items, whose children are the dependents)
carries a "branch phase": Succeeded from the boundary, replaced by a node's own phase when that
node Completed (Succeeded, Failed or Error). A Skipped or Omitted node did not complete, so it
inherits the branch phase it was reached with, a failure taking precedence when several paths
reach it. The DAG is the phase of the first target (``dag.target``, else the leaves sorted by name:
``findLeafTaskNames``) whose branch phase is Failed or Error and whose task has no ``continueOn``
for it; Succeeded otherwise.

So a leaf that is Skipped by its ``when`` after a failed task (kept going by ``continueOn``)
inherits Failed and fails the workflow: upstream argoproj/argo-workflows#13967, which
``heraspec run`` reproduces (with a warning) rather than promising a Succeeded the cluster will not
give.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Mapping, Sequence

__all__ = ["BOUNDARY", "assess_dag_phase", "leaf_targets", "group_phase"]

BOUNDARY = ""  # the DAG's own node: its children are the tasks that depend on nothing
COMPLETED = ("Succeeded", "Failed", "Error")  # NodePhase.Completed: Skipped and Omitted are not


def leaf_targets(deps: Mapping[str, Sequence[str]]) -> list[str]:
    """dag.go findLeafTaskNames: the tasks nothing depends on, sorted by name."""
    needed = {d for ds in deps.values() for d in ds}
    return sorted(t for t in deps if t not in needed)


def group_phase(children: Sequence[str]) -> str:
    """dag.go executeDAGTask: a fan-out's TaskGroup is Succeeded unless a child Failed or Errored
    (the last such child's phase); every child Skipped is Succeeded."""
    phase = "Succeeded"
    for p in children:
        if p in ("Failed", "Error"):
            phase = p
    return phase


def assess_dag_phase(children: Mapping[str, Sequence[str]], phases: Mapping[str, str], targets: Sequence[str],
                     continues_on: Callable[[str, str], bool], fail_fast: bool = True) -> str:
    """The DAG's phase: Succeeded, Failed, Error, or Running while a node is missing or running.

    ``children``: node -> child nodes, from BOUNDARY; ``phases``: node -> phase (a node absent or
    not Fulfilled means Running); ``targets``: target task nodes in order; ``continues_on(task,
    phase)``: the task's continueOn covers that phase."""
    branch: dict[str, str] = {t: "" for t in targets}
    seen: set[tuple[str, str]] = set()
    queue: deque[tuple[str, str]] = deque()

    def add(nodes: Sequence[str], phase: str) -> None:
        for n in nodes:
            if (n, phase) not in seen:  # uniquePhaseNodeQueue: each (node, phase) once
                seen.add((n, phase))
                queue.append((n, phase))

    add(children.get(BOUNDARY, ()), "Succeeded")
    while queue:
        node, phase = queue.popleft()
        own = phases.get(node)
        if own is None or own not in COMPLETED + ("Skipped", "Omitted"):
            return "Running"
        if own in COMPLETED:
            phase = own
        if node in branch and branch[node] not in ("Failed", "Error"):
            branch[node] = phase
        add(children.get(node, ()), phase)
    result = "Succeeded"
    for t in targets:
        p = branch.get(t, "")
        if p == "":
            result = "Running"
            if not fail_fast:
                break
        elif p in ("Failed", "Error"):
            if continues_on(t, p):
                continue
            result = p
            if fail_fast:
                break
    return result
