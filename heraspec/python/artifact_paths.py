"""Where the generated script finds its input files and puts its output, and the size guard of results.

The layout is shared by the compiler (which declares these paths in the template), the local
runner (which places and collects files there) and the script (which reads and writes them):

    /tmp/heraspec/artifacts/in/<param>/<entry>           one file or folder from one producer
    /tmp/heraspec/artifacts/in/<param>/<index>/<entry>   a fan-in: one sub-folder per item, 0, 1, ...
    /tmp/heraspec/artifacts/out/result/<entry>           what this task returns (a file or folder it
                                                        wrote, or `value.json` for `result: artifact`)

Every artifact is a folder holding one entry, so a returned file keeps its name (`counts.tsv`) and a
file and a folder travel alike. Argo uploads `out/result` with `archive: none` (the consumer gets
the same bytes, and a fan-in's children sit side by side under one key prefix). The env var
`HERASPEC_ARTIFACT_DIR` moves the root (the local runner and the tests set it; Argo never does).

An input parameter reads from its artifact when its env var `HERASPEC_IN_<param>` holds ONE or
MANY below; env `HERASPEC_RESULT` = `file` | `artifact` says where the return value goes.
"""

from __future__ import annotations

from .pod import ARTIFACT_DIR, ARTIFACT_DIR_ENV, MANY, ONE, PARAMETER_LIMIT, RESULT_MODE_ENV, VALUE_FILE

__all__ = ["ARTIFACT_DIR", "ARTIFACT_DIR_ENV", "MANY", "ONE", "PARAMETER_LIMIT", "RESULT_MODE_ENV", "VALUE_FILE",
           "input_path", "output_path"]


def input_path(param: str) -> str:
    return f"{ARTIFACT_DIR}/in/{param}"


def output_path() -> str:
    return f"{ARTIFACT_DIR}/out/result"
