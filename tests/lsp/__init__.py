"""The real language servers (npm, pinned in package.json) and a small LSP client for the editor tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"
YAML_SERVER = NODE_MODULES / "yaml-language-server" / "bin" / "yaml-language-server"
TAPLO = NODE_MODULES / "@taplo" / "cli" / "dist" / "cli.js"
SCHEMA = REPO / "schemas" / "heraspec.schema.json"


def require(tool: Path) -> list[str]:
    """The command to run `tool` with node; skips (locally) or fails (CI) when it is not installed."""
    node = shutil.which("node")
    if node and tool.is_file():
        return [node, str(tool)]
    why = ("node is not on the PATH" if not node else
           f"{tool.relative_to(REPO)} is missing: run `npm ci` in tests/lsp")
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must install the language servers: .ci/run runs npm ci in tests/lsp)")
    pytest.skip(why)
