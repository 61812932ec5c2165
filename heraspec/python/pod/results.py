"""The return value, exactly: plain JSON data, the result parameter or artifact, named outputs."""

import json
import os
import sys

from .names import OUTPUTS_ENV, PARAMETER_LIMIT, RESULT_PATH, RESULT_PATH_ENV, VALUE_FILE
from .files import artifact_root

# --- the return value, exactly -------------------------------------------------------------------------

def write_value_result(value, mode, name, where):
    """The return value as plain JSON data: a file in the artifact repository (`result: artifact`)
    or the result parameter; then its named outputs."""
    result = plain(value, where)
    if mode == "artifact":
        write_value_artifact(result)
    else:
        write_result_parameter(result, name, where)
    if os.environ.get(OUTPUTS_ENV):
        publish(result)


def plain(value, where, path="result"):
    """The value as plain JSON data, exactly, or SystemExit naming what cannot be sent and the way
    out. Subclasses of the JSON types (numpy.float64, Counter, OrderedDict, IntEnum, a str subclass,
    a namedtuple) are sent as their base value, an Enum as its value, numpy scalars and 0-d arrays
    as the Python value .item() gives (exact: int64 an int, bool_ a bool), dataclasses and Pydantic
    models as their fields."""
    t = type(value)
    if value is None or t in (bool, int):
        return value
    if t is str:
        return utf8_text(value, where, path)
    if isinstance(value, float):
        if value == value and value not in (float("inf"), float("-inf")):
            return float(value)
        what, fix = "the float " + repr(float(value)), "return None or a string in its place"
    elif isinstance(value, (list, tuple)):
        return [plain(v, where, f"{path}[{i}]") for i, v in enumerate(value)]
    elif isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                refuse_result(where, path, "a dict with a key of type " + type(k).__name__,
                              "use str keys (JSON object keys are strings)")
            out[utf8_text(str(k), where, path, "a dict whose key holds")] = plain(v, where, f"{path}[{str(k)!r}]")
        return out
    elif hasattr(value, "_value_"):  # an Enum member
        return plain(value.value, where, path)
    elif isinstance(value, (int, str)):
        return int(value) if isinstance(value, int) else utf8_text(str(value), where, path)
    elif getattr(value, "ndim", 1) == 0 and value.dtype.kind not in "mM" and type(value.item()) is not t:
        return plain(value.item(), where, path)  # a numpy scalar or 0-d array, not a time
    elif callable(getattr(value, "model_dump", None)) and not isinstance(value, type):  # Pydantic v2
        return plain(value.model_dump(mode="json"), where, path)
    else:
        import dataclasses

        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return plain(dataclasses.asdict(value), where, path)
        name = t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
        what, fix = "a " + name, way_out(t)
    refuse_result(where, path, what, fix)


def utf8_text(text, where, path, what="a str holding"):
    """The str, or SystemExit at a lone surrogate, which UTF-8 cannot carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        refuse_result(where, path, f"{what} the lone surrogate U+{ord(text[e.start]):04X} at index {e.start}",
                      "decode its bytes with errors='replace'")
    return text


def way_out(t):
    """What to return instead of a value of type t."""
    fix = dict(set="sorted(value)", frozenset="sorted(value)", date="value.isoformat()", datetime="value.isoformat()",
               bytes="value.decode()", Decimal="str(value)", timedelta="value.total_seconds()", datetime64="str(value)",
               timedelta64="value / numpy.timedelta64(1, 's')", longdouble="float(value)").get(t.__name__)
    if not fix and (hasattr(t, "tolist") or hasattr(t, "to_dict") and hasattr(t, "iloc")):  # an array, a DataFrame
        return ("return value.tolist() (a DataFrame: .to_dict('list')), set `result: artifact` if large, "
                "or return a file (-> Path)")
    return ("return " + fix if fix else "convert it to a str, number, list or dict") + ", or return a file (-> Path)"


def refuse_result(where, path, what, fix):
    sys.stderr.write(f"heraspec: {where}: {path} is {what}, which has no exact JSON form; {fix}\n")
    raise SystemExit(1)


def argo_unsafe(text):
    """The code point of the first character Argo cannot substitute into another template, or None:
    simpleReplaceStrict (util/template) escapes values with Go's strconv.Quote, whose \\a \\v \\xNN
    \\UNNNNNNNN escapes are not JSON, and the template then fails "cannot finish template replacement"."""
    for c in text:
        n = ord(c)
        if (n < 32 and c not in "\b\t\n\f\r") or n == 127 or (n > 0xFFFF and not c.isprintable()):
            return n
    return None


def json_text(value):
    """Compact JSON of plain data; ASCII-only when DEL or unprintable astral characters would stay raw."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if argo_unsafe(text) is not None:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def result_text(result):
    """The result parameter's text: a str is its own text, anything else compact JSON. (A str with a
    character Argo cannot substitute is kept: its consumer fails on Argo, "cannot finish template
    replacement", and `heraspec run` fails it the same way.)"""
    return result if type(result) is str else json_text(result)


def write_value_artifact(result):
    """The result's JSON as a file in out/result, read back by the consumer's script, never substituted."""
    out = artifact_root("out", "result")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / VALUE_FILE, "w", encoding="utf-8") as f:
        f.write(json_text(result))


def write_result_parameter(result, name, where):
    """The output parameter's file, after checking it fits: a parameter reaches its consumer through
    one environment variable. Argo's executor trims one newline from a parameter file."""
    text = result_text(result)
    size = len(text.encode("utf-8"))
    if size > PARAMETER_LIMIT:
        raise SystemExit(
            f"heraspec: {name}() returned {size:,} bytes; a result passed as an Argo parameter must "
            f"stay under {PARAMETER_LIMIT:,} bytes (Linux refuses an environment variable of 128 KiB or more, E2BIG, "
            "and Argo caps parameters at 256 KiB). Set `result: artifact` on the task (or in `defaults`) to send "
            "it through the artifact repository, or return a file (-> Path)")
    path = os.environ.get(RESULT_PATH_ENV) or RESULT_PATH
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    if type(result) is str:  # PATH.str marks a str result, so that `heraspec run` shows it as one
        open(path + ".str", "w").close()


def publish(result):
    """Named outputs (env OUTPUTS_ENV): fields of the result (an empty key path: all of it), each as
    JSON in outputs/<name> beside the result's file, read by `{from, key}` and spliced into nested
    arguments."""
    keys = json.loads(os.environ[OUTPUTS_ENV])
    folder = os.path.join(os.path.dirname(os.environ.get(RESULT_PATH_ENV) or RESULT_PATH), "outputs")
    os.makedirs(folder, exist_ok=True)
    for name, path in keys.items():
        value, seen = result, []
        for part in (path.split(".") if path else []):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                where = "the result" + ("" if not seen else " field " + ".".join(seen))
                if isinstance(value, dict):
                    has = "its keys: " + (", ".join(map(str, value)) or "none")
                elif isinstance(value, list):
                    has = f"it is a list of {len(value)}"
                else:
                    has = "it is " + type(value).__name__ + ", not a mapping"
                raise SystemExit(f"heraspec: output {name!r} reads key {path!r}, but {where} has no {part!r} ({has})")
            seen.append(part)
        text = json_text(value)
        size = len(text.encode("utf-8"))
        if size > PARAMETER_LIMIT:  # a parameter: its consumer's environment variable would be refused
            raise SystemExit(
                f"heraspec: output {name!r} ({f'key {path!r} of' if path else 'all of'} the result) is {size:,} "
                "bytes; a named output is an "
                f"Argo parameter and must stay under {PARAMETER_LIMIT:,} bytes (Linux refuses an environment "
                "variable of 128 KiB or more, E2BIG). Read the whole result instead, {from: TASK} without a key "
                "(with `result: artifact` it travels through the artifact repository), and take the field there")
        with open(os.path.join(folder, name), "w", encoding="utf-8") as out:
            out.write(text)
