"""What a new user reads: every verb's --help, and `compile -o DIR` with a YAML and a TOML spec of
the same name. Real subprocesses of the installed CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec

ROOT = Path(__file__).resolve().parents[1]
VERBS = ["validate", "compile", "run", "apply", "diff", "graph", "init", "schema"]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_says_what_it_does_and_ends_with_examples(verb: str):
    proc = heraspec(verb, "--help")
    assert proc.returncode == 0 and proc.stderr == ""
    text = proc.stdout
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: heraspec {verb}")
    assert len(description.split()) >= 8  # a sentence, not a bare usage line
    examples = text.rstrip("\n").split("\nexamples:\n")[1].splitlines()
    assert 1 <= len(examples) <= 3 and all(e.startswith("  heraspec ") or e.startswith("  ARGO_SERVER=")
                                           or e.startswith("  #") for e in examples), examples
    flat = " ".join(text.split())
    if verb in ("validate", "compile", "apply", "diff"):
        assert "FILE heraspec spec files, YAML (.yaml/.yml) or TOML (.toml)" in flat
    if verb in ("run", "graph"):
        assert "SPEC a heraspec spec file, YAML (.yaml/.yml) or TOML (.toml)" in flat


@pytest.mark.parametrize("verb", VERBS + ["lock", "cache", "lsp"])
def test_every_verb_lists_debug_the_option_an_internal_error_asks_for(verb: str):
    """cli/boundary.py's internal-error line says "rerun with --debug": every verb's --help lists it."""
    proc = heraspec(verb, "--help")
    assert proc.returncode == 0
    assert "--debug show the Python trace of internal errors" in " ".join(proc.stdout.split())


def test_defaults_are_shown():
    assert "output format (default: yaml)" in heraspec("compile", "--help").stdout
    assert "(default: mermaid)" in heraspec("graph", "--help").stdout
    run = " ".join(heraspec("run", "--help").stdout.split())
    assert f"(default: the CPU count, {os.cpu_count()} here)" in run
    assert "(default: .heraspec/runs/NAME-TIME beside the spec)" in run
    init = " ".join(heraspec("init", "--help").stdout.split())
    assert "(default: the current folder)" in init and "Never overwrites" in init
    apply = " ".join(heraspec("apply", "--help").stdout.split())
    assert "send nothing (no server needed)" in apply


def test_the_example_commands_of_the_help_work(tmp_path: Path):
    """The first example of each local verb runs as printed, from the repository's root."""
    for verb in ("validate", "compile", "run", "graph"):
        first = heraspec(verb, "--help").stdout.split("\nexamples:\n")[1].splitlines()[0]
        argv = first.split("#")[0].split()[1:]
        proc = heraspec(*argv, cwd=ROOT, env={"HOME": str(tmp_path)}) if verb != "run" else \
            heraspec(*argv, "--workdir", str(tmp_path / "run"), cwd=ROOT)
        assert proc.returncode == 0, (first, proc.stderr)


@pytest.mark.parametrize("fmt, ext", [("yaml", ".yaml"), ("json", ".json")])
def test_compile_a_yaml_and_a_toml_spec_of_the_same_name_into_one_folder(tmp_path: Path, fmt: str, ext: str):
    specs = [str(ROOT / "examples" / "diamond.yaml"), str(ROOT / "examples" / "diamond.toml")]
    out = tmp_path / "out"
    proc = heraspec("compile", *specs, "-o", str(out), "--format", fmt)
    assert proc.returncode == 2
    assert "two specs would write the same output file" in proc.stderr
    assert f"add --keep-ext to name each output after the whole file name (diamond.yaml -> diamond.yaml{ext})" \
        in proc.stderr
    proc = heraspec("compile", *specs, "-o", str(out), "--format", fmt, "--keep-ext")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"diamond.toml{ext}", f"diamond.yaml{ext}"]
    docs = [yaml.safe_load((out / f"diamond.{s}{ext}").read_text()) for s in ("yaml", "toml")]
    assert docs[0] == docs[1]  # the two forms compile to the same manifest
    assert_argo_valid(docs[0])


def test_keep_ext_cannot_separate_two_files_of_the_same_name(tmp_path: Path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "flow.yaml").write_text((ROOT / "examples" / "diamond.yaml").read_text())
        (tmp_path / d / "steps.py").write_text((ROOT / "examples" / "steps.py").read_text())
    proc = heraspec("compile", "a/flow.yaml", "b/flow.yaml", "-o", "out", "--keep-ext", cwd=tmp_path)
    assert proc.returncode == 2
    assert "(a/flow.yaml, b/flow.yaml): compile them into separate directories" in proc.stderr
