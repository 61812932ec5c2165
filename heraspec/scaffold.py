"""`heraspec init [DIR] [--toml]`: a working starter spec, its steps module and editor settings.

Writes into DIR (created when missing), and never overwrites: files that exist are left alone and
named, the others are written.

    heraspec.yaml | heraspec.toml   the spec, with a schema modeline (`# yaml-language-server:` / `#:schema`)
    steps.py                        the spec's functions
    .vscode/settings.json           `yaml.schemas`: heraspec.yaml and *.heraspec.yaml use the schema; the
                                    Generic LSP Client extension (glspc) starts `heraspec lsp` on YAML and TOML
    .vscode/extensions.json         the extensions those settings are for (YAML, Even Better TOML, glspc)
    .nvim.lua                       Neovim: starts `heraspec lsp` on YAML and TOML buffers (`:set exrc`)
    .taplo.toml                     Taplo (Even Better TOML, `taplo lint`): heraspec.toml and *.heraspec.toml too
    .gitignore                      `.heraspec/`, where `heraspec run` keeps its run folders

`heraspec init --example NAME [DIR]` writes a bundled example instead (its YAML and TOML specs and
the modules they name), the same files as `examples/` of the repository, shipped in the package.

Where the schema is: every file points at the JSON Schema inside the heraspec installation that
wrote it, as an absolute `file://` URI. Editors need no network and the schema always matches that
heraspec; the price is a machine-specific path, so a team sharing the repository either reruns
`heraspec init` in a scratch folder and copies the URI, or commits `heraspec schema > heraspec.schema.json`
and points at `./heraspec.schema.json` (both the modeline and Taplo resolve paths relative to the file).
The language server is started the same way: with the interpreter of the heraspec that wrote the
settings (`python -m heraspec lsp`), so no PATH or virtual environment needs activating. The server
itself tells specs from other YAML/TOML (by name, top-level keys or schema line) and leaves the rest.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import HeraspecError, UsageError

YAML_PATTERNS = ["heraspec.yaml", "heraspec.yml", "*.heraspec.yaml", "*.heraspec.yml"]
TOML_PATTERNS = ["**/heraspec.toml", "**/*.heraspec.toml"]
# YAML (the schema), Even Better TOML (Taplo: the schema), Generic LSP Client (starts `heraspec lsp`)
VSCODE_EXTENSIONS = ["redhat.vscode-yaml", "tamasfe.even-better-toml", "zsol.vscode-glspc"]


def schema_uri() -> str:
    """A file:// URI of the schema of this heraspec installation."""
    from .document.schema import SCHEMA_FILES

    for f in SCHEMA_FILES:
        if os.path.isfile(f):
            return Path(f).resolve().as_uri()
    raise HeraspecError("heraspec.schema.json is missing from the installation; reinstall heraspec")


def pipeline_name(directory: Path) -> str:
    """A DNS-1123 name from the folder's name, for `generate_name`."""
    slug = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")[:40].strip("-")
    return slug or "my-pipeline"


def files_for(directory: Path, *, toml: bool) -> dict[str, str]:
    """Relative path -> content of every file `init` writes."""
    uri = schema_uri()
    name = pipeline_name(directory)
    spec = ("heraspec.toml", _TOML_SPEC.format(uri=uri, name=name)) if toml else \
        ("heraspec.yaml", _YAML_SPEC.format(uri=uri, name=name))
    cmd = lsp_command()
    settings = {"yaml.schemas": {uri: YAML_PATTERNS}, "glspc.server.command": cmd[0],
                "glspc.server.commandArguments": cmd[1:], "glspc.server.languageId": ["yaml", "toml"]}
    return {
        spec[0]: spec[1],
        "steps.py": _STEPS.format(spec=spec[0]),
        ".vscode/settings.json": json.dumps(settings, indent=2) + "\n",
        ".vscode/extensions.json": json.dumps({"recommendations": VSCODE_EXTENSIONS}, indent=2) + "\n",
        ".nvim.lua": _NVIM.replace("{cmd}", "{ " + ", ".join(json.dumps(c) for c in cmd) + " }"),
        ".taplo.toml": _TAPLO.format(uri=uri, patterns=json.dumps(TOML_PATTERNS)),
    }


def lsp_command() -> list[str]:
    """The command that starts this installation's `heraspec lsp` (its own interpreter)."""
    return [sys.executable, "-m", "heraspec", "lsp"]


def example_names() -> list[str]:
    return sorted({f.stem for f in _examples().iterdir() if f.suffix in (".yaml", ".toml")})


def example_files(name: str) -> dict[str, str]:
    """Relative path -> content of a bundled example: its specs, and the modules their functions name."""
    root = _examples()
    specs = sorted((f for f in root.iterdir() if f.stem == name and f.suffix in (".yaml", ".toml")),
                   key=lambda f: f.suffix != ".yaml")  # YAML first
    if not specs:
        raise UsageError(f"no bundled example {name!r}; the examples are: {', '.join(example_names())}")
    uri = schema_uri()
    out: dict[str, str] = {}
    for spec in specs:
        text = spec.read_text(encoding="utf-8")
        # the repository's relative schema path means nothing elsewhere: point at the installed schema
        text = re.sub(r"^(# yaml-language-server: \$schema=|#:schema ).*$", lambda m: m.group(1) + uri, text, 1, re.M)
        out[spec.name] = text
        lock = root / f"{spec.name}.lock"  # its locked packages (heraspec lock), when it has any
        if lock.is_file():
            out[lock.name] = lock.read_text(encoding="utf-8")
        for module in dict.fromkeys(re.findall(r"""function\s*[:=]\s*["']?([A-Za-z_][\w]*)[\w.]*:""", text)):
            if (root / module).is_dir():
                out.update({f"{module}/{f.name}": f.read_text(encoding="utf-8")
                            for f in sorted((root / module).iterdir()) if f.suffix == ".py"})
            elif (root / f"{module}.py").is_file():
                out[f"{module}.py"] = (root / f"{module}.py").read_text(encoding="utf-8")
    return out


def _examples():  # a Traversable: the package's examples/ folder (a link to the repository's in a checkout)
    from importlib.resources import files

    return files("heraspec") / "examples"


@dataclass
class Scaffolded:
    """What `write` did: the files written (in order), those left alone, and the spec to run next."""

    written: list[Path]
    kept: list[str]
    spec: str
    gitignore_misses_runs: bool  # a .gitignore was there and does not ignore .heraspec/


def write(directory: str, *, toml: bool = False, example: str | None = None) -> Scaffolded:
    """Write the starter files (or the bundled `example`) into `directory`, never overwriting."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise HeraspecError(f"{directory} exists and is not a folder")
    if example:
        files = example_files(example)
    else:
        files = files_for(root, toml=toml)
        files[".gitignore"] = ".heraspec/\n"  # `heraspec run` in DIR keeps its run folders there
    kept = [rel for rel in files if (root / rel).exists() or (root / rel).is_symlink()]
    written = []
    for rel, text in files.items():
        if rel in kept:
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written.append(target)
    if example:
        spec = f"{example}.toml" if toml and f"{example}.toml" in files else next(iter(files))
    else:
        spec = "heraspec.toml" if toml else "heraspec.yaml"
    return Scaffolded(written, kept, spec, ".gitignore" in kept and not _ignores_runs(root / ".gitignore"))


def _ignores_runs(gitignore: Path) -> bool:
    try:
        lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return True  # not ours to judge
    return any(ln.strip().strip("/") in (".heraspec", ".heraspec/runs", "*") for ln in lines)


_YAML_SPEC = """\
# yaml-language-server: $schema={uri}
# A starter heraspec pipeline: numbers -> square each one (a fan-out) -> total.
#   heraspec run heraspec.yaml        run it on this machine
#   heraspec graph heraspec.yaml      draw it (Mermaid)
#   heraspec compile heraspec.yaml    the Argo Workflow
kind: Workflow
generate_name: {name}-
image: python:3.12
parameters:
  count: 4                      # override with: heraspec run heraspec.yaml -p count=10
tasks:
  numbers:
    function: steps:numbers
    args: {{count: {{param: count}}}}
  square:
    function: steps:square
    foreach: {{from: numbers}}     # one square task per number
    args: {{x: {{item: true}}}}
  total:
    function: steps:total
    args: {{squares: {{from: square}}}}   # the list of every square's result
"""

_TOML_SPEC = """\
#:schema {uri}
# A starter heraspec pipeline: numbers -> square each one (a fan-out) -> total.
#   heraspec run heraspec.toml        run it on this machine
#   heraspec graph heraspec.toml      draw it (Mermaid)
#   heraspec compile heraspec.toml    the Argo Workflow
kind = "Workflow"
generate_name = "{name}-"
image = "python:3.12"

[parameters]
count = 4                       # override with: heraspec run heraspec.toml -p count=10

[tasks.numbers]
function = "steps:numbers"
args = {{ count = {{ param = "count" }} }}

[tasks.square]
function = "steps:square"
foreach = {{ from = "numbers" }}   # one square task per number
args = {{ x = {{ item = true }} }}

[tasks.total]
function = "steps:total"
args = {{ squares = {{ from = "square" }} }}   # the list of every square's result
"""

_STEPS = '''\
"""The functions of {spec}.

heraspec reads this file and never imports it: each function's source (with the imports and
helpers it uses) goes into its task's container. Arguments and return values travel as JSON.
"""


def numbers(count: int) -> list:
    """The numbers 1..count."""
    return list(range(1, count + 1))


def square(x: int) -> int:
    return x * x


def total(squares: list) -> int:
    result = sum(squares)
    print(f"{{len(squares)}} squares add up to {{result}}")
    return result
'''

_TAPLO = """\
# Taplo (the TOML toolkit behind Even Better TOML and `taplo lint`): heraspec specs in TOML
# use heraspec's schema for completion, hover docs and validation.
[[rule]]
include = {patterns}

[rule.schema]
path = "{uri}"
"""

_NVIM = """\
-- Neovim: `heraspec lsp` (errors as you type, completion, hover, go to definition, rename) on the
-- YAML and TOML buffers of this folder; the server leaves files that are not heraspec specs alone.
-- Neovim reads this file with `:set exrc` (0.9+ asks once whether to trust it), or copy it into
-- your init.lua. Written by `heraspec init`.
local cmd = {cmd}
local client_id
vim.api.nvim_create_autocmd("FileType", {
  pattern = { "yaml", "toml" },
  callback = function(args)
    local config = { name = "heraspec", cmd = cmd, root_dir = vim.fn.getcwd() }
    if vim.lsp.start then
      vim.lsp.start(config, { bufnr = args.buf })
    else -- Neovim 0.7
      client_id = client_id or vim.lsp.start_client(config)
      vim.lsp.buf_attach_client(args.buf, client_id)
    end
  end,
})
"""
