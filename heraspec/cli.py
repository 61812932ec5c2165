"""The command line: the only place that prints errors and picks exit codes.

Exit codes: 0 success; 1 invalid input, a failed run or a failed apply; 2 usage error;
3 internal error (one line asking for a report; `--debug` shows the trace).
Every verb runs behind one error boundary, and only the chosen verb's modules are imported, so
`heraspec validate` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence, TextIO

from .errors import Errors, HeraspecError, SpecInvalid, UsageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_URL = "https://github.com/heraspec/heraspec/issues"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, measuring the terminal only when it formats: argparse makes one for every
    argument it adds, and measuring imports shutil (and the compression modules shutil loads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._measure = len(args) < 4 and kwargs.get("width") is None
        self._most = kwargs.get("max_help_position", args[2] if len(args) > 2 else 24)
        if self._measure:
            kwargs["width"] = 78  # a stand-in until format_help
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        if self._measure:  # what HelpFormatter.__init__ does with width=None
            import shutil

            self._width = shutil.get_terminal_size().columns - 2
            self._max_help_position = min(self._most, max(self._width - 20, self._indent_increment * 2))
        return super().format_help()


class _Parser(argparse.ArgumentParser):
    unfilled: str | None = None  # a verb's description, filled to 78 columns when --help shows it

    def error(self, message: str):  # argparse's own usage errors: exit 2 with our prefix
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"heraspec: error: {message}\n")

    def format_help(self) -> str:
        if self.unfilled is not None:
            import textwrap

            self.description, self.unfilled = textwrap.fill(self.unfilled, 78), None
        return super().format_help()


def _common(p: argparse.ArgumentParser, *, values: bool = True) -> None:
    p.add_argument("--debug", action="store_true", help="show the Python trace of internal errors")
    p.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="also look for function modules in DIR (searched first; repeatable)")
    p.add_argument("--templates", action="append", default=[], metavar="PATH",
                   help="specs defining the WorkflowTemplates that template_ref / workflow_template_ref name: "
                        "a file or a folder (repeatable); validate checks the calls, run runs them")
    if values:
        p.add_argument("--values", action="append", default=[], metavar="FILE",
                       help="values file (YAML/TOML) for [[ ... ]] placeholders; repeatable, later files win")
        p.add_argument("--set", action="append", default=[], dest="sets", metavar="KEY=VALUE",
                       help="set one value (wins over --values files); repeatable")


def _params(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--parameter", action="append", default=[], dest="parameters", metavar="NAME=VALUE",
                   help="override a workflow parameter (repeatable)")


def _connection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Argo Server connection (argo CLI conventions; flags override env vars)")
    g.add_argument("--server", "-s", help="host:port or URL of the Argo Server (ARGO_SERVER)")
    g.add_argument("--token", help="bearer token (ARGO_TOKEN); never printed")
    g.add_argument("--token-file", help="read the token from this file")
    g.add_argument("--namespace", "-n", help="namespace when the spec has none (ARGO_NAMESPACE)")
    g.add_argument("--insecure-skip-verify", "-k", action="store_true", default=None,
                   help="do not verify the server's TLS certificate (ARGO_INSECURE_SKIP_VERIFY)")
    g.add_argument("--ca-cert", help="CA bundle to verify the server with")
    g.add_argument("--base-href", help="path prefix of the Argo Server (ARGO_BASE_HREF)")
    g.add_argument("--plaintext", action="store_true", default=None, help="use http:// instead of https:// (ARGO_SECURE=false)")
    g.add_argument("--verbose", "-v", action="store_true", help="log each request (the token is redacted)")


SPEC_HELP = "a heraspec spec file, YAML (.yaml/.yml) or TOML (.toml)"
FILES_HELP = "heraspec spec files, YAML (.yaml/.yml) or TOML (.toml); each becomes one Argo resource"


class _Unbuilt:
    """What `_verb` gives for a verb the command line does not name: takes that verb's arguments and
    builds nothing (argparse makes a formatter for each argument it adds, ~0.5 ms a verb)."""

    def __getattr__(self, name: str) -> Callable[..., "_Unbuilt"]:
        return lambda *args, **kwargs: self


def _verb(sub, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A verb whose --help says what it does, then its options, then examples (when `sub.only`, the
    verb the command line names, is another verb: nothing)."""
    if getattr(sub, "only", None) not in (None, name):
        return _Unbuilt()  # type: ignore[return-value]
    p = sub.add_parser(name, help=summary, epilog="examples:\n" + examples,
                       formatter_class=_Formatter)
    p.unfilled = f"{summary[0].upper()}{summary[1:]}. {description}"  # filled only for --help
    return p


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only` (a verb) the other verbs' parsers are not built, for a
    command line whose first argument is that verb."""
    parser = _Parser(prog="heraspec", description="Declarative Argo Workflows for Python functions: a YAML or\n"
                     "TOML spec names your functions; heraspec validates it, compiles Argo manifests,\n"
                     "runs them on this machine and applies them to an Argo Server.",
                     epilog="examples:\n  heraspec init my-pipeline && cd my-pipeline && heraspec run heraspec.yaml\n"
                     "  heraspec COMMAND --help", formatter_class=_Formatter)
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    # prog given: what argparse would format from the usage so far ("heraspec"), without formatting it
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser, prog="heraspec")
    sub.only = only  # type: ignore[attr-defined]

    p = _verb(sub, "validate", "check spec files and report every problem with its position",
              "Prints every problem of every file as FILE:LINE:COL: error: ... (with a hint), exit 1; "
              "\"FILE: ok\" for each good one, exit 0. Nothing is imported or run.",
              "  heraspec validate examples/diamond.yaml\n  heraspec validate flows/*.heraspec.yaml --path src")
    p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    _common(p)

    p = _verb(sub, "lock", "pin every package set of specs, with hashes, in a lock file beside each",
              "Resolves each task's `packages:` (spec, defaults, task, exit handler) for Linux and the Python of "
              "the task's image (python:3.11 -> 3.11; 3.12 otherwise) with uv (`uv pip compile "
              "--generate-hashes`; pip's resolver when uv is absent) and writes SPEC.lock (JSON). compile then "
              "embeds the pins: every pod, and heraspec run, installs exactly them, hashes required. Commit the "
              "lock with the spec; validate refuses a spec whose packages changed since.",
              "  heraspec lock examples/bookshop.yaml          # writes examples/bookshop.yaml.lock\n"
              "  heraspec lock flow.yaml --wheels wheels/      # and downloads the pinned wheels, for a cluster "
              "without internet")
    p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    p.add_argument("--wheels", metavar="DIR", help="also download every pinned wheel (hashes checked) into DIR, with "
                   "an index.html; pods install from it with env PIP_NO_INDEX=1 and PIP_FIND_LINKS=<DIR as they see it>")
    _common(p)

    p = _verb(sub, "compile", "compile specs to Argo manifests (YAML or JSON)",
              "Validates first; the output is deterministic (the same spec gives the same bytes). Each task "
              "requests 1 CPU and 4Gi of memory unless its resources say otherwise.",
              "  heraspec compile examples/diamond.yaml                 # to stdout\n"
              "  heraspec compile flows/*.yaml -o manifests/            # one file per spec")
    p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write to a file, or one file per spec into a directory (default: stdout)")
    p.add_argument("--keep-ext", action="store_true",
                   help="with -o DIR, name each file after the whole spec file name (diamond.yaml -> "
                        "diamond.yaml.yaml), so that diamond.yaml and diamond.toml do not collide")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format (default: %(default)s)")
    p.add_argument("--pretty", action=argparse.BooleanOptionalAction, default=None,
                   help="JSON indented for reading (default: on a terminal; compact, as the API server stores "
                        "it, into a file or a pipe)")
    p.add_argument("--namespace", "-n", help="namespace when the spec has none (default: ARGO_NAMESPACE, else none)")
    _common(p)

    p = _verb(sub, "run", "run a spec's compiled workflow on this machine (no cluster)",
              "Tasks run with this Python, each in its own folder under the run folder (a relative path such "
              "as data/ is relative to that folder). What each task prints is shown as it happens, prefixed "
              "with its task (train(2) for an item of a fan-out); progress, task output and the summary go to "
              "stderr. Every task's stdout.log and stderr.log stay in the run folder (.heraspec/runs beside the "
              "spec). Ctrl-C, SIGTERM or SIGHUP stop the run as `argo stop` does (the exit handler runs, "
              "summary.json is written); a second one ends it at once.",
              "  heraspec run examples/diamond.yaml\n"
              "  heraspec run examples/ml-pipeline.yaml -p n_points=50 --json --quiet > summary.json")
    p.add_argument("file", metavar="SPEC", nargs="?", help=SPEC_HELP + "; default: heraspec.yaml (or heraspec.toml) "
                   "here, as `heraspec init` writes it")
    _params(p)
    p.add_argument("--parallelism", type=int, metavar="N",
                   help=f"tasks running at once (default: the CPU count, {os.cpu_count() or 1} here)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary on stdout, and nothing else there (task output stays on stderr)")
    p.add_argument("--artifacts", metavar="DIR", help="local stand-in for buckets: s3://BUCKET/KEY and gs://BUCKET/KEY "
                   "inputs are read from DIR/BUCKET/KEY")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="do not show what the tasks print (it stays in each task's stdout.log/stderr.log)")
    p.add_argument("--workdir", metavar="DIR", help="run folder, absent or empty (default: .heraspec/runs/NAME-TIME beside the spec)")
    p.add_argument("--keep", action="store_true", help="keep each task's work folder, not only its logs and outputs")
    p.add_argument("--semaphore", action="append", default=[], metavar="CONFIG_MAP/KEY=N",
                   help="the limit of a semaphore (its ConfigMap's value on a cluster); default 1")
    p.add_argument("--no-cache", action="store_true",
                   help="run tasks with `cache` even when .heraspec/cache (beside the spec) holds their result "
                        "(fresh results are saved)")
    _common(p)

    p = _verb(sub, "apply", "create or update specs on an Argo Server",
              "Everything is validated and compiled before the first request. Prints one line per resource "
              "on stdout, and the Argo UI link of each submitted Workflow on stderr. --dry-run=client needs "
              "no server.",
              "  heraspec apply examples/diamond.yaml --dry-run=client     # what would be sent\n"
              "  ARGO_SERVER=localhost:2746 heraspec apply flows/*.yaml --wait")
    p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    p.add_argument("--dry-run", choices=["client", "server"],
                   help="client: print the requests, send nothing (no server needed); server: lint on the server "
                        "(default: apply)")
    p.add_argument("--wait", action="store_true", help="follow submitted Workflows until they end")
    p.add_argument("--logs", action="store_true", help="stream the logs of submitted Workflows")
    p.add_argument("--replace", action="store_true", help="delete and recreate a Workflow whose fixed name exists")
    _params(p)
    _connection(p)
    _common(p)

    p = _verb(sub, "diff", "show how the live objects differ from the compiled specs",
              "A unified diff per resource between what the Argo Server holds and what apply would write; "
              "empty when nothing would change.",
              "  heraspec diff flows/*.yaml\n  heraspec diff flows/train.yaml -n ml")
    p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    _connection(p)
    _common(p)

    p = _verb(sub, "graph", "draw the task graph (Mermaid, DOT, SVG or PNG)",
              "Uses the spec's task names; a fan-out is one stacked node with its count. SVG and PNG need "
              "Graphviz's dot.",
              "  heraspec graph examples/ml-pipeline.yaml                  # Mermaid, for GitHub markdown\n"
              "  heraspec graph examples/ml-pipeline.yaml --format svg -o pipeline.svg")
    p.add_argument("file", metavar="SPEC", help=SPEC_HELP)
    p.add_argument("--format", choices=["mermaid", "dot", "svg", "png"], default="mermaid",
                   help="picture format (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout; required for png)")
    _common(p)

    p = _verb(sub, "init", "scaffold a working spec, its steps module and editor settings",
              "Writes heraspec.yaml (or .toml), steps.py, editor settings (.vscode/, .nvim.lua, .taplo.toml: the "
              "schema and `heraspec lsp`) and a .gitignore "
              "for .heraspec/ into DIR, or with --example NAME a bundled example. Never overwrites: files "
              "that exist are left alone and named.",
              "  heraspec init my-pipeline && cd my-pipeline && heraspec run heraspec.yaml\n"
              "  heraspec init --example diamond examples && heraspec run examples/diamond.yaml")
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="folder to write into, created if missing "
                   "(default: the current folder)")
    p.add_argument("--toml", action="store_true", help="write the spec in TOML (default: YAML)")
    p.add_argument("--example", metavar="NAME", help="write a bundled example instead (its YAML and TOML specs "
                   "and modules): diamond, ml-pipeline, ...")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = _verb(sub, "cache", "list or prune what `heraspec run` keeps: run folders, cached results, environments",
              "list shows each with its size (run folders and cached results beside the spec, Python "
              "environments shared by every project); prune removes the kinds named (all when none is), only "
              "those older than --older-than when given, never the --keep newest runs, nor a run without "
              "summary.json (running, or killed) unless --older-than covers it.",
              "  heraspec cache list\n"
              "  heraspec cache prune --runs --keep 5\n"
              "  heraspec cache prune --older-than 7d --dry-run")
    p.add_argument("action", choices=["list", "prune"], help="list: show with sizes; prune: remove")
    p.add_argument("target", nargs="?", metavar="SPEC|DIR", help="the spec (or its folder) whose runs and cache to "
                   "see (default: the current folder)")
    p.add_argument("--runs", action="store_true", help="prune run folders")
    p.add_argument("--results", action="store_true", help="prune cached task results")
    p.add_argument("--envs", action="store_true", help="prune Python environments")
    p.add_argument("--older-than", metavar="SPAN", help="only what is older than SPAN (90s, 10m, 2h, 7d)")
    p.add_argument("--keep", type=int, default=0, metavar="N", help="keep the N newest finished run folders")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = _verb(sub, "schema", "print the spec's JSON Schema",
              "The schema editors use for completion, hover docs and diagnostics (yaml-language-server, Taplo); "
              "commit it next to your specs to share one path with a team.",
              "  heraspec schema > heraspec.schema.json\n"
              "  # then, on a spec's first line: # yaml-language-server: $schema=./heraspec.schema.json")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = _verb(sub, "lsp", "the language server for editors (stdio): live errors, completion, hover, definition",
              "Speaks the Language Server Protocol on stdin/stdout: validate's errors as you type, completion of "
              "functions, arguments, task and parameter names and schema keys, hover, go to definition, "
              "references, rename of tasks and quick fixes. Needs the lsp extra: pip install 'heraspec[lsp]'. "
              "`heraspec init` writes the editor settings that start it.",
              "  heraspec lsp                 # started by the editor, not by hand\n"
              "  heraspec lsp --path src      # function modules also in src/")
    p.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="also look for function modules in DIR (searched first; repeatable)")
    p.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only transport)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


class _Version(argparse.Action):
    """argparse's "version" action, but reading the version only when asked: importlib.metadata
    costs more than the rest of `heraspec validate`'s start-up."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        sys.stdout.write(f"heraspec {_version()}\n")
        parser.exit()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("heraspec")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


def parse_assignments(items: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} must look like NAME=VALUE, got '{item}'")
        out[name] = value
    return out


def _check_namespace(value: str | None, source: str) -> None:
    # the namespace goes into every request URL: refuse `../x` here, before anything is compiled
    from .document.patterns import NAME_HINT, namespace_problem

    if value and (problem := namespace_problem(value)):
        raise UsageError(f"{source}: {problem} ({NAME_HINT}, at most 63 characters)")


def _check_utf8(args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 reach argv as lone surrogates ('\\udcff'): YAML, JSON and Argo (Go) can
    carry none of them, so they are a usage error here, naming the argument, not a broken manifest."""
    for flag, attr in (("--set", "sets"), ("-p", "parameters")):
        for item in getattr(args, attr, None) or ():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                try:
                    raw = item.encode("utf-8", "surrogateescape")
                except UnicodeEncodeError:  # a surrogate that no byte gave (from a file or the API)
                    raw = item.encode("utf-8", "backslashreplace")
                shown = repr(raw[:80])[2:-1]  # the bytes as given: x=\xff
                part = "name" if e.start < len(item.partition("=")[0]) else "value"
                raise UsageError(f"{flag} '{shown}': the {part} is not valid UTF-8 "
                                 "(Argo and YAML carry only UTF-8 text)") from None


def _options(args: argparse.Namespace):
    from .pipeline import Options

    ns = getattr(args, "namespace", None) or os.environ.get("ARGO_NAMESPACE") or None
    _check_namespace(getattr(args, "namespace", None), "--namespace")
    if not getattr(args, "namespace", None):
        _check_namespace(os.environ.get("ARGO_NAMESPACE"), "ARGO_NAMESPACE")
    return Options(search_path=args.path, namespace=ns, values=getattr(args, "values", []), sets=getattr(args, "sets", []),
                   templates=getattr(args, "templates", []),
                   parameters=parse_assignments(getattr(args, "parameters", None) or [], "-p"))


def _build(args: argparse.Namespace, files: Sequence[str]):
    from .pipeline import build

    errors = Errors()
    compiled = build(files, errors, _options(args))
    if errors:
        raise SpecInvalid(errors)
    return compiled


# --- verbs ------------------------------------------------------------------------------------


def _notes(checked: Sequence[Any]) -> None:
    for c in checked:
        for note in c.notes:
            print(note, file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from .pipeline import check_files

    errors = Errors()
    checked = check_files(args.files, errors, _options(args))
    if errors:
        raise SpecInvalid(errors)
    _notes(checked)
    for f in args.files:
        print(f"{f}: ok")
    return EXIT_OK


def cmd_lock(args: argparse.Namespace) -> int:
    from .pipeline import check_files
    from .python import lock
    from .check.compose import EXIT_KEY

    errors = Errors()
    checked = check_files(args.files, errors, _options(args))
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
    from .argo import emit

    compiled = _build(args, args.files)
    out = args.output
    pretty = args.pretty if args.pretty is not None else out is None and sys.stdout.isatty()
    dump = (lambda docs: emit.to_json(docs, pretty=pretty)) if args.format == "json" else emit.to_yaml
    ext = ".json" if args.format == "json" else ".yaml"
    if out is None:
        sys.stdout.write(dump([c.manifest for c in compiled]))
        return EXIT_OK
    from pathlib import Path

    target = Path(out)
    if target.is_dir() or out.endswith(("/", os.sep)) or len(compiled) > 1:
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
    else:
        target.write_text(dump([compiled[0].manifest]), encoding="utf-8")
    return EXIT_OK


DEFAULT_SPECS = ("heraspec.yaml", "heraspec.yml", "heraspec.toml")  # what `heraspec init` writes


def cmd_run(args: argparse.Namespace) -> int:
    from .local.sync import parse_limits
    from .pipeline import runnable

    if args.file is None:
        args.file = next((f for f in DEFAULT_SPECS if os.path.isfile(f)), None)
        if args.file is None:
            raise UsageError("no SPEC given and no heraspec.yaml or heraspec.toml in this folder: name the spec to "
                             "run (heraspec run FILE), or create one with `heraspec init`")
    params = parse_assignments(args.parameters, "-p")
    parse_limits(args.semaphore)  # a usage error before anything is built
    if args.parallelism is not None and args.parallelism < 1:
        raise UsageError("--parallelism must be at least 1")
    (compiled,) = _build(args, [args.file])
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

    from .local import runner
    from .local.progress import make_reporter, summary_text, to_json

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


def cmd_apply(args: argparse.Namespace) -> int:
    parse_assignments(args.parameters, "-p")
    compiled = _build(args, args.files)
    return apply_manifests([c.manifest for c in compiled], args, sys.stdout, sys.stderr)


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Argo Server connection the command line names, as applier's keyword options."""
    from .argo.applier import CLIENT_OPTIONS, CONNECTION_OPTIONS, WAIT_OPTIONS

    # client/wait knobs are not CLI flags; tests and embedders may set them on the namespace
    names = CONNECTION_OPTIONS + CLIENT_OPTIONS + WAIT_OPTIONS
    opts = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    if getattr(args, "plaintext", None):  # the CLI spells ARGO_SECURE=false as --plaintext
        opts["secure"] = False
    return opts


def apply_manifests(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """`heraspec apply` of compiled manifests: exit 0 when every resource was applied (and every
    waited-for Workflow succeeded), else 1."""
    from .argo import applier

    report = applier.apply(manifests, dry_run=getattr(args, "dry_run", None), wait=bool(getattr(args, "wait", False)),
                           logs=bool(getattr(args, "logs", False)), replace=bool(getattr(args, "replace", False)),
                           parameters=parse_assignments(getattr(args, "parameters", None) or [], "-p"),
                           stdout=stdout, stderr=stderr, verbose=bool(getattr(args, "verbose", False)),
                           **connection_options(args))
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_diff(args: argparse.Namespace) -> int:
    compiled = _build(args, args.files)
    return diff_manifests([c.manifest for c in compiled], args, sys.stdout, sys.stderr)


def diff_manifests(manifests: list[dict], args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Prints the diff; exit 0 (1 with `--exit-code` when there are differences, or on failure)."""
    from .argo import applier
    from .argo.client import ArgoError

    try:
        text = applier.diff(manifests, stderr=stderr, verbose=bool(getattr(args, "verbose", False)),
                            **connection_options(args))
    except ArgoError as e:  # its message is fit to print (applier.diff)
        print(f"error: {e}", file=stderr)
        return EXIT_INVALID
    stdout.write(text)
    return EXIT_INVALID if text and getattr(args, "exit_code", False) else EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from . import graph
    from .pipeline import check_files

    fmt, out = args.format or "mermaid", args.output
    if fmt == "png" and not out:
        raise UsageError("--format png writes binary data: give a file with -o FILE")
    graph.need_renderer(fmt)  # before the spec is read
    errors = Errors()
    checked = check_files([args.file], errors, _options(args))
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

    from . import scaffold

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
    from .local import disk
    from .document.patterns import seconds

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
    from .document.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from .lsp.server import serve
    except ImportError as exc:
        raise HeraspecError(f"heraspec lsp needs pygls and lsprotocol ({exc.name} is missing): "
                            "pip install 'heraspec[lsp]'") from None
    return serve(args.path)


VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": cmd_validate, "lock": cmd_lock, "compile": cmd_compile, "run": cmd_run, "apply": cmd_apply,
    "diff": cmd_diff, "graph": cmd_graph, "init": cmd_init, "cache": cmd_cache, "schema": cmd_schema,
    "lsp": cmd_lsp,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in VERBS else None)
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        _check_utf8(args)
        return VERBS[args.verb](args)
    except SpecInvalid as exc:
        print(exc.errors.format(), file=sys.stderr)
        n = len(exc.errors)
        print(f"{n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"heraspec: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HeraspecError as exc:
        print(f"heraspec: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # before OSError, whose subclass it is: `heraspec compile | head` is fine
        return EXIT_OK
    except OSError as exc:
        path = _given_path(args, exc)
        if path is None:  # not a path the user named: heraspec's own files, a bug until shown otherwise
            return _internal_error(args, exc)
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        print(f"heraspec: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        print(f"  hint: {path} is given on the command line: check that its folder exists and that you may "
              "write there", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("heraspec: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _internal_error(args, exc)


def _given_path(args: argparse.Namespace, exc: OSError) -> str | None:
    """The output path on the command line (-o, --workdir, init's DIR) that `exc` is about, or None."""
    failed = os.path.abspath(os.fsdecode(exc.filename)) if exc.filename is not None else None
    if failed is None:
        return None
    for attr in ("output", "workdir", "dir"):
        given = getattr(args, attr, None)
        if isinstance(given, str) and given:
            root = os.path.abspath(given)
            # the path itself, a parent on the way to it (mkdir -p), or a file written inside it
            if failed == root or root.startswith(failed.rstrip(os.sep) + os.sep) or failed.startswith(root + os.sep):
                return given
    return None


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    if getattr(args, "debug", False):
        import traceback

        traceback.print_exception(exc)
    print(f"heraspec: internal error ({type(exc).__name__}); please report it at {REPORT_URL} "
          "with the command you ran (rerun with --debug to see the trace)", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
