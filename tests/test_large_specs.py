"""Large specs: the size limit admits a generated 100,000-task DAG and refuses one byte more, and
errors deep in a large spec (YAML and TOML) still point at their line and column.

YAML data is built from libyaml's events and positions are found from the text only when an error
needs one (heraspec/document/load.py, source.py); these tests pin that the positions are the ones a
composed node tree gives: deep in the file, inside flow mappings, and through `<<: *anchor` merges.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import errors_of, in_process as cli
from heraspec.document.load import MAX_BYTES

STEPS = "def work(i: int) -> int:\n    return i * 2\n\n\ndef say(msg: str) -> str:\n    return msg\n"


def where(text: str, line_text: str, word: str) -> str:
    """"LINE:COL" of `word` in the line `line_text` of `text`, found here, not by heraspec."""
    lines = text.split("\n")
    n = lines.index(line_text)
    return f"{n + 1}:{line_text.index(word) + 1}"


def chain_yaml(n: int, last_after: str | None = None) -> str:
    """The benchmark's chain (benchmarks/cases.py): t0 >> t1 >> ... one flow mapping per line."""
    lines = ["name: big", "image: python:3.12", "tasks:"]
    for k in range(n):
        after = last_after if k == n - 1 and last_after else f"t{k - 1}"
        lines.append(f"  t{k}: {{function: steps:work, args: {{i: {k}}}" + (f", after: [{after}]}}" if k else "}"))
    return "\n".join(lines) + "\n"


def padded(text: str, size: int) -> str:
    """`text` followed by comment lines, `size` bytes in all."""
    room = size - len(text.encode())
    assert room >= 2, "the spec is already larger than the size asked for"
    pad = []
    while room > 0:
        line = "#" + "x" * min(room - 2, 998) + "\n" if room > 1000 else "#" * (room - 1) + "\n"
        pad.append(line)
        room -= len(line)
    return text + "".join(pad)


@pytest.mark.slow
def test_a_100000_task_spec_at_the_size_limit_loads_and_its_last_line_is_located(project: Path, capsys):
    text = chain_yaml(100_000, last_after="t9999x")
    assert len(text.encode()) > 6_500_000  # the size the benchmarks compile
    spec = project / "big.yaml"
    spec.write_text(padded(text, MAX_BYTES))
    assert spec.stat().st_size == MAX_BYTES
    code, _, err = cli(capsys, "validate", str(spec))
    # the whole file was read and validated: the one error is in its last task, column of the name
    last = "  t99999: {function: steps:work, args: {i: 99999}, after: [t9999x]}"
    assert where(text, last, "t9999x") == "100003:60"
    assert code == 1 and errors_of(err) == ["100003:60: error: unknown task 't9999x'"], err


def test_one_byte_over_the_size_limit_is_refused_before_it_is_read(project: Path, capsys):
    spec = project / "over.yaml"
    spec.write_text(padded(chain_yaml(10), MAX_BYTES + 1))
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1
    assert errors_of(err) == [f"1:1: error: file is {MAX_BYTES + 1:,} bytes; the limit for a spec is {MAX_BYTES:,} bytes"]
    assert "hint: split the pipeline into several specs" in err


def test_a_20000_task_toml_spec_locates_errors_in_its_last_tasks(project: Path, capsys):
    n = 20_000
    lines = ['name = "big"']
    for k in range(n):
        lines.append(f'[tasks.t{k}]\nfunction = "steps:work"\nargs = {{i = {k}}}' + (f'\nafter = ["t{k - 1}"]' if k else ""))
    lines[-1] = lines[-1].replace(f"args = {{i = {n - 1}}}", f'args = {{i = {n - 1}, nope = 1}}')
    lines[-2] = lines[-2].replace(f'after = ["t{n - 3}"]', 'after = ["t99x"]')
    text = "\n".join(lines) + "\n"
    spec = project / "big.toml"
    spec.write_text(text)
    code, _, err = cli(capsys, "validate", str(spec))
    bad_after, bad_arg, quoted = 'after = ["t99x"]', f"args = {{i = {n - 1}, nope = 1}}", '"t99x"'
    assert where(text, bad_after, quoted) == f"{4 * n - 4}:10"  # past line 79,000: the value's opening quote
    assert code == 1 and errors_of(err) == [
        f"{where(text, bad_after, quoted)}: error: unknown task 't99x'",
        f"{where(text, bad_arg, 'nope')}: error: work() has no parameter 'nope'",
    ], err


def test_the_same_large_spec_in_yaml_locates_the_same_errors(project: Path, capsys):
    n = 20_000
    text = chain_yaml(n).replace(f"  t{n - 2}: {{function: steps:work, args: {{i: {n - 2}}}, after: [t{n - 3}]}}",
                                 f"  t{n - 2}: {{function: steps:work, args: {{i: {n - 2}}}, after: [t99x]}}")
    text = text.replace(f"args: {{i: {n - 1}}}", f"args: {{i: {n - 1}, nope: 1}}")
    spec = project / "big.yaml"
    spec.write_text(text)
    code, _, err = cli(capsys, "validate", str(spec))
    bad_after = f"  t{n - 2}: {{function: steps:work, args: {{i: {n - 2}}}, after: [t99x]}}"
    bad_arg = f"  t{n - 1}: {{function: steps:work, args: {{i: {n - 1}, nope: 1}}, after: [t{n - 2}]}}"
    assert where(text, bad_arg, "nope") == f"{n + 3}:51"  # the last line
    assert code == 1 and errors_of(err) == [
        f"{where(text, bad_after, 't99x')}: error: unknown task 't99x'",
        f"{where(text, bad_arg, 'nope')}: error: work() has no parameter 'nope'",
    ], err


def test_errors_reached_through_a_merge_key_point_at_the_anchored_mapping(project: Path, capsys):
    spec = project / "merge.yaml"
    spec.write_text("""\
name: x
base: &base
  function: steps:say
  retry: lots
tasks:
  A:
    <<: *base
    args: {msg: hi}
  B: {<<: *base, args: {msg: 1, nope: 2}}
""")
    code, _, err = cli(capsys, "validate", str(spec))
    assert code == 1 and errors_of(err) == [
        "2:1: error: unknown key 'base' in the spec",
        "4:10: error: task 'A' retry must be a number of retries or a mapping {limit, backoff, policy}",
        "4:10: error: task 'B' retry must be a number of retries or a mapping {limit, backoff, policy}",
        "9:33: error: say() has no parameter 'nope'",
    ], err
