"""Value records: the small slotted classes the stages pass around, compared, hashed and shown by
their fields, as dataclasses would be, without `dataclasses` (its import and class creation cost
`validate` ~10 ms: docs/DESIGN.md "Start-up").

    class Point(Record):            # equal when of the same class with equal fields; hashable
        __slots__ = ("x", "y")      # the fields, in order: the public slots (or `_fields`, declared)
        def __init__(self, x, y): self.x, self.y = x, y

A `Frozen` record also refuses to set or delete an attribute once built: its `__init__` sets its
slots with `object.__setattr__`. A mutable record compared by value sets `__hash__ = None`.
Each class writes its own `__init__` (a generic one would cost every construction).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Frozen", "Record"]


class Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A class's fields, unless it declares `_fields`: its base's, then its own public slots (a
        slot named `_x` is a cache, neither compared nor shown)."""
        super().__init_subclass__(**kwargs)
        if "_fields" not in cls.__dict__:
            slots = cls.__dict__.get("__slots__", ())
            own = (slots,) if isinstance(slots, str) else tuple(slots)
            cls._fields = cls._fields + tuple(f for f in own if not f.startswith("_"))

    def _key(self) -> tuple:
        return tuple([getattr(self, f) for f in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"


class Frozen(Record):
    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is immutable")
