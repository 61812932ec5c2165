"""Issue 17: scheduling, concurrency, caching and lifecycle keys — compiled fields (strict-valid Argo),
validate errors at their lines, and what `heraspec run` does with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heraspec
from heraspec.python import functions
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli

STEPS = '''
def say(msg: str) -> str:
    return msg
'''

YAML = """\
name: prod
node_selector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [gpu]}]}]
priority_class: high-priority
pod_labels: {team: ml}
pod_annotations: {example.com/owner: jane}
mutex: nightly
deadline: 2h
ttl: {after_completion: 1d, after_failure: 90s}
pod_gc: on_pod_success
archive_logs: true
priority: 5
defaults:
  image_pull_policy: IfNotPresent
  pod_labels: {tier: batch}
  cache: true
tasks:
  train:
    function: steps:say
    args: {msg: hi}
    node_selector: {pool: gpu}
    tolerations: [{key: gpu, operator: Equal, value: "true", effect: NoExecute, tolerationSeconds: 60}]
    priority_class: urgent
    service_account: trainer
    pod_labels: {team: vision}
    mutex: gpu-node
    semaphore: {config_map: limits, key: gpu-jobs}
    cache: {max_age: 7d, config_map: ml-cache}
"""

TOML = """\
name = "prod"
priority_class = "high-priority"
mutex = "nightly"
deadline = "2h"
pod_gc = "on_pod_success"
archive_logs = true
priority = 5
node_selector = {"cloud.google.com/gke-accelerator" = "nvidia-tesla-t4"}
tolerations = [{key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule"}]
pod_labels = {team = "ml"}
pod_annotations = {"example.com/owner" = "jane"}
ttl = {after_completion = "1d", after_failure = "90s"}

[affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution]
nodeSelectorTerms = [{matchExpressions = [{key = "pool", operator = "In", values = ["gpu"]}]}]

[defaults]
image_pull_policy = "IfNotPresent"
pod_labels = {tier = "batch"}
cache = true

[tasks.train]
function = "steps:say"
args = {msg = "hi"}
node_selector = {pool = "gpu"}
tolerations = [{key = "gpu", operator = "Equal", value = "true", effect = "NoExecute", tolerationSeconds = 60}]
priority_class = "urgent"
service_account = "trainer"
pod_labels = {team = "vision"}
mutex = "gpu-node"
semaphore = {config_map = "limits", key = "gpu-jobs"}
cache = {max_age = "7d", config_map = "ml-cache"}
"""


def _project(tmp_path: Path, spec: str, name: str = "spec.yaml", steps: str = STEPS) -> Path:
    (tmp_path / "steps.py").write_text(steps)
    (tmp_path / name).write_text(spec)
    return tmp_path / name


@pytest.mark.parametrize("name,text", [("spec.yaml", YAML), ("spec.toml", TOML)])
def test_production_keys_compile_to_argo_fields(tmp_path: Path, name: str, text: str) -> None:
    m = heraspec.compile([str(_project(tmp_path, text, name))])[0].manifest
    assert_argo_valid(m)
    spec = m["spec"]
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"] == [{"key": "pool", "operator": "In", "values": ["gpu"]}]
    assert spec["podPriorityClassName"] == "high-priority"
    assert spec["podMetadata"] == {"labels": {"team": "ml"}, "annotations": {"example.com/owner": "jane"}}
    assert spec["synchronization"] == {"mutexes": [{"name": "nightly"}]}
    assert spec["activeDeadlineSeconds"] == 7200
    assert spec["ttlStrategy"] == {"secondsAfterCompletion": 86400, "secondsAfterFailure": 90}
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["archiveLogs"] is True and spec["priority"] == 5
    tmpl = next(t for t in spec["templates"] if "script" in t)
    assert tmpl["nodeSelector"] == {"pool": "gpu"}
    assert tmpl["tolerations"][0]["tolerationSeconds"] == 60
    assert tmpl["priorityClassName"] == "urgent" and tmpl["serviceAccountName"] == "trainer"
    assert tmpl["metadata"] == {"labels": {"tier": "batch", "team": "vision"}}  # defaults and task merge
    assert tmpl["script"]["imagePullPolicy"] == "IfNotPresent"
    assert tmpl["synchronization"] == {"mutexes": [{"name": "gpu-node"}],
                                       "semaphores": [{"configMapKeyRef": {"name": "limits", "key": "gpu-jobs"}}]}
    memo = tmpl["memoize"]
    assert memo["maxAge"] == "168h" and memo["cache"] == {"configMap": {"name": "ml-cache"}}
    assert memo["key"].startswith("heraspec-") and "inputs.parameters['msg']" in memo["key"]


def test_yaml_and_toml_compile_alike(tmp_path: Path) -> None:
    a = heraspec.compile([str(_project(tmp_path, YAML, "spec.yaml"))])[0].manifest
    b = heraspec.compile([str(_project(tmp_path, TOML, "spec.toml"))])[0].manifest
    assert a == b


def test_cache_key_follows_the_carried_code(tmp_path: Path) -> None:
    """A changed helper the function uses changes the key; an unrelated edit elsewhere does not."""
    spec = "name: c\ndefaults: {cache: true}\ntasks:\n  a: {function: 'steps:say', args: {msg: hi}}\n" \
           "  b: {function: 'steps:other', args: {x: 1}}\n"
    base = STEPS + "\n\ndef helper(x):\n    return x\n\n\ndef other(x: int) -> int:\n    return helper(x)\n"

    def keys(steps: str) -> dict[str, str]:
        functions.clear_cache()  # one process compiling twice: read the edited file again
        m = heraspec.compile([str(_project(tmp_path, spec, steps=steps))])[0].manifest
        assert_argo_valid(m)
        return {t["name"]: t["memoize"]["key"] for t in m["spec"]["templates"] if "memoize" in t}

    before = keys(base)
    after = keys(base.replace("return x\n", "return x + 1\n"))
    assert before["say"] == after["say"] and before["other"] != after["other"]


BAD = """\
name: prod
node_selector: {"bad key!": x}
tolerations: [{key: a, operator: Exists, value: b, tolerationSecond: 3}]
affinity: {nodeAfinity: {}}
pod_labels: {team: "has space"}
deadline: 1.5s
ttl: {after_success: 1x}
tasks:
  a:
    image: alpine
    command: [echo, hi]
    cache: true
  b:
    function: steps:say
    args: {msg: hi}
    semaphore: {config_map: Limits, key: "a b"}
    priority_class: Bad_Name
"""


def test_bad_production_keys_are_located_errors(tmp_path: Path) -> None:
    r = cli("validate", "spec.yaml", cwd=_project(tmp_path, BAD).parent)
    assert r.returncode == 1, r.stderr
    out = r.stdout + r.stderr
    for line in ("spec.yaml:2:17: error: node label key 'bad key!' is not valid",
                 "spec.yaml:3:49: error: a toleration with operator Exists has no value",
                 "spec.yaml:3:52: error: tolerations.0: Kubernetes has no field 'tolerationSecond' here",
                 "hint: did you mean 'tolerationSeconds'?",
                 "spec.yaml:4:12: error: affinity: Kubernetes has no field 'nodeAfinity' here",
                 "spec.yaml:5:20: error: label value 'has space' is not valid",
                 "spec.yaml:6:11: error: deadline '1.5s' is not a whole number of seconds",
                 "spec.yaml:7:22: error: ttl.after_success must be a duration such as 90s, 10m, 2h or 1d",
                 "spec.yaml:12:5: error: task 'a' is a container task: its result is its standard output, which "
                 "Argo's memoization does not keep",
                 "spec.yaml:16:29: error: config_map 'Limits' is not a valid Kubernetes name",
                 "spec.yaml:16:42: error: key 'a b' is not a valid ConfigMap key",
                 "spec.yaml:17:21: error: priority_class 'Bad_Name' is not a valid Kubernetes name"):
        assert line in out, out
    assert "Traceback" not in out


def test_cache_on_a_file_result_is_refused(tmp_path: Path) -> None:
    spec = "name: c\ntasks:\n  a: {function: 'steps:say', args: {msg: hi}, result: artifact, cache: true}\n"
    r = cli("validate", "spec.yaml", cwd=_project(tmp_path, spec).parent)
    assert r.returncode == 1
    assert "spec.yaml:3:65: error: task 'a' returns its result as a file" in r.stdout + r.stderr
