"""Argo's enhanced ``depends`` logic, parsed once: validate checks the tree, the compiler
translates the names in it, ``heraspec run`` evaluates it.

Operands are ``TASK`` or ``TASK.RESULT`` (RESULT one of RESULTS); operators ``&&``, ``||``, ``!``
and parentheses, ``!`` binding tightest, then ``&&``, then ``||`` (Argo evaluates the expression
with expr-lang after ancestry.go ``GetTaskDependsLogic`` expands it: dag.go ``evaluateDependsLogic``).
A bare ``TASK`` means ``TASK.Succeeded || TASK.Skipped || TASK.Daemoned`` (ancestry.go
``expandDependency``, widened by the task's ``continueOn``): ``evaluate`` asks the caller
``check(TASK, None)``, since only the runner knows the task.

Task names are ``[A-Za-z0-9][-_A-Za-z0-9]*`` (a spec's names may hold ``_``; Argo's may not, which
the runner and the Argo rules check separately). Nesting of parentheses and ``!`` is limited to
``MAX_NESTING``; chains (``a && b && ... && z``, a 400-task fan-in) are flat n-ary nodes.
"""

from __future__ import annotations

import re
from typing import Callable

from . import MAX_NESTING, LanguageError
from ..record import Frozen

__all__ = ["RESULTS", "DependsError", "DependsNode", "Token", "tokens", "parse_tree", "syntax_problem", "references",
           "names", "translate", "evaluate", "MAX_NESTING"]

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
# compiled on first use (re's cache): a spec without `depends` never reads one
_TOKEN = r"\s*(?:(&&|\|\||!|\(|\))|([A-Za-z0-9][-_A-Za-z0-9]*)(?:\.([A-Za-z]+))?)"


class DependsError(LanguageError):
    """A malformed depends expression; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


_set = object.__setattr__  # how the immutable records below fill their slots


class Token(Frozen):
    """One token: kind "op" (text the operator) or "task" (text the task name, result TASK.RESULT's
    RESULT); offset is where it starts. Immutable and hashable. (Plain classes, not dataclasses:
    `dataclasses` costs ~8 ms of a `validate`; the hand-written __init__ is as cheap per instance.)"""

    __slots__ = ("kind", "text", "result", "offset")

    def __init__(self, kind: str, text: str, result: str | None, offset: int) -> None:
        _set(self, "kind", kind)
        _set(self, "text", text)
        _set(self, "result", result)
        _set(self, "offset", offset)

class DependsNode(Frozen):
    """A node of a parsed depends expression: op is 'task', 'not', 'and' or 'or'. Immutable and
    hashable; equal nodes are equal trees."""

    __slots__ = ("op", "args", "task", "result", "offset")

    def __init__(self, op: str, args: tuple = (), task: str = "", result: str | None = None, offset: int = 0) -> None:
        _set(self, "op", op)
        _set(self, "args", args)
        _set(self, "task", task)
        _set(self, "result", result)
        _set(self, "offset", offset)

# text -> its tokens: the graph, the checks and the compiler each read every task's depends
_SCANNED: dict[str, tuple[Token, ...]] = {}
_SCANNED_MAX = 65_536  # texts kept; past it the memo starts again (a long-running language server)


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` (a new list each call); DependsError at the first character that starts none."""
    hit = _SCANNED.get(text)
    if hit is None:
        hit = tuple(_scan(text))
        if len(_SCANNED) >= _SCANNED_MAX:
            _SCANNED.clear()
        _SCANNED[text] = hit
    return list(hit)


def _scan(text: str) -> list[Token]:
    token = re.compile(_TOKEN)
    out: list[Token] = []
    pos = 0
    while True:
        m = token.match(text, pos)
        if not m:
            rest = text[pos:]
            if rest.strip():
                at = pos + len(rest) - len(rest.lstrip())
                raise DependsError(f"unexpected '{rest.strip()[:20]}' in depends", at)
            return out
        if m.group(1):
            out.append(Token("op", m.group(1), None, m.start(1)))
        else:
            out.append(Token("task", m.group(2), m.group(3), m.start(2)))
        pos = m.end()


def parse_tree(text: str, max_nesting: int | None = MAX_NESTING) -> DependsNode:
    """The tree of a depends expression; DependsError (message, offset) when it is malformed, or
    when parentheses and '!' nest deeper than ``max_nesting`` (None: no limit). Operator
    precedence without recursion (a shunting yard), so any depth costs only memory."""
    toks = tokens(text)
    if not toks:
        raise DependsError("empty depends expression", 0)
    operands: list[DependsNode] = []
    ops: list[Token] = []  # "(", "!", "&&", "||"
    depth = 0
    expect_operand = True
    rank = {"||": 1, "&&": 2}

    def reduce() -> None:
        op = ops.pop()
        right = operands.pop()
        left = operands.pop()
        kind = "and" if op.text == "&&" else "or"
        args = (left.args if left.op == kind else (left,)) + (right,)
        operands.append(DependsNode(kind, args, offset=left.offset))

    def operand_done() -> None:
        nonlocal depth
        while ops and ops[-1].text == "!":
            op = ops.pop()
            depth -= 1
            operands.append(DependsNode("not", (operands.pop(),), offset=op.offset))

    for tok in toks:
        if expect_operand:
            if tok.kind == "task":
                operands.append(DependsNode("task", task=tok.text, result=tok.result, offset=tok.offset))
                expect_operand = False
                operand_done()
            elif tok.text in ("(", "!"):
                depth += 1
                if max_nesting is not None and depth > max_nesting:
                    raise DependsError(f"depends nests parentheses and '!' deeper than {max_nesting} levels",
                                       tok.offset)
                ops.append(tok)
            else:
                raise DependsError(f"expected a task name before '{tok.text}'", tok.offset)
        elif tok.text in rank:
            while ops and ops[-1].text in rank and rank[ops[-1].text] >= rank[tok.text]:
                reduce()
            ops.append(tok)
            expect_operand = True
        elif tok.text == ")":
            while ops and ops[-1].text != "(":
                reduce()
            if not ops:
                raise DependsError("')' without a matching '('", tok.offset)
            ops.pop()
            depth -= 1
            operand_done()
        else:
            raise DependsError(f"expected '&&' or '||' before '{tok.text}'", tok.offset)
    if expect_operand:
        raise DependsError(f"depends ends with '{toks[-1].text}'", toks[-1].offset)
    while ops:
        if ops[-1].text == "(":
            raise DependsError("'(' is never closed", ops[-1].offset)
        reduce()
    return operands[0]


def syntax_problem(text: str) -> tuple[str, int] | None:
    """(message, offset) of the first grammar problem in a depends expression, or None (Argo's
    grammar: no nesting limit)."""
    try:
        parse_tree(text, None)
    except DependsError as e:
        return str(e), e.offset
    return None


def references(text: str) -> list[tuple[str, str | None, int]]:
    """Every task written in ``text``: (name, result or None, offset), in text order. Only the
    characters are checked (DependsError on one that starts no token), not the grammar."""
    return [(t.text, t.result, t.offset) for t in tokens(text) if t.kind == "task"]


def names(tree: DependsNode) -> set[str]:
    """The tasks a parsed expression mentions."""
    out, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if node.op == "task":
            out.add(node.task)
        else:
            todo.extend(node.args)
    return out


def translate(text: str, rename: Callable[[str, str | None], str]) -> str:
    """``text`` with each task name replaced by ``rename(name, result)``; the rest kept as written."""
    out, last = [], 0
    for t in tokens(text):
        if t.kind == "task":
            out.append(text[last:t.offset])
            out.append(rename(t.text, t.result))
            last = t.offset + len(t.text)
    out.append(text[last:])
    return "".join(out)


def evaluate(tree: DependsNode, check: Callable[[str, str | None], bool]) -> bool:
    """The expression's value, computed bottom-up on an explicit stack (no recursion)."""
    # dag.go evaluateDependsLogic (argoexpr.EvalBool, expr-lang) over ancestry.go getTaskDependsLogic
    todo: list[tuple[DependsNode, bool]] = [(tree, False)]
    values: list[bool] = []
    while todo:
        node, ready = todo.pop()
        if node.op == "task":
            values.append(check(node.task, node.result))
        elif not ready:
            todo.append((node, True))
            todo.extend((a, False) for a in reversed(node.args))
        else:
            args = values[len(values) - len(node.args):]
            del values[len(values) - len(node.args):]
            values.append(not args[0] if node.op == "not" else all(args) if node.op == "and" else any(args))
    return values[0]
