"""Property-based tests over the spec language (hypothesis; strategies in tests/strategies.py).

- Every generated valid spec, written as YAML and as TOML, validates, compiles to the same manifest
  from both formats, and that manifest is strict-valid Argo with Argo's own rules the schema misses
  (names, `{{tasks.X}}` only from ancestors, no `{{` in script sources, volume names).
- Generated specs over trivial functions run locally to Succeeded, and every function task returns
  exactly what the documented passing rules predict (fan-outs: the list of their children's results).
- Mutated specs (lines deleted, swapped or re-indented, keys renamed, wrong types, junk, truncation,
  byte flips) always end in located errors and exit 1 (or are still valid and then compile to
  strict-valid Argo): never a traceback, never exit 3.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heraspec.check.rules import manifest_problems
from heraspec.cli import main
from heraspec.check.dag import argo_name
from heraspec.errors import Errors, read_note
from heraspec.pipeline import build
from heraspec.local.runner import run_workflow
from tests.argo_schema import assert_argo_valid
from tests.strategies import SECRET_ENV, STEPS_SOURCE, Generated, mutations, specs, to_toml, to_yaml

pytestmark = pytest.mark.slow  # thousands of generated specs

# Budgets: the whole of this file stays around a minute on a 2-core machine.
COMPILE_EXAMPLES = 300  # each: YAML + TOML, validate, compile, strict Argo check
RUN_EXAMPLES = 50  # each runs a workflow (a subprocess per task)
MUTATION_EXAMPLES = int(os.environ.get("HERASPEC_MUTATIONS", 1500))  # each: one `heraspec validate` in-process

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                      HealthCheck.filter_too_much])
ARGO_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_counter = itertools.count()


@pytest.fixture(scope="module")
def project():
    with tempfile.TemporaryDirectory(prefix="heraspec-props-") as d:
        (Path(d) / "steps.py").write_text(STEPS_SOURCE)
        yield Path(d)


def write(project: Path, text: str | bytes, suffix: str) -> Path:
    path = project / f"spec{next(_counter)}.{suffix}"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def compile_one(path: Path) -> dict:
    errors = Errors()
    compiled = build([str(path)], errors)
    assert not errors, errors.format() + "\n---\n" + path.read_text(encoding="utf-8", errors="replace")
    (c,) = compiled
    return c.manifest


def workflow_spec(manifest: dict) -> dict:
    spec = manifest["spec"]
    return spec["workflowSpec"] if manifest["kind"] == "CronWorkflow" else spec


def check_argo_rules(manifest: dict) -> None:
    """What Argo's controller checks beyond its JSON Schema, for what heraspec generates."""
    assert_argo_valid(manifest)
    assert not manifest_problems(manifest), manifest_problems(manifest)
    spec = workflow_spec(manifest)
    templates = {t["name"]: t for t in spec["templates"]}
    assert len(templates) == len(spec["templates"]), "template names must be unique"
    (dag,) = [t["dag"] for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    tasks = {t["name"]: t for t in dag["tasks"]}
    assert len(tasks) == len(dag["tasks"]), "DAG task names must be unique"
    parents: dict[str, set[str]] = {}
    for name, t in tasks.items():
        assert ARGO_NAME.match(name) and len(name) <= 128, name
        assert t["template"] in templates
        parents[name] = set(re.findall(r"[A-Za-z0-9][-A-Za-z0-9]*", re.sub(r"\.[A-Za-z]+", "", t.get("depends", ""))))
        assert parents[name] <= set(tasks), t.get("depends")

    def ancestors(name: str, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        for p in parents[name] - seen:
            seen.add(p)
            ancestors(p, seen)
        return seen

    for name, t in tasks.items():
        text = repr({k: t.get(k) for k in ("arguments", "withItems", "withParam", "when")})
        used = set(re.findall(r"\{\{tasks\.([-A-Za-z0-9]+)\.", text))
        assert used <= ancestors(name), f"task {name} reads {used - ancestors(name)} which do not run before it"
    for t in templates.values():
        assert ARGO_NAME.match(t["name"]) and len(t["name"]) <= 128
        if "script" in t:
            assert "{{" not in t["script"]["source"]
        for m in (t.get("script") or t.get("container") or {}).get("volumeMounts", []):
            assert DNS_LABEL.match(m["name"]) and len(m["name"]) <= 63, f"volume name {m['name']!r}"
    for v in spec.get("volumeClaimTemplates", []) + spec.get("volumes", []):
        name = (v.get("metadata") or v)["name"]
        assert DNS_LABEL.match(name) and len(name) <= 63, f"volume name {name!r}"


# --- valid specs compile, identically from YAML and TOML ---------------------------------------


@settings(max_examples=COMPILE_EXAMPLES, **SETTINGS)
@given(gen=specs())
def test_valid_specs_compile_to_strict_argo_from_yaml_and_toml(project, gen: Generated):
    from_yaml = compile_one(write(project, to_yaml(gen.data), "yaml"))
    from_toml = compile_one(write(project, to_toml(gen.data), "toml"))
    check_argo_rules(from_yaml)
    assert from_toml == from_yaml


@settings(max_examples=COMPILE_EXAMPLES // 3, **SETTINGS)
@given(gen=specs(), flow_depth=st.integers(0, 3), crlf=st.booleans(), bom=st.booleans())
def test_yaml_layout_bom_and_line_endings_do_not_change_the_manifest(project, gen: Generated, flow_depth, crlf, bom):
    reference = compile_one(write(project, to_yaml(gen.data), "yaml"))
    text = to_yaml(gen.data, flow_depth=flow_depth)
    raw = (text.replace("\n", "\r\n") if crlf else text).encode()
    assert compile_one(write(project, (b"\xef\xbb\xbf" if bom else b"") + raw, "yaml")) == reference
    toml = to_toml(gen.data)
    raw = (toml.replace("\n", "\r\n") if crlf else toml).encode()
    assert compile_one(write(project, (b"\xef\xbb\xbf" if bom else b"") + raw, "toml")) == reference


# --- and run, with exactly the predicted results -----------------------------------------------


@pytest.fixture(scope="module")
def secret_env():
    saved = {k: os.environ.get(k) for k in SECRET_ENV}
    os.environ.update(SECRET_ENV)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run_and_check(project: Path, gen: Generated) -> None:
    manifest = compile_one(write(project, to_yaml(gen.data), "yaml"))
    result = run_workflow(manifest, workdir=project / f"run{next(_counter)}", parallelism=4)
    failed = {k: (t.phase, t.message) for k, t in result.tasks.items() if t.phase != "Succeeded"}
    assert result.phase == "Succeeded", failed
    for name, want in gen.expected.items():
        got = result.tasks[argo_name(name)].result
        assert got == want, f"task {name}: expected {want!r}, got {got!r}\n{to_yaml(gen.data)}"


@settings(max_examples=RUN_EXAMPLES, **SETTINGS)
@given(gen=specs(max_tasks=5))
def test_generated_specs_run_locally_with_the_predicted_results(project, secret_env, gen: Generated):
    run_and_check(project, gen)


def test_references_that_vary_across_argument_sets_are_resolved(project, secret_env):
    """Found by the property above: a {from}/{param} differing between argument sets reached the
    function as the literal mapping {'from': 'A'}."""
    data = {"name": "sets", "parameters": {"p": [1, 2]}, "tasks": {
        "A": {"function": "steps:make_list", "args": {"n": 3}},
        "B": {"function": "steps:pair", "args": [{"a": {"from": "A"}}, {"a": {"param": "p"}}, {"a": [0, {"from": "A"}]},
                                                  {"a": "text", "b": {"param": "p"}}]}}}
    run_and_check(project, Generated(data, {"A": [0, 1, 2], "B": [[[0, 1, 2], None], [[1, 2], None],
                                                                  [[0, [0, 1, 2]], None], ["text", [1, 2]]]}))


# --- broken specs: located errors, exit 1, nothing else ----------------------------------------

LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$")


def validate_in_process(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    return code, out.getvalue(), err.getvalue()


def assert_located_errors(path: Path, code: int, out: str, err: str) -> None:
    assert code in (0, 1), f"exit {code}:\n{err}"
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:  # nothing but located notes (a valid spec may have some: errors.note)
        assert out == f"{path}: ok\n" and all((read_note(line) or ("",))[0] == str(path) for line in err.splitlines()), err
        return
    lines = err.splitlines()
    assert out == "" and lines, err
    count = re.fullmatch(r"(\d+) errors?", lines[-1])
    assert count, f"last line is not the count: {lines[-1]!r}"
    n_lines = max(1, path.read_bytes().count(b"\n") + 1)
    errors = 0
    for line in lines[:-1]:
        if line.startswith("  hint: "):
            continue
        m = LINE.match(line)
        assert m, f"not a located error line: {line!r}\n{err}"
        assert m["file"] == str(path)
        assert 1 <= int(m["line"]) <= n_lines and int(m["col"]) >= 1, line
        errors += 1
    assert errors == int(count[1])


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CORPUS = sorted((p.suffix[1:], p.read_text(encoding="utf-8")) for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".toml"))


@pytest.fixture(scope="module")
def corpus_dir(project):
    """The examples' function modules beside mutated copies of the examples."""
    import shutil

    d = project / "corpus"
    d.mkdir()
    shutil.copy(EXAMPLES / "steps.py", d)
    shutil.copytree(EXAMPLES / "mlpipe", d / "mlpipe")
    return d


@settings(max_examples=MUTATION_EXAMPLES, **SETTINGS)
@given(source=st.one_of(st.sampled_from(CORPUS), st.tuples(st.sampled_from(["yaml", "toml"]), specs(max_tasks=3))),
       data=st.data())
def test_mutated_specs_end_in_located_errors(project, corpus_dir, source, data):
    fmt, base = source
    if isinstance(base, Generated):  # a generated spec (half the time), else one of the examples
        text, folder = (to_yaml(base.data) if fmt == "yaml" else to_toml(base.data)), project
    else:
        text, folder = base, corpus_dir
    broken = data.draw(mutations(text), label="mutated")
    path = write(folder, broken, fmt)
    code, out, err = validate_in_process(path)
    assert_located_errors(path, code, out, err)
    if code == 0:  # still valid: it must compile, to strict-valid Argo unless the raw `argo:` escape
        manifest = compile_one(path)  # hatch (passed through as written, by design) was changed
        if b"argo" not in broken or broken.replace(b"\r\n", b"\n") == text.encode():
            check_argo_rules(manifest)
