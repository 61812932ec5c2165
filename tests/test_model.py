"""The typed spec model (heraspec/document/nodes.py): built from every spec that validates, `defaults`
applied as settings.effective applies them, nodes located in their files, keys equal to the schema's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from heraspec import pipeline
from heraspec.check.dag import is_ref
from heraspec.document import nodes
from heraspec.document.load import load_file
from heraspec.document.model import json_schema
from heraspec.document.schema import check_schema
from heraspec.document.settings import effective
from heraspec.errors import Errors

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "heraspec.schema.json"
SPECS = sorted(p for folder in (ROOT / "examples", ROOT / "tests") for p in folder.rglob("*")
               if p.suffix in (".yaml", ".yml", ".toml") and "node_modules" not in p.parts and p.is_file()
               and not p.name.endswith(".lock"))


def _valid_doc(path: Path):
    errors = Errors()
    doc = load_file(str(path), errors)
    if doc is None or errors or not isinstance(doc.data, dict) or not doc.data.get("tasks") \
            and not doc.data.get("workflow_template_ref"):
        return None
    check_schema(doc, errors)
    return None if errors else doc


def _read_every_key(node) -> None:
    """Every key the node declares reads without error, and every nested node is located."""
    for key in sorted(nodes.schema_keys(type(node))):
        attr = {"$schema": "schema_", "tasks": "tasks"}.get(key, key)
        value = getattr(node, attr)
        for child in value if isinstance(value, tuple) else (value,):
            if hasattr(child, "where") and hasattr(child, "data"):
                assert child.where[:len(node.where)] == node.where
                _read_every_key(child)


def test_the_model_builds_from_every_spec_that_validates():
    built = []
    for path in SPECS:
        doc = _valid_doc(path)
        if doc is None:
            continue
        spec = nodes.build_model(doc)
        data = doc.data
        defaults = data.get("defaults") or {}
        assert list(spec.tasks) == list(data.get("tasks") or {}), path
        for name, task in spec.tasks.items():
            assert dict(task.settings) == effective(data["tasks"][name], defaults), (path, name)
            assert task.where == ("tasks", name)
            line, _col = spec.pos(task, key=True)
            assert name in doc.text.splitlines()[line - 1], (path, name, line)
            for argset in task.args:
                for arg in argset:
                    assert arg.where[:3] == ("tasks", name, "args")
                    assert (arg.ref is not None) == is_ref(arg.value)  # the check layer's reading of a reference
            _read_every_key(task)
        _read_every_key(spec)
        built.append(path)
    assert len(built) >= 15, built  # the examples alone are a dozen specs (YAML and TOML)


SPEC = """\
name: located
defaults:
  image: python:3.11
  retry: {limit: 2, backoff: {duration: 10s, factor: 2}}
  resources: {cpu: 2, memory: 8Gi}
  env: {A: "1", B: "2"}
  node_selector: {pool: cpu}
  cache: true
tasks:
  prepare:
    function: steps:prepare
  train:
    function: steps:train
    image: trainer:1
    args:
      data: {from: prepare}
      lr: 0.5
    resources:
      memory: 1Gi
      volume: {size: 1Gi, mount_path: /vol}
    env: {B: "3"}
    node_selector: {gpu: t4}
    retry: 5
    on_exit:
      function: steps:report
      args: {run: {from: train}}
  limited:
    function: steps:prepare
    resources: {cpu: null, limits: {memory: 2Gi}}
on_exit:
  function: steps:notify
  args: {status: {workflow: status}}
"""


def _spec(tmp_path: Path, text: str = SPEC, name: str = "spec.yaml") -> nodes.Spec:
    path = tmp_path / name
    path.write_text(text)
    doc = _valid_doc(path)
    assert doc is not None
    return nodes.build_model(doc)


def test_tasks_inherit_defaults_and_their_own_settings_win(tmp_path):
    spec = _spec(tmp_path)
    prepare, train, limited = spec.tasks["prepare"], spec.tasks["train"], spec.tasks["limited"]
    assert prepare.image == "python:3.11" and train.image == "trainer:1"
    assert (prepare.retry.limit, prepare.retry.backoff.duration, prepare.retry.backoff.factor) == (2, "10s", 2)
    assert train.retry.limit == 5 and train.retry.backoff is None  # `retry: N` replaces, it does not merge
    assert (prepare.resources.cpu, prepare.resources.memory) == (2, "8Gi")
    assert (train.resources.cpu, train.resources.memory) == (2, "1Gi")  # resources merge key by key
    assert dict(train.env) == {"A": "1", "B": "3"} and dict(prepare.env) == {"A": "1", "B": "2"}
    assert dict(train.node_selector) == {"pool": "cpu", "gpu": "t4"}
    assert train.cache is True and train.code == "carry" and train.result == "parameter"
    # `cpu: null` requests none; a request from `defaults` stays beside the task's limit
    assert (limited.resources.cpu, limited.resources.memory, limited.resources.limits.memory) == (None, "8Gi", "2Gi")
    # a limit without a request sets the request (as Kubernetes does); else 1 CPU and 4Gi
    alone = nodes.from_data({"tasks": {"l": {"function": "m:f", "resources": {"limits": {"memory": "2Gi"}}}}})
    assert (alone.tasks["l"].resources.cpu, alone.tasks["l"].resources.memory) == (1, "2Gi")
    [volume] = train.resources.mounts
    assert (volume.size, volume.mount_path, volume.claim) == ("1Gi", "/vol", None)
    # an exit handler has the defaults too, but never `cache`: it always runs
    handler = train.on_exit
    assert handler.image == "python:3.11" and handler.retry.limit == 2 and "cache" not in handler.settings
    assert spec.on_exit.function == "steps:notify" and spec.on_exit.settings.get("cache") is None
    [[status]] = spec.on_exit.args
    assert (status.ref.kind, status.ref.target) == ("workflow", "status")


def test_argument_references_are_typed(tmp_path):
    train = _spec(tmp_path).tasks["train"]
    [[data, lr]] = train.args
    assert (data.name, data.ref.kind, data.ref.target, data.ref.key) == ("data", "from", "prepare", None)
    assert (lr.name, lr.value, lr.ref) == ("lr", 0.5, None)
    fan = nodes.from_data({"tasks": {"f": {"function": "m:f", "args": [{"x": 1}, {"x": {"from": "g", "key": "k"}}]},
                                     "c": {"image": "alpine", "command": ["echo"], "args": ["hi", {"from": "f"}]},
                                     "e": {"function": "m:f", "foreach": {"param": "xs"}}}})
    assert [[a.value for a in s] for s in fan.tasks["f"].args][0] == [1]
    assert fan.tasks["f"].args[1][0].ref == nodes.Ref("from", "g", "k", ("tasks", "f", "args", 1, "x"))
    assert fan.tasks["c"].args == () and fan.tasks["c"].container_args == ("hi", {"from": "f"})
    assert fan.tasks["c"].is_container and not fan.tasks["f"].is_container
    assert fan.tasks["e"].foreach == nodes.Ref("param", "xs", None, ("tasks", "e", "foreach"))


def test_nodes_point_at_their_lines_and_locate_errors(tmp_path):
    spec = _spec(tmp_path)
    lines = SPEC.splitlines()

    def line_of(node) -> str:
        return lines[spec.pos(node)[0] - 1].strip()

    train = spec.tasks["train"]
    assert line_of(train) == "function: steps:train"  # a mapping's position is its first key
    [[data, lr]] = train.args
    assert line_of(data) == "data: {from: prepare}" and line_of(lr) == "lr: 0.5"
    assert spec.pos(lr) == (17, 11)
    assert line_of(train.resources.mounts[0]) == "volume: {size: 1Gi, mount_path: /vol}"
    assert line_of(train.on_exit) == "function: steps:report"
    assert line_of(spec.defaults.retry) == "retry: {limit: 2, backoff: {duration: 10s, factor: 2}}"
    errors = Errors()
    spec.error(errors, lr, "learning rate too high", "try 0.1")
    assert str(errors.items[0]).startswith(f"{tmp_path / 'spec.yaml'}:17:11: error: learning rate too high")


def test_toml_nodes_are_located_too(tmp_path):
    spec = _spec(tmp_path, 'name = "t"\n\n[tasks.a]\nfunction = "m:f"\n\n[tasks.b]\nfunction = "m:g"\n'
                 'args = { x = { from = "a" } }\n', "spec.toml")
    [[x]] = spec.tasks["b"].args
    assert spec.pos(x)[0] == 8 and x.ref.target == "a"
    assert spec.pos(spec.tasks["b"])[0] in (6, 7)


# definition name in the schema -> the node it declares
DEFINITIONS = {"Task": nodes.Task, "TaskDefaults": nodes.Defaults, "ExitTask": nodes.ExitHandler,
               "Resources": nodes.Resources, "Volume": nodes.Volume, "Limits": nodes.Limits, "Retry": nodes.Retry,
               "Backoff": nodes.Backoff, "TemplateRef": nodes.TemplateRef,
               "WorkflowTemplateRef": nodes.WorkflowTemplateRef}


@pytest.mark.parametrize("definition", sorted(DEFINITIONS) + ["$root"])
def test_each_node_reads_exactly_the_keys_its_schema_declares(definition):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    declared = schema if definition == "$root" else schema["definitions"][definition]
    node = nodes.Spec if definition == "$root" else DEFINITIONS[definition]
    assert nodes.schema_keys(node) == set(declared["properties"])


@pytest.mark.parametrize("definition", sorted(DEFINITIONS) + ["$root"])
def test_each_nested_node_is_the_definition_its_schema_property_refers_to(definition):
    """`Task.resources` gives a Resources node where the schema's `resources` refers to Resources
    (and so on): a key read as a node in one and as a plain value in the other is drift."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    declared = schema if definition == "$root" else schema["definitions"][definition]
    node = nodes.Spec if definition == "$root" else DEFINITIONS[definition]
    name_of = {cls: name for name, cls in DEFINITIONS.items()}
    gives = nodes.key_nodes(node)
    for key, prop in declared["properties"].items():
        refs = {r.rsplit("/", 1)[1] for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(prop))} & set(DEFINITIONS)
        given = {name_of[gives[key]]} if gives.get(key) is not None else set()
        assert given == refs, (definition, key)


def test_the_schema_defaults_are_the_model_defaults():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    checked = 0
    for definition in sorted(DEFINITIONS) + ["$root"]:
        declared = schema if definition == "$root" else schema["definitions"][definition]
        node = nodes.Spec if definition == "$root" else DEFINITIONS[definition]
        for key, prop in declared["properties"].items():
            if "default" in prop:
                assert getattr(node, {"$schema": "schema_"}.get(key, key)).default == prop["default"], (definition, key)
                checked += 1
    assert checked >= 4  # kind, image, and both refs' `cluster`


def test_the_generated_schema_is_the_committed_file():
    generated = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated
    assert (ROOT / "heraspec" / "heraspec.schema.json").read_text(encoding="utf-8") == generated


def test_the_pipeline_builds_the_model_once_for_valid_specs_only(tmp_path):
    (tmp_path / "good.yaml").write_text("name: g\ntasks:\n  a: {image: alpine, command: [echo]}\n")
    (tmp_path / "bad.yaml").write_text("name: b\ntasks:\n  a: {image: alpine, command: [echo], retry: often}\n")
    errors = Errors()
    good, bad = pipeline.check_files([str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml")], errors)
    assert good.spec is not None and good.spec.tasks["a"].command == ("echo",)
    assert good.spec.document is good.doc
    assert bad.spec is None and errors


def test_validating_never_imports_pydantic_nor_builds_the_model():
    code = ("import sys; from heraspec import pipeline; from heraspec.errors import Errors; "
            "e = Errors(); c = pipeline.check_files(['examples/diamond.yaml'], e); "
            "assert not e; print('pydantic' in sys.modules, 'spec' in vars(c[0]), c[0].spec is not None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # validating alone never builds the model; a later stage builds it when it first reads it
    assert out.stdout.split() == ["False", "False", "True"]


@pytest.mark.parametrize("example", sorted(p.stem for p in (ROOT / "examples").glob("*.toml")))
def test_an_example_reads_the_same_from_yaml_and_toml(example):
    yaml_spec, toml_spec = (nodes.build_model(_valid_doc(ROOT / "examples" / f"{example}.{ext}")) for ext in ("yaml", "toml"))
    assert {n: dict(t.settings) for n, t in yaml_spec.tasks.items()} == \
        {n: dict(t.settings) for n, t in toml_spec.tasks.items()}
    # the same node in each file: its key on the line that names it
    for spec in (yaml_spec, toml_spec):
        lines = spec.document.text.splitlines()
        for name, task in spec.tasks.items():
            assert name in lines[spec.pos(task, key=True)[0] - 1]
