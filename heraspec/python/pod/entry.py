"""The entry point: `main(module, name, kinds)`."""

import json
import os

from .names import DEFAULT_MARKER, INPUT_PREFIX, MANY, ONE, PLAN_ENV, RESULT_MODE_ENV
from .decode import is_null_text, read_input
from .boundary import fits, refuse_unfit
from .files import read_artifact, write_file_result
from .results import write_value_result

# --- the entry point -----------------------------------------------------------------------------------

def main(module, name, kinds):
    """Call `module.name` with each parameter of `kinds` ({name: kind}) read from env
    INPUT_PREFIX<name> (absent or DEFAULT_MARKER: Python applies the default), decoded and checked
    against its kind; write the result to a file, never stdout, so that print() cannot corrupt it."""
    import importlib

    space = importlib.import_module(module)
    function = getattr(space, name)
    # the def the kinds were read from: a decorator's wrapper (functools.wraps, lru_cache,
    # update_wrapper) keeps it as __wrapped__; its globals are where a "model:NAME" kind finds its
    # class, then the module it was found in (a wrapper that keeps nothing has its own module's
    # globals, a callable object none)
    own = function
    for _ in range(100):
        if getattr(own, "__wrapped__", None) is None:
            break
        own = own.__wrapped__
    classes = {**vars(space), **(getattr(own, "__globals__", None) or {})}
    plans = json.loads(os.environ.get(PLAN_ENV) or "{}")
    kwargs = {}
    for param, kind in kinds.items():
        raw = os.environ.get(INPUT_PREFIX + param)
        if raw is None or raw == DEFAULT_MARKER:
            continue
        base = kind[:-7] if kind and kind.endswith(" | None") else kind
        if raw in (ONE, MANY):  # a file, or a value sent through the artifact repository
            value = read_artifact(param, raw, base, classes)
        else:
            value = read_input(raw, base, plans.get(param), classes)
        if is_null_text(raw, kind, plans.get(param)):
            value = None
        if not fits(value, kind):
            refuse_unfit(own, param, value)
        kwargs[param] = value
    value = function(**kwargs)
    mode = os.environ.get(RESULT_MODE_ENV)
    if mode == "file":
        write_file_result(value)
    else:
        write_value_result(value, mode, name, f"the result of {module}:{name}")
