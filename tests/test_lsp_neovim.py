"""A real editor: headless Neovim (Debian's package, installed by .ci/run) reads the settings
`heraspec init` wrote (.nvim.lua), starts `heraspec lsp` with its own LSP client, shows the server's
diagnostic on a spec, completes a function reference, and drops the diagnostic once the buffer is fixed.

Locally the test skips when nvim is not installed; in CI (CI set) it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LUA = Path(__file__).parent / "lsp" / "neovim.lua"


def _nvim() -> str:
    nvim = shutil.which("nvim")
    if nvim:
        return nvim
    if os.environ.get("CI"):
        pytest.fail("nvim is not installed (CI must install it: .ci/run installs Debian's neovim)")
    pytest.skip("nvim is not installed (apt-get install neovim)")


@pytest.mark.slow  # a headless Neovim and the language server: ~40 s
def test_neovim_with_the_settings_init_wrote_shows_a_diagnostic_and_completes_a_function(tmp_path):
    nvim = _nvim()
    subprocess.run([sys.executable, "-m", "heraspec", "init", str(tmp_path)], check=True, capture_output=True)
    (tmp_path / "steps.py").write_text('def square(x: int, power: int = 2) -> int:\n    """Raise x."""\n'
                                       "    return x ** power\n")
    spec = tmp_path / "flow.yaml"  # not named like a spec: the server knows it by its `tasks:`
    spec.write_text("name: demo\ntasks:\n  A: {function: steps:sqaure, args: {x: 1}}\n  B:\n    function: steps:s\n")
    out = tmp_path / "out.json"
    env = dict(os.environ, HERASPEC_SPEC=str(spec), HERASPEC_LINE="4", HERASPEC_COL="21", HERASPEC_OUT=str(out),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.run([nvim, "--headless", "--clean", "-u", "NONE", "-c", "filetype on",
                           "-c", "luafile .nvim.lua", "-c", f"luafile {LUA}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.is_file(), f"nvim wrote no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(out.read_text())
    assert result["errors"] == []
    (diag,) = [d for d in result["diagnostics"] if d["lnum"] == 2]
    assert diag["source"] == "heraspec" and diag["col"] == 16
    assert diag["message"].startswith("function 'sqaure' not found in module 'steps'")
    labels = {c["label"]: c["detail"] for c in result["completion"]}
    assert labels == {"steps:square": "square(x: int, power: int = 2) -> int"}
    assert result["cleared"] is True  # fixed in the buffer: the diagnostic went
