"""Caching a fanned-out task that returns files (issue 29): "retrain every model". Each item's files are
stored under its own memoize key; the fan-in reads each item's files by the key its item reports, so a
rerun reruns exactly the items (and readers) whose inputs or code changed."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

import heraspec
from heraspec.argo import scheduling
from tests.argo_exec import Repository, argo_aggregate, argo_item, run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli
from tests.test_cache import decisions, run

PREPARE = '''\
from pathlib import Path


def prepare(n: int) -> Path:
    out = Path("data.txt")
    out.write_text("\\n".join(str(i) for i in range(n)))
    return out
'''
TRAIN = '''\
import json
from pathlib import Path


def train(data: Path, config: dict) -> Path:
    xs = [int(x) for x in data.read_text().split()]
    out = Path(f"model-{config['name']}.json")
    out.write_text(json.dumps({"name": config["name"], "w": sum(xs) * config["lr"]}))
    return out
'''
FMT = '''\
def line(model):
    return f"{model['name']}={model['w']}"
'''
REPORT = '''\
import json
from pathlib import Path

from fmt import line


def report(models: list[Path]) -> str:
    return "; ".join(line(json.loads(p.read_text())) for p in models)
'''
SPEC = """\
name: retrain
parameters: {n: 4}
defaults: {cache: true}
tasks:
  prepare: {function: prep:prepare, args: {n: {param: n}}}
  train:
    function: train:train
    foreach: [{name: a, lr: 1}, {name: b, lr: 2}, {name: c, lr: 3}]
    args: {data: {from: prepare}, config: {item: true}}
  report: {function: report:report, args: {models: {from: train}}}
"""


pytestmark = pytest.mark.usefixtures("fresh_functions")


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache-fanout-envs")


def project(tmp_path: Path, spec: str = SPEC) -> Path:
    for name, text in (("prep", PREPARE), ("train", TRAIN), ("fmt", FMT), ("report", REPORT)):
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def items(task: dict) -> list[str]:
    return [c.get("cache", "") for c in task["children"]]


def test_retraining_reruns_exactly_the_items_and_readers_that_changed(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path)
    first = run(spec, envs)
    assert first["report"]["result"] == "a=6; b=12; c=18"
    assert decisions(first) == {"prepare": "ran: not in the cache", "train": "ran 3 of 3 items: not in the cache",
                                "report": "ran: not in the cache"}

    again = run(spec, envs)  # all cached, the same result from the same files
    assert decisions(again) == dict.fromkeys(first, "cached") and items(again["train"]) == ["cached"] * 3
    assert again["report"]["result"] == "a=6; b=12; c=18"
    models = [json.loads(Path(c["artifacts"]["result"]).joinpath(f"model-{n}.json").read_text())
              for c, n in zip(again["train"]["children"], "abc")]
    assert [m["w"] for m in models] == [6, 12, 18]

    (tmp_path / "fmt.py").write_text(FMT.replace("}={", "}:{"))  # report's helper
    third = run(spec, envs)
    assert decisions(third) == {"prepare": "cached", "train": "cached", "report": "ran: code of fmt.line changed"}
    assert third["report"]["result"] == "a:6; b:12; c:18"

    spec.write_text(SPEC.replace("{name: b, lr: 2}", "{name: b, lr: 5}"))  # one item's config
    fourth = run(spec, envs)
    assert items(fourth["train"]) == ["cached", "ran: input config changed", "cached"]
    assert decisions(fourth) == {"prepare": "cached",
                                 "train": "ran 1 of 3 items: train(1:lr:5,name:b) input config changed",
                                 "report": "ran: file models-1 changed"}
    assert fourth["report"]["result"] == "a:6; b:30; c:18"

    fifth = run(spec, envs, "-p", "n=5")  # a new parameter: everything after it reruns
    assert decisions(fifth) == {"prepare": "ran: input n changed", "train": "ran 3 of 3 items: file data changed",
                                "report": "ran: file models-0, file models-1, file models-2 changed"}
    assert fifth["report"]["result"] == "a:10; b:50; c:30"

    summary = heraspec_cli("run", str(spec), cwd=tmp_path, env={"HERASPEC_CACHE_DIR": str(envs)})
    assert "cache:\n  prepare: cached\n  train: cached\n  report: cached\n" in summary.stderr, summary.stderr
    assert "a:6; b:30; c:18" in summary.stderr


def test_the_summary_shows_the_files_each_item_returned_not_what_it_printed(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN.replace("    xs = ", "    print('training', config['name'])\n    xs = "))
    for decision in ("ran 3 of 3 items: not in the cache", "cached"):
        proc = heraspec_cli("run", str(spec), cwd=tmp_path, env={"HERASPEC_CACHE_DIR": str(envs)})
        assert proc.returncode == 0, proc.stderr
        row = next(ln for ln in proc.stderr.splitlines() if ln.startswith("  train (3 items)"))
        assert row.split()[-3:] == ['["model-a.json",', '"model-b.json",', '"model…'], proc.stderr
        assert f"  train: {decision}\n" in proc.stderr
        tasks = run(spec, envs)
        assert tasks["train"].get("result") is None  # the files are the items' artifacts, not a value
        assert [Path(c["artifacts"]["result"]).joinpath(f"model-{n}.json").is_file()
                for c, n in zip(tasks["train"]["children"], "abc")] == [True] * 3


def test_a_cached_fan_out_over_argument_sets_read_by_an_uncached_task(tmp_path: Path, envs: Path) -> None:
    (tmp_path / "steps.py").write_text("def square(x: int) -> list:\n    return [x * x]\n\n\n"
                                       "def join(values: list) -> str:\n    return ','.join(str(v[0]) for v in values)\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: sets\ntasks:\n"
                    "  sq: {function: steps:square, args: [{x: 3}, {x: 1}, {x: 2}], result: artifact, cache: true}\n"
                    "  join: {function: steps:join, args: {values: {from: sq}}}\n")
    assert heraspec_cli("validate", str(spec), cwd=tmp_path).returncode == 0
    first, second = run(spec, envs), run(spec, envs)
    assert first["join"]["result"] == second["join"]["result"] == "9,1,4"  # item order kept
    assert second["sq"]["cache"] == "cached" and "cache" not in second["join"]


def test_a_failed_item_ends_its_reader_in_error_rather_than_shift_the_files(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path, SPEC.replace("    function: train:train\n", "    function: train:train\n    continue_on: [failed]\n")
                   .replace("{name: b, lr: 2}", "{name: b, lr: 2, broken: true}"))
    (tmp_path / "train.py").write_text(TRAIN.replace("    xs = ", "    assert not config.get('broken'), 'diverged'\n    xs = "))
    proc = heraspec_cli("run", str(spec), "--json", cwd=tmp_path, env={"HERASPEC_CACHE_DIR": str(envs)})
    tasks = json.loads(proc.stdout)["tasks"]
    assert proc.returncode == 1 and tasks["train"]["message"] == "1 of 3 failed"
    # Argo aggregates the Succeeded items only: element 1 would be item c's file, element 2 is missing
    assert (tasks["report"]["phase"], tasks["report"]["message"]) == (
        "Error", "failed to evaluate expression: index out of range: 2 (array length 2): an item of 'train' did "
        "not succeed, so its files are not there to read")


def _argo_hash(expression: str, inputs: dict[str, str]) -> str:
    """What Argo's expression `sprig.sha256sum(sprig.sha256sum(inputs.parameters['a']) + ...)` gives:
    sprig's sha256sum is the hex digest of the text; `+` joins strings."""
    inner = "".join(hashlib.sha256(inputs[n].encode()).hexdigest()
                    for n in re.findall(r"sprig\.sha256sum\(inputs\.parameters\['([^']+)'\]\)", expression))
    return hashlib.sha256(inner.encode()).hexdigest()


def _evaluated(template: dict, inputs: dict[str, str]) -> dict[str, str]:
    """The `{{=...}}` tags of a template's memoize key, as the controller evaluates them for these inputs
    (keyed as tests/argo_exec.substitute looks them up)."""
    key = template["memoize"]["key"]
    return {m: _argo_hash(m, inputs) for m in re.findall(r"\{\{(=[^{}]+)\}\}", key)}


def _filled(key: str, tags: dict[str, str]) -> str:
    for tag, value in tags.items():
        key = key.replace("{{%s}}" % tag, value)
    return key


def test_on_argo_each_item_is_stored_under_its_key_and_a_hit_needs_no_run_of_its_own(tmp_path: Path) -> None:
    spec = project(tmp_path)
    (compiled,) = heraspec.compile([str(spec)])
    m = compiled.manifest
    assert_argo_valid(m)
    templates = {t["name"]: t for t in m["spec"]["templates"]}
    dag = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    train, report = templates[dag["train"]["template"]], templates[dag["report"]["template"]]
    key = train["memoize"]["key"]
    # the item's key is substituted in the template's own scope: only its input parameters
    declared = {p["name"] for p in train["inputs"]["parameters"]}
    used = set(re.findall(r"inputs\.parameters\['([^']+)'\]", key))
    assert used and used <= declared and "{{item" not in json.dumps(train) and "heraspec-key" not in declared
    assert train["outputs"]["artifacts"][0]["s3"] == {"key": f"heraspec-cache/{key}/result"}
    files_key = next(p for p in train["outputs"]["parameters"] if p["name"] == scheduling.FILES_KEY)
    assert files_key["valueFrom"]["default"] == f"heraspec-cache/{key}"
    # the reader: one artifact per item, each at the key its item reports (element i of the aggregate)
    args = dag["report"]["arguments"]["artifacts"]
    assert [a["name"] for a in args] == ["models-0", "models-1", "models-2"]
    assert [a["s3"]["key"] for a in args] == [
        "{{=fromJSON(tasks['train'].outputs.parameters['heraspec-files-key'])[%d]}}/result" % i for i in range(3)]
    assert [a["path"] for a in report["inputs"]["artifacts"]] == [
        f"/tmp/heraspec/artifacts/in/models/{i}" for i in range(3)]
    assert {"name": "heraspec-files-models", "value": "{{tasks.train.outputs.parameters.heraspec-files-key}}"} \
        in dag["report"]["arguments"]["parameters"]

    def workflow(uid: str, runs: bool) -> tuple[str, list[str]]:
        """One submission: prepare and the items run (or hit: their outputs come from the ConfigMap),
        then the report reads the items' files by their keys."""
        repo = Repository(tmp_path / "bucket", uid=uid)
        prep_t = templates[dag["prepare"]["template"]]
        prep_expr = _evaluated(prep_t, {"n": "4"})
        prep_key = f"{scheduling.FILES_PREFIX}/{_filled(prep_t['memoize']['key'], prep_expr)}"
        if runs:
            run_task(m, "prepare", tmp_path / uid / "prepare", repo=repo, texts=prep_expr)
        keys = []
        for i, item in enumerate(dag["train"]["withItems"]):
            inputs = {"config": argo_item(item), "heraspec-files-data": prep_key}
            tags = _evaluated(train, inputs)
            keys.append(f"{scheduling.FILES_PREFIX}/{_filled(key, tags)}")
            if runs:
                repo.keys["tasks.prepare.outputs.artifacts.result"] = f"{prep_key}/result"
                stored = run_task(m, "train", tmp_path / uid / f"train{i}", item=item, repo=repo,
                                  texts={"tasks.prepare.outputs.parameters.heraspec-files-key": prep_key, **tags})[0]
                assert stored == tmp_path / "bucket" / keys[-1] / "result"
        aggregate = argo_aggregate(keys)  # processAggregateNodeOutputs: in loop order
        # the controller evaluates fromJSON(aggregate)[i] (expr-lang's builtin) in the reader's arguments
        reader = {a["s3"]["key"][2:].split("}}")[0]: json.loads(aggregate)[i] for i, a in enumerate(args)}
        result = run_task(m, "report", tmp_path / uid / "report", repo=repo,
                          texts={"tasks.train.outputs.parameters.heraspec-files-key": aggregate, **reader})[0]
        return result, keys

    first, keys = workflow("uid-1", runs=True)
    assert first == "a=6; b=12; c=18" and len(set(keys)) == 3
    shutil.rmtree(tmp_path / "uid-1")
    second, again = workflow("uid-2", runs=False)  # another workflow: every item a hit, nothing runs
    assert (second, again) == (first, keys)
