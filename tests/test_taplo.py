"""The schema works with Taplo, the TOML toolkit behind Even Better TOML: `taplo lint` accepts the
examples and flags what the schema forbids, through `--schema`, the `#:schema` directive, or the
`.taplo.toml` that `heraspec init` writes.

Taplo's language server does not start here (its npm package ships only the CLI), so the editor side
is covered by yaml-language-server in test_lsp.py; both read the same schema keywords.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp import REPO, SCHEMA, TAPLO, require

pytestmark = pytest.mark.slow  # the real Taplo language server, started per test

EXAMPLES = sorted((REPO / "examples").glob("*.toml"))
BAD = 'name = "demo"\n\n[tasks.A]\nfucntion = "steps:say"\n'


def taplo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(require(TAPLO) + ["lint", "--colors", "never", *args], cwd=cwd,
                          check=False, capture_output=True, text=True, timeout=120)


def test_there_are_toml_examples():
    assert EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_pass_with_the_schema(example, tmp_path):
    proc = taplo("--no-auto-config", "--schema", SCHEMA.as_uri(), str(example), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_pass_through_their_schema_directive(example, tmp_path):
    assert example.read_text().startswith("#:schema ")
    proc = taplo("--no-auto-config", str(example), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_bad_key_is_flagged_with_its_position(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(BAD)
    proc = taplo("--no-auto-config", "--schema", SCHEMA.as_uri(), str(spec), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "'fucntion' was unexpected" in out
    assert "bad.toml:4:1" in out


def test_a_bad_value_is_flagged(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text('kind = "Pipeline"\n\n[tasks.A]\nfunction = "steps:say"\n')
    proc = taplo("--no-auto-config", "--schema", SCHEMA.as_uri(), str(spec), cwd=tmp_path)
    assert proc.returncode != 0
    assert "Pipeline" in proc.stdout + proc.stderr


def test_the_schema_directive_alone_is_enough(tmp_path):
    spec = tmp_path / "pipeline.toml"
    spec.write_text(f"#:schema {SCHEMA.as_uri()}\n" + BAD)
    proc = taplo("--no-auto-config", str(spec), cwd=tmp_path)
    assert proc.returncode != 0 and "'fucntion' was unexpected" in proc.stdout + proc.stderr


def test_init_toml_passes_and_its_taplo_rule_covers_other_specs(tmp_path):
    require(TAPLO)
    init = subprocess.run([sys.executable, "-m", "heraspec", "init", str(tmp_path), "--toml"],
                          check=False, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    proc = taplo("heraspec.toml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # no directive in these: only the rule in .taplo.toml associates the schema
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "nightly.heraspec.toml").write_text(BAD)
    (tmp_path / "other.toml").write_text('fucntion = "not a spec"\n')
    proc = taplo("etl/nightly.heraspec.toml", cwd=tmp_path)
    assert proc.returncode != 0 and "'fucntion' was unexpected" in proc.stdout + proc.stderr
    proc = taplo("other.toml", cwd=tmp_path)  # not a spec: the rule leaves it alone
    assert proc.returncode == 0, proc.stdout + proc.stderr
