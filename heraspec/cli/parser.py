"""The verbs of `heraspec` and their options (argparse): each verb's --help says what it does, then
its options, then examples. Usage errors exit 2 with heraspec's prefix."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .exits import EXIT_USAGE


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


def _path(p: argparse.ArgumentParser) -> None:
    p.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="also look for function modules in DIR (searched first; repeatable)")


def _common(p: argparse.ArgumentParser, *, values: bool = True) -> None:
    _path(p)
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


def _verb(sub, name: str, summary: str, description: str, examples: str, *,
          files: bool = False) -> argparse.ArgumentParser:
    """A verb whose --help says what it does, then its options, then examples; every verb takes
    --debug; with `files`, its first argument is one or more spec files (when `sub.only`, the verb
    the command line names, is another verb: nothing)."""
    if getattr(sub, "only", None) not in (None, name):
        return _Unbuilt()  # type: ignore[return-value]
    p = sub.add_parser(name, help=summary, epilog="examples:\n" + examples,
                       formatter_class=_Formatter)
    p.unfilled = f"{summary[0].upper()}{summary[1:]}. {description}"  # filled only for --help
    if files:
        p.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP)
    p.add_argument("--debug", action="store_true", help="show the Python trace of internal errors")
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
              "  heraspec validate examples/diamond.yaml\n  heraspec validate flows/*.heraspec.yaml --path src",
              files=True)
    _common(p)

    p = _verb(sub, "lock", "pin every package set of specs, with hashes, in a lock file beside each",
              "Resolves each task's `packages:` (spec, defaults, task, exit handler) for Linux and the Python of "
              "the task's image (python:3.11 -> 3.11; 3.12 otherwise) with uv (`uv pip compile "
              "--generate-hashes`; pip's resolver when uv is absent) and writes SPEC.lock (JSON). compile then "
              "embeds the pins: every pod, and heraspec run, installs exactly them, hashes required. Commit the "
              "lock with the spec; validate refuses a spec whose packages changed since.",
              "  heraspec lock examples/bookshop.yaml          # writes examples/bookshop.yaml.lock\n"
              "  heraspec lock flow.yaml --wheels wheels/      # and downloads the pinned wheels, for a cluster "
              "without internet", files=True)
    p.add_argument("--wheels", metavar="DIR", help="also download every pinned wheel (hashes checked) into DIR, with "
                   "an index.html; pods install from it with env PIP_NO_INDEX=1 and PIP_FIND_LINKS=<DIR as they see it>")
    _common(p)

    p = _verb(sub, "compile", "compile specs to Argo manifests (YAML or JSON)",
              "Validates first; the output is deterministic (the same spec gives the same bytes). Each task "
              "requests 1 CPU and 4Gi of memory unless its resources say otherwise.",
              "  heraspec compile examples/diamond.yaml                 # to stdout\n"
              "  heraspec compile flows/*.yaml -o manifests/            # one file per spec", files=True)
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
              "  ARGO_SERVER=localhost:2746 heraspec apply flows/*.yaml --wait", files=True)
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
              "  heraspec diff flows/*.yaml\n  heraspec diff flows/train.yaml -n ml", files=True)
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

    p = _verb(sub, "schema", "print the spec's JSON Schema",
              "The schema editors use for completion, hover docs and diagnostics (yaml-language-server, Taplo); "
              "commit it next to your specs to share one path with a team.",
              "  heraspec schema > heraspec.schema.json\n"
              "  # then, on a spec's first line: # yaml-language-server: $schema=./heraspec.schema.json")

    p = _verb(sub, "lsp", "the language server for editors (stdio): live errors, completion, hover, definition",
              "Speaks the Language Server Protocol on stdin/stdout: validate's errors as you type, completion of "
              "functions, arguments, task and parameter names and schema keys, hover, go to definition, "
              "references, rename of tasks and quick fixes. Needs the lsp extra: pip install 'heraspec[lsp]'. "
              "`heraspec init` writes the editor settings that start it.",
              "  heraspec lsp                 # started by the editor, not by hand\n"
              "  heraspec lsp --path src      # function modules also in src/")
    _path(p)
    p.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only transport)")
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
