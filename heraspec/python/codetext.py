"""The code a pod carries as one text, and the limit a pod can receive.

    code_text(modules, data) -> str    JSON, zlib-compressed, URL-safe base64 (what serve_carried_modules reads)
    digest(modules, data) -> str       a short hash of the same table

script.py puts the text into a script (or the compiler into the workflow's parameter, argo/code.py);
`validate` reads only `CODE_LIMIT`, and packs a function's code (check/bodies._carried_findings) only when
it may exceed it, so this module imports nothing until then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .modules import Carried, DataFile

ENV_LIMIT = 131072  # bytes of one environment variable: Argo's common.MaxEnvVarLen (Linux MAX_ARG_STRLEN)
# of one function's code text (code_text; validate refuses more), leaving room for the template around
# it; a parameter of several functions' code and the runtime stays within it too (argo/code.py)
CODE_LIMIT = ENV_LIMIT - 16 * 1024


def _table(modules: Iterable[Carried], data: Iterable[DataFile], runtime: str = "") -> bytes:
    import base64
    import json

    table: dict = {"modules": {m.name: [m.filename, m.is_package, m.source] for m in modules},
                   "data": {d.path: base64.b64encode(d.data).decode("ascii") for d in data}}
    if runtime:
        table["runtime"] = runtime
    return json.dumps(table, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def code_text(modules: Iterable[Carried], data: Iterable[DataFile] = (), runtime: str = "") -> str:
    """The modules and data files (and the `runtime`'s source, for a Workflow's shared_code) as the
    importer reads them (pod.unpack_code): JSON, zlib-compressed, URL-safe base64 (no `{{` for Argo
    to substitute, no `/` for `heraspec run` to take for a path)."""
    import base64
    import zlib

    return base64.urlsafe_b64encode(zlib.compress(_table(modules, data, runtime), 9)).decode("ascii")


def digest(modules: Iterable[Carried], data: Iterable[DataFile] = ()) -> str:
    """A short hash of the carried code: in a shared script's text, so its cache key follows the code."""
    from ..digest import sha256_hex

    return sha256_hex(_table(modules, data))[:16]
