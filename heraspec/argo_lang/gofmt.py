"""Go's fmt.Sprintf with one int argument, as operator.go expandSequence formats each number
(``withSequence.format``, default ``%d``).

Verbs for an int: ``d`` ``v`` (decimal), ``b`` ``o`` ``O`` ``x`` ``X`` (bases), ``c`` (the
character), ``U`` (``U+0041``); flags ``-`` ``+`` ``#`` ``0`` and space, width and precision (the
minimum number of digits). Any other verb prints ``%!s(int=5)``, a verb without an argument
``%!d(MISSING)``, an argument without a verb ``%!(EXTRA int=5)``, as fmt does.
"""

from __future__ import annotations

import re

__all__ = ["sprintf_int"]

_SPEC = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d*))?(.)?", re.S)


def _one(flags: str, width: str | None, prec: str | None, verb: str, n: int) -> str:
    if verb in "dv":
        digits, prefix = str(abs(n)), ""
    elif verb in "bB":
        digits, prefix = format(abs(n), "b"), "0b" if "#" in flags else ""
    elif verb == "o":
        digits, prefix = format(abs(n), "o"), "0" if "#" in flags else ""
    elif verb == "O":
        digits, prefix = format(abs(n), "o"), "0o"
    elif verb in "xX":
        digits = format(abs(n), "x" if verb == "x" else "X")
        prefix = ("0x" if verb == "x" else "0X") if "#" in flags else ""
    elif verb == "c":
        try:
            return _pad(chr(n), flags.replace("0", ""), width)
        except (ValueError, OverflowError):
            return _pad("\ufffd", flags.replace("0", ""), width)
    elif verb == "U":
        return _pad(f"U+{n:04X}" if n >= 0 else f"U+{n & (2 ** 64 - 1):04X}", flags.replace("0", ""), width)
    else:
        return f"%!{verb}(int={n})"
    if prec is not None:
        p = int(prec or 0)
        digits = "" if p == 0 and n == 0 else digits.rjust(p, "0")
    sign = "-" if n < 0 else "+" if "+" in flags else " " if " " in flags else ""
    body = prefix + digits
    if width and "0" in flags and "-" not in flags and prec is None:
        body = prefix + digits.rjust(int(width) - len(sign) - len(prefix), "0")
    return _pad(sign + body, flags, width)


def _pad(text: str, flags: str, width: str | None) -> str:
    if not width:
        return text
    return text.ljust(int(width)) if "-" in flags else text.rjust(int(width))


def sprintf_int(fmt: str, n: int) -> str:
    """fmt.Sprintf(fmt, n) for an int n."""
    out, used, pos = [], False, 0
    while True:
        i = fmt.find("%", pos)
        if i < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:i])
        m = _SPEC.match(fmt, i)
        assert m is not None
        flags, width, prec, verb = m.groups()
        pos = m.end()
        if verb is None:
            out.append("%!(NOVERB)")
        elif verb == "%":
            out.append("%")
        elif used:
            out.append(f"%!{verb}(MISSING)")
        else:
            used = True
            out.append(_one(flags, width, prec, verb, n))
    if not used:
        out.append(f"%!(EXTRA int={n})")
    return "".join(out)
