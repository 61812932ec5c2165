"""DAG tasks: each spec task (and exit handler) as an Argo DAG task calling its template, with its
arguments, fan-out, depends, when and hooks; a sub-pipeline as a DAG template.

`DagTasks` is one part of the compiler (compiler.Compiler): it calls the compiler's templates
(templates.TemplateBuilder) and plans (plans.ValuePlans).
"""

from __future__ import annotations

import json
from typing import Any

from ..check import dag
from ..check.compose import EXIT_KEY
from ..check.files import result_kind
from ..document.nodes import ExitHandler
from ..merge import merge_named
from ..python import script
from . import artifacts, scheduling
from .arguments import DEFAULT_MARKER, arg_value, encode, item_literal, ref_expr


class DagTasks:
    """The DAG's tasks; a part of compiler.Compiler."""

    def dag_task(self, name: str, t: dict) -> dict:
        fn = self.fns.get(name)
        result = result_kind(t, fn, {})  # `t` has the defaults applied
        # each child of a fanned-out producer of files writes under its item index (artifacts.py)
        # (a cached one writes each item's files under the item's memoize key: scheduling.item_files_key)
        keyed = result != "parameter" and not t.get("cache") and (
            isinstance(t.get("args"), list) or isinstance(t.get("foreach"), list))
        if keyed and isinstance(t.get("foreach"), list):
            t = {k: v for k, v in t.items() if k != "foreach"}
            t["args"] = artifacts.foreach_sets(self.data["tasks"][name].get("args"), self.data["tasks"][name]["foreach"])
        args = t.get("args")
        first = args if isinstance(args, dict) else args[0] if isinstance(args, list) and args else {}
        modes = artifacts.input_modes(first, fn, self.data["tasks"], self.fns, self.defaults,
                                      args if isinstance(args, list) else None) if fn else {}
        per_item = {k: m for k, m in modes.items() if m.per_item} if modes else {}
        task: dict[str, Any] = {"name": dag.argo_name(name)}
        ref = t.get("template_ref")
        if ref:  # Argo templateRef: a template of a WorkflowTemplate, called with its input parameters
            task["templateRef"] = {"name": ref["name"], "template": ref["template"]}
            if ref.get("cluster"):
                task["templateRef"]["clusterScope"] = True
        elif t.get("pipeline"):
            task["template"] = self.pipeline_template(name)
        else:
            task["template"] = self.template_for(name, t, modes, result, keyed)
        depends = self.depends(name, t)
        if depends:
            task["depends"] = depends
        params: list[dict] = []
        if ref or t.get("pipeline"):
            params = [{"name": k, "value": arg_value(v, self.resolve)} for k, v in (args or {}).items()]
            ref_plans = {k: p for k, v in (args or {}).items() if (p := self.value_plan(v))} if ref else {}
            # a heraspec function template takes it (finish_scripts); another ignores it (common.ProcessArgs
            # fills the template's declared inputs only)
            if ref_plans:
                params.append({"name": script.PLAN_INPUT, "value": json.dumps(ref_plans, sort_keys=True)})
        elif fn is None:
            for i, a in enumerate(args or []):
                if isinstance(a, (dict, list)) or (isinstance(a, str) and "{{" in a):
                    params.append({"name": f"arg{i}", "value": arg_value(a, self.resolve)})
        elif isinstance(args, list):  # fan out over argument sets
            # values shared by every set are plain arguments; only the varying ones travel as items
            shared = [p.name for p in fn.params if p.name in first and p.name not in modes and all(
                p.name in s and json.dumps(s[p.name], sort_keys=True) == json.dumps(first[p.name], sort_keys=True)
                for s in args)]
            varying = [p for p in fn.params if p.name not in shared and p.name not in modes and any(p.name in s for s in args)]
            items = []
            for i, s in enumerate(args):
                item: dict[str, Any] = {artifacts.INDEX_ITEM: i} if keyed else {}
                for k, m in per_item.items():  # each item's own file: its location and name
                    item.update(artifacts.Input("url", s[k], True).item_fields(k))
                for p in varying:
                    if p.name in s:
                        # a reference travels as its Argo expression, which Argo resolves inside items
                        item[p.name] = arg_value(s[p.name], self.resolve) if any(dag.refs_in(s[p.name], ())) \
                            else item_literal(s[p.name], p.annotation)
                    elif p.literal_default:
                        item[p.name] = json.loads(p.default) if p.annotation != "str" and _is_json(p.default) else p.default
                    else:
                        item[p.name] = DEFAULT_MARKER
                items.append(item)
            params = [{"name": k, "value": arg_value(first[k], self.resolve)} for k in shared]
            params += [{"name": p.name, "value": "{{item.%s}}" % p.name} for p in varying]
            params += [{"name": artifacts.file_param(k), "value": "{{item.heraspec_file_%s}}" % k} for k in per_item]
            if varying or per_item:
                task["withItems"] = items
            # with no varying value the sets are identical: run the task once per set all the same
            else:
                task["withItems"] = list(range(len(args)))
            if keyed:
                index = "{{item.%s}}" % artifacts.INDEX_ITEM if varying or per_item else "{{item}}"
                params.append({"name": artifacts.KEY_PARAM, "value": f"{artifacts.fanin_prefix(name)}/{index}"})
        elif modes:
            params = [{"name": k, "value": arg_value(v, self.resolve)} for k, v in (args or {}).items()
                      if k not in modes]
        else:
            resolve = self.resolve
            params = [{"name": k, "value": arg_value(v, resolve)} for k, v in (args or {}).items()]
        if fn is not None:
            plan, used = self.plans(t, fn, params, task.get("withItems") if isinstance(t.get("args"), list) else None)
            if used:
                params.append({"name": script.PLAN_INPUT, "value": plan})
                self.planned.setdefault(task["template"], set()).update(used)
        if params:
            if self.renamed:
                for p in params:
                    p["value"] = dag.translate_task_exprs(p["value"], self.renamed)
            task["arguments"] = {"parameters": params}
        if modes:
            task.setdefault("arguments", {})["artifacts"] = [a for k, m in modes.items() for a in artifacts.arguments(k, m)]
            if fn is not None and t.get("cache"):
                task["arguments"].setdefault("parameters", []).extend(
                    {"name": scheduling.files_param(k), "value": self.files_argument(k, m)} for k, m in modes.items())
        fe = t.get("foreach")
        if isinstance(fe, list):
            kinds = {p.name: p.annotation for p in fn.params} if fn is not None else {}
            uses = [kinds.get(p["name"]) for p in params if p["value"].startswith("{{item")]
            # Argo reads a str item's text as it is (operator.go processItem; a null item is a nil
            # list, marshalled `null`): write the items that would arrive as something else as
            # their JSON text, which the script decodes
            task["withItems"] = fe if fn is None or "str" in uses else [
                {k: item_literal(v, None) for k, v in x.items()} if isinstance(x, dict)
                else "null" if x is None else item_literal(x, None) for x in fe]
        elif isinstance(fe, dict):
            k = "from" if "from" in fe else next(iter(fe))
            task["withParam"] = ref_expr(k, fe[k], self.resolve, fe.get("key"))
        if t.get("continue_on") and not self.graph.deps:  # no depends in this DAG: Argo's own continueOn
            task["continueOn"] = {k: True for k in t["continue_on"]}
        if t.get("when"):
            task["when"] = dag.translate_task_exprs(t["when"], self.renamed)
        if t.get("on_exit"):  # Argo lifecycle hook `exit`: runs when this task ends, in the DAG's scope
            task["hooks"] = {"exit": self.exit_call(name + EXIT_KEY, self.spec.tasks[name].on_exit)}
        argo_task = (t.get("argo") or {}).get("task")
        return merge_named(task, argo_task) if argo_task else task

    def pipeline_template(self, name: str) -> str:
        """Another spec's DAG as a DAG template: its parameters are the template's inputs, its
        `result` task's result the template's `result` output; its templates join this manifest's."""
        sub = self.pipelines[name]
        data = sub.doc.data
        # each parameter read as the value passed (or its default) is: one template per way of reading
        args = self.data["tasks"][name].get("args") or {}
        param_plans = {k: plan for k, v in (data.get("parameters") or {}).items()
                       if (plan := self.value_plan(args[k] if k in args else v)) is not None}
        key = ("pipeline", sub.doc.path, tuple(sorted(param_plans.items())))
        if key in self.by_key:
            return self.by_key[key]
        child = type(self)(data, sub.functions, self.namespace, sub.graph, sub.pipelines, parent=self,
                          lock=getattr(sub, "lock", None), spec=getattr(sub, "spec", None),
                          published=getattr(sub, "published", None))
        child.param_plans = param_plans
        spec = child.spec
        dag_tasks = [child.dag_task(n, t.settings) for n, t in spec.tasks.items()]
        self.nested_names.update({dag.argo_name(n): n for n in spec.tasks if "_" in n})
        from pathlib import Path  # only here: compiling a spec without sub-pipelines never loads it

        base = spec.name or str(spec.generate_name or "") or Path(sub.doc.path).stem
        tmpl: dict[str, Any] = {"name": self.unique(base)}
        if spec.parameters:
            tmpl["inputs"] = {"parameters": [{"name": p.name, "default": encode(p.default)} for p in spec.parameters]}
        if spec.result:
            tmpl["outputs"] = {"parameters": [{"name": "result", "valueFrom": {"parameter": child.from_expr(spec.result)}}]}
        if spec.parallelism:
            tmpl["parallelism"] = spec.parallelism
        tmpl["dag"] = {"tasks": dag_tasks}
        self.templates.append(tmpl)
        self.by_key[key] = tmpl["name"]
        if spec.result and (returned := self.returns(name)) is not None:
            self.template_returns[tmpl["name"]] = returned
        return tmpl["name"]

    def exit_call(self, key: str, handler: ExitHandler) -> dict:
        """An exit handler as a template plus the arguments to call it with (its settings after
        `defaults`, without `cache`: nodes.ExitHandler)."""
        call = self.dag_task(key, dict(handler.settings))
        return {k: call[k] for k in ("template", "arguments") if k in call}

    def depends(self, name: str, t: dict) -> str:
        ups = self.graph.upstream(name)
        expr = t.get("depends")
        if expr:
            mentioned = {n for n, _r, _o in dag.depends_names(expr)}
            extra = [self.done(u) for u in ups if u not in mentioned]
            out = dag.translate_depends(expr, {u: self.done(u) for u in self.continue_on})
            return " && ".join([f"({out})" if extra else out] + extra)
        # no task continues on failure: `done` is each task's own name
        return " && ".join(map(self.done if self.continue_on else dag.argo_name, ups))

    def done(self, task: str) -> str:
        """`TASK` in a depends expression, widened by its `continue_on` as Argo widens a task with
        `continueOn` (ancestry.go expandDependency), since Argo refuses continueOn beside depends."""
        if task not in self.continue_on:  # the common case: the task's own name
            return dag.argo_name(task)
        name = dag.argo_name(task)
        results = ["Succeeded", "Skipped", "Daemoned"] + [r for k, r in (("error", "Errored"), ("failed", "Failed"))
                                                         if k in self.continue_on.get(task, ())]
        return name if len(results) == 3 else "(" + " || ".join(f"{name}.{r}" for r in results) + ")"


def _is_json(text: str | None) -> bool:
    try:
        json.loads(text or "")
        return True
    except ValueError:
        return False
