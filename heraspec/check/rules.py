"""Argo's own rules, beyond its JSON Schema: what `argo submit` / the controller / the API server
refuse or fail on, checked at validate time (issue 14, "errors before the cluster").

Each rule is a small predicate on values, used twice: by `check` on the spec (a located error with a
hint, collected with the others) and by `manifest_problems` on a compiled manifest (the property
tests compile generated specs and run it, so the compiler and these rules cannot drift apart).
The Go function each rule comes from (Argo v4.1.2, Kubernetes' apimachinery) is named beside it.

The rules live by subject: `task_rules` (task and parameter names, depends, continueOn, fan-out
items, parameter references), `cron_rules` (schedules, time zones), `resource_rules` (requests and
limits, gpu_type, volumes, retry back-off), `label_rules` (labels, annotations, qualified names).
"""

from __future__ import annotations

import json
import re
from typing import Iterator

from ..document import patterns
from ..document.load import Document
from ..document.nodes import Spec
from ..errors import Errors
from . import cron_rules, dag, label_rules, resource_rules, task_rules
from .cron_rules import schedule_problem, timezone_problem
from .label_rules import extended_resource_problem, label_value_problem, qualified_name_problem
from .resource_rules import over_limit
from .task_rules import EXPR_KEYWORDS, PARAM_NAME, WF_PARAM, depends_syntax


def check(doc: Document, spec: Spec, errors: Errors, graph: dag.Graph) -> None:
    """Every Argo rule on the spec's model; problems are added to `errors` at their positions."""
    task_rules.check(doc, spec, graph, errors)
    cron_rules.check(doc, spec, errors)
    resource_rules.check(doc, spec, errors)
    label_rules.check(doc, spec, errors)


# --- the same rules on a compiled manifest -------------------------------------------------------------


def manifest_problems(manifest: dict) -> list[str]:
    """Argo's rules checked on a compiled manifest, as short messages (empty when it follows them)."""
    out: list[str] = []
    spec = manifest.get("spec") or {}
    meta = manifest.get("metadata") or {}
    if manifest.get("kind") == "CronWorkflow":
        for s in spec.get("schedules") or []:
            if schedule_problem(s):
                out.append(f"schedule {s!r}: {schedule_problem(s)}")
        if timezone_problem(spec.get("timezone") or ""):
            out.append(f"timezone {spec['timezone']!r}")
        spec = spec.get("workflowSpec") or {}
    for k, v in (meta.get("labels") or {}).items():
        if qualified_name_problem(k) or label_value_problem(v):
            out.append(f"label {k}={v}")
    for k in meta.get("annotations") or {}:
        if qualified_name_problem(k):
            out.append(f"annotation {k}")
    for p in (spec.get("arguments") or {}).get("parameters") or []:
        if not PARAM_NAME.match(p["name"]):
            out.append(f"parameter name {p['name']!r}")
    declared = {p["name"] for p in (spec.get("arguments") or {}).get("parameters") or []}
    names = [v["name"] for v in spec.get("volumes") or []] + [v["metadata"]["name"] for v in spec.get("volumeClaimTemplates") or []]
    if len(names) != len(set(names)):
        out.append(f"volume names repeat: {names}")
    template_names = [t.get("name") for t in spec.get("templates") or []]
    for name in template_names:  # validate.go validateWorkflowFieldNames -> isValidWorkflowFieldName
        if not isinstance(name, str) or not re.fullmatch(patterns.ARGO_TASK_NAME, name):
            out.append(f"template name {name!r}: letters, digits and '-', at most {patterns.ARGO_FIELD_NAME_MAX}")
    if len(template_names) != len(set(template_names)):
        out.append(f"template names repeat: {template_names}")
    for tmpl in spec.get("templates") or []:
        out.extend(f"template {tmpl['name']}: {p}" for p in _template_problems(tmpl))
        tasks = (tmpl.get("dag") or {}).get("tasks") or []
        using = any(t.get("depends") for t in tasks)
        fanned = {t["name"] for t in tasks if t.get("withItems") or t.get("withParam")}
        depended = set()
        for t in tasks:
            expr = t.get("depends") or ""
            if expr and depends_syntax(expr):
                out.append(f"task {t['name']}: depends {expr!r}: {depends_syntax(expr)[0]}")
            for ref, result, _o in (dag.depends_names(expr) if expr else []):
                depended.add(ref)
                if result in ("AnySucceeded", "AllFailed") and ref not in fanned:
                    out.append(f"task {t['name']}: {ref}.{result} on a task that does not fan out")
            if using and t["name"][:1].isdigit():
                out.append(f"task {t['name']}: starts with a digit in a DAG using depends")
            if using and "continueOn" in t:
                out.append(f"task {t['name']}: continueOn in a DAG using depends")
            if using and t.get("dependencies"):
                out.append(f"task {t['name']}: dependencies in a DAG using depends")
            text = json.dumps(t)
            for m in WF_PARAM.finditer(text):
                if m.group(1) not in declared:
                    out.append(f"task {t['name']}: undeclared workflow parameter {m.group(1)!r}")
            out.extend(f"task {t['name']}: {p}" for p in _items_problems(t))
        for ref in depended:
            if ref.replace("-", "_") in EXPR_KEYWORDS:
                out.append(f"task {ref}: named like an expr-lang keyword")
    return out


def _template_problems(tmpl: dict) -> Iterator[str]:
    backoff = (tmpl.get("retryStrategy") or {}).get("backoff")
    if backoff is not None:
        if not backoff.get("duration"):
            yield "back-off without duration"
        f = backoff.get("factor")
        if f is not None and not re.fullmatch(r"-?[0-9]+", str(f)):
            yield f"back-off factor {f!r} is not an integer"
    body = tmpl.get("script") or tmpl.get("container") or {}
    res = body.get("resources") or {}
    for k in over_limit(res.get("requests") or {}, res.get("limits") or {}):
        yield f"request of {k} above its limit"
    for k in res.get("requests") or {}:
        if "/" in k and extended_resource_problem(k):
            yield f"resource name {k!r}"


def _items_problems(task: dict) -> Iterator[str]:
    keys = set(re.findall(r"\{\{item\.([^}]*)\}\}", json.dumps(task.get("arguments") or {})))
    if "withItems" in task and not task["withItems"]:
        yield "empty withItems"
    for k in keys:
        if not PARAM_NAME.match(k):
            yield f"item key {k!r}"
        for item in task.get("withItems") or []:
            if not isinstance(item, dict) or k not in item:
                yield f"an item lacks key {k!r}"
                break
