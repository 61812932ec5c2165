"""The typed model is built for every loaded spec, also one with schema errors, and the checks read it:
a value of the wrong shape (the schema check reports it) reads as absent, so no check fails on it or
reports it a second time, and the schema errors and the checks' errors come out together, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from heraspec.document import nodes
from heraspec.document.nodes import Key, from_data
from tests.cli import heraspec

# one value of each YAML shape: every key is given each, and most are wrong for it
SHAPES = ("text", 7, 2.5, True, [1, "x", {"a": 1}], {"a": 1, "from": "t"})

NODE_KEYS = [(cls, name, key) for cls in (nodes.Spec, nodes.Defaults, nodes.Task, nodes.ExitHandler,
                                        nodes.Resources, nodes.Limits, nodes.Volume, nodes.Retry, nodes.Backoff,
                                        nodes.TemplateRef, nodes.WorkflowTemplateRef)
             for c in reversed(cls.__mro__) for name, key in vars(c).items() if isinstance(key, Key)]


def _node(cls: type, key: str, value: object) -> object:
    """A node of `cls` whose mapping holds only `key: value`, built as build_model builds it."""
    if cls is nodes.Spec:
        return from_data({key: value})
    if cls is nodes.Task:
        return from_data({"tasks": {"t": {key: value}}}).tasks["t"]
    if cls is nodes.ExitHandler:  # as build_model makes it (`defaults` applied), read; then as written
        _read_all(from_data({"on_exit": {key: value}, "tasks": {"t": {"on_exit": {key: value}}}}).on_exit)
    if cls is nodes.Defaults:
        return from_data({"defaults": {key: value}, "tasks": {"t": {}}}).defaults
    return cls({key: value}, ("x",))


def _read_all(node: object, depth: int = 0) -> None:
    """Read every key of `node` and of the nodes it gives (as a check would)."""
    for c in reversed(type(node).__mro__):
        for name, key in vars(c).items():
            if isinstance(key, Key) or name in ("mounts", "settings", "container_args", "args_listed", "is_container",
                                                "own", "task_names"):
                value = getattr(node, name)
                for v in value if isinstance(value, tuple) else (value,):
                    if hasattr(v, "data") and hasattr(v, "where") and depth < 3:
                        _read_all(v, depth + 1)


@pytest.mark.parametrize("cls, name, key", NODE_KEYS, ids=[f"{c.__name__}.{n}" for c, n, _k in NODE_KEYS])
def test_each_wrong_shaped_key_reads_as_absent(cls: type, name: str, key: Key):
    """Every key of every node, given a value of each shape: reading the node (and what it gives)
    never raises; a value of another shape than the key's (a node's mapping, a list, a map, a text
    with a text default) reads as the key's default."""
    for value in SHAPES:
        node = _node(cls, key.key, value)
        _read_all(node)
        # a task as written (its `data` has `defaults` merged in: a wrong-shaped map merges as none)
        got = getattr(node.own if cls is nodes.Task else node, name)
        read, default = key.read, key.default
        if read is None and default is not None:
            want_type = dict if isinstance(default, type(nodes.mapping(None))) else type(default)
            assert got == (value if isinstance(value, want_type) else default), (value, got)
        elif isinstance(read, type):  # a node over a mapping
            assert (got == default) if not isinstance(value, dict) else isinstance(got, read), (value, got)
        elif getattr(read, "__name__", "") == "_tuple":  # a list read as a tuple
            assert got == (tuple(value) if isinstance(value, list) else default), (value, got)


def test_a_wrong_shaped_task_body_or_defaults_builds_no_node():
    spec = from_data({"defaults": ["x"], "tasks": {"a": "text", "b": None, "c": {"function": "m:f",
                                                                                 "resources": "big"}}})
    assert list(spec.task_names) == ["a", "b", "c"]
    assert list(spec.tasks) == ["c"]
    assert spec.defaults.data == {}
    # the wrong-shaped resources merge as none: the default request stays, as for a task without any
    assert spec.tasks["c"].resources.cpu == 1 and spec.tasks["c"].own.resources is None


STEPS = "def say(msg: str) -> str:\n    return msg\n"

SPEC = """\
name: demo
defaults: 5
tasks:
  a:
    function: steps:say
    args: {msg: hi}
    resources: big
    retry: {limit: 2, backoff: {factor: 2}}
    env: [X]
  b:
    function: steps:say
    args: {msg: {from: nope}}
    pod_labels: {"bad key!": x}
    tolerations: oops
  c:
    function: steps:say
    args: [{msg: x}, 3]
    continue_on: failed
    after: [a, b]
"""


def test_schema_errors_and_check_errors_are_reported_together_and_once(tmp_path: Path):
    """Each wrong-shaped value is reported once, by the schema check (no check reports what follows
    from it: `continue_on: failed` is not also "no task runs after 'c'"); the checks' own errors in
    the same spec are all there, each at its line and column."""
    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "bad.yaml").write_text(SPEC)
    r = heraspec("validate", "bad.yaml", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    located = [line.split(": error: ") for line in (r.stdout + r.stderr).splitlines() if ": error: " in line]
    assert [(at.removeprefix("bad.yaml:"), message) for at, message in located] == [
        ("2:11", "defaults must be a mapping, not an integer"),
        ("7:16", "task 'a' resources must be a mapping, not a string"),
        ("8:32", "a back-off needs a 'duration' (the first wait)"),
        ("9:10", "task 'a' env must be a mapping, not a list"),
        ("12:24", "unknown task 'nope'"),
        ("13:18", "label key 'bad key!' is not valid: the name part must be letters, digits, '-', '_' or '.', "
                  "starting and ending with a letter or digit"),
        ("14:18", "task 'b' tolerations must be a list, not a string"),
        ("17:22", "task 'c' calls a function: each argument set must be a mapping"),
        ("18:18", "task 'c' continue_on must be a list, not a string"),
    ]


def test_the_model_is_built_once_and_the_compiler_gets_it_only_for_a_valid_spec(tmp_path: Path):
    """pipeline builds one model per spec before the checks; `Checked.spec` (what compile takes) is
    that same object when the schema check passed, None when it did not (the checks still read it)."""
    from heraspec.errors import Errors
    from heraspec.pipeline import check_files

    (tmp_path / "steps.py").write_text(STEPS)
    (tmp_path / "good.yaml").write_text("name: good\ntasks:\n  a: {function: steps:say, args: {msg: hi}}\n")
    (tmp_path / "bad.yaml").write_text(SPEC)
    good, bad = check_files([str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml")], Errors())
    assert good.ok and good.spec is good.model and list(good.model.tasks) == ["a"]
    assert not bad.ok and bad.spec is None and list(bad.model.tasks) == ["a", "b", "c"]
    assert bad.model.tasks["a"].own.resources is None and bad.model.tasks["c"].continue_on == ()
