"""Checks of the composition features (issue 16): references in exit handlers, fields of results
(`{from: T, key: K}`), calls of known WorkflowTemplates (`template_ref`) and sub-pipelines
(`tasks.X.pipeline`). Called by semantic.check and, for what needs other files, by pipeline.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import dag
from ..errors import Errors, hint_close
from ..document.load import Document
from ..document.nodes import ExitHandler, Ref, Spec
from ..document.patterns import RESULT_KEY

EXIT_KEY = ":on_exit"  # key of an exit handler's function in the resolved map: "" (the workflow's) or "TASK"
EXIT_ONLY = ("status", "failures", "duration")  # Argo sets these for the workflow's exit handler only
WORKFLOW_VALUES = EXIT_ONLY + ("name",)
NOT_NESTED = ("on_exit", "argo", "workflow_template_ref", "schedule")  # per workflow: not in a nested DAG
_WF_PARAM = re.compile(r"\{\{\s*workflow\.parameters\.([-a-zA-Z0-9_]+)\s*\}\}")


def check_exit(doc: Document, handler: ExitHandler, spec: Spec, params: dict, errors: Errors,
               owner: str | None, graph: dag.Graph) -> None:
    """References in an exit handler's args: the workflow's runs outside the DAG (no task results in
    scope); a task's runs when that task ends (its own result and its upstream tasks' are in scope)."""
    base, names = handler.where, spec.task_names
    upstream: set[str] = set()
    if owner is not None:
        g = graph
        todo = [owner]
        while todo:
            for u in g.upstream(todo.pop()):
                if u not in upstream:
                    upstream.add(u)
                    todo.append(u)
    for kind, target, path in dag.arg_refs(handler):
        if kind == "from":
            if owner is None:
                doc.error(errors, path + ("from",), "the workflow's on_exit runs outside the DAG: task results are not in scope",
                          "give the task its own on_exit (tasks.NAME.on_exit), which may read {from: NAME}")
            elif not isinstance(target, str) or target not in names:
                doc.error(errors, path + ("from",), f"unknown task '{target}'", hint_close(str(target), list(names), "tasks"))
            elif target != owner and target not in upstream:
                doc.error(errors, path + ("from",), f"task '{target}' may not have ended when '{owner}' ends",
                          f"read '{owner}' or a task it depends on")
            else:
                check_key(doc, path, at(handler.data["args"], path[len(base) + 1:]), spec, errors)
        elif kind == "param" and target not in params:
            doc.error(errors, path + ("param",), f"unknown parameter '{target}'", hint_close(str(target), list(params), "parameters"))
        elif kind == "item":
            doc.error(errors, path, "an exit handler does not fan out: {item} has no value here")
        elif kind == "workflow" and target not in WORKFLOW_VALUES:
            doc.error(errors, path + ("workflow",), f"unknown workflow value {target!r}",
                      "one of: " + ", ".join(WORKFLOW_VALUES))
        elif kind == "workflow" and owner is not None and target in EXIT_ONLY:
            doc.error(errors, path + ("workflow",), f"{{workflow: {target}}} is set for the workflow's exit handler only",
                      "use it in the spec-level on_exit")


def at(value: Any, path: tuple) -> Any:
    """The node at a data path."""
    for k in path:
        value = value[k]
    return value


def check_key(doc: Document, path: tuple, ref: dict, spec: Spec, errors: Errors,
              unsure: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """`{from: TASK, key: K}` reads a field of a function's result (published as a named output)."""
    if "key" not in ref:
        return
    key, target = ref["key"], spec.tasks.get(ref["from"]) if isinstance(ref["from"], str) else None
    if not isinstance(key, str) or not re.match(RESULT_KEY, key):
        doc.error(errors, path + ("key",), f"key {key!r} is not a field path of a result",
                  "a key of the result mapping, or a dotted path to a nested one: best_lr, metrics.accuracy")
    elif target is not None and target.pipeline is not None:
        doc.error(errors, path + ("key",), f"task '{ref['from']}' runs a pipeline: its result is its result task's",
                  "publish the field there (outputs: or a key of that task) and read the whole result here")
    elif target is not None and target.data.get("template_ref") is not None:  # in any shape
        doc.error(errors, path + ("key",), f"task '{ref['from']}' calls a template_ref, whose outputs are its own",
                  f"read one of them with '{{{{tasks.{dag.argo_name(str(ref['from']))}.outputs.parameters.NAME}}}}'")
    elif target is not None and target.function is None and ref["from"] not in unsure:
        doc.error(errors, path + ("key",), f"task '{ref['from']}' has no function, so its result has no keys",
                  "a container task's result is its standard output: drop 'key' and read {from: TASK}")


def check_template_refs(doc: Document, spec: Spec, library: dict[tuple[bool, str], dict], errors: Errors) -> None:
    """`template_ref` tasks (of `doc`'s model `spec`) against the WorkflowTemplates heraspec knows
    (compiled manifests keyed by (cluster, name)): the template exists, args name its inputs, required
    inputs are given. Argo checks the same at submission (validate.go, validateTemplateHolder ->
    validateArguments)."""
    params = {p.name for p in spec.parameters}
    for name, task in spec.tasks.items():
        ref = task.template_ref
        if ref is None or not isinstance(ref.name, str):
            continue
        base = ref.where
        manifest = library.get((bool(ref.cluster), ref.name))
        if manifest is None:
            continue  # not known here: Argo checks it; `heraspec run` says to give --templates
        what = f"{manifest['kind']} '{ref.name}'"
        templates = {t["name"]: t for t in manifest["spec"].get("templates") or []}
        tmpl = templates.get(ref.template)
        if tmpl is None:
            doc.error(errors, base + ("template",), f"{what} has no template '{ref.template}'",
                      hint_close(str(ref.template), list(templates), "templates"))
            continue
        # a referenced template runs in the calling workflow: its {{workflow.parameters.X}} are the caller's
        for p in sorted(set(_WF_PARAM.findall(json.dumps(tmpl))) - params):
            doc.error(errors, base + ("template",), f"template '{tmpl['name']}' of {what} reads workflow parameter "
                      f"'{p}', which this spec does not declare", f"add it under parameters (e.g. {p}: ...)")
        inputs = (tmpl.get("inputs") or {}).get("parameters") or []
        known = [p["name"] for p in inputs]
        args = {arg.name: arg for arg in task.args[0]} if task.args and not task.args_listed else {}  # its inputs
        for k, arg in args.items():
            if k not in known:
                doc.error(errors, arg.where, f"template '{tmpl['name']}' of {what} has no input '{k}'",
                          hint_close(str(k), known, "inputs"), key=True)
        missing = [p["name"] for p in inputs if p["name"] not in args and "default" not in p and "value" not in p]
        written = "args" in task.written  # in any shape
        if missing:
            doc.error(errors, task.where + ("args",) if written else base,
                      f"template '{tmpl['name']}' of {what} needs input{'s' if len(missing) > 1 else ''} "
                      + ", ".join(f"'{m}'" for m in missing), key=not written)
        outputs = {p.get("name") for p in (tmpl.get("outputs") or {}).get("parameters") or []}
        if "result" not in outputs:  # {from: NAME} reads the output parameter `result`
            for path in _from_refs(spec, name):
                doc.error(errors, path, f"template '{tmpl['name']}' of {what} has no output parameter 'result'",
                          f"read what it has with a raw expression, e.g. '{{{{tasks.{dag.argo_name(name)}.outputs.result}}}}' "
                          "(its standard output)")


_FANS_OUT = ("withItems", "withParam", "withSequence")  # over an empty list, the call does not happen


def check_template_cycles(doc: Document, spec: Spec, library: dict[tuple[bool, str], dict], errors: Errors) -> None:
    """A WorkflowTemplate whose entrypoint calls itself back through `template_ref`s (directly or
    through other known templates) with no `when` or fan-out on the way: the recursion cannot end,
    and Argo's controller stops it 100 templates deep (controller.go maxAllowedStackDepth, operator.go
    executeTemplate: "Maximum recursion depth exceeded"). Located at the task that starts the loop."""
    kind, own_name = spec.kind, spec.name
    if kind not in ("WorkflowTemplate", "ClusterWorkflowTemplate") or not isinstance(own_name, str):
        return
    home = (kind == "ClusterWorkflowTemplate", own_name)
    manifest = library.get(home)
    if manifest is None:
        return
    start = (home, manifest["spec"].get("entrypoint"))
    for task in spec.tasks.values():
        ref = task.template_ref
        if ref is None or task.when or task.data.get("foreach") is not None:  # a foreach in any shape
            continue
        path = _calls_back(library, ((bool(ref.cluster), ref.name), ref.template), start)
        if path is not None:
            kinds = {False: "", True: "cluster:"}
            chain = " -> ".join(f"{kinds[k[0]]}{k[1]}/{t}" for k, t in [start] + path)
            doc.error(errors, ref.where,
                      f"{kind} '{own_name}' calls itself with no end: {chain}; Argo stops it "
                      "100 templates deep (Maximum recursion depth exceeded)",
                      "make the call conditional (when: ...) so the recursion can end")


def _calls_back(library: dict, first: tuple, goal: tuple) -> list[tuple] | None:
    """The chain of unconditional calls from template `first` ((cluster, name), template) back to
    `goal`, or None; iterative, each template visited once."""
    parent: dict[tuple, tuple | None] = {first: None}
    todo = [first]
    while todo:
        node = todo.pop()
        if node == goal:
            chain = []
            while node is not None:
                chain.append(node)
                node = parent[node]
            return chain[::-1]
        (key, tname) = node
        manifest = library.get(key)
        tmpl = next((t for t in (manifest or {}).get("spec", {}).get("templates") or [] if t.get("name") == tname), None)
        for t in ((tmpl or {}).get("dag") or {}).get("tasks") or []:
            if t.get("when") or any(k in t for k in _FANS_OUT):
                continue
            if isinstance(t.get("templateRef"), dict):
                r = t["templateRef"]
                nxt = ((bool(r.get("clusterScope")), r.get("name")), r.get("template"))
            elif t.get("template"):
                nxt = (key, t["template"])
            else:
                continue
            if nxt not in parent:
                parent[nxt] = node
                todo.append(nxt)
    return None


def _from_refs(spec: Spec, name: str) -> list[tuple]:
    """Where `{from: NAME}` is written (args and foreach of every task), as data paths."""
    out = []
    for t in spec.tasks.values():
        for kind, target, path in dag.arg_refs(t):
            if kind == "from" and target == name:
                out.append(path + ("from",))
        fe = t.foreach
        if isinstance(fe, Ref) and fe.kind == "from" and fe.target == name:
            out.append(fe.where + ("from",))
    return out


def check_pipeline(doc: Document, spec: Spec, name: str, sub: Document, sub_spec: Spec, errors: Errors,
                   functions: dict | None = None) -> None:
    """`tasks.NAME.pipeline`: its args set the other spec's parameters; what only a whole workflow
    has is reported in the other spec, and `{from: NAME}` needs its `result`, which must be a value:
    the pipeline's DAG template publishes it as an output parameter (`valueFrom.parameter`), and a
    file result (`-> Path`, `result: artifact`) is an artifact that parameter cannot name."""
    task = spec.tasks[name]
    params = [p.name for p in sub_spec.parameters]
    sub_data = sub_spec.data  # which keys the other spec writes
    for arg in task.args[0] if task.args and not task.args_listed else ():  # a mapping of its parameters
        if arg.name not in params:
            doc.error(errors, arg.where, f"pipeline {task.pipeline} has no parameter '{arg.name}'",
                      hint_close(str(arg.name), params, "parameters"), key=True)
    for key in NOT_NESTED:
        if key in sub_data:
            sub.error(errors, (key,), f"'{key}' belongs to a whole workflow: it is not carried when a spec runs as a "
                      f"sub-pipeline (task '{name}' of {doc.path})", key=True)
    if "result" in sub_data:
        _check_pipeline_result(sub, sub_spec, name, doc, errors, functions or {})
        return
    for path in _from_refs(spec, name):
        doc.error(errors, path, f"pipeline {task.pipeline} names no result",
                  "add `result: TASK` to that spec (the task whose result it returns)")


# --- named outputs: which fields of a result each task publishes -------------------------------


_OUTPUT_CHARS = re.compile(r"[^-a-zA-Z0-9_]+")
RESULT_JSON = "result-json"  # the whole result as JSON (key path ""), for references nested in arguments


def published_outputs(data: dict) -> dict[str, dict[str, str]]:
    """task -> {result key path: Argo output parameter name}: the task's declared `outputs`, then one
    parameter per other `{from: TASK, key: K}` that reads it (named after K, made unique). Defensive:
    validation runs it on specs that may have schema errors."""
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
    tasks = {n: t for n, t in tasks.items() if isinstance(t, dict)}
    out: dict[str, dict[str, str]] = {}
    for name, t in tasks.items():
        declared = t.get("outputs") if isinstance(t.get("outputs"), dict) else {}
        for oname, path in declared.items():
            if isinstance(path, str):
                out.setdefault(name, {}).setdefault(path, oname)
    wanted: list[dict] = []
    for t in tasks.values():
        fe = t.get("foreach")
        if dag.is_ref(fe) and "key" in fe:
            wanted.append(fe)
        exit_body = t.get("on_exit") if isinstance(t.get("on_exit"), dict) else {}
        wanted += key_refs(t.get("args")) + key_refs(exit_body.get("args"))
    for t in tasks.values():  # a result nested in a list/mapping argument is read as JSON (RESULT_JSON)
        for args in (t.get("args") if isinstance(t.get("args"), list) else [t.get("args")]):
            for value in (args.values() if isinstance(args, dict) else []):
                for kind, target, at in dag.refs_in(value, ()):
                    node = value
                    for step in at:
                        node = node[step]
                    if kind == "from" and at != () and "key" not in node and isinstance(target, str) \
                            and "function" in (tasks.get(target) or {}):
                        out.setdefault(target, {}).setdefault("", RESULT_JSON)
    for ref in wanted:
        target, path = ref["from"], ref["key"]
        if not isinstance(target, str) or not isinstance(path, str):
            continue
        keys = out.setdefault(target, {})
        if path not in keys:
            declared = (tasks.get(target) or {}).get("outputs")
            taken = set(keys.values()) | set(declared if isinstance(declared, dict) else ()) | {"result"}
            base = _OUTPUT_CHARS.sub("-", path).strip("-") or "key"
            oname, n = base, 1
            while oname in taken:
                n += 1
                oname = f"{base}-{n}"
            keys[path] = oname
    return out


def key_refs(value: Any) -> list[dict]:
    """Every `{from: T, key: K}` inside an args value."""
    if isinstance(value, dict):
        if len(value) == 2 and "from" in value and "key" in value:
            return [value]
        return [r for v in value.values() for r in key_refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in key_refs(v)]
    return []


_OUTPUTS = "outputs.parameters."  # in every text _RAW_OUTPUT matches
_RAW_OUTPUT = re.compile(r"\{\{\s*tasks\.([A-Za-z0-9][-_A-Za-z0-9]*)\.outputs\.parameters\.([^\s}]+)\s*\}\}")


def check_raw_outputs(doc: Document, spec: Spec, errors: Errors) -> None:
    """A raw `{{tasks.T.outputs.parameters.P}}` (in a `when` or an argument) of a function task T
    names `result` or one of T's published outputs: Argo refuses the workflow otherwise
    (validate.go, resolveAllVariables: "failed to resolve"). The published outputs are computed
    only when such a reference is found (most specs have none)."""
    names, tasks = spec.task_names, spec.tasks
    published: dict[str, dict[str, str]] | None = None
    by_argo: dict[str, str] | None = None  # Argo's name of each task, when a text names one
    for name, t in tasks.items():
        when = t.when if "when" in t.data else None  # (the membership test: cheaper than the read, for most)
        args = t.data.get("args")  # every text in the args, as written
        texts = [(when, t.where + ("when",))] if isinstance(when, str) and _OUTPUTS in when else []
        if args is not None and dag.has_text(args, _OUTPUTS):  # the common case: none (the paths cost)
            texts += [(text, path) for text, path in dag.strings_in(args, t.where + ("args",)) if _OUTPUTS in text]
        for text, path in texts:
            for m in _RAW_OUTPUT.finditer(text):
                if by_argo is None:
                    by_argo = {dag.argo_name(n): n for n in names if isinstance(n, str)}
                target = tasks.get(m.group(1)) if m.group(1) in names else tasks.get(by_argo.get(m.group(1), ""))
                if target is None or target.function is None or target.argo.get("template"):
                    continue  # only a function task's outputs are all known here
                if published is None:
                    published = published_outputs(spec.data)
                tname = m.group(1) if m.group(1) in names else by_argo[m.group(1)]
                known = ["result"] + sorted(set((published.get(tname) or {}).values()))
                if m.group(2) not in known:
                    doc.error(errors, path, f"task '{tname}' has no output parameter '{m.group(2)}'",
                              "its outputs: " + ", ".join(known) + " (name more with outputs: {NAME: key.path})",
                              offset=m.start(2))


def _check_pipeline_result(sub: Document, sub_spec: Spec, name: str, doc: Document, errors: Errors,
                           functions: dict) -> None:
    from .files import result_kind

    target = sub_spec.result
    task = sub_spec.tasks.get(target) if isinstance(target, str) else None
    if task is None:
        return
    kind = result_kind(task.data, functions.get(target), {})  # data: after `defaults`
    if kind != "parameter":
        what = "returns a file (-> Path)" if kind == "file" else "sends its result as an artifact (result: artifact)"
        sub.error(errors, ("result",), f"task '{target}' {what}, so this spec cannot run as a sub-pipeline (task "
                  f"'{name}' of {doc.path}): Argo publishes a DAG template's result as an output parameter, which "
                  "cannot name an artifact", "return a value from the result task, or write the file to a volume "
                  "and return its path as a string")
