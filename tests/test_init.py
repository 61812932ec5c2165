"""`heraspec init`: a starter spec that validates, compiles and runs, editor settings, and no overwriting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from heraspec.cli import main
from heraspec.scaffold import pipeline_name, schema_uri

FILES = {"steps.py", ".vscode/settings.json", ".vscode/extensions.json", ".nvim.lua", ".taplo.toml", ".gitignore"}


def heraspec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "heraspec", *args], cwd=cwd, check=False, capture_output=True, text=True, timeout=300)


def written(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("toml", [False, True], ids=["yaml", "toml"])
def test_init_writes_a_spec_that_validates_and_compiles(tmp_path, capsys, toml):
    target = tmp_path / "My Pipeline"
    code = main(["init", str(target)] + (["--toml"] if toml else []))
    out = capsys.readouterr().out
    assert code == 0
    spec = "heraspec.toml" if toml else "heraspec.yaml"
    assert written(target) == FILES | {spec}
    for rel in FILES | {spec}:
        assert f"wrote {target / rel}" in out
    assert f"next: cd {target} && heraspec run {spec}" in out

    proc = heraspec("validate", spec, cwd=target)
    assert proc.returncode == 0, proc.stderr
    proc = heraspec("compile", spec, cwd=target)
    assert proc.returncode == 0, proc.stderr
    manifest = yaml.safe_load(proc.stdout)
    assert manifest["kind"] == "Workflow"
    assert manifest["metadata"]["generateName"] == "my-pipeline-"
    tasks = {t["name"]: t for t in manifest["spec"]["templates"][0]["dag"]["tasks"]}
    assert set(tasks) == {"numbers", "square", "total"}
    assert "withParam" in tasks["square"]


def test_init_spec_runs_locally(tmp_path):
    assert heraspec("init", cwd=tmp_path).returncode == 0
    proc = heraspec("run", "heraspec.yaml", "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["phase"] == "Succeeded"
    assert summary["tasks"]["square"]["result"] == [1, 4, 9, 16]
    assert summary["tasks"]["total"]["result"] == 30
    proc = heraspec("run", "heraspec.yaml", "-p", "count=3", "--json", "--workdir", str(tmp_path / "run3"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["tasks"]["total"]["result"] == 14


def test_the_spec_and_settings_point_at_the_installed_schema(tmp_path, capsys):
    assert main(["init", str(tmp_path / "y")]) == 0
    assert main(["init", str(tmp_path / "t"), "--toml"]) == 0
    capsys.readouterr()
    uri = schema_uri()
    schema_file = Path(unquote(urlparse(uri).path))
    assert schema_file.is_file() and json.loads(schema_file.read_text())["title"] == "heraspec spec"
    assert (tmp_path / "y" / "heraspec.yaml").read_text().splitlines()[0] == f"# yaml-language-server: $schema={uri}"
    assert (tmp_path / "t" / "heraspec.toml").read_text().splitlines()[0] == f"#:schema {uri}"
    vscode = json.loads((tmp_path / "y" / ".vscode" / "settings.json").read_text())
    assert vscode == {"yaml.schemas": {uri: ["heraspec.yaml", "heraspec.yml", "*.heraspec.yaml", "*.heraspec.yml"]},
                      # the Generic LSP Client extension starts this installation's language server
                      "glspc.server.command": sys.executable, "glspc.server.commandArguments": ["-m", "heraspec", "lsp"],
                      "glspc.server.languageId": ["yaml", "toml"]}
    assert "zsol.vscode-glspc" in json.loads((tmp_path / "y" / ".vscode" / "extensions.json").read_text())["recommendations"]
    taplo = (tmp_path / "t" / ".taplo.toml").read_text()
    assert 'include = ["**/heraspec.toml", "**/*.heraspec.toml"]' in taplo and f'path = "{uri}"' in taplo


@pytest.mark.parametrize("existing", ["heraspec.yaml", "steps.py", ".vscode/settings.json", ".gitignore"])
def test_init_never_overwrites_and_writes_the_other_files(tmp_path, capsys, existing):
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine\n")
    code = main(["init", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / existing).read_text() == "mine\n"
    assert written(tmp_path) == FILES | {"heraspec.yaml"}
    assert f"left alone (they exist; heraspec init never overwrites): {existing}" in out
    assert f"wrote {tmp_path / existing}" not in out
    # a .gitignore of the user's that does not ignore the run folders gets a word about it
    assert ("add `.heraspec/` to .gitignore" in out) == (existing == ".gitignore")


def test_init_twice_writes_nothing_and_names_every_file(tmp_path, capsys):
    assert main(["init", str(tmp_path)]) == 0
    capsys.readouterr()
    before = {rel: (tmp_path / rel).read_bytes() for rel in written(tmp_path)}
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wrote" not in out
    for rel in ["heraspec.yaml", "steps.py", ".vscode/settings.json", ".taplo.toml", ".gitignore"]:
        assert rel in out.split("left alone")[1]
    # a TOML spec next to the YAML one: only the spec is new
    assert main(["init", str(tmp_path), "--toml"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"wrote {tmp_path / 'heraspec.toml'}"
    assert {rel: (tmp_path / rel).read_bytes() for rel in before} == before


def test_init_ignores_the_run_folders_in_git(tmp_path):
    assert heraspec("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".gitignore").read_text() == ".heraspec/\n"
    assert heraspec("run", "heraspec.yaml", "--quiet", cwd=tmp_path).returncode == 0
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert ".heraspec" not in status and "heraspec.yaml" in status


@pytest.mark.parametrize("name, spec, module", [("diamond", "diamond.yaml", "steps.py"),
                                                ("ml-pipeline", "ml-pipeline.yaml", "mlpipe/train.py"),
                                                ("bookshop", "bookshop.yaml", "bookshop/report.py")])
def test_init_example_writes_a_bundled_example_that_runs(tmp_path, name, spec, module):
    proc = heraspec("init", "--example", name, "examples", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    repo = Path(__file__).resolve().parents[1] / "examples"
    got = tmp_path / "examples"
    assert (got / module).read_text() == (repo / module).read_text()
    # the same spec as the repository's, pointing at the installed schema instead of ../schemas
    ours = (got / spec).read_text().splitlines()
    assert ours[0] == f"# yaml-language-server: $schema={schema_uri()}"
    assert ours[1:] == (repo / spec).read_text().splitlines()[1:]
    assert (got / spec.replace(".yaml", ".toml")).is_file()
    run = heraspec("run", f"examples/{spec}", "--json", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["phase"] == "Succeeded"


def test_init_example_that_does_not_exist_names_the_examples(tmp_path):
    proc = heraspec("init", "--example", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no bundled example 'nope'; the examples are: bookshop, diamond, ml-pipeline" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_into_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["init", str(tmp_path / "f")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_init_in_the_current_folder_says_the_next_command_without_cd(tmp_path):
    proc = heraspec("init", cwd=tmp_path)
    assert proc.returncode == 0
    assert "next: heraspec run heraspec.yaml" in proc.stdout


def test_pipeline_names_are_dns_names(tmp_path):
    assert pipeline_name(tmp_path / "My_Great Pipeline!") == "my-great-pipeline"
    assert pipeline_name(tmp_path / "___") == "my-pipeline"
    assert len(pipeline_name(tmp_path / ("x" * 100))) <= 40


def test_the_pre_commit_hook_matches_specs_only_and_its_entry_works():
    repo = Path(__file__).resolve().parents[1]
    (hook,) = yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "heraspec-validate" and hook["language"] == "python"
    assert hook["entry"] == "heraspec validate"
    import re

    files = re.compile(hook["files"])
    for path in ["heraspec.yaml", "ci/heraspec.yml", "heraspec.toml", "pipelines/train.heraspec.yaml",
                 "pipelines/train.heraspec.toml"]:
        assert files.search(path), path
    for path in ["values.yaml", "myheraspec.yaml", "heraspec.yaml.orig", "train.heraspec.json", ".pre-commit-config.yaml"]:
        assert not files.search(path), path
    entry = hook["entry"].split()[1:]
    proc = heraspec(*entry, "examples/diamond.yaml", "examples/diamond.toml", cwd=repo)
    assert proc.returncode == 0, proc.stderr
