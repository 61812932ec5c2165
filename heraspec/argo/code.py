"""The pod runtime and the carried code of a Workflow's script templates, once per workflow.

    SharedCode().place(bundle, names) -> parameter name   the workflow parameter holding that bundle's
                                                          code and the runtime's definitions `names`
    SharedCode().parameters() -> [{name, value}]          the workflow's `arguments.parameters` entries

Each script template of a Workflow (or CronWorkflow) gets env `HERASPEC_CODE:
"{{workflow.parameters.heraspec-code}}"` and its script (script.script_source(shared=True)), a few
lines, runs the runtime and the modules from it; so the runtime and a module used by fifty templates
are in the Workflow object once. A parameter's text (script.shared_code) holds the union of the
runtime's definitions its templates use (pod_source.cut, readable as written in python/pod/) and
their modules, packed together (JSON, zlib, URL-safe base64). Argo v4.1.2 substitutes global
parameters into the template before the pod is built
(operator.go executeTemplate: `common.ProcessArgs(ctx, resolvedTmpl, &args, woc.globalParams(), …)`),
and the pod gets the template as JSON in
env ARGO_TEMPLATE, `inputs.parameters` cleared (workflowpod.go createWorkflowPod,
`simplifiedTmpl`): so every pod still receives the text its template's env holds, and two limits
apply to one pod, not to the workflow: one environment variable is at most 128 KiB
(common.MaxEnvVarLen = 131072; Linux's MAX_ARG_STRLEN, E2BIG at exec, Argo #7527), for
HERASPEC_CODE in the main container; and ARGO_TEMPLATE over that is offloaded by v4.1.2 into a
ConfigMap per pod (workflowpod.go, `offloadEnvVarTemplate`), which heraspec avoids. So a group's
text, runtime included, is kept under CODE_LIMIT, which leaves 16 KiB of the 128 for the rest of
the template (its script is ~1 KiB): bundles are placed greedily into the first group that still
fits them with their runtime, a new parameter (`heraspec-code-2`, ...) otherwise; each group holds
the runtime its own templates use. `validate` refuses one function whose own code does not fit
(check/semantic.py), pointing to `code: image`; one whose code alone nearly fits gets a group of its
own, over CODE_LIMIT by its runtime (~4-10 KB packed), inside the 16 KiB.
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
        self.names: frozenset[str] = frozenset()  # the runtime's definitions (script.runtime_roots)
        self.text = ""

    def holds(self, bundle: Bundle, names: frozenset[str]) -> bool:
        return names <= self.names and all(self.modules.get(m.name) == m for m in bundle.modules) and \
            all(self.data.get(d.path) == d for d in bundle.data)

    def with_(self, bundle: Bundle, names: frozenset[str]) -> tuple[dict, dict, frozenset[str], str]:
        modules = {**self.modules, **{m.name: m for m in bundle.modules}}
        data = {**self.data, **{d.path: d for d in bundle.data}}
        names = self.names | names
        return modules, data, names, script.shared_code(names, _sorted(modules), _sorted(data))

    def take(self, found: tuple[dict, dict, frozenset[str], str]) -> str:
        self.modules, self.data, self.names, self.text = found
        return self.name


def _sorted(items: dict) -> list:
    return [items[k] for k in sorted(items)]


class SharedCode:
    def __init__(self) -> None:
        self.groups: list[_Group] = []

    def place(self, bundle: Bundle, names: frozenset[str]) -> str:
        """The name of the workflow parameter that holds (now) every module of `bundle` and the
        runtime's definitions `names` (script.runtime_roots of the template that reads it)."""
        for group in self.groups:
            if group.holds(bundle, names):
                return group.name
        for group in self.groups:
            found = group.with_(bundle, names)
            if len(found[3]) <= CODE_LIMIT:
                return group.take(found)
        n = len(self.groups) + 1
        self.groups.append(_Group(script.CODE_PARAM if n == 1 else f"{script.CODE_PARAM}-{n}"))
        return self.groups[-1].take(self.groups[-1].with_(bundle, names))

    def parameters(self) -> list[dict[str, str]]:
        return [{"name": g.name, "value": g.text} for g in self.groups]
