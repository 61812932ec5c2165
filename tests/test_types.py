"""Types across the graph (issue 26): every value is checked against the annotation it reaches, at
`validate`, each mismatch at its place in the spec; well-typed specs raise no alarm.

Each case is a few tasks over tests/fixtures/types (steps.py, models.py: dataclasses, Enums, a
NamedTuple and a TypedDict in another module; shapes.py: a Pydantic model). In a mismatch, `§` marks
where the error must be reported (it is removed before the spec is written)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import heraspec
from tests.cli import heraspec as heraspec_cli

FIXTURE = Path(__file__).parent / "fixtures" / "types"

# (id, parameters line or "", tasks (YAML lines under `tasks:`), words the message must hold)
MISMATCHES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # literals: scalars
    ("int<-str", "", "a: {function: steps:take_int, args: {n: §abc}}", ("take_int(n: int)", "expected int", "'abc' (str)")),
    ("int<-float", "", "a: {function: steps:take_int, args: {n: §3.7}}", ("expected int", "3.7 (float)")),
    ("int<-arabic-digits", "", "a: {function: steps:take_int, args: {n: §١٢}}", ("expected int", "(str)")),
    ("int<-list", "", "a: {function: steps:take_int, args: {n: §[1]}}", ("expected int", "[1] (list)")),
    ("int<-bool", "", "a: {function: steps:take_int, args: {n: §true}}", ("expected int", "True (bool)")),
    ("float<-str", "", "a: {function: steps:take_float, args: {x: §x}}", ("expected float", "'x' (str)")),
    ("float<-map", "", "a: {function: steps:take_float, args: {x: §{a: 1}}}", ("expected float", "(dict)")),
    ("bool<-word", "", "a: {function: steps:take_bool, args: {b: §maybe}}", ("expected bool", "'maybe'")),
    ("bool<-2", "", "a: {function: steps:take_bool, args: {b: §2}}", ("expected bool", "2 (int)")),
    ("str<-1.10", "", "a: {function: steps:take_str, args: {s: §1.10}}", ("expected str", "1.1 (float)", 'quote it ("1.10")')),
    ("str<-0123", "", "a: {function: steps:take_str, args: {s: §0123}}", ("expected str", "123 (int)", 'quote it ("0123")')),
    ("str<-1e3", "", "a: {function: steps:take_str, args: {s: §1e3}}", ("expected str", "1000.0 (float)", 'quote it ("1e3")')),
    ("str<-True", "", "a: {function: steps:take_str, args: {s: §True}}", ("expected str", "True (bool)", 'quote it ("True")')),
    # Optional, Union, X | Y, Literal
    ("optional<-str", "", "a: {function: steps:take_opt, args: {n: §abc}}", ("expected Optional[int]", "'abc'")),
    ("pipe<-list", "", "a: {function: steps:take_pipe, args: {n: §[1]}}", ("expected int | None", "[1] (list)")),
    ("union<-str", "", "a: {function: steps:take_union, args: {u: §abc}}", ("expected Union[int, list[int]]",)),
    ("literal<-other", "", "a: {function: steps:take_mode, args: {m: §c}}", ("one of 'a', 'b'", "Literal['a', 'b']")),
    ("literal<-text-of-int", "", "a: {function: steps:take_one_two, args: {m: §\"1\"}}", ("one of 1, 2",)),
    # containers
    ("list<-map", "", "a: {function: steps:take_ints, args: {xs: §{a: 1}}}", ("expected list[int]", "(dict)")),
    ("list-item", "", "a: {function: steps:take_ints, args: {xs: [1, §x]}}", ("expected int at xs[1]", "'x' (str)")),
    ("dict-value", "", "a: {function: steps:take_map, args: {m: {a: §x}}}", ("expected int at m['a']",)),
    ("dict<-list", "", "a: {function: steps:take_map, args: {m: §[1]}}", ("expected dict[str, int]",)),
    ("tuple-length", "", "a: {function: steps:take_pair, args: {p: §[1, a, 3]}}", ("tuple[int, str] (2 items), got 3 items",)),
    ("tuple-item", "", "a: {function: steps:take_pair, args: {p: [§a, b]}}", ("expected int at p[0]",)),
    ("set-item", "", "a: {function: steps:take_set, args: {s: [1, §a]}}", ("expected int at s[1]",)),
    ("json-text-not-list", "", "a: {function: steps:take_ints, args: {xs: §\"abc\"}}", ("expected list[int]", "'abc' (str)")),
    # Enums, classes from another module, Pydantic, TypedDict, NamedTuple
    ("enum<-unknown", "", "a: {function: steps:take_color, args: {c: §green}}", ("expected Color", "'red', 'blue'", "RED, BLUE")),
    ("enum<-wrong-type", "", "a: {function: steps:take_color, args: {c: §1}}", ("expected Color",)),
    ("intenum<-unknown", "", "a: {function: steps:take_level, args: {lv: §3}}", ("expected Level", "1, 2")),
    ("dataclass-unknown-field", "", "a: {function: steps:take_box, args: {box: {w: 2, §d: 3}}}", ("Box has no field 'd'", "w, h, tags")),
    ("dataclass-missing-field", "", "a: {function: steps:take_box, args: {box: §{h: 3}}}", ("Box needs field 'w'",)),
    ("dataclass-field-type", "", "a: {function: steps:take_box, args: {box: {w: §abc}}}", ("expected float at box['w']",)),
    ("dataclass-nested-list", "", "a: {function: steps:take_box, args: {box: {w: 1, tags: [§null]}}}", ("expected str at box['tags'][0]",)),
    ("dataclass<-scalar", "", "a: {function: steps:take_box, args: {box: §5}}", ("expected Box", "5 (int)")),
    ("list-of-dataclass", "", "a: {function: steps:take_boxes, args: {boxes: [{w: 1}, §{h: 1}]}}", ("Box needs field 'w'",)),
    ("dict-of-dataclass", "", "a: {function: steps:take_box_map, args: {boxes: {k: {§x: 1}}}}", ("Box has no field 'x'",)),
    ("optional-dataclass", "", "a: {function: steps:take_maybe_box, args: {box: §{}}}", ("expected Optional[Box]",)),
    ("json-text-dataclass", "", "a: {function: steps:take_box, args: {box: §'{\"w\": \"x\"}'}}", ("expected float at box['w']",)),
    ("pydantic-field", "", "a: {function: shapes:take_item, packages: [pydantic], args: {thing: {name: a, count: §x}}}",
     ("take_item(thing: Item)", "expected int at thing['count']")),
    ("pydantic-missing", "", "a: {function: shapes:take_item, packages: [pydantic], args: {thing: §{count: 1}}}",
     ("Item needs field 'name'",)),
    ("typeddict-missing", "", "a: {function: steps:take_size, args: {s: §{x: 1}}}", ("Size needs field 'y'",)),
    ("namedtuple-unknown", "", "a: {function: steps:take_point, args: {p: {x: 1, §z: 2}}}", ("Point has no field 'z'",)),
    ("namedtuple-length", "", "a: {function: steps:take_point, args: {p: §[1]}}", ("Point (2 items), got 1 items",)),
    ("int<-null", "", "a: {function: steps:take_int, args: {n: §null}}", ("expected int", "None")),
    # {from: X}, {from: X, key: K}, fan-ins
    ("from-str->int", "", "m: {function: steps:make_str}\n  a: {function: steps:take_int, args: {n: §{from: m}}}",
     ("take_int(n: int): expected int, got the result of 'm' (make_str() -> str)", "return annotation")),
    ("from-dict->list", "", "m: {function: steps:make_dict}\n  a: {function: steps:take_floats, args: {xs: §{from: m}}}",
     ("expected list[float]", "make_dict() -> dict")),
    # a bool is not an int here: the pod refuses True for an int (and a float), as validate refuses `true`
    ("from-bool->int", "", "m: {function: steps:make_bool}\n  a: {function: steps:take_int, args: {n: §{from: m}}}",
     ("expected int", "make_bool() -> bool")),
    ("from-bool->float", "", "m: {function: steps:make_bool}\n  a: {function: steps:take_float, args: {x: §{from: m}}}",
     ("expected float", "make_bool() -> bool")),
    ("from-optional->int", "", "m: {function: steps:make_opt}\n  a: {function: steps:take_int, args: {n: §{from: m}}}",
     ("expected int", "-> Optional[int]")),
    ("from-class->other", "", "m: {function: steps:make_box}\n  a: {function: steps:take_color, args: {c: §{from: m}}}",
     ("expected Color", "make_box() -> Box")),
    ("from-subclass-with-fields", "", "m: {function: steps:make_crate}\n  a: {function: steps:take_box, args: {box: §{from: m}}}",
     ("expected Box", "make_crate() -> Crate")),
    ("from-list[str]->list[int]", "", "m: {function: steps:make_strs}\n  a: {function: steps:take_ints, args: {xs: §{from: m}}}",
     ("expected list[int]", "-> list[str]")),
    ("fan-in->int", "", "f: {function: steps:square, foreach: [1, 2], args: {i: {item: true}}}\n"
                         "  a: {function: steps:take_int, args: {n: §{from: f}}}", ("expected int", "fanned in as list[int]")),
    ("fan-in->dict", "", "f: {function: steps:square, args: [{i: 1}, {i: 2}]}\n"
                         "  a: {function: steps:take_map, args: {m: §{from: f}}}", ("expected dict[str, int]", "list[int]")),
    ("key-type", "", "m: {function: steps:make_box}\n  a: {function: steps:take_ints, args: {xs: §{from: m, key: w}}}",
     ("expected list[int]", "key 'w'", "float")),
    ("key-missing", "", "m: {function: steps:make_box}\n  a: {function: steps:take_float, args: {x: {from: m, key: §depth}}}",
     ("no field 'depth'", "w, h, tags")),
    ("key-of-scalar", "", "m: {function: steps:make_int}\n  a: {function: steps:take_int, args: {n: {from: m, key: §x}}}",
     ("no key 'x'",)),
    ("nested-from", "", "m: {function: steps:make_str}\n  a: {function: steps:take_ints, args: {xs: [1, §{from: m}]}}",
     ("expected int", "make_str() -> str")),
    ("nested-from-field", "", "m: {function: steps:make_str}\n  a: {function: steps:take_box, args: {box: {w: §{from: m}}}}",
     ("expected float", "make_str() -> str")),
    # foreach items and {item}
    ("item-literal", "", "a: {function: steps:take_int, foreach: [1, 2, §x], args: {n: {item: true}}}",
     ("expected int", "'x' (str)", "foreach item")),
    ("item-key", "", "a: {function: steps:take_int, foreach: [{n: 1}, {n: §x}], args: {n: {item: n}}}", ("expected int",)),
    ("item-of-from", "", "m: {function: steps:make_strs}\n  a: {function: steps:take_int, foreach: {from: m}, args: {n: §{item: true}}}",
     ("expected int", "an item of the result of 'm'", "str")),
    ("foreach-not-a-list", "", "m: {function: steps:make_int}\n  a: {function: steps:take_int, foreach: §{from: m}, args: {n: {item: true}}}",
     ("foreach needs a list", "make_int() -> int")),
    ("item-of-param", "parameters: {ps: [1, §x]}", "a: {function: steps:take_int, foreach: {param: ps}, args: {n: {item: true}}}",
     ("expected int", "'x'")),
    # workflow parameters and sub-pipelines
    ("param-default", "parameters: {p: §abc}", "a: {function: steps:take_int, args: {n: {param: p}}}",
     ("parameter 'p' defaults to 'abc'", "take_int(n: int)", "tasks.a.args.n", "expected int")),
    ("param-default-yaml", "parameters: {v: §1.10}", "a: {function: steps:take_str, args: {s: {param: v}}}",
     ("parameter 'v' defaults to 1.1", 'quote it ("1.10")')),
    ("pipeline-arg", "", "s: {pipeline: sub.yaml, args: {n: §abc}}", ("take_int(n: int): expected int", "pipeline parameter 'n'", "sub.yaml")),
    ("pipeline-arg-from", "", "m: {function: steps:make_str}\n  s: {pipeline: sub.yaml, args: {n: §{from: m}}}",
     ("expected int", "make_str() -> str", "pipeline parameter 'n'")),
    ("pipeline-result", "", "s: {pipeline: sub.yaml}\n  a: {function: steps:take_int, args: {n: §{from: s}}}",
     ("expected int", "the result of pipeline 's'", "make_str() -> str")),
]

CONTROLS: list[tuple[str, str, str]] = [
    ("int", "", "a: {function: steps:take_int, args: {n: 3}}"),
    ("int<-text", "", "a: {function: steps:take_int, args: {n: \"42\"}}"),
    ("int<-3.0", "", "a: {function: steps:take_int, args: {n: 3.0}}"),
    ("float<-int", "", "a: {function: steps:take_float, args: {x: 3}}"),
    ("float", "", "a: {function: steps:take_float, args: {x: 2.5}}"),
    ("float<-text", "", "a: {function: steps:take_float, args: {x: \"2.5\"}}"),
    ("bool", "", "a: {function: steps:take_bool, args: {b: true}}"),
    ("bool<-yes", "", "a: {function: steps:take_bool, args: {b: yes}}"),
    ("str", "", "a: {function: steps:take_str, args: {s: hello}}"),
    ("str<-quoted", "", "a: {function: steps:take_str, args: {s: \"1.10\"}}"),
    ("str<-80-as-written", "", "a: {function: steps:take_str, args: {s: 80}}"),
    ("str<-list-as-json-text", "", "a: {function: steps:take_str, args: {s: [a, b]}}"),
    ("from-list->str-as-json-text", "", "m: {function: steps:make_ints}\n  a: {function: steps:take_str, args: {s: {from: m}}}"),
    ("optional<-null", "", "a: {function: steps:take_opt, args: {n: null}}"),
    ("optional<-int", "", "a: {function: steps:take_opt, args: {n: 3}}"),
    ("pipe<-int", "", "a: {function: steps:take_pipe, args: {n: 3}}"),
    ("any", "", "a: {function: steps:take_any, args: {v: [1, {a: b}], w: {x: [null]}}}"),
    ("list[int]", "", "a: {function: steps:take_ints, args: {xs: [1, 2]}}"),
    ("list[float]<-ints", "", "a: {function: steps:take_floats, args: {xs: [1, 2.5]}}"),
    ("list<-json-text", "", "a: {function: steps:take_ints, args: {xs: \"[1, 2]\"}}"),
    ("dict[str,int]", "", "a: {function: steps:take_map, args: {m: {a: 1, b: 2}}}"),
    ("tuple", "", "a: {function: steps:take_pair, args: {p: [1, a]}}"),
    ("set", "", "a: {function: steps:take_set, args: {s: [1, 2]}}"),
    ("union-list", "", "a: {function: steps:take_union, args: {u: [1, 2]}}"),
    ("union-str", "", "a: {function: steps:take_either, args: {u: abc}}"),
    ("literal", "", "a: {function: steps:take_mode, args: {m: a}}"),
    ("enum-by-value", "", "a: {function: steps:take_color, args: {c: red}}"),
    ("enum-by-name", "", "a: {function: steps:take_color, args: {c: BLUE}}"),
    ("intenum-by-value", "", "a: {function: steps:take_level, args: {lv: 2}}"),
    ("dataclass-required-only", "", "a: {function: steps:take_box, args: {box: {w: 2}}}"),
    ("dataclass-all-fields", "", "a: {function: steps:take_box, args: {box: {w: 2, h: 3.5, tags: [a]}}}"),
    ("dataclass-json-text", "", "a: {function: steps:take_box, args: {box: '{\"w\": 2}'}}"),
    ("list-of-dataclass", "", "a: {function: steps:take_boxes, args: {boxes: [{w: 1}, {w: 2}]}}"),
    ("dict-of-dataclass", "", "a: {function: steps:take_box_map, args: {boxes: {k: {w: 1}}}}"),
    ("optional-dataclass-null", "", "a: {function: steps:take_maybe_box, args: {box: null}}"),
    ("pydantic", "", "a: {function: shapes:take_item, packages: [pydantic], args: {thing: {name: a, count: 2}}}"),
    ("typeddict", "", "a: {function: steps:take_size, args: {s: {x: 1, y: 2}}}"),
    ("namedtuple-list", "", "a: {function: steps:take_point, args: {p: [1, 2]}}"),
    ("namedtuple-map", "", "a: {function: steps:take_point, args: {p: {x: 1, y: 2}}}"),
    ("from-int->float", "", "m: {function: steps:make_int}\n  a: {function: steps:take_float, args: {x: {from: m}}}"),
    ("from-int->int", "", "m: {function: steps:make_int}\n  a: {function: steps:take_int, args: {n: {from: m}}}"),
    ("from-dataclass-other-module", "", "m: {function: steps:make_box}\n  a: {function: steps:take_box, args: {box: {from: m}}}"),
    ("from-dataclass->any", "", "m: {function: steps:make_box}\n  a: {function: steps:take_any, args: {v: {from: m}}}"),
    ("from-unannotated->int", "", "m: {function: steps:make_anything}\n  a: {function: steps:take_int, args: {n: {from: m}}}"),
    ("from-enum->enum", "", "m: {function: steps:make_color}\n  a: {function: steps:take_color, args: {c: {from: m}}}"),
    ("from-int->optional", "", "m: {function: steps:make_int}\n  a: {function: steps:take_opt, args: {n: {from: m}}}"),
    ("fan-in->list[int]", "", "f: {function: steps:square, foreach: [1, 2], args: {i: {item: true}}}\n"
                              "  a: {function: steps:take_ints, args: {xs: {from: f}}}"),
    ("fan-in->list[float]", "", "f: {function: steps:square, args: [{i: 1}, {i: 2}]}\n"
                                "  a: {function: steps:take_floats, args: {xs: {from: f}}}"),
    ("fan-in-of-dataclass", "", "f: {function: steps:box_of, foreach: [1, 2], args: {w: {item: true}}}\n"
                                "  a: {function: steps:take_boxes, args: {boxes: {from: f}}}"),
    ("key-of-dataclass", "", "m: {function: steps:make_box}\n  a: {function: steps:take_float, args: {x: {from: m, key: w}}}"),
    ("key-of-dict", "", "m: {function: steps:make_counts}\n  a: {function: steps:take_int, args: {n: {from: m, key: a}}}"),
    ("nested-from", "", "m: {function: steps:make_int}\n  a: {function: steps:take_ints, args: {xs: [1, {from: m}]}}"),
    ("item-literal", "", "a: {function: steps:take_int, foreach: [1, 2], args: {n: {item: true}}}"),
    ("item-key", "", "a: {function: steps:take_int, foreach: [{n: 1}, {n: 2}], args: {n: {item: n}}}"),
    ("item-of-from", "", "m: {function: steps:make_ints}\n  a: {function: steps:take_int, foreach: {from: m}, args: {n: {item: true}}}"),
    ("param-default", "parameters: {p: 3}", "a: {function: steps:take_int, args: {n: {param: p}}}"),
    ("param-str-default", "parameters: {p: hello}", "a: {function: steps:take_str, args: {s: {param: p}}}"),
    ("pipeline-arg", "", "s: {pipeline: sub.yaml, args: {n: 3, label: abc}}"),
    ("pipeline-result", "", "s: {pipeline: sub_int.yaml}\n  a: {function: steps:take_float, args: {x: {from: s}}}"),
    ("path-from-path", "", "m: {function: steps:make_path}\n  a: {function: steps:take_path, args: {p: {from: m}}}"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("types")
    for f in FIXTURE.iterdir():
        shutil.copy(f, folder / f.name)
    return folder


def _spec(project: Path, name: str, params: str, tasks: str) -> tuple[Path, tuple[int, int] | None]:
    text = f"name: t\n{params}\ntasks:\n  {tasks}\n"
    where = None
    if "§" in text:
        before = text[: text.index("§")]
        where = (before.count("\n") + 1, len(before) - before.rfind("\n"))
        text = text.replace("§", "")
    path = project / f"{name.replace('<', '_').replace('>', '_').replace('[', '_').replace(']', '_')}.yaml"
    path.write_text(text)
    return path, where


def test_the_tables_cover_forty_of_each() -> None:
    assert len(MISMATCHES) >= 40 and len(CONTROLS) >= 40
    assert len({c[0] for c in MISMATCHES}) == len(MISMATCHES) and len({c[0] for c in CONTROLS}) == len(CONTROLS)


@pytest.mark.parametrize("name,params,tasks,words", MISMATCHES, ids=[c[0] for c in MISMATCHES])
def test_a_mismatch_is_refused_at_its_value(project: Path, name: str, params: str, tasks: str,
                                            words: tuple[str, ...]) -> None:
    path, where = _spec(project, "bad-" + name, params, tasks)
    errors = heraspec.validate([str(path)])
    assert len(errors) == 1, "\n".join(e.format() for e in errors)
    (error,) = errors
    assert (error.file, error.line, error.col) == (str(path), *where), error.format()
    text = error.format()
    for word in words:
        assert word in text, text
    assert "hint:" in text and "typing." not in text


@pytest.mark.parametrize("name,params,tasks", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_a_well_typed_value_is_accepted(project: Path, name: str, params: str, tasks: str) -> None:
    path, _ = _spec(project, "ok-" + name, params, tasks)
    errors = heraspec.validate([str(path)])
    assert errors == [], "\n".join(e.format() for e in errors)


def test_every_mismatch_of_a_spec_is_reported_at_once(project: Path) -> None:
    tasks = "\n  ".join(t for name, p, t, _ in MISMATCHES[:12] if not p and "\n" not in t)
    tasks = "\n  ".join(line.replace("a:", f"t{i}:", 1) for i, line in enumerate(tasks.split("\n  ")))
    path, _ = _spec(project, "many", "", tasks.replace("§", ""))
    assert len(heraspec.validate([str(path)])) == 12


def test_a_bad_p_value_is_refused_before_the_run_naming_parameter_type_and_value(project: Path, tmp_path: Path) -> None:
    path, _ = _spec(project, "param-p", "parameters: {p: 3}", "a: {function: steps:take_int, args: {n: {param: p}}}")
    proc = heraspec_cli("run", str(path), "-p", "p=abc", "--workdir", str(tmp_path / "run"), cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "-p p=abc" in proc.stderr and "take_int(n: int)" in proc.stderr and "expected int, got 'abc' (str)" in proc.stderr
    assert f"{path.name}:2:14: error:" in proc.stderr  # at the parameter's declaration
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").rglob("stdout.log"))  # nothing ran
    ok = heraspec_cli("run", str(path), "-p", "p=7", "--json", "--workdir", str(tmp_path / "ok"), cwd=project)
    assert ok.returncode == 0, ok.stderr


def test_the_api_run_checks_parameters_too(project: Path, tmp_path: Path) -> None:
    path, _ = _spec(project, "param-api", "parameters: {p: 3}", "a: {function: steps:take_int, args: {n: {param: p}}}")
    with pytest.raises(heraspec.SpecInvalid, match=r"-p p=abc, passed to take_int\(n: int\)"):
        heraspec.run(str(path), parameters={"p": "abc"}, workdir=str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
