"""Values at the boundary of a task (issues 25 and 26), through `heraspec run` and through the compiled
scripts run as Argo's executor runs them (tests/argo_exec.py): classes defined in another module of
the project are rebuilt wherever they are annotated; a value that does not fit its annotation stops
the task before the function runs; what numpy and the standard library return is sent exactly."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import heraspec
from tests.argo_exec import run_dag
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

FIXTURE = Path(__file__).parent / "fixtures" / "types"


def project(tmp_path: Path, spec: str) -> Path:
    for f in FIXTURE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "flow.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def run_locally(spec: Path, tmp: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = heraspec_cli("run", str(spec), "--json", "--workdir", str(tmp / "run"), *extra, cwd=spec.parent)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)["tasks"]


def results_locally_and_in_the_pod(spec: Path, tmp: Path, expected: dict[str, Any]) -> None:
    """The run succeeds with these tasks' results under `heraspec run`, and the compiled (strict-valid)
    pods, run as Argo's executor runs them, write the same (a result's text read as JSON where it
    reads as a list, an object or a number)."""
    code, tasks = run_locally(spec, tmp)
    assert code == 0, tasks
    assert {k: tasks[k]["result"] for k in expected} == expected
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    texts = run_dag(compiled.manifest, tmp / "argo")
    assert {k: json.loads(texts[k]) if texts[k][:1] in "[{0123456789-" else texts[k] for k in expected} == expected


def stopped_before_the_function(spec: Path, tmp: Path, task: str, message: str, ran: str) -> None:
    """`task` fails with `message` before its function runs (it prints `ran` first thing; no trace),
    under `heraspec run` and as Argo's executor runs the compiled pod."""
    code, tasks = run_locally(spec, tmp)
    assert code == 1 and tasks[task]["phase"] == "Failed"
    assert message in tasks[task]["message"]
    logs = (tmp / "run" / task / "stdout.log").read_text() + (tmp / "run" / task / "stderr.log").read_text()
    assert ran not in logs and "Traceback" not in logs
    (compiled,) = heraspec.compile([str(spec)])
    with pytest.raises(AssertionError, match=re.escape(message)):
        run_dag(compiled.manifest, tmp / "argo")


CLASSES = """\
name: classes
parameters: {box: '{"w": 4}'}
tasks:
  mk: {function: steps:make_box}
  area: {function: steps:take_box, args: {box: {from: mk}}}
  literal: {function: steps:take_box, args: {box: {w: 2, h: 5}}}
  text: {function: steps:take_box, args: {box: '{"w": 4}'}}
  param: {function: steps:take_box, args: {box: {param: box}}}
  boxes: {function: steps:box_of, foreach: [1, 2], args: {w: {item: true}}}
  fan-in: {function: steps:take_boxes, args: {boxes: {from: boxes}}}
  mapped: {function: steps:take_box_map, args: {boxes: {k: {w: 1}}}}
  maybe: {function: steps:take_maybe_box, args: {box: {w: 1}}}
  by-name: {function: steps:take_color, args: {c: BLUE}}
  mk-color: {function: steps:make_color}
  color: {function: steps:take_color, args: {c: {from: mk-color}}}
  level: {function: steps:take_level, args: {lv: 2}}
  mk-point: {function: steps:make_point}
  point: {function: steps:take_point, args: {p: {from: mk-point}}}
  size: {function: steps:take_size, args: {s: {x: 2, y: 3}}}
  width: {function: steps:take_float, args: {x: {from: mk, key: w}}}
"""

CLASS_RESULTS = {
    "area": 6.0, "literal": 10, "text": 4, "param": 4, "fan-in": 3.0,
    "mapped": [["k", "Box", 1]], "maybe": "Box", "by-name": "blue", "color": "blue", "level": 2,
    "point": ["Point", 1, 2], "size": 6, "width": 2.0,
}


def test_classes_from_another_module_are_rebuilt_locally_and_in_the_pod(tmp_path: Path) -> None:
    spec = project(tmp_path, CLASSES)
    assert heraspec.validate([str(spec)]) == []
    results_locally_and_in_the_pod(spec, tmp_path, CLASS_RESULTS)


UNFIT = """\
name: unfit
tasks:
  mk: {function: steps:make_anything}
  use: {function: steps:loud_int, args: {n: {from: mk}}}
"""


def test_a_value_that_does_not_fit_stops_the_task_before_the_function_runs(tmp_path: Path) -> None:
    spec = project(tmp_path, UNFIT)  # an unannotated producer: nothing to check at validate
    assert heraspec.validate([str(spec)]) == []
    stopped_before_the_function(spec, tmp_path, "use", "loud_int(n): expected int, got 'abc' (str)", "loud_int ran")


def test_a_class_refusing_its_mapping_stops_the_task_with_the_reason(tmp_path: Path) -> None:
    spec = project(tmp_path, "name: bad-box\ntasks:\n  mk: {function: steps:make_loose}\n"
                             "  use: {function: steps:take_box, args: {box: {from: mk}}}\n")
    code, tasks = run_locally(spec, tmp_path)
    assert code == 1
    message = tasks["use"]["message"]
    assert "take_box(box): expected Box, got {'h': 2} (dict)" in message and "'w'" in message


def test_a_str_sent_through_the_artifact_repository_arrives_unquoted(tmp_path: Path) -> None:
    spec = project(tmp_path, "name: art\ntasks:\n  mk: {function: steps:make_str, result: artifact}\n"
                             "  any: {function: steps:take_any, args: {v: {from: mk}}}\n"
                             "  one: {function: steps:take_str, args: {s: {from: mk}}}\n")
    code, tasks = run_locally(spec, tmp_path)
    assert code == 0, tasks
    assert tasks["one"]["result"] == "abc" and tasks["any"]["result"] == ["abc", None]


EXACT = '''\
import collections
import enum
from typing import NamedTuple

import numpy as np


class Level(enum.IntEnum):
    HIGH = 2


class Pair(NamedTuple):
    a: int
    b: str


class Name(str):
    pass


def values() -> dict:
    counts = collections.defaultdict(int)
    counts["x"] += 2
    return {
        "mean": np.mean([1.0, 2.0, 4.0]), "int64": np.int64(7), "bool": np.bool_(True), "zero_d": np.array(2.5),
        "float32": np.float32(0.5), "counter": collections.Counter("aab"), "ordered": collections.OrderedDict(b=1, a=2),
        "default": counts, "level": Level.HIGH, "pair": Pair(1, "x"), "name": Name("n"), "nested": [np.int64(1), {"k": np.float64(0.1)}],
    }


def array() -> list:
    return np.array([1, 2])


def show(v: dict) -> dict:
    return {k: [type(x).__name__, x] for k, x in v.items()}
'''

EXACT_VALUES = {
    "mean": 7 / 3, "int64": 7, "bool": True, "zero_d": 2.5, "float32": 0.5, "counter": {"a": 2, "b": 1},
    "ordered": {"b": 1, "a": 2}, "default": {"x": 2}, "level": 2, "pair": [1, "x"], "name": "n",
    "nested": [1, {"k": 0.1}],
}


def test_numpy_scalars_and_standard_subclasses_are_sent_exactly(tmp_path: Path) -> None:
    (tmp_path / "exact.py").write_text(EXACT, encoding="utf-8")
    spec = tmp_path / "exact.yaml"
    spec.write_text("name: exact\npackages: [numpy]\ntasks:\n  v: {function: exact:values}\n"
                    "  show: {function: exact:show, args: {v: {from: v}}}\n  arr: {function: exact:array}\n", encoding="utf-8")
    code, tasks = run_locally(spec, tmp_path)
    assert tasks["v"]["phase"] == "Succeeded", tasks["v"]
    assert tasks["v"]["result"] == EXACT_VALUES
    shown = tasks["show"]["result"]
    assert shown["mean"] == ["float", 7 / 3] and shown["int64"] == ["int", 7] and shown["bool"] == ["bool", True]
    assert code == 1 and tasks["arr"]["phase"] == "Failed"
    message = tasks["arr"]["message"]
    assert "numpy.ndarray" in message and ".tolist()" in message and "result: artifact" in message and "-> Path" in message
    assert "isoformat" not in message  # the hint is about this value's type, not a list of others'


def test_the_runtime_sends_numpy_values_exactly_here_too() -> None:
    np = pytest.importorskip("numpy")
    from heraspec.python.pod import plain
    assert plain(np.float64(0.1), "r") == 0.1 and type(plain(np.float64(0.1), "r")) is float
    assert type(plain(np.int64(3), "r")) is int and plain(np.bool_(False), "r") is False
    assert plain(np.array(1.5), "r") == 1.5 and plain({"a": np.arange(2)[0]}, "r") == {"a": 0}
    with pytest.raises(SystemExit):
        plain(np.float64("nan"), "r")


def test_numpy_values_without_an_exact_json_form_are_refused_naming_the_fix(capsys) -> None:
    # .item() of a datetime64[ns] or timedelta64[ns] is a bare int of nanoseconds, and of a longdouble
    # the longdouble itself: refused with their own fix, never sent as a number or a RecursionError
    np = pytest.importorskip("numpy")
    from heraspec.python.pod import plain
    for value, fix in [(np.datetime64("2024-01-02T03:04:05.000000001"), "str(value)"),
                       (np.timedelta64(5, "ns"), "value / numpy.timedelta64(1, 's')"),
                       (np.longdouble("0.1"), "float(value)")]:
        with pytest.raises(SystemExit):
            plain({"at": [value]}, "the result of m:f")
        err = capsys.readouterr().err
        assert f"the result of m:f: result['at'][0] is a numpy.{type(value).__name__}" in err, err
        assert "no exact JSON form" in err and fix in err, err


# --- issue 26: None only where the annotation admits it; tuples and sets arrive as themselves -----------

BOUNDARY_STEPS = '''\
from typing import Optional, Set, Tuple


def nothing():
    return None


def strict(n: int) -> int:
    print("strict ran")
    return n


def maybe(n: Optional[int]) -> str:
    return type(n).__name__


def maybe_new(n: int | None = 3) -> str:
    return type(n).__name__


def by_default(n: int = None) -> str:
    return type(n).__name__


def pair(t: tuple[int, ...]) -> list:
    return [type(t).__name__, [type(x).__name__ for x in t], sum(t)]


def fixed(t: Tuple[int, str]) -> list:
    return [type(t).__name__, list(t)]


def tags(s: set[str]) -> list:
    return [type(s).__name__, sorted(s)]


def old_tags(s: Set[int]) -> list:
    return [type(s).__name__, sorted(s)]
'''

BOUNDARY = """\
name: boundary
tasks:
  none: {function: steps:nothing}
  maybe: {function: steps:maybe, args: {n: {from: none}}}
  maybe-new: {function: steps:maybe_new, args: {n: {from: none}}}
  by-default: {function: steps:by_default, args: {n: {from: none}}}
  pair: {function: steps:pair, args: {t: [1, 2, 3]}}
  fixed: {function: steps:fixed, args: {t: [1, "a"]}}
  tags: {function: steps:tags, args: {s: [b, a, b]}}
  old-tags: {function: steps:old_tags, args: {s: [2, 1]}}
"""

BOUNDARY_RESULTS = {"maybe": "NoneType", "maybe-new": "NoneType", "by-default": "NoneType",
                    "pair": ["tuple", ["int", "int", "int"], 6], "fixed": ["tuple", [1, "a"]],
                    "tags": ["set", ["a", "b"]], "old-tags": ["set", [1, 2]]}


def _boundary_project(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "steps.py").write_text(BOUNDARY_STEPS, encoding="utf-8")
    path = tmp_path / "flow.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def test_none_from_an_unannotated_producer_stops_an_int_parameter_before_the_function_runs(tmp_path: Path) -> None:
    spec = _boundary_project(tmp_path, "name: none\ntasks:\n  none: {function: steps:nothing}\n"
                                       "  use: {function: steps:strict, args: {n: {from: none}}}\n")
    assert heraspec.validate([str(spec)]) == []  # an unannotated producer: nothing to check at validate
    stopped_before_the_function(spec, tmp_path, "use", "heraspec: strict(n): expected int, got None (NoneType)",
                                "strict ran")


def test_optional_parameters_take_none_and_tuples_and_sets_arrive_as_themselves(tmp_path: Path) -> None:
    spec = _boundary_project(tmp_path, BOUNDARY)
    results_locally_and_in_the_pod(spec, tmp_path, BOUNDARY_RESULTS)


def test_a_set_parameter_given_a_list_it_cannot_hold_is_refused_at_the_boundary(tmp_path: Path) -> None:
    spec = _boundary_project(tmp_path, "name: s\ntasks:\n  mk: {function: steps:nothing}\n"
                                       "  t: {function: steps:pair, args: {t: {from: mk}}}\n")
    (tmp_path / "steps.py").write_text(BOUNDARY_STEPS.replace("return None", "return [1, 'x']"), encoding="utf-8")
    code, tasks = run_locally(spec, tmp_path)
    assert code == 1
    assert "heraspec: pair(t): expected tuple[int, ...], got (1, 'x') (tuple)" in tasks["t"]["message"]


OPTIONAL_TEXT_STEPS = '''\
from typing import Optional


def nothing():
    return None


def no_text() -> Optional[str]:
    return None


def null_word() -> str:
    return "null"


def text(s: Optional[str]) -> list:
    return [type(s).__name__, s]


def text_new(s: str | None = "x") -> list:
    return [type(s).__name__, s]
'''


def test_an_optional_str_receives_none_as_none_and_the_word_null_as_a_str(tmp_path: Path) -> None:
    # None travels as JSON's null: a parameter admitting None reads "null" as None, unless the compiler
    # knows the value is a str (a `-> str` result, a str literal or parameter), which stays the str
    (tmp_path / "steps.py").write_text(OPTIONAL_TEXT_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("""\
name: optional-text
parameters: {word: "null"}
tasks:
  none: {function: steps:nothing}
  no-text: {function: steps:no_text}
  null-word: {function: steps:null_word}
  from-none: {function: steps:text, args: {s: {from: none}}}
  from-no-text: {function: steps:text_new, args: {s: {from: no-text}}}
  literal-none: {function: steps:text, args: {s: null}}
  literal-word: {function: steps:text, args: {s: "null"}}
  result-word: {function: steps:text_new, args: {s: {from: null-word}}}
  param-word: {function: steps:text, args: {s: {param: word}}}
  plain: {function: steps:text, args: {s: "a"}}
""", encoding="utf-8")
    assert heraspec.validate([str(spec)]) == []
    none, word = ["NoneType", None], ["str", "null"]
    results_locally_and_in_the_pod(spec, tmp_path, {
        "from-none": none, "from-no-text": none, "literal-none": none,
        "literal-word": word, "result-word": word, "param-word": word, "plain": ["str", "a"]})


LITERAL_STEPS = '''\
from typing import Literal


def word():
    return "1"


def level(x: Literal["1", "2"]) -> list:
    return [type(x).__name__, x]


def count(x: Literal[1, 2]) -> list:
    return [type(x).__name__, x]
'''


def test_a_literal_parameter_receives_its_values_type_from_an_unannotated_producer(tmp_path: Path) -> None:
    # the str "1" stays a str for Literal["1", "2"] (its text is not read as JSON); Literal[1, 2] reads an int
    (tmp_path / "steps.py").write_text(LITERAL_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: literal\ntasks:\n  w: {function: steps:word}\n"
                    "  level: {function: steps:level, args: {x: {from: w}}}\n"
                    "  count: {function: steps:count, args: {x: {from: w}}}\n", encoding="utf-8")
    assert heraspec.validate([str(spec)]) == []
    results_locally_and_in_the_pod(spec, tmp_path, {"level": ["str", "1"], "count": ["int", 1]})


NUMBER_TEXT_STEPS = '''\
def text(which: str):
    return which


def show(x) -> list:
    return [type(x).__name__, x]


def count(n: int) -> int:
    print("count ran")
    return n


def ratio(x: float) -> float:
    print("ratio ran")
    return x
'''


@pytest.mark.parametrize(("word", "consumer", "message"), [
    ("nan", "ratio", "heraspec: ratio(x): expected float, got 'nan' (str)"),
    ("-Infinity", "ratio", "heraspec: ratio(x): expected float, got '-Infinity' (str)"),
    ("1_000", "count", "heraspec: count(n): expected int, got '1_000' (str)"),
    ("\u0661\u0662", "count", "heraspec: count(n): expected int, got '\u0661\u0662' (str)"),
])
def test_a_number_parameter_reads_only_the_texts_validate_accepts(word: str, consumer: str, message: str,
                                                                   tmp_path: Path) -> None:
    # validate refuses these texts for an int or a float (check/typerules.py); the pod refuses them too
    # rather than reading Python's float("nan"), int("1_000") or int("١٢")
    (tmp_path / "steps.py").write_text(NUMBER_TEXT_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    arg = "x" if consumer == "ratio" else "n"
    spec.write_text(f"name: numbers\ntasks:\n  w: {{function: steps:text, args: {{which: {json.dumps(word)}}}}}\n"
                    f"  use: {{function: steps:{consumer}, args: {{{arg}: {{from: w}}}}}}\n", encoding="utf-8")
    stopped_before_the_function(spec, tmp_path, "use", message, f"{consumer} ran")


def test_an_unannotated_parameter_keeps_nan_as_text_since_json_has_no_nan(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(NUMBER_TEXT_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: nan\ntasks:\n  w: {function: steps:text, args: {which: NaN}}\n"
                    "  a: {function: steps:show, args: {x: {from: w}}}\n", encoding="utf-8")
    results_locally_and_in_the_pod(spec, tmp_path, {"a": ["str", "NaN"]})


BIG_STEPS = '''\
def big(e: int) -> int:
    return 10 ** e + 1


def half(x: float) -> list:
    return [type(x).__name__, str(x)]
'''


def test_an_int_too_large_for_a_float_reaches_a_float_parameter_as_the_int(tmp_path: Path) -> None:
    # an int is accepted for a float (Python's numeric tower); a float would round 10**20 + 1, and
    # 10**400 + 1 has none: the parameter receives the int itself, never a rounded value or an OverflowError
    (tmp_path / "steps.py").write_text(BIG_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: big\ntasks:\n  b20: {function: steps:big, args: {e: 20}}\n"
                    "  b400: {function: steps:big, args: {e: 400}}\n  b3: {function: steps:big, args: {e: 3}}\n"
                    "  h20: {function: steps:half, args: {x: {from: b20}}}\n"
                    "  h400: {function: steps:half, args: {x: {from: b400}}}\n"
                    "  h3: {function: steps:half, args: {x: {from: b3}}}\n", encoding="utf-8")
    results_locally_and_in_the_pod(spec, tmp_path, {"h20": ["int", str(10**20 + 1)], "h400": ["int", str(10**400 + 1)],
                                                    "h3": ["float", "1001.0"]})


NESTED_STEPS = '''\
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional


class Color(enum.Enum):
    RED = "red"


@dataclass
class Point:
    x: int
    y: int


@dataclass
class Line:
    points: list[Point]
    start: Optional[Point] = None
    named: dict[str, Point] = field(default_factory=dict)
    color: Color = Color.RED


def make() -> Line:
    return Line([Point(1, 2)], Point(0, 0), {"a": Point(3, 4)}, Color.RED)


def use(line: Line) -> list:
    return [type(line.points[0]).__name__, type(line.start).__name__, type(line.named["a"]).__name__,
            type(line.color).__name__, line.points[0].x + line.named["a"].y]
'''


def test_classes_inside_a_dataclass_field_are_rebuilt_too(tmp_path: Path) -> None:
    # a field annotated list[Point], Optional[Point], dict[str, Point] or with an Enum (string annotations
    # too) holds the objects again, not their JSON mappings, from a result and from a literal alike
    (tmp_path / "shapes.py").write_text(NESTED_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("name: nested\ntasks:\n  m: {function: shapes:make}\n  u: {function: shapes:use, args: {line: {from: m}}}\n"
                    "  l: {function: shapes:use, args: {line: {points: [{x: 1, y: 2}], start: {x: 0, y: 0},"
                    " named: {a: {x: 3, y: 4}}, color: red}}}\n", encoding="utf-8")
    want = ["Point", "Point", "Point", "Color", 5]
    results_locally_and_in_the_pod(spec, tmp_path, {"u": want, "l": want})


def test_a_dataclass_field_given_what_its_class_refuses_stops_the_task(tmp_path: Path) -> None:
    # a field's class refuses a mapping that misses `y`: said before the function runs, with the reason
    (tmp_path / "flow2.yaml").write_text("name: nested\ntasks:\n  m: {function: shapes:bad}\n"
                                         "  l: {function: shapes:use, args: {line: {from: m}}}\n", encoding="utf-8")
    (tmp_path / "shapes.py").write_text(NESTED_STEPS + "\n\ndef bad():\n    return {'points': [{'x': 1, 'z': 2}]}\n",
                                        encoding="utf-8")
    stopped_before_the_function(tmp_path / "flow2.yaml", tmp_path, "l", "heraspec: use(line): expected Line", "never")


def test_the_str_null_given_to_an_optional_str_by_loop_items_or_raw_parameters_stays_a_str(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(OPTIONAL_TEXT_STEPS, encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("""\
name: optional-items
parameters: {word: "null"}
tasks:
  items: {function: steps:text, foreach: ["null", "a"], args: {s: {item: true}}}
  raw: {function: steps:text, args: {s: "{{workflow.parameters.word}}"}}
""", encoding="utf-8")
    results_locally_and_in_the_pod(spec, tmp_path, {"items": [["str", "null"], ["str", "a"]], "raw": ["str", "null"]})


def test_an_optional_str_item_field_of_null_is_none_and_a_literal_null_word_stays_a_str(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(OPTIONAL_TEXT_STEPS + '''

def records():
    return [{"k": None}, {"k": "a"}]
''', encoding="utf-8")
    spec = tmp_path / "flow.yaml"
    spec.write_text("""\
name: optional-fields
tasks:
  r: {function: steps:records}
  from-items: {function: steps:text, foreach: {from: r}, args: {s: {item: k}}}
  words: {function: steps:text, foreach: [{k: "null"}, {k: a}], args: {s: {item: k}}}
""", encoding="utf-8")
    results_locally_and_in_the_pod(spec, tmp_path, {"from-items": [["NoneType", None], ["str", "a"]],
                                                    "words": [["str", "null"], ["str", "a"]]})
