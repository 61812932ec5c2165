"""YAML as libyaml reads it, shared by the loader and the position index: PyYAML imported without
the cost the loader never needs, and a scalar's tag as libyaml's composer resolves it.

    import_yaml() -> module       `yaml`, imported (once) as below
    scalar_tag(event) -> str      CORE + "str", MERGE (a plain `<<`), PLAIN (plain, untagged) or the explicit tag
"""

from __future__ import annotations

import sys
from typing import Any

CORE = "tag:yaml.org,2002:"
MERGE = CORE + "merge"
PLAIN = "tag:heraspec:plain"  # an untagged plain scalar: resolved by load.resolve_plain (YAML 1.2 core)

# `import yaml` compiles its pure-Python reader's class of printable characters (yaml/reader.py,
# Reader.NON_PRINTABLE), which the loader never uses (libyaml reads the text): 7 ms, a tenth of a
# `heraspec validate`, spent building a 64K-entry table for the wide negated ranges. The same set
# of characters written as its complement (the few ranges YAML forbids) compiles in a tenth of a
# millisecond; it is put in `re`'s cache under PyYAML's pattern text, so that reader gets a pattern
# matching exactly the same characters (tests/test_load.py compares them over every code point).
YAML_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
FORBIDDEN = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


def import_yaml() -> Any:
    """The `yaml` module; on first import, with Reader.NON_PRINTABLE compiled cheaply (above)."""
    yaml = sys.modules.get("yaml")
    if yaml is not None:
        return yaml
    import re

    cache = getattr(re, "_cache", None)  # CPython 3.10-3.13: {(type, pattern, flags): compiled}
    key = (str, YAML_NON_PRINTABLE, 0)
    if isinstance(cache, dict) and key not in cache:
        cache[key] = re.compile(FORBIDDEN)
    import yaml

    return yaml


def scalar_tag(ev: Any) -> str:
    """A scalar event's tag as the composer resolves it (see load._loader)."""
    tag = ev.tag
    if tag is None or tag == "!":
        if ev.implicit[0]:  # plain and untagged
            return MERGE if ev.value == "<<" else PLAIN
        return CORE + "str"  # quoted, or the non-specific tag `!`
    return tag
