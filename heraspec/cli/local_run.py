"""`heraspec run`: a spec's compiled workflow run on this machine, with progress, the tasks' output
and the summary; `run_manifest` runs a manifest already compiled."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from ..errors import UsageError
from .exits import EXIT_INVALID, EXIT_OK
from .specs import compile_specs, parse_assignments


DEFAULT_SPECS = ("heraspec.yaml", "heraspec.yml", "heraspec.toml")  # what `heraspec init` writes


def cmd_run(args: argparse.Namespace) -> int:
    from ..local.sync import parse_limits
    from ..pipeline import runnable

    if args.file is None:
        args.file = next((f for f in DEFAULT_SPECS if os.path.isfile(f)), None)
        if args.file is None:
            raise UsageError("no SPEC given and no heraspec.yaml or heraspec.toml in this folder: name the spec to "
                             "run (heraspec run FILE), or create one with `heraspec init`")
    params = parse_assignments(args.parameters, "-p")
    parse_limits(args.semaphore)  # a usage error before anything is built
    if args.parallelism is not None and args.parallelism < 1:
        raise UsageError("--parallelism must be at least 1")
    (compiled,) = compile_specs(args, [args.file])
    manifest, code_path = runnable(compiled, args.file, args.path or [])  # templateRefs: known, or an error now
    return run_manifest(manifest, task_names=compiled.task_names, parameters=params,
                        parallelism=args.parallelism, as_json=args.json, workdir=args.workdir, keep=args.keep,
                        stdout=sys.stdout, stderr=sys.stderr, quiet=args.quiet, code_path=code_path,
                        artifacts_dir=args.artifacts, semaphores=parse_limits(args.semaphore), cache=not args.no_cache,
                        project=os.path.dirname(os.path.abspath(args.file)))


def run_manifest(manifest: dict, *, task_names: dict[str, str], parameters: dict[str, str], parallelism: int | None,
                 as_json: bool, workdir: str | None, keep: bool, stdout: TextIO, stderr: TextIO, quiet: bool = False,
                 code_path: tuple[str, ...] = (), artifacts_dir: str | None = None,
                 semaphores: dict[str, int] | None = None, cache: bool = True, project: str | None = None) -> int:
    """``heraspec run`` of a manifest: progress, the tasks' output (unless ``quiet``) and the summary on
    stderr, the ``--json`` summary on stdout; exit 0 when the workflow succeeded, else 1; 128+N when
    signal N stopped it (runner.Stopper). ``project``: the spec's folder (its runs and cache).

    Without ``keep`` the work folders are pruned after the run; logs and outputs stay."""
    import json

    from ..local import runner
    from ..local.progress import make_reporter, summary_text, to_json

    reporter = make_reporter(stderr, task_names, output=not quiet)
    try:
        result = runner.run_workflow(manifest, parameters=parameters, parallelism=parallelism, workdir=workdir,
                                     reporter=reporter, code_path=code_path, artifacts_dir=artifacts_dir,
                                     semaphores=semaphores, cache=cache, keep=keep, project=project)
    except BaseException:  # Ctrl-C: the running tasks are already killed; leave the terminal clean
        getattr(reporter, "close", lambda: None)()
        raise
    if not keep:
        runner.prune_run_dir(result.run_dir)
    try:  # after SIGHUP the terminal may be gone: the run's files are written already
        stderr.write(summary_text(result, task_names))
        stderr.flush()
        if as_json:
            stdout.write(json.dumps(to_json(result, task_names), indent=2, default=str) + "\n")
            stdout.flush()
    except OSError:
        if result.stopped_by is None:
            raise
    if result.stopped_by is not None:
        return 128 + result.stopped_by  # as a shell reports a command ended by that signal
    return EXIT_OK if result.phase == "Succeeded" else EXIT_INVALID
