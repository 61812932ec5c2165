"""A second opinion on the pure parts of `heraspec run`: tables whose expected values come from
reading Argo v4.1.2's and govaluate's Go code (the function is named beside each table), not from
running heraspec. Independent of the runner, as tests/argo_exec.py is of the compiled script."""

from __future__ import annotations

import pytest

from heraspec.argo_lang import depends, durations, gofmt, gojson, govaluate
from heraspec.local import dagphase
from heraspec.local.attempt import main_failed
from heraspec.local.expr import item_field_str, item_node_desc, item_str, parse_raw, sequence_items

# --- govaluate via steps.go shouldExecute -----------------------------------------------------------
# Each row: the substituted `when`, then True/False, or the fragment of the error Argo reports.

WHEN = [
    # parsing.go readToken: a word starts with unicode.IsLetter; VARIABLE becomes STRING (shouldExecute)
    ("heads == heads", True),
    ("Succeeded != Failed", True),
    ("héllo == héllo", True),
    ("日本 == 日本", True),
    ("_x == _x", "Invalid token: '_'"),
    ("x_1 == x_1", True),
    # a word holding '.' is an ACCESSOR: lowercase after a dot is unexported, else a missing parameter
    ("model.pkl == model.pkl", "Unable to access unexported field 'pkl' in token 'model.pkl'"),
    ("my_value.x == y", "Unable to access unexported field 'x'"),
    ("v1.2 == v1.2", "No parameter 'v1' found."),
    ("a. == a", "Hanging accessor on token 'a.'"),
    ("false && v1.2 == x", False),  # evaluateStage: && short-circuits before the accessor runs
    # strings end at the first quote of either kind; backslash escapes
    ("'a b' == \"a b\"", True),
    ("'it\\'s' == 'it\\'s'", True),
    ("'it\\'s' == \"it's\"", "Unclosed string literal"),  # "it's" ends at the ', then s, then an open "
    ("\"it's\" == x", "Unclosed string literal"),
    ("'a\"b' == x", "Unclosed string literal"),
    # numbers: digits and '.', hex, all float64; reflect.DeepEqual for ==
    ("1 == 1.0", True),
    ("5 == '5'", False),
    (".5 == 0.5", True),
    ("0x1F == 31", True),
    ("1.2.3 == 1", "Unable to parse numeric value '1.2.3' to float64"),
    ("3a == 3", "Cannot transition token types from NUMERIC [3] to VARIABLE [a]"),
    # dates in quotes are TIME: their Unix seconds (planValue: float64(t.Unix()))
    ("'2024-01-31' < '2024-02-01'", True),
    ("'2024-01-01' == 1704067200", True),
    ("'2024-01-01T00:00:00Z' == '2024-01-01'", True),
    ("'2024-13-01' == '2024-13-01'", True),  # not a date: a string
    # parsing.go tryParseTime: every layout, through Go's time.Parse (format.go parse), Local = UTC
    ("'Mon Jan  2 15:04:05 2006' == 1136214245", True),  # time.ANSIC; `_2` takes a space-padded day
    ("'Tue Jan 2 15:04:05 2006' == 1136214245", True),  # the weekday is read, never checked
    ("'mon jan 02 15:04:05 2006' == 1136214245", True),  # names match case-insensitively; _2 reads 02
    ("'Mon Jan 2 15:04:05.25 2006' == 1136214245", True),  # a fraction after the seconds is accepted
    ("'Mon Jan 2 15:04:05 MST 2006' == 1136214245", True),  # time.UnixDate: a fake zone keeps the wall clock
    ("'Mon Jan 2 15:04:05 UTC 2006' < 'Mon Jan 2 15:04:06 PST 2006'", True),
    ("'Mon Jan 2 15:04:05 CEST 2006' == 1136214245", True),  # parseTimeZone: 4 capitals ending in T
    ("'Mon Jan 2 15:04:05 GMT+3 2006' == 1136214245", True),  # parseGMT; the fake zone keeps the wall clock
    ("'Mon Jan 2 15:04:05 ABCD 2006' == 'Mon Jan 2 15:04:05 ABCD 2006'", True),  # not a zone name: a string
    ("'Mon Jan 2 15:04:05 ABCDEFG 2006' == 'Mon Jan 2 15:04:05 ABCDEFG 2006'", True),  # six or more capitals
    ("'Mon Jan 02 15:04:05 -0700 2006' == 1136239445", True),  # time.RubyDate: the offset applies
    ("'Mon Jan 02 15:04:05 +0100 2006' == 1136210645", True),
    ("'Mon Feb 29 00:00:00 2023' == 'Mon Feb 29 00:00:00 2023'", True),  # day out of range: a string
    ("'Mon Feb 29 00:00:00 2024' == 1709164800", True),
    ("'Mon Jan 2 15:04 2006' == 'Mon Jan 2 15:04 2006'", True),  # no seconds: no layout, a string
    ("'3:04PM' == -62167164960", True),  # time.Kitchen: year 0, January 1
    ("'0:30PM' == -62167174200", True),  # stdHour12 allows 0; PM adds 12 below 12
    ("'12:00AM' == -62167219200", True),
    ("'3:04pm' == '3:04pm'", True),  # stdPM is upper case only: a string
    ("'2024-01-31 9:30' == 1706693400", True),  # `15` takes one digit
    ("'2024-01-01T10+0100' == 1704099600", True),  # ISO 8601 with hour and offset
    ("'2024-01-01T00:00:00.5+01:00' == 1704063600", True),  # RFC3339Nano
    ("'2024-02-30' == '2024-02-30'", True),  # day out of range: a string
    # modifiers, precedence (planAdditive < planMultiplicative < planExponential), left-associative
    ("1 + 2 * 3 == 7", True),
    ("10 - 2 - 3 == 5", True),
    ("2 ** 3 == 8", True),
    ("7 % 4 == 3", True),
    ("(6 & 3) == 2", True),
    ("'a' + 1 == 'a1'", True),  # addStage: %v%v when either side is a string
    ("a-b == a-b", "Value 'a' cannot be used with the modifier '-', it is not a number"),
    ("hello-world == x", "cannot be used with the modifier '-'"),
    # prefixes: a PREFIX cannot be followed by a STRING (checkExpressionSyntax after the turn)
    ("-1 < 0", True),
    ("!(1 > 2)", True),
    ("!false", True),
    ("!!false", "Invalid token: '!!'"),
    ("a == -b", "Cannot transition token types from PREFIX [-] to STRING [b]"),
    ("!a", "Cannot transition token types from PREFIX [!] to STRING [a]"),
    ("a==-1", "Invalid token: '==-'"),
    # comparators: two numbers or two strings (comparatorTypeCheck)
    ("abc < abd", True),
    ("10 > 9", True),
    ("5 > abc", "Value '5' cannot be used with the comparator '>', it is not a number"),
    ("true > false", "Value 'true' cannot be used with the comparator '>'"),
    ("a == b == c", False),  # (a == b) == c: false == 'c'
    # in: a parenthesised list (separatorStage), Go's interface ==
    ("b in (a, b)", True),
    ("3 in (1, 2)", False),
    ("1 in (1)", "cannot be used with the comparator 'in'"),
    # regexp: Go's RE2, unanchored
    ("hello =~ '^h.l'", True),
    ("hello !~ z", True),
    ("5 =~ '5'", "Value '5' cannot be used with the comparator '=~'"),
    # logical: both sides booleans, after the short-circuit
    ("false && 'x'", False),
    ("true || 5", True),
    ("true && 'x'", "Value 'x' cannot be used with the logical operator '&&', it is not a bool"),
    ("5 && true", "Value '5' cannot be used with the logical operator '&&'"),
    # ternary and coalesce (planTernary, ternaryIfStage/ternaryElseStage)
    ("(1 > 0 ? yes : no) == yes", True),
    ("(1 < 0 ? yes : no) == yes", False),
    ("a ? b : c", "Value 'a' cannot be used with the ternary operator '?', it is not a bool"),
    ("1 < 0 ? true", "Expected boolean evaluation for '1 < 0 ? true'. Got <nil>"),
    # shape errors
    ("(a == a", "Unbalanced parenthesis"),
    ("a ==", "Unexpected end of expression"),
    ("   ", "Unexpected end of expression"),
    ("5", "Expected boolean evaluation for '5'. Got 5"),
    ("1 + 1", "Got 2"),
    ("foo(1) == 1", "Undefined function foo"),
    ("{{tasks.a.outputs.result}} == 1", "Invalid token: '{{'"),
    ("a $ b", "Invalid token: '$'"),
]


@pytest.mark.parametrize("when, expected", WHEN)
def test_when_as_should_execute_evaluates_it(when: str, expected: bool | str) -> None:
    """workflow/controller/steps.go shouldExecute over github.com/Knetic/govaluate."""
    if isinstance(expected, bool):
        assert govaluate.should_execute(when) is expected
    else:
        with pytest.raises(govaluate.WhenError) as info:
            govaluate.should_execute(when)
        assert expected in str(info.value)


def test_when_errors_carry_argos_wrapping() -> None:
    """shouldExecute: lexing errors 'Invalid ...' (with the quoting hint for an invalid token),
    re-planning errors 'Failed to parse ...', evaluation errors 'Failed to evaluate ... expresion'."""
    cases = {"_x": "Invalid 'when' expression '_x': Invalid token: '_' (hint: try wrapping the affected "
                   "expression in quotes (\"))",
             "!a": "Failed to parse 'when' expression '!a': Cannot transition token types from PREFIX [!] to STRING [a]",
             "a - 1 == 1": "Failed to evaluate 'when' expresion 'a - 1 == 1': Value 'a' cannot be used with the "
                           "modifier '-', it is not a number"}
    for when, message in cases.items():
        with pytest.raises(govaluate.WhenError) as info:
            govaluate.should_execute(when)
        assert str(info.value) == message
    assert govaluate.should_execute("") is True


# --- what validate can say of a `when` before the run (govaluate.static_error) -------------------------
# steps.go shouldExecute: NewEvaluableExpression (parseTokens, checkExpressionSyntax, optimizeTokens,
# which compiles a literal regexp) fails whatever a {{…}} tag becomes; a literal `when` is evaluated.
# Each tag is tried as a number and as a word; the `when` is refused only when both fail.
STATIC_WHEN = [
    ("{{tasks.a.outputs.result}} == heads", None),
    ("-{{x}} < 0", None),  # fine for a number
    ("{{x}}.{{y}} == z", None),  # fine for numbers (0.0), an accessor for words
    ("{{x}}", None),  # the tag may hold the whole expression
    ("'{{x}}' == 'a b'", None),
    ("{{x}} == model.pkl", "Invalid 'when' expression '{{x}} == model.pkl': Unable to access unexported field 'pkl'"),
    ("_x == {{y}}", "Invalid token: '_'"),
    ("{{x}} ==", "Unexpected end of expression"),
    ("'{{x}}' == 'a", "Unclosed string literal"),
    ("({{x}} == a", "Unbalanced parenthesis"),
    ("'{{x}}' =~ 'a(?=b)'", "bad regular expression"),
    ("{{x}} {{y}}", "Cannot transition token types"),  # two values side by side: a known false alarm
    ("5", "Expected boolean evaluation for '5'. Got 5"),  # no tag: evaluated whole
    ("1 + 'a' > 2", "Failed to evaluate 'when' expresion"),
    ("true", None),
]


@pytest.mark.parametrize("when, expected", STATIC_WHEN)
def test_a_when_refused_whatever_its_tags_hold(when: str, expected: str | None) -> None:
    got = govaluate.static_error(when)
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected in got


# --- a pod's message: operator.go inferFailedReason -------------------------------------------------


@pytest.mark.parametrize("rc, message", [(1, "main: Error (exit code 1)"), (3, "main: Error (exit code 3)"),
                                         (-9, "main: Error (exit code 137)"), (-15, "main: Error (exit code 143)")])
def test_a_failed_main_container_message(rc: int, message: str) -> None:
    # kubelet's Terminated.Reason "Error", no termination message, the container name first; a process
    # killed by signal S exits 128+S in a container
    assert main_failed(rc) == message


@pytest.mark.parametrize("value, text", [(1.0, "1"), (2.5, "2.5"), (100000.0, "100000"), (1234567.0, "1.234567e+06"),
                                          (1e21, "1e+21"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-3.0, "-3")])
def test_go_value_prints_floats_as_fmt_v(value: float, text: str) -> None:
    """fmt %v of a float64 (strconv.FormatFloat 'g', shortest: %e when the exponent is < -4 or >= 6)."""
    assert govaluate.go_value(value) == text


# --- items: operator.go processItem, wfv1.Item ----------------------------------------------------------

@pytest.mark.parametrize("raw, item, field, desc", [
    ('"a b"', "a b", "a b", "a b"),
    ("1.0", "1.0", "1.0", "1.0"),  # RawMessage: as written
    ("true", "true", "true", "true"),
    ("null", "null", "null", "[]"),  # GetType List; GetListVal nil -> Marshal null; Sprint of nil []Item
    ('[1, "x"]', '[1,"x"]', '[1,"x"]', "[1 x]"),
    ('{"b": 1, "a": "<x>"}', '{"a":"\\u003cx\\u003e","b":1}', '{"a":"<x>","b":1}', "a:<x>,b:1"),
    ('"f(x)"', "f(x)", "f(x)", "fx"),  # generateNodeName drops parentheses
])
def test_item_text_and_node_name(raw: str, item: str, field: str, desc: str) -> None:
    """processItem: {{item}} per GetType; {{item.KEY}} and node names through Item.String()
    (json.Marshal, quotes stripped, jsonutil.Fix); generateNodeName."""
    value = parse_raw(raw)
    assert item_str(value) == item
    assert item_field_str(value) == field
    assert item_node_desc(value) == desc


# --- sequences: operator.go expandSequence, fmt.Sprintf --------------------------------------------------

@pytest.mark.parametrize("seq, items", [
    ({"count": "3"}, ["0", "1", "2"]),
    ({"start": "5", "end": "3"}, ["5", "4", "3"]),
    ({"start": "2", "count": "-2"}, ["2", "1", "0", "-1"]),
    ({"count": "0"}, []),
    ({"start": "1", "end": "3", "count": "10"}, ["1", "2", "3"]),  # end wins
    ({"count": "2", "format": "%03d"}, ["000", "001"]),
    ({"count": "1", "format": "%v"}, ["0"]),
    ({"count": "1", "format": "%s"}, ["%!s(int=0)"]),
    ({"start": "255", "count": "1", "format": "%#x"}, ["0xff"]),
    ({"count": "1", "format": "x"}, ["x%!(EXTRA int=0)"]),
    ({"count": "1", "format": "%d-%d"}, ["0-%!d(MISSING)"]),
])
def test_sequences(seq: dict, items: list[str]) -> None:
    assert sequence_items(seq, 1000) == items


@pytest.mark.parametrize("fmt, n, text", [("%5d", -3, "   -3"), ("%-4d|", 7, "7   |"), ("%+d", 3, "+3"), ("%05d", -42, "-0042"),
                                           ("%o", 8, "10"), ("%b", 5, "101"), ("%X", 255, "FF"), ("%c", 65, "A"),
                                           ("%U", 65, "U+0041"), ("%%%d", 1, "%1"), ("%.3d", 7, "007")])
def test_go_sprintf_int(fmt: str, n: int, text: str) -> None:
    """fmt.Sprintf with one int argument."""
    assert gofmt.sprintf_int(fmt, n) == text


def test_sequence_refusals() -> None:
    """expandSequence: strconv.Atoi errors, no end or count, a format that is not JSON string text."""
    from heraspec.local.expr import ExprError

    for seq in ({"count": "1.5"}, {"start": ""}, {"count": "1", "format": '"%d"'}):
        with pytest.raises(ExprError):
            sequence_items(seq, 1000)


# --- DAG phases: dag.go assessDAGPhase ------------------------------------------------------------------

def _assess(edges: dict[str, list[str]], phases: dict[str, str], targets: list[str] | None = None,
            continue_on: dict[str, set[str]] | None = None, fail_fast: bool = True) -> str:
    """edges: task -> the tasks it depends on (connectDependencies makes it their child)."""
    children: dict[str, list[str]] = {dagphase.BOUNDARY: []}
    for t, deps in edges.items():
        if not deps:
            children[dagphase.BOUNDARY].append(t)
        for d in deps:
            children.setdefault(d, []).append(t)
    targets = targets or dagphase.leaf_targets(edges)
    return dagphase.assess_dag_phase(children, phases, targets,
                                     lambda t, p: p in (continue_on or {}).get(t, set()), fail_fast)


@pytest.mark.parametrize("edges, phases, kw, expected", [
    # a Skipped leaf after a failure inherits Failed (#13967); after a success it is fine
    ({"a": [], "b": ["a"]}, {"a": "Failed", "b": "Skipped"}, {}, "Failed"),
    ({"a": [], "b": ["a"]}, {"a": "Succeeded", "b": "Skipped"}, {}, "Succeeded"),
    # an Omitted chain carries the failure to the leaf
    ({"a": [], "b": ["a"], "c": ["b"]}, {"a": "Error", "b": "Omitted", "c": "Omitted"}, {}, "Error"),
    # a completed node replaces the branch phase: a failure handled by a task that ran is gone
    ({"a": [], "b": ["a"]}, {"a": "Failed", "b": "Succeeded"}, {}, "Succeeded"),
    # two paths: the failed one wins over the succeeded one
    ({"a": [], "x": [], "c": ["a", "x"]}, {"a": "Succeeded", "x": "Failed", "c": "Omitted"}, {}, "Failed"),
    # targets are the leaves sorted by name: the first failing one gives the phase (fail fast)
    ({"b": [], "a": []}, {"a": "Error", "b": "Failed"}, {}, "Error"),
    ({"b": [], "a": []}, {"a": "Error", "b": "Failed"}, {"fail_fast": False}, "Failed"),
    # a target whose continueOn covers its branch phase does not fail the DAG
    ({"a": []}, {"a": "Failed"}, {"continue_on": {"a": {"Failed"}}}, "Succeeded"),
    ({"a": [], "b": ["a"]}, {"a": "Failed", "b": "Skipped"}, {"continue_on": {"a": {"Failed"}}}, "Failed"),
    # a node not fulfilled yet keeps the DAG running
    ({"a": [], "b": ["a"]}, {"a": "Succeeded", "b": "Running"}, {}, "Running"),
    # dag.target: only the named tasks are assessed
    ({"a": [], "b": []}, {"a": "Failed", "b": "Succeeded"}, {"targets": ["b"]}, "Succeeded"),
])
def test_assess_dag_phase(edges: dict, phases: dict, kw: dict, expected: str) -> None:
    assert _assess(edges, phases, **kw) == expected


@pytest.mark.parametrize("children, phase", [(["Skipped", "Skipped"], "Succeeded"), (["Failed", "Error"], "Error"),
                                             (["Error", "Succeeded", "Failed"], "Failed"), (["Succeeded"], "Succeeded")])
def test_task_group_phase(children: list[str], phase: str) -> None:
    """dag.go executeDAGTask: groupPhase is Succeeded unless a child FailedOrError (the last one)."""
    assert dagphase.group_phase(children) == phase


# --- depends: ancestry.go / dag.go evaluateDependsLogic --------------------------------------------------

@pytest.mark.parametrize("text, problem", [
    ("a && (b.Failed || !c)", None),
    ("a &&", ("depends ends with '&&'", 2)),
    ("a b", ("expected '&&' or '||' before 'b'", 2)),
    ("(a", ("'(' is never closed", 0)),
    ("a)", ("')' without a matching '('", 1)),
    ("|| a", ("expected a task name before '||'", 0)),
    ("a ; b", ("unexpected '; b' in depends", 2)),
    ("(" * 500 + "a" + ")" * 500, None),  # Argo's grammar has no depth limit
])
def test_depends_grammar(text: str, problem: tuple | None) -> None:
    assert depends.syntax_problem(text) == problem


def test_depends_one_tree_for_check_translate_and_evaluate() -> None:
    text = "a_1 && (b.Failed || !c-d.Skipped)"
    tree = depends.parse_tree(text)
    assert depends.names(tree) == {"a_1", "b", "c-d"}
    assert depends.references(text) == [("a_1", None, 0), ("b", "Failed", 8), ("c-d", "Skipped", 21)]
    assert depends.translate(text, lambda n, r: n.replace("_", "-") if r else f"({n}.Succeeded)") == \
        "(a_1.Succeeded) && (b.Failed || !c-d.Skipped)"
    phases = {"a_1": "Succeeded", "b": "Failed", "c-d": "Skipped"}
    assert depends.evaluate(tree, lambda n, r: phases[n] == (r or "Succeeded")) is True
    with pytest.raises(depends.DependsError):
        depends.parse_tree("(" * 65 + "a" + ")" * 65)
    assert depends.parse_tree("(" * 64 + "a" + ")" * 64).task == "a"
    wide = depends.parse_tree(" && ".join(f"t{i}" for i in range(400)))
    assert wide.op == "and" and len(wide.args) == 400  # flat


def test_depends_tokens_read_again_are_the_same_and_a_new_list() -> None:
    """Every stage tokenizes each task's depends; a text read again gives the first reading's tokens."""
    text = "x_1 && (y.AnySucceeded || !z)"
    expected = [("task", "x_1", None, 0), ("op", "&&", None, 4), ("op", "(", None, 7),
                ("task", "y", "AnySucceeded", 8), ("op", "||", None, 23), ("op", "!", None, 26),
                ("task", "z", None, 27), ("op", ")", None, 28)]
    first = depends.tokens(text)
    assert [(t.kind, t.text, t.result, t.offset) for t in first] == expected
    first.clear()  # the caller's list: the next reading is whole
    assert [(t.kind, t.text, t.result, t.offset) for t in depends.tokens(text)] == expected
    assert depends.references(text) == [("x_1", None, 0), ("y", "AnySucceeded", 8), ("z", None, 27)]
    for bad in ("a ; b", "a ; b"):  # a malformed text is refused every time it is read
        with pytest.raises(depends.DependsError, match="unexpected '; b'"):
            depends.tokens(bad)


# --- Go's JSON and durations ----------------------------------------------------------------------------

def test_go_json_structs_keep_order_and_maps_sort() -> None:
    """encoding/json: struct fields in declaration order, map keys sorted; strconv.Quote."""
    row = gojson.Struct({"displayName": "a", "message": "<b>", "phase": "Failed"})
    assert gojson.marshal([row, {"z": 1, "a": 2.5}]) == \
        '[{"displayName":"a","message":"\\u003cb\\u003e","phase":"Failed"},{"a":2.5,"z":1}]'
    assert gojson.quote('{"a":"x\ty"}') == '"{\\"a\\":\\"x\\ty\\"}"'
    assert gojson.marshal(None) == "null"


@pytest.mark.parametrize("text, seconds", [("30", 30.0), ("1m30s", 90.0), ("-1.5h", -5400.0), ("0", 0.0),
                                           ("1h2m3.5s", 3723.5), ("500ms", 0.5), ("2µs", 2e-6)])
def test_durations(text: str, seconds: float) -> None:
    """utils.go ParseStringToDuration: strconv.Atoi seconds, else time.ParseDuration."""
    assert durations.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1.5", "", "1d", "m", "1 s", "+"])
def test_duration_refusals(text: str) -> None:
    with pytest.raises(durations.DurationError):
        durations.parse_duration(text)
