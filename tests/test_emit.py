"""emit: YAML that reads back identically under YAML 1.1 and 1.2 loaders, JSON, determinism, shape."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heraspec.argo.emit import dump_yaml, to_json, to_yaml

ruamel_yaml = pytest.importorskip("ruamel.yaml")
_RUAMEL = ruamel_yaml.YAML(typ="safe", pure=True)  # YAML 1.2 resolver


def loaders() -> list:
    found = [lambda t: yaml.load(t, Loader=yaml.SafeLoader), _RUAMEL.load]
    if getattr(yaml, "CSafeLoader", None):  # libyaml: the parser Go's yaml.v2 was ported from
        found.append(lambda t: yaml.load(t, Loader=yaml.CSafeLoader))
    return found


def assert_round_trip(doc: object) -> str:
    text = to_yaml([doc])
    for load in loaders():
        assert load(text) == doc, text
    return text


# Strings that resolve to something else in YAML 1.1, 1.2 or Go's yaml.v2, or need escaping.
TRICKY = [
    "", " ", "  lead", "trail ", "\t", "yes", "No", "ON", "off", "y", "N", "true", "False", "NULL",
    "null", "~", "=", "<<", "1", "-1", "+1", "017", "0o17", "0x1F", "0X1f", "0b101", "1_000", "1e3",
    "1E+3", ".5", "5.", "1.0", "-.inf", ".Inf", ".NAN", "+inf", "Infinity", "nan", "1:20", "12:30:45",
    "0x1p-2", "0_x1F", "0b-1", "._", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "2024-1-2 3:04:05",
    "-", "- item", "?", "? x", ":", ":x", "x:", "a: b", "a #b", "#c", "&a", "*a", "!tag", "|", ">",
    "'q", '"q', "%d", "@x", "`x", ",", "[x]", "{x}", "{{inputs.parameters.msg}}",
    "prefix {{tasks.a.outputs.parameters.result}}", "back\\slash", 'say "hi"', "it's", "tab\there",
    "nul\x00", "bell\x07", "esc\x1b", "del\x7f", "c1\x80\x9f", "nel\x85", "ls\u2028", "ps\u2029",
    "\ufeffbom", "non-char\ufffe\uffff", "é中文😀", "\u00a0nbsp\u00a0", "\u3000ideographic", "---",
    "...", "- - x", "a\rb", "\r\n", "x" * 5000,
]
MULTILINE = [
    "a\nb", "a\nb\n", "a\nb\n\n", "a\nb\n\n\n", "\na", "\n\na\n", " lead\nx", "  lead\n x\n",
    "\tlead\nx", "a\n\tb\n", "a\n \n", "a\n  ", "a \nb \n", "a\n\nb", "x\n\n  \n\ny\n", "\n", "\n\n",
    " \n", "a\r\nb\r\n", "a\n\x85b", "a\n\u2028b", "line\n\x00", "# not a comment\n- not a list\n",
    "key: value\n---\n...\n", "a\n" * 500,
]
SCRIPT = (
    "import json\nimport os\n\n\ndef say(msg: str) -> str:\n"
    '    """Shout it."""\n    return msg.upper()  # {x}\n\n\n'
    "print(json.dumps(say(os.environ['HERASPEC_IN_msg'])))\n"
)


@pytest.mark.parametrize("s", TRICKY + MULTILINE, ids=lambda s: repr(s)[:24])
def test_strings_round_trip_as_values_keys_and_nested_items(s: str) -> None:
    assert_round_trip({"k": s, s: [s, [s], {"n": s}], "deep": {"l": [{"m": [s]}]}})


@pytest.mark.parametrize(
    "s", ["y", "n", "Y", "on", "1e3", "1E3", "0_x1F", "1_0", "0b-1", "+inf", "-Infinity", "0x1p3", "1:20"]
)
def test_strings_only_go_or_yaml11_would_misread_are_quoted(s: str) -> None:
    # PyYAML and ruamel read some of these back as strings anyway; Go's yaml.v2 would not.
    assert dump_yaml({"k": s}) == f'k: "{s}"\n'


@pytest.mark.parametrize(
    "s",
    ["4Gi", "10m", "1s", "python:3.12", "hello world", "/tmp/heraspec/result.json", "argoproj.io/v1alpha1",
     "task-a && b", "a-b_c.d", "http://x:8080/p?q=1#f", "v1.2.3", "0.1.2", "12Mi", "Always", "é"],
)
def test_ordinary_manifest_strings_stay_plain(s: str) -> None:
    assert dump_yaml({"k": s}) == f"k: {s}\n"
    assert_round_trip({"k": s})


WORDS = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan"]


@pytest.mark.parametrize("word", WORDS)
def test_names_are_plain_unless_a_resolver_reads_them_as_something_else(word: str) -> None:
    """Names (a letter, then letters, digits and '-') and integers' digits are the most common strings
    of a manifest and take a short way: the same output as the general rule."""
    for s in {word, word.upper(), word.capitalize(), "-" + word}:  # a word, or a leading indicator
        assert dump_yaml({"k": s}) == f'k: "{s}"\n'
        assert_round_trip({"k": s, s: [s, {"n": s}]})
    for s in [word + "1", "t" + word, word + "-2", word + "-", "x" * 3 + word]:
        assert dump_yaml({"k": s}) == f"k: {s}\n"
        assert_round_trip({"k": s, s: [s, {"n": s}]})


@pytest.mark.parametrize("s", ["0", "7", "42", "0123", "00", "12345678901234567890", "1e5", "0x1F"])
def test_digits_are_quoted(s: str) -> None:
    assert dump_yaml({"k": s}) == f'k: "{s}"\n'
    assert_round_trip({"k": s, s: [s, {"n": s}]})


def test_escapes_are_exact() -> None:
    text = dump_yaml({"k": 'a\tb\\c"d\x00\x7f\x85\u2028\ufeff\r\n'})
    assert text == 'k: "a\\tb\\\\c\\"d\\x00\\x7F\\x85\\u2028\\uFEFF\\r\\n"\n'


@pytest.mark.parametrize(
    ("s", "text"),
    [
        ("a\nb", "k: |-\n  a\n  b\n"),
        ("a\nb\n", "k: |\n  a\n  b\n"),
        ("a\n\n", "k: |+\n  a\n\n"),
        (" lead\nx", "k: |2-\n   lead\n  x\n"),
        ("a\n\nb", "k: |-\n  a\n\n  b\n"),
        ("a\r\nb", 'k: "a\\r\\nb"\n'),
        ("\n\n", 'k: "\\n\\n"\n'),
    ],
)
def test_multiline_chomping_and_fallback(s: str, text: str) -> None:
    assert dump_yaml({"k": s}) == text
    assert_round_trip({"k": s})


def test_script_source_is_a_literal_block() -> None:
    text = assert_round_trip({"script": {"source": SCRIPT}})
    assert text.startswith("script:\n  source: |\n    import json\n    import os\n\n\n    def say(")
    assert "    return msg.upper()  # {x}\n" in text
    assert all(line == line.rstrip() for line in text.splitlines())  # no trailing blanks in diffs


def test_literal_in_sequence_and_key_never_literal() -> None:
    assert dump_yaml({"k": ["a\nb"]}) == "k:\n- |-\n  a\n  b\n"
    assert dump_yaml({"a\nb": 1}) == '"a\\nb": 1\n'


@pytest.mark.parametrize("s", TRICKY + MULTILINE, ids=lambda s: repr(s)[:24])
def test_strings_round_trip_inside_flow_items(s: str) -> None:
    assert_round_trip({"parameters": [{"name": s, "value": s}, {"name": "i", s: s, "n": None}],
                       "deep": [[{"a": s, "b": 1.5, "c": True}]]})


def test_flow_items_are_small_flat_mappings_in_sequences() -> None:
    params = [{"name": "i", "value": "1"}, {"name": "msg", "value": "{{tasks.a.outputs.parameters.result}}"},
              {"name": "image", "value": "python:3.12"}, {"name": "n", "default": "3"}]
    assert dump_yaml({"parameters": params}) == (
        'parameters:\n- {name: i, value: "1"}\n- {name: msg, value: "{{tasks.a.outputs.parameters.result}}"}\n'
        '- {name: image, value: "python:3.12"}\n- {name: "n", default: "3"}\n'  # ":" is quoted in braces
    )
    # one key, a nested value, a line break or a line past the width keep the block form
    assert dump_yaml({"p": [{"name": "i"}]}) == "p:\n- name: i\n"
    assert dump_yaml({"p": [{"name": "v", "valueFrom": {"path": "/tmp/r"}}]}) == (
        "p:\n- name: v\n  valueFrom:\n    path: /tmp/r\n")
    assert dump_yaml({"p": [{"name": "s", "value": "a\nb"}]}) == "p:\n- name: s\n  value: |-\n    a\n    b\n"
    assert dump_yaml({"k": {"p": [{"name": "x", "value": "v" * 78}]}}) == (
        "k:\n  p:\n  - {name: x, value: " + "v" * 78 + "}\n")  # exactly 100 columns
    assert dump_yaml({"k": {"p": [{"name": "x", "value": "v" * 79}]}}) == (
        "k:\n  p:\n  - name: x\n    value: " + "v" * 79 + "\n")
    # a mapping that is not a sequence item stays block style
    assert dump_yaml({"requests": {"cpu": "1", "memory": "4Gi"}}) == 'requests:\n  cpu: "1"\n  memory: 4Gi\n'


def test_long_keys_use_the_explicit_form() -> None:
    for n in (999, 1000, 1001, 1024, 1025, 5000):
        key = "k" * n
        doc = {key: {"x": [1]}, "v": [{key: "a\nb", "z": 1}], '"' * n: []}
        assert_round_trip(doc)
    assert dump_yaml({"k" * 1001: 1}) == "? " + "k" * 1001 + "\n: 1\n"


def test_numbers_bools_null() -> None:
    doc = {
        "ints": [0, -1, 2**64, -(2**100), 10**30],
        "floats": [1.0, -0.0, 0.1, 1e16, 1e-05, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf")],
        "other": [True, False, None],
    }
    text = assert_round_trip(doc)
    assert "- 1.0e+16\n" in text and "- 1.0e-05\n" in text and "- .inf\n" in text and "- -.inf\n" in text
    assert dump_yaml({"x": float("nan")}) == "x: .nan\n"
    assert dump_yaml({1: True, None: False, 2.5: None}) == "1: true\nnull: false\n2.5: null\n"


def test_containers_empty_nested_and_deep() -> None:
    assert dump_yaml({}) == "{}\n"
    assert dump_yaml({"a": {}, "b": [], "c": [[], {}, [[]], [{}]]}) == (
        "a: {}\nb: []\nc:\n- []\n- {}\n- - []\n- - {}\n"
    )
    assert dump_yaml({"m": [[1, [2, 3]], {"a": 1, "b": [{"c": 2}]}]}) == (
        "m:\n- - 1\n  - - 2\n    - 3\n- a: 1\n  b:\n  - c: 2\n"
    )
    deep: dict = {}
    cur = deep
    for _ in range(120):  # deeper than the precomputed indentation table
        nxt: dict = {}
        cur["k"] = [nxt, "x\ny"]
        cur = nxt
    assert_round_trip(deep)


def test_top_level_non_mappings() -> None:
    assert dump_yaml([1, {"a": 1}]) == "- 1\n- a: 1\n"
    assert dump_yaml("a\nb") == "|-\n  a\n  b\n"
    assert dump_yaml("yes") == '"yes"\n'
    assert dump_yaml([]) == "[]\n"


def test_rejects_unknown_types() -> None:
    with pytest.raises(TypeError):
        dump_yaml({"x": object()})


def test_multi_document_and_json() -> None:
    docs = [{"a": 1, "s": "x\ny\n"}, {}, {"b": ["{{x}}", None, 1.5, "é"]}]
    text = to_yaml(docs)
    assert text.count("---\n") == 2 and not text.startswith("---")
    assert list(yaml.safe_load_all(text)) == docs
    assert to_yaml([docs[0]]) == dump_yaml(docs[0])
    assert to_yaml([]) == ""
    assert json.loads(to_json(docs)) == docs
    one = to_json([docs[2]])
    assert json.loads(one) == docs[2] and one.endswith("}\n") and '"é"' in one and '\n  "b": [' in one
    with pytest.raises(ValueError):
        to_json([{"x": float("nan")}])  # not JSON; kubectl would reject it


def test_key_order_and_determinism() -> None:
    doc = {"z": 1, "a": {"x": 2, "b": 3}, "m": [{"q": 1, "c": 2}]}
    text = to_yaml([doc])
    assert text == "z: 1\na:\n  x: 2\n  b: 3\nm:\n- {q: 1, c: 2}\n"
    assert to_yaml([json.loads(json.dumps(doc))]) == text
    assert to_json([doc]).index('"z"') < to_json([doc]).index('"a"')


MANIFEST = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "hello-", "labels": {"app": "demo"}, "annotations": {}},
    "spec": {
        "entrypoint": "main",
        "arguments": {"parameters": [{"name": "greeting", "value": "yes"}]},
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "task-a", "template": "say",
                         "arguments": {"parameters": [{"name": "msg", "value": "This is task A!"}]}},
                        {"name": "b", "template": "say", "depends": "task-a",
                         "arguments": {"parameters": [
                             {"name": "msg", "value": "{{tasks.task-a.outputs.parameters.result}}"}]},
                         "withItems": [1, "2", {"k": "v"}]},
                    ]
                },
            },
            {
                "name": "say",
                "inputs": {"parameters": [{"name": "msg"}, {"name": "n", "default": "3"}]},
                "retryStrategy": {"limit": "3", "backoff": {"duration": "1s", "factor": "2"}},
                "timeout": "10m",
                "script": {
                    "image": "python:3.12",
                    "command": ["python"],
                    "source": "import os\n\nprint(os.environ['HERASPEC_IN_msg'])\n",
                    "env": [{"name": "HERASPEC_IN_msg", "value": "{{inputs.parameters.msg}}"}],
                    "resources": {"requests": {"cpu": "1", "memory": "4Gi"}},
                },
            },
        ],
    },
}
GOLDEN = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
  labels:
    app: demo
  annotations: {}
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: greeting, value: "yes"}
  templates:
  - name: main
    dag:
      tasks:
      - name: task-a
        template: say
        arguments:
          parameters:
          - {name: msg, value: This is task A!}
      - name: b
        template: say
        depends: task-a
        arguments:
          parameters:
          - {name: msg, value: "{{tasks.task-a.outputs.parameters.result}}"}
        withItems:
        - 1
        - "2"
        - k: v
  - name: say
    inputs:
      parameters:
      - name: msg
      - {name: "n", default: "3"}
    retryStrategy:
      limit: "3"
      backoff:
        duration: 1s
        factor: "2"
    timeout: 10m
    script:
      image: python:3.12
      command:
      - python
      source: |
        import os

        print(os.environ['HERASPEC_IN_msg'])
      env:
      - {name: HERASPEC_IN_msg, value: "{{inputs.parameters.msg}}"}
      resources:
        requests:
          cpu: "1"
          memory: 4Gi
"""


def test_golden_manifest() -> None:
    assert to_yaml([MANIFEST]) == GOLDEN
    assert assert_round_trip(MANIFEST) == GOLDEN


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_go_yaml_reads_strings_back() -> None:
    # kubectl (sigs.k8s.io/yaml on Go's yaml.v2) converts the YAML to JSON offline with --local;
    # unstructured objects keep whatever type Go's resolver picked.
    strings = [s for s in TRICKY + MULTILINE if "\x00" not in s]
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
           "data": {f"k{i}": s for i, s in enumerate(strings)}, "binaryData": {s: "v" for s in strings}}
    proc = subprocess.run(["kubectl", "annotate", "--local", "-f", "-", "a=b", "-o", "json"],
                          input=to_yaml([doc]).encode(), capture_output=True, timeout=60, check=False)
    if proc.returncode:
        pytest.skip(f"kubectl cannot run here: {proc.stderr.decode()[:200]}")
    got = json.loads(proc.stdout)
    assert got["data"] == doc["data"]
    assert set(got["binaryData"]) == set(strings)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_go_yaml_reads_flow_items_back() -> None:
    # The same, for strings inside the one-line `- {name: ..., value: ...}` items (a Pod's env).
    strings = [s for s in TRICKY + MULTILINE if "\x00" not in s]
    env = [{"name": s, "value": s} for s in strings]
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
           "spec": {"containers": [{"name": "c", "image": "python:3.12", "env": env}]}}
    text = to_yaml([doc])
    assert text.count("\n    - {name: ") > len(strings) // 2  # most items really are flow style
    proc = subprocess.run(["kubectl", "annotate", "--local", "-f", "-", "a=b", "-o", "json"],
                          input=text.encode(), capture_output=True, timeout=60, check=False)
    if proc.returncode:
        pytest.skip(f"kubectl cannot run here: {proc.stderr.decode()[:200]}")
    assert json.loads(proc.stdout)["spec"]["containers"][0]["env"] == env


_text = st.text(st.characters(codec="utf-8") | st.sampled_from(list(" \t\n\r:#-{}|>'\"\\\x85\u2028\ufeff0._eE+xy")))
_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_text, _json_like, max_size=4))
def test_property_round_trip(doc: dict) -> None:
    assert_round_trip(doc)
    assert to_yaml([doc]) == to_yaml([doc])


def test_subclasses_and_tuples_emit_like_builtins() -> None:
    from collections import OrderedDict

    doc = {"a": [1, (2, 3)], "b": [{"c": 1}], "s": "x"}
    odd = OrderedDict(a=[1, (2, 3)], b=[OrderedDict(c=1)], s="x")
    assert dump_yaml(odd) == dump_yaml(doc) == "a:\n- 1\n- - 2\n  - 3\nb:\n- c: 1\ns: x\n"
