"""The user's whole package travels with a function: sibling modules imported absolutely or
relatively, helpers in sub-packages, constants used through helpers; compiled scripts run with
`python -I` in an empty folder as Argo runs them, and through `heraspec run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heraspec
from heraspec.python import functions as F
from heraspec.python.script import script_source
from tests.argo_exec import run_script, run_task
from tests.cli import heraspec as cli
from tests.argo_schema import assert_argo_valid

PROJECT = Path(__file__).parent / "fixtures" / "project"
SHOP = PROJECT / "shop"

SPEC_YAML = """\
name: shop
tasks:
  prices: {function: shop.pricing:gross, args: {net: 10}}
  order: {function: shop.orders:total, args: {items: [10, 20]}}
  again: {function: shop.orders:total, args: {items: [{from: prices}]}}
"""
SPEC_TOML = """\
name = "shop"
[tasks.prices]
function = "shop.pricing:gross"
args = {net = 10}
[tasks.order]
function = "shop.orders:total"
args = {items = [10, 20]}
[tasks.again]
function = "shop.orders:total"
args = {items = [{from = "prices"}]}
"""
TOTAL = {"amount": 36.0, "cents": 3600, "label": "36.00 EUR (tax 20%)", "version": "1.0"}


pytestmark = pytest.mark.usefixtures("fresh_functions")


def spec_file(tmp_path: Path, fmt: str) -> Path:
    spec = tmp_path / f"shop.{fmt}"
    spec.write_text(SPEC_YAML if fmt == "yaml" else SPEC_TOML, encoding="utf-8")
    return spec


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_a_package_of_modules_runs_in_an_empty_folder_as_argo_runs_it(tmp_path: Path, fmt: str) -> None:
    (compiled,) = heraspec.compile([str(spec_file(tmp_path, fmt))], path=[str(PROJECT)])
    manifest = compiled.manifest
    assert_argo_valid(manifest)
    assert run_task(manifest, "order", tmp_path / "order")[0] == TOTAL
    net = run_task(manifest, "prices", tmp_path / "prices")[0]
    assert net == 12.0
    assert run_task(manifest, "again", tmp_path / "again", results={"prices": net})[0]["amount"] == 14.4


def test_every_module_the_import_runs_is_carried_whole() -> None:
    fn, problems = F.resolve("shop.orders:total", [str(PROJECT)])
    assert problems == [] and fn is not None
    source = script_source(fn)
    bundle = F.bundle(fn)
    modules = {m.name: m.source for m in bundle.modules}
    assert sorted(modules) == ["shop", "shop.orders", "shop.pricing", "shop.rates", "shop.text", "shop.text.fmt",
                               "shop.units"]
    assert "{{" not in source
    for m in bundle.modules:  # as written, docstrings, unused helpers and all
        assert m.source == (PROJECT / m.filename).read_text(encoding="utf-8")
    # imports inside functions the task cannot reach (shop.unused_helper's numpy) need no package
    assert [i.name for i in bundle.imports] == []


def test_a_module_used_as_an_object_travels_whole(tmp_path: Path) -> None:
    fn, problems = F.resolve("shop.orders:module_name", [str(PROJECT)])
    assert problems == [] and fn is not None
    proc, result = run_script(script_source(fn), tmp_path / "argo")
    assert proc.returncode == 0, proc.stderr
    assert result.read_text() == "shop.units\n"  # a str result is its own text


def test_tracebacks_point_at_the_users_files(tmp_path: Path) -> None:
    fn, _ = F.resolve("shop.orders:fails", [str(PROJECT)])
    proc, _ = run_script(script_source(fn), tmp_path / "argo", {"HERASPEC_IN_x": "3"})
    assert proc.returncode == 1
    assert 'File "shop/orders.py", line 15, in fails' in proc.stderr
    assert "return units.to_cents(x) // 0" in proc.stderr  # the source line, from the carried text
    assert "ZeroDivisionError" in proc.stderr


def test_traceback_in_user_code_shows_carried_lines_and_the_script_imports_little(tmp_path: Path) -> None:
    # user code formatting its own traceback (logging.exception does the same) still sees the
    # carried source lines; the script itself imports neither importlib.abc nor base64 before it
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "caught.py").write_text(
        "import sys\n\n\ndef boom() -> int:\n    return 1 // 0\n\n\n"
        "def report(x: int) -> str:\n    import traceback\n    try:\n        boom()\n"
        "    except ZeroDivisionError:\n        return traceback.format_exc() + ' '.join(sorted(\n"
        "            m for m in ('importlib.abc', 'base64') if m in sys.modules))\n")
    fn, problems = F.resolve("caught:report", [str(tmp_path / "src")])
    assert problems == [] and fn is not None
    proc, result = run_script(script_source(fn), tmp_path / "argo", {"HERASPEC_IN_x": "1"})
    assert proc.returncode == 0, proc.stderr
    text = result.read_bytes().decode("utf-8").removesuffix("\n")  # a str result is its own text
    assert 'File "caught.py", line 5, in boom' in text and "return 1 // 0" in text
    assert text.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_heraspec_run_runs_the_package(tmp_path: Path, fmt: str) -> None:
    spec = spec_file(tmp_path, fmt)
    proc = cli("run", str(spec), "--path", str(PROJECT), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    assert tasks["order"]["result"] == TOTAL
    assert tasks["again"]["result"]["label"] == "14.40 EUR (tax 20%)"


def test_a_cycle_python_allows_is_carried(tmp_path: Path) -> None:
    fn, problems = F.resolve("shop.bad.lazy_a:uses_lazy_cycle", [str(PROJECT)])
    assert problems == []
    proc, result = run_script(script_source(fn), tmp_path / "argo")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(result.read_text()) == 3


BAD = [
    ("shop.bad.cycle_a:uses_cycle",
     "import cycle: 'shop.bad.cycle_a' is still being imported when this line imports 'A' from it "
     "(shop/bad/cycle_a.py binds 'A' at line 3, after the import that leads here); Python fails with ImportError",
     "shop/bad/cycle_b.py:1:1"),
    ("shop.bad.imports:missing_module",
     "cannot import 'shop.nosuch': module 'shop.nosuch' not found in your project (looked in shop/)",
     "shop/bad/imports.py:1:1"),
    ("shop.bad.imports:missing_name", "cannot import name 'NOPE' from 'shop.rates' (shop/rates.py)",
     "shop/bad/imports.py:2:1"),
    ("shop.bad.imports:beyond_top",
     "relative import `from ...toofar import ...` goes beyond the top-level package 'shop'", "shop/bad/imports.py:3:1"),
    ("shop.bad.imports:missing_submodule",
     "cannot import 'shop.text.missing': module 'shop.text.missing' not found in your project (looked in shop/text/)",
     "shop/bad/imports.py:4:1"),
]


@pytest.mark.parametrize("ref,message,where", BAD, ids=[b[0].split(":")[1] for b in BAD])
def test_what_cannot_be_carried_is_a_located_error(tmp_path: Path, ref: str, message: str, where: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: bad\ntasks:\n  t:\n    function: {ref}\n", encoding="utf-8")
    proc = cli("validate", str(spec), "--path", str(PROJECT), cwd=PROJECT)
    assert proc.returncode == 1
    assert f"{spec}:4:15: error: {message} ({where})" in proc.stdout + proc.stderr


def test_a_module_named_like_the_standard_library_is_refused(tmp_path: Path) -> None:
    (tmp_path / "logging.py").write_text("def info(x):\n    return x\n")
    (tmp_path / "steps.py").write_text("import logging\n\n\ndef f():\n    return logging.info(1)\n")
    _, problems = F.resolve("steps:f", [str(tmp_path)])
    assert [(p.message, p.line) for p in problems] == [
        ("your module 'logging' (" + F.shown(str(tmp_path / "logging.py")) + ") has the name of a standard-library "
         "module: Python imports the standard library's 'logging' in the pod", 1)]


def test_relative_import_in_a_top_level_module(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "steps.py").write_text("from .helpers import X\n\n\ndef f():\n    return X\n")
    _, problems = F.resolve("steps:f", [str(tmp_path)])
    assert [p.message for p in problems] == [
        "relative import `from .helpers import ...` in 'steps', which is not in a package"]


def test_braces_in_a_carried_module_are_embedded(tmp_path: Path) -> None:
    pkg = tmp_path / "tpl"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "text.py").write_text('TEMPLATE = "{{x}}"\n\n\ndef render():\n    return TEMPLATE + "}}"\n')
    (pkg / "steps.py").write_text("from .text import render\n\n\ndef f():\n    return render()\n")
    fn, problems = F.resolve("tpl.steps:f", [str(tmp_path)])
    assert problems == []
    source = script_source(fn)
    assert "{{" not in source
    proc, result = run_script(source, tmp_path / "argo")
    assert proc.returncode == 0, proc.stderr
    assert result.read_text() == "{{x}}}}\n"  # a str result is its own text (one newline for Argo to trim)


def test_a_sibling_with_a_syntax_error_is_located_in_that_file(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "steps.py").write_text("from helpers import broken\n\n\ndef f():\n    return broken()\n")
    _, problems = F.resolve("steps:f", [str(tmp_path)])
    assert [(p.message.split(":")[0], p.file, p.line) for p in problems] == [
        (f"syntax error in {F.shown(str(tmp_path / 'helpers.py'))}", str(tmp_path / "helpers.py"), 1)]
