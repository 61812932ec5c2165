"""The committed JSON Schema is generated from the typed model (document/schemagen.py) and is editor-friendly."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft7Validator

from heraspec.document.schemagen import generated_text

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "heraspec.schema.json"


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
