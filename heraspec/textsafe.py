"""Make text heraspec did not write safe to print on a terminal.

Server messages, node names, pod log lines, task stdout/stderr and results are foreign text: an
escape sequence in them could write the clipboard (OSC 52), set the window title, or move the
cursor up and erase a line to forge heraspec's own output. `printable` turns every control
character into a visible escape (`ESC` -> `\\x1b`), so what was sent is still readable and nothing
reaches the terminal as a command. heraspec's own colours and cursor moves are added by the caller
*after* the foreign text has passed through here, so they are the only ones that remain.

Neutralised: C0 controls (except newline and tab in `keep_lines` mode), DEL, C1 controls (U+0080 to
U+009F: 8-bit CSI/OSC), the bidirectional overrides and isolates that reorder what is displayed
(U+202A-U+202E, U+2066-U+2069), the line and paragraph separators U+2028/U+2029, and lone
surrogates (undecodable bytes kept by `surrogateescape`, which would otherwise fail to encode).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["printable"]

# C1, DEL, line/paragraph separators, bidi overrides and isolates, lone surrogates
_OTHER = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ONE_LINE = re.compile(f"[\x00-\x1f{_OTHER}]")
# keeps \t and \n, and the \r of a \r\n line ending (it only returns to column 0 before the newline)
_LINES = re.compile(f"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHER}]")


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    code = ord(c)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: Any, *, keep_lines: bool = False) -> str:
    """`text` (str() of anything else) with every control character shown as an escape.

    `keep_lines=True` is for multi-line output such as task logs: newlines, tabs and `\\r\\n`
    line endings pass through; a lone `\\r` (which returns to column 0 and lets the next text
    overwrite the line) is escaped like the rest. One-line mode escapes newlines too, for text
    placed inside heraspec's own line (`... failed (MESSAGE)`)."""
    s = text if isinstance(text, str) else str(text)
    pattern = _LINES if keep_lines else _ONE_LINE
    if pattern.search(s) is None:  # the common case: nothing to copy
        return s
    return pattern.sub(_escape, s)
