"""Hostile specs, modules and arguments for validate/compile (issue 15, second red-team pass): each
ends in a located error or a usage error naming the argument, or is handled, never an internal error.

Cases that used to take seconds and gigabytes run in a subprocess under a 1 GiB address-space limit
and a timeout: both only guard (a regression dies or is killed there); no assertion is about time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import errors_of, in_process as cli
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]
STEPS = "def say(msg: str) -> str:\n    print(msg)\n    return msg\n"


def _one_gib() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def heraspec(project: Path, *argv: str | bytes, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in a subprocess with at most 1 GiB of address space (a guard, as is the timeout)."""
    proc = subprocess.run([sys.executable, "-m", "heraspec", *argv], cwd=project, timeout=timeout,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_one_gib)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "internal error" not in err and "MemoryError" not in err, err
    return proc


# --- edges: a product of groups is bounded ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_an_edge_of_1000_by_1000_tasks_is_a_located_error(project: Path, fmt: str):
    a, b = [f"a{i}" for i in range(1000)], [f"b{i}" for i in range(1000)]
    edge = f"[{', '.join(a)}] >> [{', '.join(b)}]"
    if fmt == "yaml":
        text = ("name: e\ntasks:\n" + "".join(f"  {n}: {{function: steps:say, args: {{msg: x}}}}\n" for n in a + b)
                + f"edges:\n  - '{edge}'\n")
        where = "2004:6"
    else:
        text = ('name = "e"\n' + f'edges = ["{edge}"]\n' + "[tasks]\n"
                + "".join(f'{n} = {{function = "steps:say", args = {{msg = "x"}}}}\n' for n in a + b))
        where = "2:11"
    (project / f"e.{fmt}").write_text(text)
    proc = heraspec(project, "validate", f"e.{fmt}")
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert errors_of(err) == [f"{where}: error: this edge makes 1,000,000 task-to-task dependencies (1,000 x 1,000); "
                              "a spec's edges make at most 100,000"]
    assert "hint: join the groups through one task: [a, b, ...] >> gather >> [x, y, ...]" in err


def test_edges_up_to_the_bound_compile(project: Path, capsys):
    a, b = [f"a{i}" for i in range(300)], [f"b{i}" for i in range(300)]
    (project / "e.yaml").write_text("name: e\ntasks:\n" + "".join(f"  {n}: {{function: steps:say, args: {{msg: x}}}}\n"
                                                                   for n in a + b)
                                     + f"edges:\n  - '[{', '.join(a)}] >> [{', '.join(b)}]'\n")
    code, out, _ = cli(capsys, "compile", str(project / "e.yaml"), "--format", "json")
    manifest = json.loads(out)
    assert code == 0
    assert_argo_valid(manifest)
    assert manifest["spec"]["templates"][0]["dag"]["tasks"][-1]["depends"] == " && ".join(a)


# --- foreach: a list a Workflow cannot hold --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_a_2_4_million_item_foreach_is_a_located_error(project: Path, fmt: str):
    items = ",".join(["1"] * 2_400_000)
    if fmt == "yaml":
        text = f"name: fe\ntasks:\n  a: {{function: steps:say, args: {{msg: {{item: true}}}}, foreach: [{items}]}}\n"
        where = "3:64"
    else:
        text = f'name = "fe"\n[tasks.a]\nfunction = "steps:say"\nargs = {{msg = {{item = true}}}}\nforeach = [{items}]\n'
        where = "5:11"
    (project / f"fe.{fmt}").write_text(text)
    proc = heraspec(project, "validate", f"fe.{fmt}")
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert errors_of(err) == [f"{where}: error: a list of more than 100,000 items; a spec's lists hold at most 100,000"]
    assert "produce it in a task and fan out with foreach: {from: TASK}" in err


def test_a_block_list_of_100001_items_is_refused_and_100000_pass(project: Path, capsys):
    head = "name: fe\ntasks:\n  a:\n    function: steps:say\n    args: {msg: {item: true}}\n    foreach:\n"
    (project / "over.yaml").write_text(head + "      - 1\n" * 100_001)
    code, _, err = cli(capsys, "validate", str(project / "over.yaml"))
    assert code == 1 and errors_of(err) == ["7:7: error: a list of more than 100,000 items; a spec's lists hold at most 100,000"]
    (project / "at.yaml").write_text(head + "      - 1\n" * 100_000)
    code, _, err = cli(capsys, "validate", str(project / "at.yaml"))
    assert "a list of more than" not in err


# --- the user's module: what Python imports, heraspec reads ----------------------------------------


def test_a_600_term_concatenation_anywhere_in_the_module(project: Path, capsys, monkeypatch):
    monkeypatch.chdir(project)  # module names are shown relative to the working directory
    terms = " + ".join(f"'s{i}'" for i in range(600))
    (project / "long.py").write_text(f"UNUSED = {terms}\n\nPREFIX = {terms}\n\n\n"
                                     "def say(msg: str) -> str:\n    return PREFIX[:6] + msg\n")
    (project / "s.yaml").write_text("name: s\ntasks:\n  a: {function: long:say, args: {msg: '!'}}\n")
    code, out, _ = cli(capsys, "compile", str(project / "s.yaml"), "--format", "json")
    assert code == 0
    assert_argo_valid(json.loads(out))
    code, out, _ = cli(capsys, "run", str(project / "s.yaml"), "--json", "--workdir", str(project / "run"))
    assert code == 0 and json.loads(out)["tasks"]["a"]["result"] == "s0s1s2!"
    # deeper than Python's own parser goes: Python cannot import it either, so a located error
    (project / "deeper.py").write_text("X = " + " + ".join(["'s'"] * 5000) + "\n\ndef say(msg: str) -> str:\n    return msg\n")
    (project / "d.yaml").write_text("name: d\ntasks:\n  a: {function: deeper:say, args: {msg: x}}\n")
    code, _, err = cli(capsys, "validate", str(project / "d.yaml"))
    assert code == 1
    assert errors_of(err) == ["3:17: error: cannot parse deeper.py: expressions nest too deeply for Python's parser"]


@pytest.mark.parametrize("header, name, where", [
    (b"# -*- coding: utf-7 -*-\n", "utf-7", "1:15"),
    (b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\n", "latin-1", "2:25"),
])
def test_a_coding_line_other_than_utf8_is_a_located_error(project: Path, capsys, monkeypatch, header: bytes,
                                                          name: str, where: str):
    monkeypatch.chdir(project)
    # Python decodes this module with the declared codec: under UTF-7 the comment's '+AAo-' is a
    # newline, so Python's say() returns 'evil' while the UTF-8 text heraspec would carry returns msg.
    body = b"def say(msg: str) -> str:\n    msg = msg  #+AAo-    msg = 'evil'\n    return msg\n"
    (project / "coded.py").write_bytes(header + body)
    (project / "s.yaml").write_text("name: s\ntasks:\n  a: {function: coded:say, args: {msg: hi}}\n")
    for verb in (["validate"], ["run", "--workdir", str(project / "run")]):
        code, _, err = cli(capsys, *verb, str(project / "s.yaml"))
        assert code == 1
        assert errors_of(err) == [f"3:17: error: coded.py declares the source encoding '{name}': heraspec reads and "
                                  f"carries modules as UTF-8 only (coded.py:{where})"]
        assert "hint: save the file as UTF-8 and remove the coding line" in err
    assert not (project / "run").exists()
    (project / "utf8.py").write_bytes(b"# coding: utf8\n" + body)
    (project / "u.yaml").write_text("name: u\ntasks:\n  a: {function: utf8:say, args: {msg: hi}}\n")
    assert cli(capsys, "validate", str(project / "u.yaml"))[0] == 0


# --- command-line values -------------------------------------------------------------------------


def test_a_500_level_dotted_set_key_is_a_usage_error(project: Path, capsys):
    (project / "s.yaml").write_text("name: s\ntasks:\n  a: {function: steps:say, args: {msg: '[[ a.a ]]'}}\n")
    key = ".".join(["a"] * 500)
    code, _, err = cli(capsys, "validate", str(project / "s.yaml"), "--set", f"{key}=1")
    assert code == 2
    assert err == ("heraspec: error: --set a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a...: a key of 500 dotted parts "
                   "nests deeper than 64 levels\n")
    assert cli(capsys, "validate", str(project / "s.yaml"), "--set", ".".join(["a"] * 64) + "=1")[0] == 0


@pytest.mark.parametrize("argv, message", [
    ([b"run", b"s.yaml", b"-p", b"who=\xff"], "-p 'who=\\xff': the value is not valid UTF-8"),
    ([b"compile", b"s.yaml", b"--set", b"who=caf\xe9"], "--set 'who=caf\\xe9': the value is not valid UTF-8"),
    ([b"validate", b"s.yaml", b"--set", b"w\xfeho=1"], "--set 'w\\xfeho=1': the name is not valid UTF-8"),
    ([b"apply", b"s.yaml", b"--dry-run", b"client", b"-p", b"who=\xc3"], "-p 'who=\\xc3': the value is not valid UTF-8"),
])
def test_non_utf8_set_and_p_arguments_are_usage_errors(project: Path, argv: list[bytes], message: str):
    (project / "s.yaml").write_text("name: s\narguments: {who: x}\ntasks:\n  a: {function: steps:say, args: {msg: '[[ who | default(\"x\") ]]'}}\n")
    proc = heraspec(project, *argv)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode() == f"heraspec: error: {message} (Argo and YAML carry only UTF-8 text)\n"
    assert not (project / ".heraspec").exists()
