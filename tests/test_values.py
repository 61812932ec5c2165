"""Values files and --set, rendered into string scalars after parsing, in a sandbox, with [[ ]] delimiters."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from heraspec.cli import main
from heraspec.errors import Errors, UsageError
from heraspec.document.load import load_file
from heraspec.document.values import apply_values, load_values, parse_set_value

REPO = Path(__file__).resolve().parents[1]

STEPS = '''\
def say(msg: str) -> str:
    # a function whose source looks like a template: it must reach the container unchanged
    template = "[[ who ]] and [% if x %]block[% endif %]"
    print(msg, template)
    return msg


def work(n: int, tags: list) -> int:
    return n * len(tags)
'''

SPEC = """\
name: "[[ name ]]"
tasks:
  A:
    function: steps:say
    args: {msg: "hello [[ who ]] from {{workflow.name}}"}
    resources: {cpu: "[[ cpu ]]", memory: "[[ memory | default('4Gi') ]]"}
  B:
    function: steps:work
    args: {n: "[[ n ]]", tags: "[[ tags ]]"}
    when: "{{tasks.A.outputs.parameters.result}} == hello"
edges: ["A >> B"]
"""


def write(dir: Path, name: str, text: str) -> Path:
    p = dir / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.fixture
def project(tmp_path):
    write(tmp_path, "steps.py", STEPS)
    write(tmp_path, "spec.yaml", SPEC)
    write(tmp_path, "base.yaml", "name: base\nwho: world\ncpu: 2\nn: 3\ntags: [a, b]\nnested: {a: 1, b: 2}\n")
    write(tmp_path, "prod.toml", 'name = "prod"\n[nested]\nb = 20\nc = 30\n')
    return tmp_path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def compiled(project: Path, capsys, *extra: str) -> dict:
    code, out, err = run_cli(["compile", str(project / "spec.yaml"), *extra], capsys)
    assert code == 0, err
    return yaml.safe_load(out)


def dag_task(manifest: dict, name: str) -> dict:
    main_tmpl = next(t for t in manifest["spec"]["templates"] if t["name"] == manifest["spec"]["entrypoint"])
    return next(t for t in main_tmpl["dag"]["tasks"] if t["name"] == name)


def template_of(manifest: dict, task: str) -> dict:
    name = dag_task(manifest, task)["template"]
    return next(t for t in manifest["spec"]["templates"] if t["name"] == name)


def param(task: dict, name: str):
    return next(p["value"] for p in task["arguments"]["parameters"] if p["name"] == name)


# --- loading and precedence -----------------------------------------------------------------


def test_later_files_win_deep_merged_and_set_wins_over_files(project):
    errors = Errors()
    values = load_values([str(project / "base.yaml"), str(project / "prod.toml")],
                         ["who=you", "nested.c=300", "deep.er.key=x"], errors)
    assert not errors
    assert values["name"] == "prod"  # the later file
    assert values["who"] == "you"  # --set over both files
    assert values["nested"] == {"a": 1, "b": 20, "c": 300}  # merged key by key
    assert values["deep"] == {"er": {"key": "x"}}
    assert values["tags"] == ["a", "b"]


def test_set_values_are_strings_unless_yaml_numbers_or_booleans():
    assert parse_set_value("4") == 4 and isinstance(parse_set_value("4"), int)
    assert parse_set_value("0.5") == 0.5
    assert parse_set_value("true") is True and parse_set_value("false") is False
    for text in ("yes", "on", "null", "", "4Gi", "[1, 2]", "{a: 1}", "a=b"):
        assert parse_set_value(text) == text


def test_a_bad_set_is_a_usage_error(capsys, project):
    with pytest.raises(UsageError):
        load_values([], ["novalue"], Errors())
    code, _, err = run_cli(["validate", str(project / "spec.yaml"), "--set", "=3"], capsys)
    assert code == 2 and "--set must look like KEY=VALUE" in err


def test_values_file_problems_are_located(tmp_path, capsys):
    write(tmp_path, "list.yaml", "- a\n- b\n")
    write(tmp_path, "broken.toml", "a = \n")
    write(tmp_path, "v.json", "{}")
    errors = Errors()
    load_values([str(tmp_path / "list.yaml"), str(tmp_path / "broken.toml"), str(tmp_path / "v.json"),
                 str(tmp_path / "missing.yaml")], [], errors)
    text = errors.format()
    assert "list.yaml:1:1: error: a values file must be a mapping" in text
    assert "broken.toml:1:" in text and "TOML syntax error" in text
    assert "v.json:1:1: error: unknown values file format" in text
    assert "missing.yaml:1:1: error: cannot read file" in text


def test_an_empty_values_file_sets_nothing(tmp_path):
    write(tmp_path, "empty.yaml", "\n")
    errors = Errors()
    assert load_values([str(tmp_path / "empty.yaml")], ["a=1"], errors) == {"a": 1}
    assert not errors


# --- rendering --------------------------------------------------------------------------------


def test_rendering_with_files_and_set(project, capsys):
    m = compiled(project, capsys, "--values", str(project / "base.yaml"), "--values", str(project / "prod.toml"),
                 "--set", "cpu=4")
    assert m["metadata"]["name"] == "prod"
    a = dag_task(m, "A")
    assert param(a, "msg") == "hello world from {{workflow.name}}"  # Argo's {{ }} untouched
    assert dag_task(m, "B")["when"] == "{{tasks.A.outputs.parameters.result}} == hello"
    res = template_of(m, "A")["script"]["resources"]["requests"]
    assert res["cpu"] == "4" and res["memory"] == "4Gi"  # the filter's default
    b = dag_task(m, "B")
    assert param(b, "n") == "3" and param(b, "tags") == '["a","b"]'  # typed values stay typed


def test_a_single_placeholder_keeps_the_value_type(project):
    errors = Errors()
    doc = load_file(str(project / "spec.yaml"), errors)
    apply_values(doc, {"name": "x", "who": "w", "cpu": 4, "n": 3, "tags": ["a", "b"]}, errors)
    assert not errors
    task_a, task_b = doc.data["tasks"]["A"], doc.data["tasks"]["B"]
    assert task_a["resources"]["cpu"] == 4 and isinstance(task_a["resources"]["cpu"], int)
    assert task_b["args"] == {"n": 3, "tags": ["a", "b"]}
    assert task_a["args"]["msg"] == "hello w from {{workflow.name}}"  # mixed text renders to text
    # a quoted number in a values file stays a string; the schema accepts "4" for cpu too
    doc = load_file(str(project / "spec.yaml"), errors)
    apply_values(doc, {"name": "x", "who": "w", "cpu": "4", "n": 3, "tags": []}, errors)
    assert doc.data["tasks"]["A"]["resources"]["cpu"] == "4"


def test_blocks_comments_and_expressions(tmp_path):
    write(tmp_path, "s.yaml", """\
        name: demo
        tasks:
          A:
            function: steps:say
            args:
              msg: "[% if prod %]live[% else %]test[% endif %] [# a comment #]run [[ n * 2 ]]"
              plain: "no placeholder {{ here }} [ x ] [[ stays"
    """)
    errors = Errors()
    doc = load_file(str(tmp_path / "s.yaml"), errors)
    apply_values(doc, {"prod": False, "n": 21}, errors)
    assert not errors, errors.format()
    args = doc.data["tasks"]["A"]["args"]
    assert args["msg"] == "test run 42"
    assert args["plain"] == "no placeholder {{ here }} [ x ] [[ stays"  # an unclosed [[ is not a placeholder


def test_values_are_data_not_templates(project):
    errors = Errors()
    doc = load_file(str(project / "spec.yaml"), errors)
    apply_values(doc, {"name": "x", "who": "[[ cpu ]] {{x}}", "cpu": 1, "n": 1, "tags": []}, errors)
    assert doc.data["tasks"]["A"]["args"]["msg"] == "hello [[ cpu ]] {{x}} from {{workflow.name}}"


def test_function_source_is_never_rendered(project, capsys):
    m = compiled(project, capsys, "--values", str(project / "base.yaml"), "--set", "x=1")
    from tests.argo_exec import carried_modules

    assert "steps.py" in template_of(m, "A")["script"]["source"]  # the script names what it carries
    assert '"[[ who ]] and [% if x %]block[% endif %]"' in carried_modules(m)["steps"]


def test_keys_are_never_rendered(tmp_path):
    write(tmp_path, "s.yaml", 'name: demo\ntasks:\n  A:\n    function: steps:say\n    env: {"[[ k ]]": "[[ v ]]"}\n')
    errors = Errors()
    doc = load_file(str(tmp_path / "s.yaml"), errors)
    apply_values(doc, {"k": "K", "v": "V"}, errors)
    assert doc.data["tasks"]["A"]["env"] == {"[[ k ]]": "V"}


def test_toml_specs_render_too(tmp_path, capsys):
    write(tmp_path, "steps.py", STEPS)
    write(tmp_path, "s.toml", 'name = "demo"\n[tasks.A]\nfunction = "steps:say"\nargs = { msg = "hi [[ who ]]" }\n'
                              '[tasks.A.resources]\ncpu = "[[ cpu ]]"\n')
    code, out, err = run_cli(["compile", str(tmp_path / "s.toml"), "--set", "who=toml", "--set", "cpu=0.5"], capsys)
    assert code == 0, err
    m = yaml.safe_load(out)
    assert param(dag_task(m, "A"), "msg") == "hi toml"
    assert template_of(m, "A")["script"]["resources"]["requests"]["cpu"] == "0.5"


# --- errors -----------------------------------------------------------------------------------


def test_an_undefined_value_is_a_located_error(project, capsys):
    spec = project / "spec.yaml"
    code, _, err = run_cli(["validate", str(spec), "--values", str(project / "base.yaml")], capsys)
    assert code == 0, err  # everything defined (memory has a default)
    write(project, "spec.yaml", SPEC.replace("hello [[ who ]]", "hello [[ whom ]]"))
    code, _, err = run_cli(["validate", str(spec), "--values", str(project / "base.yaml")], capsys)
    assert code == 1
    assert f"{spec}:5:24: error: undefined value 'whom'" in err
    assert "hint: give it with --values FILE or --set whom=VALUE" in err


def test_an_undefined_value_in_toml_is_located(tmp_path, capsys):
    write(tmp_path, "steps.py", STEPS)
    spec = write(tmp_path, "s.toml", 'name = "demo"\n\n[tasks.A]\nfunction = "steps:say"\nargs = { msg = "[[ nope ]]" }\n')
    code, _, err = run_cli(["validate", str(spec), "--set", "x=1"], capsys)
    assert code == 1
    assert f"{spec}:5:" in err and "undefined value 'nope'" in err


@pytest.mark.parametrize("expr, message", [
    ("''.__class__.__mro__", "unsafe placeholder: access to attribute '__class__' of 'str' object is unsafe"),
    ("cycler.__init__.__globals__", "unsafe placeholder: access to attribute '__init__'"),
    ("x.__class__.__base__.__subclasses__()", "unsafe placeholder: access to attribute '__class__'"),
    ("'a' * 100000000", "unsafe placeholder: a result of 100,000,000 items is too large"),
    ("9 ** 9999999", "unsafe placeholder: the power 9 ** 9999999 is too large"),
    ("x.append(1)", "unsafe placeholder"),
])
def test_sandbox_escapes_are_located_errors(tmp_path, capsys, expr, message):
    write(tmp_path, "steps.py", STEPS)
    spec = write(tmp_path, "s.yaml", f'name: demo\ntasks:\n  A:\n    function: steps:say\n    args: {{msg: "go [[ {expr} ]]"}}\n')
    values = write(tmp_path, "v.yaml", "x: [1, 2]\n")
    code, _, err = run_cli(["validate", str(spec), "--values", str(values)], capsys)
    assert code == 1, err
    assert f"{spec}:5:21: error: {message}" in err, err
    assert "Traceback" not in err


def test_syntax_errors_are_located(tmp_path, capsys):
    write(tmp_path, "steps.py", STEPS)
    spec = write(tmp_path, "s.yaml", 'name: demo\ntasks:\n  A:\n    function: steps:say\n    args: {msg: "[[ a + ]]"}\n')
    code, _, err = run_cli(["validate", str(spec), "--set", "a=1"], capsys)
    assert code == 1
    assert f"{spec}:5:18: error: placeholder syntax error" in err


def test_without_values_a_forgotten_placeholder_is_reported(project, capsys):
    spec = project / "spec.yaml"
    code, _, err = run_cli(["validate", str(spec)], capsys)
    assert code == 1
    assert f"{spec}:5:24: error: placeholder [[ who ]] has no value" in err
    assert "hint: pass --values FILE or --set who=VALUE" in err


def test_without_values_nothing_is_rendered(tmp_path, capsys):
    write(tmp_path, "steps.py", STEPS)
    spec = write(tmp_path, "s.yaml", 'name: demo\ntasks:\n  A:\n    function: steps:say\n    args: {msg: "[[1, 2], [3]]"}\n')
    code, out, err = run_cli(["compile", str(spec)], capsys)
    assert code == 0, err
    assert param(dag_task(yaml.safe_load(out), "A"), "msg") == "[[1, 2], [3]]"


# --- cost -------------------------------------------------------------------------------------


def _imports(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "heraspec", *args], cwd=REPO,
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr


def test_jinja2_is_not_imported_without_placeholders():
    assert "jinja2" not in _imports("validate", "examples/diamond.yaml")
    # values given, but no string has a placeholder: still no jinja2
    assert "jinja2" not in _imports("validate", "examples/diamond.yaml", "--set", "a=1")
