"""SHA-256 of the small texts heraspec hashes while compiling, without loading OpenSSL.

    sha256_hex(data) -> str    the hex digest, the same as hashlib.sha256(data).hexdigest()

`import hashlib` loads OpenSSL's libcrypto (~2.5 ms of a compile's start); CPython's own SHA-256 (the
module hashlib itself falls back to: `_sha256` up to 3.11, `_sha2` from 3.12) loads in ~0.15 ms but
hashes ~8 times slower, so data of BUILTIN_MAX bytes or more still goes to hashlib (a compile hashes
a script's runtime and carried code, tens of KB). An interpreter without CPython's module uses hashlib
throughout. tests/test_digest.py pins the digests against hashlib's on each path.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Callable

BUILTIN_MAX = 256 * 1024  # from here on, hashlib's load is repaid by its speed


@cache
def _builtin() -> Callable[[bytes], Any] | None:
    """CPython's own SHA-256, looked up at the first hash (a module importing this one may hash nothing)."""
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11 and before
        except ImportError:
            return None
    return sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data` in hex (64 lowercase digits)."""
    builtin = _builtin()
    if builtin is not None and len(data) < BUILTIN_MAX:
        return builtin(data).hexdigest()
    import hashlib

    return hashlib.sha256(data).hexdigest()
