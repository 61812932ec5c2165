"""Values: `--values FILE` and `--set KEY=VALUE`, rendered into a spec's string scalars.

    heraspec compile spec.yaml --values base.yaml --values prod.toml --set train.cpu=8

- Files (YAML or TOML mappings) are deep-merged in order, later files winning; `--set` wins over
  every file. A dotted key (`train.cpu`) sets a nested value. A `--set` value is a string unless it
  reads as a YAML number or boolean (`8` -> 8, `0.5` -> 0.5, `true` -> True).
- Rendering happens on the parsed data, never on file text: only string scalars that contain a
  placeholder are rendered (keys, numbers and function source are never touched), with Jinja in
  a sandbox and delimiters Argo does not use: `[[ expr ]]`, `[% block %]`, `[# comment #]`.
  Argo's own `{{...}}` is plain text to it and passes through unchanged; so is a string with no
  complete placeholder (a lone `[[`). A literal `[[` next to placeholders is written `[[ '[[' ]]`.
- Without any values nothing is rendered; a `[[ name ]]` left in a string is then reported as a
  forgotten value (`check_unrendered`).
- A string that is exactly one `[[ expr ]]` takes the expression's value with its type:
  `cpu: "[[ cpu ]]"` with cpu=4 becomes the number 4, and a list value stays a list. Anything
  else renders to text.
- An undefined name, a syntax error or an unsafe expression (the sandbox refuses attributes such as
  `__class__`) is an error at the string's position.

`jinja2` is imported only when values are given and a string has a placeholder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from ..errors import Errors, UsageError
from ..merge import merge_mappings
from .load import MAX_DEPTH, Document, detect_format, load_file, resolve_plain

VAR_START, VAR_END = "[[", "]]"
BLOCK_START, BLOCK_END = "[%", "%]"
COMMENT_START, COMMENT_END = "[#", "#]"
_MARKERS = (VAR_START, BLOCK_START, COMMENT_START)
# the whole string is one `[[ ... ]]` (nothing but spaces around it, no second placeholder inside)
_SINGLE = re.compile(r"\s*\[\[((?:(?!\]\]|\[\[|\[%|\[#).)*)\]\]\s*\Z", re.DOTALL)
_UNDEFINED = re.compile(r"'([^']+)' is undefined")
_MAX_SEQUENCE = 1_000_000  # a `*` in a placeholder may build a string or list this long at most
_MAX_POWER_BITS = 100_000  # an integer `**` may give a number this many bits long at most
_MAX_STEPS = 1_000_000  # lines of template code one placeholder may run (nested loops end here)


# --- loading ----------------------------------------------------------------------------------


def load_values(files: Sequence[str], sets: Sequence[str], errors: Errors) -> dict:
    """Deep-merge the values files in order, then the `--set` assignments; problems go to `errors`."""
    merged: dict = {}
    for path in files:
        data = _load_file(path, errors)
        if data is not None:
            merged = merge_mappings(merged, data)
    for item in sets:
        key, sep, raw = item.partition("=")
        parts = key.split(".")
        if not sep or not all(p.strip() for p in parts):
            raise UsageError(f"--set must look like KEY=VALUE or A.B.KEY=VALUE, got '{item}'")
        if len(parts) > MAX_DEPTH:  # values files are held to the same depth by the loader
            raise UsageError(f"--set {key[:40].rstrip('.')}...: a key of {len(parts)} dotted parts nests deeper than "
                             f"{MAX_DEPTH} levels")
        value: Any = {parts[-1].strip(): parse_set_value(raw)}
        for p in reversed(parts[:-1]):
            value = {p.strip(): value}
        merged = merge_mappings(merged, value)
    return merged


def parse_set_value(raw: str) -> Any:
    """`--set` values: int, float or bool when they read as such in YAML, else the string itself."""
    value = resolve_plain(raw) if raw else raw
    return value if isinstance(value, (bool, int, float)) else raw


def _load_file(path: str, errors: Errors) -> dict | None:
    if detect_format(path) is None:
        errors.add(path, 1, 1, "unknown values file format", "values files end in .yaml, .yml or .toml")
        return None
    try:
        if Path(path).is_file() and not Path(path).read_bytes().strip():
            return {}  # an empty values file sets nothing
    except OSError:
        pass  # load_file reports it
    doc = load_file(path, errors)
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        doc.error(errors, (), "a values file must be a mapping of names to values", "e.g. `cpu: 4`")
        return None
    return doc.data


# --- rendering --------------------------------------------------------------------------------


_ANY_PLACEHOLDER = re.compile(r"\[\[.*?\]\]|\[%.*?%\]|\[#.*?#\]", re.DOTALL)


def has_placeholder(text: str) -> bool:
    """A complete `[[ ]]`, `[% %]` or `[# #]` pair: a lone `[[` is just text."""
    return any(m in text for m in _MARKERS) and _ANY_PLACEHOLDER.search(text) is not None


_PLAIN_PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_][A-Za-z0-9_]*)[A-Za-z0-9_.]*\s*(\|[^\]]*)?\]\]")


def check_unrendered(doc: Document, errors: Errors) -> None:
    """Without any values, a `[[ name ]]` left in a string is a forgotten --values: say so.

    Only clear placeholders count (a name, maybe filters), so a string such as "[[1, 2]]" is left
    alone; nothing is rendered and jinja2 is not imported.
    """

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, str):
            m = _PLAIN_PLACEHOLDER.search(node) if "[[" in node else None
            if m:
                off = m.start() if "\n" not in node.strip("\n") else None
                doc.error(errors, path, f"placeholder {m.group(0)} has no value",
                          f"pass --values FILE or --set {m.group(1)}=VALUE", offset=off)
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(doc.data, ())


def apply_values(doc: Document, values: dict, errors: Errors) -> None:
    """Render every string scalar of `doc.data` that has a placeholder, in place."""
    renderer: _Renderer | None = None

    def walk(node: Any, path: tuple) -> Any:
        nonlocal renderer
        if isinstance(node, str):
            if not has_placeholder(node):
                return node
            if renderer is None:
                renderer = _Renderer(values)
            return renderer.render(doc, path, node, errors)
        if isinstance(node, dict):
            for k in list(node):
                node[k] = walk(node[k], path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                node[i] = walk(v, path + (i,))
        return node

    doc.data = walk(doc.data, ())


class _Renderer:
    def __init__(self, values: dict):
        self.values = values
        self.env = _environment()

    def render(self, doc: Document, path: tuple, text: str, errors: Errors) -> Any:
        from jinja2 import TemplateError, TemplateSyntaxError
        from jinja2.exceptions import SecurityError, UndefinedError

        try:
            single = _SINGLE.match(text)
            if single:
                expr = self.env.compile_expression(single.group(1), undefined_to_none=False)
                out = _plain(_bounded(lambda: expr(**self.values)))
            else:
                template = self.env.from_string(text)
                out = _bounded(lambda: template.render(**self.values))
            if isinstance(out, str) and len(out) > _MAX_SEQUENCE:
                raise _NotPlain(f"placeholder gives {len(out):,} characters (limit {_MAX_SEQUENCE:,})")
            return out
        except UndefinedError as exc:
            m = _UNDEFINED.search(str(exc))
            name = m.group(1) if m else None
            self._error(doc, path, text, errors, f"undefined value '{name}'" if name else f"undefined value: {exc}",
                        f"give it with --values FILE or --set {name}=VALUE" if name else
                        "give it with --values FILE or --set KEY=VALUE", name)
        except SecurityError as exc:
            self._error(doc, path, text, errors, f"unsafe placeholder: {exc}",
                        "placeholders may use values, filters and plain operators, not Python internals")
        except TemplateSyntaxError as exc:
            self._error(doc, path, text, errors, f"placeholder syntax error: {exc.message}",
                        "placeholders look like [[ name ]], [[ name | default('x') ]] or [% if x %]...[% endif %]; "
                        "write a literal '[[' as [[ '[[' ]]")
        except _NotPlain as exc:
            self._error(doc, path, text, errors, str(exc))
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError, OverflowError) as exc:
            self._error(doc, path, text, errors, f"placeholder failed: {type(exc).__name__}: {exc}")
        return text

    @staticmethod
    def _error(doc: Document, path: tuple, text: str, errors: Errors, message: str, hint: str | None = None,
               name: str | None = None) -> None:
        offset = _offset_of(text, name)
        if "\n" in text.strip("\n") or offset is None:
            doc.error(errors, path, message, hint)
        else:
            doc.error(errors, path, message, hint, offset=offset)


def _offset_of(text: str, name: str | None) -> int | None:
    """Where the failing placeholder starts: the first one naming `name`, else the first one."""
    first = None
    for m in re.finditer(r"\[\[.*?\]\]|\[%.*?%\]", text, re.DOTALL):
        if first is None:
            first = m.start()
        if name and re.search(r"\b" + re.escape(name) + r"\b", m.group(0)):
            return m.start()
    return first


class _NotPlain(Exception):
    pass


def _bounded(run: Any) -> Any:
    """Run a compiled template, stopping it after _MAX_STEPS lines of template code: the sandbox
    bounds each range(), not loops nested in loops."""
    import sys

    from jinja2.exceptions import SecurityError

    steps = [_MAX_STEPS]

    def count(frame: Any, event: str, arg: Any) -> Any:
        steps[0] -= 1
        if steps[0] < 0:
            raise SecurityError(f"the placeholder runs more than {_MAX_STEPS:,} steps (a loop too large?)")
        return count

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return count if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        return run()
    finally:
        sys.settrace(previous)


def _plain(value: Any) -> Any:
    """A single placeholder's value must be data a spec can hold."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming it
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise _NotPlain(f"placeholder gives a {type(value).__name__}; a value must be text, a number, "
                    "true/false, a list or a mapping")


def _environment():
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        """Jinja's sandbox, read-only, with `*`, `**`, `%`, str.format widths and the filters that take
        a size bounded, so a placeholder cannot eat the machine."""

        intercepted_binops = frozenset(["*", "**", "%"])

        def call_binop(self, context, operator, left, right):
            if operator == "**":
                if (isinstance(left, int) and isinstance(right, int) and right > 0
                        and left.bit_length() * right > _MAX_POWER_BITS):
                    raise SecurityError(f"the power {left} ** {right} is too large")
                return left ** right
            if operator == "%":
                if isinstance(left, str) and _BIG_WIDTH.search(left):
                    raise SecurityError(f"a format width over {_MAX_WIDTH:,} is too large")
                return left % right
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_SEQUENCE:
                    raise SecurityError(f"a result of {len(seq) * n:,} items is too large (limit {_MAX_SEQUENCE:,})")
            return left * right

        def wrap_str_format(self, value):
            text = getattr(value, "__self__", None)
            if isinstance(text, str) and _BIG_FORMAT.search(text):
                raise SecurityError(f"a format width over {_MAX_WIDTH:,} is too large")
            return super().wrap_str_format(value)

    env = Sandbox(
        variable_start_string=VAR_START, variable_end_string=VAR_END,
        block_start_string=BLOCK_START, block_end_string=BLOCK_END,
        comment_start_string=COMMENT_START, comment_end_string=COMMENT_END,
        line_statement_prefix=None, line_comment_prefix=None,
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
    )
    env.globals.pop("lipsum", None)  # lipsum(n=100000) computes for minutes; values have no use for it
    for name, size in (("center", lambda v, w=80, *a, **k: w), ("slice", lambda v, n=1, *a, **k: n),
                       ("indent", lambda v, w=4, *a, **k: (w if isinstance(w, int) else len(str(w)))
                        * (str(v).count("\n") + 1)),
                       ("format", lambda v, *a, **k: _MAX_WIDTH + 1 if _BIG_WIDTH.search(str(v)) else 0)):
        env.filters[name] = _sized(env.filters[name], name, size)
    return env


_MAX_WIDTH = 100_000  # widths in `%` / str.format specs
_BIG_WIDTH = re.compile(r"%[-#0 +]*(\*|\d{6,})|%[-#0 +]*\d*\.(\*|\d{6,})")
_BIG_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\d{6,}[^{}]*\}|\{[^{}]*:[^{}]*\{")


def _sized(fn: Any, name: str, size: Any) -> Any:
    """A filter refusing arguments that would make a result larger than _MAX_SEQUENCE."""
    import functools

    from jinja2.exceptions import SecurityError

    skip = 1 if getattr(fn, "jinja_pass_arg", None) else 0  # @pass_environment & co. come first

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        n = size(*args[skip:], **kwargs)
        if isinstance(n, int) and n > _MAX_SEQUENCE:
            raise SecurityError(f"the filter {name} would make a result of about {n:,} items (limit {_MAX_SEQUENCE:,})")
        return fn(*args, **kwargs)

    return checked
