"""The carried code of a Workflow's script templates, once per workflow.

    SharedCode().place(bundle) -> parameter name     the workflow parameter holding that bundle's code
    SharedCode().parameters() -> [{name, value}]     the workflow's `arguments.parameters` entries

Each script template of a Workflow (or CronWorkflow) gets env `HERASPEC_CODE:
"{{workflow.parameters.heraspec-code}}"` and its script reads the modules from it
(script.script_source(shared=True)), so a module used by fifty templates is in the Workflow object
once. Argo v4.1.2 substitutes global parameters into the template before the pod is built
(operator.go executeTemplate: `common.ProcessArgs(ctx, resolvedTmpl, &args, woc.globalParams(), …)`),
and the pod gets the template as JSON in
env ARGO_TEMPLATE, `inputs.parameters` cleared (workflowpod.go createWorkflowPod,
`simplifiedTmpl`): so every pod still receives the code its template's env holds, and two limits
apply to one pod, not to the workflow: one environment variable is at most 128 KiB
(common.MaxEnvVarLen = 131072; Linux's MAX_ARG_STRLEN, E2BIG at exec, Argo #7527), for
HERASPEC_CODE in the main container; and ARGO_TEMPLATE over that is offloaded by v4.1.2 into a
ConfigMap per pod (workflowpod.go, `offloadEnvVarTemplate`), which heraspec avoids. So a group's
text is kept under CODE_LIMIT, which leaves 16 KiB of the 128 for the rest of the template (the
runtime is ~5 KiB): bundles are placed greedily into the first group that still fits them, a new
parameter (`heraspec-code-2`, ...) otherwise. `validate` refuses one function whose own code does
not fit (check/semantic.py), pointing to `code: image`.
"""

from __future__ import annotations

from ..python import script
from ..python.modules import Bundle, Carried, DataFile

__all__ = ["CODE_LIMIT", "ENV_LIMIT", "SharedCode"]

ENV_LIMIT, CODE_LIMIT = script.ENV_LIMIT, script.CODE_LIMIT


class _Group:
    def __init__(self, name: str) -> None:
        self.name = name
        self.modules: dict[str, Carried] = {}
        self.data: dict[str, DataFile] = {}
        self.text = ""

    def holds(self, bundle: Bundle) -> bool:
        return all(self.modules.get(m.name) == m for m in bundle.modules) and \
            all(self.data.get(d.path) == d for d in bundle.data)

    def with_(self, bundle: Bundle) -> tuple[dict, dict, str]:
        modules = {**self.modules, **{m.name: m for m in bundle.modules}}
        data = {**self.data, **{d.path: d for d in bundle.data}}
        return modules, data, script.code_text(_sorted(modules), _sorted(data))


def _sorted(items: dict) -> list:
    return [items[k] for k in sorted(items)]


class SharedCode:
    def __init__(self) -> None:
        self.groups: list[_Group] = []

    def place(self, bundle: Bundle) -> str:
        """The name of the workflow parameter that holds (now) every module of `bundle`."""
        for group in self.groups:
            if group.holds(bundle):
                return group.name
        for group in self.groups:
            modules, data, text = group.with_(bundle)
            if len(text) <= CODE_LIMIT:
                group.modules, group.data, group.text = modules, data, text
                return group.name
        n = len(self.groups) + 1
        group = _Group(script.CODE_PARAM if n == 1 else f"{script.CODE_PARAM}-{n}")
        group.modules, group.data, group.text = group.with_(bundle)
        self.groups.append(group)
        return group.name

    def parameters(self) -> list[dict[str, str]]:
        return [{"name": g.name, "value": g.text} for g in self.groups]
