"""The records validate and compile create keep a dataclass's contract (they are plain classes so
that neither verb imports `dataclasses`): keyword and positional construction with the same
defaults, equality by value, hashing and immutability where they are used as keys, a readable repr."""

from __future__ import annotations

import pytest

from heraspec.argo.artifacts import Input
from heraspec.argo.compiler import Compiled
from heraspec.argo_lang.depends import DependsNode, Token, parse_tree, tokens
from heraspec.check.dag import Dep, Graph, build_graph
from heraspec.errors import Errors, SpecError


def test_spec_errors_are_values_ordered_by_position_and_deduplicated():
    a = SpecError("s.yaml", 3, 1, "bad", hint="fix it")
    assert a == SpecError("s.yaml", 3, 1, "bad", "fix it", "error") and a != SpecError("s.yaml", 3, 1, "bad")
    assert len({a, SpecError("s.yaml", 3, 1, "bad", "fix it")}) == 1
    assert sorted([a, SpecError("s.yaml", 2, 9, "z")])[0].line == 2
    assert repr(SpecError("f", 1, 2, "m")) == "SpecError(file='f', line=1, col=2, message='m', hint=None, severity='error')"
    with pytest.raises(AttributeError):
        a.line = 4  # type: ignore[misc]
    errors = Errors()
    errors.add("s.yaml", 3, 1, "bad", "fix it")
    errors.add("s.yaml", 3, 1, "bad", "fix it")
    assert errors.items == [a]


def test_depends_trees_compare_and_hash_by_value():
    tree = parse_tree("a && (b.Failed || !c)")
    assert tree == parse_tree("a && (b.Failed || !c)") and hash(tree) == hash(parse_tree("a && (b.Failed || !c)"))
    assert tree != parse_tree("a && (b.Failed || !d)")
    assert tree.args[0] == DependsNode("task", task="a", offset=0)
    assert repr(DependsNode("task", (), "a")) == "DependsNode(op='task', args=(), task='a', result=None, offset=0)"
    assert tokens("x.Failed")[0] == Token("task", "x", "Failed", 0)
    with pytest.raises(AttributeError):
        tree.op = "or"  # type: ignore[misc]


def test_graphs_and_compiled_specs_have_their_own_default_containers():
    one, two = Graph(["a"]), Graph(["a"])
    one.add("a", "b", ("edges", 0))
    assert two.deps == [] and two.mentions == [] and one.deps == [Dep("a", "b", ("edges", 0))]
    assert build_graph({"tasks": {"a": {}, "b": {}}, "edges": ["a >> b"]}).upstream("b") == ["a"]
    c, d = Compiled("", {"kind": "Workflow", "metadata": {"name": "w"}}), Compiled("", {})
    c.task_names["x"] = "y"
    assert d.task_names == {} and d.library == {} and d.returns == {} and c.name == "w"
    assert Input("one", "a") == Input("one", "a", False, 0) and len({Input("one", "a"), Input("one", "a")}) == 1
