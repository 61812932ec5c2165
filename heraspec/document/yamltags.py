"""YAML tags as libyaml's composer resolves a scalar's, shared by the loader and the position index.

    scalar_tag(event) -> str     CORE + "str", MERGE (a plain `<<`), PLAIN (plain, untagged) or the explicit tag
"""

from __future__ import annotations

from typing import Any

CORE = "tag:yaml.org,2002:"
MERGE = CORE + "merge"
PLAIN = "tag:heraspec:plain"  # an untagged plain scalar: resolved by load.resolve_plain (YAML 1.2 core)


def scalar_tag(ev: Any) -> str:
    """A scalar event's tag as the composer resolves it (see load._loader)."""
    tag = ev.tag
    if tag is None or tag == "!":
        if ev.implicit[0]:  # plain and untagged
            return MERGE if ev.value == "<<" else PLAIN
        return CORE + "str"  # quoted, or the non-specific tag `!`
    return tag
