"""Each script template carries only the parts of the pod runtime (python/pod.py) its function and the
tasks calling it use, as pod.py writes them (issue 31): whole definitions, comments and 4-space
indentation kept; every cut compiles, defines every name it uses and imports nothing it does not
use; a cut decodes exactly as the whole module, value by value; workflows using every kind and plan
run through the compiled scripts as Argo's executor would and through `heraspec run`; and each
template stays within its published size budget (docs/DESIGN.md, benchmarks/RESULTS.md)."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heraspec
from heraspec.python import pod, pod_source, script
from heraspec.python.script import PLANS, Needs, roots
from tests.argo_exec import Fanned, pod_env, run_dag, run_script, run_task
from tests.argo_schema import assert_argo_valid

ROOT = Path(__file__).resolve().parents[1]

# --- the cut: whole definitions of pod.py, as written ---------------------------------------------------

KINDS = [None, "str", "int", "float", "bool", "list", "dict", "list:int", "list:str", "list:float", "list:bool",
         "list:list", "list:dict", "model:P", "list:model:P", "int | None", "tuple:int", "set:str", "tuple",
         "dict:int | None", "frozenset:int", "path", "paths"]
_needs = st.builds(Needs, plans=st.sets(st.sampled_from(sorted(PLANS))).map(frozenset),
                   artifact_inputs=st.booleans(),
                   results=st.sets(st.sampled_from(["parameter", "artifact", "file"]), min_size=1).map(frozenset),
                   publish=st.booleans())


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
    return missing


def _unused_imports(program: str) -> set[str]:
    tree = ast.parse(program)
    imported = {a.asname or a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return imported - used


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=st.lists(st.sampled_from(KINDS), max_size=3), needs=_needs, data=st.booleans(),
       packages=st.booleans())
def test_every_cut_compiles_defines_every_name_it_uses_and_imports_only_what_it_uses(
        params: list, needs: Needs, data: bool, packages: bool) -> None:
    # a line kept whose helper was cut would be a NameError waiting for the one input that reaches it
    wanted = roots(params, needs, data) | {"serve_carried_modules"} | ({"install_packages"} if packages else set())
    program = pod_source.cut(wanted)
    compile(program, "<cut>", "exec")
    assert _undefined_globals(program) == set()
    assert _unused_imports(program) == set()
    assert all(n.col_offset % 4 == 0 for n in ast.walk(ast.parse(program)) if isinstance(n, ast.stmt))  # 4 spaces a level


def _package() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(pod_source.folder().glob("*.py"))}


def test_the_whole_cut_is_every_definition_of_the_package_as_written() -> None:
    # every definition kept, nothing pruned: each one's text as its module writes it, in module order
    whole = pod_source.cut(pod_source.defined_names())
    tree = ast.parse(whole)
    got = [ast.get_source_segment(whole, n) for n in tree.body if not isinstance(n, ast.Import)]
    want = []
    for module in pod_source.MODULES:
        text = (pod_source.folder() / f"{module}.py").read_text(encoding="utf-8")
        want += [ast.get_source_segment(text, n) for n in ast.parse(text).body
                 if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr))]
    assert got == want
    assert set(pod_source.MODULES) == set(_package()) - {"__init__"}


def test_the_pod_package_imports_only_the_standard_library_and_itself() -> None:
    for name, tree in _package().items():
        top = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        top |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module}
        assert top <= set(sys.stdlib_module_names) and "heraspec" not in top, name
        relative = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level]
        assert all(n.level == 1 for n in relative), name  # siblings only: the script drops these lines


def test_an_int_function_carries_no_model_plan_artifact_or_package_code() -> None:
    cut = pod_source.cut(roots(["int"], Needs(plans=frozenset(), artifact_inputs=False, results=frozenset({"parameter"}),
                                              publish=False)) | {"serve_carried_modules"})
    for absent in ("def rebuild", "model_validate", "def coerce_bool", "def coerce_list", "def read_aggregate",
                   "def read_item_field", "def read_artifact", "def write_file_result", "def publish",
                   "VALUE_FILE", "def install_packages", "CarriedFileLoader", "class Unfit", "ONE", "MANY"):
        assert absent not in cut, absent
    for present in ("def coerce_int", "def fits_int", "def refuse_unfit", "def main", "# --- decoding inputs",
                    "def serve_carried_modules", '"""A value from its text'):
        assert present in cut, present
    # the branches that call what was left out are gone; their else branch stands in their place
    main = cut[cut.index("def main"):]
    assert "read_artifact" not in main and "        value = read_input(raw, base, plans.get(param), classes)\n" in main
    assert "    write_value_result(value, mode, " in main and "write_file_result" not in main


# --- a cut runtime decodes exactly as the whole module, for the kinds and plans it was cut for ------------

@dataclasses.dataclass
class P:
    x: int


_json = st.recursive(st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False)
                     | st.text(max_size=6) | st.sampled_from(["1", "1.0", "true", "yes", "off", " 7 ", "[]", '"x"']),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2),
                     max_leaves=6)
_texts = st.one_of(_json.map(lambda v: json.dumps(v)), _json.map(lambda v: v if isinstance(v, str) else json.dumps(v)),
                   st.text(max_size=12), _json.map(lambda v: json.dumps(v)[1:-1] if isinstance(v, str) else json.dumps(v)))


def _space(params: list, plans: set) -> dict:
    space: dict = {}
    exec(pod_source.cut(roots(params, Needs(plans=frozenset(plans)))), space)  # noqa: S102
    return space


def _strict(v: Any) -> Any:
    """A value with every type made visible (True is not 1, 1.0 is not 1)."""
    if isinstance(v, (list, tuple, set)):
        return [type(v).__name__, [_strict(x) for x in (sorted(v, key=repr) if isinstance(v, set) else v)]]
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=st.lists(st.sampled_from(KINDS), min_size=1, max_size=3), plans=st.sets(st.sampled_from(sorted(PLANS))),
       raw=_texts)
def test_a_cut_runtime_decodes_and_checks_as_the_whole_module(params: list, plans: set, raw: str) -> None:
    cut = _space(params, plans)
    classes = {"P": P}
    for kind in script.kinds(params) | {None} | ({"str"} if any(p.endswith("agg:str") for p in plans) else set()):
        assert _outcome(cut["decode"], raw, kind, classes) == _outcome(pod.decode, raw, kind, classes)
        for plan in plans | {None}:
            assert _outcome(cut["read_input"], raw, kind, plan, classes) == _outcome(pod.read_input, raw, kind, plan, classes)
    for kind in params:
        if "fits" in cut and kind is not None:
            base = kind[:-7] if kind.endswith(" | None") else kind
            assert cut["fits"](cut["decode"](raw, base, classes), kind) == pod.fits(pod.decode(raw, base, classes), kind)


# --- compiled templates ---------------------------------------------------------------------------------

def _compact(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def _shared(manifest: dict, tmpl: dict) -> dict:
    """The table {"runtime", "modules", "data"} of the workflow parameter a template's env HERASPEC_CODE reads."""
    ref = next(e["value"] for e in tmpl["script"]["env"] if e["name"] == script.CODE_ENV)
    params = {p["name"]: p["value"] for p in manifest["spec"]["arguments"]["parameters"]}
    return pod.unpack_code(params[ref.removeprefix("{{workflow.parameters.").removesuffix("}}")])


def test_a_chain_of_int_functions_carries_no_model_plan_or_file_code(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cases

    spec, _ = cases.write_dag_case(tmp_path, "chain", 3)
    (compiled,) = heraspec.compile([str(spec)])
    assert_argo_valid(compiled.manifest)
    work = _templates(compiled.manifest)["work"]
    source, runtime = work["script"]["source"], _shared(compiled.manifest, work)["runtime"]
    for absent in ("def read_aggregate", "def read_item_field", "def rebuild", "model_validate", "def coerce_bool",
                   "def read_artifact", "def write_file_result", "VALUE_FILE", "def publish", "OUTPUTS_ENV",
                   "get_resource_reader", "pip"):
        assert absent not in runtime, absent
    # the script names the carried files and the digests of its code and of its part of the
    # runtime (the cache key follows them)
    assert "\n# your code: steps.py (sha256 " in source and "\n# the runtime's parts this template uses: sha256 " in source
    assert source.endswith("serve_carried_modules(shared)\nif __name__ == '__main__':\n    main('steps', 'work', {'i': 'int'})\n")
    assert script.carried_in(source) == ("", ["steps.py"])  # `heraspec run`'s cache reads its own modules' parts
    fn = heraspec.python.functions.resolve("steps:work", [str(tmp_path)])[0]
    whole = pod_source.cut(pod_source.defined_names())  # for any caller
    assert len(runtime) < 0.7 * len(whole)
    assert run_task(compiled.manifest, "t1", tmp_path / "t1", results={"t0": 0})[0] == 2
    assert run_dag(compiled.manifest, tmp_path / "dag") == {"t0": "0", "t1": "2", "t2": "4"}
    assert runtime == script.runtime_text(script.runtime_roots(fn, Needs(plans=frozenset(), artifact_inputs=False,
                                                                         results=frozenset({"parameter"}), publish=False)))


# The published budget (docs/DESIGN.md "The pod runtime", benchmarks/RESULTS.md), in compact JSON as
# the API server stores it: a template, for the diamond's `say` (a str in, a str out) and the largest
# template of the ML example; and the workflow's parameter holding the runtime its templates use and
# the carried code, once.
BUDGET = {"diamond.yaml": 1_350, "ml-pipeline.yaml": 1_900}
PARAMETER_BUDGET = {"diamond.yaml": 7_900, "ml-pipeline.yaml": 10_300}


@pytest.mark.parametrize("example", sorted(BUDGET))
def test_templates_stay_within_the_published_size_budget(example: str) -> None:
    (compiled,) = heraspec.compile([str(ROOT / "examples" / example)])
    sizes = {t["name"]: _compact(t) for t in compiled.manifest["spec"]["templates"] if "script" in t}
    assert max(sizes.values()) <= BUDGET[example], sizes
    code = [p for p in compiled.manifest["spec"]["arguments"]["parameters"] if p["name"].startswith(script.CODE_PARAM)]
    assert sum(_compact(p) for p in code) <= PARAMETER_BUDGET[example], [_compact(p) for p in code]


def test_the_diamonds_script_reads_as_written(tmp_path: Path) -> None:
    (compiled,) = heraspec.compile([str(ROOT / "examples" / "diamond.yaml")])
    say = _templates(compiled.manifest)["say"]
    # the template's script: a few lines saying where the runtime and the code are, then the calls
    source = say["script"]["source"]
    lines = source.splitlines()
    assert lines[0].startswith("# heraspec script for steps:say (steps.py)") and len(lines) <= 17
    assert "heraspec/python/pod" in source and "parameter heraspec-code" in source and "env HERASPEC_CODE" in source
    assert lines[-3:] == ["serve_carried_modules(shared)",
                          "if __name__ == '__main__':",
                          "    main('steps', 'say', {'msg': 'str'})"]
    assert _unused_imports(source) == set()
    # the runtime it runs, stored once in the workflow's parameter: python/pod's definitions as written
    runtime = _shared(compiled.manifest, say)["runtime"]
    assert all(n.col_offset % 4 == 0 for n in ast.walk(ast.parse(runtime)) if isinstance(n, ast.stmt))
    assert _unused_imports(runtime) == set() and _undefined_globals(runtime) == set()
    assert "# --- decoding inputs" in runtime and "# --- the entry point" in runtime
    text = "".join(path.read_text(encoding="utf-8") for path in pod_source.folder().glob("*.py"))
    tree = ast.parse(runtime)
    for node in tree.body:  # each definition exactly as pod.py writes it, or with a branch left out
        if isinstance(node, ast.FunctionDef) and node.name not in ("main", "write_value_result", "read_input",
                                                                     "serve_carried_modules", "refuse_unfit"):
            assert ast.get_source_segment(runtime, node) in text, node.name
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)].count("main") == 1
    bodies = [getattr(n, field) for n in ast.walk(tree) for field in ("body", "orelse", "finalbody")
              if isinstance(getattr(n, field, None), list)]
    assert not any(isinstance(stmt, (ast.Return, ast.Raise)) and stmt is not body[-1] for body in bodies for stmt in body)
    assert "def _heraspec" not in runtime
    assert run_dag(compiled.manifest, tmp_path / "dag")["D"] == "This is task D!"


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
    # the workflow's runtime, once: the union of what its templates' callers pass
    tmpl = _templates(compiled.manifest)
    runtime = _shared(compiled.manifest, tmpl["probe-ints"])["runtime"]
    assert {_shared(compiled.manifest, t)["runtime"] for t in tmpl.values() if "script" in t} == {runtime}
    for used in ("def read_aggregate", "def read_item_field", "def read_json_literal", "model_validate",
                 "def coerce_bool", "def publish"):
        assert used in runtime, used
    assert "def read_artifact" not in runtime and "def write_file_result" not in runtime
    # and cut to its templates' callers: a workflow of probe_ints, passed an aggregate only, and one of
    # probe_kinds, passed a literal written as JSON ("yes" for a bool)
    def runtime_of(*tasks: str) -> str:
        spec.write_text("name: part\ntasks:\n" + "".join(line + "\n" for line in SPEC.splitlines()
                                                          if line.strip().split(":")[0] in tasks), encoding="utf-8")
        (part,) = heraspec.compile([str(spec)])
        return pod.unpack_code(part.manifest["spec"]["arguments"]["parameters"][0]["value"])["runtime"]

    ints, kinds = runtime_of("nums", "agg-ints"), runtime_of("one", "kinds")
    assert "def read_aggregate" in ints and "def read_item_field" not in ints and "model_validate" not in ints
    assert "def read_json_literal" in kinds and "def read_aggregate" not in kinds and "def coerce_bool" in kinds
    assert "def coerce_list" not in kinds and "def publish" not in ints + kinds
    assert "model_validate" in runtime_of("points", "models") and "def publish" in runtime_of("rec", "key")


def test_a_workflows_runtime_is_in_its_manifest_once_not_once_per_template(tmp_path: Path) -> None:
    (compiled,) = heraspec.compile([str(_write(tmp_path))])
    manifest = compiled.manifest
    params = manifest["spec"]["arguments"]["parameters"]
    assert [p["name"] for p in params] == ["heraspec-code"]
    runtime = pod.unpack_code(params[0]["value"])["runtime"]
    assert "def main(" in runtime and "def read_aggregate(" in runtime and "def coerce_model(" in runtime
    scripts = [t for t in manifest["spec"]["templates"] if "script" in t]
    assert len(scripts) == 9
    for t in scripts:  # each template: a few lines reading it, none of its definitions
        source = t["script"]["source"]
        assert "\ndef " not in source and "\nclass " not in source and len(source.splitlines()) <= 17, t["name"]
        assert {"name": "HERASPEC_CODE", "value": "{{workflow.parameters.heraspec-code}}"} in t["script"]["env"]
    text = json.dumps(manifest)
    assert text.count(params[0]["value"]) == 1 and "def main(" not in text and "def decode(" not in text
    assert run_task(manifest, "rec", tmp_path / "rec")[0] == {"total": 3, "name": "r", "parts": [3, "x"]}


def test_a_traceback_through_the_workflows_runtime_shows_its_lines(tmp_path: Path) -> None:
    # the runtime runs from the workflow's parameter, not from a file: its lines still show
    (tmp_path / "steps.py").write_text("def boom(x: int) -> int:\n    raise ValueError(f'no {x}')\n")
    (tmp_path / "tb.yaml").write_text("name: tb\ntasks:\n  a: {function: steps:boom, args: {x: 3}}\n")
    (compiled,) = heraspec.compile([str(tmp_path / "tb.yaml")])
    tmpl = _templates(compiled.manifest)["boom"]
    env = {k: v.replace("{{inputs.parameters.x}}", "3") for k, v in pod_env(compiled.manifest, tmpl).items()}
    proc, _ = run_script(tmpl["script"]["source"], tmp_path / "pod", env)
    assert proc.returncode == 1
    assert 'File "<heraspec runtime>", line ' in proc.stderr and "    value = function(**kwargs)\n" in proc.stderr
    assert proc.stderr.rstrip().endswith('    raise ValueError(f\'no {x}\')\nValueError: no 3')


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
    for branch in ("def read_item_field", "def read_aggregate", 'plan == "str"', "def read_json_literal"):
        assert branch in probe
    assert "def read_aggregate" not in num and not any(p["name"] == script.PLAN_INPUT
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
    assert "def read_json_literal" in _shared(compiled.manifest, tmpl["renamed"])["runtime"]
    assert run_task(compiled.manifest, "p", tmp_path / "p")[0] == ["str", "42"]
