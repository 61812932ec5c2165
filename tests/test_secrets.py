"""Secrets and trust: the token never shows, TLS is verified, values cannot reach Python, and the
local runner keeps to its run folder.

tests/test_apply.py has the first checks (a 401 that echoes the header, reprs, a CA bundle, the
insecure warning through the library); this file goes through the real CLI for every verb and
token source, and adds the sandbox and run-folder guarantees.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

import heraspec.argo.writes
from tests.argo_server import TOKEN as GOOD, ArgoTestServer
from tests.cli import in_process

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BAD = "stolen-token-0f9a8b7c6d"  # what the user sent: the server echoes it back in its 401


pytestmark = pytest.mark.usefixtures("no_argo_env")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token_args(source: str, token: str, tmp_path: Path, monkeypatch) -> list[str]:
    if source == "env":
        monkeypatch.setenv("ARGO_TOKEN", token)
        return []
    if source == "flag":
        return ["--token", token]
    path = tmp_path / "token"
    path.write_text(f"Bearer {token}\n")
    return ["--token-file", str(path)]


def run_cli(capsys, argv: list[str]) -> tuple[int, str]:
    """The exit code and all the CLI printed (internal errors included: they must not show the token)."""
    code, out, err = in_process(capsys, *argv, check=False)
    return code, out + err


VERBS = {
    "apply": ["apply"],
    "apply-dry-client": ["apply", "--dry-run=client"],
    "apply-dry-server": ["apply", "--dry-run=server"],
    "apply-wait": ["apply", "--wait"],
    "apply-logs": ["apply", "--logs"],
    "diff": ["diff"],
}
SPECS = [str(EXAMPLES / "diamond.yaml"), str(EXAMPLES / "ml-pipeline.yaml")]


@pytest.mark.parametrize("source", ["env", "flag", "file"])
@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("accepted", [True, False], ids=["good-token", "bad-token-401"])
def test_the_token_never_appears_in_any_output(argo, capsys, tmp_path, monkeypatch, source, verb, accepted):
    token = GOOD if accepted else BAD
    argv = VERBS[verb] + SPECS + ["--server", argo.server, "--plaintext", "--verbose", "--debug"]
    code, text = run_cli(capsys, argv + token_args(source, token, tmp_path, monkeypatch))
    assert token not in text
    if verb == "apply-dry-client":
        assert code == 0 and argo.state.requests == []
    elif accepted:
        assert code == 0, text
        assert "argo: " in text  # --verbose logged the requests
    else:
        assert code == 1 and "token not valid" in text and "***" in text  # the echo was scrubbed


@pytest.mark.parametrize("source", ["env", "flag", "file"])
@pytest.mark.parametrize("verb", ["apply", "diff", "apply-wait"])
def test_the_token_never_appears_when_the_server_is_unreachable(capsys, tmp_path, monkeypatch, source, verb):
    argv = VERBS[verb] + SPECS + ["--server", f"127.0.0.1:{closed_port()}", "--plaintext", "--verbose", "--debug"]
    code, text = run_cli(capsys, argv + token_args(source, BAD, tmp_path, monkeypatch))
    assert code == 1 and "cannot reach the Argo server" in text and BAD not in text


def test_the_token_never_appears_in_an_internal_error(argo, capsys, monkeypatch):
    def boom(session, items, **kw):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(heraspec.argo.writes, "submit", boom)
    code, text = run_cli(capsys, ["apply", SPECS[0], "--server", argo.server, "--plaintext", "--token", GOOD])
    assert code == 3 and GOOD not in text
    code, text = run_cli(capsys, ["apply", SPECS[0], "--server", argo.server, "--plaintext", "--token", GOOD, "--debug"])
    assert code == 3 and "RuntimeError: unexpected" in text and GOOD not in text


def test_a_token_that_cannot_be_a_header_is_refused_without_echo(capsys, tmp_path):
    path = tmp_path / "token"
    path.write_text("Bearer abc\ndef-secret-part\n")
    code, text = run_cli(capsys, ["apply", SPECS[0], "--server", "127.0.0.1:9", "--token-file", str(path)])
    assert code == 2 and "the Argo token contains characters that cannot be sent in an HTTP header" in text
    assert "def-secret-part" not in text and "abc" not in text


# --- TLS ----------------------------------------------------------------------------------------------


@pytest.fixture
def tls_argo(self_signed):
    with ArgoTestServer(token=GOOD, echo_auth=True, tls=self_signed) as srv:
        yield srv


@pytest.mark.parametrize("verb", ["apply", "diff"])
def test_tls_is_verified_by_default_through_the_cli(tls_argo, capsys, verb):
    code, text = run_cli(capsys, [verb, SPECS[0], "--server", tls_argo.server, "--token", GOOD, "--verbose"])
    assert code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text
    assert "pass --ca-cert or set ARGO_INSECURE_SKIP_VERIFY=true" in text
    assert GOOD not in text and tls_argo.state.requests == []


def test_ca_cert_and_insecure_skip_verify_through_the_cli(tls_argo, self_signed, capsys):
    cert, _ = self_signed
    base = SPECS + ["--server", tls_argo.server, "--token", GOOD]
    code, text = run_cli(capsys, ["apply", *base, "--ca-cert", cert])
    assert code == 0 and "verification is disabled" not in text and GOOD not in text
    code, text = run_cli(capsys, ["diff", *base, "--insecure-skip-verify"])
    assert code == 0 and text.count("warning: TLS certificate verification is disabled") == 1 and GOOD not in text
    code, text = run_cli(capsys, ["apply", *base, "--ca-cert", str(Path(cert).with_name("missing.pem"))])
    assert code == 2 and "is not a readable file" in text


# --- values: the sandbox ------------------------------------------------------------------------------


@pytest.mark.parametrize("expr, message", [
    ("''.__class__.__mro__[1].__subclasses__()", "access to attribute '__class__' of 'str' object is unsafe"),
    ("cycler.__init__.__globals__.os.system('touch MARKER')", "access to attribute '__init__' of 'type' object"),
    ("joiner.__init__.__globals__", "access to attribute '__init__' of 'type' object is unsafe"),
    ("namespace.__init__.__globals__", "access to attribute '__init__' of 'type' object is unsafe"),
    ("self.__init__.__globals__", "access to attribute '__init__' of 'TemplateReference' object is unsafe"),
    ("self._TemplateReference__context", "access to attribute '_TemplateReference__context'"),
    ("range.__globals__", "access to attribute '__globals__' of 'function' object is unsafe"),
    ("x|attr('__class__')", "access to attribute '__class__' of 'int' object is unsafe"),
    ("'{0.__class__.__mro__}'.format(x)", "access to attribute '__class__' of 'int' object is unsafe"),
    ("'%s' % x.__class__", "access to attribute '__class__' of 'int' object is unsafe"),
    ("dict.mro()", "access to attribute 'mro' of 'type' object is unsafe"),
    ("'a'.__len__()", "access to attribute '__len__' of 'str' object is unsafe"),
    ("y.update({'a': 1})", "access to attribute 'update' of 'dict' object is unsafe"),
    ("lipsum(n=100000)", "undefined value 'lipsum'"),
    ("range(10**9)|list", "Range too big"),
    ("'a'|center(10**9)", "the filter center would make a result of about 1,000,000,000 items"),
    ("'%999999999d' % 1", "a format width over 100,000 is too large"),
    ("'{:>999999999}'.format(1)", "a format width over 100,000 is too large"),
    ("[1, 2]|slice(10**9)|list", "the filter slice would make a result of about 1,000,000,000 items"),
    ("'ab'|replace('', 'x' * 999999)", "placeholder gives 2,999,999 characters (limit 1,000,000)"),
])
def test_sandbox_escapes_and_exhaustion_are_located_errors_and_run_nothing(tmp_path, capsys, expr, message):
    (tmp_path / "steps.py").write_text("def say(msg: str) -> str:\n    return msg\n")
    marker = tmp_path / "MARKER"
    spec = tmp_path / "s.yaml"
    spec.write_text("name: x\ntasks:\n  A:\n    function: steps:say\n"
                    f"    args: {{msg: \"[[ {expr.replace('MARKER', str(marker))} ]]\"}}\n")
    code, text = run_cli(capsys, ["run", str(spec), "--set", "x=1", "--set", "y.k=1", "--workdir", str(tmp_path / "run")])
    assert code == 1, text
    assert f"{spec}:5:" in text and message in text, text
    assert "Traceback" not in text
    assert not marker.exists() and not (tmp_path / "run").exists()


def test_loops_are_bounded(tmp_path, capsys):
    (tmp_path / "steps.py").write_text("def say(msg: str) -> str:\n    return msg\n")
    spec = tmp_path / "s.yaml"
    spec.write_text('name: x\ntasks:\n  A: {function: steps:say, args: {msg: "[% for a in range(99999) %]'
                    '[% for b in range(99999) %][% endfor %][% endfor %]"}}\n')
    code, text = run_cli(capsys, ["validate", str(spec), "--set", "x=1"])
    assert code == 1 and f"{spec}:3:" in text
    assert "unsafe placeholder: the placeholder runs more than 1,000,000 steps" in text
    spec.write_text('name: x\ntasks:\n  A: {function: steps:say, args: {msg: "[% for a in range(3) %][[ a ]][% endfor %]"}}\n')
    assert run_cli(capsys, ["validate", str(spec), "--set", "x=1"])[0] == 0


# --- the local runner keeps to its run folder ----------------------------------------------------------


def snapshot(*roots: Path, skip: Path | None = None) -> dict[str, tuple]:
    out = {}
    for root in roots:
        for dirpath, dirnames, files in os.walk(root):
            if skip is not None and Path(dirpath).resolve().is_relative_to(skip.resolve()):
                dirnames[:] = []
                continue
            for name in files + dirnames:
                p = Path(dirpath, name)
                if skip is not None and p.resolve() == skip.resolve():
                    continue
                st = p.lstat()
                out[str(p)] = (st.st_size, st.st_mtime_ns, p.is_dir())
    return out


@pytest.mark.parametrize("spec_name", ["diamond.yaml", "ml-pipeline.yaml", "volume.yaml", "writes.yaml"])
def test_the_runner_writes_nothing_outside_the_run_folder(tmp_path, capsys, monkeypatch, spec_name):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    # the examples as shipped: not the runs a `heraspec run examples/...` (as .ci/run does first) kept beside them
    shutil.copytree(EXAMPLES, cwd, ignore=shutil.ignore_patterns(".heraspec"))
    (cwd / "writers.py").write_text(
        "def write(name: str) -> str:\n"
        "    import os\n"
        "    with open(name, 'w') as f:\n"  # relative: lands in the task's own folder
        "        f.write('x')\n"
        "    os.makedirs('sub/dir', exist_ok=True)\n"
        "    open(os.path.join(os.environ['TMPDIR'], 'scratch'), 'w').close()\n"
        "    return os.getcwd()\n")
    (cwd / "writes.yaml").write_text("name: writes\ntasks:\n  A: {function: writers:write, args: {name: out.txt}}\n"
                                     "  B: {function: writers:write, args: {name: ../escape.txt}}\n")
    monkeypatch.setenv("HOME", str(home))
    # the one documented exception: heraspec's cache folder (Python environments, uv's cache, module
    # summaries), here outside home and cwd
    monkeypatch.setenv("HERASPEC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(cwd)
    before = snapshot(home, cwd)
    code, text = run_cli(capsys, ["run", spec_name, "--keep"])
    assert code == 0, text
    runs = cwd / ".heraspec" / "runs"
    (run_dir,) = runs.iterdir()
    after = snapshot(home, cwd, skip=cwd / ".heraspec")
    assert after == before, sorted(set(after) ^ set(before))
    # environments, uv's own cache when uv built them, the summaries of the modules validate parsed
    assert {p.name for p in (tmp_path / "cache").iterdir()} <= {"envs", "uv", "modules"}
    if spec_name == "writes.yaml":  # relative paths land in the task's folder, even '..' stays inside the run
        assert (run_dir / "A" / "out.txt").read_text() == "x"
        assert (run_dir / "escape.txt").read_text() == "x"
