"""The loader's fast path (document/plainyaml.py) gives exactly what the general path (libyaml's
events, load.load_yaml_events) gives, for every text it reads, and leaves every other text to it.

The property: read_plain_yaml(text) is either NOT_PLAIN or the general path's data, with the same types,
key order and values. Checked on hand-picked edge cases (YAML 1.2 scalars, quoting, flow and block
forms, comments, indentation) and on generated and mutated documents."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heraspec.document.load import MAX_ITEMS, load_text, load_yaml_events, resolve_plain
from heraspec.document.plainyaml import NOT_PLAIN, read_plain_yaml
from heraspec.errors import Errors


def typed(value):
    """A value with every type spelled out (1 == 1.0 == True in Python; NaN != NaN)."""
    if isinstance(value, dict):
        return ("map", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def general(text: str):
    """The general path's data, or the errors it reports."""
    errors = Errors()
    doc = load_yaml_events("s.yaml", text, errors)
    return typed(doc.data) if doc is not None else errors.format()


def agrees(text: str) -> bool:
    """The property; True when the fast path read the text (False: it left it to the general path)."""
    fast = read_plain_yaml(text, resolve_plain)
    if fast is NOT_PLAIN:
        return False
    assert typed(fast) == general(text), text
    return True


SCALARS = ["yes", "no", "on", "off", "y", "true", "True", "TRUE", "tRUE", "false", "FALSE", "null", "Null", "NULL",
           "nULL", "~", "~a", "0", "-0", "+0", "007", "0o17", "0O17", "0o8", "0x1F", "0x1f", "0X1F", "0xG", "1_000",
           "1e3", "1E3", "-1e3", "+1e-3", "1e", ".5", "-.5", "1.", "1.5", "+1", "-1", "1.2.3", ".inf", "-.inf",
           "+.inf", ".Inf", ".INF", ".iNF", ".nan", ".NaN", ".NAN", "-.nan", "2024-01-01", "2024-01-01T10:00:00Z",
           "12:30", "1:2", "a:b", "a::b", "a:-b", "steps:work", "python:3.12", "http://x.org/a?b=c", "-x", "--x",
           "-1x", "a b", "a  b", "a'b", 'a"b', "a!b", "a&b", "a*b", "a|b", "a>b", "a%b", "a@b", "a`b", "a\\b",
           "a?b", "a,b", "a[b]", "a{b}", "a=b", "a<b", "(a)", "$x", "+", ".", "_", "/p", "a/b-c_d.e"]
KEYS = ["name", "a", "b", "tasks", "t-1", "1", "0x1F", "yes", "true", "null", "a.b/c", "$schema", "_x", "x_y", "a-b"]


@pytest.mark.parametrize("scalar", SCALARS)
def test_a_plain_scalar_reads_as_the_general_path_reads_it(scalar: str):
    """Every YAML 1.2 core scalar form, as a value, a flow item, a flow value and a key."""
    texts = [f"v: {scalar}\n", f"v: [{scalar}]\n", f"v: [x, {scalar}, y]\n", f"v: {{k: {scalar}}}\n",
             f"v:\n- {scalar}\n", f"v:\n  - {scalar}  # c\n", f"{scalar}: 1\n", f"v: {{{scalar}: 1}}\n"]
    for text in texts:
        agrees(text)
    # the forms a generated spec writes are read by the fast path itself
    if scalar[0].isalnum() and "::" not in scalar and not any(c in scalar for c in " '\"!&*|>%@`\\?,[]{}<=()"):
        assert agrees(f"v: {scalar}\n"), scalar
        assert agrees(f"v: [x, {scalar}]\n"), scalar


@pytest.mark.parametrize("text", [
    # the 5,000-task chain's shape, and the same spec in block style (yaml.dump's)
    "name: chain\nimage: python:3.12\ntasks:\n  t0: {function: steps:work, args: {i: 0}}\n"
    "  t1: {function: steps:work, args: {i: 1}, after: [t0]}\n",
    "tasks:\n  t0:\n    function: steps:work\n    args:\n      i: 0\n    after:\n    - t0\n    - t1\n  t1:\n"
    "    function: steps:work\n",
    # quoting: the text between the quotes, never resolved
    "a: 'yes'\nb: \"1\"\nc: ''\nd: \"\"\ne: ' x '\nf: \"a#b\"\ng: 'a: b'\nh: ['1', \"x, y\", '[z]']\n",
    # comments and blank lines anywhere, `KEY:  # comment` then its block
    "# head\n\na: 1  # one\n   # indented comment\nb:  # the block follows\n  c: 2\n\n  d: [x]\n#\n",
    "a: [x] # c\nb: {k: 'v'}  #  c\nc:\n  - [1, 2] #\n",
    # null values: an empty one at the end, before a sibling, before a dedent
    "a:\nb:\n  c:\nd:",
    "a:\n  b:\n  c: 1\n",
    # indentless and indented sequences, then the parent mapping goes on
    "a:\n- 1\n- x\nb:\n    - [y]\n    - {z: 0}\nc: 3\n",
    # flow collections: empty, nested, spaced
    "a: []\nb: {}\nc: [[]]\nd: [{}]\ne: [ a , b ]\nf: {  k: v ,  l: [ 1 ] }\ng: {a b: c d}\n",
    "a: {x: {y: {z: [1, [2, [3]]]}}}\n",
    # trailing spaces after values and keys
    "a: x   \nb:   \n  c: [1]   \n",
    # deeper indentation steps of different sizes
    "a:\n b:\n   c:\n          d: 1\n   e: 2\nf: 3\n",
])
def test_the_forms_it_reads_give_the_general_paths_data(text: str):
    assert agrees(text)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n", "a: {<<: {b: 1}}\n", "<<: {b: 1}\n", "a: !!str 1\n", "a: !t x\n", "a: |\n  x\n",
    "a: >\n  x\n", "a: b\n  c\n", "a: 'x\n  y'\n", "--- \na: 1\n", "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n",
    "a: 1\na: 2\n", "a: {b: 1, b: 2}\n", "a:\n\tb: 1\n", "a: é\n", "a: 1\r\nb: 2\n", "a: \x01\n",
    "a: {b:c}\n", "a: [b: c]\n", "- a\n", "a\n", "a: - b\n", "- a: 1\n", "a:\n- b: 1\n", "a: b: c\n",
    "a: [b, ]\n", "a: {b: 1, }\n", "a: [b\n", "a: [b]]\n", "a: [b] c\n", "a: {b}\n", "a: {b: }\n",
    "a:\n  b: 1\n c: 2\n", "a: 1\n  b: 2\n", "  a: 1\n", "a:\n  - x\n  b: 1\n", "a: 'b'c\n", "a: \"b\\n\"\n",
    "a: 'b''c'\n", "a: x#c\n", "a: [x]# c\n", "a: ['x #c']\n", "a: <<\n", "a: @x\n", "? a\n: b\n", "a :b\n",
    "", "# only\n", "a: 1\n---\nb: 2\n", "a: -\n", "a:\n-\n", "a: :x\n", "a: x:\n", "a: [x:]\n",
])
def test_other_texts_are_left_to_the_general_path(text: str):
    assert read_plain_yaml(text, resolve_plain) is NOT_PLAIN, text
    agrees(text)


@pytest.mark.parametrize("length", [256, 257, 1024, 1025, 1030])
def test_long_keys_and_values_read_as_the_general_path_reads_them(length: int):
    """libyaml refuses a key longer than 1,024 characters, in a block or a flow mapping; values
    have no such limit."""
    for text in [f"a: {{{'k' * length}: 1}}\n", f"{'k' * length}: 1\n", f"a: {{x: {'v' * length}}}\n",
                 f"a: [{'v' * length}]\n", f"a: {'v' * length}\n"]:
        agrees(text)
    assert agrees(f"a: {{x: {'v' * length}}}\n") and agrees(f"a: {'v' * length}\n")


@pytest.mark.parametrize("form", ["flow", "block"])
def test_a_list_of_more_than_max_items_is_left_to_the_general_path_which_reports_it(form: str):
    """load.MAX_ITEMS items are read; one more, and the general path reports the list (a spec with
    more commas or dashes than that, such as a 100,000-task DAG, is still read here)."""
    def text(n: int) -> str:
        if form == "flow":
            return "a: [" + ", ".join(["x"] * n) + "]\n"
        return "a:\n" + "- x\n" * n

    assert read_plain_yaml(text(MAX_ITEMS), resolve_plain) == {"a": ["x"] * MAX_ITEMS}
    assert read_plain_yaml(text(MAX_ITEMS + 1), resolve_plain) is NOT_PLAIN
    errors = Errors()
    assert load_text("s.yaml", text(MAX_ITEMS + 1), "yaml", errors) is None
    assert f"a list of more than {MAX_ITEMS:,} items" in errors.format()
    many = "tasks:\n" + "".join(f"  t{i}: {{function: s:w, after: [a, b, c]}}\n" for i in range(40_000))
    assert read_plain_yaml(many, resolve_plain) is not NOT_PLAIN


def test_errors_keep_their_messages_and_positions():
    """What the fast path leaves to the general path is reported as before: a duplicate key names both lines."""
    errors = Errors()
    assert load_text("s.yaml", "tasks:\n  a: {function: f:g}\n  a: {function: f:h}\n", "yaml", errors) is None
    assert "s.yaml:3:3: error: duplicate key 'a' (first defined on line 2)" in errors.format()


def test_a_plain_spec_is_read_without_libyaml():
    """The fast path is taken for a generated spec: yaml is not even imported (and positions, asked
    for later, still come from libyaml's reading of the same text)."""
    code = ("import sys\nfrom heraspec.document.load import load_text\nfrom heraspec.errors import Errors\n"
            "text = 'tasks:\\n' + ''.join(f'  t{i}: {{function: s:w, args: {{i: {i}}}}}\\n' for i in range(50))\n"
            "doc = load_text('s.yaml', text, 'yaml', Errors())\n"
            "assert 'yaml' not in sys.modules, 'yaml imported'\n"
            "assert doc.pos(('tasks', 't7', 'args', 'i')) == (9, 33), doc.pos(('tasks', 't7', 'args', 'i'))\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- generated documents ---------------------------------------------------------------------------

FLOW_ITEMS = st.sampled_from(SCALARS + ["'q'", '"q"', "''", "[]", "{}", "[a, b]", "{k: v}", "{k: [1, {m: n}]}"])


@st.composite
def flow_values(draw) -> str:
    kind = draw(st.sampled_from(["seq", "map"]))
    items = draw(st.lists(FLOW_ITEMS, max_size=4))
    space = draw(st.sampled_from(["", " ", "  "]))
    if kind == "seq":
        return "[" + space + ("," + space).join(items) + "]"
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=len(items), max_size=len(items)))
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items)) + space + "}"


@st.composite
def documents(draw) -> str:
    lines: list[str] = []

    def block(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(KEYS))
            kind = draw(st.sampled_from(["scalar", "flow", "map", "seq", "empty"] if depth < 3 else ["scalar", "flow"]))
            comment = draw(st.sampled_from(["", "", " # c", "  #c"]))
            if kind == "scalar":
                lines.append(" " * indent + f"{key}: {draw(st.sampled_from(SCALARS))}{comment}")
            elif kind == "flow":
                lines.append(" " * indent + f"{key}: {draw(flow_values())}")
            elif kind == "empty":
                lines.append(" " * indent + f"{key}:{comment}")
            elif kind == "map":
                lines.append(" " * indent + f"{key}:{comment}")
                block(indent + draw(st.integers(1, 4)), depth + 1)
            else:
                lines.append(" " * indent + f"{key}:{comment}")
                at = indent + draw(st.integers(0, 3))
                for _ in range(draw(st.integers(1, 3))):
                    item = draw(st.one_of(st.sampled_from(SCALARS), flow_values()))
                    lines.append(" " * at + f"- {item}")
            if draw(st.integers(0, 5)) == 0:
                lines.append(draw(st.sampled_from(["", "# note", "   # note", "  "])))

    block(0, 0)
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


EDIT_CHARS = " \t\n:#-?,[]{}'\"&*!|>%@`\\<=~.01xé\r\x01"


@st.composite
def mutated(draw) -> str:
    text = draw(documents())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "indent"]))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(EDIT_CHARS)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + 1:]
        else:
            start = text.rfind("\n", 0, at) + 1
            text = text[:start] + " " * draw(st.integers(1, 2)) + text[start:]
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_as_the_general_path_reads_them(text: str):
    agrees(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_are_read_as_the_general_path_reads_them_or_left_to_it(text: str):
    agrees(text)


def test_the_generated_documents_are_mostly_read_by_the_fast_path():
    """The property tests above are not vacuous: most generated documents take the fast path."""
    read = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(documents())
    def count(text: str) -> None:
        read.append(agrees(text))

    count()
    assert sum(read) > len(read) // 3, (sum(read), len(read))


@pytest.mark.parametrize("text", ["0", "7", "007", "1" * 40, "²", "1²", "¹²", "١٢", "٣3", "3٣", "0x1F", "-3", "+3", "3.0"])
def test_digits_resolve_as_the_core_schemas_integers_and_nothing_else(text: str):
    """resolve_plain's short way for digits gives what the YAML 1.2 core schema's int form
    `[-+]?[0-9]+` gives: Unicode digits (which str.isdigit accepts) stay text."""
    import re

    value = resolve_plain(text)
    if re.fullmatch(r"[-+]?[0-9]+", text, re.ASCII):
        assert type(value) is int and value == int(text)
    elif text in ("0x1F", "3.0"):
        assert value == {"0x1F": 31, "3.0": 3.0}[text]
    else:
        assert value == text
