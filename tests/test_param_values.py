"""A value reaches a function the same way whatever path it takes (issue 25): the str "42" passed
directly, through one and two levels of sub-pipeline, through a WorkflowTemplate called by
templateRef, and as a workflow parameter set with `-p`, arrives as the str '42' at an unannotated
parameter, and the int 42 as the int. Checked through `heraspec run` and through the compiled
scripts executed as Argo's executor runs them (nested DAG templates resolved here, apart from the
runner: a template's inputs from its caller's arguments, else their defaults)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import heraspec
from tests.argo_exec import argo_aggregate, argo_item, argo_item_field, run_script, substitute, workflow_spec
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as heraspec_cli

STEPS = '''\
def echo(v):
    return [type(v).__name__, v]


def typed(v: str):
    return [type(v).__name__, v]


def say(v) -> str:
    return str(v)
'''

FILES = {
    "inner.yaml": """\
name: inner
parameters: {n: "0"}
result: e
tasks:
  e: {function: steps:echo, args: {v: {param: n}}}
""",
    "said.yaml": """\
name: said
parameters: {n: "0"}
result: s
tasks:
  s: {function: steps:say, args: {v: {param: n}}}
""",
    "middle.yaml": """\
name: middle
parameters: {m: "0"}
result: s
tasks:
  s: {pipeline: inner.yaml, args: {n: {param: m}}}
""",
    "top.yaml": """\
name: top
parameters: {p: "7", q: 5}
tasks:
  direct: {function: steps:echo, args: {v: "42"}}
  one: {pipeline: inner.yaml, args: {n: "42"}}
  two: {pipeline: middle.yaml, args: {m: "42"}}
  as_int: {pipeline: inner.yaml, args: {n: 42}}
  param: {function: steps:echo, args: {v: {param: p}}}
  param_one: {pipeline: inner.yaml, args: {n: {param: p}}}
  param_two: {pipeline: middle.yaml, args: {m: {param: p}}}
  int_param: {pipeline: inner.yaml, args: {n: {param: q}}}
  typed: {function: steps:typed, args: {v: {param: p}}}
  sets: {function: steps:echo, args: [{v: {param: p}}, {v: {param: p}}]}
  said: {pipeline: said.yaml, args: {n: "42"}}
  from_said: {function: steps:echo, args: {v: {from: said}}}
""",
    "lib.yaml": """\
kind: WorkflowTemplate
name: lib
parameters: {p: "0"}
tasks:
  e: {function: steps:echo, args: {v: {param: p}}}
  s: {pipeline: inner.yaml, args: {n: {param: p}}}
  t: {function: steps:typed, args: {v: "x"}}
""",
    "caller.yaml": """\
name: caller
parameters: {p: "7"}
tasks:
  whole: {template_ref: {name: lib, template: main}}
  fn: {template_ref: {name: lib, template: echo}, args: {v: "42"}}
  fn_param: {template_ref: {name: lib, template: echo}, args: {v: {param: p}}}
  fn_int: {template_ref: {name: lib, template: echo}, args: {v: 42}}
  fn_typed: {template_ref: {name: lib, template: typed}, args: {v: "42"}}
""",
}

S42, I42 = ["str", "42"], ["int", 42]
TOP = {"direct": S42, "one": S42, "two": S42, "as_int": I42, "param": S42, "param_one": S42, "param_two": S42,
       "int_param": ["int", 5], "typed": S42, "sets": [S42, S42], "from_said": S42}  # (said's own result: a str)
CALLER = {"whole.e": S42, "whole.s": S42, "whole.t": ["str", "x"], "fn": S42, "fn_param": S42, "fn_int": I42, "fn_typed": S42}


def project(tmp_path: Path) -> Path:
    (tmp_path / "steps.py").write_text(STEPS, encoding="utf-8")
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def run_locally(folder: Path, spec: str, *extra: str) -> dict[str, Any]:
    workdir = folder / f"run-{len(list(folder.glob('run-*')))}"
    proc = heraspec_cli("run", spec, "--json", "--workdir", str(workdir), *extra, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = {}

    def walk(tasks: list | dict) -> None:
        for name, t in (tasks.items() if isinstance(tasks, dict) else ((c["name"], c) for c in tasks)):
            if t.get("children") and "(" not in t["children"][0]["name"]:  # a sub-pipeline's tasks, not a fan-out's
                walk(t["children"])
            elif "result" in t:
                out[name] = t["result"]

    walk(json.loads(proc.stdout)["tasks"])
    return out


class ArgoExecutor:
    """Nested DAGs as Argo's controller resolves them: a called template's inputs are its caller's
    arguments, else their defaults (an argument it does not declare is ignored, as
    common.ProcessArgs substitutes declared inputs only); `{{workflow.parameters.X}}` is the
    running workflow's everywhere, also inside templates called by templateRef; scripts run alone
    in an empty folder with `python -I`."""

    def __init__(self, manifest: dict, folder: Path, library: list[dict] = (), parameters: dict | None = None):
        spec = workflow_spec(manifest)
        self.templates = {t["name"]: t for t in spec["templates"]}
        self.library = {m["metadata"]["name"]: {t["name"]: t for t in m["spec"]["templates"]} for m in library}
        self.workflow = {f"workflow.parameters.{p['name']}": (parameters or {}).get(p["name"], p["value"])
                         for p in spec.get("arguments", {}).get("parameters", [])}
        self.folder, self.entry, self.results = folder, spec["entrypoint"], {}

    def run(self) -> dict[str, Any]:
        """Each script's and each fan-out's result (its aggregate), by task path (`a.b`, `a(0)`)."""
        self.call(self.templates[self.entry], self.templates, {}, "")
        return {k: json.loads(v) for k, v in self.results.items() if "(" not in k}

    def call(self, tmpl: dict, scope_templates: dict, args: dict[str, str], path: str) -> str | None:
        inputs = {}
        for p in tmpl.get("inputs", {}).get("parameters", []):
            assert p["name"] in args or "default" in p, f"input {p['name']} of {tmpl['name']} has no value"
            inputs[f"inputs.parameters.{p['name']}"] = args.get(p["name"], p.get("default"))
        scope = {**self.workflow, **inputs}
        if "script" in tmpl:
            env = {e["name"]: substitute(e["value"], scope) for e in tmpl["script"].get("env", []) if "value" in e}
            proc, result = run_script(tmpl["script"]["source"], self.folder / path.replace(".", "/"), env)
            assert proc.returncode == 0, proc.stderr
            text = result.read_text(encoding="utf-8").removesuffix("\n")
            self.results[path] = text
            return text
        done: dict[str, str] = {}
        tasks = tmpl["dag"]["tasks"]
        while len(done) < len(tasks):
            for t in tasks:
                deps = re.findall(r"[A-Za-z0-9][-A-Za-z0-9]*", t.get("depends", ""))
                if t["name"] in done or not all(d in done for d in deps):
                    continue
                results = {f"tasks.{k}.outputs.parameters.result": v for k, v in done.items() if v is not None}
                ref = t.get("templateRef")
                templates = self.library[ref["name"]] if ref else scope_templates
                callee = templates[ref["template"] if ref else t["template"]]
                where = f"{path}.{t['name']}".lstrip(".")
                texts = []
                for i, item in enumerate(t.get("withItems", [None])):  # literal items only
                    items = {} if item is None else {"item": argo_item(item), **{
                        f"item.{k}": argo_item_field(v) for k, v in (item.items() if isinstance(item, dict) else ())}}
                    given = {a["name"]: substitute(a["value"], {**scope, **results, **items})
                             for a in t.get("arguments", {}).get("parameters", [])}
                    texts.append(self.call(callee, templates, given, where + (f"({i})" if item is not None else "")))
                done[t["name"]] = argo_aggregate(texts) if "withItems" in t else texts[0]
                if "withItems" in t:
                    self.results[where] = done[t["name"]]
        out = (tmpl.get("outputs") or {}).get("parameters") or []
        return substitute(out[0]["valueFrom"]["parameter"], {**scope, **{f"tasks.{k}.outputs.parameters.result": v
                                                                          for k, v in done.items()}}) if out else None


def compiled(folder: Path, spec: str) -> dict:
    (out,) = heraspec.compile([str(folder / spec)])
    assert_argo_valid(out.manifest)
    return out.manifest


def test_a_str_reaches_a_function_as_the_same_str_through_sub_pipelines_and_parameters(tmp_path: Path) -> None:
    folder = project(tmp_path)
    want = {k if "_" not in k else k.replace("_", "-"): v for k, v in TOP.items()}
    local = run_locally(folder, "top.yaml", "-p", "p=42")
    assert {k.split(".")[0].replace("_", "-"): v for k, v in local.items() if k != "said.s"} == want
    assert local["said.s"] == "42"
    manifest = compiled(folder, "top.yaml")
    argo = ArgoExecutor(manifest, tmp_path / "argo", parameters={"p": "42"}).run()
    assert {k.split(".")[0]: v for k, v in argo.items() if k != "said.s"} == want
    # a parameter's declared value reads the same way without -p: the str "7"
    assert run_locally(folder, "top.yaml")["param"] == ["str", "7"]
    # one sub-pipeline template per way its parameters are read: "42" and 42 both arrive exactly
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert names.count("inner") == 1 and "inner-2" in names


def test_a_str_returned_by_a_template_called_by_template_ref_reaches_its_reader_as_the_same_str(tmp_path: Path) -> None:
    # the same str "42" returned by a function task of this spec reaches `echo` as the str (TOP's
    # `from_said`); returned by the same function called through templateRef it must too, and so
    # must a sub-pipeline template's (`said`: its `result:` task returns str)
    folder = project(tmp_path)
    (folder / "ref.yaml").write_text("name: ref\ntasks:\n"
                                     "  said: {template_ref: {name: lib, template: say}, args: {v: \"42\"}}\n"
                                     "  use: {function: steps:echo, args: {v: {from: said}}}\n"
                                     "  piped: {template_ref: {name: lib, template: said}, args: {n: \"42\"}}\n"
                                     "  use_piped: {function: steps:echo, args: {v: {from: piped}}}\n", encoding="utf-8")
    (folder / "lib.yaml").write_text(FILES["lib.yaml"] + "  s2: {function: steps:say, args: {v: x}}\n"
                                     "  s3: {pipeline: said.yaml, args: {n: x}}\n", encoding="utf-8")
    local = run_locally(folder, "ref.yaml", "--templates", "lib.yaml")
    assert (local["use"], local["use_piped"]) == (S42, S42)
    # compiled together, as `heraspec compile ref.yaml lib.yaml` does: the pods read it the same way
    ref, lib = heraspec.compile([str(folder / "ref.yaml"), str(folder / "lib.yaml")])
    assert_argo_valid(ref.manifest)
    argo = ArgoExecutor(ref.manifest, tmp_path / "argo", [lib.manifest]).run()
    assert (argo["use"], argo["use-piped"]) == (S42, S42)
    assert (lib.returns["say"], lib.returns["said"]) == ("str", "str")
    # a template known only to the cluster stays unknown: its result is read by its text (no plan)
    use = next(t for t in workflow_spec(compiled(folder, "ref.yaml"))["templates"][0]["dag"]["tasks"] if t["name"] == "use")
    assert [p["name"] for p in use["arguments"]["parameters"]] == ["v"]


def test_a_str_reaches_a_workflow_template_called_by_template_ref_as_the_same_str(tmp_path: Path) -> None:
    folder = project(tmp_path)
    local = run_locally(folder, "caller.yaml", "--templates", "lib.yaml", "-p", "p=42")
    assert {".".join(k.split(".")[:2]): v for k, v in local.items()} == CALLER
    lib = compiled(folder, "lib.yaml")
    argo = ArgoExecutor(compiled(folder, "caller.yaml"), tmp_path / "argo", [lib], {"p": "42"}).run()
    assert {".".join(k.split(".")[:2]).replace("-", "_"): v for k, v in argo.items()} == CALLER
    # an annotated parameter keeps reading by its annotation: `typed` takes no plan
    typed = next(t for t in lib["spec"]["templates"] if t["name"] == "typed")
    assert [p["name"] for p in typed["inputs"]["parameters"]] == ["v"]


def test_a_workflow_template_reading_another_templates_str_result_reads_it_as_the_str(tmp_path: Path) -> None:
    # `outer` calls `lib`'s `say` by templateRef and is given first, so it is compiled before `lib`
    # is known: the library compiles it again once every template's returns are
    folder = project(tmp_path)
    (folder / "lib.yaml").write_text(FILES["lib.yaml"] + "  s2: {function: steps:say, args: {v: x}}\n", encoding="utf-8")
    (folder / "outer.yaml").write_text("kind: WorkflowTemplate\nname: outer\ntasks:\n"
                                       "  r: {template_ref: {name: lib, template: say}, args: {v: \"42\"}}\n"
                                       "  u: {function: steps:echo, args: {v: {from: r}}}\n", encoding="utf-8")
    (folder / "whole.yaml").write_text("name: whole\ntasks:\n  w: {template_ref: {name: outer, template: main}}\n",
                                       encoding="utf-8")
    local = run_locally(folder, "whole.yaml", "--templates", "outer.yaml", "--templates", "lib.yaml")
    assert local["w.u"] == S42
    outer, lib = heraspec.compile([str(folder / "outer.yaml"), str(folder / "lib.yaml")])
    assert_argo_valid(outer.manifest)
    argo = ArgoExecutor(compiled(folder, "whole.yaml"), tmp_path / "argo", [outer.manifest, lib.manifest]).run()
    assert argo["w.u"] == S42
