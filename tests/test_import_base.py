"""One reading of a relative import's dots (closure.import_base), held to Python's own."""

from __future__ import annotations

import importlib.util

from hypothesis import given, strategies as st

from heraspec.python.closure import import_base

NAMES = st.lists(st.sampled_from(["a", "b", "pkg", "x1"]), min_size=1, max_size=4).map(".".join)


@given(NAMES, st.booleans(), st.integers(1, 5))
def test_the_package_of_a_relative_import_is_pythons(module: str, is_package: bool, level: int) -> None:
    package = module if is_package else module.rpartition(".")[0]
    try:  # what `from <dots> import x` resolves to, by importlib (the name made of the dots and "x")
        python = importlib.util.resolve_name("." * level + "x", package).rpartition(".")[0] if package else None
    except ImportError:  # "beyond top-level package"
        python = None
    assert import_base(module, is_package, level) == python


def test_an_absolute_import_has_no_base() -> None:
    assert import_base("a.b", False, 0) == ""
