"""What `heraspec run` checks and says before a run starts: the workflow spec of a manifest, its
parameters (`-p`), the notes on what runs differently on this machine, and the refusal of what it
cannot run faithfully (`{{=…}}` expression tags) before any task starts."""

from __future__ import annotations

import sys

from .attempt import as_list
from .expr import expression_tags
from .memo import fill as memo_fill
from .retries import known_expression
from ..argo.scheduling import ITEM_KEY
from .results import RunError
from ..errors import UsageError


def workflow_spec(manifest: dict) -> dict:
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


def workflow_parameters(spec: dict, given: dict[str, str]) -> dict[str, str]:
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


def run_notes(spec: dict, templates: dict[str, dict]) -> list[str]:
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
        expression = (t.get("retryStrategy") or {}).get("expression")
        if expression and not known_expression(str(expression)):
            notes.append(f"template {name!r}: retryStrategy.expression is not evaluated locally (a failed "
                         "attempt is retried as if it were true)")
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
            if other:  # the exit hook runs (dagstate); hooks on other events do not
                notes.append(f"task {task.get('name')!r}: lifecycle hooks {', '.join(map(repr, other))} are not run locally")
    if spec.get("hooks"):
        notes.append(f"workflow lifecycle hooks {', '.join(map(repr, sorted(spec['hooks'])))} (spec.hooks) are not run locally")
    return notes


def refuse_expressions(spec: dict, templates: dict[str, dict]) -> None:
    """RunError, before anything runs, naming every ``{{=…}}`` tag (expr-lang) in the templates the
    run would reach: Argo's controller evaluates them (expr-lang with sprig, asInt, jsonpath...),
    heraspec run does not, and finding one only when its task is reached would leave the work
    before it done and the result unlike the cluster's. A template's own ``memoize.key``, and where
    the template repeats it, is computed as the controller does (memo.py) and is not refused; nor is the
    key of a cached fan-out item's files a reader names (scheduling.ITEM_KEY, memo.fill_item_keys)."""
    todo, seen, found = [str(spec.get("entrypoint"))] + ([str(spec["onExit"])] if spec.get("onExit") else []), set(), []
    while todo:
        name = todo.pop(0)
        if name in seen or name not in templates:
            continue
        seen.add(name)
        t = templates[name]
        key = (t.get("memoize") or {}).get("key")
        body = {k: v for k, v in t.items() if k not in ("name", "memoize")}
        if isinstance(key, str) and key:
            body = memo_fill(body, key, "")
        dag = body.pop("dag", None) or {}
        tasks = as_list(dag.get("tasks"))
        body["dag"] = {k: v for k, v in dag.items() if k != "tasks"}
        found += [f"template {name!r}, {where}: {tag}" for where, tag in expression_tags(body)]
        for task in tasks:
            found += [f"template {name!r}, task {task.get('name')!r}, {where}: {tag}"
                      for where, tag in expression_tags(task) if where != "name" and not ITEM_KEY.fullmatch(tag)]
            hooks = task.get("hooks") or {}
            todo += [str(x) for x in (task.get("template"), (hooks.get("exit") or {}).get("template"),
                                      task.get("onExit")) if x]
    if found:
        raise RunError("heraspec run does not evaluate Argo's expression tags {{=…}} (expr-lang: sprig, asInt, "
                       "jsonpath...), so this workflow is not run (nothing was started):\n  " + "\n  ".join(found)
                       + "\nwrite them with plain {{…}} variables and a govaluate `when`, or run the workflow on a "
                       "cluster (heraspec apply)")
