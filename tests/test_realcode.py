"""Real code, as Python runs it (issue 25): small packages in the shapes real projects have
(tests/fixtures/realshaped/README.md), used unmodified as a project's own source. `validate` and
`compile` accept them; each compiled script, run alone in an empty folder with `python -I` as
Argo's executor runs it, returns what calling the function directly returns; `heraspec run` too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import heraspec
from heraspec.python import functions as F
from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli

ROOT = Path(__file__).parent / "fixtures" / "realshaped"

CASES = {  # task: (function, args)
    "take": ("itertools_plus:take", {"n": 2, "iterable": [5, 6, 7]}),  # star re-export, @overload stubs
    "tail": ("itertools_plus:tail", {"n": 2, "iterable": [5, 6, 7]}),
    "pascal": ("itertools_plus:pascal_row", {"n": 4}),  # try/except ImportError fallback
    "roman": ("itertools_plus:roman", {"text": "XIV"}),  # a table filled by a module-level loop
    "chunked-sum": ("itertools_plus.recipes:chunked_sum", {"items": [1, 2, 3, 4, 5], "size": 2}),
    "doc": ("itertools_plus.recipes:package_doc", {}),  # `from ._doc import __doc__`
    "percent": ("deco.steps:percent", {"part": 1, "whole": 4}),  # the decorated function: 25.0
    "percent-helper": ("deco.steps:percent_via_helper", {"part": 1, "whole": 4}),
    "registered": ("deco.steps:registered", {}),  # decorators register at import
    "cube": ("deco.steps:cube", {"x": 2}),  # `cube = scaled(2)(cube)`: 16
    "compare": ("semverish:compare", {"a": "1.2.3", "b": "1.10.0"}),  # __init__ re-export, version_info branch
    "parse-cached": ("semverish.version:parse_cached", {"text": "1.2.3"}),  # global lazy caches
    "cycle": ("cyclepkg:f", {"x": 2}),  # __init__ imports _a, b imports _a too: not a cycle error
    "cycle-b": ("cyclepkg.b:f", {"x": 3}),
    "describe": ("shapes.ops:describe", {"width": 2, "height": 3}),  # dataclass and enum in models.py
    "resources": ("tables.convert:by_resources", {"value": 2, "unit": "km"}),  # importlib.resources
    "file": ("tables.convert:by_file", {"value": 2, "unit": "cm"}),  # Path(__file__).parent / ...
    "pkgutil": ("tables.convert:by_pkgutil", {"value": 3, "unit": "m"}),  # pkgutil.get_data
    "arc": ("geo.sub.deep:arc", {"degrees": 1}),  # sub-package, relative imports up two levels
}


def direct(ref: str, args: dict, root: Path = ROOT) -> object:
    """What `from module import function; function(**args)` gives in a fresh interpreter, with
    `root` first on its path."""
    module, name = ref.split(":")
    code = (f"import json, sys; sys.path.insert(0, {str(root)!r}); from {module} import {name}; "
            f"print(json.dumps({name}(**json.loads(sys.argv[1]))))")
    proc = subprocess.run([sys.executable, "-I", "-c", code, json.dumps(args)], capture_output=True, text=True,
                          cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def spec(tmp_path: Path) -> Path:
    lines = ["name: realshaped", "tasks:"]
    for task, (ref, args) in CASES.items():
        lines.append(f"  {task}: {{function: '{ref}', args: {json.dumps(args)}}}")
    path = tmp_path / "realshaped.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


pytestmark = pytest.mark.usefixtures("fresh_functions")


def test_validate_accepts_real_shaped_packages(tmp_path: Path) -> None:
    proc = cli("validate", str(spec(tmp_path)), "--path", str(ROOT), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_compiled_script_returns_what_the_direct_call_returns(tmp_path: Path) -> None:
    (compiled,) = heraspec.compile([str(spec(tmp_path))], path=[str(ROOT)])
    assert_argo_valid(compiled.manifest)
    for task, (ref, args) in CASES.items():
        got = run_task(compiled.manifest, task, tmp_path / "pods" / task)[0]
        assert got == direct(ref, args), task
    assert direct(*CASES["percent"]) == 25.0


def test_heraspec_run_gives_the_same_values(tmp_path: Path) -> None:
    proc = cli("run", str(spec(tmp_path)), "--path", str(ROOT), "--json", "--workdir", str(tmp_path / "run"),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    for task, (ref, args) in CASES.items():
        assert tasks[task]["result"] == direct(ref, args), task


# --- hostile module shapes (issue 28 items 7, 8, 12) and stdlib names --------------------------------


def _validate(tmp_path: Path, ref: str) -> subprocess.CompletedProcess:
    path = tmp_path / "spec.yaml"
    path.write_text(f"name: t\ntasks:\n  t: {{function: '{ref}'}}\n", encoding="utf-8")
    return cli("validate", str(path), "--path", str(tmp_path / "src"), cwd=tmp_path)


def _beside(tmp_path: Path, name: str, text: str) -> Path:
    """A project folder (its modules in src/) beside a folder `outside` that holds the file `name`."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / name).write_text(text)
    (tmp_path / "project" / "src").mkdir(parents=True)
    return tmp_path / "project"


def test_a_long_plus_chain_validates_compiles_and_runs(tmp_path: Path) -> None:
    # Python imports a 1,500-term `+` chain fine; the import walker used to recurse into RecursionError
    (tmp_path / "src").mkdir()
    chain = " + ".join(["1"] * 1500)
    (tmp_path / "src" / "longsum.py").write_text(f"import json\n\nTOTAL = {chain}\n\n\ndef f() -> int:\n    return TOTAL\n")
    proc = _validate(tmp_path, "longsum:f")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = cli("run", str(tmp_path / "spec.yaml"), "--path", str(tmp_path / "src"), "--json", "--workdir",
              str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["tasks"]["t"]["result"] == 1500


def test_a_module_linked_to_a_file_outside_the_project_is_refused(tmp_path: Path) -> None:
    # a committed link `settings.py -> ../outside/.env` must not put that file into the manifest
    project = _beside(tmp_path, ".env", 'PASSWORD = "hunter2"\n')
    (project / "src" / "settings.py").symlink_to("../../outside/.env")
    (project / "src" / "steps.py").write_text("from settings import PASSWORD\n\n\ndef f() -> int:\n    return len(PASSWORD)\n")
    proc = _validate(project, "steps:f")
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "outside your project's folders" in out and "steps.py:1:1" in out
    compiled = cli("compile", str(project / "spec.yaml"), "--path", str(project / "src"), cwd=project)
    assert compiled.returncode == 1 and "hunter2" not in compiled.stdout


@pytest.mark.skipif(sys.version_info < (3, 12), reason="f-strings nest with the same quotes from 3.12 (PEP 701)")
@pytest.mark.parametrize("levels, ok", [(100, True), (1000, False)])
def test_deeply_nested_f_strings_in_an_unused_def_do_not_crash(tmp_path: Path, levels: int, ok: bool) -> None:
    # the statement scanner crashed with RecursionError on 1,000 levels; modules are now parsed by
    # Python's own parser: 100 levels import fine, 1,000 are Python's located SyntaxError
    (tmp_path / "src").mkdir()
    inner = "x"
    for _ in range(levels):
        inner = f'f"{{{inner}}}"'
    (tmp_path / "src" / "fs.py").write_text(f"def unused(x):\n    return {inner}\n\n\ndef f() -> int:\n    return 1\n")
    proc = _validate(tmp_path, "fs:f")
    out = proc.stdout + proc.stderr
    assert proc.returncode == (0 if ok else 1), out
    assert "internal error" not in out
    if not ok:
        assert "syntax error in" in out and "too many nested f-strings" in out and "fs.py:2:" in out


def test_an_entry_module_named_like_the_standard_library_is_refused(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "signal.py").write_text("def f() -> int:\n    return 1\n")
    proc = _validate(tmp_path, "signal:f")
    assert proc.returncode == 1
    assert "has the name of a standard-library module" in proc.stdout + proc.stderr


def test_one_message_per_root_cause_naming_every_task(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "broken.py").write_text("from pkg.nosuch import thing\n")
    (tmp_path / "src" / "pkg" / "steps.py").write_text(
        "from pkg import broken\n\n\ndef a() -> int:\n    return 1\n\n\ndef b() -> int:\n    return 2\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: t\ntasks:\n  one: {function: 'pkg.steps:a'}\n  two: {function: 'pkg.steps:b'}\n"
                    "  three: {function: 'pkg.steps:a'}\n", encoding="utf-8")
    proc = cli("validate", str(spec), "--path", str(tmp_path / "src"), cwd=tmp_path)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert out.count("cannot import 'pkg.nosuch'") == 1, out
    assert "this affects 3 tasks: 'one', 'two', 'three'" in out and "1 error" in out


def test_a_file_read_from_outside_the_package_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "src" / "cfg").mkdir(parents=True)
    (tmp_path / "src" / "settings.toml").write_text("x = 1\n")
    (tmp_path / "src" / "cfg" / "__init__.py").write_text("")
    (tmp_path / "src" / "cfg" / "loader.py").write_text(
        "from pathlib import Path\n\n\ndef f() -> str:\n    return (Path(__file__).parent.parent / 'settings.toml').read_text()\n")
    proc = _validate(tmp_path, "cfg.loader:f")
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "names the file 'settings.toml'" in out and "outside its package's folder" in out
    assert "importlib.resources" in out and "code: image" in out and "loader.py:5:18)" in out


def test_a_data_file_linked_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = _beside(tmp_path, "secret.json", '{"token": "hunter2"}')
    (project / "src" / "pkg").mkdir()
    (project / "src" / "pkg" / "__init__.py").write_text("")
    (project / "src" / "pkg" / "table.json").symlink_to("../../../outside/secret.json")
    (project / "src" / "pkg" / "read.py").write_text(
        "from importlib import resources\n\n\ndef f() -> str:\n    return resources.files('pkg').joinpath('table.json').read_text()\n")
    proc = _validate(project, "pkg.read:f")
    assert proc.returncode == 1 and "outside your project's folders" in proc.stdout + proc.stderr


def test_the_functions_own_module_linked_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = _beside(tmp_path, "real.py", "def f() -> int:\n    return 1\n")
    (project / "src" / "steps.py").symlink_to("../../outside/real.py")
    proc = _validate(project, "steps:f")
    assert proc.returncode == 1 and "outside your project's folders" in proc.stdout + proc.stderr


def test_reading_input_files_does_not_carry_the_package_folder(tmp_path: Path) -> None:
    # `path.read_text()` of a parameter is not package data: a large file beside the module stays home
    (tmp_path / "src" / "io_pkg").mkdir(parents=True)
    (tmp_path / "src" / "io_pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "io_pkg" / "sample.csv").write_text("x\n" * 1_000_000)
    (tmp_path / "src" / "io_pkg" / "read.py").write_text(
        "from pathlib import Path\n\n\ndef f(path: str) -> int:\n    return len(Path(path).read_text())\n")
    F.clear_cache()
    fn, problems = F.resolve("io_pkg.read:f", [str(tmp_path / "src")])
    assert problems == [] and fn is not None and F.bundle(fn).data == ()
