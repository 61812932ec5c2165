"""Hostile specs for `heraspec run` and validate (issue 15, second red-team pass): each case goes
through the real CLI and ends in a result or a located error, never a hang, a traceback or a file
outside the run folder.

Runs that could hang (a catastrophic regular expression, a deep expression) go through a real
subprocess with a timeout that only guards against hanging; no assertion is about time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import errors_of, heraspec as subprocess_cli, in_process as cli
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]
STEPS = "def say(msg: str) -> str:\n    print(msg)\n    return msg\n"


def heraspec(project: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in a subprocess: a hang ends the test instead of the test run."""
    proc = subprocess_cli(*argv, cwd=project, timeout=timeout)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    return proc


def compiled(spec: Path) -> dict:
    """The spec's manifest, checked against Argo's strict schema (what a test runs is valid Argo)."""
    import heraspec as api

    (c,) = api.compile([str(spec)], path=[str(spec.parent)])
    assert_argo_valid(c.manifest)
    return c.manifest


def write(project: Path, name: str, yaml_text: str, toml_text: str | None = None) -> Path:
    path = project / name
    path.write_text(yaml_text if name.endswith(".yaml") else toml_text or "", encoding="utf-8")
    return path


# --- depends and when: long chains run, deep nesting is a located error ---------------------------


@pytest.mark.slow
def test_a_400_task_fan_in_runs_its_join(project: Path, capsys):
    names = [f"t{i}" for i in range(400)]
    spec = write(project, "fanin.yaml", "name: fanin\ntasks:\n"
                 + "".join(f"  {n}: {{function: steps:say, args: {{msg: {n}}}}}\n" for n in names)
                 + "  join: {function: steps:say, args: {msg: joined}}\n"
                 + f"edges:\n  - '[{', '.join(names)}] >> join'\n")
    assert compiled(spec)["spec"]["templates"][0]["dag"]["tasks"][-1]["depends"] == " && ".join(names)
    code, out, _ = cli(capsys, "run", str(spec), "--json", "--workdir", str(project / "run"))
    summary = json.loads(out)
    assert code == 0 and summary["phase"] == "Succeeded"
    assert summary["tasks"]["join"]["phase"] == "Succeeded" and summary["tasks"]["join"]["result"] == "joined"


def test_a_1500_task_chain_whose_first_task_fails_ends_failed(project: Path, capsys):
    # every later task is Omitted: the workflow's phase walks the chain back to the failure; tasks are
    # listed last-first, so checking the graph for cycles walks it from its far end as well
    (project / "boom.py").write_text("def boom() -> None:\n    raise SystemExit(3)\n")
    n = 1500
    spec = write(project, "chain.yaml", "name: chain\ntasks:\n"
                 + "".join(f"  t{i}: {{function: steps:say, args: {{msg: x}}}}\n" for i in range(n - 1, 0, -1))
                 + "  t0: {function: boom:boom}\n"
                 + "edges:\n  - '" + " >> ".join(f"t{i}" for i in range(n)) + "'\n")
    compiled(spec)
    code, out, _ = cli(capsys, "run", str(spec), "--json", "--workdir", str(project / "run"))
    summary = json.loads(out)
    assert code == 1 and summary["phase"] == "Failed"
    assert summary["tasks"]["t0"]["phase"] == "Failed" and summary["tasks"][f"t{n - 1}"]["phase"] == "Omitted"


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_2000_nested_parentheses_in_depends_and_when_are_located_errors(project: Path, capsys, fmt: str):
    deep = "(" * 2000 + "a" + ")" * 2000
    nots = "!" * 2000 + "false"
    if fmt == "yaml":
        spec = write(project, "deep.yaml", "name: deep\ntasks:\n  a: {function: steps:say, args: {msg: x}}\n"
                     f"  b: {{function: steps:say, args: {{msg: y}}, depends: '{deep}'}}\n"
                     f"  c: {{function: steps:say, args: {{msg: z}}, when: '{nots}'}}\n")
        where = ["4:118", "5:115"]
    else:
        spec = write(project, "deep.toml", "", 'name = "deep"\n[tasks.a]\nfunction = "steps:say"\nargs = {msg = "x"}\n'
                     f'[tasks.b]\nfunction = "steps:say"\nargs = {{msg = "y"}}\ndepends = "{deep}"\n'
                     f'[tasks.c]\nfunction = "steps:say"\nargs = {{msg = "z"}}\nwhen = "{nots}"\n')
        where = ["8:76", "12:73"]
    for verb in (["validate"], ["run", "--workdir", str(project / "run")]):
        code, _, err = cli(capsys, *verb, str(spec))
        assert code == 1
        assert errors_of(err) == [f"{where[0]}: error: depends nests parentheses and '!' deeper than 64 levels",
                                  f"{where[1]}: error: when nests parentheses and '!' deeper than 64 levels"]
        assert "hint: write it flatter" in err
    assert not (project / "run").exists()


def test_64_levels_of_nesting_still_validate_and_run(project: Path, capsys):
    spec = write(project, "ok.yaml", "name: ok\ntasks:\n  a: {function: steps:say, args: {msg: x}}\n"
                 f"  b: {{function: steps:say, args: {{msg: y}}, depends: '{'(' * 64}a{')' * 64}',"
                 f" when: '{'!(' * 31}false{')' * 31}'}}\n")  # 31 nots: true; govaluate lexes '!!' as one
    # (invalid) symbol, so each '!' has its own parentheses
    compiled(spec)
    code, out, _ = cli(capsys, "run", str(spec), "--json", "--workdir", str(project / "run"))
    assert code == 0 and json.loads(out)["tasks"]["b"]["result"] == "y"


# --- when =~ is Go's regexp (RE2): linear time, Go's syntax ----------------------------------------


def test_a_catastrophic_regex_in_when_does_not_hang_the_run(project: Path):
    spec = write(project, "re.yaml", "name: re\ntasks:\n  a: {function: steps:say, args: {msg: " + "a" * 33 + "b}}\n"
                 "  b: {function: steps:say, args: {msg: matched}, when: \"'{{tasks.a.outputs.result}}' =~ '(a+)+$'\"}\n"
                 "  c: {function: steps:say, args: {msg: other}, when: \"'{{tasks.a.outputs.result}}' !~ '(a+)+$'\"}\n")
    compiled(spec)
    proc = heraspec(project, "run", "re.yaml", "--json", "--workdir", "run", timeout=120)
    tasks = json.loads(proc.stdout)["tasks"]
    assert proc.returncode == 0, proc.stderr
    assert tasks["b"]["phase"] == "Skipped" and tasks["c"]["result"] == "other"


@pytest.mark.parametrize("pattern, why", [
    (r"(a)\\\\1", "invalid escape sequence"),   # a backreference (escaped for YAML, then for when)
    ("a(?=b)", "invalid perl operator"),          # lookahead
    ("(?<=a)b", "invalid perl operator"),         # lookbehind
])
def test_regex_syntax_go_refuses_is_refused_at_validate_or_ends_the_task_in_error(project: Path, capsys, pattern: str,
                                                                                    why: str):
    # govaluate optimizeTokens compiles a literal pattern when the expression is parsed, whatever the
    # tags hold: validate refuses it; a pattern that arrives through a task's value is an Error at run
    spec = write(project, "re.yaml", "name: re\ntasks:\n  a: {function: steps:say, args: {msg: ab}}\n"
                 f"  b: {{function: steps:say, args: {{msg: m}}, when: \"'{{{{tasks.a.outputs.result}}}}' =~ '{pattern}'\"}}\n")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1 and "bad regular expression" in err and "Go's RE2 syntax" in err and why in err
    given = pattern.replace("\\\\", "\\")  # the text the lexer would have unescaped, as the task's value
    spec = write(project, "re.yaml", "name: re\ntasks:\n"
                 f"  a: {{function: steps:say, args: {{msg: '{given}'}}}}\n"
                 "  b: {function: steps:say, args: {msg: m}, when: \"'ab' =~ '{{tasks.a.outputs.result}}'\"}\n")
    compiled(spec)
    code, out, err = cli(capsys, "run", str(spec), "--json", "--workdir", str(project / "run"))
    b = json.loads(out)["tasks"]["b"]
    assert code == 1 and b["phase"] == "Error"
    assert "bad regular expression" in b["message"] and "Go's RE2 syntax" in b["message"] and why in b["message"]
    assert "re2.cc" not in err  # the engine's own log lines stay out of heraspec's output


# --- the argo: escape hatch cannot move heraspec run out of its run folder -------------------------


ESCAPES = {
    # an input artifact written at a path with '..' (a pod's '/..' is '/')
    "input artifact": ("template", "{inputs: {artifacts: [{name: x, path: '/UP/OUT/in.txt', raw: {data: evil}}]}}",
                       "Succeeded", None),
    # an output read from the host (/etc/hostname) instead of what the task wrote
    "output path": ("template", "{outputs: {parameters: [{name: host, valueFrom: {path: '/tmp/UP/etc/hostname', "
                    "default: not-written}}]}}", "Succeeded", None),
    "volume name": ("template", "{script: {volumeMounts: [{name: 'UP/OUT', mountPath: /data}]}}", "Error",
                    "volume mount 'UP/OUT': a volume name is lowercase letters, digits and '-' (at most 63)"),
    "volume subPath": ("template", "{script: {volumeMounts: [{name: data, mountPath: /data, subPath: 'UP/OUT'}]}}",
                       "Error", "volume mount 'data': subPath 'UP/OUT' must be a relative path without '..'"),
}


@pytest.mark.parametrize("case", list(ESCAPES))
def test_escape_hatch_paths_stay_in_the_run_folder(project: Path, capsys, case: str):
    outside = project / "OUT"
    # '..' enough to reach / from any folder of the run, then the absolute path of project/OUT
    where, argo, phase, message = (x.replace("UP/", "../" * 16).replace("OUT", str(outside).lstrip("/"))
                                   if isinstance(x, str) else x for x in ESCAPES[case])
    spec = write(project, "esc.yaml", "name: esc\ntasks:\n  a:\n    function: steps:say\n    args: {msg: hi}\n"
                 f"    argo:\n      {where}: {argo}\n")
    compiled(spec)
    code, out, _ = cli(capsys, "run", str(spec), "--json", "--keep", "--workdir", str(project / "run"))
    a = json.loads(out)["tasks"]["a"]
    assert a["phase"] == phase and code == (0 if phase == "Succeeded" else 1)
    if message:
        assert a["message"] == message
    assert not outside.exists()  # where each path would land on the host, with '..' enough to reach /
    assert sorted(p.name for p in project.iterdir()) == ["esc.yaml", "run", "steps.py"]
    if case == "input artifact":
        assert (project / "run" / "a" / str(outside).lstrip("/") / "in.txt").read_text() == "evil"
    if case == "output path":
        assert json.loads((project / "run" / "a" / "outputs.json").read_text())["parameters"]["host"] == "not-written"


def test_a_task_name_or_workflow_name_with_dots_and_slashes(project: Path, capsys, monkeypatch):
    monkeypatch.chdir(project)
    spec = write(project, "esc.yaml", "name: esc\ntasks:\n  a:\n    function: steps:say\n    args: {msg: hi}\n"
                 "    argo: {task: {name: '../../../OUT'}}\n")
    for verb in ("validate", "run"):
        code, _, err = cli(capsys, verb, str(spec))
        assert code == 1 and "esc.yaml:6:25: error: '../../../OUT' is not a task name Argo accepts" in err
    # a manifest given to the runner directly: refused before anything runs
    from heraspec.errors import HeraspecError
    from heraspec.local.runner import run_workflow

    manifest = compiled(write(project, "ok.yaml", "name: ok\ntasks:\n  a: {function: steps:say, args: {msg: hi}}\n"))
    manifest["spec"]["templates"][0]["dag"]["tasks"][0]["name"] = "../../../OUT"
    with pytest.raises(HeraspecError, match="template 'main': '../../../OUT' is not a valid Argo task name: "
                       "letters, digits and '-', starting with a letter or digit, at most 128 characters"):
        run_workflow(manifest, workdir=project / "run")
    assert not (project / "OUT").exists()
    # metadata.name through the escape hatch: validate refuses it; a manifest given to the runner
    # directly still gets its default run folder under .heraspec/runs
    spec = write(project, "meta.yaml", "name: esc\ntasks:\n  a: {function: steps:say, args: {msg: hi}}\n"
                 "argo: {metadata: {name: '../../../OUT/x'}}\n")
    code, _, err = cli(capsys, "run", str(spec), "--json")
    assert code == 1 and "meta.yaml:4:25: error: name '../../../OUT/x' is not a valid Kubernetes name" in err
    manifest = compiled(project / "ok.yaml")
    manifest["metadata"]["name"] = "../../../OUT/x"
    run_dir = run_workflow(manifest).run_dir
    assert run_dir.parent == project / ".heraspec" / "runs" and run_dir.name.startswith("OUT-x-")
    assert sorted(p.name for p in project.iterdir()) == [".heraspec", "esc.yaml", "meta.yaml", "ok.yaml", "steps.py"]


# --- one --workdir, one run ----------------------------------------------------------------------


def test_two_runs_cannot_take_the_same_workdir(project: Path):
    from heraspec.errors import UsageError
    from heraspec.local.runner import _run_folder

    claimed = _run_folder(project / "claimed", "x")  # the claim does not wait for the first file
    with pytest.raises(UsageError, match="another heraspec run is using it"):
        _run_folder(claimed, "x")
    (project / "slow.py").write_text("import time\n\ndef nap(who: str) -> str:\n    time.sleep(1)\n    return who\n")
    (project / "same").mkdir()
    for who in ("one", "two"):
        write(project, f"{who}.yaml", f"name: {who}\ntasks:\n  a: {{function: slow:nap, args: {{who: {who}}}}}\n")
    procs = [subprocess.Popen([sys.executable, "-m", "heraspec", "run", f"{who}.yaml", "--json", "--workdir", "same"],
                              cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) for who in ("one", "two")]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close(), p.stderr.close()
    assert sorted(code for code, _, _ in results) == [0, 2]
    (won, out, _), (_, _, err) = sorted(results)
    assert "already exists and is not empty, or another heraspec run is using it: choose another --workdir" in err
    summary = json.loads((project / "same" / "summary.json").read_text())
    assert summary["tasks"]["a"]["result"] == json.loads(out)["tasks"]["a"]["result"]
    assert not (project / "same" / ".heraspec-run").exists()


# --- what tasks print and return is shown, never obeyed ---------------------------------------------

EVIL = "\x1b]52;c;cHduZWQ=\x07\x1b[1A\x1b[2K\x9b31m\u202e"  # clipboard write, cursor up + erase, 8-bit CSI, bidi


def test_task_results_messages_and_stderr_never_reach_the_terminal_raw(project: Path, capsys):
    # the control characters come from the functions: Argo cannot take them in literal arguments
    # (validate refuses them), and a fan-out over them fails as Argo's substitution does
    (project / "evil.py").write_text(
        "import sys\n\n\ndef evil(x: str) -> str:\n"
        "    return x.replace('ESC', chr(27)).replace('BEL', chr(7)).replace('CSI', chr(0x9b))\n\n\n"
        "def give(x: str) -> str:\n    return evil(x)\n\n\n"
        "def titles() -> list:\n    return [evil('ESC]0;titleBEL')]\n\n\n"
        "def fail(x: str) -> str:\n    print(evil(x), file=sys.stderr)\n    raise SystemExit(evil(x))\n")
    spec = write(project, "evil.yaml", "name: evil\ntasks:\n"
                 "  give: {function: evil:give, args: {x: \"ESC]52;c;cHduZWQ=BELESC[1AESC[2KCSI31m\\u202e\"}}\n"
                 "  fail: {function: evil:fail, args: {x: \"ESC]52;c;cHduZWQ=BELESC[1AESC[2KCSI31m\\u202e\"}}\n"
                 "  titles: {function: evil:titles}\n"
                 "  fan: {function: evil:give, args: {x: {item: true}}, foreach: {from: titles}}\n")
    compiled(spec)
    code, out, err = cli(capsys, "run", str(spec), "--workdir", str(project / "run"))
    assert code == 1
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", err), err  # not a single raw control character
    shown = "\\x1b]52;c;cHduZWQ=\\x07\\x1b[1A\\x1b[2K\\x9b31m\\u202e"
    assert f"  | {shown}" in err  # the failing task's stderr tail
    assert err.count(shown) >= 3  # ... and its message, and the result column of 'give'
    assert "fan(0:\\u001b]0;title\\u0007)" in err  # generateNodeName: Item.String() keeps JSON escapes
    code, out, err = cli(capsys, "run", str(spec), "--json", "--workdir", str(project / "run2"))
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202e]", out.replace("\n", "")) and json.loads(out)["tasks"]["give"]["result"] == EVIL


def test_deeply_nested_json_from_a_task_is_kept_as_text(project: Path, capsys):
    # stdout and results are decoded as JSON where they parse: 5,000 levels would recurse past
    # Python's limit (json.loads, Go-style re-encoding, summary.json); deeper than 200 stays text
    (project / "deep.py").write_text(
        "def deep(i: int) -> list:\n    print('[' * 5000 + ']' * 5000)\n    x = []\n"
        "    for _ in range(300):\n        x = [x]\n    return x\n")
    spec = write(project, "deep.yaml", "name: deep\ntasks:\n"
                 "  fan: {function: deep:deep, args: {i: {item: true}}, foreach: [1, 2]}\n"
                 "  one: {function: deep:deep, args: {i: 3}}\n"
                 "  after: {function: steps:say, args: {msg: {from: one}}}\n")
    compiled(spec)
    code, out, _ = cli(capsys, "run", str(spec), "--json", "--quiet", "--workdir", str(project / "run"))
    tasks = json.loads(out)["tasks"]
    assert code == 0, tasks
    nested = "[" * 301 + "]" * 301
    assert tasks["one"]["result"] == nested and tasks["after"]["result"] == nested
    assert tasks["fan"]["result"] == [nested, nested]


def test_a_billion_item_with_sequence_ends_the_task_in_error(project: Path):
    import resource

    def one_gib() -> None:  # a guard: building the list would take tens of gigabytes
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    spec = write(project, "sq.yaml", "name: sq\ntasks:\n  a:\n    function: steps:say\n    args: {msg: x}\n"
                 "    argo: {task: {withSequence: {count: '1000000000'}}}\n")
    compiled(spec)
    proc = subprocess.run([sys.executable, "-m", "heraspec", "run", "sq.yaml", "--json", "--workdir", "run"],
                          cwd=project, timeout=120, capture_output=True, text=True, preexec_fn=one_gib,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    a = json.loads(proc.stdout)["tasks"]["a"]
    assert proc.returncode == 1 and a["phase"] == "Error"
    assert a["message"] == "withSequence gives 1,000,000,000 items; heraspec run fans out at most 100,000 (each item is a process)"
