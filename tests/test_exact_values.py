"""Values arrive exactly (issues 12 and 20): through `heraspec run` and through the compiled scripts
executed as Argo would (tests/argo_exec.py aggregates fan-ins with Argo's own rule, written apart
from the runner), a consumer receives each value as the producer returned it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import heraspec
from tests.argo_exec import run_dag
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

ROOT = Path(__file__).resolve().parents[1]

STEPS = '''\
VALUES = {values!r}


def make(i: int) -> {returns}:
    return VALUES[i]


def echo(v):
    return [type(v).__name__, v]


def probe(xs):
    return [[type(x).__name__, x] for x in xs]
'''

FAN_INS: dict[str, tuple[str, list]] = {
    "ints": ("int", [1, 4, -7]),
    "floats": ("float", [1.5, 2.0, -0.25]),
    "strs": ("str", ["42", "true", "", "ALPHA", "a b"]),
    "none": ("None", [None, None]),
    "dicts": ("dict", [{"a": 1}, {"b": [1, "x"]}, {}]),
    "lists": ("list", [[1], [], ["x", None]]),
    "mixed": ("object", [1, "a", None, {"k": 1}, [2], 2.5, True]),
}


def run_locally(spec: Path, tmp: Path) -> dict[str, Any]:
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp / "run"), cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    return {k: v["result"] for k, v in json.loads(proc.stdout)["tasks"].items()}


def run_as_argo(spec: Path, tmp: Path) -> dict[str, Any]:
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    texts = run_dag(compiled.manifest, tmp / "argo")
    return {k: json.loads(v) for k, v in texts.items() if k.startswith(("probe", "total"))}


def expected(values: list) -> list:
    return [[type(v).__name__, v] for v in values]


@pytest.mark.parametrize("case", sorted(FAN_INS))
def test_fan_in_values_arrive_exactly(case: str, tmp_path: Path) -> None:
    returns, values = FAN_INS[case]
    (tmp_path / "steps.py").write_text(STEPS.format(values=values, returns=returns), encoding="utf-8")
    items = list(range(len(values)))
    spec = tmp_path / "fanin.yaml"
    spec.write_text(f"""name: fanin
tasks:
  make: {{function: steps:make, foreach: {items}, args: {{i: {{item: true}}}}}}
  probe: {{function: steps:probe, args: {{xs: {{from: make}}}}}}
  each: {{function: steps:echo, foreach: {{from: make}}, args: {{v: {{item: true}}}}}}
  probe_each: {{function: steps:probe, args: {{xs: {{from: each}}}}}}
  probe_raw: {{function: steps:probe, args: {{xs: "{{{{tasks.make.outputs.parameters.result}}}}"}}}}
""", encoding="utf-8")
    local = run_locally(spec, tmp_path)
    want = expected(values)
    assert local["probe"] == want and local["probe_raw"] == want
    assert local["probe_each"] == [["list", w] for w in want]
    argo = run_as_argo(spec, tmp_path)
    assert argo == {"probe": want, "probe-raw": want, "probe-each": [["list", w] for w in want]}


def test_init_pipeline_totals_on_argo_as_locally(tmp_path: Path) -> None:
    """Issue 20: numbers -> square (fanned out) -> total gave 30 locally and a TypeError on Argo."""
    for toml in (False, True):
        folder = tmp_path / ("toml" if toml else "yaml")
        assert heraspec_cli("init", str(folder), *(["--toml"] if toml else []), cwd=tmp_path).returncode == 0
        spec = folder / ("heraspec.toml" if toml else "heraspec.yaml")
        local = run_locally(spec, folder)
        assert local["total"] == 30 and local["square"] == [1, 4, 9, 16]
        assert run_as_argo(spec, folder) == {"total": 30}


BAD_RESULTS = '''\
import datetime
import math


def bad(which: str):
    return {"set": {1, 2}, "datetime": datetime.datetime(2024, 1, 2), "nan": [1.0, math.nan],
            "key": {1: "a"}, "bytes": b"x", "surrogate": "a\\udc80", "surrogate-key": [{"k\\ud800": 1}]}[which]


def ok(which: str):
    return which
'''


@pytest.mark.parametrize(("which", "what"), [
    ("set", "result is a set"), ("datetime", "result is a datetime.datetime"), ("nan", "result[1] is the float nan"),
    ("key", "result is a dict with a key of type int"), ("bytes", "result is a bytes"),
    # a lone surrogate (bytes decoded with errors="surrogateescape", os.listdir of a bad file name): not UTF-8
    ("surrogate", "result is a str holding the lone surrogate U+DC80 at index 1"),
    ("surrogate-key", "result[0] is a dict whose key holds the lone surrogate U+D800 at index 1")])
def test_results_without_exact_json_fail_the_task_locally_and_in_the_pod(which: str, what: str, tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(BAD_RESULTS, encoding="utf-8")
    spec = tmp_path / "bad.yaml"
    spec.write_text(f"name: bad\ntasks:\n  make: {{function: steps:bad, args: {{which: {which}}}}}\n", encoding="utf-8")
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 1
    message = json.loads(proc.stdout)["tasks"]["make"]["message"]
    assert f"the result of steps:bad: {what}" in message and "no exact JSON form" in message
    (compiled,) = heraspec.compile([str(spec)])
    with pytest.raises(AssertionError, match="no exact JSON form"):
        run_dag(compiled.manifest, tmp_path / "argo")


def test_models_and_dataclasses_travel_as_json_and_are_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "shapes.py").write_text('''\
from dataclasses import dataclass
from typing import Optional


@dataclass
class Point:
    x: int
    y: float


def make(n: int) -> Point:
    return Point(n, n / 2)


def use(p: Point, ps: list[Point], q: Optional[Point] = None) -> list:
    return [type(p).__name__, p.x, p.y, [type(v).__name__ for v in ps], q]
''', encoding="utf-8")
    spec = tmp_path / "shapes.yaml"
    spec.write_text("name: shapes\ntasks:\n  make: {function: shapes:make, args: {n: 3}}\n"
                    "  many: {function: shapes:make, foreach: [1, 2], args: {n: {item: true}}}\n"
                    "  use: {function: shapes:use, args: {p: {from: make}, ps: {from: many}}}\n", encoding="utf-8")
    local = run_locally(spec, tmp_path)
    assert local["make"] == {"x": 3, "y": 1.5}
    want = ["Point", 3, 1.5, ["Point", "Point"], None]
    assert local["use"] == want
    (compiled,) = heraspec.compile([str(spec)])
    assert json.loads(run_dag(compiled.manifest, tmp_path / "argo")["use"]) == want


def test_strs_arrive_as_the_same_str(tmp_path: Path) -> None:
    """Issue 12: a str result is its own text, also inside a larger string; literal strs that read as
    JSON ("42", "true", "null") arrive as strs."""
    (tmp_path / "steps.py").write_text('''\
def say(msg: str) -> str:
    return msg


def echo(v):
    return [type(v).__name__, v]
''', encoding="utf-8")
    spec = tmp_path / "strs.yaml"
    spec.write_text('''name: strs
tasks:
  a: {function: steps:say, args: {msg: hello}}
  b: {function: steps:say, args: {msg: {from: a}}}
  c: {function: steps:say, args: {msg: "said {{tasks.b.outputs.parameters.result}}!"}}
  d: {function: steps:echo, args: {v: {from: b}}}
  e: {function: steps:echo, args: {v: "42"}}
  f: {function: steps:echo, foreach: ["true", null, 7, "x"], args: {v: {item: true}}}
  g: {function: steps:echo, args: {v: [1, {from: a}]}}
''', encoding="utf-8")
    local = run_locally(spec, tmp_path)
    assert local["b"] == "hello" and local["c"] == "said hello!" and local["d"] == ["str", "hello"]
    assert local["e"] == ["str", "42"]
    assert local["f"] == [["str", "true"], ["NoneType", None], ["int", 7], ["str", "x"]]
    assert local["g"] == ["list", [1, "hello"]]
    (compiled,) = heraspec.compile([str(spec)])
    argo = run_dag(compiled.manifest, tmp_path / "argo")
    assert argo["c"] == "said hello!" and json.loads(argo["e"]) == ["str", "42"]
    assert json.loads(argo["f"]) == [["str", "true"], ["NoneType", None], ["int", 7], ["str", "x"]]
    assert json.loads(argo["g"]) == ["list", [1, "hello"]]


def test_reserved_names_and_inexact_return_annotations_are_located(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text('''\
def _heraspec_decode(x):
    return x


def f(x: int) -> int:
    return _heraspec_decode(x)


def g() -> set:
    return {1}
''', encoding="utf-8")
    spec = tmp_path / "r.yaml"
    spec.write_text("name: r\ntasks:\n  a: {function: steps:f, args: {x: 1}}\n  b: {function: steps:g}\n",
                    encoding="utf-8")
    proc = heraspec_cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    # a helper named like the script's own names is fine: carried modules run in their own namespace
    assert "r.yaml:3:17" not in proc.stderr
    assert "r.yaml:4:17: error: 'g' returns set, which has no exact JSON form" in proc.stderr
    assert "steps.py:9:12)" in proc.stderr


def test_literal_values_argo_cannot_substitute_are_located_errors(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text("def say(msg: str = '{{workflow.name}}\\x01') -> str:\n    return msg\n",
                                       encoding="utf-8")
    spec = tmp_path / "c.yaml"
    spec.write_text('name: c\nparameters: {p: "a\\x02"}\ntasks:\n  a: {function: steps:say, args: {msg: "x\\x01y"}}\n'
                    '  b: {function: steps:say, args: {msg: "open {{ here"}}\n  d: {function: steps:say}\n',
                    encoding="utf-8")
    proc = heraspec_cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert "c.yaml:2:19: error: parameter value contains the control character U+0002" in proc.stderr
    assert "c.yaml:4:42: error: argument value contains the control character U+0001" in proc.stderr
    assert "c.yaml:5:46: error: argument value has '{{' without a matching '}}'" in proc.stderr
    # a Python default Argo would substitute (or could not) is applied by Python, locally and on Argo
    spec.write_text("name: c\ntasks:\n  d: {function: steps:say}\n", encoding="utf-8")
    assert run_locally(spec, tmp_path) == {"d": "{{workflow.name}}\x01"}
    (compiled,) = heraspec.compile([str(spec)])
    assert run_dag(compiled.manifest, tmp_path / "argo") == {"d": "{{workflow.name}}\x01"}


def test_nested_references_are_built_without_text_markers() -> None:
    """Issue 15: a literal equal to the compiler's old splice marker became a reference."""
    from heraspec.argo.arguments import arg_value

    assert arg_value([{"from": "a"}, "\x000\x00", {"k": {"param": "p"}}]) == \
        '[{{tasks.a.outputs.parameters.result}},"\\u00000\\u0000",{"k":"{{workflow.parameters.p}}"}]'


@pytest.mark.parametrize("example", ["diamond.yaml", "diamond.toml", "ml-pipeline.yaml", "ml-pipeline.toml"])
def test_examples_give_the_same_results_through_argos_aggregation(example: str, tmp_path: Path) -> None:
    """The bundled examples (ml-pipeline fans `train` out and `pick_best` reads the fan-in): each task
    that is not fanned out computes the same result through `heraspec run` and through the compiled
    scripts run as Argo's executor would, with Argo's aggregation (tests/argo_exec.py, not the runner)."""
    spec = ROOT / "examples" / example
    local = run_locally(spec, tmp_path)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    texts = run_dag(compiled.manifest, tmp_path / "argo")
    tasks = {t["name"]: t for t in compiled.manifest["spec"]["templates"][0]["dag"]["tasks"]}
    single = [n for n, t in tasks.items() if "withItems" not in t and "withParam" not in t]
    assert single and len(single) < len(tasks) or example.startswith("diamond")
    for name in single:
        want = local[compiled.task_names[name]]
        assert (texts[name] if isinstance(want, str) else json.loads(texts[name])) == want, name


ITEM_STEPS = '''\
STRS = {strs!r}


def make(i: int) -> str:
    return STRS[i]


def num(i: int) -> int:
    return i * 10


def record(i: int) -> dict:
    return {{"s": STRS[i], "n": i}}


def echo(v):
    return [type(v).__name__, v]


def strs(v: list[str]):
    return [type(v).__name__, v]
'''
ITEM_STRS = ["42", "true", "null", "", "[1]", '{"a":1}', "x y", "né ✓ 日本", 'say "hi"\n', "-1.5e3"]


@pytest.mark.slow
def test_str_results_reach_argument_set_items_exactly(tmp_path: Path) -> None:
    """A fan-out over argument sets whose items take `{from: X}` of a `-> str` producer: each item is
    the producer's value exactly (a fanned-out X: the list of its strs, as a plain fan-in gives; one
    X: its str), not the str read as JSON ("42" as 42, "null" as None); through `heraspec run` and
    through the compiled scripts run as Argo's executor would, in YAML and in TOML; sets that mix
    str, non-str and literal values each arrive as written."""
    n = len(ITEM_STRS)
    half = list(range(n // 2))
    rest = list(range(n // 2, n))
    sets = {
        # two fanned-out str producers, one per set
        "fan": ("echo", [{"v": {"from": "make_a"}}, {"v": {"from": "make_b"}}]),
        "fan_list": ("strs", [{"v": {"from": "make_a"}}, {"v": {"from": "make_b"}}]),
        # single str producers
        "one": ("echo", [{"v": {"from": "s1"}}, {"v": {"from": "s2"}}, {"v": {"from": "s3"}}]),
        # mixed: a str fan-in, an int fan-in, a single str, literals
        "mixed": ("echo", [{"v": {"from": "make_a"}}, {"v": {"from": "nums"}}, {"v": {"from": "s1"}},
                           {"v": "true"}, {"v": ["1", "x"]}, {"v": 7}]),
        # named outputs of a fanned-out producer: each child's field, a str
        "keyed": ("echo", [{"v": {"from": "recs", "key": "s"}}, {"v": {"from": "make_b"}}]),
    }
    spec = {
        "name": "itemstr",
        "tasks": {
            "make_a": {"function": "steps:make", "foreach": half, "args": {"i": {"item": True}}},
            "make_b": {"function": "steps:make", "foreach": rest, "args": {"i": {"item": True}}},
            "nums": {"function": "steps:num", "foreach": [1, 2], "args": {"i": {"item": True}}},
            "recs": {"function": "steps:record", "foreach": half, "args": {"i": {"item": True}}},
            "s1": {"function": "steps:make", "args": {"i": 0}},
            "s2": {"function": "steps:make", "args": {"i": 2}},
            "s3": {"function": "steps:make", "args": {"i": 7}},
            **{f"use_{k}": {"function": f"steps:{fn}", "args": a} for k, (fn, a) in sets.items()},
        },
    }
    a, b = [ITEM_STRS[i] for i in half], [ITEM_STRS[i] for i in rest]
    want = {
        "use_fan": [["list", a], ["list", b]],
        "use_fan_list": [["list", a], ["list", b]],
        "use_one": [["str", ITEM_STRS[0]], ["str", ITEM_STRS[2]], ["str", ITEM_STRS[7]]],
        "use_mixed": [["list", a], ["list", [10, 20]], ["str", ITEM_STRS[0]], ["str", "true"],
                      ["list", ["1", "x"]], ["int", 7]],
        "use_keyed": [["list", a], ["list", b]],
    }
    from tests.strategies import to_toml, to_yaml

    for form, text in (("yaml", to_yaml(spec)), ("toml", to_toml(spec))):
        (tmp_path / form).mkdir()
        (tmp_path / form / "steps.py").write_text(ITEM_STEPS.format(strs=ITEM_STRS), encoding="utf-8")
        path = tmp_path / form / f"itemstr.{form}"
        path.write_text(text, encoding="utf-8")
        local = run_locally(path, tmp_path / form)
        assert {k: local[k] for k in want} == want, form
        (compiled,) = heraspec.compile([str(path)])
        assert_argo_valid(compiled.manifest)
        texts = run_dag(compiled.manifest, tmp_path / form / "argo")
        argo = {compiled.task_names[k]: json.loads(v) for k, v in texts.items() if k.startswith("use-")}
        assert argo == want, form


NULL_ITEMS = '''\
from typing import Optional


def maybe():
    return [1, None]


def show(x: Optional[int]) -> list:
    return [type(x).__name__, x]
'''


def test_a_none_among_a_producers_items_reaches_its_child_as_none(tmp_path: Path) -> None:
    # Item.GetType takes JSON null for a list; processItem marshals GetListVal(), a nil slice: `null`
    (tmp_path / "steps.py").write_text(NULL_ITEMS, encoding="utf-8")
    spec = tmp_path / "items.yaml"
    spec.write_text("name: items\ntasks:\n  m: {function: steps:maybe}\n"
                    "  probe: {function: steps:show, foreach: {from: m}, args: {x: {item: true}}}\n", encoding="utf-8")
    want = [["int", 1], ["NoneType", None]]
    assert run_locally(spec, tmp_path)["probe"] == want
    assert run_as_argo(spec, tmp_path)["probe"] == want


def test_dicts_annotated_with_keys_json_cannot_carry_are_located(tmp_path: Path) -> None:
    # JSON object keys are strs: a dict[int, str] parameter would receive {"1": ...}, and a result with
    # int keys fails its task at run time; both are said at validate, at the annotation
    (tmp_path / "steps.py").write_text('''\
from typing import Dict, Optional


def keys(x: Optional[list[Dict[int, str]]], y: dict[str, int]) -> int:
    return len(x or [])


def make() -> dict[float, list[int]]:
    return {1.5: [1]}
''', encoding="utf-8")
    spec = tmp_path / "k.yaml"
    spec.write_text("name: k\ntasks:\n  a: {function: steps:keys, args: {x: [], y: {}}}\n  b: {function: steps:make}\n",
                    encoding="utf-8")
    proc = heraspec_cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert ("k.yaml:3:17: error: parameter 'x' of 'keys' is annotated Optional[list[Dict[int, str]]], but JSON "
            "object keys are strs: its int keys would arrive as strs") in proc.stderr
    assert "steps.py:4:13)" in proc.stderr and proc.stderr.count("error:") == 2  # dict[str, int] is fine
    assert ("k.yaml:4:17: error: 'make' returns dict[float, list[int]], but JSON object keys are strs: its float keys "
            "have no exact JSON form") in proc.stderr
    assert "steps.py:8:15)" in proc.stderr
