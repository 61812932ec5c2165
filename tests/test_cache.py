"""Caching that covers files, and every input counting in the key: a cached task's files are kept under
its memoize key, a reader's key includes what its files are, and each task's decision has a reason.
`heraspec run` as a user runs it, twice or more in one project folder; the manifests as Argo reads them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import heraspec
from heraspec.argo import scheduling
from heraspec.python import functions as F
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

PROJECT = Path(__file__).parent / "fixtures" / "project"

HELPERS = '''\
def scale(x):
    return x * 2
'''
LABELS = '''\
def label(x):
    return f"total={x}"
'''
# one module per step, as a project would have them: a task's key follows the modules its function imports
MAKE = '''\
from pathlib import Path


def make(n: int) -> Path:
    out = Path("numbers.txt")
    out.write_text("\\n".join(str(i) for i in range(n)))
    return out
'''
DOUBLE = '''\
from pathlib import Path

from helpers import scale


def double(numbers: Path) -> Path:
    out = Path("doubled.txt")
    out.write_text("\\n".join(str(scale(int(x))) for x in numbers.read_text().split()))
    return out
'''
TOTAL = '''\
from pathlib import Path

from labels import label


def total(numbers: Path) -> str:
    return label(sum(int(x) for x in numbers.read_text().split()))
'''
STEPS = '''\
import os


def produce(n: int) -> list:
    return list(range(n))


def add(values: list) -> int:
    return sum(values)


def env(name: str) -> str:
    return os.environ.get(name, "")
'''
FILES = ("name: files\nparameters: {n: 4}\ndefaults: {cache: true}\ntasks:\n"
         "  make: {function: make_step:make, args: {n: {param: n}}}\n"
         "  double: {function: double_step:double, args: {numbers: {from: make}}}\n"
         "  total: {function: total_step:total, args: {numbers: {from: double}}}\n")


pytestmark = pytest.mark.usefixtures("fresh_functions")


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache-envs")


def project(tmp_path: Path, spec: str) -> Path:
    for name, text in (("helpers", HELPERS), ("labels", LABELS), ("make_step", MAKE), ("double_step", DOUBLE),
                       ("total_step", TOTAL), ("steps", STEPS)):
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def run(spec: Path, envs: Path, *args: str, env: dict | None = None) -> dict:
    proc = heraspec_cli("run", str(spec), "--json", *args, cwd=spec.parent,
                        env={"HERASPEC_CACHE_DIR": str(envs), **(env or {})})
    assert proc.returncode == 0 and "internal error" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)["tasks"]


def decisions(tasks: dict) -> dict[str, str]:
    return {k: v.get("cache", "") for k, v in tasks.items()}


def test_a_file_passing_pipeline_reruns_exactly_what_changed(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path, FILES)
    first = run(spec, envs)
    assert first["total"]["result"] == "total=12"
    assert decisions(first) == dict.fromkeys(first, "ran: not in the cache")

    again = run(spec, envs)  # all cached, the same result, the same files
    assert decisions(again) == dict.fromkeys(first, "cached")
    assert again["total"]["result"] == "total=12"
    assert (Path(again["double"]["artifacts"]["result"]) / "doubled.txt").read_text() == "0\n2\n4\n6"

    (tmp_path / "labels.py").write_text(LABELS.replace("total=", "sum="))  # only `total` uses label
    third = run(spec, envs)
    assert decisions(third) == {"make": "cached", "double": "cached", "total": "ran: code of labels.label changed"}
    assert third["total"]["result"] == "sum=12"

    (tmp_path / "helpers.py").write_text(HELPERS.replace("x * 2", "x * 3"))
    fourth = run(spec, envs)  # `double` uses scale; `total` reads double's file
    assert decisions(fourth) == {"make": "cached", "double": "ran: code of helpers.scale changed",
                                 "total": "ran: file numbers changed"}
    assert fourth["total"]["result"] == "sum=18"

    fifth = run(spec, envs, "-p", "n=5")  # a new parameter value reruns all
    assert decisions(fifth) == {"make": "ran: input n changed", "double": "ran: file numbers changed",
                                "total": "ran: file numbers changed"}
    assert fifth["total"]["result"] == "sum=30"

    summary = heraspec_cli("run", str(spec), cwd=tmp_path, env={"HERASPEC_CACHE_DIR": str(envs)})
    assert "cache:\n  make: cached\n  double: cached\n  total: cached\n" in summary.stderr


def test_on_argo_a_cached_tasks_files_live_under_its_key_and_readers_key_on_them(tmp_path: Path) -> None:
    spec = project(tmp_path, FILES)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    templates = {t["name"]: t for t in compiled.manifest["spec"]["templates"]}
    dag = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    make, double = templates[dag["make"]["template"]], templates[dag["double"]["template"]]
    key = make["memoize"]["key"]
    assert make["outputs"]["artifacts"][0]["s3"] == {"key": f"heraspec-cache/{key}/result"}
    files_key = next(p for p in make["outputs"]["parameters"] if p["name"] == scheduling.FILES_KEY)
    assert files_key["valueFrom"]["default"] == f"heraspec-cache/{key}"
    assert {"name": "heraspec-files-numbers", "value": "{{tasks.make.outputs.parameters.heraspec-files-key}}"} \
        in dag["double"]["arguments"]["parameters"]
    assert "inputs.parameters['heraspec-files-numbers']" in double["memoize"]["key"]
    # the reader's key, as the controller computes it, follows the producer's
    keys = {n: scheduling.key(double["memoize"]["key"], {"heraspec-files-numbers": scheduling.key(key, {"n": n})})
            for n in ("3", "5")}
    assert keys["3"] != keys["5"]


def test_a_cached_reader_of_an_uncached_producers_file_is_never_stale(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path, "name: s\nparameters: {n: 3}\ntasks:\n"
                             "  p: {function: steps:produce, args: {n: {param: n}}, result: artifact}\n"
                             "  s: {function: steps:add, args: {values: {from: p}}, cache: true}\n")
    assert run(spec, envs, "-p", "n=3")["s"]["result"] == 3
    assert run(spec, envs, "-p", "n=5")["s"]["result"] == 10  # not the cached 3
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    templates = {t["name"]: t for t in compiled.manifest["spec"]["templates"]}
    (p,) = [t for t in templates.values() if t.get("outputs", {}).get("artifacts")]
    files_key = next(x for x in p["outputs"]["parameters"] if x["name"] == scheduling.FILES_KEY)
    # on Argo, each run's file is another (a pod's name repeats for a workflow of a fixed name)
    assert files_key["valueFrom"]["default"] == "{{workflow.uid}}-{{pod.name}}"


def test_a_changed_helper_in_another_module_changes_a_code_image_key(tmp_path: Path) -> None:
    project_dir = tmp_path / "proj"
    shutil.copytree(PROJECT, project_dir)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: img\ndefaults: {code: image, image: ghcr.io/acme/shop:1, cache: true}\n"
                    "tasks:\n  t: {function: shop.orders:total, args: {items: [1]}}\n")

    def key() -> str:
        F.clear_cache()
        (compiled,) = heraspec.compile([str(spec)], path=[str(project_dir)])
        return next(t["memoize"]["key"] for t in compiled.manifest["spec"]["templates"] if "memoize" in t)

    before = key()
    pricing = project_dir / "shop" / "pricing.py"  # orders.py imports gross from it
    pricing.write_text(pricing.read_text().replace("round(net * (1 + TAX), 2)", "round(net * (1 + TAX), 3)"))
    assert key() != before


def test_a_parameter_read_through_env_and_the_overlay_count_in_the_key(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path, "name: e\nparameters: {mode: a}\ntasks:\n"
                             "  t: {function: steps:env, args: {name: MODE}, cache: true,\n"
                             "      env: {MODE: '{{workflow.parameters.mode}}'}}\n")
    assert run(spec, envs, "-p", "mode=a")["t"]["result"] == "a"
    second = run(spec, envs, "-p", "mode=b")
    assert second["t"]["result"] == "b" and second["t"]["cache"] == "ran: parameter mode changed"
    assert run(spec, envs, "-p", "mode=a")["t"]["cache"] == "cached"

    def key(value: str) -> str:
        F.clear_cache()
        spec.write_text("name: e\ntasks:\n  t: {function: steps:env, args: {name: X}, cache: true,\n"
                        "      argo: {template: {script: {env: [{name: X, value: %s}]}}}}\n" % value)
        (compiled,) = heraspec.compile([str(spec)])
        assert_argo_valid(compiled.manifest)
        return next(t["memoize"]["key"] for t in compiled.manifest["spec"]["templates"] if "memoize" in t)

    assert key("one") != key("two")  # the overlay is what the pod runs


def test_a_corrupt_entry_is_a_miss_and_an_unwritable_cache_a_note(tmp_path: Path, envs: Path) -> None:
    spec = project(tmp_path, "name: c\ntasks:\n  t: {function: steps:add, args: {values: [1, 2]}, cache: true}\n")
    assert run(spec, envs)["t"]["result"] == 3
    entries = [p for p in (tmp_path / ".heraspec" / "cache").rglob("heraspec-*.json")]
    assert entries
    for text in ("[]", '{"created": "yesterday", "outputs": {"result": "99"}}', '{"outputs": 5}'):
        for p in entries:
            p.write_text(text)
        task = run(spec, envs)["t"]
        assert task["result"] == 3 and task["cache"].startswith("ran: ")
    shutil.rmtree(tmp_path / ".heraspec" / "cache")
    (tmp_path / ".heraspec" / "cache").write_text("not a folder")  # no entry can be written (even as root)
    task = run(spec, envs)["t"]
    assert task["phase"] == "Succeeded" and task["result"] == 3
    assert "the result was not cached: cannot write" in task["cache"]


TAMPER = '''\
import site
from pathlib import Path


def tamper() -> str:
    site_packages = Path(site.getsitepackages()[0])
    (site_packages / "zz_heraspec_evil.pth").write_text("import sys; sys.heraspec_evil = True\\n")
    (site_packages / "heraspec_evil.py").write_text("EVIL = True\\n")
    return "written"


def look() -> str:
    import importlib.util
    import sys

    return "tampered" if getattr(sys, "heraspec_evil", False) or importlib.util.find_spec("heraspec_evil") else "clean"
'''


def test_a_task_that_writes_into_its_environment_does_not_reach_another_specs_tasks(tmp_path: Path) -> None:
    cache = tmp_path / "envs"
    for name, fn in (("one", "tamper"), ("two", "look")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "evil.py").write_text(TAMPER)
        (folder / "spec.yaml").write_text(f"name: {name}\ntasks:\n  t: {{function: evil:{fn}}}\n")
        proc = heraspec_cli("run", str(folder / "spec.yaml"), "--json", cwd=folder, env={"HERASPEC_CACHE_DIR": str(cache)})
        result = json.loads(proc.stdout)["tasks"]["t"]
    assert result["result"] == "clean", result


def test_a_relative_cache_dir_works_for_code_image_tasks(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: img\ndefaults: {code: image, image: ghcr.io/acme/shop:1}\n"
                    "tasks:\n  t: {function: shop.orders:total, args: {items: [1]}}\n")
    proc = heraspec_cli("run", str(spec), "--path", str(PROJECT), "--json", cwd=tmp_path,
                        env={"HERASPEC_CACHE_DIR": "relcache"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tasks"]["t"]["result"]["amount"] == 1.2
    assert (tmp_path / "relcache" / "envs").is_dir()


def test_pruning_cached_results_removes_their_files_and_sealed_environments(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    spec = project(tmp_path, FILES)
    run(spec, envs)
    files = tmp_path / ".heraspec" / "cache" / "files"
    assert any(p.is_file() for p in files.rglob("*"))  # the cached tasks' files are kept between runs
    listing = heraspec_cli("cache", "list", str(spec), cwd=tmp_path, env={"HERASPEC_CACHE_DIR": str(envs)})
    assert listing.returncode == 0 and "files" not in listing.stdout.split("Python environments")[0].split("task cache")[1]
    pruned = heraspec_cli("cache", "prune", "--results", "--envs", cwd=tmp_path,
                          env={"HERASPEC_CACHE_DIR": str(envs)})
    assert pruned.returncode == 0, pruned.stderr
    assert not any(p.is_file() for p in files.rglob("*"))  # no file is left without its entry
    assert not [p for p in (envs / "envs").iterdir() if p.is_dir()]  # read-only site-packages removed too
    assert decisions(run(spec, envs)) == dict.fromkeys(["make", "double", "total"], "ran: not in the cache")


def test_a_cached_task_reading_a_secret_gets_a_located_note_and_a_bump_reruns_it(tmp_path: Path) -> None:
    text = ("name: sec\ndefaults:\n  cache: true\n  env: {TOKEN: {secret: api-credentials, key: token}}\ntasks:\n"
            "  a: {function: steps:env, args: {name: TOKEN}}\n"
            "  b: {function: steps:env, args: {name: MODE}, env: {MODE: {config_map: settings, key: mode}},\n"
            "      resources: {volumes: [{claim: shared-data, mount_path: /data}]}}\n"
            "  c: {function: steps:env, args: {name: X}, cache: false, env: {X: {secret: other, key: k}}}\n")
    spec = project(tmp_path, text)
    proc = heraspec_cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = [n for n in proc.stderr.splitlines() if ": note: " in n]
    assert notes == [
        f"{spec}:4:9: note: tasks 'a', 'b' are cached and read Secret 'api-credentials' (key token) as TOKEN: the "
        "cache key has the name and key, not the value (heraspec cannot read it), so results computed with an old "
        "value are reused; to recompute after a change, rename it (api-credentials-v2) or bump a plain env value "
        "beside it (TOKEN_VERSION: \"2\")",
        f"{spec}:7:54: note: task 'b' is cached and reads ConfigMap 'settings' (key mode) as MODE: the cache key has "
        "the name and key, not the value (heraspec cannot read it), so results computed with an old value are "
        "reused; to recompute after a change, rename it (settings-v2) or bump a plain env value beside it "
        "(MODE_VERSION: \"2\")",
        f"{spec}:8:37: note: task 'b' is cached and mounts the volume claim 'shared-data': what it holds is not in "
        "the cache key, so results computed from older contents are reused; pass the data as a file ({artifact: "
        "...} or {from: TASK}) or give the task an argument naming its version"]  # c is not cached: nothing to say

    def key(spec_text: str) -> str:
        F.clear_cache()
        spec.write_text(spec_text)
        (compiled,) = heraspec.compile([str(spec)])
        assert_argo_valid(compiled.manifest)
        templates = {t["name"]: t for t in compiled.manifest["spec"]["templates"]}
        task = next(t for t in templates["main"]["dag"]["tasks"] if t["name"] == "a")
        return templates[task["template"]]["memoize"]["key"]

    before = key(text)
    assert key(text.replace("api-credentials", "api-credentials-v2")) != before
    bumped = text.replace("key: token}}", "key: token}, TOKEN_VERSION: '2'}")
    assert key(bumped) != before and key(bumped.replace("'2'", "'3'")) != key(bumped)
