"""CronWorkflow schedules and time zones, as Argo reads them (robfig/cron v3 ParseStandard and
time.LoadLocation, called by validate.go CronWorkflow)."""

from __future__ import annotations

from ..argo_lang.durations import is_go_duration
from ..document.load import Document
from ..document.nodes import Spec
from ..errors import Errors

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
           ("month", 1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
           ("day of week", 0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))


def schedule_problem(text: str) -> str | None:
    """Why robfig/cron's standard parser (Parser.Parse, parseDescriptor, getRange) refuses `text`."""
    spec = text.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        zone, _, spec = spec.partition(" ")
        if timezone_problem(zone.split("=", 1)[1]):
            return f"unknown time zone '{zone.split('=', 1)[1]}'"
        spec = spec.strip()
    if not spec:
        return "empty schedule"
    if spec.startswith("@"):
        if spec.startswith("@every "):
            d = spec[len("@every "):].strip()
            return None if is_go_duration(d) else f"'{d}' is not a duration"
        return None if spec in DESCRIPTORS else f"unknown descriptor '{spec}' (Argo knows {', '.join(DESCRIPTORS)}, @every DURATION)"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    for value, (what, lo, hi, names) in zip(fields, _FIELDS):
        for part in value.split(","):
            problem = _range_problem(part, lo, hi, names)
            if problem:
                return f"{what} '{value}': {problem}"
    return None


def _range_problem(part: str, lo: int, hi: int, names: dict) -> str | None:
    range_step = part.split("/")
    if len(range_step) > 2:
        return "too many slashes"
    low_high = range_step[0].split("-")
    if len(low_high) > 2:
        return "too many hyphens"
    if range_step[0] in ("*", "?"):
        start, end = lo, hi
    else:
        vals = []
        for v in low_high:
            n = names.get(v.lower()) if names else None
            if n is None:
                if not v.isdigit():
                    return f"'{v}' is not a number" + (" or a name" if names else "")
                n = int(v)
            vals.append(n)
        start, end = vals[0], vals[-1]
        if len(range_step) == 2 and len(low_high) == 1:
            end = hi
    if len(range_step) == 2 and (not range_step[1].isdigit() or int(range_step[1]) == 0):
        return "the step must be a positive number"
    if start < lo:
        return f"{start} is below the minimum {lo}"
    if end > hi:
        return f"{end} is above the maximum {hi}"
    if start > end:
        return f"the range starts at {start}, after its end {end}"
    return None


def timezone_problem(zone: str) -> str | None:
    """validate.go CronWorkflow: time.LoadLocation(timezone) must succeed."""
    if zone in ("", "UTC", "Local"):
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        if not zoneinfo.available_timezones():  # no time zone database here: cannot tell
            return None
        return f"'{zone}' is not an IANA time zone"
    return None

def check(doc: Document, spec: Spec, errors: Errors) -> None:
    if spec.kind != "CronWorkflow":
        return
    written = spec.data.get("schedule")  # a list locates each at ("schedule", i); one text at ("schedule",)
    listed = isinstance(written, list)
    for i, s in enumerate(spec.schedule if listed or isinstance(written, str) else ()):
        problem = schedule_problem(s) if isinstance(s, str) else None
        if problem:
            # validate.go CronWorkflow: cron.ParseStandard(schedule)
            doc.error(errors, ("schedule",) + ((i,) if listed else ()),
                      f"schedule '{s}' is not one Argo accepts: {problem}",
                      "e.g. '0 3 * * *' (minute hour day-of-month month day-of-week) or @daily")
    tz = spec.timezone
    problem = timezone_problem(tz) if isinstance(tz, str) else None
    if problem:
        doc.error(errors, ("timezone",), problem, "e.g. Europe/Paris, America/New_York, UTC")
