"""The boundary: a value that does not fit its annotation stops the task before the function runs."""

from .decode import Unfit

# --- the boundary: a value that does not fit its annotation stops the task before the function runs -

def fits(value, kind):
    """Whether a decoded input fits its kind: None only where the kind admits it (" | None", or no
    annotation; an element of a container is not checked for None)."""
    if kind is None:
        return True
    if value is None:
        return kind.endswith(" | None")
    head, _, inner = kind[:-7].partition(":") if kind.endswith(" | None") else kind.partition(":")
    check = globals().get("fits_" + head)  # a script has those of the kinds its template uses
    return check(value, inner) if check else True


def fits_element(value, kind):
    return value is None or fits(value, kind)


def fits_int(value, inner):
    return isinstance(value, int) and not isinstance(value, bool)


def fits_float(value, inner):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fits_bool(value, inner):
    return isinstance(value, bool)


def fits_list(value, inner):
    return isinstance(value, list) and (not inner or all(fits_element(v, inner) for v in value))


def fits_tuple(value, inner):
    return isinstance(value, tuple) and (not inner or all(fits_element(v, inner) for v in value))


def fits_set(value, inner):
    return isinstance(value, set) and (not inner or all(fits_element(v, inner) for v in value))


def fits_frozenset(value, inner):
    return isinstance(value, frozenset) and (not inner or all(fits_element(v, inner) for v in value))


def fits_dict(value, inner):
    return isinstance(value, dict) and (not inner or all(fits_element(v, inner) for v in value.values()))


def fits_model(value, inner):
    return not isinstance(value, Unfit)


def refuse_unfit(function, name, value):
    """Stop the task: `fn(param): expected int, got 'abc' (str)`, with the class's reason if any."""
    want = getattr(function, "__annotations__", {}).get(name)
    want = want.__name__ if isinstance(want, type) else str(want).replace("typing.", "")
    got = f"{repr(value)[:200]} ({type(value).__name__})"
    if isinstance(value, Unfit):  # a class refused it, and said why
        got = f"{repr(value.value)[:200]} ({type(value.value).__name__}){': ' + value.why if value.why else ''}"
    raise SystemExit(f"heraspec: {getattr(function, '__name__', 'function')}({name}): expected {want}, got {got}")
