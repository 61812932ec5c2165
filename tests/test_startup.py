"""`heraspec validate` starts fast (issue 26's budget: a fraction of `import hera.workflows`): it
loads only what checking needs. Each test runs a fresh interpreter, as a pre-commit hook does, and
asserts what it imported (times are the benchmark's business, benchmarks/run.py --cases startup)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import ROOT

# what validating a Workflow with function tasks never needs: the compiler and what only it uses,
# exact quantities (only resource limits are compared), help text wrapping (textwrap, and shutil to
# measure the terminal), hashlib (python/sourcefile.py hashes only modules large enough to summarise),
# the script generator (python/script.py: Argo's text rules read the pods' own rule, the code size rule
# python/codetext.py)
NOT_FOR_VALIDATE = ["heraspec.argo.compiler", "heraspec.argo.templates", "heraspec.argo.dagtasks", "heraspec.argo.plans",
                    "heraspec.argo.arguments", "heraspec.argo.code", "heraspec.python.lock", "heraspec.python.script",
                    "fractions", "subprocess", "hashlib", "textwrap", "shutil", "pathlib"]

_PROBE = """\
import sys
before = set(sys.modules)  # the interpreter's own start (without `site`: see _site_packages)
import contextlib, io, json
from heraspec.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(set(sys.modules) - before)}))
"""


def _site_packages() -> str:
    """The environment's installed packages, for an interpreter started without `site` (-S): as in a
    user's install, where no editable finder (which imports pathlib) runs before heraspec."""
    import sysconfig

    return os.pathsep.join(dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")))


def _validate(*argv: str, cwd: Path = ROOT) -> dict:
    return _verb("validate", *argv, cwd=cwd)


def _verb(verb: str, *argv: str, cwd: Path = ROOT) -> dict:
    proc = subprocess.run([sys.executable, "-S", "-c", _PROBE, verb, *argv], capture_output=True, text=True,
                          cwd=cwd, env={"PYTHONPATH": os.pathsep.join([str(ROOT), _site_packages()]),
                                        "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_validate_of_the_diamond_loads_neither_the_compiler_nor_other_verbs_modules():
    seen = _validate("examples/diamond.yaml")
    assert seen["code"] == 0 and seen["out"] == "examples/diamond.yaml: ok\n"
    loaded = [m for m in NOT_FOR_VALIDATE if m in seen["modules"]]  # loaded by heraspec
    assert loaded == [], f"validate imported {loaded}"


@pytest.mark.parametrize("argv", [["validate", "examples/diamond.yaml"], ["compile", "examples/diamond.yaml"],
                                  ["compile", "examples/diamond.yaml", "-o", "out.yaml"]])
def test_validate_and_compile_of_files_build_no_argparse_parser(argv: list[str], tmp_path: Path):
    """`validate FILE...` and `compile FILE... [-o PATH]` are read by cli/quickargs.py: argparse, gettext
    and the locale tables gettext reads (~4 ms) are not loaded."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    seen = _verb(*argv, cwd=tmp_path)
    assert seen["code"] == 0
    if argv[0] == "validate":
        assert seen["out"] == "examples/diamond.yaml: ok\n"
    else:
        assert "kind: Workflow" in (seen["out"] or (tmp_path / "out.yaml").read_text())
    loaded = [m for m in ("argparse", "gettext", "locale") if m in seen["modules"]]
    assert loaded == [], f"{argv[0]} imported {loaded}"


@pytest.mark.parametrize("verb", ["validate", "compile"])
def test_validate_and_compile_load_neither_dataclasses_nor_inspect(verb: str):
    """`import dataclasses` (which imports inspect) costs ~8 ms, and each @dataclass class ~0.5 ms:
    the records validate and compile create are plain classes."""
    seen = _verb(verb, "examples/diamond.yaml")
    assert seen["code"] == 0
    assert seen["out"] == "examples/diamond.yaml: ok\n" if verb == "validate" else "kind: Workflow" in seen["out"]
    loaded = [m for m in ("dataclasses", "inspect") if m in seen["modules"]]
    assert loaded == [], f"{verb} imported {loaded}"


@pytest.mark.parametrize("verb", ["validate", "compile"])
def test_a_spec_in_plain_yaml_is_read_without_importing_yaml(verb: str):
    """The loader's fast path (document/plainyaml.py) reads the diamond without libyaml."""
    seen = _verb(verb, "examples/diamond.yaml")
    assert seen["code"] == 0
    assert "yaml" not in seen["modules"]


def test_validate_does_not_compile_pyyamls_unused_reader_class(tmp_path: Path):
    """`import yaml` compiles the pure-Python reader's class of printable characters (7 ms); the
    loader reads with libyaml, and validate gets the same class from its cheap complement (a spec
    with an anchor: read through libyaml)."""
    spec = tmp_path / "diamond.yaml"
    spec.write_text((ROOT / "examples/diamond.yaml").read_text().replace("image: python:3.12", "image: &i python:3.12"))
    (tmp_path / "steps.py").write_text((ROOT / "examples/steps.py").read_text())
    probe = _PROBE + "import yaml.reader; print(yaml.reader.Reader.NON_PRINTABLE.pattern == FORBIDDEN)\n"
    proc = subprocess.run([sys.executable, "-c", "from heraspec.document.yamltags import FORBIDDEN\n" + probe,
                           "validate", str(spec)], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "True"


def test_pyyamls_reader_class_matches_the_same_characters_as_pyyamls_own():
    """The pattern heraspec gives PyYAML's reader matches exactly the characters of PyYAML's own,
    over every code point, and that reader still refuses a control character."""
    import re

    from heraspec.document.yamltags import YAML_NON_PRINTABLE, import_yaml

    yaml = import_yaml()
    every = "".join(map(chr, range(0x110000)))
    theirs = re.compile(YAML_NON_PRINTABLE, re.UNICODE)  # another cache key: compiled afresh
    assert yaml.reader.Reader.NON_PRINTABLE.findall(every) == theirs.findall(every)
    assert len(theirs.findall(every)) == 29 + 32 + 2048 + 2  # C0 but tab/LF/CR, DEL and C1 but NEL, surrogates, FFFE/FFFF
    with pytest.raises(yaml.reader.ReaderError):
        yaml.load("a: \x01", Loader=yaml.SafeLoader)  # the pure-Python reader


def test_a_workflow_template_is_still_compiled_for_the_references_to_it(tmp_path: Path):
    """The compiler is loaded when a spec of the batch defines a WorkflowTemplate (template_ref
    calls are checked against its compiled inputs)."""
    (tmp_path / "steps.py").write_text("def hello(name: str) -> str:\n    return name\n")
    (tmp_path / "lib.yaml").write_text("kind: WorkflowTemplate\nname: greet\ntasks:\n"
                                       "  hi: {function: steps:hello, args: {name: x}}\n")
    (tmp_path / "use.yaml").write_text("tasks:\n  call: {template_ref: {name: greet, template: main}, "
                                       "args: {nmae: y}}\n")
    proc = subprocess.run([sys.executable, "-m", "heraspec", "validate", "lib.yaml", "use.yaml"], capture_output=True,
                          text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "use.yaml:" in proc.stderr and "nmae" in proc.stderr


@pytest.mark.parametrize("verb", ["validate", "compile", "run", "apply", "lsp"])
def test_a_verb_parser_built_alone_is_the_one_of_the_whole_command_line(verb: str):
    """`heraspec VERB ...` builds only that verb's parser: its --help and its parsing are the same."""
    from heraspec.cli.parser import build_parser

    def verb_parser(parser):
        (sub,) = [a for a in parser._actions if a.dest == "verb"]
        return sub.choices[verb]

    alone, whole = verb_parser(build_parser(verb)), verb_parser(build_parser())
    assert alone.format_help() == whole.format_help()
    assert sorted(vars(alone.parse_args(["x.yaml"] if verb != "lsp" else [])).items()) == \
        sorted(vars(whole.parse_args(["x.yaml"] if verb != "lsp" else [])).items())


@pytest.mark.parametrize("columns", [50, 100])
def test_help_still_wraps_to_the_terminal(columns: int):
    """The terminal is measured when help is shown (COLUMNS, as argparse reads it), not when parsing."""
    proc = subprocess.run([sys.executable, "-m", "heraspec", "compile", "--help"], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": str(columns)},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    options = proc.stdout.split("options:")[1].split("examples:")[0].splitlines()
    assert max(len(line) for line in options) <= columns - 2
    assert max(len(line) for line in options) > columns - 20  # filled to the width, not to a fixed one


@pytest.mark.parametrize("spec", ["examples/diamond.yaml", "container.yaml"])
def test_compile_into_a_file_loads_nothing_that_compiling_to_stdout_does_not(spec: str, tmp_path: Path):
    """`-o FILE` writes the one file without pathlib (~3 ms with urllib.parse and ipaddress): the
    modules loaded are those of compiling to stdout. (A spec of container tasks alone loads no pod
    runtime, whose source the compiler reads.)"""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "container.yaml").write_text("name: c\ntasks:\n  a: {image: alpine, command: [echo, hi]}\n")
    piped = _verb("compile", spec, cwd=tmp_path)
    written = _verb("compile", spec, "-o", "out.yaml", cwd=tmp_path)
    assert piped["code"] == written["code"] == 0
    assert (tmp_path / "out.yaml").read_text() == piped["out"] and "kind: Workflow" in piped["out"]
    assert sorted(set(written["modules"]) - set(piped["modules"])) == []
