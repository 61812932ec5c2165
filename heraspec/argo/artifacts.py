"""The Argo side of files between tasks: input and output artifacts of script templates, the DAG
task's artifact arguments, and the keys that let a fan-in read its producers' files in item order.

Choices (docs/DESIGN.md, "Artifacts"):
- Every artifact is stored with `archive: {none: {}}`: the consumer gets the producer's bytes, a
  `.tar.gz` a function returns stays a `.tar.gz` (Argo's default `tar` would be untarred on the way
  in: `unarchiveArtifact` in workflow/executor/executor.go detects tarballs when no strategy is set).
- Argo does not aggregate the artifacts of loop children (only parameters, `aggregatedJSONValueList`).
  So each child of a fanned-out producer writes under an explicit key
  `heraspec/{{workflow.name}}/{{workflow.uid}}/<task>/<item index>`; a key-only artifact is placed in
  the workflow's repository (`ArtifactLocation.Relocate`, pkg/apis/workflow/v1alpha1), and the
  consumer loads the whole prefix `.../<task>` as a folder with one sub-folder per index. The uid
  keeps a re-submitted workflow of the same name from seeing the previous run's children. Loading a
  prefix needs a driver that lists keys: S3 (and MinIO), GCS, Azure Blob, Alibaba OSS.
- A cached fan-out's items write under their own memoize keys instead (a hit names files an earlier
  workflow wrote): its reader declares one input artifact per item, at the key the item reports
  (`arguments`, scheduling.item_files_key), under the same `<name>/<index>` paths.
- Loop children have no index variable in Argo (`processItem` in workflow/controller/operator.go
  only sets `item` and `item.KEY`), so the compiler writes the index into each item.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ..python import artifact_paths as paths
from ..python import functions
from ..check import dag
from . import scheduling
from ..check.files import fans_out, is_artifact_ref, result_kind, split_url
from ..record import Frozen

NONE = {"none": {}}
INDEX_ITEM = "heraspec_index"  # the item key holding a loop child's index
KEY_PARAM = "heraspec-key"  # the template input naming where a loop child writes (not a Python name)


class Input(Frozen):
    """How a task receives one file input: `mode` "one" (a file or artifact value), "many" (a fan-in)
    or "url" (from outside); `source` the producer task (one/many) or the {artifact: ...} mapping
    (url); `per_item` (url) each argument set gives its own, the location coming from the item;
    `items` (many) the producer is a cached fan-out of this many items, read one artifact per item.
    Immutable and hashable. (A plain class, not a dataclass: `dataclasses` costs ~8 ms of a `compile`.)"""

    __slots__ = ("mode", "source", "per_item", "items")

    def __init__(self, mode: str, source: Any, per_item: bool = False, items: int = 0) -> None:
        _set = object.__setattr__
        _set(self, "mode", mode)
        _set(self, "source", source)
        _set(self, "per_item", per_item)
        _set(self, "items", items)

    @property
    def basename(self) -> str:
        if self.mode != "url":
            return ""
        art = self.source["artifact"]
        key = art["key"] if isinstance(art, dict) else (split_url(art) or ("", "", art))[2]
        return posixpath.basename(key.rstrip("/").split("?")[0]) or "data"

    def frozen(self) -> tuple:
        return (self.mode, "" if self.per_item else self.basename, self.items)

    def item_fields(self, name: str) -> dict[str, str]:
        """`per_item`: the item keys this input's location and file name travel in."""
        art = self.source["artifact"]
        if isinstance(art, dict):
            parts = {"key": art["key"].strip("/")}
        else:
            scheme, host, key = split_url(art)  # type: ignore[misc]  # validated
            parts = {"url": art} if scheme in ("http", "https") else {"bucket": host, "key": key}
        return {f"heraspec_{k}_{name}": v for k, v in {**parts, "file": self.basename}.items()}


def file_param(name: str) -> str:
    """The template input naming a per-item input's file (not a Python name, so no clash)."""
    return f"heraspec-file-{name}"


def fanin_prefix(task: str) -> str:
    return "heraspec/{{workflow.name}}/{{workflow.uid}}/%s" % dag.argo_name(task)


def input_modes(argset: dict, fn: functions.Function, tasks: dict, fns: dict, defaults: dict,
                sets: list | None = None) -> dict[str, Input]:
    """The parameters of one call that arrive as artifacts, by name (`sets`: all argument sets of a
    fan-out; a `{artifact: URL}` that differs between them is read from each item)."""
    out: dict[str, Input] = {}
    for p in fn.params:
        v = argset.get(p.name)
        if is_artifact_ref(v):
            per_item = any(isinstance(s, dict) and s.get(p.name) != v for s in sets or [])
            out[p.name] = Input("url", v, per_item)
        elif isinstance(v, dict) and len(v) == 1 and isinstance(v.get("from"), str) and v["from"] in tasks:
            src = v["from"]
            if result_kind(tasks[src], fns.get(src), defaults) != "parameter":
                out[p.name] = Input("many", src, items=cached_items(tasks[src], defaults)) if fans_out(tasks[src]) \
                    else Input("one", src)
    return out


def cached_items(task: dict, defaults: dict) -> int:
    """How many items a cached fan-out over a list written in the spec has (0: not one). Its items'
    files are under their own memoize keys (scheduling.item_files_key), not under the fan-in prefix."""
    if task.get("cache", defaults.get("cache")) in (None, False):
        return 0
    fe, args = task.get("foreach"), task.get("args")
    return len(fe) if isinstance(fe, list) else len(args) if isinstance(args, list) and fe is None else 0


def template_parts(fn: functions.Function, modes: dict[str, Input], result: str, keyed: bool
                   ) -> tuple[list[dict], list[dict], dict]:
    """(inputs.artifacts, env entries, outputs) of a script template."""
    arts, env = [], []
    for name, inp in modes.items():
        base = "{{inputs.parameters.%s}}" % file_param(name) if inp.per_item else inp.basename
        path = paths.input_path(name) + (f"/{base}" if inp.mode == "url" else "")
        if inp.items:  # one sub-folder per item index, as the fan-in prefix would give
            arts += [{"name": item_name(name, i), "path": f"{path}/{i}"} for i in range(inp.items)]
        else:
            arts.append({"name": name, "path": path})
        env.append({"name": f"HERASPEC_IN_{name}", "value": paths.MANY if inp.mode == "many" else paths.ONE})
    if result == "parameter":
        return arts, env, {}
    env.append({"name": paths.RESULT_MODE_ENV, "value": result})
    art: dict[str, Any] = {"name": "result", "path": paths.output_path(), "archive": NONE}
    if keyed:
        art["s3"] = {"key": "{{inputs.parameters.%s}}" % KEY_PARAM}
    return arts, env, {"artifacts": [art]}


def item_name(name: str, index: int) -> str:
    """The input artifact of item `index` of a cached fan-out read by parameter `name` (not a Python name)."""
    return f"{name}-{index}"


def arguments(name: str, inp: Input) -> list[dict]:
    """The entries of the DAG task's `arguments.artifacts` for parameter `name`."""
    if inp.mode == "many" and inp.items:
        task = dag.argo_name(inp.source)
        return [{"name": item_name(name, i), "archive": NONE, "s3": {"key": scheduling.item_files_key(task, i)}}
                for i in range(inp.items)]
    return [argument(name, inp)]


def argument(name: str, inp: Input) -> dict:
    """One entry of the DAG task's `arguments.artifacts`."""
    if inp.mode == "one":
        return {"name": name, "from": "{{tasks.%s.outputs.artifacts.result}}" % dag.argo_name(inp.source)}
    if inp.mode == "many":
        return {"name": name, "archive": NONE, "s3": {"key": fanin_prefix(inp.source)}}
    ref = inp.source
    art = ref["artifact"]
    item = {k.split("_")[1]: "{{item.%s}}" % k for k in inp.item_fields(name)} if inp.per_item else {}
    if isinstance(art, dict):
        return {"name": name, "archive": NONE, "s3": {"key": item.get("key") or art["key"].strip("/")}}
    scheme, host, key = split_url(art)  # type: ignore[misc]  # validated
    if item:
        art, host, key = item.get("url", art), item.get("bucket", host), item.get("key", key)
    if scheme == "gs":
        return {"name": name, "archive": NONE, "gcs": {"bucket": host, "key": key}}
    if scheme in ("http", "https"):
        return {"name": name, "archive": NONE, "http": {"url": art}}
    s3: dict[str, Any] = {"endpoint": ref["endpoint"], "bucket": host, "key": key}
    if ref.get("secret"):
        s3["accessKeySecret"] = {"name": ref["secret"], "key": "accessKey"}
        s3["secretKeySecret"] = {"name": ref["secret"], "key": "secretKey"}
    else:
        s3["useSDKCreds"] = True
    return {"name": name, "archive": NONE, "s3": s3}


def foreach_sets(args: Any, items: list) -> list[dict]:
    """`foreach: [...]` written out as one argument set per item (so each child can carry its index)."""
    def resolve(v: Any, item: Any) -> Any:
        if isinstance(v, dict):
            if len(v) == 1 and "item" in v:
                key = v["item"]
                return item if key is True else (item.get(key) if isinstance(item, dict) else None)
            return {k: resolve(x, item) for k, x in v.items()}
        if isinstance(v, list):
            return [resolve(x, item) for x in v]
        return v

    return [resolve(args if isinstance(args, dict) else {}, item) for item in items]
