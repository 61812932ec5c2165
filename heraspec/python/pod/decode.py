"""Decoding inputs: each parameter's text made the value its kind asks for (classes rebuilt)."""

import json

# --- decoding inputs -----------------------------------------------------------------------------------

def read_input(raw, kind, plan, classes=None):
    """One parameter's value from its text, following the compiler's plan for this task."""
    if plan and plan.startswith("item"):
        raw = read_item_field(raw)
        plan = plan[5:] or None  # then, for "item+agg" and the like, as the rest of the plan says
    if plan in ("agg", "agg:str"):
        return read_aggregate(raw, kind, plan, classes)
    if plan == "json":
        return read_json_literal(raw, kind, classes)
    if plan == "str" and kind is None:
        return raw
    return decode(raw, kind, classes)


def is_null_text(raw, kind, plan):
    """Whether an Optional[str] parameter's text is JSON's null, so None: a str "null" (a `-> str`
    result, a literal or a str parameter) comes with the plan "str" or "item+str" (argo/plans.py)."""
    return raw == "null" and kind == "str | None" and plan in (None, "item")


def read_item_field(raw):
    """An item field is Argo's Item.String(): a string keeps its JSON escapes."""
    try:
        return json.loads('"' + raw + '"')
    except (ValueError, RecursionError):
        return raw  # not an escaped string: a number, or JSON text with strings inside


def read_aggregate(raw, kind, plan, classes=None):
    """Argo's aggregate (aggregatedJSONValueList): the children's values decoded when every one is
    a JSON object or array, else the list of their raw texts; each text is decoded as its child
    wrote it (a str result is its own text)."""
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):
        items = None
    if not isinstance(items, list):
        return decode(raw, kind, classes)
    inner = kind[5:] if kind and kind.startswith("list:") else "str" if plan == "agg:str" else None
    values = [decode(v, inner, classes) if isinstance(v, str) else coerce(v, inner, classes) for v in items]
    if kind == "str":
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return values if kind is None or kind.startswith("list") else coerce(values, kind, classes)


def read_json_literal(raw, kind, classes=None):
    """A literal the compiler wrote as JSON, because its text alone would be misread."""
    try:
        return coerce(json.loads(raw), kind, classes)
    except (ValueError, RecursionError):
        return decode(raw, kind, classes)


def decode(raw, kind, classes=None):
    """A value from its text: Argo passes every input as text, JSON where it parses, else the raw
    text; then made what the annotation asks (coerce). `classes`: where "model:NAME" finds NAME."""
    if kind == "str":
        return raw
    try:
        value = json.loads(raw, parse_constant=int)  # NaN is not JSON: int() refuses it
    except (ValueError, RecursionError):
        value = raw
    return coerce(value, kind, classes)


def coerce(value, kind, classes=None):
    """An already decoded value made what its kind asks where that is lossless (3.0 for an int is
    3, "yes" for a bool is True, a JSON text for a container is decoded, a mapping for a class is
    the class); what cannot be made so is left as it is, for `fits` to refuse."""
    if kind is None or value is None:
        return value
    head, _, inner = kind.partition(":")
    if isinstance(value, str) and head in ("list", "dict", "tuple", "set", "frozenset", "model"):
        value = decoded_container(value)
    convert = globals().get("coerce_" + head)  # a script has those of the kinds its template uses
    return convert(value, inner, classes) if convert else value


def decoded_container(text):
    """JSON text given for a container or a class, decoded (as a literal and through {param}
    alike), or the text as it is."""
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return decoded if isinstance(decoded, (list, dict)) else text


def coerce_str(value, inner, classes):
    """A str receives a value's own text: a str as it is, anything else its JSON (an element of a
    container written `[1, true]`, a value read from the artifact repository, a child's JSON text
    that Argo's aggregate decoded: Go's text of it)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def coerce_int(value, inner, classes):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return number_in(value, int) if isinstance(value, str) else value


def coerce_float(value, inner, classes):
    if type(value) is int:  # beyond 2**53 a float rounds it: then the int, which Python takes for a float
        return float(value) if -2**53 <= value <= 2**53 else value
    return number_in(value, float) if isinstance(value, str) else value


def number_in(text, make):
    """The number a text spells (spaces around it allowed; not nan or 1_000) as `make` reads it, or
    the text as it is."""
    try:
        return make(text) if text.isascii() and not text.strip().strip("0123456789+-.eE") else text
    except ValueError:
        return text


def coerce_bool(value, inner, classes):
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "yes", "y", "on", "1"):
            return True
        if word in ("false", "no", "n", "off", "0"):
            return False
    elif type(value) is int and value in (0, 1):
        return bool(value)
    return value


def coerce_list(value, inner, classes):
    if not (inner and isinstance(value, list)):
        return value
    return [decode(v, inner, classes) if isinstance(v, str) else coerce(v, inner, classes) for v in value]


def coerce_tuple(value, inner, classes):
    return tuple(coerce_list(value, inner, classes)) if isinstance(value, list) else value


def coerce_set(value, inner, classes):
    if not isinstance(value, list):
        return value
    try:
        return set(coerce_list(value, inner, classes))
    except TypeError:  # an unhashable element: refused at the boundary
        return value


def coerce_frozenset(value, inner, classes):
    value = coerce_set(value, inner, classes)
    return frozenset(value) if isinstance(value, set) else value


def coerce_dict(value, inner, classes):
    if not (inner and isinstance(value, dict)):
        return value
    return {k: decode(v, inner, classes) if isinstance(v, str) and inner != "str" else coerce(v, inner, classes)
            for k, v in value.items()}


def coerce_model(value, name, classes):
    head, *rest = name.split(".")  # "Item", or "models.Item" found through the module `models`
    cls = (classes or {}).get(head)
    for part in rest:
        cls = getattr(cls, part, None)
    return rebuild(value, cls)


def rebuild(value, cls):
    """The annotated class (of the user's code, wherever it is defined) made from its JSON form: a
    dataclass or NamedTuple from its fields (a dataclass's fields rebuilt as their hints say, see
    rebuild_field), a Pydantic model validated, an Enum by value or name; a TypedDict stays the dict
    it is. What does not fit comes back as Unfit, for the boundary to refuse; other classes are left
    alone."""
    if not isinstance(cls, type):
        return value
    try:
        if issubclass(cls, dict) and hasattr(cls, "__total__"):  # a TypedDict
            return value if isinstance(value, dict) else Unfit(value, "")
        if callable(getattr(cls, "model_validate", None)):  # Pydantic v2
            return value if isinstance(value, cls) else cls.model_validate(value)
        if any(c.__module__ == "enum" and c.__name__ == "Enum" for c in cls.__mro__):
            if isinstance(value, cls):
                return value
            try:
                return cls(value)
            except ValueError:
                if isinstance(value, str) and value in cls.__members__:
                    return cls[value]
                raise
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):  # a NamedTuple
            if isinstance(value, cls):
                return value
            if isinstance(value, dict):
                return cls(**value)
            return cls(*value) if isinstance(value, list) else Unfit(value, "")
        import dataclasses

        if dataclasses.is_dataclass(cls):
            if isinstance(value, cls):
                return value
            if not isinstance(value, dict):
                return Unfit(value, "")
            try:  # the fields' types, string annotations (`from __future__ import annotations`) resolved
                import typing

                hints = typing.get_type_hints(cls)
            except Exception:
                hints = {}
            value = dict(value)
            for f in dataclasses.fields(cls):
                if f.name in value:
                    value[f.name] = rebuild_field(value[f.name], hints.get(f.name))
                    if isinstance(value[f.name], Unfit):
                        return Unfit(value, f"{f.name}: {value[f.name].why}")
            return cls(**value)
    except Exception as e:  # a missing or unknown field, a failed validation: said at the boundary
        return Unfit(value, "; ".join(str(e).split("\n"))[:300])
    return value


def rebuild_field(value, hint):
    """A dataclass field's value as its type hint says: a class rebuilt (rebuild), also inside
    list[...], dict[str, ...] and Optional[...]; an element the class refuses makes the whole Unfit."""
    import typing

    args = typing.get_args(hint)
    if value is None or hint is None:
        return value
    if isinstance(hint, type) and not args:
        return rebuild(value, hint)
    if typing.get_origin(hint) is list and args and isinstance(value, list):
        out = [rebuild_field(v, args[0]) for v in value]
        found = out
    elif typing.get_origin(hint) is dict and len(args) == 2 and isinstance(value, dict):
        out = {k: rebuild_field(v, args[1]) for k, v in value.items()}
        found = list(out.values())
    elif type(None) in args and len(args) == 2:  # Optional[X]
        return rebuild_field(value, args[0] if args[1] is type(None) else args[1])
    else:
        return value
    return next((v for v in found if isinstance(v, Unfit)), out)


class Unfit:
    """A value the annotated class refused, and why (reported by refuse_unfit)."""

    def __init__(self, value, why):
        self.value, self.why = value, why

    def __repr__(self):
        return f"Unfit({self.value!r}, {self.why!r})"
