"""lsp/text.py, the editor's reading of a half-typed spec: quoted strings are one scanner's business
(a quote, bracket, `,`, `=` or `#` inside a string is text, not structure) in every reading that
looks at a line: the token at an error, the cursor's context, the keys beside the cursor."""

from __future__ import annotations

from heraspec.lsp.text import Cursor, cursor, sibling_keys, token_end


def test_a_flow_value_ends_at_its_own_bracket_not_one_inside_a_string():
    line = 'a: {x: "}", y: [1]} # c'
    assert line[3:token_end(line, 3)] == '{x: "}", y: [1]}'
    assert token_end("a: [1, 2", 3) == len("a: [1, 2")  # unclosed: the rest of the line


def test_a_double_quoted_token_ends_after_its_escaped_quotes():
    line = 'a: "b\\"c" d'
    assert line[3:token_end(line, 3)] == '"b\\"c"'
    assert token_end('a: "open', 3) == len('a: "open')


def test_the_cursor_inside_a_string_being_typed_completes_the_string():
    text = 'tasks:\n  A: {function: steps:say, args: {msg: "he, {x'
    assert cursor(text, "yaml", 1, len(text.split("\n")[1])) == \
        Cursor(("tasks", "A", "args", "msg"), False, "he, {x", 40, quoted=True)


def test_a_closed_string_in_a_toml_flow_table_is_a_value_not_structure():
    text = '[tasks.A]\nargs = {msg = "a=b", n'
    assert cursor(text, "toml", 1, 23) == Cursor(("tasks", "A", "args"), True, "n", 21, siblings=frozenset({"msg"}))


def test_toml_keys_beside_the_cursor_skip_an_equals_or_hash_in_strings():
    text = '[tasks.A]\nfunction = "a=b"\n"x#y" = 1\nargs = 2'
    assert sibling_keys(text, "toml", 3) == {"function", "x#y"}
