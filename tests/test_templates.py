"""The compiler's template keys (argo/templates.py): a task's body as written stands for its template
settings (`written_key`), so two bodies share a key exactly when their keys other than the call's are
equal JSON, types included (`1`, `1.0`, `true` and `"1"` are four settings)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from heraspec.argo.templates import written_key

CALL = ["args", "after", "depends", "when", "foreach", "continue_on", "on_exit"]
_scalars = st.sampled_from([1, 1.0, True, False, 0, 0.0, "1", "true", "", None, "python:3.12", -0.0, 2 ** 70])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=2)
                       | st.dictionaries(st.sampled_from(["a", "b", "1"]), inner, max_size=2), max_leaves=4)
_bodies = st.dictionaries(st.sampled_from(["function", "image", "timeout", "env", "resources", *CALL]), _values,
                          max_size=4)


def _json(body: dict) -> str:
    return json.dumps({k: v for k, v in body.items() if k not in CALL}, sort_keys=True)


@settings(max_examples=400, deadline=None)
@given(a=_bodies, b=_bodies)
def test_two_bodies_share_a_key_exactly_when_their_settings_are_equal_json(a: dict, b: dict) -> None:
    assert (written_key(a) == written_key(b)) == (_json(a) == _json(b))
    hash(written_key(a))


def test_key_order_and_the_call_keys_do_not_matter_but_types_do() -> None:
    assert written_key({"function": "m:f", "image": "x", "args": {"i": 1}}) == \
        written_key({"after": ["t0"], "image": "x", "function": "m:f"})
    keys = {written_key({"function": "m:f", "timeout": v}) for v in (1, 1.0, True, "1")}
    assert len(keys) == 4
