"""Go's ``time.Parse`` for the layouts govaluate tries on a quoted string (parsing.go
``tryParseTime``: ``time.ParseInLocation(layout, candidate, time.Local)`` for each layout in its
order, the first that parses wins).

Written from Go's time/format.go ``parse``: a layout is literal text and standard chunks; a space in
the layout matches one or more spaces (``skip``/``cutspace``); day and month names are matched
case-insensitively (``lookup``); ``_2`` and ``15`` and ``3`` take one or two digits, ``01``/``02``/
``04``/``05`` exactly two (``getnum``); a fraction after the seconds is accepted even when the
layout has none; the day is checked against the month (``daysIn``). A zone abbreviation (``MST``)
that is not the location's own gets a fake zone with offset 0 (``GMT+N``: N hours) but the wall
clock is kept as UTC (Parse does not shift it), so its Unix seconds are the wall clock's. Numeric
offsets (``-0700``, ``Z07:00``) are applied. ``time.Local`` is taken to be UTC, as in Argo's
controller image (no TZ set).
"""

from __future__ import annotations

__all__ = ["parse_time", "LAYOUTS"]

# parsing.go tryParseTime, in its order: time.ANSIC, UnixDate, RubyDate, Kitchen, RFC3339,
# RFC3339Nano, then govaluate's own RFC 3339 / ISO 8601 forms
LAYOUTS = (
    "Mon Jan _2 15:04:05 2006",
    "Mon Jan _2 15:04:05 MST 2006",
    "Mon Jan 02 15:04:05 -0700 2006",
    "3:04PM",
    "2006-01-02T15:04:05Z07:00",
    "2006-01-02T15:04:05.999999999Z07:00",
    "2006-01-02",
    "2006-01-02 15:04",
    "2006-01-02 15:04:05",
    "2006-01-02 15:04:05-07:00",
    "2006-01-02T15Z0700",
    "2006-01-02T15:04Z0700",
    "2006-01-02T15:04:05Z0700",
    "2006-01-02T15:04:05.999999999Z0700",
)
# the standard chunks these layouts use (format.go nextStdChunk), longest first where one prefixes another
_CHUNKS = ("Mon", "Jan", "MST", "2006", "_2", "01", "02", "03", "04", "05", "15", "3", "PM",
           ".999999999", "Z07:00", "Z0700", "-07:00", "-0700")
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class _Bad(Exception):
    pass


def _chunks(layout: str) -> list[str]:
    out, i = [], 0
    while i < len(layout):
        for c in _CHUNKS:
            if layout.startswith(c, i):
                out.append(c)
                i += len(c)
                break
        else:
            out.append(layout[i])
            i += 1
    return out


def _getnum(s: str, fixed: bool) -> tuple[int, str]:
    """format.go getnum: one digit, or two; `fixed`: exactly two."""
    if not s[:1].isdigit() or not s[:1].isascii():
        raise _Bad
    if len(s) < 2 or not (s[1].isdigit() and s[1].isascii()):
        if fixed:
            raise _Bad
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]


def _lookup(names: tuple[str, ...], value: str, size: int) -> str:
    """format.go lookup over the short names (case-insensitive ASCII match)."""
    for n in names:
        if value[:size].lower() == n[:size]:
            return value[size:]
    raise _Bad


def _digits(value: str, start: int) -> int:
    n = start
    while n < len(value) and value[n].isdigit() and value[n].isascii():
        n += 1
    return n


def _offset(chunk: str, value: str) -> tuple[int, str]:
    """The numeric zone chunks (stdNumTZ, stdNumColonTZ, stdISO8601TZ, stdISO8601ColonTZ): seconds east."""
    if chunk.startswith("Z") and value[:1] == "Z":
        return 0, value[1:]
    if chunk.endswith(":00"):
        if len(value) < 6 or value[3] != ":":
            raise _Bad
        sign, hh, mm, value = value[0], value[1:3], value[4:6], value[6:]
    else:
        if len(value) < 5:
            raise _Bad
        sign, hh, mm, value = value[0], value[1:3], value[3:5], value[5:]
    hr, _ = _getnum(hh, True)
    mi, _ = _getnum(mm, True)
    if hr > 24 or mi > 60 or sign not in "+-":
        raise _Bad
    off = (hr * 60 + mi) * 60
    return (-off if sign == "-" else off), value


def _zone_abbrev(value: str) -> int:
    """format.go parseTimeZone: the length of a zone abbreviation at the start of value, 0 if none."""
    if len(value) < 3:
        return 0
    if value.startswith(("ChST", "MeST")):
        return 4
    if value.startswith("GMT"):
        rest = value[3:]
        if rest[:1] in ("+", "-"):
            n = _digits(rest, 1)
            if n > 1 and int(rest[1:n]) <= 23:
                return 3 + n
        return 3
    if value[0] in "+-":
        n = _digits(value, 1)
        return n if n > 1 and int(value[1:n]) <= 23 else 0
    upper = 0
    while upper < min(len(value), 6) and "A" <= value[upper] <= "Z":  # at most six counted
        upper += 1
    if upper == 3 or (upper == 5 and value[4] == "T") or (upper == 4 and (value[3] == "T" or value[:4] == "WITA")):
        return upper
    return 0


# The numbers a layout element reads and their ranges (format.go parse: stdZeroMonth, stdHour,
# stdHour12, stdZeroMinute, stdZeroSecond): element -> (field, two digits required, lowest, highest).
_NUMBERS = {"01": ("month", True, 1, 12), "15": ("hour", False, 0, 23), "3": ("hour", False, 0, 12),
            "04": ("minute", True, 0, 59), "05": ("second", True, 0, 59)}


def _parse(layout: str, value: str) -> int:
    """format.go parse(layout, value, UTC, Local=UTC): Unix seconds, or _Bad."""
    t = {"year": 0, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    offset: int | None = None
    pm = am = False
    chunks = _chunks(layout)
    for i, c in enumerate(chunks):
        if c == " ":  # skip: a layout space matches any run of spaces (none only at the end)
            if value and value[0] != " ":
                raise _Bad
            value = value.lstrip(" ")
        elif len(c) == 1 and c not in "3":
            if not value.startswith(c):
                raise _Bad
            value = value[1:]
        elif c == "Mon":
            value = _lookup(_DAYS, value, 3)  # the weekday is read, never checked against the date
        elif c == "Jan":
            for m, n in enumerate(_MONTHS, 1):
                if value[:3].lower() == n:
                    t["month"], value = m, value[3:]
                    break
            else:
                raise _Bad
        elif c == "2006":
            if len(value) < 4 or not value[:4].isdigit() or not value[:4].isascii():
                raise _Bad
            t["year"], value = int(value[:4]), value[4:]
        elif c in ("02", "_2"):
            if c == "_2" and value[:1] == " ":
                value = value[1:]
            t["day"], value = _getnum(value, c == "02")  # checked against the month at the end
        elif c in _NUMBERS:
            field, fixed, low, high = _NUMBERS[c]
            t[field], value = _getnum(value, fixed)
            if not low <= t[field] <= high:
                raise _Bad
            nxt = chunks[i + 1] if i + 1 < len(chunks) else ""
            if c == "05" and len(value) >= 2 and value[0] in ".," and value[1].isdigit() and value[1].isascii() \
                    and nxt != ".999999999":  # a fraction the layout does not name is still read
                value = value[_digits(value, 2):]
        elif c == ".999999999":
            if len(value) >= 2 and value[0] in ".," and value[1].isdigit() and value[1].isascii():
                value = value[_digits(value, 1):]
        elif c == "PM":
            if value[:2] not in ("AM", "PM"):
                raise _Bad
            pm, am, value = value[:2] == "PM", value[:2] == "AM", value[2:]
        elif c == "MST":
            if value.startswith("UTC"):
                offset, value = 0, value[3:]
                continue
            n = _zone_abbrev(value)
            if not n:
                raise _Bad
            value = value[n:]  # a fake zone: the wall clock stays the instant (see the module's text)
        else:  # the numeric offsets
            offset, value = _offset(c, value)
    if value:
        raise _Bad  # extra text
    hour = t["hour"]
    if pm and hour < 12:
        hour += 12
    elif am and hour == 12:
        hour = 0
    if t["day"] < 1 or t["day"] > _days_in(t["month"], t["year"]):  # format.go: "day out of range"
        raise _Bad
    return (_days_from_civil(t["year"], t["month"], t["day"]) * 86400 + hour * 3600 + t["minute"] * 60
            + t["second"] - (offset or 0))


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return (31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year 0 included, as Go's Date allows)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def parse_time(text: str) -> float | None:
    """Unix seconds of a date string govaluate reads as a TIME (planValue: float64(t.Unix())), else None."""
    for layout in LAYOUTS:
        try:
            return float(_parse(layout, text))
        except (_Bad, ValueError):
            continue
    return None
