"""Exact values: how the consumer's script reads each input (its plan, see pod.read_input), from the
producers, the graph and the parameters the compiler knows.

`ValuePlans` is one part of the compiler (compiler.Compiler): it reads the compiler's `spec`, `data`,
`fns`, `pipelines`, `ref_returns` and `param_plans`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..check import dag
from ..python import functions, script

_ITEM_KEY = re.compile(r"\{\{item\.[^{}]+\}\}")
PLAN_ITEM = "heraspec_plan"  # the item key holding an argument set's own plans (see ValuePlans.plans)
_RAW_PARAM = re.compile(r"\{\{workflow\.parameters\.([-\w.]+)\}\}")
_RAW_RESULT = re.compile(r"\{\{\s*tasks\.([A-Za-z0-9_-]+)\.outputs\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")


class ValuePlans:
    """How each input reads in the consumer's script; a part of compiler.Compiler."""

    def aggregated(self, name: str) -> bool:
        """A consumer reads task `name`'s outputs as Argo's aggregate of its children (a JSON list):
        it has a non-empty `foreach` or a list of argument sets."""
        t = self.spec.tasks.get(name)
        return t is not None and (bool(t.foreach) or t.args_listed)

    def spec_task(self, argo_task: str) -> str | None:
        for n in self.data["tasks"]:
            if n == argo_task or dag.argo_name(n) == argo_task:
                return n
        return None

    def returns(self, name: str) -> str | None:
        """The return annotation of task `name`'s result: its function's, or a sub-pipeline task's
        `result:` task's (nested ones followed; a fanned-out one's aggregate has none), or a
        template_ref task's template's, when the batch defines it (`ref_returns`)."""
        fns, pipelines, tasks = self.fns, self.pipelines, self.data.get("tasks")
        for _ in range(100):  # sub-pipelines nest at most 97 deep (validate)
            if fns.get(name) is not None:  # Optional[str]: None is a result too, so the texts are not all strs
                fn = fns[name]
                return fn.returns_annotation if not fn.returns_none else f"{fn.returns_annotation} | None"
            sub = pipelines.get(name)
            if sub is None:
                body = tasks.get(name) if self.ref_returns and isinstance(tasks, dict) else None
                ref = body.get("template_ref") if isinstance(body, dict) else None
                if isinstance(ref, dict):
                    return self.ref_returns.get((bool(ref.get("cluster")), ref.get("name"), ref.get("template")))
                return None
            data = sub.doc.data
            name = data.get("result")
            inner = (data.get("tasks") or {}).get(name) if isinstance(name, str) else None
            if not isinstance(inner, dict) or inner.get("foreach") or isinstance(inner.get("args"), list):
                return None
            fns, pipelines, tasks = sub.functions, sub.pipelines, data.get("tasks")
        return None

    def plans(self, t: dict, fn: functions.Function, params: list[dict], items: list | None) -> tuple[str, set[str]]:
        """Per parameter, what its text is when the script could not tell by itself (see
        pod.read_input): a fanned-out task's aggregate, a str result, or a str literal
        whose text would read as JSON (the str "42"). Returns the `heraspec-plan` argument (a JSON
        object, or the item's own where argument sets differ: `items` are their withItems) and
        every plan it may carry."""
        kinds: dict[str, str | None] | None = None
        args = t.get("args")
        plans: dict[str, str] = {}
        per_set: dict[str, list[str]] = {}  # an argument-set fan-out's item parameter: each set's plan
        first = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        written = args if isinstance(args, dict) else first
        for entry in params:
            name, value = entry["name"], entry["value"]
            if "{{" not in value and not isinstance(written.get(name), (str, dict)):
                continue  # a literal number, bool, null or list: no branch below applies (the common case)
            if kinds is None:
                kinds = {p.name: p.annotation for p in fn.params}
                boundary = functions.boundary_kinds(fn)
            kind = kinds.get(name)
            # the script reads the text "null" as None for an unannotated parameter and for an Optional[str]
            # (pod.main): a value known to be a str is marked "str" for both
            as_str = kind is None or boundary.get(name) == "str | None"
            m = _RAW_RESULT.fullmatch(value) if "{{" in value else None
            producer = self.spec_task(m.group(1)) if m else None
            result = m is not None and m.group(2) == "result"
            if producer is not None and not result and not self.aggregated(producer) and kind is not None:
                plans[name] = "json"  # a named output is JSON: a str-annotated consumer gets the str
                continue
            if producer is not None and self.aggregated(producer):
                plans[name] = "agg:str" if result and self.returns(producer) == "str" else "agg"
            elif producer is not None and result and as_str and self.returns(producer) == "str":
                plans[name] = "str"
            elif value == "{{item}}" and as_str and (self.item_kind(t) == "str" or kind == "str" and isinstance(
                    t.get("foreach"), list) and all(isinstance(x, str) for x in t["foreach"])):
                plans[name] = "str"  # (literal items reach an Optional[str] as written: "null" is the str)
            elif as_str and kind == "str" and (raw := _RAW_PARAM.fullmatch(value)) and \
                    self.param_plans.get(raw.group(1)) == "str":
                plans[name] = "str"  # a str parameter written as Argo's own expression
            elif "{{" in value and _ITEM_KEY.fullmatch(value):
                if isinstance(args, list) and items is not None and value == "{{item.%s}}" % name:
                    per_set[name] = [self.set_plan(s.get(name) if isinstance(s, dict) else None, as_str) for s in args]
                elif as_str and kind == "str" and isinstance(fe := t.get("foreach"), list) and all(
                        isinstance(x, dict) and isinstance(x.get(value[7:-2]), str) for x in fe):
                    plans[name] = "item+str"  # literal items' str fields reach an Optional[str] as written
                else:
                    plans[name] = "item"
            elif dag.is_ref(whole := (args if isinstance(args, dict) else first).get(name)) and "param" in whole:
                plan = self.param_plans.get(whole["param"])  # (of argument sets, a value they share)
                if plan is not None and (plan != "str" or as_str):
                    plans[name] = plan
            elif isinstance(args, dict) and isinstance(args.get(name), str) and kind != "str" \
                    and not any(dag.refs_in(args[name], ())) and "{{" not in args[name] \
                    and script.decode(args[name], kind) != args[name]:
                entry["value"] = json.dumps(args[name], ensure_ascii=False)
                plans[name] = "json"
            elif as_str and isinstance(args, dict) and args.get(name) == "null":
                plans[name] = "str"  # the str "null" given to an Optional[str]
        if not plans and not per_set:  # the common case: every value reads as it is
            return "{}", set()
        if all(len(set(sp)) == 1 for sp in per_set.values()):
            plans.update({name: sp[0] for name, sp in per_set.items()})
            return json.dumps(plans, sort_keys=True), set(plans.values())
        # the sets of one parameter read differently (a str fan-in beside an int one or a literal):
        # each item carries its own plans as a JSON object, which `{{item.KEY}}` gives as its JSON
        # text (operator.go processItem formats a field with Item.String(), a map as its JSON)
        for i, item in enumerate(items):
            item[PLAN_ITEM] = {**plans, **{name: sp[i] for name, sp in per_set.items()}}
        return "{{item.%s}}" % PLAN_ITEM, set(plans.values()) | {x for sp in per_set.values() for x in sp}

    def value_plan(self, value: Any) -> str | None:
        """How an unannotated consumer must read `value` passed whole to a parameter (a sub-pipeline's):
        "str" for a str (a literal whose text reads as JSON, a `-> str` result, a str parameter),
        "agg"/"agg:str" for a fan-in, None where its text decodes as JSON to the value itself."""
        if isinstance(value, str):
            m = _RAW_RESULT.fullmatch(value)
            producer = self.spec_task(m.group(1)) if m and m.group(2) == "result" else None
            if m:
                return self.value_plan({"from": producer}) if producer is not None else None
            return "str" if "{{" in value or script.decode(value, None) != value else None
        if not dag.is_ref(value):
            return None
        if "param" in value:
            return self.param_plans.get(value["param"])
        if "from" in value and not value.get("key"):
            if self.aggregated(value["from"]):
                return "agg:str" if self.returns(value["from"]) == "str" else "agg"
            return "str" if self.returns(value["from"]) == "str" else None
        return None

    def set_plan(self, value: Any, as_str: bool) -> str:
        """How one argument set's value of an item parameter reads (`{{item.NAME}}` keeps a string's
        JSON escapes, see pod.read_input): Argo's aggregate of a fanned-out task's results
        (`-> str`: each element is a str as is) or named outputs, a str result as is, else the item.
        `as_str`: the parameter would read a str's text as JSON (unannotated, or an Optional[str])."""
        if not (dag.is_ref(value) and "from" in value):
            return "item"
        producer = value["from"]
        if self.aggregated(producer):
            return "item+agg:str" if not value.get("key") and self.returns(producer) == "str" else "item+agg"
        if not value.get("key") and as_str and self.returns(producer) == "str":
            return "item+str"
        return "item"

    def item_kind(self, t: dict) -> str | None:
        """The kind of `{{item}}` when the items are another task's results: "str" when every item
        is a str (the producer returns list[str], or is a fanned-out task returning str)."""
        fe = t.get("foreach")
        if not (isinstance(fe, dict) and "from" in fe):
            return None
        producer = fe["from"]
        ret = self.returns(producer)
        if self.aggregated(producer):
            return "str" if ret == "str" else None
        return "str" if ret == "list:str" else None
