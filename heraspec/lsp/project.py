"""The open specs and what is known of each: the errors `validate` reports for the editor's text,
the loaded Document (the last one that loaded, while the text does not), its symbols, and the
Python files its functions come from. No LSP types here: the server (server.py) converts.

Checking is `pipeline.check_files` on the buffer's text, so the messages, hints and positions are
validate's own. What is re-read: a spec only when its text changed or a Python file it uses did;
a Python module only when its file changed (functions.py keeps parsed modules by size and mtime;
`forget_resolved` drops only the resolved refs).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ..errors import Errors, SpecError
from ..pipeline import Checked, Options, check_files, search_path_for
from ..python import functions
from ..document.load import Document, detect_format
from .symbols import Symbols

if TYPE_CHECKING:
    from ..argo.compiler import Compiled

log = logging.getLogger(__name__)


@dataclass
class Analysis:
    path: str
    text: str
    version: int | None
    errors: list[SpecError] = field(default_factory=list)
    checked: Checked | None = None  # None: this text did not load (a syntax error)
    doc: Document | None = None  # this text's Document, else the last one that loaded
    modules: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # file -> (mtime_ns, size) when checked
    dirty: bool = False  # a Python file it may depend on changed: check again even if the text did not
    _symbols: Symbols | None = None
    _compiled: "Compiled | None | bool" = False

    @property
    def fmt(self) -> str:
        return detect_format(self.path) or "yaml"

    @property
    def data(self) -> dict:
        return self.doc.data if self.doc is not None and isinstance(self.doc.data, dict) else {}

    @property
    def symbols(self) -> Symbols | None:
        """The symbols of this text (None while it does not load: positions would be stale)."""
        if self._symbols is None and self.checked is not None:
            self._symbols = Symbols(self.checked.doc)
        return self._symbols

    @property
    def compiled(self) -> "Compiled | None":
        """The compiled manifest, when the spec is valid (what hover shows as resolved)."""
        if self._compiled is False:
            self._compiled = None
            c = self.checked
            if c is not None and not self.errors and c.ok:
                from ..argo.compiler import compile_spec

                try:
                    self._compiled = compile_spec(c.doc.data, c.functions, source=c.doc.path, graph=c.graph,
                                                  pipelines=c.pipelines, spec=c.spec, ref_returns=c.ref_returns)
                except Exception:  # a compiler bug must not break hover
                    log.exception("compiling %s for hover", self.path)
        return self._compiled  # type: ignore[return-value]

    def by_file(self) -> dict[str, list[SpecError]]:
        out: dict[str, list[SpecError]] = {self.path: []}
        for e in self.errors:
            out.setdefault(e.file, []).append(e)
        return out


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class Project:
    def __init__(self, search_path: Sequence[str] = ()):
        self.opts = Options(search_path=tuple(search_path))
        self.specs: dict[str, Analysis] = {}

    def search_path(self, spec: str) -> list[str]:
        return search_path_for(spec, self.opts.search_path)

    def check(self, path: str, text: str, version: int | None = None) -> Analysis:
        """Check the editor's text of spec `path` (an absolute path); the same text with unchanged
        modules is not checked again."""
        old = self.specs.get(path)
        if old is not None and old.text == text and not old.dirty and not self._modules_changed(old):
            old.version = version
            return old
        if old is not None and self._modules_changed(old):
            functions.forget_resolved()
        errors = Errors()
        checked: Checked | None = None
        try:
            found = check_files([path], errors, self.opts, texts={path: text})
            checked = found[0] if found else None
        except Exception as exc:  # a bug in a check: one diagnostic, and the server goes on
            log.exception("checking %s", path)
            errors.add(path, 1, 1, f"heraspec could not check this spec: internal error ({type(exc).__name__}: {exc})",
                       "please report it with the spec; `heraspec validate --debug` shows the trace")
        an = Analysis(path, text, version, list(errors), checked)
        an.doc = checked.doc if checked is not None else (old.doc if old is not None else None)
        if checked is not None:
            for fn in checked.functions.values():
                an.modules[fn.file] = _stamp(fn.file)
        elif old is not None:
            an.modules = old.modules
        self.specs[path] = an
        return an

    def _modules_changed(self, an: Analysis) -> bool:
        return any(_stamp(f) != stamp for f, stamp in an.modules.items())

    def close(self, path: str) -> None:
        self.specs.pop(path, None)

    def python_changed(self, py_file: str) -> list[str]:
        """A Python file changed, appeared or went: the specs to check again (those that use it, and
        those with errors, which it may fix: a module that was missing, a misspelt function)."""
        functions.forget_resolved()
        real = os.path.realpath(py_file)
        out = []
        for path, an in self.specs.items():
            uses = any(os.path.realpath(f) == real for f in an.modules)
            if uses or an.errors:
                an.dirty = True
                out.append(path)
        return out
