"""The one error type users see, and a collector so every problem is reported in one run.

    HeraspecError            base of everything heraspec raises on purpose
    ├── SpecInvalid          a batch of SpecErrors (bad input: exit 1)
    └── UsageError           bad command line (exit 2)

A SpecError is a value, not an exception: stages append them to an Errors collector and keep
going; the CLI prints them sorted by position and picks the exit code.
"""

from __future__ import annotations

from typing import Iterator

from .record import Frozen


def visible(text: str) -> str:
    """Messages quote user text: escape line breaks, terminal control sequences and invisible
    format characters, so one error stays one line and shows what is really in the file."""
    if text.isprintable():
        return text
    import unicodedata

    return "".join(ch if ch.isprintable() or (ch == " ") else
                   (repr(ch)[1:-1] if unicodedata.category(ch) != "Zs" else ch) for ch in text)


def close_matches(word: str, options: list[str], n: int) -> list[str]:
    """The `n` options closest to a misspelt `word` (difflib's ratio), for "did you mean" hints."""
    import difflib  # only when there is a problem to explain

    return difflib.get_close_matches(word, options, n=n)


def hint_close(name: str, options: list[str], what: str = "") -> str | None:
    """The hint for an unknown `name`: the closest option, else the options when they are few."""
    close = close_matches(name, options, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    if options and len(options) <= 12:
        return f"known {what or 'names'}: " + ", ".join(options)
    return None


def note(file: str, line: int, col: int, message: str) -> str:
    """A located note (not an error: validate still says ok), as validate, compile and run print it
    and the editor shows it: `FILE:LINE:COL: note: MESSAGE`."""
    return f"{file}:{line}:{col}: note: {message}"


def read_note(text: str) -> tuple[str, int, int, str] | None:
    """(file, line, column, message) of a note `note` wrote (of a file whose name does not hold
    ": note: "); None for a note without a position."""
    head, sep, message = text.partition(": note: ")
    file, _, rest = head.rpartition(":") if sep else ("", "", "")
    file, _, line = file.rpartition(":")
    if not (line.isdigit() and rest.isdigit() and file):
        return None
    return file, int(line), int(rest), message


class SpecError(Frozen):
    """One problem at FILE:LINE:COL; immutable, hashable, ordered by (file, line, col, message, hint,
    severity). (A plain class: stages create thousands, and `dataclasses` costs ~8 ms of a start.)"""

    __slots__ = ("file", "line", "col", "message", "hint", "severity")

    def __init__(self, file: str, line: int, col: int, message: str, hint: str | None = None,
                 severity: str = "error") -> None:
        _set = object.__setattr__
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "col", col)
        _set(self, "message", message)
        _set(self, "hint", hint)
        _set(self, "severity", severity)

    def __lt__(self, other: object) -> bool:
        return self._key() < other._key() if other.__class__ is self.__class__ else NotImplemented  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        return self._key() <= other._key() if other.__class__ is self.__class__ else NotImplemented  # type: ignore[attr-defined]

    def __gt__(self, other: object) -> bool:
        return self._key() > other._key() if other.__class__ is self.__class__ else NotImplemented  # type: ignore[attr-defined]

    def __ge__(self, other: object) -> bool:
        return self._key() >= other._key() if other.__class__ is self.__class__ else NotImplemented  # type: ignore[attr-defined]

    def format(self) -> str:
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: {visible(self.message)}"
        if self.hint:
            text += f"\n  hint: {visible(self.hint)}"
        return text

    def __str__(self) -> str:
        return self.format()


class Errors:
    """Collects SpecErrors across stages; iteration yields them sorted by position."""

    def __init__(self, items: list[SpecError] | None = None) -> None:
        self.items: list[SpecError] = [] if items is None else items

    def __repr__(self) -> str:
        return f"Errors(items={self.items!r})"

    def __eq__(self, other: object) -> bool:
        return self.items == other.items if type(other) is Errors else NotImplemented

    def add(self, file: str, line: int, col: int, message: str, hint: str | None = None) -> None:
        err = SpecError(str(file), line, col, message, hint)
        if err not in self.items:
            self.items.append(err)

    def extend(self, other: "Errors") -> None:
        for e in other.items:
            if e not in self.items:
                self.items.append(e)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[SpecError]:
        return iter(sorted(self.items, key=lambda e: (e.file, e.line, e.col, e.message)))

    def format(self) -> str:
        return "\n".join(e.format() for e in self)


class HeraspecError(Exception):
    """Base of every exception heraspec raises on purpose."""


class SpecInvalid(HeraspecError):
    """Raised by the public API when a spec has errors; carries all of them."""

    def __init__(self, errors: Errors):
        self.errors = errors
        super().__init__(errors.format())


class UsageError(HeraspecError):
    """A bad command line or option value (exit 2)."""
