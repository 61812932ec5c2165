"""`heraspec validate`: every check has a bad spec whose exact messages, lines and columns are asserted.

Each `tests/fixtures/bad/NAME.(yaml|toml)` has `NAME.(yaml|toml).expected` beside it: the exact
stderr of `heraspec validate`, with `{dir}` standing for the fixture folder. YAML and TOML twins
must report the same problems, each at its own line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from heraspec.cli import main
from tests.cli import in_process

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "fixtures" / "bad"
EXAMPLES = ROOT / "examples"
BAD_SPECS = sorted(p for p in BAD.iterdir() if p.suffix in (".yaml", ".toml"))
# twins whose formats differ by nature: TOML has no duplicate keys or tags (both are syntax errors)
FORMAT_SPECIFIC = {"duplicate_keys", "syntax", "tags", "empty"}


def validate(capsys, *files: str, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    return in_process(capsys, "validate", *extra, *files)


@pytest.mark.parametrize("spec", BAD_SPECS, ids=lambda p: p.name)
def test_bad_spec_exact_messages(spec: Path, capsys):
    code, out, err = validate(capsys, str(spec))
    expected = (spec.parent / (spec.name + ".expected")).read_text().replace("{dir}", str(BAD))
    assert code == 1
    assert out == ""
    assert err == expected


def _messages(err: str) -> list[str]:
    return [re.sub(r"^.*?:\d+:\d+: ", "", line) for line in err.splitlines()]


@pytest.mark.parametrize("name", sorted({p.stem for p in BAD_SPECS if p.with_suffix(".toml").exists()
                                          and p.with_suffix(".yaml").exists()} - FORMAT_SPECIFIC))
def test_yaml_and_toml_twins_report_the_same_problems(name: str, capsys):
    _, _, yaml_err = validate(capsys, str(BAD / f"{name}.yaml"))
    _, _, toml_err = validate(capsys, str(BAD / f"{name}.toml"))
    assert sorted(_messages(yaml_err)) == sorted(_messages(toml_err))
    yaml_lines = re.findall(r":(\d+):\d+: error", yaml_err)
    toml_lines = re.findall(r":(\d+):\d+: error", toml_err)
    assert yaml_lines and toml_lines  # located in each file


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_are_valid(spec: Path, capsys):
    code, out, err = validate(capsys, str(spec))
    assert (code, err) == (0, "")
    assert out == f"{spec}: ok\n"


def test_all_files_of_a_batch_are_reported_in_one_run(capsys):
    code, _, err = validate(capsys, str(BAD / "cycle.yaml"), str(BAD / "graph.yaml"), str(EXAMPLES / "diamond.yaml"))
    assert code == 1
    assert "cycle.yaml:" in err and "graph.yaml:" in err and "diamond.yaml" not in err


def test_validation_never_imports_the_user_module(tmp_path: Path, capsys):
    marker = tmp_path / "imported.txt"
    (tmp_path / "booby.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nraise SystemExit('imported!')\n\n"
        "def step(x: int) -> int:\n    return x * 2\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: no-import\ntasks:\n  A: {function: booby:step, args: {x: 2}}\n")
    code, _, err = validate(capsys, str(spec))
    assert (code, err) == (0, "")
    assert main(["compile", str(spec)]) == 0
    capsys.readouterr()
    assert not marker.exists()
    assert "booby" not in sys.modules


def test_path_option_finds_modules_elsewhere(tmp_path: Path, capsys):
    lib = tmp_path / "lib" / "pkg"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "jobs.py").write_text("def run(n: int) -> int:\n    return n\n")
    spec = tmp_path / "specs" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text("name: elsewhere\ntasks:\n  A: {function: pkg.jobs:run, args: {n: 1}}\n")
    code, _, err = validate(capsys, str(spec))
    assert code == 1 and "module 'pkg.jobs' not found" in err
    code, _, err = validate(capsys, str(spec), extra=("--path", str(tmp_path / "lib")))
    assert (code, err) == (0, "")


def test_schema_directives_are_accepted(tmp_path: Path, capsys):
    (tmp_path / "steps.py").write_text("def f() -> int:\n    return 1\n")
    yaml_spec = tmp_path / "a.yaml"
    yaml_spec.write_text("# yaml-language-server: $schema=../schemas/heraspec.schema.json\n"
                         "$schema: ../schemas/heraspec.schema.json\nname: a\ntasks:\n  A: {function: steps:f}\n")
    toml_spec = tmp_path / "b.toml"
    toml_spec.write_text('#:schema ../schemas/heraspec.schema.json\n"$schema" = "x.json"\nname = "b"\n'
                         '[tasks.A]\nfunction = "steps:f"\n')
    code, _, err = validate(capsys, str(yaml_spec), str(toml_spec))
    assert (code, err) == (0, "")


def test_bom_and_crlf_are_accepted(tmp_path: Path, capsys):
    (tmp_path / "steps.py").write_text("def f() -> int:\n    return 1\n")
    spec = tmp_path / "crlf.yaml"
    spec.write_bytes(b"\xef\xbb\xbfname: crlf\r\ntasks:\r\n  A: {function: steps:f}\r\n")
    code, _, err = validate(capsys, str(spec))
    assert (code, err) == (0, "")


def test_binary_and_invalid_utf8_get_clear_errors(tmp_path: Path, capsys):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: x\n\x00\x01\x02")
    bad_utf8 = tmp_path / "latin1.yaml"
    bad_utf8.write_bytes(b"name: x\ntasks:\n  A: {function: caf\xe9:f}\n")
    code, _, err = validate(capsys, str(binary), str(bad_utf8))
    assert code == 1
    assert f"{binary}:2:1: error: file is binary (contains NUL bytes), not a YAML or TOML spec" in err
    assert f"{bad_utf8}:3:20: error: file is not valid UTF-8 (byte 0xe9)" in err


def test_billion_laughs_is_rejected(tmp_path: Path, capsys):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * 9) + "]")
    lines.append("name: laughs\ntasks: {A: {function: steps:f, args: {x: *a9}}}")
    spec = tmp_path / "bomb.yaml"
    spec.write_text("\n".join(lines) + "\n")
    code, _, err = validate(capsys, str(spec))
    assert code == 1
    assert "too many aliases expanded" in err


def test_deep_nesting_is_rejected(tmp_path: Path, capsys):
    spec = tmp_path / "deep.yaml"
    spec.write_text("name: deep\nx: " + "[" * 10000 + "]" * 10000 + "\ntasks: {}\n")
    code, _, err = validate(capsys, str(spec))
    assert code == 1
    # our builder stops at 64 levels; newer libyaml builds stop at 1000 while parsing: either way a located error
    assert re.search(r"deep\.yaml:\d+:\d+: error: .*nesting", err), err


def test_oversized_file_is_rejected_before_parsing(tmp_path: Path, capsys):
    spec = tmp_path / "huge.yaml"
    with spec.open("w") as f:
        f.write("name: huge\n# " + "x" * (17 * 1024 * 1024) + "\n")
    code, _, err = validate(capsys, str(spec))
    assert code == 1
    assert "the limit for a spec is 16,777,216 bytes" in err


def test_cli_exit_codes_and_no_traceback(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "heraspec", *a], capture_output=True, text=True, env=env)
    ok = run("validate", str(EXAMPLES / "diamond.yaml"))
    assert ok.returncode == 0, ok.stderr
    bad = run("validate", str(BAD / "graph.yaml"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.rstrip().endswith("errors")
    usage = run("validate")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    missing = run("validate", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "cannot read file" in missing.stderr
    unknown = run("validate", str(tmp_path))
    assert unknown.returncode == 1 and "unknown spec format" in unknown.stderr


def test_schema_command_prints_the_committed_schema(capsys):
    assert main(["schema"]) == 0
    out, _ = capsys.readouterr()
    assert out == (ROOT / "schemas" / "heraspec.schema.json").read_text()


def test_a_key_of_a_container_result_is_an_error(tmp_path: Path, capsys):
    # a container's result is its stdout ({from: sh} works, tests/test_compose.py); it has no keys
    (tmp_path / "steps.py").write_text("def say(msg: str) -> str:\n    return msg\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: c\ntasks:\n  sh: {image: alpine, command: [echo, hi]}\n"
                    "  use: {function: steps:say, args: {msg: {from: sh, key: a}}}\n")
    code, _, err = validate(capsys, str(spec))
    assert code == 1
    assert err.startswith(f"{spec}:4:58: error: task 'sh' has no function, so its result has no keys\n")


def test_misspelt_result_in_depends_is_located(tmp_path: Path, capsys):
    (tmp_path / "steps.py").write_text("def say(msg: str) -> str:\n    return msg\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text('name: d\ntasks:\n  A: {function: steps:say, args: {msg: a}}\n'
                    '  B: {function: steps:say, args: {msg: b}, depends: "A.Succeded || A.Failed"}\n')
    code, _, err = validate(capsys, str(spec))
    assert code == 1
    assert err == (f"{spec}:4:56: error: unknown task result 'A.Succeded'\n"
                   "  hint: did you mean 'Succeeded'?\n1 error\n")
    spec.write_text(spec.read_text().replace("Succeded", "Succeeded"))
    assert validate(capsys, str(spec))[0] == 0
