"""Argo `synchronization` on one machine: a template's mutexes and semaphores, held per attempt.

A mutex admits one holder at a time; a semaphore as many as its limit, which on a cluster is the
value of a ConfigMap key and here comes from `--semaphore CONFIG_MAP/KEY=N` (default 1, said once in
the run's notes). The scheduler asks `free` before it starts an attempt, `take`s the locks when it
starts it and `give`s them back when it ends, all from its one loop (no locking needed here).
Workflow-level synchronization orders Workflows against each other: a local run is alone, so it
only has a note.
"""

from __future__ import annotations

from ..errors import UsageError

DEFAULT_LIMIT = 1


def parse_limits(assignments: list[str] | tuple[str, ...]) -> dict[str, int]:
    """`--semaphore CONFIG_MAP/KEY=N` values -> {"CONFIG_MAP/KEY": N}."""
    out: dict[str, int] = {}
    for a in assignments:
        name, sep, n = a.partition("=")
        if not sep or "/" not in name or not n.strip().isdigit() or int(n) < 1:
            raise UsageError(f"--semaphore {a!r}: expected CONFIG_MAP/KEY=N with N at least 1, e.g. limits/gpu-jobs=2")
        out[name.strip()] = int(n)
    return out


def locks_of(template: dict) -> list[tuple[str, int | None]]:
    """(lock name, None for a mutex / the semaphore's name) of one template."""
    sync = template.get("synchronization") or {}
    out: list[tuple[str, int | None]] = [(f"mutex/{m.get('name')}", None) for m in sync.get("mutexes") or []]
    for s in sync.get("semaphores") or []:
        ref = s.get("configMapKeyRef") or {}
        out.append((f"{ref.get('name')}/{ref.get('key')}", 0))
    return out


def semaphore_names(templates: dict[str, dict]) -> list[str]:
    return sorted({name for t in templates.values() for name, kind in locks_of(t) if kind is not None})


class Locks:
    def __init__(self, limits: dict[str, int]):
        self.limits = dict(limits)
        self.held: dict[str, int] = {}

    def _limit(self, name: str, kind: int | None) -> int:
        return 1 if kind is None else self.limits.get(name, DEFAULT_LIMIT)

    def free(self, template: dict) -> bool:
        return all(self.held.get(n, 0) < self._limit(n, k) for n, k in locks_of(template))

    def take(self, template: dict) -> None:
        for n, _ in locks_of(template):
            self.held[n] = self.held.get(n, 0) + 1

    def give(self, template: dict) -> None:
        for n, _ in locks_of(template):
            self.held[n] -= 1


# Production keys a cluster honours and one machine cannot: named once, in one note.
_NOT_LOCAL = (("nodeSelector", "node_selector"), ("tolerations", "tolerations"), ("affinity", "affinity"),
              ("priorityClassName", "priority_class"), ("podPriorityClassName", "priority_class"),
              ("serviceAccountName", "service_account"), ("metadata", "pod_labels/pod_annotations"),
              ("podMetadata", "pod_labels/pod_annotations"), ("ttlStrategy", "ttl"), ("podGC", "pod_gc"), ("archiveLogs", "archive_logs"), ("priority", "priority"))


def production_notes(spec: dict, templates: dict[str, dict], limits: dict[str, int]) -> list[str]:
    notes = []
    sems = [n for n in semaphore_names(templates) if n not in limits]
    if sems:
        notes.append("semaphore " + ", ".join(sems) + f": limit {DEFAULT_LIMIT} locally (on a cluster: the ConfigMap's "
                     "value); set it with --semaphore " + f"{sems[0]}=N")
    keys = {k for k, _ in _NOT_LOCAL if k in spec}
    keys |= {k for t in templates.values() for k, _ in _NOT_LOCAL if k in t}
    if any((t.get("script") or t.get("container") or {}).get("imagePullPolicy") for t in templates.values()):
        keys.add("imagePullPolicy")
    if spec.get("synchronization"):
        keys.add("synchronization")
    names = {"imagePullPolicy": "image_pull_policy", "synchronization": "the workflow's mutex/semaphore (a local run is alone)",
             **dict(_NOT_LOCAL)}
    shown = list(dict.fromkeys(names[k] for k in sorted(keys)))
    if shown:
        notes.append("not applied on one machine (a cluster applies them): " + ", ".join(shown))
    return notes
