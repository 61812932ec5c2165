"""Issue 17: scheduling, concurrency, caching and lifecycle keys — compiled fields (strict-valid Argo),
validate errors at their lines, and what `heraspec run` does with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import re

import heraspec
from heraspec.argo import scheduling
from tests.argo_exec import run_task
from heraspec.python import functions
from tests.argo_schema import assert_argo_valid
from tests.cli import error_lines, heraspec as cli

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
    timeout: 1d
    retry: {limit: 2, backoff: {duration: 90s, max_duration: 1d}}
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
timeout = "1d"
retry = {limit = 2, backoff = {duration = "90s", max_duration = "1d"}}
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
    assert tmpl["timeout"] == "24h" and tmpl["retryStrategy"]["backoff"] == {"duration": "90s", "maxDuration": "24h"}
    memo = tmpl["memoize"]
    assert memo["maxAge"] == "168h" and memo["cache"] == {"configMap": {"name": "ml-cache"}}
    assert memo["key"].startswith("heraspec-") and "inputs.parameters['msg']" in memo["key"]
    # the key the controller computes is one Argo's ConfigMap cache accepts (cache.go cacheKeyRegex)
    key = scheduling.key(memo["key"], {"msg": "x" * 100_000})
    assert re.fullmatch(r"[a-zA-Z0-9][-a-zA-Z0-9]*", key) and len(key) <= 253
    # and the template still runs as Argo's executor runs it
    assert run_task(m, "train", tmp_path / "exec")[0] == "hi"


def test_yaml_and_toml_compile_alike(tmp_path: Path) -> None:
    a = heraspec.compile([str(_project(tmp_path, YAML, "spec.yaml"))])[0].manifest
    b = heraspec.compile([str(_project(tmp_path, TOML, "spec.toml"))])[0].manifest
    assert a == b


def test_cache_key_follows_the_carried_code(tmp_path: Path) -> None:
    """A changed module the function imports changes the key (it runs whole in the pod); an edit to
    a module it does not import does not."""
    spec = "name: c\ndefaults: {cache: true}\ntasks:\n  a: {function: 'steps:say', args: {msg: hi}}\n" \
           "  b: {function: 'other:other', args: {x: 1}}\n"
    (tmp_path / "helpers.py").write_text("def helper(x):\n    return x\n")

    def keys(helper: str) -> dict[str, str]:
        functions.clear_cache()  # one process compiling twice: read the edited file again
        (tmp_path / "other.py").write_text(f"from helpers import helper\n\n\ndef other(x: int) -> int:\n    return {helper}\n")
        m = heraspec.compile([str(_project(tmp_path, spec))])[0].manifest
        assert_argo_valid(m)
        return {t["name"]: t["memoize"]["key"] for t in m["spec"]["templates"] if "memoize" in t}

    before = keys("helper(x)")
    after = keys("helper(x) + 1")
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


def test_cache_on_a_file_result_stores_the_file_under_its_memoize_key(tmp_path: Path) -> None:
    # Argo keeps a memoized node's whole outputs (artifact locations included): the file is stored under
    # a key derived from the memoize key, so a later hit names a file that outlives its workflow
    spec = "name: c\ntasks:\n  a: {function: 'steps:say', args: {msg: hi}, result: artifact, cache: true}\n"
    r = cli("validate", "spec.yaml", cwd=_project(tmp_path, spec).parent)
    assert r.returncode == 0, r.stderr
    (compiled,) = heraspec.compile([str(tmp_path / "spec.yaml")])
    assert_argo_valid(compiled.manifest)
    tmpl = next(t for t in compiled.manifest["spec"]["templates"] if "memoize" in t)
    (art,) = tmpl["outputs"]["artifacts"]
    assert art["s3"] == {"key": f"heraspec-cache/{tmpl['memoize']['key']}/result"}


# --- heraspec run ----------------------------------------------------------------------------------

MEET = '''
import json, os, time
from pathlib import Path


def meet(me: str, other: str, folder: str) -> dict:
    """Write when this task starts, wait (up to 2s) for the other one to start, write when it ends."""
    box = Path(folder)
    started = time.time()
    (box / f"{me}.start").write_text(repr(started))
    saw = False
    for _ in range(40):
        if (box / f"{other}.start").exists():
            saw = True
            break
        time.sleep(0.05)
    ended = time.time()
    (box / f"{me}.end").write_text(repr(ended))
    return {"saw_other": saw, "started": started, "ended": ended}
'''


def _run_json(folder: Path, *args: str) -> dict:
    r = cli("run", *args, "--json", "--quiet", cwd=folder)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def _meet_spec(tmp_path: Path, level: str, fmt: str) -> Path:
    box = tmp_path / "box"
    box.mkdir()
    (tmp_path / "steps.py").write_text(MEET)
    lock = {"mutex": 'mutex: gpu', "semaphore": 'semaphore: {config_map: limits, key: gpu}'}[level]
    lock_toml = {"mutex": 'mutex = "gpu"', "semaphore": 'semaphore = {config_map = "limits", key = "gpu"}'}[level]
    if fmt == "yaml":
        text = (f"name: m\ndefaults:\n  {lock}\ntasks:\n"
                f"  a: {{function: 'steps:meet', args: {{me: a, other: b, folder: '{box}'}}}}\n"
                f"  b: {{function: 'steps:meet', args: {{me: b, other: a, folder: '{box}'}}}}\n")
    else:
        text = (f"name = \"m\"\n[defaults]\n{lock_toml}\n[tasks.a]\nfunction = \"steps:meet\"\n"
                f"args = {{me = \"a\", other = \"b\", folder = \"{box}\"}}\n[tasks.b]\nfunction = \"steps:meet\"\n"
                f"args = {{me = \"b\", other = \"a\", folder = \"{box}\"}}\n")
    path = tmp_path / f"spec.{fmt}"
    path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
@pytest.mark.parametrize("level", ["mutex", "semaphore"])
def test_a_lock_serialises_two_tasks(tmp_path: Path, level: str, fmt: str) -> None:
    """Two independent tasks holding the same mutex (or a semaphore of limit 1) never overlap: the
    first to start never sees the other start, and one ends before the other starts."""
    spec = _meet_spec(tmp_path, level, fmt)
    r = cli("run", spec.name, "--json", "--quiet", "--parallelism", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    res = {k: v["result"] for k, v in json.loads(r.stdout)["tasks"].items()}
    first, second = sorted(res.values(), key=lambda x: x["started"])
    assert first["saw_other"] is False and first["ended"] <= second["started"]
    if level == "semaphore":
        assert "semaphore limits/gpu: limit 1 locally" in r.stderr  # said once
        assert r.stderr.count("--semaphore limits/gpu=N") == 1


def test_a_semaphore_limit_from_the_command_line_lets_them_overlap(tmp_path: Path) -> None:
    spec = _meet_spec(tmp_path, "semaphore", "yaml")
    res = _run_json(tmp_path, spec.name, "--parallelism", "2", "--semaphore", "limits/gpu=2")["tasks"]
    assert res["a"]["result"]["saw_other"] is True and res["b"]["result"]["saw_other"] is True


COUNTED = '''
from pathlib import Path


def helper(x: int) -> int:
    return x * 2


def double(x: int, log: str) -> int:
    with open(log, "a") as f:
        f.write("double %d\\n" % x)
    return helper(x)


'''
LOUD = '''
def shout(msg: str, log: str) -> str:
    with open(log, "a") as f:
        f.write("shout %s\\n" % msg)
    return msg.upper()
'''  # its own module: a task's cache key follows the modules its function imports (they run whole)


def _cache_spec(tmp_path: Path, fmt: str) -> Path:
    log = tmp_path / "ran.log"
    if fmt == "yaml":
        text = (f"name: c\ndefaults: {{cache: true}}\ntasks:\n"
                f"  d: {{function: 'steps:double', args: [{{x: 1, log: '{log}'}}, {{x: 2, log: '{log}'}}]}}\n"
                f"  s: {{function: 'loud:shout', args: {{msg: hi, log: '{log}'}}}}\n"
                f"  t: {{function: 'loud:shout', args: {{msg: {{from: d}}, log: '{log}'}}}}\n")
    else:
        text = (f"name = \"c\"\n[defaults]\ncache = true\n[tasks.d]\nfunction = \"steps:double\"\n"
                f"args = [{{x = 1, log = \"{log}\"}}, {{x = 2, log = \"{log}\"}}]\n"
                f"[tasks.s]\nfunction = \"loud:shout\"\nargs = {{msg = \"hi\", log = \"{log}\"}}\n"
                f"[tasks.t]\nfunction = \"loud:shout\"\nargs = {{msg = {{from = \"d\"}}, log = \"{log}\"}}\n")
    (tmp_path / "steps.py").write_text(COUNTED)
    (tmp_path / "loud.py").write_text(LOUD)
    path = tmp_path / f"spec.{fmt}"
    path.write_text(text)
    return path


def _ran(tmp_path: Path) -> list[str]:
    log = tmp_path / "ran.log"
    lines = sorted(log.read_text().splitlines()) if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_a_rerun_of_an_unchanged_spec_runs_no_task(tmp_path: Path, fmt: str) -> None:
    spec = _cache_spec(tmp_path, fmt)
    first = _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == ["double 1", "double 2", "shout [2,4]", "shout hi"]
    again = _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == []  # nothing ran
    assert {k: v["result"] for k, v in again["tasks"].items()} == {k: v["result"] for k, v in first["tasks"].items()}
    assert all(v.get("cached") for v in again["tasks"].values())
    r = cli("run", spec.name, "--quiet", cwd=tmp_path)
    assert "  s            cached" in r.stderr or " cached " in r.stderr
    _ran(tmp_path)
    _run_json(tmp_path, spec.name, "--no-cache")
    assert len(_ran(tmp_path)) == 4


def test_editing_a_helper_reruns_exactly_the_tasks_using_it(tmp_path: Path) -> None:
    spec = _cache_spec(tmp_path, "yaml")
    _run_json(tmp_path, spec.name)
    _ran(tmp_path)
    (tmp_path / "steps.py").write_text(COUNTED.replace("return x * 2", "return x * 3"))
    out = _run_json(tmp_path, spec.name)
    # d's items run again (their helper changed); t's input changed with them; s is untouched
    assert _ran(tmp_path) == ["double 1", "double 2", "shout [3,6]"]
    assert out["tasks"]["s"].get("cached") and not out["tasks"]["d"].get("cached")


def test_a_fan_out_caches_per_item(tmp_path: Path) -> None:
    spec = _cache_spec(tmp_path, "yaml")
    _run_json(tmp_path, spec.name)
    _ran(tmp_path)
    spec.write_text(spec.read_text().replace("{x: 2,", "{x: 5,"))
    _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == ["double 5", "shout [2,10]"]


def test_the_workflow_deadline_stops_a_local_run(tmp_path: Path) -> None:
    """`deadline` (activeDeadlineSeconds): the running task is stopped and fails, the run ends Failed."""
    steps = "import time\n\n\ndef nap(s: float) -> float:\n    time.sleep(s)\n    return s\n"
    spec = ("name: d\ndeadline: 1s\ntasks:\n  slow: {function: 'steps:nap', args: {s: 600}}\n"
            "  after_slow: {function: 'steps:nap', args: {s: 0}, after: [slow]}\n")
    _project(tmp_path, spec, steps=steps)
    r = cli("run", "spec.yaml", "--json", "--quiet", cwd=tmp_path)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["phase"] == "Failed"
    assert out["tasks"]["slow"]["phase"] == "Failed"
    assert "deadline (1s, activeDeadlineSeconds) was exceeded" in out["tasks"]["slow"]["message"]
    assert out["tasks"]["after_slow"]["phase"] == "Omitted"


def test_image_mode_keys_follow_the_project_code_too(tmp_path: Path) -> None:
    """`code: image` tasks import the function from the image, yet a changed helper still reruns them."""
    spec = _cache_spec(tmp_path, "yaml")
    spec.write_text(spec.read_text().replace("defaults: {cache: true}", "defaults: {cache: true, code: image}"))
    _run_json(tmp_path, spec.name)
    _ran(tmp_path)
    _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == []
    # a different size too: the image's code is imported, and Python's .pyc check is mtime + size
    (tmp_path / "steps.py").write_text(COUNTED.replace("return x * 2", "return x * 30"))
    _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == ["double 1", "double 2", "shout [30,60]"]


def test_an_entry_older_than_max_age_is_recomputed(tmp_path: Path) -> None:
    spec = _cache_spec(tmp_path, "yaml")
    spec.write_text(spec.read_text().replace("defaults: {cache: true}", "defaults: {cache: {max_age: 1h}}"))
    _run_json(tmp_path, spec.name)
    _ran(tmp_path)
    entries = sorted((tmp_path / ".heraspec" / "cache" / "heraspec-cache").glob("*.json"))
    assert len(entries) == 4  # two items of d, s, t
    entry = next(p for p in entries if json.loads(p.read_text())["outputs"]["result"] == "HI")  # a str result is its own text
    data = json.loads(entry.read_text())
    data["created"] -= 2 * 3600  # as if saved two hours ago
    entry.write_text(json.dumps(data))
    _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == ["shout hi"]


def test_a_bad_semaphore_limit_is_a_usage_error(tmp_path: Path) -> None:
    _project(tmp_path, "name: s\ntasks:\n  a: {function: 'steps:say', args: {msg: hi}}\n")
    r = cli("run", "spec.yaml", "--semaphore", "limits=2", cwd=tmp_path)
    assert r.returncode == 2
    assert "--semaphore 'limits=2': expected CONFIG_MAP/KEY=N" in r.stderr


BAD_TASK_YAML = """\
name: b
pod_gc: never
priority: high
defaults:
  image_pull_policy: sometimes
  cache: {max_age: 1 week}
tasks:
  a:
    function: steps:say
    args: {msg: hi}
    pod_annotations: {"-bad/": x}
    mutex: ""
    affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpresions: []}]}}}
"""

BAD_TASK_TOML = """\
name = "b"
pod_gc = "never"
priority = "high"

[defaults]
image_pull_policy = "sometimes"
cache = {max_age = "1 week"}

[tasks.a]
function = "steps:say"
args = {msg = "hi"}
pod_annotations = {"-bad/" = "x"}
mutex = ""
affinity = {nodeAffinity = {requiredDuringSchedulingIgnoredDuringExecution = {nodeSelectorTerms = [{matchExpresions = []}]}}}
"""


@pytest.mark.parametrize("name,text", [("spec.yaml", BAD_TASK_YAML), ("spec.toml", BAD_TASK_TOML)])
def test_bad_defaults_and_task_keys_are_located_errors(tmp_path: Path, name: str, text: str) -> None:
    r = cli("validate", name, cwd=_project(tmp_path, text, name).parent)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    lines = error_lines(out)
    expected = ["pod_gc must be one of on_pod_completion, on_pod_success, on_workflow_completion, "
                "on_workflow_success; got 'never'",
                "priority must be an integer, not a string",
                "defaults.image_pull_policy must be one of Always, IfNotPresent, Never; got 'sometimes'",
                "defaults.cache.max_age must be a duration such as 90s, 10m, 2h or 1d",
                "annotation key '-bad/' is not valid: prefix '-bad' is not a DNS subdomain",
                "task 'a' mutex: '' should be non-empty",
                "tasks.a.affinity: Kubernetes has no field 'matchExpresions' here"]
    assert len(lines) == len(expected), out
    for line, want in zip(lines, expected):
        assert want in line, out
    if name.endswith(".yaml"):
        assert [ln.split(": error:")[0] for ln in lines] == [
            "spec.yaml:2:9", "spec.yaml:3:11", "spec.yaml:5:22", "spec.yaml:6:20", "spec.yaml:11:23",
            "spec.yaml:12:12", "spec.yaml:13:101"]
    assert "did you mean 'matchExpressions'?" in out


def test_the_library_run_takes_semaphores_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _meet_spec(tmp_path, "semaphore", "yaml")
    monkeypatch.chdir(tmp_path)  # the cache lives in ./.heraspec/cache, as for the CLI
    res = heraspec.run(str(spec), parallelism=2, semaphores={"limits/gpu": 2}, cache=False)
    assert res.phase == "Succeeded"
    assert res.tasks["a"].result["saw_other"] is True and res.tasks["b"].result["saw_other"] is True


def test_defaults_cache_leaves_exit_handlers_running(tmp_path: Path) -> None:
    """`defaults: {cache: true}` caches tasks, never an exit handler: a rerun still notifies."""
    spec = _cache_spec(tmp_path, "yaml")
    log = tmp_path / "ran.log"
    spec.write_text(spec.read_text() + f"on_exit: {{function: 'loud:shout', args: {{msg: done, log: '{log}'}}}}\n")
    m = heraspec.compile([str(spec)])[0].manifest
    assert_argo_valid(m)
    templates = {t["name"]: t for t in m["spec"]["templates"]}
    handler = templates[templates[m["spec"]["onExit"]]["dag"]["tasks"][0]["template"]]
    assert "memoize" not in handler and "memoize" in templates["shout"]
    _run_json(tmp_path, spec.name)
    _ran(tmp_path)
    _run_json(tmp_path, spec.name)
    assert _ran(tmp_path) == ["shout done"]
