"""check/dag.py: the graph's dependencies in their documented order, and `find_cycle` against a
plain reference on random graphs (its shortcut for graphs whose dependencies all point forward)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from heraspec.check.dag import Graph, build_graph, find_cycle, refs_in, strings_in, task_expr_names


def test_a_tasks_dependencies_in_order():
    data = {"tasks": {n: {} for n in "abcdef"} | {"t": {
        "depends": "f", "foreach": {"from": "e"}, "when": "{{tasks.c.outputs.result}} == 1",
        "args": {"x": {"from": "a"}, "y": "{{tasks.b.outputs.result}}", "z": [{"from": "a", "key": "k"}]},
        "after": ["d"]}}, "edges": ["a >> t"]}
    g = build_graph(data)
    assert [(d.src, d.path) for d in g.deps if d.dst == "t"] == [
        ("a", ("edges", 0)), ("d", ("tasks", "t", "after", 0)), ("a", ("tasks", "t", "args", "x", "from")),
        ("a", ("tasks", "t", "args", "z", 0, "from")), ("c", ("tasks", "t", "when")),
        ("b", ("tasks", "t", "args", "y")), ("e", ("tasks", "t", "foreach", "from")), ("f", ("tasks", "t", "depends"))]
    assert g.upstream("t") == ["a", "d", "c", "b", "e", "f"]


def _has_cycle(tasks: list[str], edges: list[tuple[str, str]]) -> bool:
    """Kahn's algorithm: a cycle is what never reaches in-degree 0."""
    succ = {t: set() for t in tasks}
    for a, b in edges:
        succ[a].add(b)
    indegree = {t: 0 for t in tasks}
    for a in tasks:
        for b in succ[a]:
            indegree[b] += 1
    ready = [t for t in tasks if indegree[t] == 0]
    seen = 0
    while ready:
        t = ready.pop()
        seen += 1
        for b in succ[t]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    return seen < len(tasks)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.permutations([f"t{i}" for i in range(n)]),
    st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=14))))
def test_find_cycle_finds_a_cycle_exactly_when_there_is_one(case):
    tasks, pairs = case
    names = list(tasks) + ["unknown"]  # a dependency on an unknown task is no edge
    g = Graph(list(tasks))
    for a, b in pairs:
        g.add(names[a], names[b], ())
    edges = [(d.src, d.dst) for d in g.deps if d.src in tasks and d.dst in tasks]
    cycle = find_cycle(g)
    assert (cycle is not None) == _has_cycle(list(tasks), edges)
    if cycle is not None:
        assert cycle[0] == cycle[-1] and all((a, b) in edges for a, b in zip(cycle, cycle[1:]))


def test_a_cycle_behind_forward_dependencies_is_found():
    g = build_graph({"tasks": {"a": {}, "b": {"after": ["a"]}, "c": {"after": ["b", "d"]}, "d": {"after": ["c"]}}})
    assert find_cycle(g) == ["c", "d", "c"]
    g = build_graph({"tasks": {"b": {"after": ["a"]}, "a": {}}})  # backward, no cycle
    assert find_cycle(g) is None


_TEXT = st.sampled_from(["x", "{{tasks.a.outputs.result}}", "{{ tasks.b.outputs.parameters.p }} and {{tasks.c.x}}",
                         "{{workflow.name}}"])
_VALUE = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["from", "key", "param", "item", "workflow", "x", "y"]), inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_VALUE, st.dictionaries(st.sampled_from(["x", "y", "z"]), _VALUE, max_size=3)), st.one_of(st.none(), _TEXT))
def test_build_graph_finds_what_the_public_walks_find(args, when):
    """build_graph walks a task's args once; refs_in, strings_in and task_expr_names find the same."""
    task = {"args": args} | ({"when": when} if when is not None else {})
    got = [(d.src, d.path, d.offset) for d in build_graph({"tasks": {"t": task}}).deps]
    base = ("tasks", "t", "args")
    want = [(target, path + ("from",), None) for kind, target, path in refs_in(args, base)
            if kind == "from" and isinstance(target, str)]
    texts = ([(when, ("tasks", "t", "when"))] if when is not None else []) + list(strings_in(args, base))
    want += [(ref, path, off) for text, path in texts for ref, off in task_expr_names(text)]
    assert got == want
