"""The JSON Schema of a spec: `schemas/heraspec.schema.json`, what editors and `validate` check against.

Each pydantic class here declares the schema of one node of the typed model (document/nodes.py,
`XSchema` for the node `X`, its definition named `X`): descriptions, patterns, enums, defaults and
examples for editors. tests/test_model.py holds the two equal, key for key, so the model and the
schema cannot drift. Regenerate the committed file with
`python -m heraspec.document.model > schemas/heraspec.schema.json` (tests/test_schema.py fails when it
drifts). Only this generator and the tests import pydantic: `validate` reads the committed file
(schema.py) and builds the model without it (pydantic costs ~70 ms at start-up).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from .patterns import CPU, FUNCTION_REF, OUTPUT_NAME, QUANTITY, RESULT_KEY, SPAN, TASK_NAME
from .schema_docs import TASK_DOCS, TASK_EXAMPLES, TASK_MARKDOWN

INDEX_URL = r"^(https?|file)://[^\s{}]+$"  # no Argo "{{" in what the template carries


Scalar = Union[str, int, float, bool]
# one duration syntax everywhere (patterns.SPAN): Go's units plus `d`; the compiler writes what Argo reads
Duration = Union[Annotated[str, Field(pattern=SPAN)], Annotated[int, Field(ge=0)]]
# heraspec's duration syntax for the production keys: `90s`, `10m`, `2h`, `1d`, `1h30m`, or seconds
Span = Union[Annotated[str, Field(pattern=SPAN)], Annotated[int, Field(ge=0)]]
Cpu = Union[Annotated[float, Field(gt=0)], Annotated[str, Field(pattern=CPU)]]


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
    key: Optional[str] = Field(None, description="A field of that task's result (a mapping): `best_lr`, or a dotted path "
                               "`metrics.accuracy` (list indices as numbers). The task publishes it as a named Argo output "
                               "parameter; a missing key fails that task at run time, naming the keys it has.",
                               pattern=RESULT_KEY, **_x(examples=["best_lr", "metrics.accuracy"]))


class ParamRef(_Strict):
    """A workflow parameter (from `parameters`, overridable with `-p NAME=VALUE`)."""

    param: str = Field(description="Name of a workflow parameter declared under `parameters`.", **_x(examples=["n_points"]))


class SecretRef(_Strict):
    """The value of one key of a Kubernetes Secret (Argo `valueFrom.secretKeyRef`)."""

    secret: str = Field(description="Name of a Kubernetes Secret in the workflow's namespace.", **_x(examples=["api-credentials"]))
    key: str = Field(description="Key inside the Secret.", **_x(examples=["token"]))


class ConfigMapRef(_Strict):
    """The value of one key of a Kubernetes ConfigMap (Argo `valueFrom.configMapKeyRef`)."""

    config_map: str = Field(description="Name of a Kubernetes ConfigMap in the workflow's namespace.", **_x(examples=["settings"]))
    key: str = Field(description="Key inside the ConfigMap.", **_x(examples=["log_level"]))


EnvValue = Union[Scalar, SecretRef, ConfigMapRef]


class RepositoryKey(_Strict):
    """A key inside the workflow's artifact repository (the cluster's default or `artifact_repository`)."""

    key: str = Field(description="Object key inside the artifact repository, e.g. `datasets/reads.fq`.",
                     min_length=1, **_x(examples=["datasets/reads.fq"]))


class ArtifactRef(_Strict):
    """A file or folder from outside the workflow, given to a `Path` parameter."""

    artifact: Union[Annotated[str, Field(pattern=r"^(s3|gs|https?)://[^/]+/.+")], RepositoryKey] = Field(
        description="Where the data is: `s3://bucket/key`, `gs://bucket/key`, `https://host/path`, or `{key: ...}` in the "
        "workflow's artifact repository. The function receives a `pathlib.Path` to a local copy. "
        "`heraspec run` reads `s3://` and `gs://` from `--artifacts DIR` (`DIR/bucket/key`) and downloads `https://`.",
        **_x(examples=["s3://my-bucket/reads/sample1.fq", "https://example.org/data.csv", {"key": "datasets/reads.fq"}]))
    endpoint: Optional[str] = Field(
        None, description="`s3://` only: the S3 endpoint, e.g. `s3.amazonaws.com` or `minio.argo:9000`. Without it Argo "
        "reads the key from the bucket of the workflow's artifact repository (its endpoint and credentials).",
        **_x(examples=["s3.amazonaws.com"]))
    secret: Optional[str] = Field(
        None, description="`s3://` with `endpoint`: a Kubernetes Secret holding `accessKey` and `secretKey`. "
        "Without it the pod uses the cloud SDK's credentials (IAM role, workload identity).",
        **_x(examples=["s3-credentials"]))


class ArtifactRepositoryRef(_Strict):
    """The artifact repository the workflow's files go to (Argo `artifactRepositoryRef`)."""

    config_map: Optional[str] = Field(None, description="ConfigMap holding repository configurations. Argo's default: "
                                      "`artifact-repositories`.", **_x(examples=["artifact-repositories"]))
    key: Optional[str] = Field(None, description="Key inside the ConfigMap. Argo's default: the ConfigMap's "
                               "`workflows.argoproj.io/default-artifact-repository` annotation.", **_x(examples=["my-minio"]))


# --- task parts -------------------------------------------------------------------------------


class BackoffSchema(_Strict):
    """Exponential back-off between retries: wait `duration`, then `duration × factor`, ... up to `max_duration`."""

    duration: Optional[str] = Field(None, description="Wait before the first retry, e.g. `10s`.", pattern=SPAN,
                                    **_x(examples=["10s"]))
    factor: Optional[Annotated[int, Field(ge=1)]] = Field(None, description="Whole multiplier applied to the wait after each retry, e.g. `2` (Argo takes an integer).",
                                                **_x(examples=[2]))
    max_duration: Optional[str] = Field(None, description="Give up retrying after this long, e.g. `5m`.", pattern=SPAN,
                                        **_x(examples=["5m"]))


class RetrySchema(_Strict):
    """How a failed task is retried (Argo `retryStrategy`)."""

    limit: int = Field(description="Maximum number of retries after the first attempt.", ge=0, **_x(examples=[3]))
    backoff: Optional[BackoffSchema] = Field(None, description="Exponential back-off between retries, e.g. `{duration: 10s, factor: 2}`.")
    policy: Optional[Literal["Always", "OnFailure", "OnError", "OnTransientError"]] = Field(
        None, description="Which failures are retried (Argo `retryPolicy`). Default `OnFailure`.",
        **_x(markdownDescription="Which failures are retried (Argo `retryPolicy`):\n\n"
             "- `OnFailure` (default): the program failed (non-zero exit)\n"
             "- `OnError`: Argo or Kubernetes failed to run it (e.g. the pod was evicted)\n"
             "- `OnTransientError`: only errors Argo deems transient\n"
             "- `Always`: any of these"))


class VolumeSchema(_Strict):
    """A new volume claimed for this run (`size`), or an existing PersistentVolumeClaim (`claim`)."""

    mount_path: str = Field(description="Where the volume is mounted in the task's container (an absolute path).",
                            **_x(examples=["/vol"]))
    size: Optional[str] = Field(None, description="Size of a new volume created for the workflow (`volumeClaimTemplates`), e.g. `50Gi`.",
                                pattern=QUANTITY, **_x(examples=["50Gi"]))
    claim: Optional[str] = Field(None, description="Name of an existing PersistentVolumeClaim to mount instead of creating one.",
                                 **_x(examples=["shared-data"]))
    name: Optional[str] = Field(None, description="Volume name. Tasks that use the same name share the volume. Default: `<task>-vol`.",
                                **_x(examples=["workdir"]))
    storage_class: Optional[str] = Field(None, description="StorageClass of a new volume. Default: the cluster's default class.",
                                         **_x(examples=["standard"]))
    access_mode: Optional[Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]] = Field(
        None, description="Access mode of a new volume. Default `ReadWriteOnce` (one node at a time); "
        "`ReadWriteMany` lets tasks on several nodes share it, if the storage class supports it.")
    read_only: Optional[bool] = Field(None, description="Mount read-only. Default `false`.")


class LimitsSchema(_Strict):
    """Explicit resource limits: the container is throttled (CPU) or killed (memory) above them."""

    cpu: Optional[Cpu] = Field(None, description="CPU limit: a number of cores (`2`, `0.5`) or millicores (`500m`).",
                               **_x(examples=[4, "1500m"]))
    memory: Optional[str] = Field(None, description="Memory limit, a Kubernetes quantity: `512Mi`, `16Gi`.", pattern=QUANTITY,
                                  **_x(examples=["8Gi"]))


class ResourcesSchema(_Strict):
    """Compute resources of a task. Without any, a task requests 1 CPU and 4Gi of memory (a limit
    without a request sets the request to the limit; `false` drops the request)."""

    cpu: Optional[Union[Cpu, Literal[False]]] = Field(
        None, description="CPU cores requested: a number (`2`, `0.5`) or a quantity (`500m`). Default 1 "
        "(or the CPU limit); `false` requests none.", **_x(examples=[2, "500m"]))
    memory: Optional[Union[Annotated[str, Field(pattern=QUANTITY)], Literal[False]]] = Field(
        None, description="Memory requested, a Kubernetes quantity: `512Mi`, `16Gi`. Default 4Gi (or the memory "
        "limit); `false` requests none.", **_x(examples=["4Gi"]))
    ephemeral_storage: Optional[str] = Field(None, description="Local scratch disk requested, e.g. `10Gi`.", pattern=QUANTITY,
                                             **_x(examples=["10Gi"]))
    gpu: Optional[int] = Field(None, description="Number of GPUs (requested and limited), as `nvidia.com/gpu` unless `gpu_type` says otherwise.", ge=0,
                               **_x(examples=[1]))
    gpu_type: Optional[str] = Field(None, description="Extended resource name of the GPU, e.g. `amd.com/gpu`. Default `nvidia.com/gpu`.",
                                    **_x(examples=["nvidia.com/gpu", "amd.com/gpu"]))
    limits: Optional[Union[bool, LimitsSchema]] = Field(None, description="`true` to set limits equal to the requests, or explicit `{cpu, memory}` limits.",
                                                  **_x(examples=[True, {"memory": "16Gi"}]))
    volume: Optional[VolumeSchema] = Field(None, description="One volume mounted into this task: a new one (`{size, mount_path}`) "
                                     "or an existing claim (`{claim, mount_path}`).")
    volumes: Optional[List[VolumeSchema]] = Field(None, description="Several volumes mounted into this task (each like `volume`).")


class Semaphore(_Strict):
    """A semaphore whose limit is one key of a ConfigMap (Argo `synchronization.semaphores[].configMapKeyRef`)."""

    config_map: str = Field(description="ConfigMap holding the limit.", **_x(examples=["limits"]))
    key: str = Field(description="Key of the ConfigMap whose value is the limit (a number). `heraspec run` takes it "
                     "from `--semaphore CONFIG_MAP/KEY=N` (default 1).", **_x(examples=["gpu-jobs"]))


class Cache(_Strict):
    """Argo `memoize`, with a key heraspec computes from the code carried, image, packages and input values."""

    max_age: Optional[Span] = Field(None, description="Results older than this are recomputed, e.g. `24h`, `7d`. "
                                    "Default: no limit.", **_x(examples=["24h", "7d"]))
    config_map: Optional[str] = Field(None, description="ConfigMap Argo stores the results in. Default `heraspec-cache`.",
                                      **_x(examples=["heraspec-cache"]))


class Ttl(_Strict):
    """How long the finished Workflow is kept (Argo `ttlStrategy`)."""

    after_completion: Optional[Span] = Field(None, description="Delete the Workflow this long after it ends, e.g. `1d`.")
    after_success: Optional[Span] = Field(None, description="Delete it this long after it succeeds.")
    after_failure: Optional[Span] = Field(None, description="Delete it this long after it fails or errors.")


class ArgoTask(_Strict):
    """Raw Argo fields for one task, deep-merged last into what heraspec generates."""

    task: Optional[Dict[str, Any]] = Field(None, description="Raw Argo `DAGTask` fields deep-merged into the generated DAG task.",
                                           **_x(examples=[{"onExit": "cleanup"}]))
    template: Optional[Dict[str, Any]] = Field(None, description="Raw Argo `Template` fields deep-merged into this task's template.",
                                               **_x(examples=[{"nodeSelector": {"pool": "gpu"}}]))


def _doc(name: str, **kw: Any) -> Any:
    extra = dict(kw.pop("json_schema_extra", None) or {})
    if name in TASK_EXAMPLES:
        extra.setdefault("examples", TASK_EXAMPLES[name])
    if name in TASK_MARKDOWN:
        extra.setdefault("markdownDescription", TASK_DOCS[name] + "\n\n" + TASK_MARKDOWN[name])
    return Field(None, description=TASK_DOCS[name], json_schema_extra=extra or None, **kw)


class TaskDefaults(_Strict):
    """Task fields applied to every task unless the task sets them (resources and env merge key by key)."""

    image: Optional[str] = _doc("image")
    resources: Optional[ResourcesSchema] = _doc("resources")
    retry: Optional[Union[int, RetrySchema]] = _doc("retry")
    timeout: Optional[Duration] = _doc("timeout")
    env: Optional[Dict[str, EnvValue]] = _doc("env")
    packages: Optional[List[Annotated[str, Field(min_length=1)]]] = _doc("packages")
    pip_index_url: Optional[Union[Annotated[str, Field(pattern=INDEX_URL)], SecretRef]] = _doc("pip_index_url")
    pip_extra_index_urls: Optional[List[Annotated[str, Field(pattern=INDEX_URL)]]] = _doc("pip_extra_index_urls")
    code: Optional[Literal["carry", "image"]] = _doc("code")
    result: Optional[Literal["parameter", "artifact"]] = _doc("result")
    node_selector: Optional[Dict[str, str]] = _doc("node_selector")
    tolerations: Optional[List[Dict[str, Any]]] = _doc("tolerations")
    affinity: Optional[Dict[str, Any]] = _doc("affinity")
    priority_class: Optional[str] = _doc("priority_class")
    pod_labels: Optional[Dict[str, str]] = _doc("pod_labels")
    pod_annotations: Optional[Dict[str, str]] = _doc("pod_annotations")
    mutex: Optional[Annotated[str, Field(min_length=1)]] = _doc("mutex")
    semaphore: Optional[Semaphore] = _doc("semaphore")
    image_pull_policy: Optional[Literal["Always", "IfNotPresent", "Never"]] = _doc("image_pull_policy")
    service_account: Optional[str] = _doc("service_account")
    cache: Optional[Union[bool, Cache]] = _doc("cache")


# `{artifact: ...}` is listed for editors (completion, hover); any other value is accepted here and checked later
ArgValue = Union[ArtifactRef, Any]


class TemplateRefSchema(_Strict):
    """A template of an existing WorkflowTemplate (or ClusterWorkflowTemplate), called instead of a function (Argo `templateRef`)."""

    name: str = Field(description="Name of the WorkflowTemplate (or ClusterWorkflowTemplate).", **_x(examples=["shared-steps"]))
    template: str = Field(description="Name of the template inside it (`main` is a heraspec spec's whole DAG; a function's "
                          "template is named after the function, `_` as `-`).", **_x(examples=["clean"]))
    cluster: bool = Field(False, description="`true` for a ClusterWorkflowTemplate.")


class WorkflowTemplateRefSchema(_Strict):
    """Submit an existing WorkflowTemplate (or ClusterWorkflowTemplate) as this Workflow (Argo `workflowTemplateRef`)."""

    name: str = Field(description="Name of the WorkflowTemplate (or ClusterWorkflowTemplate).", **_x(examples=["shared-steps"]))
    cluster: bool = Field(False, description="`true` for a ClusterWorkflowTemplate.")


class ExitTask(_Strict):
    """What runs when the workflow (spec-level `on_exit`) or one task (`tasks.X.on_exit`) ends, whatever
    its outcome: a Python `function` or a container (`image` + `command`), with `args`."""

    function: Optional[str] = _doc("function", pattern=FUNCTION_REF)
    image: Optional[str] = _doc("image")
    command: Optional[List[str]] = _doc("command")
    args: Optional[Union[Dict[str, ArgValue], List[Any]]] = Field(
        None, description="Arguments, as for a task. They may also use `{workflow: status}` (`Succeeded`, `Failed` or "
        "`Error`), `{workflow: failures}` (Argo's JSON list of the failed nodes), `{workflow: duration}` (seconds) "
        "and `{workflow: name}`; the first three only in the spec-level `on_exit`. A task's `on_exit` may use "
        "`{from: TASK}` of that task or of a task it depends on.",
        **_x(examples=[{"status": {"workflow": "status"}, "failures": {"workflow": "failures"}}]))
    env: Optional[Dict[str, EnvValue]] = _doc("env")
    resources: Optional[ResourcesSchema] = _doc("resources")
    retry: Optional[Union[int, RetrySchema]] = _doc("retry")
    timeout: Optional[Duration] = _doc("timeout")
    packages: Optional[List[Annotated[str, Field(min_length=1)]]] = Field(
        None, description="Third-party distributions the exit handler's function needs (pip requirements, PEP 508). "
        "Only these: an exit handler does not install the spec's or `defaults`' packages.",
        **_x(examples=[["requests"]]))


ON_EXIT_DOC = ("Runs after {what} ends, whatever the outcome ({argo}): a `function` or container task body with `args`.")


class TaskSchema(TaskDefaults):
    """One step of the workflow: a Python `function`, a container (`image` + `command`) or a `template_ref`."""

    function: Optional[str] = _doc("function", pattern=FUNCTION_REF)
    pipeline: Optional[str] = Field(
        None, description="Run another spec's DAG as this task (a nested DAG template; its templates come along under "
        "names that cannot collide). The path is relative to this spec's folder. `args` (a mapping) set that spec's "
        "`parameters`; `{from: THIS_TASK}` is the result of the task that spec names in its `result` key.",
        **_x(examples=["preprocess.heraspec.yaml"]))
    template_ref: Optional[TemplateRefSchema] = Field(
        None, description="Call a template of an existing WorkflowTemplate instead of a function (Argo `templateRef`); "
        "`args` (a mapping) fill its input parameters. `validate` checks them when the template is defined by a spec "
        "validated together or given with `--templates PATH`; `heraspec run` runs it from there.",
        **_x(examples=[{"name": "shared-steps", "template": "clean"}]))
    command: Optional[List[str]] = _doc("command")
    args: Optional[Union[Dict[str, ArgValue], List[Any]]] = _doc("args")
    after: Optional[List[str]] = _doc("after")
    depends: Optional[str] = _doc("depends")
    when: Optional[str] = _doc("when")
    foreach: Optional[Union[List[Any], FromRef, ParamRef]] = _doc("foreach")
    outputs: Optional[Dict[str, Annotated[str, Field(pattern=RESULT_KEY)]]] = _doc(
        "outputs", json_schema_extra={"propertyNames": {"pattern": OUTPUT_NAME}})
    continue_on: Optional[List[Literal["failed", "error"]]] = _doc("continue_on")
    on_exit: Optional[ExitTask] = Field(None, description=ON_EXIT_DOC.format(what="this task", argo="Argo lifecycle hook `exit`"),
                                        **_x(examples=[{"function": "mypkg.steps:cleanup", "args": {"run": {"from": "train"}}}]))
    argo: Optional[ArgoTask] = _doc("argo")


class SpecSchema(_Strict):
    """A heraspec pipeline: Python functions as Argo Workflows tasks, with their edges and resources."""

    schema_: Optional[str] = Field(None, alias="$schema", description="Optional URL or path of this JSON Schema (for editors); "
                                   "heraspec itself ignores it.", **_x(examples=["./heraspec.schema.json"]))
    kind: Literal["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"] = Field(
        "Workflow", description="The Argo resource to produce.",
        **_x(markdownDescription="The Argo resource to produce:\n\n"
             "- `Workflow` (default): one run, submitted with `heraspec apply`\n"
             "- `WorkflowTemplate`: a reusable template in a namespace\n"
             "- `ClusterWorkflowTemplate`: a reusable template for the whole cluster\n"
             "- `CronWorkflow`: runs on a `schedule`"))
    name: Optional[str] = Field(None, description="Resource name (DNS-1123: lowercase letters, digits, `-`; ≤63, ≤52 for a CronWorkflow).",
                                **_x(examples=["my-pipeline"]))
    generate_name: Optional[str] = Field(None, description="Name prefix; the server (or `heraspec apply`) adds a random suffix. Workflows only.",
                                         **_x(examples=["my-pipeline-"]))
    namespace: Optional[str] = Field(None, description="Kubernetes namespace. Default: `--namespace`, `ARGO_NAMESPACE`, or none.",
                                     **_x(examples=["argo"]))
    image: str = Field("python:3.12", description="Default container image of function tasks. It needs a `python` "
                       "that can run the functions (and has their third-party imports installed).",
                       **_x(examples=["python:3.12", "ghcr.io/acme/trainer:1.4"]))
    labels: Optional[Dict[str, str]] = Field(None, description="Labels of the resource.", **_x(examples=[{"team": "ml"}]))
    annotations: Optional[Dict[str, str]] = Field(None, description="Annotations of the resource.",
                                                  **_x(examples=[{"owner": "jane@example.com"}]))
    service_account: Optional[str] = Field(None, description="Service account the workflow's pods run as.",
                                           **_x(examples=["argo-workflow"]))
    parallelism: Optional[int] = Field(None, description="Maximum number of tasks running at once.", ge=1, **_x(examples=[4]))
    parameters: Optional[Dict[str, Any]] = Field(None, description="Workflow parameters and their default values; "
                                                 "use them with `{param: NAME}` and override with `-p NAME=VALUE`.",
                                                 **_x(examples=[{"n_points": 200, "dataset": "s3://bucket/data.csv"}]))
    defaults: Optional[TaskDefaults] = Field(None, description="Task fields applied to every task unless it sets them.",
                                             **_x(examples=[{"retry": 2, "resources": {"cpu": 2, "memory": "4Gi"}}]))
    packages: Optional[List[Annotated[str, Field(min_length=1)]]] = Field(
        None, description="Third-party distributions every function task installs (pip requirements, PEP 508); "
        "`defaults.packages` and a task's `packages` add to them, the task winning for the same distribution.",
        **_x(examples=[["numpy>=1.26", "scikit-learn==1.5.*"]]))
    pip_index_url: Optional[Union[Annotated[str, Field(pattern=INDEX_URL)], SecretRef]] = _doc("pip_index_url")
    pip_extra_index_urls: Optional[List[Annotated[str, Field(pattern=INDEX_URL)]]] = _doc("pip_extra_index_urls")
    result: Optional[str] = Field(None, description="The task whose result is this spec's result when another spec runs it "
                                  "as a sub-pipeline (`tasks.X.pipeline`): `{from: X}` there gives it.",
                                  **_x(examples=["train"]))
    workflow_template_ref: Optional[WorkflowTemplateRefSchema] = Field(
        None, description="Submit an existing WorkflowTemplate as this Workflow (Argo `workflowTemplateRef`), with "
        "`parameters` as its arguments, instead of `tasks`. `heraspec run` runs it from the spec defining it "
        "(validated together, or `--templates PATH`).", **_x(examples=[{"name": "shared-steps"}]))
    tasks: Optional[Dict[str, TaskSchema]] = Field(None, description="The tasks, by name (letters, digits, `-`, `_`; `_` becomes `-` in Argo).",
                                   **_x(propertyNames={"pattern": TASK_NAME, "maxLength": 128}, minProperties=1,
                                        markdownDescription="The tasks, by name (letters, digits, `-`, `_`; `_` becomes `-` in Argo).\n\n"
                                        "```yaml\ntasks:\n  prepare:\n    function: mypkg.steps:prepare\n  train:\n"
                                        "    function: mypkg.steps:train\n    args: {data: {from: prepare}}\n```",
                                        defaultSnippets=[{"label": "new task", "description": "A task running a Python function",
                                                          "body": {"${1:name}": {"function": "${2:steps}:${3:func}"}}}]))
    artifact_repository: Optional[ArtifactRepositoryRef] = Field(
        None, description="The artifact repository for this workflow's files and `result: artifact` values "
        "(Argo `artifactRepositoryRef`). Default: the cluster's default repository.",
        **_x(examples=[{"config_map": "artifact-repositories", "key": "my-minio"}]))
    edges: Optional[List[str]] = Field(None, description="Dependencies written as chains: `A >> B >> D`, `A >> [B, C] >> D`.",
                                       **_x(examples=[["A >> [B, C] >> D"]]))
    schedule: Optional[Union[str, List[str]]] = Field(None, description="CronWorkflow: cron schedule(s), e.g. `0 3 * * *`.",
                                                      **_x(examples=["0 3 * * *", ["0 3 * * *", "0 15 * * *"]]))
    timezone: Optional[str] = Field(None, description="CronWorkflow: IANA time zone of the schedule, e.g. `Europe/Paris`.",
                                    **_x(examples=["Europe/Paris", "UTC"]))
    concurrency_policy: Optional[Literal["Allow", "Forbid", "Replace"]] = Field(
        None, description="CronWorkflow: what to do when the previous run is still going.",
        **_x(markdownDescription="CronWorkflow: what to do when the previous run is still going:\n\n"
             "- `Allow` (Argo's default): start the new run anyway\n"
             "- `Forbid`: skip the new run\n"
             "- `Replace`: stop the running one and start the new run"))
    node_selector: Optional[Dict[str, str]] = _doc("node_selector")
    tolerations: Optional[List[Dict[str, Any]]] = _doc("tolerations")
    affinity: Optional[Dict[str, Any]] = _doc("affinity")
    priority_class: Optional[str] = _doc("priority_class")
    pod_labels: Optional[Dict[str, str]] = _doc("pod_labels")
    pod_annotations: Optional[Dict[str, str]] = _doc("pod_annotations")
    mutex: Optional[Annotated[str, Field(min_length=1)]] = Field(
        None, description="Only one Workflow holding this mutex runs at a time (Argo workflow-level `synchronization`).",
        **_x(examples=["nightly-etl"]))
    semaphore: Optional[Semaphore] = Field(None, description="At most N Workflows holding this semaphore run at a time "
                                           "(Argo workflow-level `synchronization`).")
    deadline: Optional[Span] = Field(None, description="Stop the whole workflow when it runs longer than this, e.g. `2h` "
                                     "(Argo `activeDeadlineSeconds`).", **_x(examples=["2h", "1d"]))
    ttl: Optional[Ttl] = Field(None, description="Delete the finished Workflow after a while (Argo `ttlStrategy`).",
                               **_x(examples=[{"after_completion": "1d"}, {"after_success": "1h", "after_failure": "7d"}]))
    pod_gc: Optional[Literal["on_pod_completion", "on_pod_success", "on_workflow_completion", "on_workflow_success"]] = Field(
        None, description="When Argo deletes the pods (Argo `podGC.strategy`). Default: never.")
    archive_logs: Optional[bool] = Field(None, description="Keep the pods' logs in the artifact repository (Argo `archiveLogs`).")
    priority: Optional[int] = Field(None, description="Priority of this Workflow over other pending ones (Argo `priority`); "
                                    "higher runs first.", ge=-(2**31), le=2**31 - 1, **_x(examples=[10]))
    on_exit: Optional[ExitTask] = Field(None, description=ON_EXIT_DOC.format(what="the workflow", argo="Argo `onExit`"),
                                        **_x(examples=[{"function": "mypkg.steps:notify",
                                                        "args": {"status": {"workflow": "status"}, "failures": {"workflow": "failures"}}}]))
    argo: Optional[Dict[str, Any]] = Field(None, description="Escape hatch: raw Argo fields deep-merged into the generated manifest "
                                           "(e.g. `{spec: {podGC: {strategy: OnPodSuccess}}}`).",
                                           **_x(examples=[{"spec": {"podGC": {"strategy": "OnPodSuccess"}}}]))


# --- schema generation ------------------------------------------------------------------------

# yaml-language-server's `defaultSnippets` (VS Code's format): offered by completion where the
# definition applies. "$root" is the whole document (an empty file offers a starter spec).
SNIPPETS = {
    "$root": [{"label": "heraspec spec", "description": "A starter spec: two tasks and an edge",
               "body": {"name": "${1:my-pipeline}",
                        "tasks": {"${2:prepare}": {"function": "${3:steps}:${2:prepare}"},
                                  "${4:train}": {"function": "${3:steps}:${4:train}", "args": {"data": {"from": "${2:prepare}"}}}}}}],
    "Task": [{"label": "function task", "description": "A Python function task",
              "body": {"function": "${1:steps}:${2:func}", "args": {"${3:name}": "${4:value}"}}},
             {"label": "fan-out task", "description": "One child task per item of another task's list",
              "body": {"function": "${1:steps}:${2:func}", "foreach": {"from": "${3:task}"}, "args": {"${4:name}": {"item": True}}}},
             {"label": "container task", "description": "A container image and command instead of a function",
              "body": {"image": "${1:alpine:3.20}", "command": ["${2:echo}"], "args": ["${3:hello}"]}}],
    "Resources": [{"label": "resources", "description": "CPU, memory and a GPU",
                   "body": {"cpu": "${1:2}", "memory": "${2:8Gi}", "gpu": "${3:1}"}},
                  {"label": "new volume", "description": "A fresh volume for this run, mounted into the task",
                   "body": {"volume": {"size": "${1:10Gi}", "mount_path": "${2:/vol}"}}}],
    "Retry": [{"label": "retry with back-off", "description": "Retry 3 times, waiting 10s, 20s, 40s",
               "body": {"limit": "${1:3}", "backoff": {"duration": "${2:10s}", "factor": "${3:2}"}}}],
    "Volume": [{"label": "new volume", "description": "A fresh volume for this run",
                "body": {"size": "${1:10Gi}", "mount_path": "${2:/vol}"}},
               {"label": "existing claim", "description": "An existing PersistentVolumeClaim",
                "body": {"claim": "${1:my-claim}", "mount_path": "${2:/data}"}}],
}


def json_schema() -> dict:
    """The JSON Schema (draft-07 style) of a spec, for editors and the validator."""
    raw = _named(SpecSchema.model_json_schema(by_alias=True, ref_template="#/definitions/{model}"))
    defs = raw.pop("$defs", {})
    out: dict = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://heraspec.dev/schemas/heraspec.schema.json",
        "title": "heraspec spec",
    }
    out.update(_clean(raw))
    out["definitions"] = {name: _clean(d) for name, d in sorted(defs.items())}
    for key in ("cpu", "memory"):  # `cpu: null` (YAML) drops the request as `false` does
        out["definitions"]["Resources"]["properties"][key]["anyOf"].append({"type": "null"})
    for name, snippets in SNIPPETS.items():
        (out if name == "$root" else out["definitions"][name])["defaultSnippets"] = snippets
    return out


def _named(node: Any) -> Any:
    """The definitions named for the nodes they describe (`TaskSchema` -> `Task`)."""
    if isinstance(node, list):
        return [_named(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str):
            v = v.removesuffix(_SUFFIX)
        out[k] = {n.removesuffix(_SUFFIX): _named(d) for n, d in v.items()} if k == "$defs" else _named(v)
    return out


_SUFFIX = "Schema"


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
