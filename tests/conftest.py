"""Shared test setup: the `--argo-src` option, the `slow` marker and the fixtures several files use.

- `--argo-src=PATH` (or HERASPEC_ARGO_SRC=PATH; with `=`, else pytest takes PATH for a test path):
  Argo's upstream material, an argo-workflows checkout or a folder of its schema.json, swagger.json
  and examples/ (../shared/argo, which .ci/run passes). Without it, manifests are checked against
  the strict schema subset in the package and the test server reads the swagger subset in
  tests/data; the few tests that need the upstream material itself skip.
- `slow` (declared in pyproject.toml): the tests that take seconds each, left out by default
  (`addopts = -m 'not slow'`); `-m ""` runs every test, as CI does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests import argo_schema


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--argo-src", metavar="PATH", default=os.environ.get(argo_schema.ENV) or None,
                     help="Argo's upstream material (schema.json, swagger.json, examples/), e.g. ../shared/argo; "
                          f"default: ${argo_schema.ENV}")


def pytest_configure(config: pytest.Config) -> None:
    src = config.getoption("--argo-src")
    if src:
        argo_schema.argo_src = Path(src).expanduser().resolve()


@pytest.fixture
def argo() -> Iterator["object"]:
    """A fresh stand-in Argo Server on 127.0.0.1 expecting tests.argo_server.TOKEN, echoing bad
    Authorization headers into its 401s (the worst case for redaction)."""
    from tests.argo_server import serve

    yield from serve()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throw-away certificate and key for 127.0.0.1 (paths), made with openssl."""
    from tests.argo_server import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A project folder holding the test module's STEPS as steps.py (a module of functions)."""
    (tmp_path / "steps.py").write_text(request.module.STEPS, encoding="utf-8")
    return tmp_path


@pytest.fixture
def fresh_functions() -> None:
    """No function resolved, module parsed or carried code remembered from an earlier test, so a test
    that writes a module again at one path reads its new text (`pytestmark = usefixtures(...)`)."""
    from heraspec.python import functions

    functions.clear_cache()


@pytest.fixture
def no_argo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ARGO_* variable (nor HERASPEC_ARGO_MAX_MB) of the developer's shell reaches the test, and the
    Argo client's retries do not sleep (a test sets what it checks)."""
    from heraspec.argo.client import MAX_BYTES_ENV, ArgoClient

    for var in [k for k in os.environ if k.startswith("ARGO_")] + [MAX_BYTES_ENV]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(ArgoClient, "sleep_backoff", lambda self, attempt: None)
