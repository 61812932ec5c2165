"""The spec's typed model: the single source of truth for `schemas/heraspec.schema.json`.

Regenerate the committed schema with `python -m heraspec.model > schemas/heraspec.schema.json`;
tests/test_schema.py fails when the file drifts from these models. The CLI never imports this
module to validate (pydantic costs ~70 ms at start-up); `compile` uses it for typed access.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

TASK_NAME = r"^[a-zA-Z0-9][-_a-zA-Z0-9]*$"
FUNCTION_REF = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"

Scalar = Union[str, int, float, bool]


def _x(**extra: Any) -> dict:
    return {"json_schema_extra": extra}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- references inside args -------------------------------------------------------------------


class FromRef(_Strict):
    """The return value of another task (implies an edge from that task)."""

    from_: str = Field(alias="from", description="Name of the task whose return value is passed here. "
                       "Adds the edge `TASK >> this task`. For a fanned-out task it is the list of its results.",
                       **_x(examples=["prepare"]))


class ParamRef(_Strict):
    """A workflow parameter (from `parameters`, overridable with `-p NAME=VALUE`)."""

    param: str = Field(description="Name of a workflow parameter declared under `parameters`.")


class ItemRef(_Strict):
    """The current item of a `foreach` fan-out."""

    item: Union[bool, str] = Field(description="`true` for the whole item, or a key name to take one field of a mapping item.")


class SecretRef(_Strict):
    secret: str = Field(description="Name of a Kubernetes Secret.")
    key: str = Field(description="Key inside the Secret.")


class ConfigMapRef(_Strict):
    config_map: str = Field(description="Name of a Kubernetes ConfigMap.")
    key: str = Field(description="Key inside the ConfigMap.")


EnvValue = Union[Scalar, SecretRef, ConfigMapRef]


# --- task parts -------------------------------------------------------------------------------


class Backoff(_Strict):
    duration: Optional[str] = Field(None, description="Wait before the first retry, e.g. `10s`.", pattern=DURATION)
    factor: Optional[Union[int, float]] = Field(None, description="Multiplier applied to the wait after each retry, e.g. `2`.", ge=1)
    max_duration: Optional[str] = Field(None, description="Give up retrying after this long, e.g. `5m`.", pattern=DURATION)


class Retry(_Strict):
    limit: int = Field(description="Maximum number of retries after the first attempt.", ge=0)
    backoff: Optional[Backoff] = Field(None, description="Exponential back-off between retries.")
    policy: Optional[Literal["Always", "OnFailure", "OnError", "OnTransientError"]] = Field(
        None, description="Which failures are retried (Argo `retryPolicy`). Default `OnFailure`.")


class Volume(_Strict):
    """A new volume claimed for this run (`size`), or an existing PersistentVolumeClaim (`claim`)."""

    mount_path: str = Field(description="Where the volume is mounted in the task's container.", **_x(examples=["/vol"]))
    size: Optional[str] = Field(None, description="Size of a new volume created for the workflow (`volumeClaimTemplates`), e.g. `50Gi`.",
                                pattern=QUANTITY, **_x(examples=["50Gi"]))
    claim: Optional[str] = Field(None, description="Name of an existing PersistentVolumeClaim to mount instead of creating one.")
    name: Optional[str] = Field(None, description="Volume name. Tasks that use the same name share the volume. Default: `<task>-vol`.")
    storage_class: Optional[str] = Field(None, description="StorageClass of a new volume.")
    access_mode: Optional[Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]] = Field(
        None, description="Access mode of a new volume. Default `ReadWriteOnce`.")
    read_only: Optional[bool] = Field(None, description="Mount read-only.")


class Limits(_Strict):
    cpu: Optional[Union[float, str]] = Field(None, description="CPU limit.")
    memory: Optional[str] = Field(None, description="Memory limit.", pattern=QUANTITY)


class Resources(_Strict):
    """Compute resources of a task. Without any, a task requests 1 CPU and 4Gi of memory."""

    cpu: Optional[Union[float, str]] = Field(None, description="CPU cores requested: a number (`2`, `0.5`) or a quantity (`500m`).",
                                             **_x(examples=[2, "500m"]))
    memory: Optional[str] = Field(None, description="Memory requested, a Kubernetes quantity: `512Mi`, `16Gi`.",
                                  pattern=QUANTITY, **_x(examples=["4Gi"]))
    ephemeral_storage: Optional[str] = Field(None, description="Local scratch disk requested, e.g. `10Gi`.", pattern=QUANTITY)
    gpu: Optional[int] = Field(None, description="Number of GPUs (requested and limited), as `nvidia.com/gpu` unless `gpu_type` says otherwise.", ge=0)
    gpu_type: Optional[str] = Field(None, description="Extended resource name of the GPU, e.g. `amd.com/gpu`. Default `nvidia.com/gpu`.")
    limits: Optional[Union[bool, Limits]] = Field(None, description="`true` to set limits equal to the requests, or explicit `{cpu, memory}` limits.")
    volume: Optional[Volume] = Field(None, description="One volume mounted into this task.")
    volumes: Optional[List[Volume]] = Field(None, description="Several volumes mounted into this task.")


class ArgoTask(_Strict):
    task: Optional[Dict[str, Any]] = Field(None, description="Raw Argo `DAGTask` fields deep-merged into the generated DAG task.")
    template: Optional[Dict[str, Any]] = Field(None, description="Raw Argo `Template` fields deep-merged into this task's template.")


TASK_DOCS: dict[str, str] = {
    "function": "The Python function to run, as `module.path:function`. Its source is read (never imported) from the spec's "
                "folder, the current directory, `--path` or `sys.path`, and inlined into the Argo script.",
    "image": "Container image for this task. Defaults to the spec's `image`.",
    "command": "Container command, for a container task (one with no `function`).",
    "args": "Function arguments as a mapping (`{msg: hello}`), or a list of mappings to fan the task out over those argument "
            "sets. Values may be `{from: TASK}`, `{param: NAME}` or `{item: true}`. For a container task: the container args (a list).",
    "after": "Tasks that must finish successfully before this one.",
    "depends": "An Argo depends expression over task names, e.g. `A && (B.Succeeded || B.Skipped)`.",
    "when": "An Argo `when` condition; the task is skipped when it is false, e.g. `{{tasks.check.outputs.parameters.result}} == true`.",
    "retry": "Retries: a number, or `{limit, backoff, policy}`.",
    "timeout": "Fail the task when it runs longer than this, e.g. `10m`, `1h30m`.",
    "env": "Environment variables: plain values, `{secret, key}` or `{config_map, key}`.",
    "foreach": "Fan out: a list of items, `{from: TASK}` (a task returning a list) or `{param: NAME}`. "
               "`{item: true}` in `args` is the current item.",
    "resources": "CPU, memory, GPU and volumes for this task.",
    "argo": "Escape hatch: raw Argo fields merged into what heraspec generates.",
}


def _doc(name: str, **kw: Any) -> Any:
    return Field(None, description=TASK_DOCS[name], **kw)


class TaskDefaults(_Strict):
    """Task fields applied to every task unless the task sets them (resources and env merge key by key)."""

    image: Optional[str] = _doc("image")
    resources: Optional[Resources] = _doc("resources")
    retry: Optional[Union[int, Retry]] = _doc("retry")
    timeout: Optional[Union[str, int]] = _doc("timeout", pattern=DURATION)
    env: Optional[Dict[str, EnvValue]] = _doc("env")


ArgValue = Any


class Task(_Strict):
    """One step of the workflow: a Python `function`, or a container (`image` + `command`)."""

    function: Optional[str] = _doc("function", pattern=FUNCTION_REF, **_x(examples=["mypkg.steps:train"]))
    image: Optional[str] = _doc("image")
    command: Optional[List[str]] = _doc("command")
    args: Optional[Union[Dict[str, ArgValue], List[Any]]] = _doc("args")
    after: Optional[List[str]] = _doc("after")
    depends: Optional[str] = _doc("depends")
    when: Optional[str] = _doc("when")
    retry: Optional[Union[int, Retry]] = _doc("retry", **_x(examples=[3]))
    timeout: Optional[Union[str, int]] = _doc("timeout", pattern=DURATION, **_x(examples=["10m"]))
    env: Optional[Dict[str, EnvValue]] = _doc("env")
    foreach: Optional[Union[List[Any], FromRef, ParamRef]] = _doc("foreach")
    resources: Optional[Resources] = _doc("resources")
    argo: Optional[ArgoTask] = _doc("argo")


class Spec(_Strict):
    """A heraspec pipeline: Python functions as Argo Workflows tasks, with their edges and resources."""

    schema_: Optional[str] = Field(None, alias="$schema", description="Optional URL or path of this JSON Schema (for editors).")
    kind: Literal["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"] = Field(
        "Workflow", description="The Argo resource to produce.")
    name: Optional[str] = Field(None, description="Resource name (DNS-1123: lowercase letters, digits, `-`; ≤63, ≤52 for a CronWorkflow).",
                                **_x(examples=["my-pipeline"]))
    generate_name: Optional[str] = Field(None, description="Name prefix; the server (or `heraspec apply`) adds a random suffix. Workflows only.",
                                         **_x(examples=["my-pipeline-"]))
    namespace: Optional[str] = Field(None, description="Kubernetes namespace. Default: `--namespace`, `ARGO_NAMESPACE`, or none.")
    image: str = Field("python:3.12", description="Default container image of function tasks.")
    labels: Optional[Dict[str, str]] = Field(None, description="Labels of the resource.")
    annotations: Optional[Dict[str, str]] = Field(None, description="Annotations of the resource.")
    service_account: Optional[str] = Field(None, description="Service account the workflow's pods run as.")
    parallelism: Optional[int] = Field(None, description="Maximum number of tasks running at once.", ge=1)
    parameters: Optional[Dict[str, Any]] = Field(None, description="Workflow parameters and their default values; "
                                                 "use them with `{param: NAME}` and override with `-p NAME=VALUE`.")
    defaults: Optional[TaskDefaults] = Field(None, description="Task fields applied to every task unless it sets them.")
    tasks: Dict[str, Task] = Field(description="The tasks, by name (letters, digits, `-`, `_`; `_` becomes `-` in Argo).",
                                   **_x(propertyNames={"pattern": TASK_NAME, "maxLength": 128}, minProperties=1))
    edges: Optional[List[str]] = Field(None, description="Dependencies written as chains: `A >> B >> D`, `A >> [B, C] >> D`.",
                                       **_x(examples=[["A >> [B, C] >> D"]]))
    schedule: Optional[Union[str, List[str]]] = Field(None, description="CronWorkflow: cron schedule(s), e.g. `0 3 * * *`.")
    timezone: Optional[str] = Field(None, description="CronWorkflow: IANA time zone of the schedule, e.g. `Europe/Paris`.")
    concurrency_policy: Optional[Literal["Allow", "Forbid", "Replace"]] = Field(
        None, description="CronWorkflow: what to do when the previous run is still going.")
    argo: Optional[Dict[str, Any]] = Field(None, description="Escape hatch: raw Argo fields deep-merged into the generated manifest "
                                           "(e.g. `{spec: {podGC: {strategy: OnPodSuccess}}}`).")


# --- schema generation ------------------------------------------------------------------------

SNIPPETS = {
    "Task": [{"label": "function task", "description": "A Python function task",
              "body": {"function": "${1:steps}:${2:func}", "args": {"${3:name}": "${4:value}"}}}],
    "Resources": [{"label": "resources", "description": "CPU, memory and a GPU",
                   "body": {"cpu": "${1:2}", "memory": "${2:8Gi}", "gpu": "${3:1}"}}],
}


def json_schema() -> dict:
    """The JSON Schema (draft-07 style) of a spec, for editors and the validator."""
    raw = Spec.model_json_schema(by_alias=True, ref_template="#/definitions/{model}")
    defs = raw.pop("$defs", {})
    out: dict = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://heraspec.dev/schemas/heraspec.schema.json",
        "title": "heraspec spec",
    }
    out.update(_clean(raw))
    out["definitions"] = {name: _clean(d) for name, d in sorted(defs.items())}
    for name, snippets in SNIPPETS.items():
        out["definitions"][name]["defaultSnippets"] = snippets
    return out


def _clean(node: Any) -> Any:
    """Editor-friendly: no null branches, no `default: null`, docs never next to a bare $ref."""
    if isinstance(node, list):
        return [_clean(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _clean(v) for k, v in node.items() if k != "title"}
    if node.get("default", 0) is None:
        del node["default"]
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches = [b for b in node[key] if b != {"type": "null"}]
            if len(branches) == 1:
                del node[key]
                node = {**branches[0], **node}
            else:
                node[key] = branches
    if "$ref" in node and len(node) > 1:  # Taplo ignores siblings of $ref: wrap it
        node["allOf"] = [{"$ref": node.pop("$ref")}]
    if "description" in node:
        node.setdefault("markdownDescription", node["description"])
    return node


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
