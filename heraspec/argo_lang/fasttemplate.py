"""Argo's `{{...}}` templates as util/template parses them (github.com/valyala/fasttemplate).

    unmatched_tag(text) -> int | None    the offset of a `{{` with no `}}` after it, or None

fasttemplate.NewTemplate fails with "Cannot find end tag" on such a text; Argo parses every
template's JSON so (common/util.go SubstituteParams, input values included), so a literal value
holding one is refused by validate (check/argotext.py) and a value holding one at run time ends its
consumer in Error (local/units.py), as on Argo.
"""

from __future__ import annotations

__all__ = ["unmatched_tag"]


def unmatched_tag(text: str) -> int | None:
    """The offset of a `{{` with no `}}` after it (fasttemplate's "Cannot find end tag"), or None."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return None
        end = text.find("}}", start + 2)
        if end < 0:
            return start
        pos = end + 2
