"""One error boundary for every verb (heraspec/cli/boundary.py): exit 0 ok, 1 invalid input / failed run or
apply, 2 usage error, 3 internal error as one line (`--debug` for the trace); an invalid spec gives
the validator's messages for every verb that reads specs, and `apply`/`diff` then send nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import heraspec.argo.applier
import heraspec.graph
import heraspec.pipeline
import heraspec.local.runner
import heraspec.scaffold
import heraspec.document.schema
from heraspec.cli.exits import REPORT_URL
from tests.argo_server import TOKEN
from tests.cli import in_process

ROOT = Path(__file__).resolve().parents[1]
DIAMOND = str(ROOT / "examples" / "diamond.yaml")
INTERNAL = (f"heraspec: internal error (RuntimeError); please report it at {REPORT_URL} with the command you ran "
            "(rerun with --debug to see the trace)\n")
SECRET_DETAIL = "detail-that-may-hold-data-4711"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    return in_process(capsys, *argv, check=False)  # internal errors are what these tests provoke


def _boom(*_a, **_k):
    raise RuntimeError(SECRET_DETAIL)


# every verb, with the stage function its command calls (looked up at call time, so patchable)
VERBS = {
    "validate": ((heraspec.pipeline, "check_files"), ["validate", DIAMOND]),
    "compile": ((heraspec.pipeline, "build"), ["compile", DIAMOND]),
    "run": ((heraspec.local.runner, "run_workflow"), ["run", DIAMOND]),
    "apply": ((heraspec.argo.applier, "apply"), ["apply", DIAMOND, "--server", "127.0.0.1:9"]),
    "diff": ((heraspec.argo.applier, "diff"), ["diff", DIAMOND, "--server", "127.0.0.1:9"]),
    "graph": ((heraspec.graph, "draw"), ["graph", DIAMOND]),
    "init": ((heraspec.scaffold, "write"), ["init", "never-written"]),
    "schema": ((heraspec.document.schema, "schema_text"), ["schema"]),
}


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_an_internal_error_is_one_line_and_exit_3(verb: str, capsys, monkeypatch):
    (module, attr), argv = VERBS[verb]
    monkeypatch.setattr(module, attr, _boom)
    code, out, err = cli(capsys, *argv)
    assert (code, out, err) == (3, "", INTERNAL)
    assert SECRET_DETAIL not in err  # the exception text may carry data: only with --debug


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_debug_shows_the_trace(verb: str, capsys, monkeypatch):
    (module, attr), argv = VERBS[verb]
    monkeypatch.setattr(module, attr, _boom)
    code, _, err = cli(capsys, *argv[:1], "--debug", *argv[1:])
    assert code == 3
    assert err.startswith("Traceback (most recent call last):\n")
    assert f"RuntimeError: {SECRET_DETAIL}\n" in err and err.endswith(INTERNAL)


def test_an_internal_error_in_a_real_process_prints_no_traceback():
    code = ("import sys, heraspec.pipeline as p\n"
            "def boom(*a, **k): raise RuntimeError('x')\n"
            "p.build = boom\n"
            "from heraspec.cli import main\n"
            f"sys.exit(main(['compile', {DIAMOND!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == INTERNAL.replace("\n", "") + "\n"


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch):
    def interrupt(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(heraspec.local.runner, "run_workflow", interrupt)
    assert cli(capsys, "run", DIAMOND) == (130, "", "heraspec: interrupted\n")


# --- usage errors: exit 2 ------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    ([], None),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
    (["validate"], "the following arguments are required: FILE"),
    (["validate", "--bogus", DIAMOND], "unrecognized arguments: --bogus"),
    (["compile", DIAMOND, "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["run", DIAMOND, "-p", "novalue"], "-p must look like NAME=VALUE, got 'novalue'"),
    (["run", DIAMOND, "-p", "=x"], "-p must look like NAME=VALUE, got '=x'"),
    (["run", DIAMOND, "--parallelism", "0"], "--parallelism must be at least 1"),
    (["run", DIAMOND, "--parallelism", "-3"], "--parallelism must be at least 1"),
    (["run", DIAMOND, "--parallelism", "many"], "argument --parallelism: invalid int value: 'many'"),
    (["apply", DIAMOND, "-p", "novalue", "--server", "127.0.0.1:9"], "-p must look like NAME=VALUE, got 'novalue'"),
    (["apply", DIAMOND, "--dry-run=maybe"], "argument --dry-run: invalid choice: 'maybe'"),
    (["validate", DIAMOND, "--set", "novalue"], "--set must look like KEY=VALUE or A.B.KEY=VALUE, got 'novalue'"),
    (["graph", DIAMOND, "--format", "png"], "--format png writes binary data: give a file with -o FILE"),
    (["apply", DIAMOND], "no Argo server given: set ARGO_SERVER=host:port or pass --server"),
    (["diff", DIAMOND], "no Argo server given: set ARGO_SERVER=host:port or pass --server"),
])
def test_usage_errors_exit_2(argv: list[str], message: str | None, capsys, monkeypatch):
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    code, out, err = in_process(capsys, *argv)  # argparse's own errors exit through SystemExit
    assert code == 2, err
    if message:
        assert f"heraspec: error: {message}" in err, err


def test_usage_error_for_a_parameter_sends_nothing(argo, capsys):
    code, _, err = cli(capsys, "apply", DIAMOND, "--server", argo.server, "--plaintext", "--token", TOKEN,
                       "-p", "nope=1")
    assert code == 2 and "heraspec: error: -p nope: no Workflow in this batch declares this parameter" in err
    assert argo.state.requests == []


# --- invalid specs: exit 1 with the validator's messages, and nothing sent -----------------------------


@pytest.fixture
def bad_spec(tmp_path: Path) -> Path:
    (tmp_path / "steps.py").write_text("def say(msg: str) -> str:\n    return msg\n")
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ntasks:\n  A: {function: steps:say, args: {msg: hi}}\n  B: {function: steps:sai}\n"
                    "edges: [A >> C]\n")
    return spec


@pytest.mark.parametrize("verb", ["validate", "compile", "run", "apply", "diff", "graph"])
def test_an_invalid_spec_gives_the_validators_messages_for_every_verb(verb: str, bad_spec: Path, argo, capsys,
                                                                      tmp_path: Path):
    code, _, expected = cli(capsys, "validate", str(bad_spec))
    assert code == 1 and expected.endswith("2 errors\n")
    extra = {"apply": ["--server", argo.server, "--plaintext", "--token", TOKEN],
             "diff": ["--server", argo.server, "--plaintext", "--token", TOKEN],
             "run": ["--workdir", str(tmp_path / "run")]}.get(verb, [])
    code, out, err = cli(capsys, verb, str(bad_spec), *extra)
    assert (code, out, err) == (1, "", expected)
    assert argo.state.requests == []
    assert not (tmp_path / "run").exists()


def test_one_invalid_spec_in_a_batch_means_nothing_is_applied(bad_spec: Path, argo, capsys):
    code, out, err = cli(capsys, "apply", DIAMOND, str(ROOT / "examples" / "volume.yaml"), str(bad_spec),
                         "--server", argo.server, "--plaintext", "--token", TOKEN)
    assert code == 1 and out == "" and f"{bad_spec}:4:" in err
    assert argo.state.requests == [] and argo.state.objects == {}


def test_a_failed_apply_exits_1_and_a_successful_one_0(argo, capsys):
    args = ["--server", argo.server, "--plaintext", "--token", TOKEN]
    assert cli(capsys, "apply", DIAMOND, *args)[0] == 0
    code, out, _ = cli(capsys, "apply", DIAMOND, *args)  # a fixed-name Workflow that exists
    assert code == 1 and "failed (already exists; use --replace to delete and recreate)" in out


@pytest.mark.parametrize("argv", [
    ["compile", DIAMOND, "-o", "{missing}/out.yaml"],
    ["graph", DIAMOND, "-o", "{missing}/graph.svg"],
    ["run", DIAMOND, "--workdir", "{file}/run"],
    ["init", "{file}/project"],
], ids=["compile -o", "graph -o", "run --workdir", "init DIR"])
def test_a_path_that_cannot_be_written_is_an_error_naming_it_not_an_internal_error(argv: list[str], tmp_path: Path):
    from tests.cli import heraspec

    (tmp_path / "a-file").write_text("x")
    argv = [a.format(missing=tmp_path / "missing", file=tmp_path / "a-file") for a in argv]
    proc = heraspec(*argv, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    bad = next(a for a in argv if str(tmp_path) in a)
    assert proc.stderr.startswith("heraspec: error: "), proc.stderr
    assert str(tmp_path) in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert bad.split("/")[-2] in proc.stderr  # the path the user gave (or its missing parent)


def test_several_specs_into_an_existing_file_is_a_usage_error(tmp_path: Path):
    from tests.cli import heraspec

    (tmp_path / "out.yaml").write_text("kept\n")
    toml = str(ROOT / "examples" / "diamond.toml")
    proc = heraspec("compile", DIAMOND, toml, "-o", "out.yaml", "--keep-ext", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "-o out.yaml is a file, but 2 specs need a directory" in proc.stderr
    assert (tmp_path / "out.yaml").read_text() == "kept\n"  # nothing overwritten


def test_an_os_error_about_heraspecs_own_files_is_still_an_internal_error(capsys, monkeypatch):
    # only paths the user gave (-o, --workdir, init DIR) are the user's to fix
    def missing(*_a, **_k):
        raise FileNotFoundError(2, "No such file or directory", "/site-packages/heraspec/argo/data/x.json")

    monkeypatch.setattr(heraspec.pipeline, "build", missing)
    code, _out, err = cli(capsys, "compile", DIAMOND, "-o", "out.yaml")
    assert code == 3
    assert err == INTERNAL.replace("RuntimeError", "FileNotFoundError")


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path: Path):
    # `heraspec compile big.yaml | head -c 100`: the reader leaves early, heraspec stops quietly (exit 0)
    (tmp_path / "steps.py").write_text((ROOT / "examples" / "steps.py").read_text())
    lines = ["name: big", "tasks:"] + [f"  t{k}: {{function: steps:say, args: {{msg: t{k}}}}}" for k in range(3000)]
    (tmp_path / "big.yaml").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "stderr.txt", "wb") as err_file:  # a file, not a pipe: nothing can block on it
        proc = subprocess.Popen([sys.executable, "-m", "heraspec", "compile", "big.yaml"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=err_file)
        assert proc.stdout is not None
        head = proc.stdout.read(100)
        proc.stdout.close()
        code = proc.wait(timeout=120)
    err = (tmp_path / "stderr.txt").read_text()
    assert code == 0, err
    assert head.startswith(b"apiVersion: argoproj.io/v1alpha1")
    assert "internal error" not in err and "Traceback" not in err


# --- the process's exit (boundary.process_main) ------------------------------------------------


def _chain(folder: Path, n: int) -> str:
    """chain.yaml in `folder`, `n` tasks each after the one before (with steps.py): its tasks' lines."""
    (folder / "steps.py").write_text("def work(i: int) -> int:\n    return i\n")
    tasks = "".join(f"  t{i}: {{function: steps:work, args: {{i: {i}}}{', after: [t%d]' % (i - 1) if i else ''}}}\n"
                    for i in range(n))
    (folder / "chain.yaml").write_text("name: chain\ntasks:\n" + tasks)
    return tasks


def test_compile_and_validate_processes_end_with_everything_written(tmp_path: Path):
    """After validate and compile the process ends without tearing its heap down (boundary.process_main):
    stdout, a file written with -o and stderr's messages are complete, and the exit code is main's."""
    from tests.cli import heraspec

    tasks = _chain(tmp_path, 2000)
    piped = heraspec("compile", "chain.yaml", cwd=tmp_path)
    written = heraspec("compile", "chain.yaml", "-o", "out.yaml", cwd=tmp_path)
    assert piped.returncode == written.returncode == 0, piped.stderr + written.stderr
    assert piped.stdout == (tmp_path / "out.yaml").read_text()
    assert piped.stdout.count("\n      - name: t") == 2000 and piped.stdout.endswith("\n")
    cycle = tasks.replace("args: {i: 0}}", "args: {i: 0}, after: [t1999]}", 1)
    (tmp_path / "bad.yaml").write_text("name: bad\ntasks:\n" + cycle)
    bad = heraspec("validate", "bad.yaml", "chain.yaml", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("bad.yaml:") and "dependency cycle: t0 >> t1 >> t2" in bad.stderr
    assert bad.stderr.endswith("t1999 >> t0\n  hint: remove one of these edges\n1 error\n")


def test_the_process_still_runs_its_exit_functions_when_any_is_registered(tmp_path: Path):
    """Something registered to run at exit (logging flushing its handlers, a library's cleanup) keeps
    the interpreter's own exit: it runs, after validate's output, with the cyclic collector resumed,
    and the exit code is main's."""
    code = ("import atexit, gc, sys\natexit.register(lambda: print('exit function ran', gc.isenabled()))\n"
            "from heraspec.cli import process_main\nprocess_main(sys.argv[1:])\n")
    proc = subprocess.run([sys.executable, "-c", code, "validate", DIAMOND], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{DIAMOND}: ok\nexit function ran True\n"  # the collector as it was
    proc = subprocess.run([sys.executable, "-c", code, "validate", str(ROOT / "tests" / "fixtures" / "bad" / "cycle.yaml")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1 and proc.stdout == "exit function ran True\n" and "cycle" in proc.stderr


@pytest.mark.parametrize("verb", ["compile", "validate"])
def test_the_cyclic_collector_never_runs_in_a_compile_or_validate_process(verb: str, tmp_path: Path):
    """The collector stays paused from the verb's start to the process's end (boundary.QUICK_EXIT):
    resumed after the stages, it would scan every object they left just before the exit drops them."""
    _chain(tmp_path, 2000)
    code = ("import gc, os, sys\nfrom heraspec.cli import process_main\n"
            "gc.callbacks.append(lambda phase, info: phase == 'start' and os.write(2, b'collection\\n'))\n"
            "process_main(sys.argv[1:])\n")
    proc = subprocess.run([sys.executable, "-c", code, verb, "chain.yaml"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "chain.yaml: ok\n" if verb == "validate" else proc.stdout.count("\n      - name: t") == 2000
    assert "collection" not in proc.stderr
