"""What Argo v4.1.2 cannot do is refused at `heraspec validate` (issue 27), with a located error and
a hint, instead of validating and then failing (or asking for the wrong thing) on the cluster."""

from __future__ import annotations

from pathlib import Path

from tests.cli import error_lines, in_process

STEPS = '''\
from pathlib import Path


def make() -> str:
    return "claim-a"


def use(x: str = "") -> str:
    return x


def report() -> Path:
    p = Path("report.txt")
    p.write_text("hi")
    return p


def value() -> int:
    return 1
'''


def spec_file(folder: Path, name: str, text: str, steps: str = STEPS) -> Path:
    """The spec `name` of `text` in `folder`, beside a steps.py of `steps`."""
    (folder / "steps.py").write_text(steps)
    (folder / name).write_text(text)
    return folder / name


def validate(capsys, spec: Path) -> tuple[int, str]:
    code, _, err = in_process(capsys, "validate", str(spec))
    return code, err


def refused(capsys, spec: Path) -> tuple[list[str], str]:
    """`heraspec validate SPEC` exits 1: its error lines, and all it printed (hints too)."""
    code, err = validate(capsys, spec)
    assert code == 1, err
    return error_lines(err), err


def test_a_task_output_cannot_name_a_workflow_volume(tmp_path: Path, capsys) -> None:
    # operator.go substituteGlobalVariables: spec.volumes is substituted with the global parameters
    # only (template.Replace, unresolved allowed), so the claim would be asked for literally
    spec = spec_file(tmp_path, "vol.yaml",
                     "name: vol\nparameters: {pvc: data}\ntasks:\n  make: {function: steps:make}\n"
                     "  use:\n    function: steps:use\n    after: [make]\n    resources:\n"
                     "      volumes:\n"
                     "        - {name: data, claim: \"{{tasks.make.outputs.parameters.result}}\", mount_path: /data}\n"
                     "        - {name: other, claim: \"{{workflow.parameters.pvc}}\", mount_path: /other}\n")
    lines, err = refused(capsys, spec)
    assert lines == [f"{spec}:10:32: error: '{{{{tasks.make.outputs.parameters.result}}}}' cannot name a claim: Argo "
                     "substitutes only global variables ({{workflow.parameters.NAME}}, {{workflow.name}}) in the "
                     "workflow's volumes, so the pod would ask for a PersistentVolumeClaim named literally "
                     "'{{tasks.make.outputs.parameters.result}}'"]
    assert "hint: name the claim in the spec or through a workflow parameter" in err


def test_a_sub_pipeline_whose_result_is_a_file_is_refused(tmp_path: Path, capsys) -> None:
    # a pipeline's DAG template publishes its result as outputs.parameters[result].valueFrom.parameter
    # (compiler pipeline_template); a file result is an artifact that parameter cannot name
    (tmp_path / "sub.yaml").write_text("name: sub\ntasks:\n  r: {function: steps:report}\nresult: r\n")
    (tmp_path / "sub2.yaml").write_text("name: sub2\ntasks:\n  v: {function: steps:value, result: artifact}\nresult: v\n")
    (tmp_path / "ok.yaml").write_text("name: ok\ntasks:\n  v: {function: steps:value}\nresult: v\n")
    spec = spec_file(tmp_path, "main.yaml",
                     "name: main\ntasks:\n  p: {pipeline: sub.yaml}\n  q: {pipeline: sub2.yaml}\n"
                     "  fine: {pipeline: ok.yaml}\n  use: {function: steps:use, args: {x: {from: fine}}}\n")
    lines, err = refused(capsys, spec)
    assert lines == [
        f"{tmp_path / 'sub.yaml'}:4:9: error: task 'r' returns a file (-> Path), so this spec cannot run as a "
        f"sub-pipeline (task 'p' of {spec}): Argo publishes a DAG template's result as an output parameter, "
        "which cannot name an artifact",
        f"{tmp_path / 'sub2.yaml'}:4:9: error: task 'v' sends its result as an artifact (result: artifact), so "
        f"this spec cannot run as a sub-pipeline (task 'q' of {spec}): Argo publishes a DAG template's result as "
        "an output parameter, which cannot name an artifact"]


def test_a_when_argo_refuses_whatever_its_tags_hold_is_refused_at_validate(tmp_path: Path, capsys) -> None:
    # workflow/controller/steps.go shouldExecute over govaluate (NewEvaluableExpression: parseTokens,
    # checkExpressionSyntax; then the VARIABLE->STRING turn and Evaluate): a literal `when` is
    # evaluated whole, one with {{…}} tags is lexed and parsed with each tag as a number and a word
    spec = spec_file(tmp_path, "when.yaml",
                     "name: when\ntasks:\n  make: {function: steps:make}\n"
                     "  dotted: {function: steps:value, after: [make],"
                     " when: \"{{tasks.make.outputs.result}} == model.pkl\"}\n"
                     "  under: {function: steps:value, when: \"_x == y\"}\n"
                     "  number: {function: steps:value, when: \"5\"}\n"
                     "  open: {function: steps:value, after: [make], when: \"'{{tasks.make.outputs.result}}' == 'a\"}\n"
                     # these run (or are decided at run time) on Argo: not refused
                     "  fine: {function: steps:value, after: [make], when: \"{{tasks.make.outputs.result}} == claim-a\"}\n"
                     "  negated: {function: steps:value, after: [make], when: \"-{{tasks.make.outputs.result}} < 0\"}\n"
                     "  joined: {function: steps:value, after: [make],"
                     " when: \"{{tasks.make.outputs.result}}.{{tasks.make.outputs.result}} == x\"}\n"
                     "  literal: {function: steps:value, when: \"'2024-01-31' < '2024-02-01' && abc != abd\"}\n")
    lines, err = refused(capsys, spec)
    assert lines == [
        f"{spec}:4:56: error: Argo refuses this when: Invalid 'when' expression '{{{{tasks.make.outputs.result}}}} == "
        "model.pkl': Unable to access unexported field 'pkl' in token 'model.pkl'",
        f"{spec}:5:40: error: Argo refuses this when: Invalid 'when' expression '_x == y': Invalid token: '_' "
        "(hint: try wrapping the affected expression in quotes (\"))",
        f"{spec}:6:41: error: Argo refuses this when: Expected boolean evaluation for '5'. Got 5",
        f"{spec}:7:54: error: Argo refuses this when: Invalid 'when' expression ''{{{{tasks.make.outputs.result}}}}' "
        "== 'a': Unclosed string literal"]
    assert "hint: quote a value holding '.', a leading '_' or other symbols: 'model.pkl' == x; this fails " \
           "whatever the {{…}} tags become (each tried as a number and as a word)" in err
    assert "hint: write an expression that gives true or false" in err


def test_expression_tags_are_refused_before_the_run_starts(tmp_path: Path, capsys) -> None:
    # Argo's controller evaluates {{=…}} with expr-lang (util/template expressionReplace); heraspec run
    # does not, so it refuses the workflow before any task runs (never after the work upstream ran)
    touch = '''

def touch(x: str = "") -> str:
    open("ran", "w").write("yes")
    return x
'''
    spec = spec_file(tmp_path, "expr.yaml", steps=STEPS + touch,
                     text="name: expr\ntasks:\n  a: {function: steps:touch}\n"
                     "  b: {function: steps:use, after: [a], args: {x: \"{{=asInt(tasks.a.outputs.parameters.result) + 1}}\"}}\n"
                     "  c: {function: steps:use, after: [a], when: \"{{= tasks.a.outputs.parameters.result == 'x'}}\"}\n")
    assert validate(capsys, spec)[0] == 0  # Argo runs it: validate and compile accept it
    code, _, err = in_process(capsys, "run", str(spec), "--workdir", str(tmp_path / "run"))
    assert code == 1
    assert "heraspec run does not evaluate Argo's expression tags {{=…}} (expr-lang: sprig, asInt, jsonpath...), " \
           "so this workflow is not run (nothing was started):\n" \
           "  template 'main', task 'b', arguments.parameters[0].value: " \
           "{{=asInt(tasks.a.outputs.parameters.result) + 1}}\n" \
           "  template 'main', task 'c', when: {{= tasks.a.outputs.parameters.result == 'x'}}\n" \
           "write them with plain {{…}} variables and a govaluate `when`, or run the workflow on a cluster " \
           "(heraspec apply)" in err
    assert not list(tmp_path.rglob("ran"))  # task a never ran
