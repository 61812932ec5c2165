"""Argo's depends / when / {{...}} / duration languages as heraspec.local.expr evaluates them."""

from __future__ import annotations

import pytest

from heraspec.local.expr import (ExprError, aggregated_json_value_list, aggregated_results, depends_names, eval_depends,
                                  eval_when, go_json, go_marshal, item_field_str, item_str, parse_depends, parse_raw,
                                  parse_duration, substitute)

PHASES = {"A": "Succeeded", "B": "Failed", "C": "Skipped", "D": "Error", "task-e": "Omitted"}


def check(task: str, result: str | None) -> bool:
    phase = PHASES[task]
    if result is None:
        return phase in ("Succeeded", "Skipped")
    return phase == {"Errored": "Error"}.get(result, result)


@pytest.mark.parametrize("expr, expected", [
    ("A", True),
    ("B", False),
    ("C", True),  # a bare name accepts Skipped
    ("B.Failed", True),
    ("B.Succeeded || B.Failed", True),
    ("A && B", False),
    ("A && (B.Failed || C)", True),
    ("!B", True),
    ("!(A && C)", False),
    ("D.Errored && task-e.Omitted", True),
    ("task-e", False),
    ("A.Succeeded&&B.Failed", True),
    ("A || B && D", True),  # && binds tighter than ||
    ("(A || B) && D", False),
])
def test_depends(expr: str, expected: bool) -> None:
    assert eval_depends(parse_depends(expr), check) is expected


def test_depends_names() -> None:
    assert depends_names(parse_depends("a && (b.Failed || !c-d.Skipped)")) == {"a", "b", "c-d"}


@pytest.mark.parametrize("expr", ["", "A &&", "A.Bogus", "(A", "A B", "A || || B", "A.Succeeded)"])
def test_depends_errors(expr: str) -> None:
    with pytest.raises(ExprError):
        parse_depends(expr)


@pytest.mark.parametrize("expr, expected", [
    ("heads == heads", True),
    ("tails == heads", False),
    ("'a b' == 'a b'", True),
    ('"x" != "y"', True),
    ("5 > 3", True),
    ("10 > 9", True),  # numbers compare as numbers, not text
    ("2.5 <= 2.5", True),
    ("-1 < 0", True),
    ("1 == 1.0", True),
    ("5 == '5'", False),  # govaluate: a number never equals a string
    ("abc < abd", True),
    ("true", True),
    ("false || true", True),
    ("!false && true", True),
    ("!(1 > 2)", True),
    ("(a == a) && (b != c)", True),
    ("hello =~ '^h.l'", True),
    ("hello !~ 'z'", True),
    ("b in ('a', 'b')", True),
    ("3 in (1, 2)", False),
    ("true == true", True),
    ("a == b == c", False),  # govaluate: (a == b) == c, false == 'c'
])
def test_when(expr: str, expected: bool) -> None:
    assert eval_when(expr) is expected


@pytest.mark.parametrize("expr, fragment", [  # govaluate's own messages, as shouldExecute wraps them
    ("5", "Expected boolean evaluation for '5'. Got 5"),
    ("heads", "Got heads"),
    ("5 > abc", "Value '5' cannot be used with the comparator '>', it is not a number"),
    ("a-b == a-b", "Value 'a' cannot be used with the modifier '-', it is not a number"),
    ("a == -b", "Cannot transition token types from PREFIX [-] to STRING [b]"),
    ("(a == a", "Unbalanced parenthesis"),
    ("5 && true", "Value '5' cannot be used with the logical operator '&&', it is not a bool"),
    ("a =~ '('", "error parsing regexp"),
    ("   ", "Unexpected end of expression"),  # checkExpressionSyntax: UNKNOWN is not an end state
    ("a ? b : c", "Value 'a' cannot be used with the ternary operator '?', it is not a bool"),
])
def test_when_errors(expr: str, fragment: str) -> None:
    with pytest.raises(ExprError) as info:
        eval_when(expr)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text, seconds", [
    ("1s", 1.0), ("500ms", 0.5), ("2m", 120.0), ("1h30m", 5400.0), ("1.5s", 1.5), ("30", 30.0), (7, 7.0),
    ("-1m", -60.0), ("0", 0.0),
])
def test_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1x", "s", "1 s", "1.5"])  # ParseStringToDuration: Atoi, else time.ParseDuration
def test_duration_errors(text: str) -> None:
    with pytest.raises(ExprError):
        parse_duration(text)


def test_substitute() -> None:
    scope = {"inputs.parameters.x": "1", "item": "a"}
    value = {"a": ["{{inputs.parameters.x}}-{{ item }}", 3], "b": "{{custom}} stays"}
    assert substitute(value, scope) == {"a": ["1-a", 3], "b": "{{custom}} stays"}
    with pytest.raises(ExprError, match=r"cannot resolve \{\{tasks.a.outputs.result\}\}"):
        substitute("{{tasks.a.outputs.result}}", scope)
    assert substitute("{{tasks.a.outputs.result}}", scope, strict=False) == "{{tasks.a.outputs.result}}"
    with pytest.raises(ExprError, match="not supported"):
        substitute("{{=inputs.parameters.x}}", scope)


def test_item_str_and_go_json() -> None:
    # operator.go processItem / wfv1.Item.GetType: a null item is taken for a list; GetListVal's
    # json.Unmarshal of null sets the slice to nil, and json.Marshal(nil slice) is "null"
    assert [item_str(v) for v in ["a", 1, 2.5, True, None]] == ["a", "1", "2.5", "true", "null"]
    assert item_str({"b": 1, "a": [1.0, "x"]}) == '{"a":[1,"x"],"b":1}'
    assert go_json([{"z": 1, "a": 2}]) == '[{"a":2,"z":1}]'


def test_go_marshal_prints_as_go() -> None:
    """encoding/json: float64 'f' format with shortest digits ('e' below 1e-6 and from 1e21),
    integers beyond 2**53 through float64, HTML characters escaped, keys sorted."""
    assert go_marshal([1.0, -0.0, 1e-7, 1e21, 0.00001, 1e16, 2.5, 12345678901234567891]) == \
        "[1,-0,1e-7,1e+21,0.00001,10000000000000000,2.5,12345678901234567000]"
    assert go_marshal({"b": "<a&b>", "a": "\u2028"}) == '{"a":"\\u2028","b":"\\u003ca\\u0026b\\u003e"}'


def test_items_keep_their_raw_json() -> None:
    # withParam items are wfv1.Items (raw JSON): 1.0 stays 1.0; {{item.KEY}} of a string keeps its
    # JSON escapes (Item.String strips the quotes only), with jsonutil.Fix undoing <, >, &
    items = parse_raw('[1.0, {"s": "a\\"b\\n<c>", "n": 2.50}, null]')
    assert [item_str(i) for i in items] == ["1.0", '{"n":2.50,"s":"a\\"b\\n\\u003cc\\u003e"}', "null"]
    assert item_field_str(items[1]["s"]) == 'a\\"b\\n<c>' and item_field_str(items[1]["n"]) == "2.50"


def test_aggregation_follows_argo() -> None:
    """operator.go aggregatedJSONValueList/tryJSONUnmarshal and processAggregateNodeOutputs."""
    assert aggregated_json_value_list(["1", "4"]) == '["1","4"]'
    assert aggregated_json_value_list(['{"a":1.0}', "[2]"]) == '[{"a":1},[2]]'
    assert aggregated_json_value_list(['{"a":1}', "x"]) == '["{\\"a\\":1}","x"]'
    assert aggregated_json_value_list(["null", "[]"]) == '["null","[]"]'
    assert aggregated_results(["1.0", '"x"', "[1]"]) == '[1.0,"x",[1]]'
    with pytest.raises(ExprError, match="not JSON"):
        aggregated_results(["1", "hello"])
