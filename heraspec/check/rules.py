"""Argo's own rules, beyond its JSON Schema: what `argo submit` / the controller / the API server
refuse or fail on, checked at validate time (issue 14, "errors before the cluster").

Each rule is a small predicate on values, used twice: by `check` on the spec (a located error with a
hint, collected with the others) and by `manifest_problems` on a compiled manifest (the property
tests compile generated specs and run it, so the compiler and these rules cannot drift apart).
The Go function each rule comes from (Argo v4.1.2, Kubernetes' apimachinery) is named beside it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from ..argo_lang import depends
from ..argo_lang.durations import is_go_duration
from ..errors import Errors
from . import dag
from ..document import patterns
from .files import fans_out
from ..document.load import Document
from ..document.patterns import K8S_NAME
from ..document.settings import effective, quantity, requests_and_limits

# --- names -------------------------------------------------------------------------------------

# validate.go paramOrArtifactNameRegex / isValidParamOrArtifactName: workflow parameter names
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
# Argo evaluates depends with expr-lang (dag.go evaluateDependsLogic, '-' read as '_'): a task named
# like one of its keywords/operators turns the expression into something else
EXPR_KEYWORDS = frozenset(("in", "not", "and", "or", "if", "else", "let", "matches", "contains", "startsWith",
                           "endsWith", "nil", "true", "false"))
# apimachinery validation.IsQualifiedName / IsValidLabelValue / IsDNS1123Subdomain
_QUALIFIED_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN = re.compile(K8S_NAME)
ANNOTATIONS_MAX = 256 * 1024  # apimachinery ValidateAnnotationsSize: TotalAnnotationSizeLimitB


def qualified_name_problem(key: str) -> str | None:
    """apimachinery IsQualifiedName: `[prefix/]name`, the rule for label and annotation keys."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "the prefix before '/' is empty"
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return f"prefix '{prefix}' is not a DNS subdomain (lowercase letters, digits, '-', '.'; at most 253)"
    if not name:
        return "the name is empty"
    if len(name) > 63:
        return f"the name part is {len(name)} characters; at most 63"
    if not _QUALIFIED_PART.match(name):
        return "the name part must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def label_value_problem(value: str) -> str | None:
    """apimachinery IsValidLabelValue: empty, or at most 63 name characters."""
    if len(value) > 63:
        return f"it is {len(value)} characters; a label value has at most 63"
    if value and not _QUALIFIED_PART.match(value):
        return "a label value is letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def extended_resource_problem(name: str) -> str | None:
    """apimachinery/helper IsExtendedResourceName: a qualified name with a domain outside kubernetes.io."""
    if "/" not in name or "kubernetes.io/" in name:
        return "it needs a domain outside kubernetes.io, as in vendor.com/NAME"
    if name.startswith("requests."):
        return "it may not start with 'requests.'"
    return qualified_name_problem(name) or qualified_name_problem("requests." + name)


# --- quantities ----------------------------------------------------------------------------------

def over_limit(requests: dict, limits: dict) -> list[str]:
    """Resource names whose request exceeds the limit (apimachinery ValidateResourceRequirements:
    "must be less than or equal to ... limit")."""
    out = []
    for k, v in requests.items():
        if k in limits:
            r, lim = quantity(v), quantity(limits[k])
            if r is not None and lim is not None and r > lim:
                out.append(k)
    return out


# --- depends -----------------------------------------------------------------------------------

def depends_syntax(expr: str) -> tuple[str, int] | None:
    """(message, offset) of the first syntax error in a depends expression, or None (the one
    depends parser: argo_lang.depends)."""
    return depends.syntax_problem(expr)


# --- CronWorkflow schedules (robfig/cron v3 ParseStandard, called by validate.go CronWorkflow) -----

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
           ("month", 1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
           ("day of week", 0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))


def schedule_problem(text: str) -> str | None:
    """Why robfig/cron's standard parser (Parser.Parse, parseDescriptor, getRange) refuses `text`."""
    spec = text.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        zone, _, spec = spec.partition(" ")
        if timezone_problem(zone.split("=", 1)[1]):
            return f"unknown time zone '{zone.split('=', 1)[1]}'"
        spec = spec.strip()
    if not spec:
        return "empty schedule"
    if spec.startswith("@"):
        if spec.startswith("@every "):
            d = spec[len("@every "):].strip()
            return None if is_go_duration(d) else f"'{d}' is not a duration"
        return None if spec in DESCRIPTORS else f"unknown descriptor '{spec}' (Argo knows {', '.join(DESCRIPTORS)}, @every DURATION)"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    for value, (what, lo, hi, names) in zip(fields, _FIELDS):
        for part in value.split(","):
            problem = _range_problem(part, lo, hi, names)
            if problem:
                return f"{what} '{value}': {problem}"
    return None


def _range_problem(part: str, lo: int, hi: int, names: dict) -> str | None:
    range_step = part.split("/")
    if len(range_step) > 2:
        return "too many slashes"
    low_high = range_step[0].split("-")
    if len(low_high) > 2:
        return "too many hyphens"
    if range_step[0] in ("*", "?"):
        start, end = lo, hi
    else:
        vals = []
        for v in low_high:
            n = names.get(v.lower()) if names else None
            if n is None:
                if not v.isdigit():
                    return f"'{v}' is not a number" + (" or a name" if names else "")
                n = int(v)
            vals.append(n)
        start, end = vals[0], vals[-1]
        if len(range_step) == 2 and len(low_high) == 1:
            end = hi
    if len(range_step) == 2 and (not range_step[1].isdigit() or int(range_step[1]) == 0):
        return "the step must be a positive number"
    if start < lo:
        return f"{start} is below the minimum {lo}"
    if end > hi:
        return f"{end} is above the maximum {hi}"
    if start > end:
        return f"the range starts at {start}, after its end {end}"
    return None


def timezone_problem(zone: str) -> str | None:
    """validate.go CronWorkflow: time.LoadLocation(timezone) must succeed."""
    if zone in ("", "UTC", "Local"):
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        if not zoneinfo.available_timezones():  # no time zone database here: cannot tell
            return None
        return f"'{zone}' is not an IANA time zone"
    return None


# --- the spec's checks -----------------------------------------------------------------------------

_WF_PARAM = re.compile(r"\{\{\s*workflow\.parameters\.([^}\s]*)\s*\}\}")
CONTINUE_ON = {"failed": "Failed", "error": "Errored"}


def uses_depends(graph: dag.Graph) -> bool:
    """heraspec emits `depends` for every task that waits for another."""
    return bool(graph.deps)


def check(doc: Document, errors: Errors, graph: dag.Graph) -> None:
    """Every Argo rule on the spec data; problems are added to `errors` at their positions."""
    data = doc.data if isinstance(doc.data, dict) else {}
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
    params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    _task_names(doc, tasks, graph, errors)
    _depends(doc, tasks, graph, errors)
    _continue_on(doc, tasks, graph, errors)
    for name, task in tasks.items():
        if isinstance(task, dict):
            _fan_out(doc, name, task, params, errors)
            _raw_params(doc, name, task, params, errors)
    _params(doc, params, errors)
    _cron(doc, data, errors)
    _retry_and_resources(doc, data, tasks, errors)
    _volumes(doc, tasks, errors)
    _metadata(doc, data, errors)


_LITERAL_NAME = re.compile(r"^([0-9]+|true|false)$", re.IGNORECASE)


def _task_names(doc: Document, tasks: dict, graph: dag.Graph, errors: Errors) -> None:
    depended = {d.src for d in graph.deps}
    for t in tasks:
        if not isinstance(t, str) or _LITERAL_NAME.match(t):
            continue  # a literal name: semantic._check_names reports it
        if t[:1].isdigit() and uses_depends(graph):
            # validate.go validateDAG: "name cannot begin with a digit when using either 'depends' or 'dependencies'"
            doc.error(errors, ("tasks", t), f"task name '{t}' starts with a digit, which Argo refuses in a DAG "
                      "whose tasks depend on each other", f"start it with a letter, e.g. 'step-{t}'", key=True)
        if dag.argo_name(t).replace("-", "_") in EXPR_KEYWORDS and t in depended:
            # dag.go evaluateDependsLogic: the expression is evaluated by expr-lang, where this is a keyword
            doc.error(errors, ("tasks", t), f"task name '{t}' is a keyword of Argo's depends expressions, so "
                      "the tasks after it would fail to start", f"rename it, e.g. '{t}-step'", key=True)


def _depends(doc: Document, tasks: dict, graph: dag.Graph, errors: Errors) -> None:
    bad = {path for path, _m, _o in graph.bad_edges}
    for name, t in tasks.items():
        expr = t.get("depends") if isinstance(t, dict) else None
        path = ("tasks", name, "depends")
        if not isinstance(expr, str) or path in bad:
            continue
        problem = depends_syntax(expr)
        if problem:
            doc.error(errors, path, problem[0], "write e.g. 'A && (B.Succeeded || B.Failed)'", offset=problem[1])
            continue
        for ref, result, off in dag.depends_names(expr):
            # ancestry.go GetTaskDependencies / dag.go evaluateDependsLogic: AnySucceeded and AllFailed
            # look at the children of a fanned-out task; on any other task they are always false
            if result in ("AnySucceeded", "AllFailed") and ref in tasks and not fans_out(tasks[ref]):
                doc.error(errors, path, f"'{ref}.{result}' is always false: task '{ref}' does not fan out",
                          f"use '{ref}.{'Succeeded' if result == 'AnySucceeded' else 'Failed'}'", offset=off)


def _continue_on(doc: Document, tasks: dict, graph: dag.Graph, errors: Errors) -> None:
    depended = {d.src for d in graph.deps}
    for name, t in tasks.items():
        if not isinstance(t, dict):
            continue
        raw = ((t.get("argo") or {}).get("task") or {}) if isinstance(t.get("argo"), dict) else {}
        if isinstance(raw, dict) and "continueOn" in raw and uses_depends(graph):
            # validate.go validateDAG: "cannot use 'continueOn' when using 'depends'"
            doc.error(errors, ("tasks", name, "argo", "task", "continueOn"), "Argo refuses 'continueOn' in a DAG "
                      "whose tasks use depends, which heraspec emits for every edge",
                      "write continue_on: [failed] (or [failed, error]) on the task instead", key=True)
        if isinstance(raw, dict) and "dependencies" in raw and uses_depends(graph):
            # validate.go validateDAG: "cannot use both 'depends' and 'dependencies' in the same DAG template"
            doc.error(errors, ("tasks", name, "argo", "task", "dependencies"), "Argo refuses 'dependencies' in a DAG "
                      "whose tasks use depends, which heraspec emits for every edge",
                      "write the edge in heraspec: after: [...], edges or depends", key=True)
        if t.get("continue_on") and uses_depends(graph) and name not in depended:
            # dag.go assessDAGPhase: a failed last task fails the DAG unless it has continueOn, which
            # Argo refuses here; continue_on only works through the depends of the tasks after it
            doc.error(errors, ("tasks", name, "continue_on"), f"no task runs after '{name}', so continue_on "
                      "cannot keep its failure from failing the workflow (Argo refuses continueOn with depends)",
                      "add a task after it, or remove continue_on", key=True)


def _item_key(ref: Any) -> str | None:
    return ref if isinstance(ref, str) else None


def _fan_out(doc: Document, name: str, task: dict, params: dict, errors: Errors) -> None:
    base = ("tasks", name)
    fe = task.get("foreach")
    keys = [(target, path) for kind, target, path in dag.refs_in(task.get("args"), base + ("args",)) if kind == "item"]
    for key, path in keys:
        # an item key goes into `{{item.KEY}}`: Argo's parameter-name rule keeps it one tag
        if not (key is True or (isinstance(key, str) and PARAM_NAME.match(key))):
            doc.error(errors, path + ("item",), f"item key {json.dumps(key, ensure_ascii=False)} is not a name Argo "
                      "can substitute", "use letters, digits, '-' and '_', or {item: true} for the whole item")
    if isinstance(fe, list) and not fe:
        # dag.go expandTask: `len(task.WithItems) > 0` is false, so the task runs once, '{{item}}' unresolved
        doc.error(errors, base + ("foreach",), "an empty foreach runs nothing (Argo would run the task once, "
                  "with a literal '{{item}}')", "remove the task, or fan out over {param: NAME} or {from: TASK}")
        return
    items: list | None = None
    items_path = base + ("foreach",)
    if isinstance(fe, list):
        items = fe
    elif isinstance(fe, dict) and isinstance(fe.get("param"), str) and fe["param"] in params:
        p = fe["param"]
        value = params[p]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        items_path = ("parameters", p)
        if not isinstance(value, list):
            # controller dag.go expandTask: withParam must be a JSON list ("withParam value could not be parsed")
            doc.error(errors, base + ("foreach", "param"), f"parameter '{p}' is not a JSON list, which "
                      "foreach needs", f"give it a list default, e.g. {p}: [a, b]")
            return
        items = value
    named = [k for k, _p in keys if isinstance(k, str) and PARAM_NAME.match(k)]
    if items is None or not named:
        return
    for i, item in enumerate(items):
        at = items_path + ((i,) if items_path[0] == "tasks" or isinstance(params[items_path[1]], list) else ())
        if not isinstance(item, dict):
            # validate.go addItemsToScope only knows the keys items have; dag.go expandTask/processItem
            # leaves '{{item.KEY}}' of an item without KEY unresolved and the task fails
            doc.error(errors, at, f"item {i + 1} is not a mapping, but the args read {{item: {named[0]}}}",
                      "make every item a mapping, or pass {item: true}")
            return
        missing = [k for k in named if k not in item]
        if missing:
            doc.error(errors, at, f"item {i + 1} has no key '{missing[0]}', which the args read",
                      "give every item that key")
            return


def _raw_params(doc: Document, name: str, task: dict, params: dict, errors: Errors) -> None:
    base = ("tasks", name)
    found: list[tuple[str, tuple]] = []
    for key in ("args", "when", "env", "command", "image"):
        value = task.get(key)
        if value is not None and dag.has_text(value, "workflow.parameters."):  # paths only where it is
            found.extend(dag.strings_in(value, base + (key,)))
    for text, path in found:
        if "workflow.parameters." not in text:
            continue
        for m in _WF_PARAM.finditer(text):
            if m.group(1) not in params:
                # validate.go resolveAllVariables: "failed to resolve {{workflow.parameters.X}}"
                doc.error(errors, path, f"unknown workflow parameter '{m.group(1)}'",
                          "declare it under 'parameters' (or pass {param: NAME})", offset=m.start(1))


def _params(doc: Document, params: dict, errors: Errors) -> None:
    for p in params:
        if not PARAM_NAME.match(str(p)):
            # validate.go validateArgumentsFieldNames -> isValidParamOrArtifactName
            doc.error(errors, ("parameters", p), f"parameter name '{p}' is not one Argo accepts",
                      "use letters, digits, '-' and '_', e.g. my_param-1", key=True)


def _cron(doc: Document, data: dict, errors: Errors) -> None:
    if data.get("kind") != "CronWorkflow":
        return
    sched = data.get("schedule")
    for i, s in enumerate([sched] if isinstance(sched, str) else sched if isinstance(sched, list) else []):
        problem = schedule_problem(s) if isinstance(s, str) else None
        if problem:
            # validate.go CronWorkflow: cron.ParseStandard(schedule)
            doc.error(errors, ("schedule",) + ((i,) if isinstance(sched, list) else ()),
                      f"schedule '{s}' is not one Argo accepts: {problem}",
                      "e.g. '0 3 * * *' (minute hour day-of-month month day-of-week) or @daily")
    tz = data.get("timezone")
    problem = timezone_problem(tz) if isinstance(tz, str) else None
    if problem:
        doc.error(errors, ("timezone",), problem, "e.g. Europe/Paris, America/New_York, UTC")


def _retry_and_resources(doc: Document, data: dict, tasks: dict, errors: Errors) -> None:
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    for base, t in [(("defaults",), defaults)] + [(("tasks", n), t) for n, t in tasks.items()]:
        if not isinstance(t, dict):
            continue
        retry = t.get("retry")
        backoff = retry.get("backoff") if isinstance(retry, dict) else None
        if isinstance(backoff, dict) and backoff.get("duration") is None:
            # operator.go processNodeRetries: "no base duration specified for retryStrategy"
            doc.error(errors, base + ("retry", "backoff"), "a back-off needs a 'duration' (the first wait)",
                      "e.g. backoff: {duration: 10s, factor: 2}")
        res = t.get("resources")
        if not isinstance(res, dict):
            continue
        gpu_type = res.get("gpu_type")
        problem = extended_resource_problem(gpu_type) if isinstance(gpu_type, str) else None
        if problem:
            doc.error(errors, base + ("resources", "gpu_type"), f"gpu_type '{gpu_type}' is not an extended "
                      f"resource name: {problem}", "e.g. nvidia.com/gpu, amd.com/gpu")
    with_limits = isinstance(defaults.get("resources"), dict) and bool(defaults["resources"].get("limits"))
    for name, t in tasks.items():
        if not isinstance(t, dict):
            continue
        own = t.get("resources")
        if not with_limits and not (isinstance(own, dict) and own.get("limits")):
            continue  # no limit: no request can exceed one (a gpu's limit is its request)
        try:
            req, lim = requests_and_limits(effective(t, defaults)["resources"])
        except (TypeError, ValueError, AttributeError):
            continue  # the schema check reports malformed resources
        for k in over_limit(req, lim):
            user_key = {"ephemeral-storage": "ephemeral_storage"}.get(k, k)
            path = _first(data, [("tasks", name, "resources", "limits", user_key), ("defaults", "resources", "limits", user_key),
                                 ("tasks", name, "resources", user_key), ("defaults", "resources", user_key)])
            doc.error(errors, path, f"task '{name}' requests {req[k]} {k} but is limited to {lim[k]}",
                      "Kubernetes refuses a request above its limit: raise the limit or lower the request")


def _first(data: dict, paths: list[tuple]) -> tuple:
    for path in paths:
        node: Any = data
        for k in path:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            return path
    return paths[-1][:3]


def _volumes(doc: Document, tasks: dict, errors: Errors) -> None:
    kinds: dict[str, str] = {}
    for name, t in tasks.items():
        res = t.get("resources") if isinstance(t, dict) else None
        if not isinstance(res, dict):
            continue
        vols = [(("tasks", name, "resources", "volume"), res.get("volume"))]
        listed = res.get("volumes") if isinstance(res.get("volumes"), list) else []
        vols += [(("tasks", name, "resources", "volumes", i), v) for i, v in enumerate(listed)]
        for path, v in vols:
            if not isinstance(v, dict) or ("claim" in v) == ("size" in v):
                continue
            kind = "claim" if "claim" in v else "new"
            vname = v.get("name") or (v["claim"] if kind == "claim" else dag.volume_name(name))
            prev = kinds.setdefault(str(vname), kind)
            if prev != kind:
                # a pod's volumes are unique by name (apimachinery ValidateVolumes: Duplicate value)
                doc.error(errors, path, f"volume '{vname}' is an existing claim in one task and a new volume in another",
                          "give one of them a different 'name'")


def _metadata(doc: Document, data: dict, errors: Errors) -> None:
    """The spec's labels/annotations, and those an `argo:` block sets on the resource."""
    argo = data.get("argo") if isinstance(data.get("argo"), dict) else {}
    meta = argo.get("metadata") if isinstance(argo.get("metadata"), dict) else {}
    for base, where in (((), data), (("argo", "metadata"), meta)):
        labels_check(doc, base, where, errors)


def labels_check(doc: Document, base: tuple, data: dict, errors: Errors,
                 names: tuple[str, str] = ("labels", "annotations")) -> None:
    """Kubernetes' label and annotation rules on `data[names[0]]` / `data[names[1]]` (also pod_labels…)."""
    labels = data.get(names[0])
    for k, v in labels.items() if isinstance(labels, dict) else ():
        problem = qualified_name_problem(str(k))
        if problem:
            # apimachinery ValidateLabels: ValidateLabelName + IsValidLabelValue
            doc.error(errors, base + (names[0], k), f"label key '{k}' is not valid: {problem}",
                      "e.g. team or app.kubernetes.io/name", key=True)
        problem = label_value_problem(v) if isinstance(v, str) else None
        if problem:
            doc.error(errors, base + (names[0], k), f"label value '{v}' is not valid: {problem}",
                      "put longer or free text in annotations")
    notes = data.get(names[1])
    total = 0
    for k, v in notes.items() if isinstance(notes, dict) else ():
        problem = qualified_name_problem(str(k))
        if problem:
            # apimachinery ValidateAnnotations: keys are qualified names; values total at most 256 KiB
            doc.error(errors, base + (names[1], k), f"annotation key '{k}' is not valid: {problem}",
                      "e.g. owner or example.com/owner", key=True)
        total += len(str(k).encode()) + len(str(v).encode())
    if total > ANNOTATIONS_MAX:
        doc.error(errors, base + (names[1],), f"annotations take {total:,} bytes; Kubernetes allows "
                  f"{ANNOTATIONS_MAX:,}", key=True)


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
            for m in _WF_PARAM.finditer(text):
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
