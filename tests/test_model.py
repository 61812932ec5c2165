"""The typed spec model (heraspec/document/nodes.py): built from every spec that validates, `defaults`
applied as settings.effective applies them, nodes located in their files, keys equal to the schema's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from heraspec import pipeline
from heraspec.check.dag import is_ref
from heraspec.document import nodes
from heraspec.document.load import load_file
from heraspec.document import schema_docs, schemagen
from heraspec.document.shapes import SchemaType
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


def test_nodes_are_immutable_slotted_values(tmp_path):
    """A node cannot be changed once built (every reader shares it), carries no `__dict__`, and
    compares by its fields; its constructor takes its fields by position or by name."""
    spec = _spec(tmp_path)
    train = spec.tasks["train"]
    [[data, _]] = train.args
    for node, field in [(spec, "tasks"), (spec, "data"), (train, "name"), (train.resources, "data"),
                        (train.retry, "where"), (data, "ref"), (data.ref, "target"), (spec.defaults, "data")]:
        with pytest.raises(AttributeError):
            setattr(node, field, None)
        with pytest.raises(AttributeError):
            delattr(node, field)
        assert not hasattr(node, "__dict__"), type(node)
    with pytest.raises(AttributeError):
        train.novel = 1
    ref = nodes.Ref(kind="from", target="prepare", key=None, where=data.where)
    assert ref == data.ref and hash(ref) == hash(data.ref) and ref != nodes.Ref("from", "other", None, data.where)
    assert {ref: 1}[data.ref] == 1
    again = nodes.Spec(spec.data, spec.tasks, document=spec.document)
    assert again == spec and again.tasks is spec.tasks and again.where == ()
    assert nodes.Task(train.name, train.data, train.written, train.defaults, train.where) == train
    assert train.own == nodes.Task(name="train", data=train.written, written=train.written, defaults={},
                                   where=("tasks", "train"))
    assert repr(data.ref) == "Ref(kind='from', target='prepare', key=None, where=('tasks', 'train', 'args', 'data'))"


def test_a_tasks_argument_sets_are_built_once_and_read_alike(tmp_path):
    """Every check reads a task's `args`: the sets are built on the first read and shared after."""
    spec = _spec(tmp_path)
    train = spec.tasks["train"]
    first = train.args
    assert train.args is first and [a.name for a in first[0]] == ["data", "lr"]
    assert spec.on_exit.args == spec.on_exit.args and train.own.args == first  # `args` is never merged from defaults


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


def _node_classes() -> list[type]:
    """Every class of nodes.py that declares a spec key."""
    return [c for c in vars(nodes).values() if isinstance(c, type) and c.__module__ == nodes.__name__
            and nodes.is_node(c) and nodes.schema_keys(c)]


def test_every_key_of_every_node_declares_its_type():
    keys = [(cls.__name__, name, key) for cls in _node_classes() for c in cls.__mro__
            for name, key in vars(c).items() if isinstance(key, nodes.Key)]
    assert len(keys) > 100
    untyped = [(cls, name) for cls, name, key in keys
               if not (isinstance(key.of, SchemaType) or nodes.is_node(key.of) and nodes.schema_keys(key.of))]
    assert untyped == []


def test_every_node_class_is_a_definition_of_the_schema():
    reached = schemagen.definitions()
    assert {schemagen.definition_name(cls) for cls in _node_classes()} <= set(reached)
    assert len(reached) == len(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["definitions"]) + 1  # + $root


@pytest.mark.parametrize("definition", sorted(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["definitions"])
                         + ["$root"])
def test_each_definition_declares_exactly_the_keys_of_its_node_and_refuses_others(definition):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    declared = schema if definition == "$root" else schema["definitions"][definition]
    shape = schemagen.definitions()[definition]
    keys = schemagen.declared_keys(shape)
    assert set(declared["properties"]) == set(keys)
    if nodes.is_node(shape):
        assert set(keys) == nodes.schema_keys(shape)  # what the model reads
    assert declared.get("required", []) == [k for k in declared["properties"] if keys[k].required]
    assert declared["additionalProperties"] is False


def test_each_nested_node_is_the_definition_its_schema_property_refers_to():
    """`Task.resources` gives a Resources node where the schema's `resources` refers to Resources
    (and so on): a key read as a node but declared as another type (or the reverse) is drift."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    node_names = {schemagen.definition_name(cls): cls for cls in _node_classes()}
    checked = 0
    for cls in _node_classes():
        name = schemagen.definition_name(cls)
        declared = schema if name == "$root" else schema["definitions"][name]
        gives = nodes.key_nodes(cls)
        for key, prop in declared["properties"].items():
            refs = {r.rsplit("/", 1)[1] for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(prop))} & set(node_names)
            given = {schemagen.definition_name(gives[key])} if gives.get(key) is not None else set()
            assert given == refs, (name, key)
            checked += bool(refs)
    assert checked >= 15


def test_the_schema_defaults_are_the_model_defaults():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    checked = 0
    for cls in _node_classes():
        name = schemagen.definition_name(cls)
        declared = schema if name == "$root" else schema["definitions"][name]
        for key, prop in declared["properties"].items():
            if "default" in prop:
                assert getattr(cls, {"$schema": "schema_"}.get(key, key)).default == prop["default"], (name, key)
                checked += 1
    assert checked >= 4  # kind, image, and both refs' `cluster`
    # a task key `defaults` may set shows no default of its own: `defaults` gives it first
    assert "default" not in schema["definitions"]["Task"]["properties"]["code"]


def test_generation_fails_on_a_key_without_words_and_words_without_a_key(monkeypatch):
    retry = schema_docs.KEYS["Retry"]
    monkeypatch.setitem(schema_docs.KEYS, "Retry", {k: words for k, words in retry.items() if k != "limit"})
    with pytest.raises(ValueError, match=r"Retry: keys without words \['limit'\]"):
        schemagen.json_schema()
    monkeypatch.setitem(schema_docs.KEYS, "Retry", retry)
    monkeypatch.setitem(schema_docs.KEYS, "Volume", {**schema_docs.KEYS["Volume"], "colour": {"description": "none"}})
    with pytest.raises(ValueError, match=r"Volume: .*words without a key \['colour'\]"):
        schemagen.json_schema()


# (where in a one-task spec, value, accepted): each kind of declared type, accepted and refused exactly
# as the schema model.py (pydantic) generated did
TASK = ("tasks", "a")
SAMPLES = [
    (TASK + ("timeout",), "1h30m", True), (TASK + ("timeout",), 90, True), (TASK + ("timeout",), -1, False),
    (TASK + ("timeout",), "10 minutes", False), (TASK + ("timeout",), 1.5, False), (TASK + ("timeout",), True, False),
    (("deadline",), "2d", True), (("ttl",), {"after_success": 3600}, True), (("ttl",), {"after": "1d"}, False),
    (TASK + ("retry",), 3, True), (TASK + ("retry",), {"limit": 3, "policy": "Always"}, True),
    (TASK + ("retry",), {"backoff": {"duration": "10s"}}, False), (TASK + ("retry",), "often", False),
    (TASK + ("retry",), {"limit": 1, "policy": "always"}, False),
    (TASK + ("retry",), {"limit": 1, "backoff": {"factor": 2, "max_duration": "5m"}}, True),
    (TASK + ("retry",), {"limit": 1, "backoff": {"factor": 0}}, False),
    (TASK + ("retry",), {"limit": 1, "backoff": {"factor": 1.5}}, False),
    (TASK + ("resources",), {"cpu": 2, "memory": "4Gi"}, True), (TASK + ("resources",), {"cpu": "500m"}, True),
    (TASK + ("resources",), {"cpu": 0.5, "memory": False}, True), (TASK + ("resources",), {"cpu": None}, True),
    (TASK + ("resources",), {"cpu": 0}, False), (TASK + ("resources",), {"cpu": "2 cores"}, False),
    (TASK + ("resources",), {"cpu": True}, False), (TASK + ("resources",), {"memory": "4GB"}, False),
    (TASK + ("resources",), {"memory": 4}, False), (TASK + ("resources",), {"gpu": -1}, False),
    (TASK + ("resources",), {"limits": True}, True), (TASK + ("resources",), {"limits": {"cpu": "1500m"}}, True),
    (TASK + ("resources",), {"limits": {"cpu": False}}, False),
    (TASK + ("resources",), {"volume": {"mount_path": "/v", "size": "1Gi", "access_mode": "ReadWriteMany"}}, True),
    (TASK + ("resources",), {"volumes": [{"size": "1Gi"}]}, False),
    (TASK + ("resources",), {"volume": {"mount_path": "/v", "access_mode": "rwx"}}, False),
    (("kind",), "CronWorkflow", True), (("kind",), "Job", False), (("pod_gc",), "on_pod_success", True),
    (TASK + ("code",), "image", True), (TASK + ("code",), "copy", False),
    (TASK + ("continue_on",), ["failed", "error"], True), (TASK + ("continue_on",), ["skipped"], False),
    (("priority",), 2**31 - 1, True), (("priority",), 2**31, False), (("parallelism",), 0, False),
    (TASK + ("function",), "mypkg.steps:train", True), (TASK + ("function",), "train", False),
    (TASK + ("outputs",), {"acc": "metrics.accuracy"}, True), (TASK + ("outputs",), {"a b": "x"}, False),
    (TASK + ("outputs",), {"acc": "a..b"}, False),
    (("tasks",), {"bad name!": {"function": "m:f"}}, False), (("tasks",), {"a" * 129: {"function": "m:f"}}, False),
    (("tasks",), {}, False),
    (TASK + ("foreach",), [1, 2], True), (TASK + ("foreach",), {"from": "t", "key": "a.b"}, True),
    (TASK + ("foreach",), {"param": "p"}, True), (TASK + ("foreach",), {"from": "t", "extra": 1}, False),
    (TASK + ("foreach",), "xs", False),
    (TASK + ("args",), {"p": {"artifact": "s3://b/k", "endpoint": "minio:9000"}}, True),
    (TASK + ("args",), {"p": {"artifact": {"key": "k"}}}, True), (TASK + ("args",), "x", False),
    (TASK + ("env",), {"A": {"secret": "s", "key": "k"}, "B": 1.5, "C": True}, True),
    (TASK + ("env",), {"A": {"secret": "s"}}, False), (TASK + ("env",), {"A": [1]}, False),
    (TASK + ("pip_index_url",), "https://x.example/simple", True),
    (TASK + ("pip_index_url",), "https://x.example/{{y}}", False),
    (TASK + ("pip_index_url",), {"secret": "s", "key": "k"}, True),
    (TASK + ("pip_extra_index_urls",), ["ftp://x"], False),
    (TASK + ("cache",), True, True), (TASK + ("cache",), {"max_age": "7d"}, True),
    (TASK + ("cache",), {"max_age": "forever"}, False),
    (TASK + ("template_ref",), {"name": "n", "template": "t", "cluster": True}, True),
    (TASK + ("template_ref",), {"name": "n"}, False),
    (("workflow_template_ref",), {"name": "x", "cluster": True}, True),
    (("schedule",), ["0 3 * * *", "0 15 * * *"], True), (("schedule",), 3, False),
    (TASK + ("semaphore",), {"config_map": "c", "key": "k"}, True),
    (TASK + ("semaphore",), {"config_map": "c", "key": "k", "x": 1}, False),
    (TASK + ("mutex",), "", False), (TASK + ("packages",), [""], False), (("labels",), {"a": 1}, False),
    (TASK + ("functon",), "m:f", False), (("defaults",), {"function": "m:f"}, False),
    (("defaults",), {"image": "x", "cache": True, "code": "image"}, True),
    (("on_exit",), {"function": "m:g", "packages": ["requests"]}, True), (("on_exit",), {"cache": True}, False),
    (TASK + ("argo",), {"template": {"nodeSelector": {"a": "b"}}}, True), (TASK + ("argo",), {"spec": {}}, False),
    (("artifact_repository",), {"config_map": "c", "bucket": "b"}, False),
]


@pytest.fixture(scope="module")
def generated_validator() -> Draft7Validator:
    return Draft7Validator(schemagen.json_schema())


@pytest.mark.parametrize("where, value, accepted", SAMPLES, ids=lambda v: repr(v)[:40])
def test_the_generated_schema_accepts_and_refuses_values_by_their_declared_type(where, value, accepted,
                                                                                 generated_validator):
    spec: dict = {"name": "s", "tasks": {"a": {"function": "m:f"}}}
    parent = spec
    for key in where[:-1]:
        parent = parent.setdefault(key, {})
    parent[where[-1]] = value
    errors = list(generated_validator.iter_errors(spec))
    assert (errors == []) == accepted, errors


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


def test_building_the_model_loads_neither_the_schema_generator_nor_its_words():
    """The model is on validate's path: its type declarations are plain objects, the JSON Schema is
    written only by `schemagen` (nor pydantic nor jsonschema is loaded)."""
    code = ("import sys; from heraspec.document import nodes; "
            "s = nodes.from_data({'tasks': {'a': {'function': 'm:f', 'timeout': '1m', 'retry': 2}}}); "
            "assert s.tasks['a'].retry.limit == 2 and s.tasks['a'].timeout == '1m'; "
            "print([m for m in ('pydantic', 'jsonschema', 'heraspec.document.schemagen', "
            "'heraspec.document.schema_docs') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


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


_TASK_SETTINGS = [
    {}, {"function": "s:f"}, {"resources": {"cpu": 2}}, {"resources": {"cpu": None, "memory": False}},
    {"resources": {"limits": {"cpu": 4, "memory": "8Gi"}}}, {"resources": {"limits": {"memory": "1Gi"}, "cpu": 3}},
    {"resources": {"limits": True}}, {"resources": {"limits": {"cpu": None}}}, {"resources": "2"}, {"resources": [1]},
    {"resources": {"gpu": 1, "volume": {"mount_path": "/m"}}}, {"env": {"A": "1"}}, {"env": ["A"]},
    {"node_selector": {"k": "v"}, "pod_labels": {"a": "b"}, "pod_annotations": "x"},
    {"image": "i", "retry": 2, "cache": True, "tolerations": [{"key": "k"}], "env": {}, "resources": {}},
]


@pytest.mark.parametrize("task", _TASK_SETTINGS)
def test_a_task_without_defaults_reads_as_with_defaults_that_set_nothing(task: dict):
    """`effective` without `defaults` (most specs: the short way) gives what merging a `defaults`
    that sets none of the task's settings gives, key order included; the task is left as written."""
    written = json.dumps(task)
    alone = effective(task, {})
    merged = effective(task, {"description": "sets nothing a task inherits"})
    assert json.dumps(alone) == json.dumps(merged)
    assert json.dumps(task) == written
    for key in ("resources", "env", "node_selector", "pod_labels", "pod_annotations"):
        if isinstance(task.get(key), dict):
            assert alone[key] is not task[key]  # a copy: the task as written stays as written
