"""Argo durations: pkg/apis/workflow/v1alpha1/utils.go ParseStringToDuration.

An integer is a number of seconds (strconv.Atoi); anything else is Go's time.ParseDuration
(``1h2m3.5s``, ``500ms``, ``-1.5h``, ``0``). A float without a unit (``1.5``) is an error, as in Go.
"""

from __future__ import annotations

import re

from . import LanguageError

__all__ = ["DurationError", "parse_duration", "is_go_duration"]


class DurationError(LanguageError):
    """Text that is not an Argo duration."""


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_ATOI = re.compile(r"[+-]?\d+")


def go_parse_duration(text: str) -> float:
    """Seconds in Go's time.ParseDuration syntax; DurationError when Go refuses it."""
    s = text
    sign = -1.0 if s.startswith("-") else 1.0
    if s[:1] in "+-" and s:
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise DurationError(f"time: invalid duration {text!r}")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            if re.match(r"(\d+(?:\.\d*)?|\.\d+)$", s[pos:]):
                raise DurationError(f"time: missing unit in duration {text!r}")
            raise DurationError(f"time: invalid duration {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def is_go_duration(text: str) -> bool:
    """Whether Go's time.ParseDuration accepts ``text`` (cron's ``@every``)."""
    try:
        go_parse_duration(text)
    except DurationError:
        return False
    return True


def parse_duration(value: str | int | float) -> float:
    """Seconds in an Argo duration (ParseStringToDuration); DurationError when Argo refuses it."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    if _ATOI.fullmatch(text):
        return float(int(text))
    try:
        return go_parse_duration(text)
    except DurationError as e:
        raise DurationError(f"invalid duration {value!r} (expected e.g. '30s', '500ms', '2m', '1h30m'): {e}") from None
