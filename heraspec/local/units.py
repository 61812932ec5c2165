"""What a DAG's state is made of for `heraspec run`: a task (`DagTask`), one execution of a template for a
task or loop item (`Unit`), the inputs a template gets (`template_inputs`), what a DAG needs from the
loop that runs it (`DagHost`), and task output decoding. dagstate.py advances them; scheduler.py
runs the units that need a pod."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Protocol

from .attempt import Outcome, TaskError, as_list
from .expr import DependsNode, depends_names, parse_depends, parse_raw, substitute
from .results import TaskResult
from ..argo_lang.fasttemplate import unmatched_tag

ABSENT = "__argo-internal.absent-optional-output__"  # common.go AbsentOptionalArgumentValue


class DagHost(Protocol):
    """What a DAG needs from the loop that runs it (scheduler.Runner)."""

    templates: dict[str, dict]
    wf_scope: dict[str, str]

    def report(self, event: str, res: TaskResult, *args: Any) -> None: ...

    def enqueue(self, unit: Unit) -> None: ...

    def finish_unit(self, unit: Unit, out: Outcome) -> None: ...

    def halted(self, dag: Any) -> None: ...


# What a task prints or writes is decoded as JSON where it parses; a value nested deeper than this is
# kept as its text: decoding and re-encoding it (Go-style JSON, summary.json) would recurse that deep.
MAX_JSON_DEPTH = 200
MAX_LOCAL_ITEMS = 100_000  # as document/load.py's MAX_ITEMS: a fan-out written or generated in one line
_JSON_NESTING = re.compile(r'"(?:\\.|[^"\\])*"|[][{}]')  # strings (skipped) and brackets


def loads_json(text: str, raw: bool = False) -> Any:
    """json.loads (`raw`: numbers kept as written, as a wfv1.Item keeps them), or ValueError also for
    JSON nested deeper than MAX_JSON_DEPTH (never RecursionError)."""
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # else it cannot nest that deep
        depth = 0
        for m in _JSON_NESTING.finditer(text):
            c = m.group()
            depth += 1 if c in "[{" else -1 if c in "]}" else 0
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return parse_raw(text) if raw else json.loads(text)


def decode_output(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return loads_json(text)
    except ValueError:
        return text


class Unit:
    """One execution of a template for one task or loop item: a pod (with retries) or a nested DAG."""

    def __init__(self, dag: Any, task: DagTask, res: TaskResult, template: dict, folder: Path):
        self.dag, self.task, self.res, self.template, self.folder = dag, task, res, template, folder
        self.inputs: dict[str, str] = {}
        self.done = False
        self.stdout: str | None = None
        self.exit_code: int | None = None
        self.t0 = 0.0
        self.retry: dict = {}
        self.final: Outcome | None = None  # its Retry node's end, once the back-off it waits out is over
        self.inner: Any = None  # a nested DAG's state (dagstate.Dag), when the template is a DAG
        self.artifacts: list[dict] = []  # the DAG task's arguments.artifacts, substituted
        self.artifact_keys: dict[str, str] = {}  # output artifact name -> repository key
        self.memo: Any = None  # where its memoized result lives (memo.Memo.key), when the template has one
        self.locked = False  # it holds its template's mutexes/semaphores (from its first attempt to its end)


class DagTask:
    """A DAG task's state: its depends tree, the units it started (one, or one per loop item), its exit hooks."""

    def __init__(self, spec: dict, prefix: str):
        self.spec = spec
        self.name = str(spec["name"])
        self.res = TaskResult(prefix + self.name)
        if spec.get("depends"):
            self.tree: DependsNode | None = parse_depends(str(spec["depends"]))
        elif spec.get("dependencies"):
            self.tree = parse_depends(" && ".join(spec["dependencies"]))
        else:
            self.tree = None
        self.deps = depends_names(self.tree) if self.tree else set()
        self.units: list[Unit] = []
        # Argo lifecycle hook `exit` (or the older `onExit`): runs when the task ends; its
        # dependents wait for it (dag.go: a task with an exit hook is complete once the hook is)
        hooks = spec.get("hooks") or {}
        self.hook: dict | None = hooks.get("exit") or ({"template": spec["onExit"]} if spec.get("onExit") else None)
        self.hook_units: list[Unit] = []  # its exit hooks: one, or one per loop child then the group's
        self.child_hooks: dict[int, Unit] = {}  # a fan-out's hooks, by the index of the child they are for
        self.group_hook = False  # a fan-out's own (group node's) hook has started
        self.fanout = False
        self.note = ""  # said after its message: where Argo's outcome for it is an Argo defect
        self.state = "pending"
        self.t0 = 0.0

    def continues_on(self, phase: str) -> bool:
        c = self.spec.get("continueOn") or {}
        return (phase == "Failed" and bool(c.get("failed"))) or (phase == "Error" and bool(c.get("error")))


def template_inputs(template: dict, given: dict[str, str], globals_: dict[str, str] | None = None) -> dict[str, str]:
    """The template's input parameters from the arguments `given`, defaults filling the rest; with
    `globals_` (workflow.*), the tags they resolve replaced inside each value, as common/util.go
    SubstituteParams replaces the globals across the template's JSON, inputs' values included,
    before it substitutes the inputs (a result holding `{{workflow.name}}` arrives with it replaced)."""
    out = {}
    for p in as_list((template.get("inputs") or {}).get("parameters")):
        name = p["name"]
        if given.get(name) == ABSENT:  # common/util.go ProcessArgs: the input's own default, else an error
            if "value" not in p and "default" not in p:
                raise TaskError(f"inputs.parameters.{name}: argument references an absent optional "
                                "(skipped/omitted node output with no default)")
            out[name] = str(p["value"] if "value" in p else p["default"])
        elif name in given:
            out[name] = given[name]
        elif "value" in p:
            out[name] = str(p["value"])
        elif "default" in p:
            out[name] = str(p["default"])
        else:
            raise TaskError(f"input parameter {name!r} of template {template['name']!r} has no value")
    if globals_:
        for k, v in out.items():
            if "{{" in v and unmatched_tag(v) is not None:  # fasttemplate.NewTemplate fails on the template
                raise TaskError(f"Cannot find end tag=\"}}}}\" in the template: the value of input '{k}' has a "
                                "`{{` with no `}}` after it (common/util.go SubstituteParams parses the template's "
                                "inputs as a template)")
        out = {k: substitute(v, globals_, strict=False) if "{{" in v else v for k, v in out.items()}
    return out
