"""heraspec.python.functions: finding functions without importing them, their closure, and the script
program, executed the way Argo runs a script template (a file in an empty folder, `python -I`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heraspec.python import functions as F
from heraspec.python.functions import (
    Function,
    Param,
    Problem,
    carried_source,
    resolve,
)
from heraspec.python import script as S
from heraspec.python.script import script_source

FIXTURES = Path(__file__).parent / "fixtures" / "functions"
ROOT = str(FIXTURES)


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)  # messages show paths relative to the working directory


def ok(ref: str, path: list[str] | None = None) -> Function:
    fn, problems = resolve(ref, path or [ROOT])
    assert problems == [] and fn is not None, problems
    return fn


def only_problem(ref: str, path: list[str] | None = None) -> Problem:
    _fn, problems = resolve(ref, path or [ROOT])
    assert len(problems) == 1, problems
    return problems[0]


def run(fn: Function, tmp_path: Path, **inputs: str) -> tuple[object, subprocess.CompletedProcess]:
    """Run the script like Argo: alone in an empty folder, isolated, inputs only through env."""
    folder = tmp_path / "argo"
    folder.mkdir(parents=True)
    script = folder / "script.py"
    script.write_text(script_source(fn), encoding="utf-8")
    result = folder / "out" / "result.json"
    env = {"PATH": os.environ.get("PATH", ""), "HERASPEC_RESULT_PATH": str(result)}
    env.update({f"HERASPEC_IN_{k}": v for k, v in inputs.items()})
    proc = subprocess.run([sys.executable, "-I", str(script)], check=False, cwd=folder, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = result.read_bytes().decode("utf-8")
    assert text.endswith("\n")
    text = text[:-1]  # Argo's executor trims one newline from an output parameter file
    try:
        return json.loads(text), proc
    except ValueError:
        return text, proc  # a str result is its own text


# --- finding modules and functions -----------------------------------------------------------------


def test_finds_module_file_package_and_nested_module() -> None:
    fn = ok("pkg.steps:train")
    assert (fn.ref, fn.module, fn.name, fn.line) == ("pkg.steps:train", "pkg.steps", "train", 54)
    assert fn.file == os.path.join(ROOT, "pkg", "steps.py")
    assert ok("pkg:hello").file == os.path.join(ROOT, "pkg", "__init__.py")
    assert ok("pkg.deep.leaf:leaf").file == os.path.join(ROOT, "pkg", "deep", "leaf.py")


def test_search_path_order_and_package_before_module() -> None:
    first, second = str(FIXTURES / "first"), str(FIXTURES / "second")
    assert ok("dup:which", [first, second]).file == os.path.join(first, "dup.py")
    assert ok("dup:which", [second, first]).file == os.path.join(second, "dup.py")
    assert ok("only_second:which", [first, second]).file == os.path.join(second, "only_second.py")
    assert ok("shadow:which", [first]).file == os.path.join(first, "shadow", "__init__.py")


def test_nothing_is_imported(tmp_path: Path) -> None:
    # validate only reads the module; the pod imports it as Python does, side effects and all
    fn = ok("side_effects:work")
    assert "side_effects" not in sys.modules
    assert not (FIXTURES / "IMPORTED.marker").exists()
    folder = tmp_path / "argo"
    folder.mkdir()
    (folder / "script.py").write_text(script_source(fn), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-I", "script.py"], cwd=folder, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", ""), "HERASPEC_IN_x": "21"})
    assert proc.returncode == 1 and "RuntimeError: heraspec imported a user module" in proc.stderr


def test_resolve_is_cached() -> None:
    first = resolve("pkg.steps:train", [ROOT])
    assert resolve("pkg.steps:train", [ROOT])[0] is first[0]
    assert script_source(first[0]) is script_source(first[0])  # type: ignore[arg-type]


def test_clear_cache_rereads_changed_files(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    assert ok("m:f", [str(tmp_path)]).line == 1
    (tmp_path / "m.py").write_text("\n\ndef f():\n    return 2\n")
    F.clear_cache()
    assert ok("m:f", [str(tmp_path)]).line == 3


@pytest.mark.parametrize(
    ("ref", "message", "hint"),
    [
        ("steps", "invalid function reference 'steps': expected 'module.path:function'", "for example 'mypkg.steps:train'"),
        ("a:b:c", "invalid function reference 'a:b:c': expected 'module.path:function'", "for example 'mypkg.steps:train'"),
        ("examples/steps.py:train",
         ("invalid module 'examples/steps.py' in 'examples/steps.py:train': use a dotted module name such as 'pkg.steps', "
         "not a file path or a relative name"), "write 'steps:train' and add 'examples' with --path"),
        ("..pkg.steps:train",
         ("invalid module '..pkg.steps' in '..pkg.steps:train': use a dotted module name such as 'pkg.steps', "
         "not a file path or a relative name"),
         "write a dotted module name and add its directory to the search path with --path"),
        ("/abs/steps:train",
         ("invalid module '/abs/steps' in '/abs/steps:train': use a dotted module name such as 'pkg.steps', "
         "not a file path or a relative name"), "write 'steps:train' and add '/abs' with --path"),
        ("steps.py:train",
         ("invalid module 'steps.py' in 'steps.py:train': use a dotted module name such as 'pkg.steps', "
         "not a file path or a relative name"), "write 'steps:train'"),
        ("pkg.2x:train", "invalid module 'pkg.2x' in 'pkg.2x:train': each dotted part must be a Python identifier", None),
        ("pkg.steps:Box.area", "'Box.area' in 'pkg.steps:Box.area' is a method or attribute; methods are not supported",
         "reference a module-level function (it may call the method)"),
        ("pkg.steps:train-now", "invalid function name 'train-now' in 'pkg.steps:train-now': expected a Python identifier", None),
    ],
)
def test_malformed_refs(ref: str, message: str, hint: str | None) -> None:
    assert only_problem(ref) == Problem(message, hint)


def test_module_not_found_names_the_rule_and_close_names() -> None:
    problem = only_problem("pkg.stepz:train", [ROOT, "first", "second"])
    assert problem.message == "module 'pkg.stepz' not found"
    assert problem.hint == ("did you mean 'pkg.steps'? Otherwise looked for pkg/stepz.py and pkg/stepz/__init__.py in "
                            "--path, the spec's folder, the current directory and sys.path; add the directory that "
                            "contains 'pkg' with --path DIR")
    assert only_problem("nowhere:f", ["a", "b"]) == Problem(
        "module 'nowhere' not found",
        "looked for nowhere.py and nowhere/__init__.py in --path, the spec's folder, the current directory and "
        "sys.path; add the directory that contains 'nowhere' with --path DIR")


def test_function_not_found_suggests_close_names() -> None:
    assert only_problem("pkg.steps:trian") == Problem(
        "function 'trian' not found in module 'pkg.steps' (pkg/steps.py)", "did you mean 'train'?")
    assert only_problem("pkg.steps:zzz") == Problem("function 'zzz' not found in module 'pkg.steps' (pkg/steps.py)")


def test_syntax_error_has_position(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def ok():\n    return 1\n\ndef f(:\n    pass\n")
    problem = only_problem("broken:ok", [str(tmp_path)])
    assert (problem.file, problem.line, problem.col) == (str(tmp_path / "broken.py"), 4, 7)
    assert problem.message.startswith("syntax error in ") and problem.message.endswith("broken.py: invalid syntax")


def test_bom_and_crlf_are_read(tmp_path: Path) -> None:
    (tmp_path / "win.py").write_bytes(b"\xef\xbb\xbfK = 2\r\n\r\ndef f(x: int):\r\n    return x * K\r\n")
    fn = ok("win:f", [str(tmp_path)])
    assert carried_source(fn) == "# win.py\nK = 2\n\ndef f(x: int):\n    return x * K\n"
    assert run(fn, tmp_path, x="4")[0] == 8


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_module_that_is_not_utf8_names_the_byte_after_any_bom(tmp_path: Path, bom: bytes) -> None:
    # the offset Python's utf-8-sig decoding gives: counted after the byte order mark
    (tmp_path / "latin.py").write_bytes(bom + b"# caf\xe9\ndef f():\n    pass\n")
    problem = only_problem("latin:f", [str(tmp_path)])
    assert problem.message.endswith("latin.py: not UTF-8 (byte 5)") and problem.file == str(tmp_path / "latin.py")


KINDS = os.path.join(ROOT, "bad", "kinds.py")


@pytest.mark.parametrize(
    ("name", "message", "hint", "line", "col"),
    [
        ("Model", "'Model' in module 'bad.kinds' is a class, not a function", None, 5, 1),
        ("shout", "'shout' in module 'bad.kinds' is a lambda, not a function", "define it with def", 9, 1),
        ("threshold", "'threshold' in module 'bad.kinds' is a variable, not a function", None, 10, 1),
        ("joined", "'joined' in module 'bad.kinds' is imported from 'os.path', which is not a module of your project",
         "write a function in your project that calls it", 2, 1),
        ("fetch", "'fetch' is an async function; async functions are not supported",
         "add a plain def that calls asyncio.run(fetch(...))", 18, 1),
        ("star_args", "'star_args' takes *items; variable positional arguments are not supported",
         "declare each parameter by name", 30, 19),
        ("kw_args", "'kw_args' takes **options; variable keyword arguments are not supported",
         "declare each parameter by name", 34, 18),
        ("pos_only", "parameter 'a' of 'pos_only' is positional-only; positional-only parameters are not supported",
         None, 38, 14),
    ],
)
def test_unsupported_targets(name: str, message: str, hint: str | None, line: int, col: int) -> None:
    fn, problems = resolve(f"bad.kinds:{name}", [ROOT])
    assert problems == [Problem(message, hint, KINDS, line, col)]
    assert fn is None


def test_the_function_is_the_name_python_binds_last() -> None:
    # `def twice` twice: the second; a def under an `if`: that def (Python binds it when the test holds)
    assert ok("bad.kinds:twice").line == 26
    assert ok("bad.kinds:maybe").line == 14
    assert ok("bad.kinds:typo").line == 42  # a NameError at call time, as in Python


def test_what_python_imports_is_carried_as_it_runs(tmp_path: Path) -> None:
    # names bound through a star import, under try/except ImportError, rebound by `global`,
    # changed under an `if`, bound in a loop: the whole module runs in the pod, as in Python
    expected = {"uses_star": "b", "uses_conditional": None, "uses_global": 0, "uses_appended": [1], "uses_loop": {},
                "uses_many": ["0", "helper", ""]}
    for name, value in expected.items():
        fn = ok(f"bad.closure:{name}")
        assert run(fn, tmp_path / name)[0] == value, name


def test_global_statement_in_the_target_and_non_ascii_parameters(tmp_path: Path) -> None:
    (tmp_path / "state.py").write_text("total = 0\n\ndef add(n):\n    global total\n    total += n\n    return total\n"
                                       "\ndef café(été):\n    pass\n")
    assert run(ok("state:add", [str(tmp_path)]), tmp_path, n="3")[0] == 3
    (p,) = resolve("state:café", [str(tmp_path)])[1]
    assert (p.message, p.line, p.col) == (
        "parameter 'été' of 'café' is not ASCII; it must be usable in an environment variable name", 8, 10)


# --- signature -------------------------------------------------------------------------------------


def test_signature_annotations_and_defaults() -> None:
    fn = ok("pkg.steps:train")
    assert fn.params == (
        Param("n", "int", True, None, False, "positional_or_keyword"),
        Param("label", "str", False, "run", True, "positional_or_keyword"),
        Param("ratio", "float", False, "0.5", True, "positional_or_keyword"),
        Param("flags", "list:str", False, "null", True, "keyword_only"),
        Param("verbose", "bool", False, "false", True, "keyword_only"),
    )
    assert fn.returns_annotation == "dict"
    kinds = ok("pkg.values:kinds")
    assert [p.annotation for p in kinds.params] == ["int", "float", "bool", "str", "list:int", "dict:int", "int", "int"]
    assert kinds.returns_annotation == "list"


def test_defaults_that_cannot_travel_as_text_are_left_to_python() -> None:
    params = {p.name: p for p in ok("pkg.values:defaults").params}
    encoded = {name: (p.default, p.literal_default) for name, p in params.items()}
    assert encoded == {
        "a": ("1", True), "b": ("x", True), "c": ("null", True), "h": ("2.5", True),
        "i": ('[1,{"k":true}]', True),
        "d": (None, False),  # a tuple would come back as a list
        "e": (None, False),  # not a literal: os.getcwd()
        "f": (None, False),  # "3" would decode to 3 without a str annotation
        "g": (None, False),  # None would arrive as the text "null" for a str parameter
    }
    assert not any(p.required for p in params.values())


def test_import_time_changes_run_as_written(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text(
        "import logging\nimport warnings\n\nlogger = logging.getLogger('conf')\nlogger.setLevel(logging.WARNING)\n"
        "if logger:\n    logging.basicConfig()\nwarnings.simplefilter('ignore')\n\n"
        "def level() -> int:\n    return logger.level + len(logging.getLogger().handlers)\n"
    )
    fn = ok("conf:level", [str(tmp_path)])
    assert run(fn, tmp_path)[0] == 31  # basicConfig under the `if` ran: one root handler


# --- running the script --------------------------------------------------------------------------------


def test_runs_helpers_imports_constants_and_decorators(tmp_path: Path) -> None:
    result, proc = run(ok("pkg.steps:train"), tmp_path, n="3", flags='["a", "b"]', verbose="yes")
    assert result == {
        "scaled": 37, "sqrt": 3.0, "box": 27, "letters": '["n", "r", "u"]', "range": [1, 99],
        "words": ["alpha", "beta", "gamma"], "table": {"a": 1, "b": 2, "c": 3}, "label": "run", "ratio": 0.5,
        "flags": ["a", "b"], "verbose": True, "cwd": True,
    }
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("which", "expected"),
    [("int", 7), ("float", 2.5), ("str", "text"), ("none", None), ("bool", True), ("list", [1, "two", None]),
     ("dict", {"k": [1, 2]}), ("tuple", [1, 2])],
)
def test_return_values(which: str, expected: object, tmp_path: Path) -> None:
    assert run(ok("pkg.values:returns"), tmp_path, which=which)[0] == expected


def test_a_str_result_is_its_own_text(tmp_path: Path) -> None:
    run(ok("pkg.values:returns"), tmp_path, which="str")
    assert (tmp_path / "argo" / "out" / "result.json").read_text(encoding="utf-8") == "text\n"


def test_annotations_guide_decoding(tmp_path: Path) -> None:
    result, _ = run(ok("pkg.values:kinds"), tmp_path, i="3.0", f="2", b="False", s="[1, 2]", l="[1,2]",
                    d='{"k": 1}', o="null", u=" 4 ")
    assert result == [["int", 3], ["float", 2.0], ["bool", False], ["str", "[1, 2]"], ["list", [1, 2]],
                      ["dict", {"k": 1}], ["NoneType", None], ["int", 4]]
    unannotated = ok("pkg.values:echo")
    for i, (raw, value) in enumerate([("12", 12), ("hello", "hello"), ('{"a": [1]}', {"a": [1]}), ("true", True), ("", "")]):
        assert run(unannotated, tmp_path / str(i), value=raw)[0] == value


def test_defaults_absent_and_marker(tmp_path: Path) -> None:
    fn = ok("pkg.values:defaults")
    result, _ = run(fn, tmp_path, a="5", e=S.DEFAULT_MARKER, f=S.DEFAULT_MARKER, g="None")
    assert result == {"a": 5, "b": "x", "c": None, "d": [1, 2], "e": True, "f": "3", "g": "None", "h": 2.5,
                      "i": [1, {"k": True}]}


def test_print_does_not_corrupt_the_result(tmp_path: Path) -> None:
    result, proc = run(ok("pkg.values:noisy"), tmp_path, n="1")
    assert result == 2 and proc.stdout == '{"not": "the result"}\nmore noise\n'
    nothing, proc = run(ok("pkg.values:nothing"), tmp_path / "again")
    assert nothing is None and proc.stdout == "side effect only\n"


HOSTILE = {
    "a": "it's \"quoted\" and 'single'",
    "b": "'''triple''' \"\"\"double\"\"\"",
    "c": "C:\\new\\table\\x00 \\u00e9 \\\\",
    "d": "line1\nline2\r\n\ttabbed\n",
    "e": "héllo ✓ 漢字 🎉 {{inputs.parameters.x}} ${HOME} $(echo hi)",
    "f": "x" * 100_000,
}


def test_hostile_values_arrive_intact(tmp_path: Path) -> None:
    result, _ = run(ok("pkg.values:texts"), tmp_path, **HOSTILE)
    assert result == list(HOSTILE.values())


def test_unannotated_hostile_values_arrive_intact(tmp_path: Path) -> None:
    fn = ok("pkg.values:echo")
    for i, value in enumerate(HOSTILE.values()):
        assert run(fn, tmp_path / str(i), value=value)[0] == value


def test_braces_in_user_code_run_byte_for_byte(tmp_path: Path) -> None:
    fn = ok("braces:render")
    assert "{{" not in script_source(fn)
    result, _ = run(fn, tmp_path, name="n")
    assert result == {"template": "{{inputs.parameters.x}}", "fstring": "{n}", "format": "{}-n", "raw": "}}{{",
                      "doubled": "{{ n }}"}
    carried = carried_source(fn)
    assert 'TEMPLATE = "{{inputs.parameters.x}}"  # {{ kept }} in a comment' in carried


def test_tracebacks_name_the_original_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "argo"
    folder.mkdir()
    (folder / "script.py").write_text(script_source(ok("braces:fail")), encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", ""), "HERASPEC_RESULT_PATH": str(folder / "r.json"), "HERASPEC_IN_name": "n"}
    proc = subprocess.run([sys.executable, "-I", "script.py"], check=False, cwd=folder, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and not (folder / "r.json").exists()
    assert 'File "braces.py", line 19, in fail' in proc.stderr
    assert "ValueError: boom {x} n" in proc.stderr


def test_plain_scripts_are_readable_and_deterministic() -> None:
    fn = ok("pkg.steps:train")
    source = script_source(fn)
    assert "{{" not in source
    assert source.startswith("# heraspec script for pkg.steps:train (pkg/steps.py)")
    assert "serve_carried_modules(  # pkg/steps.py, pkg/__init__.py" in source  # the carried files, named
    assert f'RESULT_PATH = "{S.RESULT_PATH}"' in source and "HERASPEC_RESULT_PATH" in source
    F.clear_cache()
    assert script_source(ok("pkg.steps:train")) == source


def test_names_in_user_code_do_not_collide_with_the_entry(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "json = 'not json'\nos = None\nopen = print\nstr = int\nkwargs = 1\nresult = 2\n\n"
        "def run(value: str, n: int):\n    return [json, os, open is print, str('3'), kwargs, result, value, n]\n"
    )
    fn = ok("clash:run", [str(tmp_path)])
    assert run(fn, tmp_path, value="v", n="2")[0] == ["not json", None, True, 3, 1, 2, "v", 2]


def test_hand_built_function_and_result_path_default() -> None:
    fn = ok("pkg:hello")
    twin = Function(fn.ref, fn.module, fn.name, fn.file, fn.line, fn.params, fn.returns_annotation)
    F.clear_cache()
    assert script_source(twin).endswith("main('pkg', 'hello', {'name': 'str'})\n")
    assert S.RESULT_PATH == "/tmp/heraspec/result.json"


@pytest.mark.parametrize("param", ["heraspec_plan", "heraspec_index", "heraspec_file_x"])
def test_a_parameter_named_like_heraspecs_item_keys_is_refused(tmp_path: Path, param: str) -> None:
    # an argument-set fan-out's items hold heraspec_plan / heraspec_index / heraspec_file_*: a parameter
    # of that name would silently receive heraspec's value instead of the user's
    (tmp_path / "m.py").write_text(f"def f(x: int, {param}: int = 0) -> int:\n    return x\n")
    (tmp_path / "flow.yaml").write_text("name: flow\ntasks:\n  a:\n    function: m:f\n"
                                        f"    args: [{{x: 1, {param}: 2}}, {{x: 3, {param}: 4}}]\n")
    from tests.cli import heraspec

    proc = heraspec("validate", "flow.yaml", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert (f"flow.yaml:4:15: error: parameter '{param}' of 'f' is a reserved name: heraspec's own keys of fan-out "
            "items start with 'heraspec_' (m.py:1:15)") in proc.stderr
    assert "hint: rename the parameter" in proc.stderr
