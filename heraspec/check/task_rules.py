"""Argo's rules on tasks and workflow parameters: names Argo's DAG and expr-lang accept, depends
syntax and results, continueOn with depends, fan-out items and their keys, `{{workflow.parameters.X}}`
references (validate.go validateDAG / resolveAllVariables, dag.go expandTask / evaluateDependsLogic)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..argo_lang import depends
from ..document.load import Document
from ..document.nodes import Ref, Spec, Task, mapping
from ..errors import Errors, note
from . import dag
from .files import fans_out
from .spectext import may_hold

# validate.go paramOrArtifactNameRegex / isValidParamOrArtifactName: workflow parameter names
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
# Argo evaluates depends with expr-lang (dag.go evaluateDependsLogic, '-' read as '_'): a task named
# like one of its keywords/operators turns the expression into something else
EXPR_KEYWORDS = frozenset(("in", "not", "and", "or", "if", "else", "let", "matches", "contains", "startsWith",
                           "endsWith", "nil", "true", "false"))
WF_PARAM = re.compile(r"\{\{\s*workflow\.parameters\.([^}\s]*)\s*\}\}")
WF_PARAM_PREFIX = "workflow.parameters."  # in every text WF_PARAM matches


def depends_syntax(expr: str) -> tuple[str, int] | None:
    """(message, offset) of the first syntax error in a depends expression, or None (the one
    depends parser: argo_lang.depends)."""
    return depends.syntax_problem(expr)


def uses_depends(graph: dag.Graph) -> bool:
    """heraspec emits `depends` for every task that waits for another."""
    return bool(graph.deps)


def check(doc: Document, spec: Spec, graph: dag.Graph, errors: Errors) -> None:
    """Task names, depends, continue_on, each task's fan-out and raw parameter references, then the
    workflow parameters' names. A rule looking for keys or text the spec cannot hold
    (`spectext.may_hold`) is skipped: it would find nothing."""
    params = {p.name: p.default for p in spec.parameters}
    _task_names(doc, spec.task_names, graph, errors)
    if may_hold(doc, "depends"):
        _depends(doc, spec, graph, errors)
    if uses_depends(graph) and may_hold(doc, "continue", "dependencies"):  # continueOn, continue_on
        _continue_on(doc, spec, graph, errors)
    fan_out = may_hold(doc, "foreach", "item")
    raw = may_hold(doc, WF_PARAM_PREFIX)
    if fan_out or raw:
        for task in spec.tasks.values():
            if fan_out:
                _fan_out(doc, task, params, errors)
            if raw:
                _raw_params(doc, task, params, errors)
    _params(doc, spec, errors)


_LITERAL_NAME = re.compile(r"^([0-9]+|true|false)$", re.IGNORECASE)


def _task_names(doc: Document, tasks: tuple, graph: dag.Graph, errors: Errors) -> None:
    uses = uses_depends(graph)
    depended: set[str] | None = None  # built when a name is a keyword
    for t in tasks:
        if not isinstance(t, str):
            continue
        digit = uses and t[:1].isdigit()
        keyword = t.replace("-", "_") in EXPR_KEYWORDS  # its Argo name ('_' as '-') read by expr-lang ('-' as '_')
        if not (digit or keyword) or _LITERAL_NAME.match(t):
            continue  # a literal name: semantic._check_names reports it
        if digit:
            # validate.go validateDAG: "name cannot begin with a digit when using either 'depends' or 'dependencies'"
            doc.error(errors, ("tasks", t), f"task name '{t}' starts with a digit, which Argo refuses in a DAG "
                      "whose tasks depend on each other", f"start it with a letter, e.g. 'step-{t}'", key=True)
        if keyword:
            depended = depended if depended is not None else {d.src for d in graph.deps}
            if t in depended:
                # dag.go evaluateDependsLogic: the expression is evaluated by expr-lang, where this is a keyword
                doc.error(errors, ("tasks", t), f"task name '{t}' is a keyword of Argo's depends expressions, "
                          "so the tasks after it would fail to start", f"rename it, e.g. '{t}-step'", key=True)


def _depends(doc: Document, spec: Spec, graph: dag.Graph, errors: Errors) -> None:
    bad = {path for path, _m, _o in graph.bad_edges}
    tasks, names = spec.tasks, spec.task_names
    for name, t in tasks.items():
        expr = t.depends
        path = t.where + ("depends",)
        if not isinstance(expr, str) or path in bad:
            continue
        problem = depends_syntax(expr)
        if problem:
            doc.error(errors, path, problem[0], "write e.g. 'A && (B.Succeeded || B.Failed)'", offset=problem[1])
            continue
        for ref, result, off in dag.depends_names(expr):
            # ancestry.go GetTaskDependencies / dag.go evaluateDependsLogic: AnySucceeded and AllFailed
            # look at the children of a fanned-out task; on any other task they are always false
            if result in ("AnySucceeded", "AllFailed") and ref in names and not (ref in tasks and fans_out(tasks[ref].data)):
                doc.error(errors, path, f"'{ref}.{result}' is always false: task '{ref}' does not fan out",
                          f"use '{ref}.{'Succeeded' if result == 'AnySucceeded' else 'Failed'}'", offset=off)


def _continue_on(doc: Document, spec: Spec, graph: dag.Graph, errors: Errors) -> None:
    depended = {d.src for d in graph.deps}
    for name, t in spec.tasks.items():
        raw = mapping(t.argo.get("task"))  # Argo's own DAG-task fields
        if "continueOn" in raw and uses_depends(graph):
            # validate.go validateDAG: "cannot use 'continueOn' when using 'depends'"
            doc.error(errors, ("tasks", name, "argo", "task", "continueOn"), "Argo refuses 'continueOn' in a DAG "
                      "whose tasks use depends, which heraspec emits for every edge",
                      "write continue_on: [failed] (or [failed, error]) on the task instead", key=True)
        if "dependencies" in raw and uses_depends(graph):
            # validate.go validateDAG: "cannot use both 'depends' and 'dependencies' in the same DAG template"
            doc.error(errors, ("tasks", name, "argo", "task", "dependencies"), "Argo refuses 'dependencies' in a DAG "
                      "whose tasks use depends, which heraspec emits for every edge",
                      "write the edge in heraspec: after: [...], edges or depends", key=True)
        if t.continue_on and uses_depends(graph) and name not in depended:
            # dag.go assessDAGPhase: a failed last task fails the DAG unless it has continueOn, which
            # Argo refuses here; continue_on only works through the depends of the tasks after it
            doc.error(errors, ("tasks", name, "continue_on"), f"no task runs after '{name}', so continue_on "
                      "cannot keep its failure from failing the workflow (Argo refuses continueOn with depends)",
                      "add a task after it, or remove continue_on", key=True)


def waiting_notes(doc: Document, spec: Spec, graph: dag.Graph) -> list[str]:
    """A located note per `{from: X}` whose producer X has continue_on, read by a task that runs after
    X fails (no `depends` of its own, so its dependency on X is widened to X.Failed / X.Errored): a
    failed X made no outputs, and Argo v4.1.2 then waits for ever. dag.go executeDAGTask ->
    resolveDependencyReferences: ReplaceStrictAny fails on the missing output, and IsMissingVariableErr
    requeues the workflow instead of failing the task."""
    out: list[str] = []
    tasks = spec.tasks
    for d in graph.deps:
        producer, reader = tasks.get(d.src), tasks.get(d.dst)
        if producer is None or reader is None or not producer.continue_on or d.path[-1:] != ("from",):
            continue
        if "depends" in reader.data:  # its own expression says when it runs: widened only if it names X bare
            continue
        line, col = doc.pos(d.path)
        ends = " or ".join({"failed": "fails", "error": "errors"}[k] for k in producer.continue_on)
        out.append(note(doc.path, line, col, f"task '{d.dst}' reads the result of '{d.src}', which has continue_on: "
                   f"if '{d.src}' {ends}, '{d.dst}' still runs, and on Argo it then waits for ever for the output "
                   f"'{d.src}' never made (the workflow ends only at its deadline); `heraspec run` ends it in Error. "
                   f"To stop after such a failure instead, give '{d.dst}' depends: {d.src}.Succeeded"))
    return out


def _item_key(ref: Any) -> str | None:
    return ref if isinstance(ref, str) else None


def _fan_out(doc: Document, task: Task, params: dict, errors: Errors) -> None:
    base = task.where
    fe = task.foreach  # the items, or the reference giving them
    keys = [(target, path) for kind, target, path in dag.arg_refs(task) if kind == "item"]
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
    elif isinstance(fe, Ref) and fe.kind == "param" and isinstance(fe.target, str) and fe.target in params:
        p = fe.target
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


def _raw_params(doc: Document, task: Task, params: dict, errors: Errors) -> None:
    base = task.where
    found: list[tuple[str, tuple]] = []
    for key in ("args", "when", "env", "command", "image"):
        value = task.written.get(key)  # any text the task writes there (its `defaults` are checked once)
        if value is not None and dag.has_text(value, WF_PARAM_PREFIX):  # paths only where it is
            found.extend(dag.strings_in(value, base + (key,)))
    for text, path in found:
        if WF_PARAM_PREFIX not in text:
            continue
        for m in WF_PARAM.finditer(text):
            if m.group(1) not in params:
                # validate.go resolveAllVariables: "failed to resolve {{workflow.parameters.X}}"
                doc.error(errors, path, f"unknown workflow parameter '{m.group(1)}'",
                          "declare it under 'parameters' (or pass {param: NAME})", offset=m.start(1))


def _params(doc: Document, spec: Spec, errors: Errors) -> None:
    for param in spec.parameters:
        p = param.name
        if not PARAM_NAME.match(str(p)):
            # validate.go validateArgumentsFieldNames -> isValidParamOrArtifactName
            doc.error(errors, param.where, f"parameter name '{p}' is not one Argo accepts",
                      "use letters, digits, '-' and '_', e.g. my_param-1", key=True)
