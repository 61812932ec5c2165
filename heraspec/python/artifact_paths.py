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

ARTIFACT_DIR = "/tmp/heraspec/artifacts"
ARTIFACT_DIR_ENV = "HERASPEC_ARTIFACT_DIR"
RESULT_MODE_ENV = "HERASPEC_RESULT"
ONE = "__heraspec_artifact__"  # the input is the folder in/<param>
MANY = "__heraspec_artifacts__"  # the input is in/<param>/<index>/..., a fan-in
VALUE_FILE = "value.json"
# Argo puts each input of a script in one environment variable; Linux refuses (E2BIG) a variable of
# MAX_ARG_STRLEN = 128 KiB or more, which Argo also knows as common.MaxEnvVarLen (workflow/common/
# common.go). A result passed as a parameter must leave room for the consumer's variable name.
PARAMETER_LIMIT = 128 * 1024 - 1024


def input_path(param: str) -> str:
    return f"{ARTIFACT_DIR}/in/{param}"


def output_path() -> str:
    return f"{ARTIFACT_DIR}/out/result"


# The script's side, tagged as runtime.py describes: a template carries the functions its inputs and
# result need (script.py). Builtins through `b`, as in the decoder: user code may rebind `open`, `str`...
RUNTIME_SOURCE = '''\
def _heraspec_root(*parts):  # [if artifact-in|mode]
    import os, pathlib
    return pathlib.Path(os.environ.get("@DIR_ENV@") or "@DIR@", *parts)


def _heraspec_entry(folder):  # [if artifact-in]
    # an artifact is a folder holding one entry: the file or folder the producer returned
    import builtins as b
    entries = b.sorted(folder.iterdir()) if folder.is_dir() else []
    if b.len(entries) != 1:
        raise b.FileNotFoundError(f"heraspec: expected one file in {folder}, found {b.len(entries)}")
    return entries[0]


def _heraspec_read_artifact(name, raw, kind):  # [if artifact-in]
    # an input placed by Argo's executor (or heraspec run) at in/<name>; a fan-in has one
    # sub-folder per item index, read back in item order
    import builtins as b
    folder = _heraspec_root("in", name)
    if raw == "@MANY@":
        subs = [p for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
        found = [_heraspec_entry(p) for p in b.sorted(subs, key=lambda p: b.int(p.name))]
    else:
        found = [_heraspec_entry(folder)]
    if kind not in ("path", "paths"):  # a value sent through the repository: its JSON (value.json)
        import json
        inner = kind if raw != "@MANY@" else kind[5:] if kind and kind.startswith("list:") else None
        found = [_heraspec_coerce(json.loads(p.read_text(encoding="utf-8")), inner) for p in found]
    return found if raw == "@MANY@" else found[0]


def _heraspec_write_file(value):  # [if result:file]
    # `-> Path`: move what the function wrote into out/result, keeping its name
    import builtins as b, os, pathlib, shutil, tempfile
    if not b.isinstance(value, (b.str, os.PathLike)):
        raise b.TypeError(f"heraspec: the function is annotated -> Path but returned {b.type(value).__name__}")
    path = pathlib.Path(value).absolute()
    if not path.exists():
        raise b.FileNotFoundError(f"heraspec: the returned path {value} does not exist")
    roots = [pathlib.Path.cwd().resolve(), pathlib.Path(tempfile.gettempdir()).resolve()]
    real = path.resolve()
    if not b.any(r in real.parents for r in roots):
        raise b.ValueError(f"heraspec: the returned path {value} lies outside the task's working folder "
                           f"({roots[0]}); write the file there and return its path")
    out = _heraspec_root("out", "result")
    out.mkdir(parents=True, exist_ok=True)
    shutil.move(b.str(real), b.str(out / (path.name or "result")))


def _heraspec_write_value(result, as_artifact, name, where):  # [if value]
    # the return value (plain data): its JSON as an artifact file, read back as JSON by the consumer's
    # script and never substituted; or the output parameter's file after checking it fits (a
    # parameter reaches its consumer through one environment variable)
    import builtins as b
    if as_artifact:  # [if result:artifact]
        out = _heraspec_root("out", "result")
        out.mkdir(parents=True, exist_ok=True)
        with b.open(b.str(out / "@VALUE@"), "w", encoding="utf-8") as f:
            f.write(_heraspec_json_text(result))
        return
    _heraspec_write_parameter(result, name, where)  # [if result:parameter]


def _heraspec_write_parameter(result, name, where):  # [if result:parameter]
    import builtins as b, os
    text = _heraspec_result_text(result, where)
    size = b.len(text.encode("utf-8"))
    if size > @LIMIT@:
        raise b.SystemExit(
            f"heraspec: {name}() returned {size:,} bytes; a result passed as an Argo parameter must "
            f"stay under {@LIMIT@:,} bytes (Linux refuses an environment variable of 128 KiB or more, E2BIG, "
            "and Argo caps parameters at 256 KiB). Set `result: artifact` on the task (or in `defaults`) to send "
            "it through the artifact repository, or return a file (-> Path)")
    path = os.environ.get("@PATH_ENV@") or "@RESULT_PATH@"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with b.open(path, "w", encoding="utf-8") as out:  # Argo's executor trims one newline from a parameter file
        out.write(text + "\\n")
    if b.type(result) is b.str:  # PATH.str marks a str result, so that `heraspec run` shows it as one
        b.open(path + ".str", "w").close()
'''


def runtime_source(result_path: str, result_path_env: str) -> str:
    """The script's artifact functions, with heraspec's constants filled in."""
    return (RUNTIME_SOURCE.replace("@DIR_ENV@", ARTIFACT_DIR_ENV).replace("@DIR@", ARTIFACT_DIR)
            .replace("@MANY@", MANY).replace("@VALUE@", VALUE_FILE).replace("@LIMIT@", str(PARAMETER_LIMIT))
            .replace("@PATH_ENV@", result_path_env).replace("@RESULT_PATH@", result_path))
