"""The names in a loaded spec an editor can point at: tasks (where each is defined and every place
that names it), function references, `{param: P}`, `pipeline:` files and `template_ref`s, each with
its 0-based range, found through the Document's positions (document/source.py) and checked against the
text, so a range always covers exactly the name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..document.load import Document

_NAME = re.compile(r"[A-Za-z0-9_][\w-]*")


@dataclass(frozen=True)
class Symbol:
    kind: str  # "task" (defined here) | "task-ref" | "function" | "arg" (a key of its args) | "param" |
    #            "param-ref" | "pipeline" | "template"
    name: str  # the task / parameter name, the function ref, the file or template name
    line: int  # 0-based
    start: int  # 0-based characters
    end: int
    path: tuple = ()  # where in the data


class Symbols:
    """Every symbol of one document, found once (a spec's text only changes as a new Document)."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.lines = doc.text.split("\n")
        self.items: list[Symbol] = []
        data = doc.data if isinstance(doc.data, dict) else {}
        tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
        self.tasks = set(tasks)
        params = data.get("parameters")
        for p in params if isinstance(params, dict) else ():
            self._add("param", p, ("parameters", p), key=True)
        for name, task in tasks.items():
            self._add("task", name, ("tasks", name), key=True)
            if isinstance(task, dict):
                self._task(("tasks", name), task)
        exit_body = data.get("on_exit")
        if isinstance(exit_body, dict):
            self._task(("on_exit",), exit_body)
        if isinstance(data.get("result"), str):
            self._add("task-ref", data["result"], ("result",))
        edges = data.get("edges")
        for i, edge in enumerate(edges if isinstance(edges, list) else ()):
            if isinstance(edge, str):
                self._names_in(edge, ("edges", i))

    def _task(self, base: tuple, task: dict) -> None:
        if isinstance(task.get("function"), str):
            self._add("function", task["function"], base + ("function",))
            if isinstance(task.get("args"), dict):
                for k in task["args"]:
                    if isinstance(k, str):
                        self._add("arg", k, base + ("args", k), key=True)
        if isinstance(task.get("pipeline"), str):
            self._add("pipeline", task["pipeline"], base + ("pipeline",))
        ref = task.get("template_ref")
        if isinstance(ref, dict) and isinstance(ref.get("name"), str):
            self._add("template", ref["name"], base + ("template_ref", "name"))
        after = task.get("after")
        if isinstance(after, str):
            self._add("task-ref", after, base + ("after",))
        for i, a in enumerate(after if isinstance(after, list) else ()):
            if isinstance(a, str):
                self._add("task-ref", a, base + ("after", i))
        if isinstance(task.get("depends"), str):
            self._names_in(task["depends"], base + ("depends",), skip_after_dot=True)
        for key in ("args", "foreach"):
            if key in task:
                for path, kind, value in _refs(task[key], base + (key,)):
                    self._add(kind, value, path)
        if isinstance(task.get("on_exit"), dict):
            self._task(base + ("on_exit",), task["on_exit"])

    def _names_in(self, text: str, path: tuple, skip_after_dot: bool = False) -> None:
        for m in _NAME.finditer(text):
            if m.group() in self.tasks and not (skip_after_dot and m.start() > 0 and text[m.start() - 1] == "."):
                self._add("task-ref", m.group(), path, offset=m.start())

    def _add(self, kind: str, name: str, path: tuple, *, key: bool = False, offset: int | None = None) -> None:
        try:
            if offset is not None:
                line, col = self.doc.positions.find_in_string(path, offset)
            else:
                line, col = self.doc.pos(path, key=key)
        except Exception:  # positions of a path the index does not hold: nothing to point at
            return
        line, col = line - 1, col - 1
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        for c in (col, col + 1):  # the name, or the name inside quotes
            if text[c:c + len(name)] == name:
                self.items.append(Symbol(kind, name, line, c, c + len(name), path))
                return

    # --- queries --------------------------------------------------------------------------------

    def at(self, line: int, character: int) -> Symbol | None:
        for s in self.items:
            if s.line == line and s.start <= character <= s.end:
                return s
        return None

    def task_definition(self, name: str) -> Symbol | None:
        return next((s for s in self.items if s.kind == "task" and s.name == name), None)

    def param_definition(self, name: str) -> Symbol | None:
        return next((s for s in self.items if s.kind == "param" and s.name == name), None)

    def task_occurrences(self, name: str) -> list[Symbol]:
        return [s for s in self.items if s.kind in ("task", "task-ref") and s.name == name]


def _refs(value: Any, path: tuple) -> Iterator[tuple[tuple, str, str]]:
    """`{from: TASK}` and `{param: NAME}` anywhere in args / foreach / an exit handler."""
    if isinstance(value, dict):
        if isinstance(value.get("from"), str):
            yield path + ("from",), "task-ref", value["from"]
        if isinstance(value.get("param"), str):
            yield path + ("param",), "param-ref", value["param"]
        for k, v in value.items():
            if k not in ("from", "param") and isinstance(v, (dict, list)):
                yield from _refs(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _refs(v, path + (i,))
