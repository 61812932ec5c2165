"""The verbs that read specs and write files or text here: validate, lock, compile, graph, init,
cache, schema and lsp. Each takes the parsed arguments and returns its exit code."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..errors import Errors, HeraspecError, SpecInvalid, UsageError
from .exits import EXIT_INVALID, EXIT_OK
from .specs import compile_specs, print_notes, spec_options

if TYPE_CHECKING:
    import argparse


def cmd_validate(args: argparse.Namespace) -> int:
    from ..pipeline import GcPaused

    with GcPaused():
        return _validate(args)


def _validate(args: argparse.Namespace) -> int:
    from ..pipeline import check_files

    errors = Errors()
    checked = check_files(args.files, errors, spec_options(args))
    if errors:
        raise SpecInvalid(errors)
    print_notes(checked)
    for f in args.files:
        print(f"{f}: ok")
    return EXIT_OK


def cmd_lock(args: argparse.Namespace) -> int:
    from ..pipeline import check_files
    from ..python import lock
    from ..check.compose import EXIT_KEY

    errors = Errors()
    checked = check_files(args.files, errors, spec_options(args))
    stale = [e for e in errors if "heraspec lock" in (e.hint or "")]  # what this command is for
    others = Errors([e for e in errors if e not in stale])
    if others:
        raise SpecInvalid(others)
    for c in checked:
        if not lock.sets(c.doc.data, c.functions, EXIT_KEY):
            print(f"{c.doc.path}: no packages to lock", file=sys.stderr)
            continue
        try:
            path = lock.write_lock(c.doc.path, c.doc.data, c.functions, EXIT_KEY, say=lambda m: print(m, file=sys.stderr))
        except lock.LockError as e:
            print(f"{c.doc.path}: error: the packages cannot be locked: {e}", file=sys.stderr)
            return EXIT_INVALID
        print(f"wrote {path}")
        if getattr(args, "wheels", None):
            from pathlib import Path

            try:
                files = lock.download_wheels(lock.Lock.load(c.doc.path), Path(args.wheels),  # type: ignore[arg-type]
                                             say=lambda m: print(m, file=sys.stderr))
            except lock.LockError as e:
                print(f"{c.doc.path}: error: the pinned wheels cannot be downloaded: {e}", file=sys.stderr)
                return EXIT_INVALID
            print(f"wrote {len(files)} wheels to {args.wheels} (and its index.html): serve or mount it, and set "
                  "`defaults: {env: {PIP_NO_INDEX: '1', PIP_FIND_LINKS: <the folder's path or URL in the pods>}}`")
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    from ..pipeline import GcPaused

    with GcPaused():
        return _compile(args)


def _compile(args: argparse.Namespace) -> int:
    from ..argo import emit

    compiled = compile_specs(args, args.files)
    out = args.output
    pretty = args.pretty if args.pretty is not None else out is None and sys.stdout.isatty()
    dump = (lambda docs: emit.to_json(docs, pretty=pretty)) if args.format == "json" else emit.to_yaml
    ext = ".json" if args.format == "json" else ".yaml"
    if out is None:
        sys.stdout.write(dump([c.manifest for c in compiled]))
        return EXIT_OK
    # one file, written without pathlib (its import, with urllib.parse and ipaddress, is ~3 ms of a
    # compile); an empty -o is the current folder, as pathlib reads it
    if not (os.path.isdir(out or os.curdir) or out.endswith(("/", os.sep)) or len(compiled) > 1):
        with open(out, "w", encoding="utf-8") as f:
            f.write(dump([compiled[0].manifest]))
        return EXIT_OK
    from pathlib import Path

    target = Path(out)  # a directory: one file per spec
    if target.exists() and not target.is_dir():
        raise UsageError(f"-o {out} is a file, but {len(compiled)} specs need a directory (one file per spec): "
                         "name a directory, or compile one spec at a time")
    target.mkdir(parents=True, exist_ok=True)
    stems = [Path(c.source).name if args.keep_ext else Path(c.source).stem for c in compiled]
    if len(set(stems)) != len(stems):
        same = sorted({c.source for c, st in zip(compiled, stems) if stems.count(st) > 1})
        how = ("compile them into separate directories" if args.keep_ext else
               "add --keep-ext to name each output after the whole file name (diamond.yaml -> diamond.yaml"
               f"{ext}), or compile them into separate directories")
        raise UsageError(f"two specs would write the same output file ({', '.join(same)}): {how}")
    for c, stem in zip(compiled, stems):
        (target / (stem + ext)).write_text(dump([c.manifest]), encoding="utf-8")
        print(f"wrote {target / (stem + ext)}", file=sys.stderr)
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from .. import graph
    from ..pipeline import check_files

    fmt, out = args.format or "mermaid", args.output
    if fmt == "png" and not out:
        raise UsageError("--format png writes binary data: give a file with -o FILE")
    graph.need_renderer(fmt)  # before the spec is read
    errors = Errors()
    checked = check_files([args.file], errors, spec_options(args))
    if errors or not checked:
        raise SpecInvalid(errors)
    drawn = graph.draw(checked[0].doc.data, fmt, pipelines=checked[0].pipelines, fns=checked[0].functions)
    if not out:
        sys.stdout.write(drawn.decode("utf-8") if isinstance(drawn, bytes) else drawn)
        return EXIT_OK
    if isinstance(drawn, bytes):
        with open(out, "wb") as f:
            f.write(drawn)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(drawn)
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import scaffold

    done = scaffold.write(args.dir, toml=args.toml, example=args.example)
    for target in done.written:
        print(f"wrote {target}")
    if done.kept:
        print(f"left alone (they exist; heraspec init never overwrites): {', '.join(done.kept)}")
        if done.gitignore_misses_runs:
            print("  add `.heraspec/` to .gitignore: `heraspec run` keeps its run folders there")
    cd = "" if Path(args.dir).resolve() == Path.cwd().resolve() else f"cd {args.dir} && "
    print(f"\nnext: {cd}heraspec run {done.spec}      (runs here, no cluster)")
    print(f"then: heraspec compile {done.spec}     (the Argo Workflow, to apply with `heraspec apply {done.spec}`)")
    return EXIT_OK


def cmd_cache(args: argparse.Namespace) -> int:
    """`heraspec cache list|prune`: the listing on stdout; prune says what it removed (or would)."""
    from ..local import disk
    from ..document.patterns import seconds

    found = disk.kept(args.target)
    if args.action == "list":
        sys.stdout.write(disk.list_text(found))
        return EXIT_OK
    age = seconds(args.older_than) if args.older_than is not None else None
    if args.older_than is not None and age is None:
        raise UsageError(f"--older-than {args.older_than!r}: a span such as 90s, 10m, 2h, 7d")
    if args.keep < 0:
        raise UsageError("--keep must be at least 0")
    kinds = {k for k in ("runs", "results", "envs") if getattr(args, k)} or {"runs", "results", "envs"}
    gone = disk.prune(found, kinds, age, args.keep, args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in gone:
        print(f"{verb} {item.path}  {disk.human(item.size)}")
    print(f"{verb} {len(gone)} item{'s' if len(gone) != 1 else ''}, {disk.human(sum(i.size for i in gone))}")
    busy = [i for i in found.runs if i.busy and i not in gone] if "runs" in kinds else []
    if busy:
        print(f"heraspec: kept {len(busy)} run folder{'s' if len(busy) != 1 else ''} without summary.json "
              "(running, or killed): --older-than SPAN removes those older than SPAN", file=sys.stderr)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from ..document.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from ..lsp.server import serve
    except ImportError as exc:
        raise HeraspecError(f"heraspec lsp needs pygls and lsprotocol ({exc.name} is missing): "
                            "pip install 'heraspec[lsp]'") from None
    return serve(args.path)
