"""check/dag.py: the graph's dependencies in their documented order, and `find_cycle` against a
plain reference on random graphs (its shortcut for graphs whose dependencies all point forward)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from heraspec.check.dag import Graph, build_graph, find_cycle


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
