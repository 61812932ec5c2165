"""The committed JSON Schema is generated from the typed model (document/schemagen.py) and is editor-friendly."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from heraspec.document.schema import load_schema
from heraspec.document.schemagen import generated_text

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "heraspec.schema.json"
EXAMPLES = ROOT / "examples"


def test_committed_schema_is_the_one_the_model_generates():
    generated = generated_text()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated, (
        "schemas/heraspec.schema.json drifted from the model (document/nodes.py, shapes.py, schema_docs.py): "
        "run `python -m heraspec.document.schemagen > schemas/heraspec.schema.json`")
    # the copy the package ships (a link to the same file)
    assert (ROOT / "heraspec" / "heraspec.schema.json").read_text(encoding="utf-8") == generated


def test_schema_is_valid_draft7():
    Draft7Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def _properties(node, path=()):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield path + (name,), sub
        for k, v in node.items():
            yield from _properties(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _properties(v, path + (i,))


def test_every_property_has_a_description_and_unknown_keys_are_refused():
    schema = json.loads(SCHEMA_FILE.read_text())
    undocumented = [".".join(map(str, p)) for p, sub in _properties(schema) if "description" not in sub]
    assert undocumented == []
    objects = [schema] + list(schema["definitions"].values())
    open_objects = [o.get("title", "?") for o in objects if "properties" in o and o.get("additionalProperties") is not False]
    assert open_objects == []


def test_task_keys_named_by_the_contract_exist():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert {"kind", "name", "generate_name", "namespace", "image", "parameters", "defaults", "tasks", "edges"} <= set(schema["properties"])
    task = schema["definitions"]["Task"]["properties"]
    assert {"function", "args", "resources", "after"} <= set(task)
    res = schema["definitions"]["Resources"]["properties"]
    assert {"cpu", "memory", "gpu", "volume"} <= set(res)
    assert {"size", "mount_path"} <= set(schema["definitions"]["Volume"]["properties"])
    assert schema["definitions"]["FromRef"]["properties"].keys() == {"from", "key"}


def test_fast_checker_understands_every_keyword_of_the_schema():
    # the fast path must never silently fall back to jsonschema (start-up cost) or skip a keyword
    from heraspec.document.schema import _Compiler, load_schema

    schema = load_schema()
    _Compiler(schema).compile(schema)


def test_fast_checker_agrees_with_jsonschema_on_the_bad_fixtures():
    from heraspec.errors import Errors
    from heraspec.document.load import load_file
    from heraspec.document.schema import _fast_checker, load_schema

    fixtures = Path(__file__).resolve().parent / "fixtures" / "bad"
    examples = Path(__file__).resolve().parents[1] / "examples"
    validator = Draft7Validator(load_schema())
    for f in [*fixtures.glob("*.yaml"), *fixtures.glob("*.toml"), *examples.glob("*.yaml"), *examples.glob("*.toml")]:
        doc = load_file(str(f), Errors())
        if doc is not None:
            assert _fast_checker()(doc.data) == validator.is_valid(doc.data), f


_VALUES = [None, True, False, 0, -1, 3, 1.5, 2**70, "", "x", "A", "1Gi", "500m", "2", "30s", "1h30m", "1d", "bad value!",
           "steps:work", "Always", "parameter", "failed", [], ["A"], [1], [{"a": 1}], {}, {"from": "A"}, {"param": "p"},
           {"item": True}, {"limit": 2}, {"limit": 2, "backoff": {"factor": 1.5}}, {"x": 1}, {"cpu": 1, "memory": "1Gi"},
           {"artifact": "s3://b/k"}, {"secret": "s", "key": "k"}, {"task": {}}, {"mount_path": "/m"}]
_KEYS = sorted({*load_schema()["definitions"]["Task"]["properties"], *load_schema()["properties"], "fucntion", "limit",
                "cpu", "backoff", "from", "key", "mount_path", "1"})


@st.composite
def _mutated_specs(draw):
    """An example's data with a few values replaced, keys added or removed anywhere in it."""
    import copy

    from heraspec.document.load import load_file
    from heraspec.errors import Errors

    name = draw(st.sampled_from(sorted(p.name for p in EXAMPLES.glob("*.yaml"))))
    data = copy.deepcopy(load_file(str(EXAMPLES / name), Errors()).data)
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while True:  # a random container of the spec
            children = [c for c in (node.values() if isinstance(node, dict) else node) if isinstance(c, (dict, list)) and c]
            if not children or draw(st.integers(0, 2)) == 0:
                break
            node = draw(st.sampled_from(children))
        edit = draw(st.sampled_from(["set", "add", "delete"]))
        if isinstance(node, dict):
            keys = list(node)
            if edit == "add" or not keys:
                node[draw(st.sampled_from(_KEYS))] = copy.deepcopy(draw(st.sampled_from(_VALUES)))
            elif edit == "set":
                node[draw(st.sampled_from(keys))] = copy.deepcopy(draw(st.sampled_from(_VALUES)))
            else:
                del node[draw(st.sampled_from(keys))]
        elif node:
            node[draw(st.integers(0, len(node) - 1))] = copy.deepcopy(draw(st.sampled_from(_VALUES)))
    return data


_TASK = {"function": "steps:say"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_specs())
@example({"tasks": {"t" * 128: _TASK}})
@example({"tasks": {"t" * 129: _TASK}})
@example({"tasks": {"A": {**_TASK, "mutex": ""}}})
@example({"tasks": {"A": {**_TASK, "mutex": "m"}}})
@example({"tasks": {"A": {**_TASK, "after": ["B", 1]}}, "edges": ["A >> B"]})
def test_fast_checker_agrees_with_jsonschema_on_mutated_specs(data):
    """The fast checker's verdict is jsonschema's, for valid and invalid specs of every shape."""
    from heraspec.document.schema import _fast_checker

    assert _fast_checker()(data) == Draft7Validator(load_schema()).is_valid(data), data
