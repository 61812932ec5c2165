"""heraspec: declarative YAML/TOML specs that compile Python functions into Argo Workflows.

The public API mirrors the command line; heavy modules load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .errors import Errors, HeraspecError, SpecError, SpecInvalid, UsageError

if TYPE_CHECKING:
    from .argo.compiler import Compiled

__all__ = ["Errors", "HeraspecError", "SpecError", "SpecInvalid", "UsageError",
           "validate", "compile", "run", "apply", "diff"]


def _options(path: Sequence[str], namespace: str | None, values: Sequence[str], sets: Sequence[str]):
    from .pipeline import Options

    return Options(search_path=tuple(path), namespace=namespace, values=tuple(values), sets=tuple(sets))


def _compiled(files: Sequence[str], options: Any) -> "list[Compiled]":
    """`pipeline.build` of the files; SpecInvalid with every problem of every file when any has one."""
    from .pipeline import build

    errors = Errors()
    out = build(list(files), errors, options)
    if errors:
        raise SpecInvalid(errors)
    return out


def validate(files: Sequence[str], *, path: Sequence[str] = (), values: Sequence[str] = (),
             sets: Sequence[str] = ()) -> list[SpecError]:
    """Every problem of the given spec files (empty when all are valid)."""
    from .pipeline import check_files

    errors = Errors()
    check_files(list(files), errors, _options(path, None, values, sets))
    return list(errors)


def compile(files: Sequence[str], *, path: Sequence[str] = (), namespace: str | None = None,
            values: Sequence[str] = (), sets: Sequence[str] = ()) -> "list[Compiled]":
    """Compile spec files to Argo manifests; raises SpecInvalid with every problem."""
    return _compiled(files, _options(path, namespace, values, sets))


def run(file: str, *, parameters: dict[str, str] | None = None, parallelism: int | None = None,
        workdir: str | None = None, path: Sequence[str] = (), semaphores: dict[str, int] | None = None,
        cache: bool = True, **kw: Any):
    """Compile one spec and run it locally; returns the run's result (phase, tasks, run folder).
    `semaphores`: {"CONFIG_MAP/KEY": limit} (default 1); `cache=False` reads no cached result.
    Run folders and cached results are kept in `.heraspec/` beside the spec, as `heraspec run` keeps them."""
    import os

    from .local import runner as _run
    from .pipeline import runnable

    opts = _options(path, kw.pop("namespace", None), kw.pop("values", ()), kw.pop("sets", ()))
    if kw:
        raise TypeError("run() got unexpected keyword arguments: " + ", ".join(kw))
    opts.parameters = dict(parameters or {})  # type-checked where the spec uses them, before anything runs
    (compiled,) = _compiled([file], opts)
    manifest, code_path = runnable(compiled, file, path)
    return _run.run_workflow(manifest, parameters=parameters, parallelism=parallelism, workdir=workdir,
                             code_path=code_path, semaphores=semaphores, cache=cache,
                             project=os.path.dirname(os.path.abspath(file)))


def apply(files: Sequence[str], *, path: Sequence[str] = (), values: Sequence[str] = (), sets: Sequence[str] = (),
          namespace: str | None = None, **options: Any):
    """Validate and compile every spec, then create or update them on an Argo Server (see apply.apply)."""
    from .argo import applier as _apply

    manifests = [c.manifest for c in compile(files, path=path, namespace=namespace, values=values, sets=sets)]
    return _apply.apply(manifests, namespace=namespace, **options)


def diff(files: Sequence[str], *, path: Sequence[str] = (), namespace: str | None = None, **options: Any) -> str:
    """Unified diff between the live objects and the compiled specs ('' when equal)."""
    from .argo import applier as _apply

    manifests = [c.manifest for c in compile(files, path=path, namespace=namespace)]
    return _apply.diff(manifests, namespace=namespace, **options)
