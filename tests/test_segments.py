"""Reading a module statement by statement (heraspec/python/segments.py, closure.ModuleInfo): every
statement the scanner finds parses alone into exactly the node the whole module's parse has, and
the index built from those statements is the one built from the whole tree; what is not surely
split right takes the whole parse. Through the CLI: a syntax error in code the function does not
use is not reported (the pod never runs it), one in anything carried is, at Python's position."""

from __future__ import annotations

import ast
import os
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heraspec
from heraspec.python import functions as F
from heraspec.python.closure import ModuleInfo, NeedsWholeModule, _Statements
from heraspec.python.segments import split
from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli

PEP701 = sys.version_info >= (3, 12)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    F.clear_cache()


def _index(info: ModuleInfo) -> tuple:
    """Everything closure.py reads from a module's index, as plain values."""
    return (
        sorted((n, [(b.index, b.under, b.kind) for b in bs]) for n, bs in info.bindings.items()),  # statement i: below
        sorted((n, [(c.index, c.under) for c in cs]) for n, cs in info.changes.items()),
        sorted((n, g[0].lineno, g[0].col_offset, g[1]) for n, g in info.global_decls.items()),
        [(s.lineno, s.col_offset) for s in info.star_imports],
        info.dynamic and (info.dynamic.lineno, info.dynamic.col_offset),
        info.future, info.postponed, len(info.body),
    )


def same_as_whole(source: str, *, whole: bool = False) -> None:
    """Each statement the scanner finds, parsed alone at its own lines, is the node of the whole
    parse (positions included), and the index read statement by statement is the whole one.
    `whole`: the module must instead take the whole parse (the scanner is not sure)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in real files: SyntaxWarning
        tree = ast.parse(source)
        segments = split(source)
        if whole:
            with pytest.raises(NeedsWholeModule):
                ModuleInfo(source, path="m.py")
            return
        assert segments is not None
        alone = [stmt for seg in segments for stmt in _Statements(source, [], "m.py", set())._parse([seg])[0]]
        assert [ast.dump(s, include_attributes=True) for s in alone] == \
            [ast.dump(s, include_attributes=True) for s in tree.body]
        assert _index(ModuleInfo(source, path="m.py")) == _index(ModuleInfo(source, tree))


def _python_files() -> list[str]:
    """A deterministic sample of this interpreter's own .py files (stdlib and site-packages)."""
    paths = sysconfig.get_paths()
    files: list[str] = []
    for root in dict.fromkeys((paths["stdlib"], paths["purelib"])):
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
    step = max(1, len(files) // 320)
    return files[::step]


@pytest.mark.slow
def test_real_files_split_into_the_statements_of_the_whole_parse() -> None:
    checked = whole = 0
    for path in _python_files():
        try:
            with open(path, "rb") as f:
                source = f.read().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(source)
        except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # not a module this Python reads (test data, other encodings)
        checked += 1
        try:
            ModuleInfo(source, path=path)
        except NeedsWholeModule:
            whole += 1
            continue
        same_as_whole(source)
    assert checked >= 250
    assert whole <= checked // 50, f"{whole} of {checked} files took the whole parse"


CASES = {
    "def in a triple-quoted string": 'X = """\ndef target():\n    return 1\n"""\n\n\ndef target():\n    return 2\n',
    "def in a prefixed string": "X = rb'''\ndef target(): pass\n'''\nY = Rb'\\\ndef target(): pass'\ndef target(): return 3\n",
    "escaped quotes": 'X = "a\\"b"\nY = \'\'\'it\\\'\'\'s\n\'\'\'\ndef f(): return X\n',
    "a prefix is a whole word": 'if"x": pass\nif"""\ndef f(): pass""": pass\ndef f(): return 1\n',
    "backslash continuations": "X = 1 + \\\n2\ndef f(x):\n    return x + \\\n1\ndef g(): return \\\nX\n",
    "brackets over lines": "X = [\n1,\n2,\n]\ndef f(a,\nb=(\n3)):\n    return {\n'k':\nX}\nclass C(\nobject):\n    pass\n",
    "decorators": "import functools\n@functools.lru_cache(\n    maxsize=None)\n# a comment\n@staticmethod\n\ndef f():\n    return 1\n@dec\nclass C: pass\n",
    "comments at column 0 in a body": "def f():\n    x = 1\n# not a statement\n    return x\n\n# the end\n",
    "tabs and blank lines": "def f():\n\tif True:\n\t\treturn 1\n\n\n\n\tpass\nX = 2\n",
    "main guard": 'def f(): return 1\nif __name__ == "__main__":\n    f()\nelse:\n    pass\n',
    "clauses at column 0": "try:\n    import json\nexcept ImportError:\n    json = None\nelse:\n    pass\nfinally:\n    pass\nfor i in []:\n    pass\nelse:\n    pass\n",
    "redefinition, last one wins": "def helper(): return 1\ndef target(): return helper()\ndef helper(): return 2\n",
    "conditional definitions": "import sys\nif sys.version_info >= (3, 11):\n    def helper(): return 1\nelif sys:\n    def helper(): return 2\nelse:\n    def helper(): return 3\n",
    "semicolons": "A = 1; B = 2\nimport os; import sys\ndef f(): return A; B\n",
    "walrus in a header binds a module name": "def f(x=(Y := 1)): return x\n@(d := staticmethod)\ndef g(): return (z := 2)\n",
    "global, star import, dynamic calls": "from os.path import *\nX = 1\ndef f():\n    global X\n    X = 2\ndef g(): return setattr(g, 'a', globals())\n",
    "docstring, future, only comments": '"""doc"""\nfrom __future__ import annotations\n# c\n\ndef f(x: Later) -> int: return 1\nclass Later: pass\n',
    "async, match, type params": "async def a(): pass\nmatch 1:\n    case 1:\n        pass\ndef g(x): return x\n",
    "comments and blank lines first": "\n\n# a comment\n   # indented comment\n\ndef f(): return 1\n",
    "no newline at the end": "def f(): return 1\nX = 2",
    "empty": "",
    "only comments": "# nothing\n\n",
    "unicode names": "π = 3.14\ndef ﬁx(): return π\ndef naïve(): return 1\n",
}
if sys.version_info >= (3, 12):
    CASES["type params"] = "type Pair[T] = tuple[T, T]\ndef first[T](p: Pair[T]) -> T: return p[0]\nclass Box[T]: pass\n"
if PEP701:  # f-strings nest: quotes, comments, newlines and backslashes inside replacement fields
    CASES["f-strings (PEP 701)"] = (
        'A = f"{"\n'.replace("\n", "") + 'a"}"\n'
        "B = f'{'x' + f'{\"y\"}'}'\n"
        'C = f"""{\n"""\ndef target(): pass\n"""\n}"""\n'
        'D = f"{x["k"]!r:>{w}}"\n'
        "E = f'{(\n1 +\n2\n)}'\n"
        'F = f"{1 # a comment with a quote "\n}"\n'
        'G = rf"\\{x}" f"\\N{BULLET} {{}} {x:{{}}}"\n'
        'H = f"{"\\n".join(y)}" f"{x:\n}"\n'
        "def target(): return A, B, C, D, E, F, G, H\n"
    )


@pytest.mark.parametrize("name", list(CASES))
def test_targeted_modules_split_as_python_parses_them(name: str) -> None:
    same_as_whole(CASES[name])


@pytest.mark.parametrize("source", [
    "X = 1\n\fdef f(): pass\n",  # a form feed resets the column: the scanner does not guess
    "from __future__ import barry_as_FLUFL\nX = 1 <> 2\n",  # changes how `<>` parses
    "X = (\n  1\nY = 2\n)\n)",
])
def test_what_the_scanner_is_unsure_of_takes_the_whole_parse(source: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source)
        except SyntaxError:
            with pytest.raises(NeedsWholeModule):
                ModuleInfo(source, path="m.py")
            return
    same_as_whole(source, whole=True)


FRAGMENTS = [
    "def f(a,\nb):\n    return a\n", "class C:\n    x = '''\ndef g(): pass\n'''\n", "X = [\n1,\n]\n",
    "Y = 1 + \\\n2\n", "@dec\ndef h():\n    pass\n", "# c\n", "\n", "if X:\n    pass\nelse:\n    pass\n",
    's = "a\\"b"\n', "t = r'\\''\n", "u = f'{X}'\n", "v = b'''x\n'''\n", "def k(): return 1; Z = 2\n",
    "A = 1; B = 2\n", "try:\n    pass\nexcept E:\n    pass\n", "w = {'a': (1,\n2)}\n", "\tpass\n", "def\n", ")\n",
    "'''\n", "'\n", '"""x"""\n', "x = '''a\n\ndef y(): pass\n'''\n",
] + (['p = f"{"a"}"\n', "q = f'''{\n'x'}'''\n", 'r = f"{x:{"y"}}"\n', 's = f"{\n}"\n'] if PEP701 else [])


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_any_text_splits_as_the_whole_parse_or_not_at_all(parts: list[str]) -> None:
    """Valid or not, a text never makes the scanner fail; a valid one reads as the whole parse."""
    source = "".join(parts)
    segments = split(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            return
    try:
        ModuleInfo(source, path="m.py")
    except NeedsWholeModule:
        return
    assert segments is not None
    same_as_whole(source)


# --- through the CLI: syntax errors in used and unused code ----------------------------------------

HELPERS = (
    "import json\n\n\n"
    "def unused_broken(x):\n    return x +\n\n\n"  # a syntax error in a helper the function never uses
    "def helper(n):\n    return json.dumps(n + 1)\n\n\n"
    "def target(n: int) -> str:\n    return helper(n)\n"
)
SPEC = {"yaml": "name: big\ntasks:\n  a: {function: steps:target, args: {n: 1}}\n",
        "toml": 'name = "big"\n[tasks.a]\nfunction = "steps:target"\nargs = {n = 1}\n'}


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_a_syntax_error_in_code_the_function_does_not_use_is_not_reported(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "steps.py").write_text(HELPERS)
    (tmp_path / f"big.{fmt}").write_text(SPEC[fmt])
    proc = cli("validate", f"big.{fmt}", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    (compiled,) = heraspec.compile([str(tmp_path / f"big.{fmt}")], path=[str(tmp_path)])
    assert_argo_valid(compiled.manifest)
    source = compiled.manifest["spec"]["templates"][1]["script"]["source"]
    assert "unused_broken" not in source  # the pod never has that code
    assert run_task(compiled.manifest, "a", tmp_path / "run", text=True)[0] == "2"


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
@pytest.mark.parametrize("where, broken", [
    ("the function", ("return helper(n)", "return helper(n) +")),
    ("a helper it uses", ("json.dumps(n + 1)", "json.dumps(n + 1]")),
    ("a top-level statement", ("import json", "import json,")),
    ("an unclosed bracket in a helper it does not use", ("return x +", "return (x +")),
])
def test_a_syntax_error_in_carried_code_is_reported_where_python_reports_it(
        tmp_path: Path, fmt: str, where: str, broken: tuple[str, str]) -> None:
    """Python's message and position for the error, the unused helper's error aside (an unclosed
    bracket anywhere changes how the rest reads: it is reported as Python reports it)."""
    module = HELPERS.replace(*broken)
    alone = module if "unclosed" in where else module.replace("return x +", "return x")
    with pytest.raises(SyntaxError) as python:
        compile(alone, "steps.py", "exec")
    line, col, message = python.value.lineno, python.value.offset, python.value.msg
    assert module.split("\n")[line - 1].find(broken[1]) >= 0  # the line of the change
    (tmp_path / "steps.py").write_text(module)
    (tmp_path / f"big.{fmt}").write_text(SPEC[fmt])
    proc = cli("validate", f"big.{fmt}", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"big.{fmt}:3:"), proc.stderr  # the task's function, then Python's place
    assert f": error: syntax error in steps.py: {message} (steps.py:{line}:{col})\n1 error\n" in proc.stderr, proc.stderr


def test_a_syntax_error_is_reported_for_the_function_that_needs_it_only(tmp_path: Path) -> None:
    """Order does not matter: a function that does not need the broken helper resolves either way."""
    module = HELPERS.replace("return x +", "return x") + "\n\ndef other():\n    return unused_broken(1) +\n"
    (tmp_path / "steps.py").write_text(module)
    with pytest.raises(SyntaxError) as python:
        compile(module, "steps.py", "exec")
    for order in (["steps:target", "steps:other"], ["steps:other", "steps:target"]):
        F.clear_cache()
        results = {ref: F.resolve(ref, [str(tmp_path)]) for ref in order}
        assert results["steps:target"][1] == [] and results["steps:target"][0] is not None
        assert [(p.line, p.col) for p in results["steps:other"][1]] == [(python.value.lineno, python.value.offset)]


def test_a_large_module_carries_the_same_code_as_before(tmp_path: Path) -> None:
    """The benchmark's 5,000-line module: the one function and nothing else is carried."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import cases
    finally:
        sys.path.pop(0)
    cases.write_module_case(tmp_path)
    fn, problems = F.resolve("bigmod:target", [str(tmp_path)])
    assert problems == [] and fn is not None
    assert F.carried_source(fn) == "def target(n: int) -> int:\n    return n + 1\n"
    info = F.load_module(str(tmp_path / "bigmod.py"))
    parsed = [s for s in info.body.slots if isinstance(s, ast.stmt)]  # type: ignore[union-attr]
    helpers = (tmp_path / "bigmod.py").read_text().count("\ndef helper_")
    assert len(info.body) == 2 + helpers + 1  # `import os, json`, `CONST = 1`, the helpers, the target
    assert [type(s).__name__ for s in parsed] == ["Import", "Assign", "FunctionDef"]  # no helper was parsed


@pytest.mark.parametrize("data, read_by_statement", [
    (b"\xef\xbb\xbfK = 2\r\n\r\ndef unused():\r\n    return (\r\n1)\r\n\r\ndef f(x: int):\r\n    return x * K\r\n", True),
    (b"K = 2\r\rdef unused():\r    return 1\r\rdef f(x: int):\r\treturn x * K\r", True),  # old Mac line ends, a tab
    (b"K = 2\n\x0c\ndef unused():\n    return 1\n\x0cdef f(x: int):\n    return x * K\n", False),  # form feeds
])
def test_line_ends_bom_tabs_and_form_feeds(tmp_path: Path, data: bytes, read_by_statement: bool) -> None:
    """As Python reads the file: BOM dropped, CRLF/CR as newlines; a form feed where a line starts
    makes heraspec parse the module whole. The same code is carried either way."""
    (tmp_path / "win.py").write_bytes(data)
    fn, problems = F.resolve("win:f", [str(tmp_path)])
    assert problems == [] and fn is not None
    assert F._MODULES[str(tmp_path / "win.py")][2] is read_by_statement
    assert F.carried_source(fn).replace("\t", "    ") == "K = 2\n\n\ndef f(x: int):\n    return x * K\n"
