"""heraspec.textsafe.printable: foreign text reaches the terminal without a single control character."""

from __future__ import annotations

import unicodedata

from hypothesis import given, strategies as st

from heraspec.textsafe import printable

# what a hostile server or task prints: OSC 52 clipboard write, window title, cursor-up + erase
# line (forging a line above), 8-bit CSI, a bidi override, a lone surrogate from undecodable bytes
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
TITLE = "\x1b]0;pwned\x1b\\"
FORGE = "\x1b[1A\x1b[2Kworkflowtemplate/argo/prod updated"


def _terminal_safe(text: str, keep: str = "") -> bool:
    for c in text:
        if c in keep:
            continue
        if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or 0x202A <= ord(c) <= 0x202E \
                or 0x2066 <= ord(c) <= 0x2069:
            return False
    return True


def test_escape_sequences_become_visible_text():
    out = printable(f"a{OSC52}b{TITLE}c{FORGE}")
    assert out == ("a\\x1b]52;c;cm0gLXJmIH4=\\x07b\\x1b]0;pwned\\x1b\\c"
                   "\\x1b[1A\\x1b[2Kworkflowtemplate/argo/prod updated")
    assert _terminal_safe(out)


def test_c1_bidi_separators_and_surrogates_are_escaped():
    assert printable("x\x9b2Jy\u202eevil\u2066\u2028z\udcff") == "x\\x9b2Jy\\u202eevil\\u2066\\u2028z\\udcff"


def test_one_line_mode_escapes_newlines_tabs_and_carriage_returns():
    assert printable("one\ntwo\tthree\r\n") == "one\\x0atwo\\x09three\\x0d\\x0a"


def test_keep_lines_mode_keeps_newlines_tabs_and_crlf_but_not_a_lone_cr():
    assert printable("one\ntwo\tthree\r\nfour\rover\x1b[2K", keep_lines=True) == \
        "one\ntwo\tthree\r\nfour\\x0dover\\x1b[2K"


def test_ordinary_text_is_returned_unchanged():
    for s in ("", "plain ascii", "héllo wörld 🙂 日本語", "zero\u200dwidth joiner 👩‍💻", "back\\slash"):
        assert printable(s) == s
        assert printable(s, keep_lines=True) == s


def test_non_strings_are_shown_with_str():
    assert printable(3) == "3" and printable(None) == "None" and printable(["\x1b"]) == "['\\x1b']"


@given(st.text())
def test_output_never_contains_a_control_character(s):
    assert _terminal_safe(printable(s))
    assert _terminal_safe(printable(s, keep_lines=True), keep="\n\t\r")
    assert "\r" not in printable(s, keep_lines=True).replace("\r\n", "")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf"))))
def test_safe_text_is_untouched(s):
    assert printable(s) == s
