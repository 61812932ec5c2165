"""The located note: what `validate` prints beside its errors, read back by the editor's server."""

from __future__ import annotations

from hypothesis import given, strategies as st

from heraspec.errors import note, read_note


@given(st.text(min_size=1).filter(lambda f: "\n" not in f and ": note: " not in f), st.integers(1, 10**6),
       st.integers(1, 10**4),
       st.text())
def test_a_note_reads_back_as_written(file: str, line: int, col: int, message: str) -> None:
    # a file name may hold colons and digits (C:/x:1/spec.yaml), a message ": note: " again
    assert read_note(note(file, line, col, message)) == (file, line, col, message)


def test_a_note_without_a_position_is_not_located() -> None:
    assert read_note("spec.yaml: note: packages are not locked") is None
    assert read_note("spec.yaml:3: note: half a position") is None
    assert read_note("spec.yaml:3:4: error: not a note") is None
