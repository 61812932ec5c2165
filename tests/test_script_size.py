"""Each script template carries only the runtime its function and the tasks calling it need (issue 19),
and values still arrive exactly: the cut is checked against the whole runtime, value by value, and
workflows using every kind and plan run through the compiled scripts as Argo's executor would and
through `heraspec run`."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heraspec
from heraspec.python import artifact_paths, runtime, script
from heraspec.python.script import ALL_TAGS, PLANS, Needs, tags
from tests.argo_exec import Fanned, run_dag, run_task
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]
PIECES = {"decode": runtime.DECODE, "result": runtime.RESULT, "main": runtime.MAIN, "importer": runtime.IMPORTER,
          "packages": runtime.PACKAGES, "files": artifact_paths.RUNTIME_SOURCE}
TAG_NAMES = sorted({t.lstrip("!") for text in PIECES.values() for cond in re.findall(r"#\s*\[if ([^\]]+)\]", text)
                    for t in cond.split("|")})


def _filled(text: str) -> str:
    """A piece with its @PLACEHOLDERS@ filled in (as script_source does), so that it parses."""
    return re.sub(r"@([A-Z_]+)@", r"PH_\1", text)


# --- the minifier: the same program, without comments, blank lines or wide indentation ----------------

@pytest.mark.parametrize("name", sorted(PIECES))
def test_stripping_comments_and_indentation_keeps_each_piece_the_same_program(name: str) -> None:
    text = _filled(PIECES[name])
    kept = runtime.select(text, None)  # every block kept
    assert ast.dump(ast.parse(kept)) == ast.dump(ast.parse(text))
    assert "#" not in kept and "\n\n" not in kept
    assert len(kept) < 0.8 * len(text)


def test_every_tag_the_pieces_use_is_one_the_scripts_set() -> None:
    assert set(TAG_NAMES) <= ALL_TAGS | {"packages"} and ALL_TAGS <= set(TAG_NAMES)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chosen=st.sets(st.sampled_from(TAG_NAMES)))
def test_every_selection_of_blocks_is_valid_python(chosen: set[str]) -> None:
    for text in PIECES.values():
        compile(runtime.select(_filled(text), frozenset(chosen)), "<piece>", "exec")


def _undefined_globals(program: str) -> set[str]:
    """Names a function of `program` reads as globals that neither the module nor builtins define."""
    import builtins
    import symtable

    top = symtable.symtable(program, "<script>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()} | set(dir(builtins))
    missing: set[str] = set()
    stack = list(top.get_children())
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        missing |= {s.get_name() for s in table.get_symbols()
                    if s.is_referenced() and s.is_global() and s.get_name() not in defined}
    return {name for name in missing if not name.startswith("PH_")}  # placeholders: literals in a real script


@pytest.mark.parametrize("results", [frozenset(c) for c in (["parameter"], ["artifact"], ["file"], ["parameter", "artifact"],
                                                             ["parameter", "file"], ["artifact", "file"],
                                                             ["parameter", "artifact", "file"])], ids=sorted)
@pytest.mark.parametrize("publish", [False, True])
@pytest.mark.parametrize("plans", [frozenset(), PLANS])
def test_every_cut_script_defines_every_name_it_uses(results: frozenset, publish: bool, plans: frozenset) -> None:
    # a line kept whose helper was cut would be a NameError waiting for the one input that reaches it
    for params in (["int"], ["model:P", "list:str"], []):
        for artifact_inputs in (False, True):
            wanted = tags(params, Needs(plans=plans, artifact_inputs=artifact_inputs, results=results, publish=publish))
            program = script.JSON_FIRST + "".join(runtime.select(_filled(text), wanted) for name, text in PIECES.items()
                                                  if name != "packages")
            program = program.replace("PH_FUNCTION", "work") + "def work(): pass\n"
            assert _undefined_globals(program) == set(), (sorted(wanted), _undefined_globals(program))


# --- a cut runtime decodes exactly as the whole one, for the kinds and plans it was cut for -----------

@dataclasses.dataclass
class P:
    x: int


KINDS = [None, "str", "int", "float", "bool", "list", "dict", "list:int", "list:str", "list:float", "list:bool",
         "list:list", "list:dict", "model:P", "list:model:P"]
_json = st.recursive(st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False)
                     | st.text(max_size=6) | st.sampled_from(["1", "1.0", "true", "yes", "off", " 7 ", "[]", '"x"']),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2),
                     max_leaves=6)
_texts = st.one_of(_json.map(lambda v: json.dumps(v)), _json.map(lambda v: v if isinstance(v, str) else json.dumps(v)),
                   st.text(max_size=12), _json.map(lambda v: json.dumps(v)[1:-1] if isinstance(v, str) else json.dumps(v)))


def _space(chosen: frozenset[str]) -> dict:
    space: dict = {}
    exec(runtime.select(runtime.DECODE, chosen), space)  # noqa: S102
    space["_heraspec_names"] = {"P": P}  # the main entry binds the function's module here (model:NAME)
    return space


def _strict(v: Any) -> Any:
    """A value with every type made visible (True is not 1, 1.0 is not 1)."""
    if isinstance(v, list):
        return ["list", [_strict(x) for x in v]]
    if isinstance(v, dict):
        return ["dict", [[k, _strict(x)] for k, x in v.items()]]
    if dataclasses.is_dataclass(v):
        return [type(v).__name__, _strict(dataclasses.asdict(v))]
    return [type(v).__name__, repr(v)]


def _outcome(f, *args: Any) -> Any:
    try:
        return _strict(f(*args))
    except Exception as e:  # noqa: BLE001 (compared, not hidden)
        return ["raised", type(e).__name__]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=st.lists(st.sampled_from(KINDS), min_size=1, max_size=3), plans=st.sets(st.sampled_from(sorted(PLANS))),
       raw=_texts)
def test_a_cut_runtime_decodes_as_the_whole_one(params: list, plans: set, raw: str) -> None:
    whole = _space(ALL_TAGS)
    cut = _space(tags(params, Needs(plans=frozenset(plans))))
    assert ("_heraspec_input" in cut) == bool(plans)
    for kind in script.kinds(params) | {None} | ({"str"} if any(p.endswith("agg:str") for p in plans) else set()):
        assert _outcome(cut["_heraspec_decode"], raw, kind) == _outcome(whole["_heraspec_decode"], raw, kind)
        for plan in plans:
            assert _outcome(cut["_heraspec_input"], raw, kind, plan) == _outcome(whole["_heraspec_input"], raw, kind, plan)


def test_cut_branches_are_really_gone() -> None:
    cut = runtime.select(runtime.DECODE, tags(["int"], Needs(plans=frozenset())))
    assert "model_validate" not in cut and '"bool"' not in cut and "list:" not in cut and "_heraspec_input" not in cut
    with_list = runtime.select(runtime.DECODE, tags(["list:bool"], Needs(plans=frozenset({"agg"}))))
    assert '"bool"' in with_list and "list:" in with_list and '"agg"' in with_list and '"item"' not in with_list


# --- compiled templates ---------------------------------------------------------------------------------

def _compact(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def test_an_int_function_carries_no_model_plan_or_file_code(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cases

    spec, _ = cases.write_dag_case(tmp_path, "chain", 3)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    work = _templates(compiled.manifest)["work"]
    source = work["script"]["source"]
    for absent in ("_heraspec_input", "HERASPEC_PLAN", "model_validate", "_heraspec_names", '"bool"', 'startswith("list:")',
                   "_heraspec_read_artifact", "_heraspec_write_file", "HERASPEC_RESULT\"", "value.json",
                   "_heraspec_publish", "HERASPEC_OUTPUTS", "b64decode", "get_resource_reader", "pip"):
        assert absent not in source, absent
    # the marker, and the importer's call naming the carried files and their digest (the cache key follows it)
    assert [line.partition("#")[0] for line in source.splitlines() if "#" in line] == ["", "_heraspec_importer(None)  "]
    fn = heraspec.python.functions.resolve("steps:work", [str(tmp_path)])[0]
    whole = {**work, "script": {**work["script"], "source": script.script_source(fn)}}  # for any caller
    assert _compact(work) < 0.62 * _compact(whole)  # the int check at the boundary (runtime._heraspec_fits) stays
    assert run_task(compiled.manifest, "t1", tmp_path / "t1", results={"t0": 0})[0] == 2
    assert run_dag(compiled.manifest, tmp_path / "dag") == {"t0": "0", "t1": "2", "t2": "4"}


STEPS = '''\
from dataclasses import dataclass
from typing import Optional


@dataclass
class P:
    x: int


def word(i: int) -> str:
    return ["42", "true", "a\\\\nb", "", "{}"][i]


def num(i: int) -> int:
    return i * 10


def point(i: int) -> P:
    return P(i)


def record(n: int) -> dict:
    return {"total": n, "name": "r", "parts": [n, "x"]}


def probe(v):
    return [type(v).__name__, v]


def probe_ints(v: list[int]) -> list:
    return [[type(x).__name__, x] for x in v]


def probe_points(ps: list[P], q: Optional[P] = None) -> list:
    return [[type(p).__name__, p.x] for p in ps] + [type(q).__name__]


def probe_kinds(b: bool, f: float, s: str, n: int = 1) -> list:
    return [[type(x).__name__, x] for x in (b, f, s, n)]
'''

SPEC = """\
name: kinds
tasks:
  words: {function: steps:word, foreach: [0, 1, 2, 3], args: {i: {item: true}}}
  nums: {function: steps:num, foreach: [1, 2], args: {i: {item: true}}}
  points: {function: steps:point, foreach: [1, 2], args: {i: {item: true}}}
  one: {function: steps:word, args: {i: 0}}
  rec: {function: steps:record, args: {n: 3}, outputs: {total: total}}
  agg-str: {function: steps:probe, args: {v: {from: words}}}
  agg-ints: {function: steps:probe_ints, args: {v: {from: nums}}}
  str-result: {function: steps:probe, args: {v: {from: one}}}
  json-literal: {function: steps:probe, args: {v: "42"}}
  items: {function: steps:probe, foreach: [{s: "a\\nb"}, {s: "7"}], args: {v: {item: s}}}
  item-agg: {function: steps:probe, args: [{v: {from: nums}}, {v: {from: points}}]}
  models: {function: steps:probe_points, args: {ps: {from: points}}}
  kinds: {function: steps:probe_kinds, args: {b: "yes", f: 2, s: {from: one}}}
  key: {function: steps:probe, args: {v: {from: rec, key: total}}}
  nested: {function: steps:probe, args: {v: [{from: rec, key: parts}, {from: one}]}}
"""

EXPECTED = {
    "agg-str": ["list", ["42", "true", "a\\nb", ""]],
    "agg-ints": [["int", 10], ["int", 20]],
    "str-result": ["str", "42"],
    "json-literal": ["str", "42"],
    "items": [["str", "a\nb"], ["str", "7"]],
    "item-agg": [["list", [10, 20]], ["list", [{"x": 1}, {"x": 2}]]],
    "models": [["P", 1], ["P", 2], "NoneType"],
    "kinds": [["bool", True], ["float", 2.0], ["str", "42"], ["int", 1]],
    "key": ["int", 3],
    "nested": ["list", [[3, "x"], "42"]],
}


def _write(tmp: Path) -> Path:
    (tmp / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp / "kinds.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def test_every_kind_and_plan_a_workflow_uses_arrives_exactly_through_cut_scripts(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    texts = run_dag(compiled.manifest, tmp_path / "argo")
    got = {k: json.loads(v) for k, v in texts.items() if k in EXPECTED}
    # Argo substitutes the aggregates inside withItems before expanding them (run_dag does not): run
    # those children here, each with its item as Argo formats it
    items = [item["v"] for item in next(t for t in compiled.manifest["spec"]["templates"][0]["dag"]["tasks"]
                                        if t["name"] == "item-agg")["withItems"]]
    assert items == ["{{tasks.nums.outputs.parameters.result}}", "{{tasks.points.outputs.parameters.result}}"]
    got["item-agg"] = [run_task(compiled.manifest, "item-agg", tmp_path / "item-agg" / str(i), item={"v": texts[name]})[0]
                       for i, name in enumerate(["nums", "points"])]
    assert got == EXPECTED
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "heraspec", "run", str(spec), "--json", "--workdir", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    local = {k: v["result"] for k, v in json.loads(proc.stdout)["tasks"].items() if k in EXPECTED}
    assert local == EXPECTED
    # and each script was cut to its callers: probe_ints is passed an aggregate only, probe_kinds a
    # literal written as JSON ("yes" for a bool)
    tmpl = _templates(compiled.manifest)
    ints, kinds, points = (tmpl[n]["script"]["source"] for n in ("probe-ints", "probe-kinds", "probe-points"))
    assert '"agg"' in ints and 'startswith("item")' not in ints and "model_validate" not in ints
    assert 'plan == "json"' in kinds and '"agg"' not in kinds and '"bool"' in kinds and 'startswith("list:")' not in kinds
    assert "model_validate" in points and "_heraspec_names" in points
    assert "_heraspec_publish" in tmpl["record"]["script"]["source"]
    assert "_heraspec_publish" not in tmpl["num"]["script"]["source"]


def test_a_workflow_templates_planned_template_reads_any_plan_a_caller_passes(tmp_path: Path) -> None:
    """Other workflows call a WorkflowTemplate's templates by templateRef; where the template takes the
    plan input, a caller may pass any plan through it, so its script keeps every plan's branch."""
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp_path / "lib.yaml"
    spec.write_text("kind: WorkflowTemplate\nname: lib\ntasks:\n"
                    "  lit: {function: steps:probe, args: {v: \"42\"}}\n"  # a json plan here
                    "  n: {function: steps:num, args: {i: 1}}\n", encoding="utf-8")
    (compiled,) = heraspec.compile([str(spec)])
    tmpl = _templates(compiled.manifest)
    probe, num = tmpl["probe"]["script"]["source"], tmpl["num"]["script"]["source"]
    for branch in ('startswith("item")', '"agg"', 'plan == "str"', 'plan == "json"'):
        assert branch in probe
    assert "_heraspec_input" not in num and not any(p["name"] == script.PLAN_INPUT
                                                    for p in tmpl["num"]["inputs"]["parameters"])
    # a caller elsewhere passes an aggregate of str results with its plan (as a heraspec caller's
    # compiler would): the template reads it exactly
    caller = json.loads(json.dumps(compiled.manifest))
    caller["kind"] = "Workflow"
    caller["spec"]["templates"][0]["dag"]["tasks"] = [{"name": "call", "template": "probe", "arguments": {"parameters": [
        {"name": "v", "value": "{{tasks.up.outputs.parameters.result}}"},
        {"name": script.PLAN_INPUT, "value": json.dumps({"v": "agg:str"})}]}}]
    result, _ = run_task(caller, "call", tmp_path / "call", results={"up": Fanned(["42", "", "a b"])})
    assert result == ["list", ["42", "", "a b"]]


@pytest.mark.parametrize("where", ["task", "spec"])
def test_an_overlay_cannot_set_the_scripts_own_variables(tmp_path: Path, where: str) -> None:
    # the script is cut to what the compiler knows its callers pass: an overlay changing HERASPEC_PLAN
    # or HERASPEC_RESULT behind its back would reach branches that are not there
    from tests.cli import heraspec as cli

    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    env = "{script: {env: [{name: X, value: '1'}, {name: HERASPEC_PLAN, value: '{\"i\": \"json\"}'}]}}"
    overlay = (f"    argo: {{template: {env}}}\n" if where == "task" else
               f"argo: {{spec: {{templates: [{{name: num, {env[1:]}]}}}}\n")
    (tmp_path / "o.yaml").write_text("name: o\ntasks:\n  n:\n    function: steps:num\n    args: {i: 1}\n"
                                     + overlay, encoding="utf-8")
    proc = cli("validate", "o.yaml", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "error: 'HERASPEC_PLAN' is reserved: the generated script reads its own HERASPEC_* variables" in proc.stderr
    assert "o.yaml:6:" in proc.stderr and "1 error" in proc.stderr  # at the entry, X left alone


def test_an_overlay_renaming_a_script_template_keeps_its_calls_and_plans(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    spec = tmp_path / "r.yaml"
    spec.write_text("name: r\ntasks:\n  p:\n    function: steps:probe\n    args: {v: \"42\"}\n"
                    "    argo: {template: {name: renamed}}\n", encoding="utf-8")
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    tmpl = _templates(compiled.manifest)
    assert compiled.manifest["spec"]["templates"][0]["dag"]["tasks"][0]["template"] == "renamed"
    assert 'plan == "json"' in tmpl["renamed"]["script"]["source"]
    assert run_task(compiled.manifest, "p", tmp_path / "p")[0] == ["str", "42"]
