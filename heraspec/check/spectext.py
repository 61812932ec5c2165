"""What a spec's text tells before its data is walked: whether a word can be anywhere in it.

    may_hold(doc, *words) -> bool    False only when no key and no string of `doc.data` contains any word

A check that looks for something rare (a key such as `foreach`, a text such as
`workflow.parameters.`) over every task of a 5,000-task spec can skip the walk when the file's text
cannot hold it. That is sound because YAML and TOML write every key and string literally, except:
- escapes (`\\x66`, `\\u0066`, a line-ending `\\`), in YAML's double-quoted and TOML's basic
  strings, which always start with a backslash;
- line folding (YAML plain, quoted and `>` scalars), which joins lines with a space or keeps a line
  break, so it never makes a word without either (and no word looked for has one);
- values placeholders (document/values.py: `[[ ... ]]`, `[% ... %]`, `[# ... #]`), which
  `--values`/`--set` render into any string, or into a whole mapping.
So a text holding none of the words, no backslash and no placeholder marker has none of them in its
data. Anything else (or a document without its text) may hold them.
"""

from __future__ import annotations

import re

from ..document.load import Document

__all__ = ["PLACEHOLDER_MARKERS", "may_hold"]

# document/values.py VAR_START, BLOCK_START and COMMENT_START: a string holding one is rendered (a
# comment to nothing, so `fore[# #]ach` gives `foreach`). Not imported from there, which costs a
# `validate` ~4 ms; tests/test_spectext.py keeps them the same.
PLACEHOLDER_MARKERS = ("[[", "[%", "[#")
_MARKER = re.compile("|".join(re.escape(m) for m in PLACEHOLDER_MARKERS))  # one scan (`[` is common)

# the last text asked about (held, so its id stays its own), whether it is literal, and the words
# looked for in it: the checks ask several times about one text, a 5,000-task spec's text is ~300 KB
_last: tuple[str, bool, dict[str, bool]] = ("", False, {})


def may_hold(doc: Document, *words: str) -> bool:
    """Whether any key or string of `doc.data` may contain one of `words` (each without a space or a
    line break); False only when the file's text proves none does."""
    global _last
    text = doc.text
    if not text:
        return True
    last = _last  # one snapshot: another thread may ask about another text meanwhile
    if last[0] is not text:
        last = _last = (text, "\\" not in text and _MARKER.search(text) is None, {})
    _, literal, found = last
    if not literal:
        return True
    for w in words:
        hit = found.get(w)
        if hit is None:
            hit = found[w] = w in text
        if hit:
            return True
    return False
