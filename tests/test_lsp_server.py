"""`heraspec lsp` end to end: the real server as a subprocess, spoken to over stdio by the LSP client
of tests/lsp/client.py (JSON-RPC, Content-Length framing, a timeout on every wait)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.client import LspClient

STEPS = '''\
def square(x: int, power: int = 2) -> int:
    """Raise x to a power."""
    return x ** power


def say(msg: str) -> str:
    print(msg)
    return msg
'''


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lsp-project")
    (root / "steps.py").write_text(STEPS)
    return root


@pytest.fixture(scope="module")
def lsp(root):
    client = LspClient([sys.executable, "-m", "heraspec", "lsp"], cwd=str(root))
    client.initialize(root)
    yield client
    client.close()


class Doc:
    """One open document: its text and version, as an editor keeps them."""

    def __init__(self, lsp: LspClient, path: Path, text: str):
        self.lsp, self.path, self.uri, self.version = lsp, path, path.as_uri(), 1
        self.text = text
        path.write_text(self.text)
        lsp.open(self.uri, "toml" if path.suffix == ".toml" else "yaml", self.text)

    def diagnostics(self) -> list[dict]:
        v = self.version
        return self.lsp.notification("textDocument/publishDiagnostics",
                                     lambda p: p["uri"] == self.uri and p.get("version") == v)["diagnostics"]

    def change(self, text: str) -> list[dict]:
        self.version += 1
        self.text = text
        self.lsp.notify("textDocument/didChange", {"textDocument": {"uri": self.uri, "version": self.version},
                                                    "contentChanges": [{"text": self.text}]})
        return self.diagnostics()

    def at(self, needle: str, offset: int = 0) -> dict:
        """The position of the last `needle` in the text, plus `offset` characters."""
        i = self.text.rindex(needle) + offset
        line = self.text.count("\n", 0, i)
        return {"line": line, "character": i - (self.text.rfind("\n", 0, i) + 1)}

    def after(self, needle: str) -> dict:
        return self.at(needle, len(needle))

    def request(self, method: str, position: dict, **extra) -> object:
        return self.lsp.request(method, {"textDocument": {"uri": self.uri}, "position": position, **extra})

    def complete(self, position: dict) -> dict[str, dict]:
        result = self.request("textDocument/completion", position)
        return {i["label"]: i for i in result["items"]}

    def ranged(self, rng: dict) -> str:
        """The text a one-line range covers."""
        line = self.text.split("\n")[rng["start"]["line"]]
        return line[rng["start"]["character"]:rng["end"]["character"]]


GOOD = """\
name: demo
parameters: {n: 3, greeting: hello}
tasks:
  A: {function: steps:square, args: {x: {param: n}}}
  B:
    function: steps:square
    args: {x: {from: A}}
    retry: 2
    resources: {cpu: 2}
  C: {function: steps:say, args: {msg: {param: greeting}}, after: [A], depends: "A && B"}
edges:
  - A >> B
"""


def test_diagnostics_are_validates_errors_at_their_ranges_and_clear_when_fixed(lsp, root):
    bad = GOOD.replace("function: steps:square\n    args: {x: {from: A}}", "function: steps:sqaure\n    args: {x: {from: A}}")
    bad = bad.replace("after: [A]", "after: [Z]")
    doc = Doc(lsp, root / "diag.heraspec.yaml", bad)
    diags = doc.diagnostics()
    out = subprocess.run([sys.executable, "-m", "heraspec", "validate", doc.path.name], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 1
    # the same errors, messages and hints as validate prints, at validate's line and column
    diags.sort(key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"]))
    shown = [f"{doc.path.name}:{d['range']['start']['line'] + 1}:{d['range']['start']['character'] + 1}: "
             f"error: {d['message'].replace(chr(10), chr(10) + '  ')}" for d in diags]
    assert "\n".join(shown) + f"\n{len(diags)} errors\n" == out.stderr
    assert len(diags) == 2
    by_text = {doc.ranged(d["range"]): d for d in diags}
    assert set(by_text) == {"steps:sqaure", "Z"}
    assert "did you mean 'square'?" in by_text["steps:sqaure"]["message"]
    assert all(d["source"] == "heraspec" and d["severity"] == 1 for d in diags)
    assert doc.change(GOOD) == []  # fixed: cleared


def test_validates_located_notes_are_information_at_their_place(lsp, root):
    # the spec is valid (validate says ok), but B reads A's result while A continues on failure
    text = GOOD.replace("  A: {function: steps:square, args: {x: {param: n}}}",
                        "  A: {function: steps:square, args: {x: {param: n}}, continue_on: [failed]}")
    doc = Doc(lsp, root / "note.heraspec.yaml", text)
    diags = doc.diagnostics()
    out = subprocess.run([sys.executable, "-m", "heraspec", "validate", doc.path.name], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0
    notes = [line for line in out.stderr.splitlines() if ": note: " in line]
    assert len(notes) == 1 and len(diags) == 1
    (d,) = diags
    assert d["severity"] == 3 and d["source"] == "heraspec"
    start = d["range"]["start"]
    assert notes[0] == f"{doc.path.name}:{start['line'] + 1}:{start['character'] + 1}: note: {d['message']}"
    assert doc.ranged(d["range"]) == "A" and start["line"] == 6  # B's `{from: A}`
    assert doc.change(GOOD) == []


def test_a_half_typed_document_is_one_syntax_error_and_the_server_goes_on(lsp, root):
    doc = Doc(lsp, root / "half.heraspec.yaml", GOOD)
    assert doc.diagnostics() == []
    diags = doc.change(GOOD.replace("edges:", "  D: {function: steps:say, args: {msg: [\nedges:"))
    assert len(diags) == 1 and diags[0]["message"].startswith("YAML syntax error")
    assert diags[0]["range"]["start"]["line"] == 12  # where the parser gave up: `edges:`, the line after D
    # completion still works, from what the spec last was
    doc.change(GOOD.replace("edges:", "  D: {function: steps:say, after: [\nedges:"))
    items = doc.complete(doc.after("after: ["))
    assert {"A", "B", "C"} <= set(items)
    tdoc = Doc(lsp, root / "half.heraspec.toml", 'name = "h"\n[tasks.A]\nfunction = "steps:say"\nargs = { msg = "hi" }\n')
    assert tdoc.diagnostics() == []
    diags = tdoc.change('name = "h"\n[tasks.A]\nfunction = "steps:say"\nargs = { msg = \n')
    assert len(diags) == 1 and diags[0]["message"].startswith("TOML syntax error")


def test_completion_of_functions_with_signatures_in_yaml_and_toml(lsp, root):
    doc = Doc(lsp, root / "fn.heraspec.yaml", GOOD.replace("edges:", "  D:\n    function: st\nedges:"))
    items = doc.complete(doc.after("function: st"))
    assert {"steps:square", "steps:say"} <= set(items)
    sq = items["steps:square"]
    assert sq["detail"] == "square(x: int, power: int = 2) -> int"
    assert "Raise x to a power." in sq["documentation"]["value"]
    assert sq["textEdit"]["newText"] == "steps:square"
    assert doc.ranged(sq["textEdit"]["range"]) == "st"  # replaces what was typed
    tdoc = Doc(lsp, root / "fn.heraspec.toml", '[tasks.A]\nfunction = "steps:s"\n')
    items = tdoc.complete(tdoc.after('function = "steps:s'))
    assert {"steps:square", "steps:say"} <= set(items)
    assert items["steps:say"]["textEdit"]["newText"] == "steps:say"  # inside the quotes already


def test_completion_of_argument_names_with_types_and_defaults(lsp, root):
    doc = Doc(lsp, root / "args.heraspec.yaml", "tasks:\n  A:\n    function: steps:square\n    args:\n      x: 1\n      \n")
    items = doc.complete({"line": 5, "character": 6})
    assert set(items) == {"power"}  # x is given already
    assert items["power"]["detail"] == "int = 2"
    doc2 = Doc(lsp, root / "args2.heraspec.yaml", "tasks:\n  A: {function: steps:square, args: {}}\n")
    items = doc2.complete(doc2.after("args: {"))
    assert set(items) == {"x", "power"} and items["x"]["detail"] == "int"
    tdoc = Doc(lsp, root / "args.heraspec.toml", '[tasks.A]\nfunction = "steps:square"\n\n[tasks.A.args]\n\n')
    items = tdoc.complete({"line": 4, "character": 0})
    assert set(items) == {"x", "power"}


def test_completion_of_task_names_and_parameters(lsp, root):
    text = GOOD.replace("edges:", "  D:\n    function: steps:say\n    args: {msg: {from: }}\n    after: [A, ]\n"
                        "    depends: \"A && \"\nedges:")
    doc = Doc(lsp, root / "names.heraspec.yaml", text)
    assert set(doc.complete(doc.after("{from: "))) == {"A", "B", "C"}  # not D itself
    assert set(doc.complete(doc.after("after: [A, "))) == {"A", "B", "C"}
    assert set(doc.complete(doc.after('depends: "A && '))) == {"A", "B", "C"}
    assert set(doc.complete(doc.after("  - A >> "))) == {"A", "B", "C", "D"}
    doc.change(text.replace("{from: }", "{param: }"))
    params = doc.complete(doc.after("{param: "))
    assert set(params) == {"n", "greeting"} and params["n"]["detail"] == "default: 3"
    tdoc = Doc(lsp, root / "names.heraspec.toml",
               '[parameters]\nn = 3\n\n[tasks.A]\nfunction = "steps:square"\nargs = { x = { param = "n" } }\n\n'
               '[tasks.B]\nfunction = "steps:say"\nargs = { msg = { from = "" } }\nafter = [""]\n')
    assert set(tdoc.complete(tdoc.after('from = "'))) == {"A"}
    assert set(tdoc.complete(tdoc.after('after = ["'))) == {"A"}
    assert set(tdoc.complete(tdoc.after('param = "'))) == {"n"}


def test_completion_of_schema_keys_and_enum_values(lsp, root):
    doc = Doc(lsp, root / "keys.heraspec.yaml", "kind: \ntasks:\n  A:\n    function: steps:say\n    re\n")
    kinds = doc.complete(doc.after("kind: "))
    assert {"Workflow", "WorkflowTemplate", "CronWorkflow"} <= set(kinds)
    keys = doc.complete(doc.after("    re"))
    assert {"resources", "retry", "result"} <= set(keys) and "function" not in keys
    assert "CPU, memory" in keys["resources"]["documentation"]["value"]
    tdoc = Doc(lsp, root / "keys.heraspec.toml", 'kind = \n')
    kinds = tdoc.complete(tdoc.after("kind = "))
    assert kinds["Workflow"]["textEdit"]["newText"] == '"Workflow"'


def test_hover_shows_the_functions_signature_docstring_and_file(lsp, root):
    doc = Doc(lsp, root / "hover.heraspec.yaml", GOOD)
    result = doc.request("textDocument/hover", doc.at("steps:square", 3))
    value = result["contents"]["value"]
    assert "def square(x: int, power: int = 2) -> int" in value
    assert "Raise x to a power." in value and "steps.py, line 1" in value
    assert doc.ranged(result["range"]) == "steps:square"


def test_hover_on_a_task_shows_resolved_resources_image_retries_and_its_inputs(lsp, root):
    doc = Doc(lsp, root / "hovertask.heraspec.yaml", GOOD)
    value = doc.request("textDocument/hover", doc.at("  B:", 2))["contents"]["value"]
    assert "image: `python:3.12`" in value  # heraspec's default image, resolved
    assert '"cpu":"2"' in value and '"memory":"4Gi"' in value  # its own CPU, the default memory
    assert '"limit":"2"' in value  # retry: 2
    assert "`x` ← the result of task `A`" in value
    value = doc.request("textDocument/hover", doc.at("{param: greeting}", 9))["contents"]["value"]
    assert "workflow parameter" in value and '"hello"' in value


def test_definition_of_a_function_is_its_def_and_of_a_task_reference_the_task(lsp, root):
    doc = Doc(lsp, root / "def.heraspec.yaml", GOOD)
    loc = doc.request("textDocument/definition", doc.at("steps:say", 7))
    assert loc["uri"] == (root / "steps.py").as_uri()
    assert loc["range"]["start"] == {"line": 5, "character": 4}  # `def say` on line 6
    loc = doc.request("textDocument/definition", doc.at("{from: A}", 7))
    assert loc["uri"] == doc.uri and loc["range"]["start"] == doc.at("  A:", 2)
    loc = doc.request("textDocument/definition", doc.at("A >> B", 5))
    assert loc["range"]["start"] == doc.at("  B:", 2)


def test_definition_of_a_pipeline_and_a_template_ref_is_their_file(lsp, root):
    (root / "sub.heraspec.yaml").write_text("parameters: {x: 1}\ntasks:\n  S: {function: steps:square, args: {x: {param: x}}}\n")
    (root / "shared.heraspec.yaml").write_text(
        "kind: WorkflowTemplate\nname: shared-steps\ntasks:\n  T: {function: steps:say, args: {msg: hi}}\n")
    doc = Doc(lsp, root / "refs.heraspec.yaml",
              "name: refs\ntasks:\n  P: {pipeline: sub.heraspec.yaml}\n  R: {template_ref: {name: shared-steps, template: say}, args: {msg: x}}\n")
    loc = doc.request("textDocument/definition", doc.at("sub.heraspec", 2))
    assert loc["uri"] == (root / "sub.heraspec.yaml").as_uri()
    loc = doc.request("textDocument/definition", doc.at("shared-steps", 2))
    assert loc["uri"] == (root / "shared.heraspec.yaml").as_uri() and loc["range"]["start"] == {"line": 1, "character": 6}


def test_rename_a_task_across_its_references_and_find_them(lsp, root):
    doc = Doc(lsp, root / "rename.heraspec.yaml", GOOD)
    refs = doc.request("textDocument/references", doc.at("  A:", 2), context={"includeDeclaration": True})
    assert len(refs) == 5  # the task's key, {from: A}, after: [A], depends and the edge
    assert all(doc.ranged(r["range"]) == "A" for r in refs)
    edit = doc.lsp.request("textDocument/rename", {"textDocument": {"uri": doc.uri}, "position": doc.at("{from: A}", 7),
                                                   "newName": "prepare"})
    edits = edit["changes"][doc.uri]
    lines = doc.text.split("\n")
    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], -e["range"]["start"]["character"])):
        r = e["range"]
        ln = lines[r["start"]["line"]]
        lines[r["start"]["line"]] = ln[:r["start"]["character"]] + e["newText"] + ln[r["end"]["character"]:]
    renamed = "\n".join(lines)
    assert "prepare: {function: steps:square" in renamed and "{from: prepare}" in renamed
    assert "after: [prepare]" in renamed and 'depends: "prepare && B"' in renamed and "- prepare >> B" in renamed
    assert doc.change(renamed) == []  # still valid
    with pytest.raises(Exception, match="not a task name"):
        doc.lsp.request("textDocument/rename", {"textDocument": {"uri": doc.uri}, "position": doc.at("  B:", 2),
                                                "newName": "no spaces"})


def test_code_action_applies_the_did_you_mean_of_an_error(lsp, root):
    doc = Doc(lsp, root / "fix.heraspec.yaml", GOOD.replace("function: steps:square\n    args", "function: steps:sqaure\n    args")
              .replace("retry: 2", "retyr: 2"))
    diags = doc.diagnostics()
    fixes = {}
    for d in diags:
        actions = doc.lsp.request("textDocument/codeAction", {"textDocument": {"uri": doc.uri}, "range": d["range"],
                                                              "context": {"diagnostics": [d]}})
        for a in actions:
            (e,) = a["edit"]["changes"][doc.uri]
            fixes[doc.ranged(e["range"])] = (a["title"], e["newText"])
    assert fixes["steps:sqaure"] == ("Change to 'square'", "steps:square")
    assert fixes["retyr"] == ("Change to 'retry'", "retry")


def test_a_changed_python_module_checks_the_specs_that_use_it_again(lsp, root):
    (root / "later.py").write_text("def one(x: int) -> int:\n    return x\n")
    doc = Doc(lsp, root / "module.heraspec.yaml", "name: m\ntasks:\n  A: {function: later:two, args: {x: 1}}\n")
    (diag,) = doc.diagnostics()
    assert "function 'two' not found" in diag["message"]
    (root / "later.py").write_text("def one(x: int) -> int:\n    return x\n\n\ndef two(x: int) -> int:\n    return x\n")
    lsp.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": (root / "later.py").as_uri(), "type": 2}]})
    lsp.notification("textDocument/publishDiagnostics", lambda p: p["uri"] == doc.uri and p["diagnostics"] == [])


def test_errors_in_a_sub_pipeline_show_in_that_file(lsp, root):
    (root / "inner.heraspec.yaml").write_text("name: inner\ntasks:\n  S: {function: steps:nope}\n")
    doc = Doc(lsp, root / "outer.heraspec.yaml", "name: outer\ntasks:\n  P: {pipeline: inner.heraspec.yaml}\n")
    inner = lsp.notification("textDocument/publishDiagnostics",
                             lambda p: p["uri"] == (root / "inner.heraspec.yaml").as_uri() and p["diagnostics"])
    assert "function 'nope' not found" in inner["diagnostics"][0]["message"]
    assert inner["diagnostics"][0]["range"]["start"] == {"line": 2, "character": 16}
    assert all("nope" not in d["message"] for d in doc.diagnostics())  # in its own file, not the caller's
    (root / "inner.heraspec.yaml").write_text("name: inner\ntasks:\n  S: {function: steps:say, args: {msg: m}}\n")
    doc.change(doc.text + "# checked again\n")
    lsp.notification("textDocument/publishDiagnostics",
                     lambda p: p["uri"] == (root / "inner.heraspec.yaml").as_uri() and p["diagnostics"] == [])


def _apply(doc: Doc, edit: dict) -> str:
    lines = doc.text.split("\n")
    r = edit["range"]
    ln = lines[r["start"]["line"]]
    lines[r["start"]["line"]] = ln[:r["start"]["character"]] + edit["newText"] + ln[r["end"]["character"]:]
    return "\n".join(lines)


def _actions(doc: Doc, diag: dict) -> list[dict]:
    return doc.lsp.request("textDocument/codeAction", {"textDocument": {"uri": doc.uri}, "range": diag["range"],
                                                       "context": {"diagnostics": [diag]}})


@pytest.mark.parametrize("value, fixed", [(".nan", 'msg: ".nan"'), ("x: y", 'msg: "x: y"')])
def test_code_action_quotes_a_value_the_error_says_to_quote(lsp, root, value, fixed):
    doc = Doc(lsp, root / f"quote{len(value)}.heraspec.yaml",
              f"name: q\ntasks:\n  B:\n    function: steps:say\n    args:\n      msg: {value}\n")
    (diag,) = doc.diagnostics()
    assert "quote" in diag["message"]  # validate's hint: NaN has no JSON form; `: ` in a plain value
    (action,) = _actions(doc, diag)
    (edit,) = action["edit"]["changes"][doc.uri]
    text = _apply(doc, edit)
    assert fixed in text
    assert doc.change(text) == []


def test_code_action_uses_a_fix_the_error_carries_or_any_did_you_mean_hint():
    from heraspec.lsp.navigate import fixes

    line = "      name: 42"
    assert fixes(line, 12, 14, "argument 'name' is a str, not an int\nhint: write it quoted: \"42\"") == [
        ('Quote 42 as a string', 12, 14, '"42"')]
    assert fixes(line, 12, 14, "argument 'name' is a str", fix='"42"') == [('Change to "42"', 12, 14, '"42"')]
    line = "    function: pkg.stepz:train"
    assert fixes(line, 14, 29, "module 'pkg.stepz' not found\nhint: did you mean 'pkg.steps' or 'pkg.stem'? Otherwise ...") == [
        ("Change to 'pkg.steps'", 14, 29, "pkg.steps:train"), ("Change to 'pkg.stem'", 14, 29, "pkg.stem:train")]


def test_toml_diagnostics_ranges_quick_fix_and_schema_keys(lsp, root):
    doc = Doc(lsp, root / "fix.heraspec.toml", 'name = "t"\n\n[tasks.A]\nfunction = "steps:sqaure"\nargs = { x = 2 }\n')
    (diag,) = doc.diagnostics()
    assert doc.ranged(diag["range"]) == '"steps:sqaure"' and diag["range"]["start"]["line"] == 3
    (action,) = _actions(doc, diag)
    (edit,) = action["edit"]["changes"][doc.uri]
    assert edit["newText"] == '"steps:square"'
    text = _apply(doc, edit)
    assert doc.change(text) == []
    doc.change(text + "re")
    keys = doc.complete(doc.after("re"))
    assert {"resources", "retry"} <= set(keys) and not {"function", "args"} & set(keys)


def test_hover_on_an_argument_shows_its_type_and_default(lsp, root):
    doc = Doc(lsp, root / "arghover.heraspec.yaml", "name: a\ntasks:\n  A: {function: steps:square, args: {x: 2, power: 3}}\n")
    value = doc.request("textDocument/hover", doc.at("power", 1))["contents"]["value"]
    assert value.startswith("**argument** `power`: int, default `2`")
    assert "required" in doc.request("textDocument/hover", doc.at("x: 2"))["contents"]["value"]


@pytest.mark.slow  # ~1,000 prefixes, each checked, completed and navigated
def test_every_prefix_of_the_bundled_examples_checks_completes_and_navigates_without_raising():
    """Half-typed specs, as an editor sends them keystroke by keystroke: in-process, every 7th prefix."""
    from heraspec.lsp import navigate
    from heraspec.lsp.complete import Modules, complete
    from heraspec.lsp.project import Project

    examples = Path(__file__).resolve().parents[1] / "examples"
    project, modules = Project(), Modules()
    seen_errors = seen_symbols = 0
    for spec in sorted(p for p in examples.iterdir() if p.suffix in (".yaml", ".toml")):
        text = spec.read_text()
        for cut in range(0, len(text) + 1, 7):
            an = project.check(str(spec), text[:cut])
            lines = text[:cut].split("\n")
            line, ch = len(lines) - 1, len(lines[-1])
            complete(an, project, modules, line, ch)
            navigate.hover(an, project, line, ch)
            navigate.definition(an, project, line, ch)
            seen_errors += bool(an.errors)
            for s in (an.symbols.items if an.symbols else [])[:10]:
                seen_symbols += 1
                navigate.hover(an, project, s.line, s.start)
                navigate.definition(an, project, s.line, s.start)
    assert seen_errors > 100 and seen_symbols > 1000  # most prefixes do not parse; many do, with names


def test_arguments_complete_while_the_new_task_does_not_parse_yet(lsp, root):
    """Typing a new task's args leaves the spec unparsable: the function is read from the text."""
    doc = Doc(lsp, root / "typing.heraspec.yaml", GOOD.replace("edges:", "  D: {function: steps:square, args: {x: 1, \nedges:"))
    (diag,) = doc.diagnostics()
    assert diag["message"].startswith("YAML syntax error")
    assert set(doc.complete(doc.after("args: {x: 1, "))) == {"power"}
    tdoc = Doc(lsp, root / "typing.heraspec.toml", 'name = "t"\n[tasks.D]\nfunction = "steps:square"\nargs = { \n')
    assert set(tdoc.complete(tdoc.after("args = { "))) == {"x", "power"}


def test_an_exit_handler_completes_its_own_task_and_the_others(lsp, root):
    doc = Doc(lsp, root / "exit.heraspec.yaml", GOOD.replace(
        "edges:", "  D:\n    function: steps:say\n    args: {msg: a}\n    on_exit: {function: steps:say, args: {msg: {from: }}}\nedges:"))
    assert set(doc.complete(doc.after("{from: "))) == {"A", "B", "C", "D"}


def test_lsp_without_the_extra_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['pygls'] = None; sys.modules['lsprotocol'] = None\n"
            "from heraspec.cli import main; sys.exit(main(['lsp']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 1
    assert "pip install 'heraspec[lsp]'" in out.stderr and "Traceback" not in out.stderr


def test_ranges_are_in_the_clients_utf16_units(lsp, root):
    """LSP counts UTF-16 code units: an emoji before an error on its line is two of them."""
    doc = Doc(lsp, root / "emoji.heraspec.yaml",
              'name: e\ntasks:\n  A: {function: steps:say, args: {msg: "😀 hi"}, after: [Zed]}\n')
    (diag,) = doc.diagnostics()
    line = doc.text.split("\n")[2]
    assert diag["range"]["start"] == {"line": 2, "character": line.index("Zed") + 1}
    assert diag["range"]["end"]["character"] == line.index("Zed") + 4
    refs = doc.request("textDocument/references", {"line": 2, "character": line.index("Zed") + 2},
                       context={"includeDeclaration": True})
    assert [r["range"] for r in refs] == [diag["range"]]  # the one place that names it, in the same units


def test_hover_on_a_key_shows_the_schemas_documentation(lsp, root):
    doc = Doc(lsp, root / "keyhover.heraspec.yaml", GOOD)
    result = doc.request("textDocument/hover", doc.at("resources:", 3))
    assert result["contents"]["value"].startswith("**resources**\n\nCPU, memory, GPU and volumes")
    assert doc.ranged(result["range"]) == "resources"
    tdoc = Doc(lsp, root / "keyhover.heraspec.toml", 'name = "k"\n[tasks.A]\nfunction = "steps:say"\nretry = 2\n')
    assert "Retries" in tdoc.request("textDocument/hover", tdoc.at("retry", 1))["contents"]["value"]


def test_hover_on_a_task_of_a_spec_with_errors_shows_its_settings_with_the_defaults(lsp, root):
    doc = Doc(lsp, root / "hoverbad.heraspec.yaml", GOOD.replace("parameters:", "defaults: {retry: 4, resources: "
                                                                   "{memory: 2Gi}}\nparameters:").replace("after: [A]", "after: [Z]"))
    assert doc.diagnostics()  # the spec does not compile: hover reads the spec itself
    value = doc.request("textDocument/hover", doc.at("  A:", 2))["contents"]["value"]
    assert 'requests `{"cpu":"1","memory":"2Gi"}`' in value and "retries: `4`" in value
    assert "compiled values show when the spec is valid" in value


def test_a_spec_is_checked_again_only_when_its_text_or_a_module_it_uses_changed(tmp_path):
    import os

    from heraspec.lsp.project import Project

    (tmp_path / "mod.py").write_text("def f(x: int) -> int:\n    return x\n")
    spec = str(tmp_path / "s.heraspec.yaml")
    text = "name: s\ntasks:\n  A: {function: mod:f, args: {x: 1}}\n"
    project = Project()
    first = project.check(spec, text)
    assert first.errors == [] and project.check(spec, text) is first  # same text: not checked again
    (tmp_path / "mod.py").write_text("def f(y: int) -> int:\n    return y\n")
    st = os.stat(tmp_path / "mod.py")
    os.utime(tmp_path / "mod.py", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later mtime, whatever the clock
    again = project.check(spec, text)
    assert again is not first
    assert sorted(e.message for e in again.errors) == ["f() has no parameter 'x'", "f() is missing argument 'y'"]


def test_path_finds_modules_in_another_folder_given_relative_to_where_the_server_started(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "far.py").write_text("def away(n: int) -> int:\n    return n\n")
    project = tmp_path / "project"
    project.mkdir()
    client = LspClient([sys.executable, "-m", "heraspec", "lsp", "--path", "src"], cwd=str(tmp_path))
    try:
        client.initialize(project)  # the server moves into the project folder
        doc = Doc(client, project / "p.heraspec.yaml", "name: p\ntasks:\n  A: {function: far:away, args: {n: 1}}\n")
        assert doc.diagnostics() == []
        doc.change("name: p\ntasks:\n  A: {function: far:aw, args: {n: 1}}\n")
        assert "far:away" in doc.complete(doc.after("far:aw"))
    finally:
        client.close()


def test_a_large_project_completes_functions_incrementally(lsp, root):
    (root / "many.py").write_text("".join(f"def f{i}(x: int) -> int:\n    return x\n\n\n" for i in range(120)))
    doc = Doc(lsp, root / "many.heraspec.yaml", "name: m\ntasks:\n  A:\n    function: m\n")
    result = doc.request("textDocument/completion", doc.after("function: m"))
    assert result["isIncomplete"] is True  # only the first ones read: the editor asks again as one types
    assert sum(1 for i in result["items"] if i["detail"] != "…") == 50
    doc.change("name: m\ntasks:\n  A:\n    function: many:f11\n")
    items = doc.complete(doc.after("many:f11"))
    assert items["many:f119"]["detail"] == "f119(x: int) -> int"
