"""Hostile and malformed input: a clear located error (exit 1), nothing constructed, imported or run.

tests/test_validate.py has the basics (flow-style deep nesting, the alias bomb, a 17 MB file, binary
and Latin-1 files, BOM+CRLF in YAML); this file extends them. Every case goes through the real CLI
in-process and checks the exact message, and that no traceback or internal error appears.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import errors_of, in_process as cli
from heraspec.document.load import MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
STEPS = "def say(msg: str) -> str:\n    return msg\n\n\ndef add(a: int, b: int = 1) -> int:\n    return a + b\n"


def spec_file(project: Path, name: str, content: str | bytes) -> Path:
    path = project / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- YAML tags never construct anything ----------------------------------------------------------


def test_python_tags_never_construct_or_run_anything(project: Path, capsys):
    marker = project / "constructed"
    spec = spec_file(project, "tags.yaml", f"""\
%TAG !py! tag:yaml.org,2002:python/
---
name: !!python/object/apply:builtins.open ["{marker}", "w"]
image: !py!object/apply:os.system ["touch {marker}"]
labels: !!python/object/new:subprocess.Popen [["touch", "{marker}"]]
annotations: {{a: !!python/name:os.system }}
tasks:
  A: {{function: steps:say, args: {{msg: !<tag:yaml.org,2002:python/object/apply:os.system> ["touch {marker}"]}}}}
  B: {{function: steps:say, args: {{msg: !custom hi}}}}
edges: !!set {{A, B}}
""")
    for verb in (["validate"], ["compile"], ["run", "--workdir", str(project / "run")], ["graph"]):
        code, out, err = cli(capsys, *verb, str(spec))
        assert code == 1 and out == ""
        assert errors_of(err) == [
            "3:7: error: YAML tag !!python/object/apply:builtins.open is not allowed",
            "4:8: error: YAML tag !!python/object/apply:os.system is not allowed",
            "5:9: error: YAML tag !!python/object/new:subprocess.Popen is not allowed",
            "6:18: error: YAML tag !!python/name:os.system is not allowed",
            "8:40: error: YAML tag !!python/object/apply:os.system is not allowed",
            "9:40: error: YAML tag !custom is not allowed",
            "10:8: error: YAML tag !!set is not allowed",
        ]
        assert "hint: tags never construct objects in a spec; remove it" in err
    assert not marker.exists() and not (project / "run").exists()


def test_tags_in_a_values_file_never_construct_anything(project: Path, capsys):
    marker = project / "constructed"
    values = spec_file(project, "values.yaml", f'who: !!python/object/apply:os.system ["touch {marker}"]\n')
    spec = spec_file(project, "s.yaml", 'name: x\ntasks:\n  A: {function: steps:say, args: {msg: "[[ who ]]"}}\n')
    code, _, err = cli(capsys, "compile", str(spec), "--values", str(values))
    assert code == 1
    assert f"{values}:1:6: error: YAML tag !!python/object/apply:os.system is not allowed" in err
    assert not marker.exists()


def test_merge_key_alias_bomb_is_rejected(project: Path, capsys):
    lines = ["a0: &a0 {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol, k8: lol}"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} {{" + ", ".join(f"m{j}: *a{i - 1}" for j in range(9)) + "}")
    lines.append("b: {<<: [*a9, *a9, *a9]}\nname: x\ntasks: {A: {function: steps:say, args: {msg: hi}}}")
    spec = spec_file(project, "bomb.yaml", "\n".join(lines) + "\n")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1 and "too many aliases expanded (is this a 'billion laughs' file?)" in err


# --- depth and size ------------------------------------------------------------------------------


# where our builder stops (64 levels), or where a libyaml build with its own limit (1000) stops parsing
@pytest.mark.parametrize("name, text, where", [
    ("block_sequences.yaml", "name: x\nx:\n  " + "- " * 10_000 + "1\ntasks: {}\n", ("3:131", "3:1999")),
    ("block_mappings.yaml", "name: x\nx:\n" + "".join(" " * i + "a:\n" for i in range(1, 1500)) + "tasks: {}\n",
     ("67:66", "1001:1001")),
    ("arrays.toml", 'name = "x"\nx = ' + "[" * 10_000 + "]" * 10_000 + "\n", "2:69"),
    ("inline_tables.toml", 'name = "x"\nx = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "2:325"),
    ("dotted_keys.toml", 'name = "x"\n[tasks.A]\nfunction = "steps:say"\n[tasks.A.args]\nmsg = "m"\n'
                         "x" + ".a" * 10_000 + " = 1\n", "6:1"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "")
def test_10000_deep_nesting_is_rejected_in_block_yaml_and_toml(project: Path, capsys, name: str, text: str, where: str):
    spec = spec_file(project, name, text)
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    places = where if isinstance(where, tuple) else (where,)
    assert errors_of(err) in [[f"{w}: error: nesting is deeper than 64 levels"] for w in places]


def test_a_50_mb_file_is_rejected_by_its_size_without_being_read(project: Path, capsys):
    spec = project / "huge.yaml"
    with spec.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: all NUL bytes, which would be "binary" if it were read
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    assert errors_of(err) == [f"1:1: error: file is 52,428,800 bytes; the limit for a spec is {MAX_BYTES:,} bytes"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_is_read_only_up_to_the_limit(project: Path):
    (project / "zero.yaml").symlink_to("/dev/zero")  # stat says 0 bytes; reading never ends
    proc = subprocess.run([sys.executable, "-m", "heraspec", "validate", "zero.yaml"], cwd=project, timeout=120,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1
    assert errors_of(proc.stderr) == [f"1:1: error: file is larger than the limit for a spec ({MAX_BYTES:,} bytes)"]


# --- encodings, empty files, line endings ----------------------------------------------------------


@pytest.mark.parametrize("suffix", ["yaml", "toml"])
@pytest.mark.parametrize("content, expected", ids=["nul", "png", "latin1", "utf16", "empty", "blank"], argvalues=[
    (b"name = 1\n\x00\x01\x02\xff", "2:1: error: file is binary (contains NUL bytes), not a YAML or TOML spec"),
    (b"\x89PNG\r\n\x1a\n\x93\xfe\xfa", "1:1: error: file is not valid UTF-8 (byte 0x89)"),
    (b"name = 'caf\xe9'\n", "1:12: error: file is not valid UTF-8 (byte 0xe9)"),
    ("name = 'x'\n".encode("utf-16"), "1:1: error: file is UTF-16 or UTF-32 encoded, not UTF-8"),
    (b"", "1:1: error: file is empty"),
    (b" \n\t\r\n\n", "1:1: error: file is empty"),
])
def test_binary_encodings_and_empty_files(project: Path, capsys, suffix: str, content: bytes, expected: str):
    spec = spec_file(project, f"s.{suffix}", content)
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1 and errors_of(err) == [expected]


@pytest.mark.parametrize("name, content", [
    ("comments.yaml", "# just a comment\n# and another\n"),
    ("comments.toml", "# just a comment\n"),
])
def test_a_file_with_only_comments_is_an_error(project: Path, capsys, name: str, content: str):
    code, _, err = cli(capsys, "validate", str(spec_file(project, name, content)))
    assert code == 1 and errors_of(err) and all(e.startswith("1:1: error: ") for e in errors_of(err))


def test_bom_and_crlf_are_accepted_in_toml_and_with_values(project: Path, capsys):
    toml = spec_file(project, "crlf.toml", b'\xef\xbb\xbfname = "crlf"\r\n[tasks.A]\r\nfunction = "steps:say"\r\n'
                                          b'args = {msg = "[[ who ]]"}\r\n')
    values = spec_file(project, "v.yaml", b"\xef\xbb\xbfwho: world\r\n")
    yaml = spec_file(project, "crlf.yaml", b'\xef\xbb\xbfname: crlf\r\ntasks:\r\n  A: {function: steps:say, '
                                          b'args: {msg: "[[ who ]]"}}\r\n')
    code, out, err = cli(capsys, "compile", str(toml), str(yaml), "--values", str(values), "--format", "json")
    assert code == 0, err
    assert out.count('"value":"world"') + out.count('"value": "world"') == 2


def test_yaml_12_scalars(project: Path, capsys):
    """yes/no/on/off stay text (YAML 1.1 would make them booleans), 0o17 is octal, 012 decimal."""
    spec = spec_file(project, "s.yaml", "name: x\nparameters: {a: yes, b: off, c: 0o17, d: 012, e: 1_000, f: ~}\n"
                                        "tasks:\n  A: {function: steps:say, args: {msg: {param: a}}}\n")
    code, out, err = cli(capsys, "compile", str(spec), "--format", "json")
    assert code == 0, err
    values = dict(re.findall(r'"name":\s*"(\w)",\s*"value":\s*"([^"]*)"', out))
    assert values == {"a": "yes", "b": "off", "c": "15", "d": "12", "e": "1_000", "f": "null"}


# --- the shape of the document -----------------------------------------------------------------------


@pytest.mark.parametrize("content", ["- a\n- b\n", "42\n", "null\n", "~\n", "just text\n", "'quoted'\n", "[]\n",
                                     "!!str tasks\n"])
def test_a_spec_that_is_not_a_mapping(project: Path, capsys, content: str):
    code, _, err = cli(capsys, "validate", str(spec_file(project, "s.yaml", content)))
    assert code == 1
    assert errors_of(err) in (["1:1: error: a spec must be a mapping with at least 'tasks'"],
                              ["1:1: error: file has no YAML document"])


def test_keys_that_are_numbers_booleans_or_null_are_names(project: Path, capsys):
    spec = spec_file(project, "s.yaml", "name: x\ntasks:\n  0x1f: {function: steps:say, args: {msg: a}}\n"
                                        "  1e3: {function: steps:say, args: {msg: b}}\n"
                                        "  null: {function: steps:say, args: {msg: c}, after: [no]}\n"
                                        "  no: {function: steps:say, args: {msg: d}}\n")
    code, out, err = cli(capsys, "compile", str(spec), "--format", "json")
    assert code == 1
    # Argo refuses names starting with a digit in a DAG that uses depends (validate.go validateDAG)
    assert errors_of(err) == ["3:3: error: task name '0x1f' starts with a digit, which Argo refuses in a DAG whose "
                              "tasks depend on each other", "4:3: error: task name '1e3' starts with a digit, which "
                              "Argo refuses in a DAG whose tasks depend on each other"]
    spec.write_text(spec.read_text().replace(", after: [no]", ""))
    code, out, err = cli(capsys, "compile", str(spec), "--format", "json")
    assert code == 0, err
    assert re.findall(r'"name":\s*"(0x1f|1e3|null|no)",\s*"template"', out) == ["0x1f", "1e3", "null", "no"]
    # names that Argo's depends expressions would read as literals are refused
    literal = spec_file(project, "lit.yaml", "name: x\ntasks:\n  1: {function: steps:say, args: {msg: a}}\n"
                                             "  true: {function: steps:say, args: {msg: b}}\n")
    code, _, err = cli(capsys, "validate", str(literal))
    assert code == 1
    assert errors_of(err) == ["3:3: error: task name '1' reads as a literal in Argo's depends expressions",
                              "4:3: error: task name 'true' reads as a literal in Argo's depends expressions"]
    dup = spec_file(project, "dup.yaml", "name: x\ntasks:\n  '1': {function: steps:say, args: {msg: a}}\n"
                                         "  1: {function: steps:say, args: {msg: b}}\n")
    code, _, err = cli(capsys, "validate", str(dup))
    assert code == 1 and errors_of(err) == ["4:3: error: duplicate key '1' (first defined on line 3)"]


@pytest.mark.parametrize("tasks, expected", [
    ("tasks:\n  ? [a, b]\n  : {function: steps:say}\n", ["3:5: error: mapping keys must be plain strings"]),
    ("tasks:\n  ? {a: 1}\n  : {function: steps:say}\n", ["3:5: error: mapping keys must be plain strings"]),
    ("tasks: [A, B]\n", ["2:8: error: tasks must be a mapping, not a list"]),
    ("tasks: A\n", ["2:8: error: tasks must be a mapping, not a string"]),
    ("tasks: 12\n", ["2:8: error: tasks must be a mapping, not an integer"]),
    ("tasks: {}\n", ["2:8: error: tasks must not be empty"]),
])
def test_non_string_task_names_and_non_mapping_tasks(project: Path, capsys, tasks: str, expected: list[str]):
    code, _, err = cli(capsys, "validate", str(spec_file(project, "s.yaml", "name: x\n" + tasks)))
    assert code == 1 and errors_of(err) == expected


def test_very_long_task_names(project: Path, capsys):
    ok = "t" * 128
    spec = spec_file(project, "s.yaml", f"name: x\ntasks:\n  {ok}: {{function: steps:say, args: {{msg: a}}}}\n")
    assert cli(capsys, "compile", str(spec))[0] == 0
    long = "t" * 129
    spec = spec_file(project, "s.yaml", f"name: x\ntasks:\n  {long}: {{function: steps:say, args: {{msg: a}}}}\n"
                                        f"  {'v' * 1000}: {{function: steps:say, args: {{msg: a}}}}\n")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    assert errors_of(err) == [f"3:3: error: invalid task name '{long}'", f"4:3: error: invalid task name '{'v' * 1000}'"]
    spec = spec_file(project, "s.toml", f'name = "x"\n[tasks.{"v" * 10_000}]\nfunction = "steps:say"\nargs = {{msg = "a"}}\n')
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1 and errors_of(err) == [f"2:1: error: invalid task name '{'v' * 10_000}'"]
    # a legal task name whose default volume name (<task>-vol) is too long for Kubernetes
    name = "t" * 62
    spec = spec_file(project, "s.yaml", f"name: x\ntasks:\n  {name}:\n    function: steps:say\n    args: {{msg: a}}\n"
                                        "    resources: {volume: {size: 1Gi, mount_path: /vol}}\n")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    assert errors_of(err) == [f"6:25: error: volume name '{name}-vol' is 66 characters; Kubernetes allows at most 63"]


def test_unicode_and_control_characters_in_task_names_stay_on_one_line(project: Path, capsys):
    spec = spec_file(project, "s.yaml", 'name: x\ntasks:\n  "a\\nfake.yaml:1:1: error: forged": {function: steps:say}\n'
                                        '  "\\e[31mred\\e[0m": {function: steps:say}\n'
                                        '  tâche: {function: steps:say}\n'
                                        '  "A\\u200b": {function: steps:say}\n'
                                        '  "\\u202eevil": {function: steps:say}\n')
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    names = [line.split(": error: ", 1)[1] for line in err.splitlines() if "invalid task name" in line]
    assert names == ["invalid task name 'a\\nfake.yaml:1:1: error: forged'", "invalid task name '\\x1b[31mred\\x1b[0m'",
                     "invalid task name 'tâche'", "invalid task name 'A\\u200b'", "invalid task name '\\u202eevil'"]
    assert "\x1b" not in err and "\u202e" not in err
    assert all(re.match(rf"^{re.escape(str(spec))}:\d+:\d+: error: |^  hint: |^\d+ errors?$", line)
               for line in err.splitlines())


# --- numbers ---------------------------------------------------------------------------------------


def test_nan_and_infinity_are_located_errors(project: Path, capsys):
    spec = spec_file(project, "s.yaml", "name: x\nparameters: {p: .nan}\ntasks:\n"
                                        "  A: {function: steps:add, args: {a: .inf, b: -.Inf}, resources: {cpu: .inf}}\n"
                                        "  B: {function: steps:say, args: {msg: {item: true}}, foreach: [1, .NaN]}\n")
    for verb in (["validate"], ["compile", "--format", "json"]):
        code, out, err = cli(capsys, *verb, str(spec))
        assert code == 1 and out == ""
        assert errors_of(err) == [
            "2:17: error: NaN cannot be passed to Argo (JSON has no such number)",
            "4:38: error: infinity cannot be passed to Argo (JSON has no such number)",
            "4:47: error: infinity cannot be passed to Argo (JSON has no such number)",
            "4:72: error: infinity cannot be passed to Argo (JSON has no such number)",
            "5:68: error: NaN cannot be passed to Argo (JSON has no such number)",
        ]
    toml = spec_file(project, "s.toml", 'name = "x"\n[tasks.A]\nfunction = "steps:add"\nargs = {a = nan, b = -inf}\n')
    code, _, err = cli(capsys, "validate", str(toml))
    assert code == 1 and len(errors_of(err)) == 2


def test_huge_integers(project: Path, capsys):
    big = "9" * 30
    spec = spec_file(project, "s.yaml", f"name: x\nparallelism: {big}\ndefaults: {{retry: {{limit: {big}}}}}\ntasks:\n"
                                        f"  A: {{function: steps:add, args: {{a: {big}}}, retry: {big}, timeout: {big},"
                                        f" resources: {{gpu: {big}}}}}\n")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    assert errors_of(err) == [
        f"2:14: error: parallelism is {big}; the largest value Argo takes is 2,147,483,647",
        f"3:27: error: defaults.retry.limit is {big}; the largest value Argo takes is 2,147,483,647",
        f"5:78: error: task 'A' retry is {big}; the largest value Argo takes is 2,147,483,647",
        f"5:119: error: task 'A' timeout is {big}; the largest value Argo takes is 1,000,000,000",
        f"5:168: error: task 'A' resources.gpu is {big}; the largest value Argo takes is 2,147,483,647",
    ]
    # a big integer argument is data: it reaches the function exactly
    ok = spec_file(project, "ok.yaml", f"name: x\ntasks:\n  A: {{function: steps:add, args: {{a: {big}}}}}\n")
    code, out, err = cli(capsys, "compile", str(ok))
    assert code == 0 and f'value: "{big}"' in out


# --- function references -----------------------------------------------------------------------------

KINDS = """\
open(__file__ + ".imported", "w").close()
import os
from os.path import join


class Model:
    pass


CONSTANT = 3
shout = lambda s: s.upper()
if os.environ.get("X"):
    def maybe(x):
        return x


async def fetch(x):
    return x
"""


@pytest.mark.parametrize("ref, message", [
    ("../kinds:ok", "invalid module '../kinds' in '../kinds:ok': use a dotted module name such as 'pkg.steps', "
                    "not a file path or a relative name"),
    ("/etc/kinds:ok", "invalid module '/etc/kinds' in '/etc/kinds:ok': use a dotted module name"),
    ("..kinds:ok", "invalid module '..kinds' in '..kinds:ok'"),
    ("kinds.py:ok", "invalid module 'kinds.py' in 'kinds.py:ok'"),
    ("kinds:Model", "'Model' in module 'kinds' is a class, not a function"),
    ("kinds:CONSTANT", "'CONSTANT' in module 'kinds' is a variable, not a function"),
    ("kinds:shout", "'shout' in module 'kinds' is a lambda, not a function"),
    ("kinds:fetch", "'fetch' is an async function; async functions are not supported"),
    ("kinds:join", "'join' in module 'kinds' is imported from 'os.path', which is not a module of your project"),
    ("kinds:__import__", "function '__import__' not found in module 'kinds'"),
    ("kinds:ok:x", "invalid function reference 'kinds:ok:x': expected 'module.path:function'"),
    ("builtins:eval", "module 'builtins' not found"),
])
def test_function_references_that_are_paths_or_not_functions(project: Path, capsys, ref: str, message: str):
    (project / "kinds.py").write_text(KINDS)
    spec = spec_file(project, "s.yaml", f'name: x\ntasks:\n  A: {{function: "{ref}", args: {{x: 1}}}}\n')
    for verb in ("validate", "compile"):
        code, out, err = cli(capsys, verb, str(spec))
        assert code == 1 and out == ""
        first = errors_of(err)[0]  # a malformed reference also fails the schema's pattern: a 2nd line
        assert first.startswith(f"3:17: error: {message}"), first
    assert not (project / "kinds.py.imported").exists() and "kinds" not in sys.modules
