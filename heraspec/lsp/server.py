"""`heraspec lsp`: the Language Server over stdio (pygls + lsprotocol, the `heraspec[lsp]` extra).

The LSP side only: documents in, diagnostics / completion / hover / definition / references /
rename / code actions out. What they say comes from project.py (checks: `validate`'s own),
complete.py and navigate.py, in code points; this module converts to the client's units.

Diagnostics are published on open and after each change (once the changes pause for DEBOUNCE),
with the document's version; errors located in another file (a sub-pipeline's spec) go to that
file. A change to a Python file (the client's file watcher, or a save of an open .py document)
checks again the open specs that use it or have errors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import Sequence
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

from ..errors import SpecError, read_note
from . import navigate, text as textpos
from .complete import Modules, complete
from .project import Analysis, Project

log = logging.getLogger(__name__)

DEBOUNCE = 0.02  # seconds: a burst of keystrokes is checked once, at its end
SOURCE = "heraspec"
_SPEC_NAME = re.compile(r"(^|\.)heraspec\.(ya?ml|toml)$")
_SPEC_TEXT = re.compile(r"^(tasks\s*:|\[tasks[.\]]|tasks\s*=|workflow_template_ref\s*[:=])|heraspec\.schema\.json", re.M)
_KINDS = {"function": t.CompletionItemKind.Function, "argument": t.CompletionItemKind.Variable,
          "task": t.CompletionItemKind.Reference, "parameter": t.CompletionItemKind.Constant,
          "key": t.CompletionItemKind.Property, "value": t.CompletionItemKind.EnumMember}


def is_spec(path: str, text: str) -> bool:
    """A YAML/TOML document heraspec checks: named like a spec, or with a spec's top-level keys or
    schema line (other YAML the editor opens, a CI config say, gets nothing from this server)."""
    if not path.endswith((".yaml", ".yml", ".toml")):
        return False
    return bool(_SPEC_NAME.search(os.path.basename(path)) or _SPEC_TEXT.search(text))


def uri_to_path(uri: str) -> str:
    u = urlparse(uri)
    return os.path.normpath(unquote(u.path)) if u.scheme == "file" else uri


def path_to_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).resolve().as_uri() if os.path.isabs(path) or os.path.exists(path) else path


class HeraspecServer(LanguageServer):
    def __init__(self, search_path: Sequence[str] = ()):
        super().__init__("heraspec", _version())
        self.project = Project(search_path)
        self.modules = Modules()
        self.pending: dict[str, int | None] = {}
        self.published: dict[str, set[str]] = {}  # spec uri -> the other files it put diagnostics on

    # --- positions ----------------------------------------------------------------------------

    def units(self, line: str, character: int) -> int:
        return self.workspace.position_codec.client_num_units(line[:character])

    def chars(self, line: str, units: int) -> int:
        n = 0
        for i, ch in enumerate(line):
            if n >= units:
                return i
            n += self.workspace.position_codec.client_num_units(ch)
        return len(line)

    def range(self, lines: list[str], line: int, start: int, end: int) -> t.Range:
        text = lines[line] if 0 <= line < len(lines) else ""
        return t.Range(t.Position(line, self.units(text, start)), t.Position(line, self.units(text, end)))

    def location(self, loc: navigate.Location) -> t.Location:
        an = self.project.specs.get(loc.path)
        lines = (an.text if an is not None else _read(loc.path)).split("\n")
        return t.Location(uri=path_to_uri(loc.path), range=self.range(lines, loc.line, loc.start, loc.end))

    def position(self, an: Analysis, pos: t.Position) -> tuple[int, int]:
        lines = an.text.split("\n")
        text = lines[pos.line] if pos.line < len(lines) else ""
        return pos.line, self.chars(text, pos.character)

    # --- checking -----------------------------------------------------------------------------

    def analysis(self, uri: str) -> Analysis | None:
        """The spec as the editor has it now (checked again only if it changed since)."""
        path = uri_to_path(uri)
        doc = self.workspace.get_text_document(uri)
        if not is_spec(path, doc.source):
            return None
        return self.project.check(path, doc.source, doc.version)

    def check(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        path = uri_to_path(uri)
        if not is_spec(path, doc.source):
            return
        an = self.project.check(path, doc.source, doc.version)
        self.publish(uri, an)

    def publish(self, uri: str, an: Analysis) -> None:
        others: set[str] = set()
        for file, errs in an.by_file().items():
            if os.path.abspath(file) == an.path:
                self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                    uri=uri, version=an.version, diagnostics=self.diagnostics(an.text, errs + notes_of(an))))
                continue
            other = path_to_uri(file)
            others.add(other)
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                uri=other, diagnostics=self.diagnostics(_read(file), errs)))
        for gone in self.published.get(uri, set()) - others:
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=gone, diagnostics=[]))
        self.published[uri] = others

    def diagnostics(self, text: str, errors: list[SpecError]) -> list[t.Diagnostic]:
        lines = text.split("\n")
        out = []
        for e in errors:
            line = min(max(e.line - 1, 0), max(len(lines) - 1, 0))
            line_text = lines[line] if lines else ""
            start = min(max(e.col - 1, 0), len(line_text))
            end = textpos.token_end(line_text, start)
            if end <= start:  # past the end of the line: the line's last character, or its end
                start, end = max(len(line_text) - 1, 0), len(line_text)
            message = e.message + (f"\nhint: {e.hint}" if e.hint else "")
            fix = getattr(e, "fix", None)
            out.append(t.Diagnostic(
                range=self.range(lines, line, start, end), message=message, source=SOURCE,
                severity=SEVERITIES.get(e.severity, t.DiagnosticSeverity.Error),
                data={"hint": e.hint, "fix": fix} if isinstance(fix, str) else {"hint": e.hint}))
        return out

    def python_changed(self, path: str) -> None:
        self.modules.forget()
        for spec in self.project.python_changed(path):
            uri = path_to_uri(spec)
            try:
                self.check(uri)
            except Exception:
                log.exception("checking %s again", spec)


SEVERITIES = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning,
              "note": t.DiagnosticSeverity.Information}


def notes_of(an: Analysis) -> list[SpecError]:
    """The located notes `validate` prints for this text (not errors: the spec is valid), as
    Information diagnostics at their place."""
    out = []
    for text in an.checked.notes if an.checked is not None else ():
        found = read_note(text)
        if found is not None and os.path.abspath(found[0]) == an.path:
            out.append(SpecError(found[0], found[1], found[2], found[3], severity="note"))
    return out


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("heraspec")
    except Exception:  # running from a checkout
        return "0+unknown"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def build_server(search_path: Sequence[str] = ()) -> HeraspecServer:
    server = HeraspecServer(search_path)

    @server.feature(t.INITIALIZED)
    def initialized(ls: HeraspecServer, params: t.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps else None
        if watch and watch.dynamic_registration:
            ls.client_register_capability(t.RegistrationParams(registrations=[t.Registration(
                id="heraspec-python-files", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=t.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[t.FileSystemWatcher(glob_pattern="**/*.py")]))]))
        root = ls.workspace.root_path
        if root and os.path.isdir(root):
            os.chdir(root)  # relative paths in messages read as `heraspec validate` run there shows them

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HeraspecServer, params: t.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: HeraspecServer, params: t.DidChangeTextDocumentParams) -> None:
        uri, version = params.text_document.uri, params.text_document.version
        ls.pending[uri] = version
        await asyncio.sleep(DEBOUNCE)
        if ls.pending.get(uri) == version:  # else a newer change checks
            ls.pending.pop(uri, None)
            ls.check(uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HeraspecServer, params: t.DidSaveTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        if path.endswith(".py"):
            ls.python_changed(path)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HeraspecServer, params: t.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.project.close(uri_to_path(uri))
        for other in ls.published.pop(uri, set()) | {uri}:
            ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=other, diagnostics=[]))

    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: HeraspecServer, params: t.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path.endswith(".py"):
                ls.python_changed(path)

    @server.feature(t.TEXT_DOCUMENT_COMPLETION,
                    t.CompletionOptions(trigger_characters=[":", " ", "{", "[", ",", '"', "=", "."]))
    def completion(ls: HeraspecServer, params: t.CompletionParams) -> t.CompletionList | None:
        an = ls.analysis(params.text_document.uri)
        if an is None:
            return None
        line, char = ls.position(an, params.position)
        lines = an.text.split("\n")
        items = []
        found = complete(an, ls.project, ls.modules, line, char)
        for n, it in enumerate(found):
            rng = ls.range(lines, line, it["start"], char)
            items.append(t.CompletionItem(
                label=it["label"], kind=_KINDS.get(it["kind"]), detail=it["detail"] or None,
                documentation=t.MarkupContent(kind=t.MarkupKind.Markdown, value=it["documentation"])
                if it["documentation"] else None,
                text_edit=t.TextEdit(range=rng, new_text=it["text"]), filter_text=it["label"],
                sort_text=f"{n:05d}"))
        return t.CompletionList(is_incomplete=any(it.get("incomplete") for it in found), items=items)

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def hover(ls: HeraspecServer, params: t.HoverParams) -> t.Hover | None:
        an = ls.analysis(params.text_document.uri)
        if an is None:
            return None
        line, char = ls.position(an, params.position)
        found = navigate.hover(an, ls.project, line, char)
        if found is None:
            return None
        md, sym = found
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=md),
                       range=ls.range(an.text.split("\n"), sym.line, sym.start, sym.end))

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: HeraspecServer, params: t.DefinitionParams) -> t.Location | None:
        an = ls.analysis(params.text_document.uri)
        if an is None:
            return None
        loc = navigate.definition(an, ls.project, *ls.position(an, params.position))
        return ls.location(loc) if loc else None

    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    def references(ls: HeraspecServer, params: t.ReferenceParams) -> list[t.Location] | None:
        an = ls.analysis(params.text_document.uri)
        if an is None:
            return None
        locs = navigate.find_references(an, *ls.position(an, params.position), params.context.include_declaration)
        return [ls.location(loc) for loc in locs]

    @server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: HeraspecServer, params: t.PrepareRenameParams) -> t.Range | None:
        an = ls.analysis(params.text_document.uri)
        sym = navigate.rename_target(an, *ls.position(an, params.position)) if an else None
        return ls.range(an.text.split("\n"), sym.line, sym.start, sym.end) if sym and an else None

    @server.feature(t.TEXT_DOCUMENT_RENAME)
    def rename(ls: HeraspecServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
        an = ls.analysis(params.text_document.uri)
        if an is None:
            return None
        locs = navigate.rename(an, *ls.position(an, params.position), params.new_name)
        if isinstance(locs, str):
            from pygls.exceptions import JsonRpcInvalidParams

            raise JsonRpcInvalidParams(locs)
        lines = an.text.split("\n")
        return t.WorkspaceEdit(changes={params.text_document.uri: [
            t.TextEdit(range=ls.range(lines, loc.line, loc.start, loc.end), new_text=params.new_name) for loc in locs]})

    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                    t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
    def code_action(ls: HeraspecServer, params: t.CodeActionParams) -> list[t.CodeAction] | None:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        lines = doc.source.split("\n")
        out = []
        for diag in params.context.diagnostics:
            if diag.source != SOURCE or diag.range.start.line != diag.range.end.line:
                continue
            line = lines[diag.range.start.line] if diag.range.start.line < len(lines) else ""
            start, end = ls.chars(line, diag.range.start.character), ls.chars(line, diag.range.end.character)
            fix = diag.data.get("fix") if isinstance(diag.data, dict) else None
            for title, a, b, new in navigate.fixes(line, start, end, diag.message, fix):
                rng = ls.range(lines, diag.range.start.line, a, b)
                out.append(t.CodeAction(title=title, kind=t.CodeActionKind.QuickFix, diagnostics=[diag],
                                        is_preferred=len(out) == 0,
                                        edit=t.WorkspaceEdit(changes={uri: [t.TextEdit(range=rng, new_text=new)]})))
        return out

    return server


def serve(search_path: Sequence[str] = ()) -> int:
    """Serve on stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="heraspec lsp: %(levelname)s: %(message)s")
    # absolute: the server moves to the editor's project folder once the client says which it is
    build_server([os.path.abspath(p) for p in search_path]).start_io()
    return 0
