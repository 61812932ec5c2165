"""The pod runtime (heraspec/python/pod.py) called directly: decoding, coercion, the boundary check,
classes rebuilt, results made exact; and `main` run as a `code: image` script runs it, with heraspec
importable from the image, as Argo's executor would run the compiled template (tests/argo_exec.py)."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from pathlib import Path
from typing import NamedTuple, TypedDict

import pytest

import heraspec
from heraspec.python import pod
from tests.argo_exec import run_dag, run_task
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]


# --- decode and coerce --------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "kind", "want"), [
    ("42", "str", "42"), ("42", None, 42), ("abc", None, "abc"), ("3.0", "int", 3), (" 7 ", "int", 7),
    ("3", "float", 3.0), ("yes", "bool", True), ("off", "bool", False), ("1", "bool", True),
    ('["1", 2]', "list:int", [1, 2]), ('{"a": "2"}', "dict:int", {"a": 2}), ('{"a": "2"}', "dict:str", {"a": "2"}),
    ("[1, 2]", "tuple:int", (1, 2)), ('["a", "b", "a"]', "set:str", {"a", "b"}), ('["1"]', "frozenset:int", frozenset({1})), ("[[1], [2]]", "set", [[1], [2]]),
    ('"[1]"', "list", [1]),  # JSON text for a container: decoded, as a literal and through {param} alike
    ("null", "int", None), ("1e400", "float", float("inf")), ("[" * 2000, None, "[" * 2000),
])
def test_decode_reads_a_text_as_its_kind_asks(raw: str, kind: str | None, want: object) -> None:
    got = pod.decode(raw, kind)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(("value", "kind", "want"), [
    (True, "int", True), (2.5, "int", 2.5), ("abc", "int", "abc"), (2, "bool", 2), ("maybe", "bool", "maybe"),
    ([1, "2"], "list:int", [1, 2]), ({"a": [1]}, "dict:list:int", {"a": [1]}), (5, "tuple:int", 5),
])
def test_coerce_changes_only_what_it_can_change_losslessly(value: object, kind: str, want: object) -> None:
    got = pod.coerce(value, kind)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(("raw", "plan", "kind", "want"), [
    ('["1","2"]', "agg", "list:int", [1, 2]),
    ('["1","x"]', "agg:str", None, ["1", "x"]),
    ('[{"a":1},{"a":2}]', "agg", None, [{"a": 1}, {"a": 2}]),
    ('["1","2"]', "agg", "str", '[1,2]'),
    ("a\\nb", "item", None, "a\nb"),
    ('[\\"7\\"]', "item+agg:str", None, ["7"]),
    ('"42"', "json", None, "42"),
    ("42", "str", None, "42"),
])
def test_read_input_follows_the_tasks_plan(raw: str, plan: str, kind: str | None, want: object) -> None:
    assert pod.read_input(raw, kind, plan) == want


# --- classes of the user's code --------------------------------------------------------------------------

@dataclasses.dataclass
class Inner:
    w: int


@dataclasses.dataclass
class Outer:
    inner: Inner
    name: str = "o"


class Color(enum.Enum):
    RED = "red"


class Pair(NamedTuple):
    a: int
    b: str


class Movie(TypedDict):
    title: str


def test_rebuild_makes_the_annotated_class_from_its_json_form() -> None:
    classes = {"Outer": Outer, "Color": Color, "Pair": Pair, "Movie": Movie}
    assert pod.decode('{"inner": {"w": 2}}', "model:Outer", classes) == Outer(Inner(2))
    assert pod.decode('"red"', "model:Color", classes) is Color.RED
    assert pod.decode('"RED"', "model:Color", classes) is Color.RED  # by name too
    assert pod.decode('[1, "x"]', "model:Pair", classes) == Pair(1, "x")
    assert pod.decode('{"title": "t"}', "model:Movie", classes) == {"title": "t"}
    assert pod.decode('{"w": 1}', "model:Unknown", classes) == {"w": 1}  # not a class here: left alone
    unfit = pod.decode('{"inner": {"v": 2}}', "model:Outer", classes)
    assert isinstance(unfit, pod.Unfit) and "inner: " in unfit.why and "'v'" in unfit.why
    assert not pod.fits(unfit, "model:Outer")


# --- the boundary --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "kind", "fits"), [
    (1, "int", True), (True, "int", False), ("1", "int", False), (None, "int", False), (None, "int | None", True),
    (None, None, True), (1, "float", True), (1.5, "float", True), (None, "str", False), ("x", "str", True),
    ([1, None], "list:int", True), ([1, "a"], "list:int", False), ((1, 2), "tuple:int", True), ([1, 2], "tuple:int", False),
    ({1, 2}, "set:int", True), ({"a"}, "set:int", False), (frozenset({1}), "frozenset:int", True), ({1}, "frozenset", False), ({"a": 1}, "dict:int", True), ({"a": "1"}, "dict:int", False),
    ([1], "list | None", True), (3, "path", True),
])
def test_fits_tells_a_value_that_fits_its_kind(value: object, kind: str | None, fits: bool) -> None:
    assert pod.fits(value, kind) is fits


def test_refuse_unfit_names_the_function_the_parameter_and_both_types() -> None:
    def sq(n: int, box: Outer, xs: list[int] | None = None) -> int:
        return n

    with pytest.raises(SystemExit, match=r"^heraspec: sq\(n\): expected int, got 'abc' \(str\)$"):
        pod.refuse_unfit(sq, "n", "abc")
    with pytest.raises(SystemExit, match=r"^heraspec: sq\(box\): expected Outer, got \{'v': 1\} \(dict\): no w$"):
        pod.refuse_unfit(sq, "box", pod.Unfit({"v": 1}, "no w"))
    with pytest.raises(SystemExit, match=r"^heraspec: sq\(xs\): expected list\[int\] \| None, got 'a' \(str\)$"):
        pod.refuse_unfit(sq, "xs", "a")


# --- results -------------------------------------------------------------------------------------------

def test_plain_sends_values_exactly_or_says_how_to() -> None:
    assert pod.plain((1, Color.RED, Pair(2, "b"), Outer(Inner(1))), "r") == [1, "red", [2, "b"], {"inner": {"w": 1}, "name": "o"}]
    assert type(pod.plain(True, "r")) is bool and pod.result_text("x") == "x" and pod.result_text([1, "é"]) == '[1,"é"]'
    assert pod.json_text("\x7f") == '"\\u007f"' and pod.argo_unsafe("a\x07") == 7 and pod.argo_unsafe("a\n") is None
    for bad, hint in (({1, 2}, "sorted(value)"), (float("nan"), "return None or a string"), ({1: 2}, "use str keys")):
        with pytest.raises(SystemExit):
            pod.plain(bad, "the result of m:f")
    assert "sorted(value)" in pod.way_out(set) and "str(value)" in pod.way_out(type("Decimal", (), {}))


def test_main_reads_checks_calls_and_writes_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mod_for_main.py").write_text("def f(n: int, s: str = 'd') -> dict:\n    return {'n': n, 's': s}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = tmp_path / "out" / "result.json"
    monkeypatch.setenv(pod.RESULT_PATH_ENV, str(result))
    monkeypatch.setenv(pod.INPUT_PREFIX + "n", "3.0")
    monkeypatch.setenv(pod.INPUT_PREFIX + "s", pod.DEFAULT_MARKER)
    monkeypatch.setenv(pod.OUTPUTS_ENV, json.dumps({"n": "n"}))
    pod.main("mod_for_main", "f", {"n": "int", "s": "str"})
    assert result.read_text() == '{"n":3,"s":"d"}\n' and (result.parent / "outputs" / "n").read_text() == "3"
    monkeypatch.setenv(pod.INPUT_PREFIX + "n", "x")
    with pytest.raises(SystemExit, match=r"f\(n\): expected int, got 'x' \(str\)"):
        pod.main("mod_for_main", "f", {"n": "int", "s": "str"})


# --- code: image ---------------------------------------------------------------------------------------

STEPS = '''\
from typing import Optional


def make(n: int) -> list:
    return list(range(n))


def total(xs: list[int], scale: Optional[float] = None) -> float:
    return sum(xs) * (scale or 1)
'''


def test_a_code_image_script_imports_the_runtime_and_the_function_from_the_image(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp_path / "image.yaml"
    spec.write_text("name: image\ndefaults: {code: image, image: ghcr.io/acme/steps:1}\ntasks:\n"
                    "  make: {function: steps:make, args: {n: 4}}\n"
                    "  total: {function: steps:total, args: {xs: {from: make}, scale: 0.5}}\n", encoding="utf-8")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    source = next(t for t in compiled.manifest["spec"]["templates"] if t["name"] == "total")["script"]["source"]
    assert source.splitlines()[2:] == ["from heraspec.python.pod import main", "",
                                       "if __name__ == '__main__':",
                                       "    main('steps', 'total', {'xs': 'list:int', 'scale': 'float | None'})"]
    assert len(source) < 300
    # the image: heraspec installed (here: the repository), the project's code (here: its folder)
    image = [str(ROOT), str(tmp_path)]
    assert run_dag(compiled.manifest, tmp_path / "argo", image=image) == {"make": "[0,1,2,3]", "total": "3.0"}
    assert run_task(compiled.manifest, "total", tmp_path / "t", results={"make": [1, 2]}, image=image)[0] == 1.5
    # without heraspec in the image the script cannot run: it carries nothing
    with pytest.raises(AssertionError, match="No module named 'heraspec'"):
        run_task(compiled.manifest, "total", tmp_path / "bare", results={"make": [1]}, image=[str(tmp_path)])
    # and `heraspec run` gives the same (the local image has heraspec's runtime too)
    from tests.cli import heraspec as cli

    proc = cli("run", str(spec), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {k: v["result"] for k, v in json.loads(proc.stdout)["tasks"].items()} == {"make": [0, 1, 2, 3], "total": 3.0}


def test_the_runtime_runs_under_a_bare_python_with_nothing_but_itself(tmp_path: Path) -> None:
    # the package imports only the standard library: copied alone beside a bare `python -I`, it works
    import shutil
    import subprocess

    from heraspec.python import pod_source

    shutil.copytree(pod_source.folder(), tmp_path / "pod", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.'); import pod; "
                           "print(pod.decode('[1]', 'tuple:int'), sorted(sys.modules.keys() & {'heraspec', 'yaml'}))"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout == "(1,) []\n", proc.stderr


def test_a_workflows_code_text_holds_the_runtime_with_the_modules_and_data() -> None:
    # what a Workflow's scripts unpack from their parameter: the runtime's text as pod_source cut it,
    # the modules and the data as code_text packs them for any script
    from heraspec.python import pod_source, script
    from heraspec.python.modules import Carried, DataFile

    names = frozenset({"main", "serve_carried_modules"})
    modules = [Carried("steps", "steps.py", False, "def f():\n    return 1\n")]
    data = [DataFile("table.csv", b"a,b\n")]
    table = pod.unpack_code(script.shared_code(names, modules, data))
    assert table["runtime"] == pod_source.cut(names) and "def main(" in table["runtime"]
    assert table["modules"] == {"steps": ["steps.py", False, "def f():\n    return 1\n"]}
    assert table["data"] == {"table.csv": "YSxiCg=="}
    assert pod.unpack_code(script.code_text(modules, data)) == {k: v for k, v in table.items() if k != "runtime"}


def test_the_kinds_the_script_passes_tell_optional_tuple_and_set(tmp_path: Path) -> None:
    from heraspec.python import functions

    (tmp_path / "sig.py").write_text(
        "from typing import FrozenSet, Optional, Set, Tuple, Union\n\n\n"
        "def f(a: int, b: Optional[int], c: 'int | None', d: Union[str, None] = None, e: int = None,\n"
        "      t: tuple[int, ...] = (), u: Tuple[int, str] = (1, 'a'), s: set[str] = frozenset(),\n"
        "      fs: FrozenSet[int] = frozenset(), ol: Optional[list[int]] = None, x=None, y: 'Set' = None):\n"
        "    pass\n", encoding="utf-8")
    fn, problems = functions.resolve("sig:f", [str(tmp_path)])
    assert problems == [] and fn is not None
    assert functions.boundary_kinds(fn) == {
        "a": "int", "b": "int | None", "c": "int | None", "d": "str | None", "e": "int | None",
        "t": "tuple:int", "u": "tuple", "s": "set:str", "fs": "frozenset:int", "ol": "list:int | None", "x": None,
        "y": "set | None"}
