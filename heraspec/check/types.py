"""Every value a task receives, checked against its parameter's annotation before anything runs.

    check(doc, model, functions, pipelines, search_path, errors, parameters=None)

Values checked, each at its place in the spec: literal `args`; `{from: X}` (X's return annotation; a
fanned-out X gives `list[T]`; a sub-pipeline task gives its `result:` task's), `{from: X, key: K}`
(the type of K inside it); `foreach` items with `{item: true}` / `{item: K}`; `{param: P}` through P's
default and `-p P=VALUE`; a sub-pipeline's `args` against the parameters' uses inside it. The types
come from python/annotations.py. What the runtime accepts (python/pod/: an int for a float,
"42" or 3.0 for an int, "yes" for a bool, JSON text for a container or class, an Enum's value or
name) is accepted here; an unannotated side is Any. A message names both ends as written and which
to change.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from ..errors import Errors
from ..python import functions
from ..python.annotations import ANY, Signature, Type, signature_types
from .typerules import assignable, field_type, first_bad, show_value, type_name
from . import dag
from ..document.load import Document
from ..document.nodes import Ref, Spec, Task
from .files import fans_out
from .spectext import may_hold

__all__ = ["check", "check_parameters"]



def check(doc: Document, model: Spec, fns: dict[str, functions.Function], pipelines: dict, search_path: list[str],
          errors: Errors, parameters: dict[str, str] | None = None) -> None:
    """Report every value of `doc` (read from its typed `model`) that does not fit the annotation it
    reaches. `pipelines`: task name -> the Checked sub-spec it runs (its `model` read likewise);
    `parameters`: `-p` values, checked where they are used."""
    spec = _Spec(doc, model, fns, pipelines, search_path)
    spec.check_all(errors)
    if parameters:
        check_parameters(spec, parameters, errors)


class _Problem:
    __slots__ = ("path", "message", "hint", "key", "detail")

    def __init__(self, path: tuple, message: str, hint: str | None = None, key: bool = False, detail: str = "") -> None:
        self.path, self.message, self.hint, self.key = path, message, hint, key
        self.detail = detail or message  # the message without the function it is about


class _Use:
    """One place a value is received: a parameter of a function."""

    def __init__(self, fn: functions.Function, sig: Signature, param: str, path: tuple, doc: Document) -> None:
        self.fn, self.param, self.path, self.doc = fn, param, path, doc
        self.type = sig.params.get(param, ANY)
        self.text = sig.text.get(param, param)

    @property
    def who(self) -> str:
        return f"{self.fn.name}({self.text})"

    def fix(self) -> str:
        return f"the annotation of '{self.param}' ({functions.shown(self.fn.file)}:{self.fn.line})"


class _Spec:
    def __init__(self, doc: Document, model: Spec, fns: dict[str, functions.Function], pipelines: dict,
                 search_path: list[str]):
        self.doc, self.model, self.fns, self.pipelines, self.search_path = doc, model, fns, pipelines, search_path
        self.tasks = model.tasks
        self.params = {p.name: p.default for p in model.parameters}
        self._outputs: dict[str, tuple[Type, str] | None] = {}
        self._subs: dict[str, _Spec] = {}
        self._sigs: dict[int, tuple[functions.Function, Signature]] = {}  # by id(fn), for `signature`
        self.foreach = may_hold(doc, "foreach")  # whether any task can fan out

    def sig(self, name: str) -> Signature | None:
        return self.signature(self.fns.get(name))

    def signature(self, fn: functions.Function | None) -> Signature | None:
        """`fn`'s parameter and return types; read once per function, as many tasks run one."""
        if fn is None:
            return None
        hit = self._sigs.get(id(fn))
        if hit is None:  # holding `fn` keeps its id its own
            hit = self._sigs[id(fn)] = (fn, signature_types(fn, self.search_path))
        return hit[1]

    # --- what a task gives -----------------------------------------------------------------------

    def output(self, name: str, depth: int = 0) -> tuple[Type, str] | None:
        """The type task `name` gives to `{from: name}`, and how to name it; None: unknown (Any)."""
        if name in self._outputs:
            return self._outputs[name]
        self._outputs[name] = None
        task = self.tasks.get(name)
        out: tuple[Type, str] | None = None
        if task is not None:
            sig = self.sig(name)
            if sig is not None and sig.returns is not None:
                out = (sig.returns, f"the result of '{name}' ({self.fns[name].name}() -> {sig.returns.text})")
            elif name in self.pipelines and depth < 20:
                sub = self.sub(name)
                result = sub.model.result
                inner = sub.output(result, depth + 1) if isinstance(result, str) else None
                if inner is not None:
                    out = (inner[0], f"the result of pipeline '{name}' ({task.pipeline}: {inner[1]})")
            if out is not None and fans_out(task.data):
                t = out[0]
                out = (Type("list", f"list[{t.text}]", (t,)), f"{out[1]}, fanned in as list[{t.text}]")
        self._outputs[name] = out
        return out

    def sub(self, name: str) -> _Spec:
        if name not in self._subs:
            c = self.pipelines[name]
            self._subs[name] = _Spec(c.doc, c.model, c.functions, c.pipelines, self.search_path)
        return self._subs[name]

    # --- where each value goes -------------------------------------------------------------------

    def check_all(self, errors: Errors) -> None:
        for name, task in self.tasks.items():
            fn = self.fns.get(name)
            sig = self.signature(fn)
            if fn is not None and sig is not None:
                for argset in task.args:
                    for arg in argset:
                        want = sig.params.get(arg.name)
                        if want is None:
                            continue
                        v = arg.value
                        if not isinstance(v, (dict, list)) and first_bad(v, want, arg.where) is None:
                            continue  # a plain value that fits: what `value` finds without a problem
                        use = _Use(fn, sig, arg.name, arg.where, self.doc)
                        for p in self.value(v, want, arg.where, use, name):
                            self.report(errors, p)
                if self.foreach:
                    self.check_foreach(task, errors)
            elif name in self.pipelines and task.args and not task.args_listed:  # a mapping of its parameters
                self.check_pipeline_args(task, errors)
        for pname, default in self.params.items():
            for use in self.param_uses(pname):
                if default is None:
                    continue
                p = self.param_value(default, use, ("parameters", pname), f"parameter '{pname}' defaults to {show_value(default)}")
                if p is not None:
                    self.report(errors, p)
                    break

    def report(self, errors: Errors, p: _Problem) -> None:
        self.doc.error(errors, p.path, p.message, p.hint, key=p.key)

    def check_foreach(self, task: Task, errors: Errors) -> None:
        fe = task.foreach
        if isinstance(fe, Ref) and fe.kind == "from" and isinstance(fe.target, str) and fe.key is None:
            out = self.output(fe.target)
            if out is not None and out[0].kind not in ("any", "list", "set", "tuple", "path"):  # a file: check/files.py
                self.report(errors, _Problem(fe.where, f"foreach needs a list, but it gets {out[1]}",
                                             f"make '{fe.target}' return a list (-> list[...])"))

    def item_values(self, task: Task) -> tuple[list[tuple[Any, tuple]], tuple[Type, str] | None]:
        """The literal items of a task's foreach (value, path), or the item type of its `{from}`."""
        fe = task.foreach
        if isinstance(fe, list):
            return [(v, task.where + ("foreach", i)) for i, v in enumerate(fe)], None
        if isinstance(fe, Ref) and fe.kind == "param" and isinstance(fe.target, str):
            default = self.params.get(fe.target)
            if isinstance(default, list):
                return [(v, ("parameters", fe.target, i)) for i, v in enumerate(default)], None
            try:
                default = json.loads(default) if isinstance(default, str) else None
            except ValueError:
                return [], None
            if isinstance(default, list):  # JSON text: its items are located at the text
                return [(v, ("parameters", fe.target)) for v in default], None
        if isinstance(fe, Ref) and fe.kind == "from" and isinstance(fe.target, str):
            out = self.output(fe.target)
            if out is not None and out[0].kind in ("list", "set"):
                t = out[0].args[0]
                return [], (t, f"an item of {out[1]}")
        return [], None

    # --- one value against one type --------------------------------------------------------------

    def value(self, v: Any, want: Type, path: tuple, use: _Use, task: str) -> list[_Problem]:
        """Problems of value `v` (literal or reference, possibly nested) given where `want` is expected."""
        if isinstance(v, dict) and dag.is_ref(v) or (isinstance(v, dict) and set(v) == {"from", "key"}):
            return self.ref(v, want, path, use, task)
        if isinstance(v, dict) and ("artifact" in v or "secret" in v or "config_map" in v):
            return []
        if want.kind == "any":
            return []
        nested = _has_ref(v)
        if not nested:
            p = _mismatch(v, want, path, use)
            return [p] if p is not None else []
        # a container holding references: the literal parts here, each reference at its place
        out: list[_Problem] = []
        if isinstance(v, list) and want.kind in ("list", "set", "tuple"):
            for i, item in enumerate(v):
                t = want.args[i] if want.kind == "tuple" and i < len(want.args) else want.args[0] if want.args else ANY
                out += self.value(item, t, path + (i,), use, task)
        elif isinstance(v, dict) and want.kind == "dict":
            for k, item in v.items():
                out += self.value(item, want.args[1], path + (k,), use, task)
        elif isinstance(v, dict) and want.kind == "class" and want.cls and want.cls.shape != "enum":
            out += _fields(v, want, path, use, lambda item, t, at: self.value(item, t, at, use, task))
        elif want.kind not in ("union",):
            p = _mismatch([] if isinstance(v, list) else {}, want, path, use)
            out += [p] if p is not None else []
        return out

    def ref(self, v: dict, want: Type, path: tuple, use: _Use, task: str) -> list[_Problem]:
        if "from" in v and isinstance(v["from"], str):
            out = self.output(v["from"])
            if out is None:
                return []
            got, what = out
            if "key" in v and isinstance(v["key"], str):
                got, problem = field_type(got, v["key"])
                if problem is not None:
                    return [_Problem(path + ("key",), f"'{v['from']}' gives {out[0].text}, {problem}",
                                     f"change the key, or {v['from']}'s return annotation")]
                what = f"key '{v['key']}' of {what}: {got.text}"
            if want.kind == "any" or assignable(got, want):
                return []
            return [_Problem(path, f"{use.who}: expected {want.text}, got {what}",
                             f"change the producer's return annotation, {use.fix()}, or convert the value in a task "
                             "between them")]
        if "item" in v:
            node = self.tasks.get(task)
            values, of = self.item_values(node) if node is not None else ([], None)
            key = v["item"]
            problems = []
            for item, at in values:
                if key is not True:
                    if not isinstance(item, dict) or key not in item:
                        continue  # reported by the foreach checks
                    item, at = item[key], at + (key,) if isinstance(at[-1], int) else at
                p = _mismatch(item, want, at, use, f" (a foreach item, passed to {'.'.join(map(str, path))})")
                if p is not None:
                    problems.append(p)
            if of is not None:
                got, what = of
                if key is not True:
                    got, problem = field_type(got, str(key))
                    if problem is not None:
                        return [_Problem(path + ("item",), f"{what} is {of[0].text}, {problem}")]
                if want.kind != "any" and not assignable(got, want):
                    problems.append(_Problem(path, f"{use.who}: expected {want.text}, got {what}: {got.text}",
                                             f"change the producer's return annotation or {use.fix()}"))
            return problems
        return []  # {param}: checked from the parameters' side; {workflow}: a str or number Argo gives

    def param_uses(self, pname: str) -> list[_Use]:
        out = []
        for name, task in self.tasks.items():
            fn = self.fns.get(name)
            sig = self.signature(fn)
            for argset in task.args:
                for arg in argset:
                    if arg.ref is not None and arg.ref.kind == "param" and arg.ref.target == pname:
                        if fn is not None and sig is not None and arg.name in sig.params:
                            out.append(_Use(fn, sig, arg.name, arg.where, self.doc))
                        elif name in self.pipelines:
                            out += [u for u in self.sub(name).param_uses(arg.name)]
        return out

    def param_value(self, given: Any, use: _Use, at: tuple, what: str, text: bool = False) -> _Problem | None:
        """A parameter's value (its default, or `-p` text) as the runtime reads it for `use`."""
        if use.type.kind == "any":
            return None
        if text and use.type.kind != "str":
            try:
                given = json.loads(given)
            except ValueError:
                pass
        elif text:
            return None
        p = _mismatch(given, use.type, at, use)
        if p is None:
            return None
        where = f"{functions.shown(use.doc.path)}: {'.'.join(map(str, use.path))}"
        return _Problem(at, f"{what}, passed to {use.who} ({where}): {p.detail}", p.hint, key=text)

    def check_pipeline_args(self, task: Task, errors: Errors) -> None:
        name, sub = task.name, self.sub(task.name)
        for arg in task.args[0]:
            k = arg.name
            for use in sub.param_uses(k):
                where = f"{functions.shown(use.doc.path)}: {'.'.join(map(str, use.path))}"
                for p in self.value(arg.value, use.type, arg.where, use, name):
                    p.message += f" (pipeline parameter '{k}', used at {where})"
                    self.report(errors, p)


def check_parameters(spec: _Spec, values: dict[str, str], errors: Errors) -> None:
    for pname, text in values.items():
        for use in spec.param_uses(pname):
            at = ("parameters", pname) if pname in spec.params else ()
            p = spec.param_value(text, use, at, f"-p {pname}={text}", text=True)
            if p is not None:
                spec.report(errors, p)
                break


# --- the rules -------------------------------------------------------------------------------------


def _has_ref(v: Any) -> bool:
    return any(True for _ in dag.refs_in(v, ())) if isinstance(v, (dict, list)) else False


def _mismatch(v: Any, want: Type, path: tuple, use: _Use, where: str = "") -> _Problem | None:
    """The first way literal `v` does not fit `want` (located at the innermost value), or None."""
    bad = first_bad(v, want, path)
    if bad is None:
        return None
    at, inner, got, reason = bad
    if isinstance(got, float) and not math.isfinite(got):
        return None  # NaN and infinities are refused as such (check/argotext.py)
    if inner.kind == "str" and isinstance(got, (bool, int, float)) and reason is None:
        # the function receives the scalar's JSON text: fine when that is the text written (`port: 80`),
        # not when YAML changed it (`1.10` arrives as "1.1", `0123` as "123", `1e3` as "1000.0")
        written = _written(use.doc, at)
        if written == json.dumps(got) or (written is None and not isinstance(got, float)):
            return None
    key = reason is not None and " has no field " in reason
    spot = "" if at == path or key else " at " + use.param + "".join(f"[{k!r}]" for k in at[len(path):])
    message = reason or f"expected {inner.text}{spot}, got {show_value(got)} ({type_name(got)})"
    hint = f"change the value, or {use.fix()}"
    if inner.kind == "str" and got is not None and not isinstance(got, (str, list, dict)):
        written = _written(use.doc, at)
        hint = (f"YAML reads {written} as {type_name(got)} {show_value(got)}: quote it (\"{written}\") to pass the text"
                if written is not None else f"quote it to pass the text, or {use.fix()}")
    return _Problem(at, f"{use.who}: {message}{where}", hint, key=key, detail=message)


def _fields(v: dict, want: Type, path: tuple, use: _Use, each) -> list[_Problem]:
    cls = want.cls
    out: list[_Problem] = []
    for k, item in v.items():
        f = cls.field(k) if isinstance(k, str) else None  # type: ignore[union-attr]
        if f is None:
            names = ", ".join(x.name for x in cls.fields)  # type: ignore[union-attr]
            out.append(_Problem(path + (k,), f"{use.who}: {want.text} has no field {k!r} (its fields: {names})",
                                f"remove it, or {use.fix()}", key=True))
        else:
            out += each(item, f.type, path + (k,))
    missing = [f.name for f in cls.fields if f.required and f.name not in v]  # type: ignore[union-attr]
    if missing:
        out.append(_Problem(path, f"{use.who}: {want.text} needs " + ", ".join(repr(m) for m in missing)))
    return out


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> list[str]:
    """A document's lines, split once however many values are looked up in it (a str caches its hash)."""
    return text.split("\n")


def _written(doc: Document, path: tuple) -> str | None:
    """The scalar as written at `path`, when it is a plain (unquoted) one."""
    try:
        line, col = doc.pos(path)
        text = _lines(doc.text)[line - 1][col - 1:]
    except (IndexError, KeyError, ValueError):
        return None
    m = re.match(r"[-+.\w]+(?=\s*($|[,\]\}#]))", text)
    return m.group(0) if m else None
