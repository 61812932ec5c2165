"""Literal values that would not reach the function intact through Argo's substitution.

Argo substitutes `{{...}}` in the JSON text of every template and DAG task (util/template): each
value put in place is escaped with Go's strconv.Quote (simpleReplaceStrict), and the result must
still be JSON, else the node fails with "cannot finish template replacement because the result was
invalid JSON". strconv.Quote writes C0 controls other than \\b \\t \\n \\f \\r, DEL, and unprintable
characters beyond U+FFFF as \\a, \\v, \\xNN or \\UNNNNNNNN, which JSON has no escapes for. Every
argument and parameter value is substituted at least once (into the template's inputs), so such a
character can never arrive: refused here, located. An unmatched `{{` makes the template parser fail
("Cannot find end tag"): refused too. (Python defaults with either are left for Python to apply, see
functions._encode_default.)
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import Errors
from .dag import has_text, is_ref
from ..document.load import Document
from ..document.nodes import Spec
from ..argo_lang.fasttemplate import unmatched_tag

_HINT = "remove it, or pass the text another way (base64, or a file read by the function)"
# a task's values as written that Argo substitutes (or not): (key, what the message calls one, substituted)
_TASK_VALUES = (("args", "argument value", True), ("foreach", "foreach item", True), ("env", "env value", False))


def _strings(value: Any, path: tuple) -> Iterator[tuple[str, tuple]]:
    if isinstance(value, str):
        yield value, path
    elif is_ref(value):  # {from}, {param}, {item: KEY}: names, checked where references are
        return
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, path + (i,))


def _argo_unsafe(text: str) -> int | None:
    from ..python.pod import argo_unsafe  # the pods' own rule (json_text), not script.py's machinery

    return argo_unsafe(text)


def check(doc: Document, spec: Spec, errors: Errors) -> None:
    """Refuse control characters Argo cannot substitute and unmatched `{{` in literal values (every
    text as written, in any shape: the walk reads `data`)."""
    # the values holding a text (numbers, booleans: nothing to refuse), each with its data path
    where: list[tuple[Any, tuple, str, bool]] = []
    parameters = spec.data.get("parameters")
    if parameters is not None and has_text(parameters, ""):
        where.append((parameters, ("parameters",), "parameter value", True))
    for task in spec.tasks.values():
        written = task.written  # the task's own env: `defaults`' is checked once, below
        for key, what, substituted in _TASK_VALUES:
            value = written.get(key)
            if value is not None and has_text(value, ""):
                where.append((value, task.where + (key,), what, substituted))
    defaults = spec.defaults
    env = defaults.data.get("env")
    if env is not None and has_text(env, ""):
        where.append((env, defaults.where + ("env",), "env value", False))
    for value, path, what, substituted in where:
        for text, at in _strings(value, path):
            # a printable text has no character argo_unsafe refuses (each is a control character, DEL or
            # unprintable): the pod runtime that decides it is imported only for the others
            bad = _argo_unsafe(text) if substituted and not text.isprintable() else None
            if bad is not None:
                doc.error(errors, at, f"{what} contains the control character U+{bad:04X}, which Argo cannot "
                          "substitute into a template (the task would fail with 'cannot finish template "
                          "replacement')", _HINT, offset=text.index(chr(bad)))
            start = unmatched_tag(text)
            if start is not None:
                doc.error(errors, at, f"{what} has '{{{{' without a matching '}}}}': Argo would fail to parse "
                          "the template ('Cannot find end tag')",
                          "close the expression, or avoid '{{' in literal text", offset=start)
