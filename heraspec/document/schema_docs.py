"""The words of the spec's JSON Schema, for editors: each definition's description (`DEFINITIONS`),
each key's description, richer hover text (`markdownDescription`) and examples (`KEYS`, by definition
and key, in the order editors list them), and the snippets completion offers (`SNIPPETS`). What a
value may be is declared on the model (document/nodes.py, shapes.py), never here; `schemagen` joins
the two and fails on a key with no words or words with no key. Plain data, no imports.
"""

from __future__ import annotations

# the words of a task's keys, shared by a task, `defaults`, an exit handler and the spec-level keys
TASK_DOCS: dict[str, str] = {
    "function": "The Python function to run, as `module.path:function`. Its source is read (never imported) from the spec's "
                "folder, the current directory, `--path` or `sys.path`, and inlined into the Argo script.",
    "image": "Container image for this task. Defaults to the spec's `image`.",
    "command": "Container command, for a container task (one with no `function`).",
    "args": "Function arguments as a mapping (`{msg: hello}`), or a list of mappings to fan the task out over those argument "
            "sets. Values may be `{from: TASK}`, `{param: NAME}`, `{item: true}` or, for a `Path` parameter, "
            "`{artifact: URL}`. For a container task: the container args (a list).",
    "after": "Tasks that must finish successfully before this one.",
    "depends": "An Argo depends expression over task names, e.g. `A && (B.Succeeded || B.Skipped)`.",
    "when": "An Argo `when` condition; the task is skipped when it is false, e.g. `{{tasks.check.outputs.parameters.result}} == true`.",
    "retry": "Retries: a number, or `{limit, backoff, policy}`.",
    "timeout": "Fail the task when it runs longer than this, e.g. `10m`, `1h30m`.",
    "env": "Environment variables: plain values, `{secret, key}` or `{config_map, key}`.",
    "foreach": "Fan out: a list of items, `{from: TASK}` (a task returning a list) or `{param: NAME}`. "
               "`{item: true}` in `args` is the current item.",
    "resources": "CPU, memory, GPU and volumes for this task.",
    "continue_on": "Let the tasks after this one run even when it ends `failed` (its program failed) or `error` "
                   "(Argo or Kubernetes could not run it); they see it as done.",
    "argo": "Escape hatch: raw Argo fields merged into what heraspec generates (lists of named items merge by `name`).",
    "packages": "Third-party distributions the function needs, as pip requirements (PEP 508). The pod installs them "
                "with pip before the function's code runs; `heraspec run` installs them once into a cached virtual "
                "environment. Spec-level, `defaults` and task lists merge; for the same distribution the task wins.",
    "pip_index_url": "The package index pip installs `packages` from, instead of PyPI (pip's `--index-url`). An index "
                     "that needs credentials: `{secret: NAME, key: KEY}`, a Secret holding the whole URL (the pod "
                     "reads it as PIP_INDEX_URL; a URL with `user:password@` is refused).",
    "pip_extra_index_urls": "More package indexes pip may install `packages` from (pip's `--extra-index-url`).",
    "code": "How the function's code reaches the pod. `carry` (default): its source and the modules of your project "
            "it imports travel inside the template. `image`: the image already contains your package, and the script "
            "imports the function from it (for codebases too large to carry).",
    "outputs": "Named Argo output parameters taken from fields of the function's result (a mapping): "
               "`{accuracy: metrics.accuracy}`. Shown in the Argo UI, usable as `{from: TASK, key: ...}` and in raw "
               "expressions as `{{tasks.TASK.outputs.parameters.accuracy}}`. Each value arrives as JSON, like `result`.",
    "node_selector": "Run the pods on nodes with these labels (Kubernetes `nodeSelector`), e.g. "
                     "`{cloud.google.com/gke-accelerator: nvidia-tesla-t4}`. Spec, `defaults` and task maps merge key by key.",
    "tolerations": "Taints the pods tolerate: Kubernetes tolerations, written as Kubernetes writes them "
                   "(`key`, `operator`, `value`, `effect`, `tolerationSeconds`).",
    "affinity": "Kubernetes affinity, as Kubernetes writes it (`nodeAffinity`, `podAffinity`, `podAntiAffinity`).",
    "priority_class": "Kubernetes PriorityClass of the pods (Argo `priorityClassName`).",
    "image_pull_policy": "When the kubelet pulls the image: `Always`, `IfNotPresent` or `Never`.",
    "pod_labels": "Labels of the pods (Argo pod metadata). Spec, `defaults` and task maps merge key by key.",
    "pod_annotations": "Annotations of the pods (Argo pod metadata). Spec, `defaults` and task maps merge key by key.",
    "service_account": "Service account the pods run as (Argo `serviceAccountName`).",
    "mutex": "Only one holder of this mutex runs at a time, across workflows of the namespace (Argo `synchronization.mutexes`).",
    "semaphore": "At most N holders run at a time, N being the value of a ConfigMap key (Argo `synchronization.semaphores`).",
    "cache": "Reuse an earlier result of this task when its code (the carried script and the helpers it uses), image, "
             "packages and input values are the same (Argo `memoize`): `true`, or `{max_age, config_map}`. "
             "`heraspec run` keeps the same cache in `.heraspec/cache`; `--no-cache` ignores it.",
    "result": "How the return value travels: `parameter` (default; at most 128 KiB) or `artifact` (through the "
              "artifact repository, any size; consumers are unchanged). A function returning `Path` always uses an artifact.",
}

# Richer hover text for editors (`markdownDescription`): the plain `description` plus a small example.
TASK_MARKDOWN: dict[str, str] = {
    "function": "```yaml\nfunction: mypkg.steps:train   # mypkg/steps.py, def train(...)\n```",
    "args": "```yaml\nargs: {data: {from: prepare}, learning_rate: 0.5}\n# or fan out, one child task per mapping:\n"
            "args:\n  - {degree: 1}\n  - {degree: 3}\n```",
    "after": "```yaml\nafter: [prepare, download]\n```",
    "depends": "```yaml\ndepends: train && (check.Succeeded || check.Skipped)\n```",
    "when": "```yaml\nwhen: \"{{tasks.check.outputs.parameters.result}} == true\"\n```",
    "retry": "```yaml\nretry: 3\n# or\nretry: {limit: 3, backoff: {duration: 10s, factor: 2}, policy: Always}\n```",
    "timeout": "Units: `s`, `m`, `h`, `d` (and `ms`); a bare number is seconds.",
    "env": "```yaml\nenv:\n  LOG_LEVEL: debug\n  API_TOKEN: {secret: api-credentials, key: token}\n```",
    "foreach": "```yaml\nforeach: {from: list_shards}\nargs: {shard: {item: true}}\n```",
    "resources": "```yaml\nresources: {cpu: 4, memory: 16Gi, gpu: 1, volume: {size: 50Gi, mount_path: /vol}}\n```",
    "continue_on": "```yaml\ncontinue_on: [failed]   # or [failed, error]\n```",
    "argo": "```yaml\nargo:\n  template: {nodeSelector: {pool: gpu}}\n  task: {onExit: cleanup}\n```",
    "outputs": "```yaml\noutputs: {accuracy: metrics.accuracy, lr: best_lr}\n```",
    "packages": "```yaml\npackages: [numpy>=1.26, \"scikit-learn==1.5.*\"]\n```\n"
                "`import sklearn` needs `scikit-learn`, `import yaml` needs `PyYAML`: `heraspec validate` names the "
                "distribution when an import is not covered.",
    "code": "```yaml\ndefaults:\n  image: ghcr.io/acme/pipeline:1.4   # pip install . in its Dockerfile\n  code: image\n```",
    "result": "```yaml\nresult: artifact   # a large return value (a list of megabytes...)\n```",
}

TASK_EXAMPLES: dict[str, list] = {
    "function": ["mypkg.steps:train"],
    "image": ["python:3.12", "ghcr.io/acme/trainer:1.4"],
    "command": [["python", "-m", "mytool"]],
    "args": [{"msg": "hello"}, {"data": {"from": "prepare"}}],
    "after": [["prepare"]],
    "depends": ["A && (B.Succeeded || B.Skipped)"],
    "when": ["{{tasks.check.outputs.parameters.result}} == true"],
    "retry": [3, {"limit": 3, "backoff": {"duration": "10s", "factor": 2}}],
    "timeout": ["10m", "1h30m"],
    "env": [{"LOG_LEVEL": "debug"}],
    "foreach": [[1, 2, 3], {"from": "list_shards"}],
    "outputs": [{"accuracy": "metrics.accuracy"}],
    "packages": [["numpy>=1.26", "scikit-learn==1.5.*"], ["requests"]],
    "pip_index_url": ["https://pypi.example.com/simple", {"secret": "pypi-index", "key": "url"}],
    "pip_extra_index_urls": [["https://download.pytorch.org/whl/cpu"]],
    "code": ["carry", "image"],
    "result": ["artifact"],
    "node_selector": [{"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}],
    "tolerations": [[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]],
    "priority_class": ["high-priority"],
    "image_pull_policy": ["IfNotPresent"],
    "pod_labels": [{"team": "ml"}],
    "pod_annotations": [{"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}],
    "mutex": ["gpu-node"],
    "semaphore": [{"config_map": "limits", "key": "gpu-jobs"}],
    "cache": [True, {"max_age": "24h"}],
}


def _task(name: str) -> dict:
    """A task key's words: its description, examples, and hover text (the description and a small example)."""
    words: dict = {"description": TASK_DOCS[name]}
    if name in TASK_EXAMPLES:
        words["examples"] = TASK_EXAMPLES[name]
    if name in TASK_MARKDOWN:
        words["markdownDescription"] = TASK_DOCS[name] + "\n\n" + TASK_MARKDOWN[name]
    return words


def _tasks(*names: str) -> dict[str, dict]:
    return {name: _task(name) for name in names}


def _k(description: str, *, examples: list | None = None, markdown: str | None = None, **editor: object) -> dict:
    """A key's words: `markdown` is its hover text when richer than `description`; `editor` more for
    editors (`defaultSnippets`)."""
    words: dict = {"description": description, **editor}
    if examples is not None:
        words["examples"] = examples
    if markdown is not None:
        words["markdownDescription"] = markdown
    return words


# `defaults`' keys, in the order editors list them (a task lists them first)
_DEFAULTS_KEYS = ("image", "resources", "retry", "timeout", "env", "packages", "pip_index_url", "pip_extra_index_urls",
                  "code", "result", "node_selector", "tolerations", "affinity", "priority_class", "pod_labels",
                  "pod_annotations", "mutex", "semaphore", "image_pull_policy", "service_account", "cache")

DEFINITIONS: dict[str, str] = {
    "$root": "A heraspec pipeline: Python functions as Argo Workflows tasks, with their edges and resources.",
    "ArgoTask": "Raw Argo fields for one task, deep-merged last into what heraspec generates.",
    "ArtifactRef": "A file or folder from outside the workflow, given to a `Path` parameter.",
    "ArtifactRepositoryRef": "The artifact repository the workflow's files go to (Argo `artifactRepositoryRef`).",
    "Backoff":
        "Exponential back-off between retries: wait `duration`, then `duration × factor`, ... up to "
        "`max_duration`.",
    "Cache": "Argo `memoize`, with a key heraspec computes from the code carried, image, packages and input values.",
    "ConfigMapRef": "The value of one key of a Kubernetes ConfigMap (Argo `valueFrom.configMapKeyRef`).",
    "ExitTask":
        "What runs when the workflow (spec-level `on_exit`) or one task (`tasks.X.on_exit`) ends, whatever\n"
        "its outcome: a Python `function` or a container (`image` + `command`), with `args`.",
    "FromRef": "The return value of another task (implies an edge from that task).",
    "Limits": "Explicit resource limits: the container is throttled (CPU) or killed (memory) above them.",
    "ParamRef": "A workflow parameter (from `parameters`, overridable with `-p NAME=VALUE`).",
    "RepositoryKey":
        "A key inside the workflow's artifact repository (the cluster's default or `artifact_repository`).",
    "Resources":
        "Compute resources of a task. Without any, a task requests 1 CPU and 4Gi of memory (a limit\nwithout a"
        " request sets the request to the limit; `false` drops the request).",
    "Retry": "How a failed task is retried (Argo `retryStrategy`).",
    "SecretRef": "The value of one key of a Kubernetes Secret (Argo `valueFrom.secretKeyRef`).",
    "Semaphore":
        "A semaphore whose limit is one key of a ConfigMap (Argo "
        "`synchronization.semaphores[].configMapKeyRef`).",
    "Task": "One step of the workflow: a Python `function`, a container (`image` + `command`) or a `template_ref`.",
    "TaskDefaults": "Task fields applied to every task unless the task sets them (resources and env merge key by key).",
    "TemplateRef":
        "A template of an existing WorkflowTemplate (or ClusterWorkflowTemplate), called instead of a "
        "function (Argo `templateRef`).",
    "Ttl": "How long the finished Workflow is kept (Argo `ttlStrategy`).",
    "Volume": "A new volume claimed for this run (`size`), or an existing PersistentVolumeClaim (`claim`).",
    "WorkflowTemplateRef":
        "Submit an existing WorkflowTemplate (or ClusterWorkflowTemplate) as this Workflow (Argo "
        "`workflowTemplateRef`).",
}

KEYS: dict[str, dict[str, dict]] = {
    "$root": {
        "$schema": _k("Optional URL or path of this JSON Schema (for editors); heraspec itself ignores it.",
                      examples=["./heraspec.schema.json"]),
        "kind": _k(
            "The Argo resource to produce.",
            markdown="The Argo resource to produce:\n\n- `Workflow` (default): one run, submitted with "
                     "`heraspec apply`\n- `WorkflowTemplate`: a reusable template in a namespace\n- "
                     "`ClusterWorkflowTemplate`: a reusable template for the whole cluster\n- `CronWorkflow`: "
                     "runs on a `schedule`"),
        "name": _k("Resource name (DNS-1123: lowercase letters, digits, `-`; ≤63, ≤52 for a CronWorkflow).",
                   examples=["my-pipeline"]),
        "generate_name": _k("Name prefix; the server (or `heraspec apply`) adds a random suffix. Workflows only.",
                            examples=["my-pipeline-"]),
        "namespace": _k("Kubernetes namespace. Default: `--namespace`, `ARGO_NAMESPACE`, or none.",
                        examples=["argo"]),
        "image": _k(
            "Default container image of function tasks. It needs a `python` that can run the functions (and "
            "has their third-party imports installed).",
            examples=["python:3.12", "ghcr.io/acme/trainer:1.4"]),
        "labels": _k("Labels of the resource.", examples=[{"team": "ml"}]),
        "annotations": _k("Annotations of the resource.", examples=[{"owner": "jane@example.com"}]),
        "service_account": _k("Service account the workflow's pods run as.", examples=["argo-workflow"]),
        "parallelism": _k("Maximum number of tasks running at once.", examples=[4]),
        "parameters": _k(
            "Workflow parameters and their default values; use them with `{param: NAME}` and override with "
            "`-p NAME=VALUE`.",
            examples=[{"n_points": 200, "dataset": "s3://bucket/data.csv"}]),
        "defaults": _k("Task fields applied to every task unless it sets them.",
                       examples=[{"retry": 2, "resources": {"cpu": 2, "memory": "4Gi"}}]),
        "packages": _k(
            "Third-party distributions every function task installs (pip requirements, PEP 508); "
            "`defaults.packages` and a task's `packages` add to them, the task winning for the same "
            "distribution.",
            examples=[["numpy>=1.26", "scikit-learn==1.5.*"]]),
        **_tasks("pip_index_url", "pip_extra_index_urls"),
        "result": _k(
            "The task whose result is this spec's result when another spec runs it as a sub-pipeline "
            "(`tasks.X.pipeline`): `{from: X}` there gives it.",
            examples=["train"]),
        "workflow_template_ref": _k(
            "Submit an existing WorkflowTemplate as this Workflow (Argo `workflowTemplateRef`), with "
            "`parameters` as its arguments, instead of `tasks`. `heraspec run` runs it from the spec defining"
            " it (validated together, or `--templates PATH`).",
            examples=[{"name": "shared-steps"}]),
        "tasks": _k(
            "The tasks, by name (letters, digits, `-`, `_`; `_` becomes `-` in Argo).",
            markdown="The tasks, by name (letters, digits, `-`, `_`; `_` becomes `-` in Argo).\n\n```yaml\n"
                     "tasks:\n  prepare:\n    function: mypkg.steps:prepare\n  train:\n    function: "
                     "mypkg.steps:train\n    args: {data: {from: prepare}}\n```",
            defaultSnippets=[{"label": "new task", "description": "A task running a Python function",
                              "markdownDescription": "A task running a Python function",
                              "body": {"${1:name}": {"function": "${2:steps}:${3:func}"}}}]),
        "artifact_repository": _k(
            "The artifact repository for this workflow's files and `result: artifact` values (Argo "
            "`artifactRepositoryRef`). Default: the cluster's default repository.",
            examples=[{"config_map": "artifact-repositories", "key": "my-minio"}]),
        "edges": _k("Dependencies written as chains: `A >> B >> D`, `A >> [B, C] >> D`.",
                    examples=[["A >> [B, C] >> D"]]),
        "schedule": _k("CronWorkflow: cron schedule(s), e.g. `0 3 * * *`.",
                       examples=["0 3 * * *", ["0 3 * * *", "0 15 * * *"]]),
        "timezone": _k("CronWorkflow: IANA time zone of the schedule, e.g. `Europe/Paris`.",
                       examples=["Europe/Paris", "UTC"]),
        "concurrency_policy": _k(
            "CronWorkflow: what to do when the previous run is still going.",
            markdown="CronWorkflow: what to do when the previous run is still going:\n\n- `Allow` (Argo's "
                     "default): start the new run anyway\n- `Forbid`: skip the new run\n- `Replace`: stop the "
                     "running one and start the new run"),
        **_tasks("node_selector", "tolerations", "affinity", "priority_class", "pod_labels", "pod_annotations"),
        "mutex": _k("Only one Workflow holding this mutex runs at a time (Argo workflow-level `synchronization`).",
                    examples=["nightly-etl"]),
        "semaphore": _k(
            "At most N Workflows holding this semaphore run at a time (Argo workflow-level `synchronization`)."),
        "deadline": _k(
            "Stop the whole workflow when it runs longer than this, e.g. `2h` (Argo `activeDeadlineSeconds`).",
            examples=["2h", "1d"]),
        "ttl": _k("Delete the finished Workflow after a while (Argo `ttlStrategy`).",
                  examples=[{"after_completion": "1d"}, {"after_success": "1h", "after_failure": "7d"}]),
        "pod_gc": _k("When Argo deletes the pods (Argo `podGC.strategy`). Default: never."),
        "archive_logs": _k("Keep the pods' logs in the artifact repository (Argo `archiveLogs`)."),
        "priority": _k("Priority of this Workflow over other pending ones (Argo `priority`); higher runs first.",
                       examples=[10]),
        "on_exit": _k(
            "Runs after the workflow ends, whatever the outcome (Argo `onExit`): a `function` or container "
            "task body with `args`.",
            examples=[{"function": "mypkg.steps:notify",
                       "args": {"status": {"workflow": "status"}, "failures": {"workflow": "failures"}}}]),
        "argo": _k(
            "Escape hatch: raw Argo fields deep-merged into the generated manifest (e.g. `{spec: {podGC: "
            "{strategy: OnPodSuccess}}}`).",
            examples=[{"spec": {"podGC": {"strategy": "OnPodSuccess"}}}]),
    },
    "ArgoTask": {
        "task": _k("Raw Argo `DAGTask` fields deep-merged into the generated DAG task.",
                   examples=[{"onExit": "cleanup"}]),
        "template": _k("Raw Argo `Template` fields deep-merged into this task's template.",
                       examples=[{"nodeSelector": {"pool": "gpu"}}]),
    },
    "ArtifactRef": {
        "artifact": _k(
            "Where the data is: `s3://bucket/key`, `gs://bucket/key`, `https://host/path`, or `{key: ...}` in"
            " the workflow's artifact repository. The function receives a `pathlib.Path` to a local copy. "
            "`heraspec run` reads `s3://` and `gs://` from `--artifacts DIR` (`DIR/bucket/key`) and downloads"
            " `https://`.",
            examples=["s3://my-bucket/reads/sample1.fq", "https://example.org/data.csv",
                      {"key": "datasets/reads.fq"}]),
        "endpoint": _k(
            "`s3://` only: the S3 endpoint, e.g. `s3.amazonaws.com` or `minio.argo:9000`. Without it Argo "
            "reads the key from the bucket of the workflow's artifact repository (its endpoint and "
            "credentials).",
            examples=["s3.amazonaws.com"]),
        "secret": _k(
            "`s3://` with `endpoint`: a Kubernetes Secret holding `accessKey` and `secretKey`. Without it the"
            " pod uses the cloud SDK's credentials (IAM role, workload identity).",
            examples=["s3-credentials"]),
    },
    "ArtifactRepositoryRef": {
        "config_map": _k("ConfigMap holding repository configurations. Argo's default: `artifact-repositories`.",
                         examples=["artifact-repositories"]),
        "key": _k(
            "Key inside the ConfigMap. Argo's default: the ConfigMap's "
            "`workflows.argoproj.io/default-artifact-repository` annotation.",
            examples=["my-minio"]),
    },
    "Backoff": {
        "duration": _k("Wait before the first retry, e.g. `10s`.", examples=["10s"]),
        "factor": _k("Whole multiplier applied to the wait after each retry, e.g. `2` (Argo takes an integer).",
                     examples=[2]),
        "max_duration": _k("Give up retrying after this long, e.g. `5m`.", examples=["5m"]),
    },
    "Cache": {
        "max_age": _k("Results older than this are recomputed, e.g. `24h`, `7d`. Default: no limit.",
                      examples=["24h", "7d"]),
        "config_map": _k("ConfigMap Argo stores the results in. Default `heraspec-cache`.",
                         examples=["heraspec-cache"]),
    },
    "ConfigMapRef": {
        "config_map": _k("Name of a Kubernetes ConfigMap in the workflow's namespace.", examples=["settings"]),
        "key": _k("Key inside the ConfigMap.", examples=["log_level"]),
    },
    "ExitTask": {
        **_tasks("function", "image", "command"),
        "args": _k(
            "Arguments, as for a task. They may also use `{workflow: status}` (`Succeeded`, `Failed` or "
            "`Error`), `{workflow: failures}` (Argo's JSON list of the failed nodes), `{workflow: duration}` "
            "(seconds) and `{workflow: name}`; the first three only in the spec-level `on_exit`. A task's "
            "`on_exit` may use `{from: TASK}` of that task or of a task it depends on.",
            examples=[{"status": {"workflow": "status"}, "failures": {"workflow": "failures"}}]),
        **_tasks("env", "resources", "retry", "timeout"),
        "packages": _k(
            "Third-party distributions the exit handler's function needs (pip requirements, PEP 508). Only "
            "these: an exit handler does not install the spec's or `defaults`' packages.",
            examples=[["requests"]]),
    },
    "FromRef": {
        "from": _k(
            "Name of the task whose return value is passed here. Adds the edge `TASK >> this task`. For a "
            "fanned-out task it is the list of its results.",
            examples=["prepare"]),
        "key": _k(
            "A field of that task's result (a mapping): `best_lr`, or a dotted path `metrics.accuracy` (list "
            "indices as numbers). The task publishes it as a named Argo output parameter; a missing key fails"
            " that task at run time, naming the keys it has.",
            examples=["best_lr", "metrics.accuracy"]),
    },
    "Limits": {
        "cpu": _k("CPU limit: a number of cores (`2`, `0.5`) or millicores (`500m`).", examples=[4, "1500m"]),
        "memory": _k("Memory limit, a Kubernetes quantity: `512Mi`, `16Gi`.", examples=["8Gi"]),
    },
    "ParamRef": {
        "param": _k("Name of a workflow parameter declared under `parameters`.", examples=["n_points"]),
    },
    "RepositoryKey": {
        "key": _k("Object key inside the artifact repository, e.g. `datasets/reads.fq`.",
                  examples=["datasets/reads.fq"]),
    },
    "Resources": {
        "cpu": _k(
            "CPU cores requested: a number (`2`, `0.5`) or a quantity (`500m`). Default 1 (or the CPU limit);"
            " `false` requests none.",
            examples=[2, "500m"]),
        "memory": _k(
            "Memory requested, a Kubernetes quantity: `512Mi`, `16Gi`. Default 4Gi (or the memory limit); "
            "`false` requests none.",
            examples=["4Gi"]),
        "ephemeral_storage": _k("Local scratch disk requested, e.g. `10Gi`.", examples=["10Gi"]),
        "gpu": _k("Number of GPUs (requested and limited), as `nvidia.com/gpu` unless `gpu_type` says otherwise.",
                  examples=[1]),
        "gpu_type": _k("Extended resource name of the GPU, e.g. `amd.com/gpu`. Default `nvidia.com/gpu`.",
                       examples=["nvidia.com/gpu", "amd.com/gpu"]),
        "limits": _k("`true` to set limits equal to the requests, or explicit `{cpu, memory}` limits.",
                     examples=[True, {"memory": "16Gi"}]),
        "volume": _k(
            "One volume mounted into this task: a new one (`{size, mount_path}`) or an existing claim "
            "(`{claim, mount_path}`)."),
        "volumes": _k("Several volumes mounted into this task (each like `volume`)."),
    },
    "Retry": {
        "limit": _k("Maximum number of retries after the first attempt.", examples=[3]),
        "backoff": _k("Exponential back-off between retries, e.g. `{duration: 10s, factor: 2}`."),
        "policy": _k(
            "Which failures are retried (Argo `retryPolicy`). Default `OnFailure`.",
            markdown="Which failures are retried (Argo `retryPolicy`):\n\n- `OnFailure` (default): the program "
                     "failed (non-zero exit)\n- `OnError`: Argo or Kubernetes failed to run it (e.g. the pod "
                     "was evicted)\n- `OnTransientError`: only errors Argo deems transient\n- `Always`: any of "
                     "these"),
    },
    "SecretRef": {
        "secret": _k("Name of a Kubernetes Secret in the workflow's namespace.", examples=["api-credentials"]),
        "key": _k("Key inside the Secret.", examples=["token"]),
    },
    "Semaphore": {
        "config_map": _k("ConfigMap holding the limit.", examples=["limits"]),
        "key": _k(
            "Key of the ConfigMap whose value is the limit (a number). `heraspec run` takes it from "
            "`--semaphore CONFIG_MAP/KEY=N` (default 1).",
            examples=["gpu-jobs"]),
    },
    "Task": {
        **_tasks(*_DEFAULTS_KEYS, "function"),
        "pipeline": _k(
            "Run another spec's DAG as this task (a nested DAG template; its templates come along under names"
            " that cannot collide). The path is relative to this spec's folder. `args` (a mapping) set that "
            "spec's `parameters`; `{from: THIS_TASK}` is the result of the task that spec names in its "
            "`result` key.",
            examples=["preprocess.heraspec.yaml"]),
        "template_ref": _k(
            "Call a template of an existing WorkflowTemplate instead of a function (Argo `templateRef`); "
            "`args` (a mapping) fill its input parameters. `validate` checks them when the template is "
            "defined by a spec validated together or given with `--templates PATH`; `heraspec run` runs it "
            "from there.",
            examples=[{"name": "shared-steps", "template": "clean"}]),
        **_tasks("command", "args", "after", "depends", "when", "foreach", "outputs", "continue_on"),
        "on_exit": _k(
            "Runs after this task ends, whatever the outcome (Argo lifecycle hook `exit`): a `function` or "
            "container task body with `args`.",
            examples=[{"function": "mypkg.steps:cleanup", "args": {"run": {"from": "train"}}}]),
        **_tasks("argo"),
    },
    "TaskDefaults": _tasks(*_DEFAULTS_KEYS),
    "TemplateRef": {
        "name": _k("Name of the WorkflowTemplate (or ClusterWorkflowTemplate).", examples=["shared-steps"]),
        "template": _k(
            "Name of the template inside it (`main` is a heraspec spec's whole DAG; a function's template is "
            "named after the function, `_` as `-`).",
            examples=["clean"]),
        "cluster": _k("`true` for a ClusterWorkflowTemplate."),
    },
    "Ttl": {
        "after_completion": _k("Delete the Workflow this long after it ends, e.g. `1d`."),
        "after_success": _k("Delete it this long after it succeeds."),
        "after_failure": _k("Delete it this long after it fails or errors."),
    },
    "Volume": {
        "mount_path": _k("Where the volume is mounted in the task's container (an absolute path).",
                         examples=["/vol"]),
        "size": _k("Size of a new volume created for the workflow (`volumeClaimTemplates`), e.g. `50Gi`.",
                   examples=["50Gi"]),
        "claim": _k("Name of an existing PersistentVolumeClaim to mount instead of creating one.",
                    examples=["shared-data"]),
        "name": _k("Volume name. Tasks that use the same name share the volume. Default: `<task>-vol`.",
                   examples=["workdir"]),
        "storage_class": _k("StorageClass of a new volume. Default: the cluster's default class.",
                            examples=["standard"]),
        "access_mode": _k(
            "Access mode of a new volume. Default `ReadWriteOnce` (one node at a time); `ReadWriteMany` lets "
            "tasks on several nodes share it, if the storage class supports it."),
        "read_only": _k("Mount read-only. Default `false`."),
    },
    "WorkflowTemplateRef": {
        "name": _k("Name of the WorkflowTemplate (or ClusterWorkflowTemplate).", examples=["shared-steps"]),
        "cluster": _k("`true` for a ClusterWorkflowTemplate."),
    },
}

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
