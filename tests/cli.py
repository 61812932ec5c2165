"""`heraspec` as a user runs it: a real subprocess of this checkout, in a folder of the test's; the
same in this process; and `apply` / `diff` called with the attributes the CLI's parser produces."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]

# retries and polling of the Argo Server client, fast enough for a test to end
FAST = {"retry_delay": 0.001, "poll_interval": 0.001}


def heraspec(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """`heraspec ARGS` in a subprocess of this checkout (text output captured); a hang ends the test.
    No ARGO_* variable of the developer's shell reaches it (`env` may set them)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ARGO_")}
    full = {**inherited, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "heraspec", *args], capture_output=True, text=True, cwd=cwd, env=full,
                          timeout=timeout)


def in_process(capsys, *argv: str, check: bool = True) -> tuple[int, str, str]:
    """`heraspec ARGV` in this process: (exit code, stdout, stderr); argparse's exits give their code.
    With `check`, never a traceback or an internal error."""
    from heraspec.cli import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    if check:
        assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def error_lines(err: str) -> list[str]:
    """The `FILE:LINE:COL: error: ...` lines of what heraspec printed (hints and the count dropped)."""
    return [line for line in err.splitlines() if ": error: " in line]


def errors_of(err: str) -> list[str]:
    """The error lines without the file name: `LINE:COL: error: ...`."""
    return [re.sub(r"^.*?:(\d+:\d+: )", r"\1", line) for line in error_lines(err)]


def connection(srv: Any, **kw: Any) -> dict[str, Any]:
    """The keyword options of `heraspec.argo.applier.apply` / `diff` for the test server `srv` (plain
    HTTP, its token, FAST retries); `kw` adds or overrides."""
    from tests.argo_server import TOKEN

    return {"server": srv.server, "secure": False, "token": TOKEN, **FAST, **kw}


def server_verb(fn: Callable[..., int], manifests: list[dict], srv: Any, **attrs: Any) -> tuple[int, str, str]:
    """`fn` (heraspec.cli.argo_server.apply_manifests or diff_manifests) on compiled manifests, with the
    attributes the parser produces for `--server SRV --plaintext --token TOKEN` (127.0.0.1:9, where
    nothing listens, when `srv` is None) and FAST retries; `attrs` override them. (exit code, stdout, stderr)."""
    from tests.argo_server import TOKEN

    args = argparse.Namespace(server=srv.server if srv else "127.0.0.1:9", plaintext=True, token=TOKEN, token_file=None,
                              namespace=None, insecure_skip_verify=None, ca_cert=None, base_href=None, verbose=False,
                              dry_run=None, wait=False, logs=False, replace=False, parameters=[], **FAST)
    for k, v in attrs.items():
        setattr(args, k, v)
    out, err = io.StringIO(), io.StringIO()
    code = fn(manifests, args, out, err)
    return code, out.getvalue(), err.getvalue()
