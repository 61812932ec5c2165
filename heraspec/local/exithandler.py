"""The workflow's exit handler for `heraspec run` (Argo `spec.onExit`), with the values Argo gives it.

Argo's controller (workflow/controller/operator.go, `operate`) sets, once the entrypoint's node has
ended: `workflow.status` (the workflow's phase: Succeeded, Failed or Error), `workflow.duration`
(seconds, `fmt.Sprintf("%f", ...)`) and `workflow.failures`: `strconv.Quote` of `json.Marshal` of a
list of `failedNodeStatus{displayName, message, templateName, phase, podName, finishedAt}`, one per
node whose phase is Failed or Error. The quoting is part of the value (its comment: "so that the
escaped quotes are not removed during parameter substitution"), so a function receives a JSON
string holding the JSON list (`null` when nothing failed): `json.loads(failures)` gives the list. Argo iterates a Go map, so
its order is arbitrary; here nodes come in the order they were declared. A retried task's failed
attempts are listed too, as `TASK(i)` (Argo's pod nodes under the Retry node), even when a later
attempt succeeded. Each message is the one Argo's controller sets on that node (TaskResult.argo_message):
a pod's from inferFailedReason (`main: Error (exit code N)`, the kubelet's "Pod was active on the
node longer than the specified deadline" for a template timeout), a Retry node's from
processNodeRetries ("No more retries left", "Max duration limit exceeded", else its last pod's),
none for a DAG or fan-out group node; heraspec's own where Argo's is its error's text.

A workflow whose entrypoint Succeeded but whose exit handler Failed (or Errored) ends Failed
(Error), as `operate` marks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .results import TaskResult
from ..argo_lang.gojson import Struct, marshal, quote

if TYPE_CHECKING:
    from .dagstate import Dag

def fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def pod_name(workflow: str, node: str, template: str) -> str:
    """Argo's pod name (v2) of a node: util.GeneratePodName."""
    if workflow == node:
        return workflow
    prefix = f"{workflow}-{template}"[:242]  # ensurePodNamePrefixLength: 253 - hash - "-"
    return f"{prefix}-{fnv32a(node)}"


def _stamp(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def failures(root: "Dag", workflow: str, entrypoint: str, status: str, finished: datetime) -> str:
    """The value of `{{workflow.failures}}` after `root` (the entrypoint's DAG) ended."""
    rows = []
    if status != "Succeeded":  # the entrypoint's own DAG node (its node name is the workflow's name);
        # dag.go executeDAG marks its phase with no message, operator.go checkParallelism's failFast with one
        rows.append(Struct({"displayName": workflow, "message": root.message, "templateName": entrypoint,
                     "phase": status, "podName": workflow, "finishedAt": _stamp(finished)}))
    for display, template, res in root.nodes():
        if res.phase in ("Failed", "Error"):
            message = res.message if res.argo_message is None else res.argo_message
            rows.append(Struct({"displayName": display, "message": message, "templateName": template,
                         "phase": res.phase, "podName": pod_name(workflow, f"{workflow}.{res.name}", template),
                         "finishedAt": _stamp(res.finished)}))
        # a retried task is a Retry node; each failed attempt is a pod node `NAME(i)` of its own
        for i, phase, message, finished in res.failed_attempts:
            rows.append(Struct({"displayName": f"{display}({i})", "message": message, "templateName": template,
                                "phase": phase, "podName": pod_name(workflow, f"{workflow}.{res.name}({i})", template),
                                "finishedAt": _stamp(finished)}))
    return quote(marshal(rows or None))  # Go marshals the empty (nil) slice as null


def exit_result(dag: "Dag") -> TaskResult:
    """The exit handler's node in the run summary: `onExit`, its tasks as children."""
    kids = [t.res for t in dag.tasks.values()]
    res = TaskResult("onExit", phase=dag.status() if dag.status() != "Succeeded" else "Succeeded", children=kids)
    res.result = kids[0].result if len(kids) == 1 else None
    res.message = next((k.message for k in kids if k.phase in ("Failed", "Error")), "")
    starts = [k.started for k in kids if k.started]
    ends = [k.finished for k in kids if k.finished]
    res.started, res.finished = (min(starts) if starts else None), (max(ends) if ends else None)
    if res.started and res.finished:
        res.duration_s = round((res.finished - res.started).total_seconds(), 3)
    res.attempts = sum(k.attempts for k in kids)
    return res
