"""heraspec.digest: SHA-256 as hashlib computes it, without loading OpenSSL for small texts."""

from __future__ import annotations

import hashlib
import os
import platform
import random
import subprocess
import sys

import pytest

from heraspec.digest import BUILTIN_MAX, sha256_hex
from tests.cli import ROOT


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 1000, 14_650, BUILTIN_MAX - 1, BUILTIN_MAX,
                                  BUILTIN_MAX + 1, 3 * BUILTIN_MAX])
def test_the_digest_is_hashlibs(size: int):
    """Around SHA-256's block (64 bytes) and its padding (56), and on both sides of BUILTIN_MAX."""
    data = random.Random(size).randbytes(size)
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
    text = ("é€😀\n" * size)[:size].encode("utf-8")
    assert sha256_hex(text) == hashlib.sha256(text).hexdigest()


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="CPython's own SHA-256 module")
def test_a_small_text_is_hashed_without_loading_hashlib():
    """On CPython the module hashlib falls back to is found (`_sha256`, `_sha2` from 3.12): hashing
    a compile's texts loads neither hashlib nor OpenSSL; a large one does load hashlib."""
    probe = ("import sys\nfrom heraspec.digest import sha256_hex, BUILTIN_MAX\n"
             "small = sha256_hex(b'x' * 20000)\nloaded = 'hashlib' in sys.modules or '_hashlib' in sys.modules\n"
             "large = sha256_hex(b'x' * BUILTIN_MAX)\nprint(small, loaded, 'hashlib' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [hashlib.sha256(b"x" * 20000).hexdigest(), "False", "True"]
