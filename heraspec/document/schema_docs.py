"""The words of the task keys in the JSON Schema: each key's description, its richer hover text for
editors (`markdownDescription`: the description plus a small example) and its examples. Shared by a
task, `defaults` and an exit handler (model.py's `_doc`); plain data, no imports.
"""

from __future__ import annotations

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
