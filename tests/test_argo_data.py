"""The pieces of Argo the repository carries are Argo's own: regenerated from the upstream material
(--argo-src), the schema subset in the package and the swagger subset the test server reads come
out byte for byte as committed, and each carries its licence."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.argo_schema import SUBSET, upstream
from tests.argo_server import SWAGGER

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script,piece,committed", [("argo_schema_subset", "schema.json", SUBSET),
                                                    ("argo_swagger_subset", "swagger.json", SWAGGER)])
def test_the_subsets_are_regenerated_identically_from_upstream(tmp_path: Path, script: str, piece: str,
                                                                committed: Path, capsys):
    source = upstream(piece)
    _script(script).main(str(source), tmp_path / committed.name)
    assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), f"rerun scripts/{script}.py"


def test_each_subset_has_argos_licence_beside_it():
    for data in (SUBSET, SWAGGER):
        licence = data.parent / "LICENSE-argo-workflows"
        assert licence.read_text().lstrip().startswith("Apache License") and "Version 2.0" in licence.read_text()
        assert "Apache License 2.0" in data.read_text()[:600]
