"""`heraspec` as a user runs it: a real subprocess of this checkout, in a folder of the test's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def heraspec(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """`heraspec ARGS` in a subprocess of this checkout (text output captured); a hang ends the test."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "heraspec", *args], capture_output=True, text=True, cwd=cwd, env=full,
                          timeout=timeout)


def in_process(capsys, *argv: str) -> tuple[int, str, str]:
    """`heraspec ARGV` in this process: (exit code, stdout, stderr); never a traceback or an internal error."""
    from heraspec.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err
