"""`heraspec graph`: Mermaid and DOT pictures of the task graph, SVG/PNG through Graphviz when it is there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from heraspec.cli import main
from heraspec.graph import picture, to_dot, to_mermaid

REPO = Path(__file__).resolve().parents[1]
DIAMOND = REPO / "examples" / "diamond.yaml"
ML = REPO / "examples" / "ml-pipeline.yaml"
# CI installs Graphviz (.ci/run): there a missing `dot` fails these tests instead of skipping them
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"),
                               reason="Graphviz's dot is not installed")


def graph(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["graph", *args])
    out, err = capsys.readouterr()
    return code, out, err


def mermaid_edges(text: str) -> set[tuple[str, str, str]]:
    """(src, arrow, dst) of every Mermaid edge line; a label is kept in the arrow."""
    return {(m[1], m[2], m[3]) for m in re.finditer(r"^\s+(\w+) (\S+) (\w+)$", text, re.MULTILINE)}


def dot_edges(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s+"([^"]+)" -> "([^"]+)"', text, re.MULTILINE))


def test_mermaid_of_the_diamond(capsys):
    code, out, _ = graph(capsys, str(DIAMOND))
    assert code == 0
    assert out.splitlines()[0] == "flowchart LR"
    for name in "ABCD":
        assert f'    {name}["{name}"]' in out
    assert mermaid_edges(out) == {("A", "-->", "B"), ("A", "-->", "C"), ("B", "-->", "D"), ("C", "-->", "D")}


def test_mermaid_of_the_ml_pipeline_marks_the_fan_out(capsys):
    code, out, _ = graph(capsys, str(ML), "--format", "mermaid")
    assert code == 0
    assert '    train[["train ×4"]]' in out  # stacked (subroutine) shape, with the count
    assert '    prepare["prepare"]' in out and '    pick_best["pick_best"]' in out
    assert mermaid_edges(out) == {("prepare", "-->", "train"), ("train", "-->", "pick_best"),
                                  ("pick_best", "-->", "report"), ("train", "-->", "report")}


def test_dot_of_the_diamond_and_the_ml_pipeline(capsys):
    code, out, _ = graph(capsys, str(DIAMOND), "--format", "dot")
    assert code == 0
    assert out.startswith('digraph "parallel-diamonds" {') and "rankdir=LR;" in out
    assert dot_edges(out) == {("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")}
    code, out, _ = graph(capsys, str(ML), "--format", "dot")
    assert '"train" [label="train ×4", shape="box3d"' in out
    assert '"prepare" [label="prepare", tooltip="mlpipe.train:prepare"];' in out
    assert dot_edges(out) == {("prepare", "train"), ("train", "pick_best"), ("pick_best", "report"), ("train", "report")}


SPEC = """\
name: conditions
parameters: {shards: [1, 2]}
tasks:
  list_shards: {function: steps:items}
  shard:
    function: steps:work
    foreach: {from: list_shards}
    args: {x: {item: true}}
  by_param:
    function: steps:work
    foreach: {param: shards}
    args: {x: {item: true}}
  fixed:
    function: steps:work
    foreach: [1, 2, 3]
    args: {x: {item: true}}
  check:
    function: steps:check
    args: {xs: {from: shard}}
  deploy:
    function: steps:work
    args: {x: 1}
    when: "{{tasks.check.outputs.parameters.result}} == true"
  cleanup:
    function: steps:work
    args: {x: 0}
    depends: "deploy.Failed || deploy.Errored"
  end:
    function: steps:work
    args: {x: 2}
edges: ["check >> deploy", "cleanup >> end"]
"""

STEPS = """\
def items() -> list:
    return [1, 2]


def work(x: int) -> int:
    return x


def check(xs: list) -> bool:
    return all(xs)
"""


@pytest.fixture
def conditions(tmp_path) -> Path:
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "conditions.yaml"
    spec.write_text(SPEC)
    return spec


def test_fan_outs_and_conditions_are_marked(conditions, capsys):
    code, out, err = graph(capsys, str(conditions))
    assert code == 0, err
    assert 'shard[["shard × each"]]' in out
    assert 'by_param[["by_param × each"]]' in out
    assert 'fixed[["fixed ×3"]]' in out
    assert '    check -.->|"when"| deploy' in out  # a condition: dashed, labelled
    assert '    deploy -->|"Failed or Errored"| cleanup' in out  # depends on another result than success
    assert "class deploy conditional" in out
    assert '    t_end["end"]' in out and "cleanup --> t_end" in out  # `end` is a Mermaid keyword
    assert len(re.findall(r"^    list_shards --> shard$", out, re.MULTILINE)) == 1  # edges are not repeated
    code, out, _ = graph(capsys, str(conditions), "--format", "dot")
    assert '"check" -> "deploy" [style="dashed", label="when"];' in out
    assert '"deploy" [label="deploy", style="rounded,dashed"' in out


def test_picture_is_plain_data():
    pic = picture({"name": "x", "tasks": {"a": {"function": "m:f"}, "b": {"function": "m:f", "args": [{}, {}]}},
                   "edges": ["a >> b", "a >> b"]})
    assert [(n.name, n.fanout) for n in pic.nodes] == [("a", None), ("b", "×2")]
    assert [(e.src, e.dst) for e in pic.edges] == [("a", "b")]
    assert to_mermaid(pic).count("-->") == 1 and to_dot(pic).count("->") == 1


def test_output_to_a_file(tmp_path, capsys):
    target = tmp_path / "g.mmd"
    code, out, err = graph(capsys, str(DIAMOND), "-o", str(target))
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text().startswith("flowchart LR\n")


def test_an_invalid_spec_gives_the_validators_messages(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntasks:\n  A: {fucntion: steps:say}\nedges: [A >> Z]\n")
    code, out, err = graph(capsys, str(bad))
    assert code == 1 and out == ""
    assert f"{bad}:3:" in err and "fucntion" in err
    assert f"{bad}:4:" in err


def test_png_needs_an_output_file(capsys):
    code, _, err = graph(capsys, str(DIAMOND), "--format", "png")
    assert code == 2 and "-o FILE" in err


@needs_dot
def test_svg_with_graphviz(capsys, tmp_path):
    code, out, _ = graph(capsys, str(ML), "--format", "svg")
    assert code == 0
    assert "<svg" in out and "train ×4" in out and "pick_best" in out
    target = tmp_path / "ml.svg"
    code, _, _ = graph(capsys, str(ML), "--format", "svg", "-o", str(target))
    assert code == 0 and "<svg" in target.read_text()


@needs_dot
def test_png_with_graphviz(capsys, tmp_path):
    target = tmp_path / "ml.png"
    code, _, err = graph(capsys, str(ML), "--format", "png", "-o", str(target))
    assert code == 0, err
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_without_graphviz_a_clear_message_and_exit_1(tmp_path, fmt):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    proc = subprocess.run([sys.executable, "-m", "heraspec", "graph", str(ML), "--format", fmt, "-o", str(tmp_path / "x")],
                          check=False, capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert textwrap.dedent(proc.stderr).startswith(f"heraspec: error: --format {fmt} needs Graphviz's `dot` program")
    assert "--format mermaid" in proc.stderr
    assert not (tmp_path / "x").exists()


EXIT_SPEC = """\
name: notified
on_exit: {function: steps:say, args: {msg: {workflow: status}}}
tasks:
  fetch: {function: steps:say, args: {msg: a}, on_exit: {function: steps:say, args: {msg: cleanup}}}
  train: {function: steps:say, args: {msg: b}, after: [fetch]}
  lint: {function: steps:say, args: {msg: c}}
"""


def test_exit_handlers_are_drawn(tmp_path, capsys):
    """The workflow's on_exit (after every task nothing else waits for) and a task's on_exit (after
    that task) are part of what runs: they are drawn, dashed, labelled `exit`."""
    shutil.copy(REPO / "examples" / "steps.py", tmp_path / "steps.py")
    (tmp_path / "spec.yaml").write_text(EXIT_SPEC)
    code, out, _ = graph(capsys, str(tmp_path / "spec.yaml"))
    assert code == 0
    assert '    t_fetch_on_exit(["on_exit"])' in out and '    t__on_exit(["on_exit"])' in out
    assert mermaid_edges(out) == {("fetch", "-->", "train"), ("fetch", '-.->|"exit"|', "t_fetch_on_exit"),
                                  ("train", '-.->|"exit"|', "t__on_exit"), ("lint", '-.->|"exit"|', "t__on_exit")}
    code, out, _ = graph(capsys, str(tmp_path / "spec.yaml"), "--format", "dot")
    assert code == 0
    assert '    ":on_exit" [label="on_exit", shape="oval", tooltip="steps:say"];' in out
    assert '    "fetch:on_exit" [label="on_exit", shape="oval", tooltip="steps:say"];' in out
    assert dot_edges(out) == {("fetch", "train"), ("fetch", "fetch:on_exit"), ("train", ":on_exit"), ("lint", ":on_exit")}
    assert '    "fetch" -> "fetch:on_exit" [style="dashed", label="exit"];' in out
