"""Checks the JSON Schema cannot express: names, the task graph, quantities, functions and their args.

Runs after the schema check on the spec's typed model (document/nodes.py, built also for a spec with
schema errors: a wrong-shaped value reads as absent, so nothing is reported twice), and adds every
problem to the collector at its position. Functions are resolved with `functions.resolve`, which reads
source files with `ast` and never imports them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import argotext, bodies, files as artifacts, compose, dag, spectext
from ..document import patterns

from ..python import functions
from ..errors import Errors, SpecError, hint_close
from ..document.load import Document
from ..document.nodes import Defaults, ExitHandler, Spec, Task, mapping
from ..document.schema import misspelt_body

DNS1123 = re.compile(patterns.K8S_NAME)
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# Argo parses `depends` as an expression: a task named like a literal would read as that literal
_LITERAL_NAME = re.compile(r"^([0-9]+|true|false)$", re.IGNORECASE)
NAME_LIMITS = patterns.NAME_LIMITS
KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


# what the checks of a task as written read (_check_task_fields, _volumes, _packages, _index_urls)
_OWN_KEYS = frozenset(("argo", "resources", "env", "packages", "pip_index_url", "pip_extra_index_urls"))


def _unsure_tasks(spec: Spec) -> set[str]:
    """Tasks with a misspelt `function`/`command`: whether they run a function is unknown."""
    misspelt: dict[tuple, bool] = {}  # by the keys a body writes, all that misspelt_body reads
    out = set()
    for name, task in spec.tasks.items():
        keys = tuple(task.written)
        found = misspelt.get(keys)
        if found is None:
            found = misspelt[keys] = misspelt_body(task.written)
        if found:
            out.add(name)
    return out


def check(doc: Document, errors: Errors, search_path: list[str], *, spec: Spec,
          graph: dag.Graph | None = None) -> dict[str, functions.Function]:
    """Semantic checks on the spec's model (`spec`: nodes.build_model(doc), built also when the schema
    check found problems); returns the resolved functions by task name (for the compiler).
    `graph`: `dag.build_graph(doc.data)` when the caller has it already."""
    data = spec.data  # for the checks that walk every value as written (texts, numbers, outputs)
    _check_names(doc, spec, errors)
    argotext.check(doc, spec, errors)
    _check_argo_metadata(doc, spec, errors)
    _check_numbers(doc, spec, errors)
    names = spec.task_names
    params = {p.name: p.default for p in spec.parameters}
    for p in spec.parameters:
        if isinstance(p.name, str) and p.name.startswith("heraspec-code"):  # argo/code.py: the carried code
            doc.error(errors, p.where, f"parameter name '{p.name}' is reserved: heraspec passes the "
                      "carried code to the pods in workflow parameters named heraspec-code...", "rename it", key=True)
    graph = graph if graph is not None else dag.build_graph(data)
    _check_graph(doc, spec, errors, graph)
    from . import rules

    rules.check(doc, spec, errors, graph)
    if spectext.may_hold(doc, "argo"):
        from . import argo_fields as escape

        escape.check(doc, spec, errors)
    resolved: dict[str, functions.Function] = {}
    defaults = spec.defaults
    _check_task_fields(doc, defaults, errors)
    _check_packages(doc, spec, errors)
    _check_packages(doc, defaults, errors)
    _check_index_urls(doc, spec, errors)
    _check_index_urls(doc, defaults, errors)
    volume_sizes: dict[str, tuple[str, tuple]] = {}
    unsure = _unsure_tasks(spec)
    code_spec = (data, defaults.data)  # what the code checks of a task read besides the task
    carried: dict = {}  # the carried-code findings, shared by the tasks running one function alike (bodies.py)
    clean: dict = {}  # the bodies check_body found nothing wrong with (bodies._clean_key)
    first = len(errors.items)
    for name, task in spec.tasks.items():
        # as written: each problem is located where the task writes it (none written: nothing to check)
        own = task.own if not _OWN_KEYS.isdisjoint(task.written) else None
        if own is not None:
            _check_task_fields(doc, own, errors)
        _check_refs(doc, task, spec, params, errors, unsure)
        if own is not None:
            _check_volumes(doc, own, volume_sizes, errors)
            _check_packages(doc, own, errors)
            _check_index_urls(doc, own, errors)
        fn = bodies.check_body(doc, task.where, name, task.written, search_path, errors, code_spec, carried, clean)
        if fn is not None:
            resolved[name] = fn
        exit_body = task.written.get("on_exit")
        if isinstance(exit_body, dict):
            handler = _exit_handler(task.on_exit, exit_body, task.where)
            _check_packages(doc, handler, errors)
            compose.check_exit(doc, handler, spec, params, errors, name, graph)
            fn = bodies.check_body(doc, handler.where, f"{name}.on_exit", exit_body, search_path, errors)
            if fn is not None:
                resolved[f"{name}{compose.EXIT_KEY}"] = fn
    _one_per_cause(doc, errors, first, spec)
    result = spec.result
    if isinstance(result, str) and result not in names:
        doc.error(errors, ("result",), f"result names no task: '{result}'", hint_close(result, list(names), "tasks"))
    compose.check_raw_outputs(doc, spec, errors)
    wtref = data.get("workflow_template_ref")  # written, in any shape
    if "tasks" not in data and wtref is None:
        doc.error(errors, (), "the spec is missing 'tasks'", "or submit a WorkflowTemplate with workflow_template_ref")
    elif "tasks" in data and wtref is not None:
        doc.error(errors, ("workflow_template_ref",), "a Workflow runs either its 'tasks' or a WorkflowTemplate, not both",
                  key=True)
    elif wtref is not None and data.get("kind", "Workflow") not in ("Workflow", "CronWorkflow"):
        doc.error(errors, ("workflow_template_ref",), "workflow_template_ref submits a WorkflowTemplate as a Workflow "
                  "(or CronWorkflow)", key=True)
    exit_body = data.get("on_exit")
    if isinstance(exit_body, dict):
        handler = _exit_handler(spec.on_exit, exit_body, ())
        _check_packages(doc, handler, errors)
        compose.check_exit(doc, handler, spec, params, errors, None, graph)
        fn = bodies.check_body(doc, handler.where, "on_exit", exit_body, search_path, errors)
        if fn is not None:
            resolved[compose.EXIT_KEY] = fn
    artifacts.check(doc, spec, resolved, errors)
    from . import production_rules  # scheduling, concurrency, caching, lifecycle (issue 17)

    production_rules.check(doc, spec, errors)
    return resolved


def _exit_handler(handler: ExitHandler | None, written: dict, base: tuple) -> ExitHandler:
    """An `on_exit` mapping's node; the model reads an empty one as none, the checks as written."""
    return handler if handler is not None else ExitHandler(written, base + ("on_exit",))


def _one_per_cause(doc: Document, errors: Errors, first: int, spec: Spec) -> None:
    """The same problem with the code of several tasks (one module they all import, say) is one
    error, at the first task's `function`, naming every task it affects."""
    new = [e for e in errors.items[first:] if e.file == doc.path]
    counts: dict[tuple, int] = {}
    for e in new:
        counts[(e.message, e.hint)] = counts.get((e.message, e.hint), 0) + 1
    if all(n < 2 for n in counts.values()):
        return
    at = {doc.pos(t.where + ("function",)): n for n, t in spec.tasks.items() if isinstance(t.function, str)}
    groups: dict[tuple, list] = {}
    for e in new:
        if counts[(e.message, e.hint)] > 1 and (e.line, e.col) in at:
            groups.setdefault((e.message, e.hint), []).append(e)
    for (message, _), same in groups.items():
        if len(same) < 2:
            continue
        same.sort(key=lambda e: (e.line, e.col))
        for e in same:
            errors.items.remove(e)
        names = ", ".join(f"'{at[(e.line, e.col)]}'" for e in same)
        first = same[0]
        errors.items.append(SpecError(first.file, first.line, first.col,
                                      f"{message}; this affects {len(same)} tasks: {names}", first.hint, first.severity))


def _check_packages(doc: Document, node: Spec | Defaults | Task | ExitHandler, errors: Errors) -> None:
    """Each requirement readable by pip, each distribution listed once per list (a level's own)."""
    value, path = node.packages, node.where + ("packages",)
    if not value:
        return
    from ..python import packages

    seen: dict[str, int] = {}
    for i, text in enumerate(value):
        parsed = packages.parse(text) if isinstance(text, str) else None
        if isinstance(parsed, str):
            doc.error(errors, path + (i,), parsed, "write a requirement such as 'numpy', 'numpy>=1.26' or "
                      "'scikit-learn==1.5.*' (PEP 508)")
        elif parsed is not None:
            right = packages.misnamed(parsed[0])
            if right is not None:
                written = re.match(r"\s*[A-Za-z0-9._-]+", text).group(0).strip()  # type: ignore[union-attr]
                doc.error(errors, path + (i,), f"'{written}' is the name you import, not a distribution pip installs: "
                          f"'import {written}' comes from the distribution '{right}'",
                          f"write '{text.strip().replace(written, right, 1)}'")
            if parsed[0] in seen:
                doc.error(errors, path + (i,), f"'{parsed[0]}' is listed twice (items {seen[parsed[0]] + 1} and {i + 1})",
                          "combine the version constraints in one requirement, e.g. 'numpy>=1.26,<3'")
            seen.setdefault(parsed[0], i)


def _check_index_urls(doc: Document, level: Spec | Defaults | Task, errors: Errors) -> None:
    """No credentials in an index URL: the manifest would carry them in clear (never printed here)."""
    if level.pip_index_url is None and not level.pip_extra_index_urls:
        return
    from ..document.patterns import url_redacted as redacted, url_userinfo as userinfo

    base = level.where
    urls = [(("pip_index_url",), level.pip_index_url)]
    urls += [(("pip_extra_index_urls", i), u) for i, u in enumerate(level.pip_extra_index_urls)]
    for path, url in urls:
        if isinstance(url, str) and userinfo(url):
            doc.error(errors, base + path, f"'{redacted(url)}' has credentials in it (user:password@): the Workflow "
                      "would carry them in clear for anyone who can read it",
                      "put the whole URL in a Secret and name it: pip_index_url: {secret: NAME, key: KEY} (the pod "
                      "reads it as PIP_INDEX_URL)" if path == ("pip_index_url",) else
                      "put credentials for an extra index in a Secret (pip_index_url: {secret: NAME, key: KEY}, "
                      "an index that proxies the others) or in the image's pip configuration")


def _check_argo_metadata(doc: Document, spec: Spec, errors: Errors) -> None:
    """The `argo:` escape hatch can rename the object or move it: its metadata name, generateName
    and namespace go into request URLs (`apply --replace` DELETEs by name), so they follow the same
    Kubernetes rules as `name` and `namespace`."""
    argo = spec.argo  # Argo's own fields, as Argo writes them
    md = argo.get("metadata")
    if not isinstance(md, dict):
        return
    kind = argo.get("kind") if isinstance(argo.get("kind"), str) else spec.kind
    where = ("argo", "metadata")
    if "name" in md and (problem := patterns.name_problem(kind, md["name"])):
        doc.error(errors, where + ("name",), problem, patterns.NAME_HINT)
    if "generateName" in md and (problem := patterns.generate_name_problem(md["generateName"])):
        doc.error(errors, where + ("generateName",), problem, patterns.GENERATE_NAME_HINT)
    if "namespace" in md and (problem := patterns.namespace_problem(md["namespace"])):
        doc.error(errors, where + ("namespace",), problem, patterns.NAME_HINT + ", at most 63 characters")


def _check_names(doc: Document, spec: Spec, errors: Errors) -> None:
    data = spec.data  # which keys are written, in any shape
    kind = spec.kind  # not a text: the schema check reports it; carry on as a Workflow
    if kind not in KINDS:
        # The schema check reports the kind ("did you mean 'Workflow'?"). Carry on as the kind meant
        # (`workflow`), or with no kind-specific check, so that nothing follows from the typo.
        kind = next((k for k in KINDS if k.lower() == kind.lower()), None)
    name, gen = spec.name, spec.generate_name
    limit = NAME_LIMITS.get(kind, 63)
    if isinstance(name, str) and (problem := patterns.name_problem(kind, name)):
        doc.error(errors, ("name",), problem, patterns.NAME_HINT if len(name) <= limit else None)
    if isinstance(gen, str):
        if kind not in ("Workflow", None):
            doc.error(errors, ("generate_name",), f"generate_name is for Workflows; a {kind} needs a fixed 'name'", key=True)
        elif problem := patterns.generate_name_problem(gen, "generate_name"):
            doc.error(errors, ("generate_name",), problem, patterns.GENERATE_NAME_HINT)
    if name is None and gen is None:
        want = "'name' or 'generate_name'" if kind in ("Workflow", None) else "'name'"
        doc.error(errors, (), f"the spec needs {want}", "e.g. name: my-pipeline")
    if name is not None and gen is not None:
        doc.error(errors, ("generate_name",), "give either 'name' or 'generate_name', not both", key=True)
    if kind == "ClusterWorkflowTemplate" and "namespace" in data:
        doc.error(errors, ("namespace",), "a ClusterWorkflowTemplate is cluster-scoped and has no namespace", key=True)
    ns = spec.namespace
    if isinstance(ns, str) and (problem := patterns.namespace_problem(ns)):
        doc.error(errors, ("namespace",), problem, patterns.NAME_HINT + ", at most 63 characters")
    cron_only = [k for k in ("schedule", "timezone", "concurrency_policy") if k in data]
    if kind == "CronWorkflow" and "schedule" not in data:
        doc.error(errors, (), "a CronWorkflow needs a 'schedule'", "e.g. schedule: '0 3 * * *'")
    elif kind not in ("CronWorkflow", None):
        for k in cron_only:
            doc.error(errors, (k,), f"'{k}' only applies to kind: CronWorkflow", key=True)
    names = [t for t in spec.task_names if isinstance(t, str)]
    for t in filter(_LITERAL_NAME.match, names):
        doc.error(errors, ("tasks", t), f"task name '{t}' reads as a literal in Argo's depends expressions",
                  "start it with a letter and avoid 'true'/'false', e.g. 'step-1'", key=True)
    seen: dict[str, str] = {}
    for t in names if any("_" in t for t in names) else ():  # else each is its own Argo name: none the same
        a = dag.argo_name(t)
        if a in seen:
            doc.error(errors, ("tasks", t), f"task names '{seen[a]}' and '{t}' are the same in Argo ('{a}')",
                      "'_' becomes '-' in Argo names; rename one of them", key=True)
        seen.setdefault(a, t)


def _check_graph(doc: Document, spec: Spec, errors: Errors, g: dag.Graph) -> None:
    names, tasks = spec.task_names, spec.tasks
    for path, message, offset in g.bad_edges:
        doc.error(errors, path, message, "write edges as 'A >> B', 'A >> [B, C] >> D'", offset=offset)
    for path, message, offset in g.too_big:
        doc.error(errors, path, message, "join the groups through one task: [a, b, ...] >> gather >> [x, y, ...]",
                  offset=offset)
    if not all(ref in names for ref, _p, _o in g.mentions):  # the common case: every name is known
        for ref, path, offset in g.mentions:
            if ref not in names:
                doc.error(errors, path, f"unknown task '{ref}'", hint_close(ref, list(names), "tasks"), offset=offset)
    bad_depends = {path for path, _m, _o in g.bad_edges}
    for name, t in tasks.items():
        if "depends" not in t.data and "when" not in t.data:  # the common case: neither is set, nothing to read
            continue
        depends, when = t.depends, t.when
        if isinstance(depends, str) and ("tasks", name, "depends") not in bad_depends:
            for ref, result, offset in dag.depends_names(depends):
                if result is not None and result not in dag.DEPENDS_RESULTS:
                    doc.error(errors, ("tasks", name, "depends"), f"unknown task result '{ref}.{result}'",
                              hint_close(result, sorted(dag.DEPENDS_RESULTS), "results"),
                              offset=offset + len(ref) + 1)
        for key, expr in (("depends", depends), ("when", when)):
            at = dag.too_deep(expr) if isinstance(expr, str) else None
            if at is not None:
                doc.error(errors, ("tasks", name, key), f"{key} nests parentheses and '!' deeper than "
                          f"{dag.MAX_NESTING} levels", "write it flatter: 'a && b && c' needs no parentheses",
                          offset=at)
            elif key == "when" and isinstance(expr, str) and expr.strip():
                _check_when(doc, name, expr, errors)
    for d in g.deps:
        if d.src == d.dst:
            doc.error(errors, d.path, f"task '{d.src}' depends on itself", offset=d.offset)
    cycle = dag.find_cycle(g)
    if cycle:
        first = next(d for d in g.deps if d.src == cycle[-2] and d.dst == cycle[-1])
        doc.error(errors, first.path, "dependency cycle: " + " >> ".join(cycle), "remove one of these edges",
                  offset=first.offset)


def _check_when(doc: Document, name: str, when: str, errors: Errors) -> None:
    """A `when` Argo refuses whatever its `{{…}}` tags hold (steps.go shouldExecute over govaluate;
    govaluate.static_error): located at the `when`, with Argo's own message."""
    from ..argo_lang import govaluate  # only for specs with a `when`: validate stays fast

    message = govaluate.static_error(when)
    if message is None:
        return
    lexing = any(w in message for w in ("Invalid token", "accessor", "unexported field", "No parameter"))
    hint = ("quote a value holding '.', a leading '_' or other symbols: 'model.pkl' == x" if lexing
            else "write an expression that gives true or false, e.g. \"{{tasks.a.outputs.result}} == heads\"")
    if "{{" in when:
        hint += "; this fails whatever the {{…}} tags become (each tried as a number and as a word)"
    doc.error(errors, ("tasks", name, "when"), f"Argo refuses this when: {message}", hint)


INT32_MAX = 2**31 - 1  # Argo's retry limit, parallelism and Kubernetes counts are 32-bit
_LIMITED = frozenset(("retry", "timeout", "resources"))  # the keys of a body whose numbers have limits


def _has_non_finite(data: Any) -> bool:
    """Is there a NaN or an infinity anywhere in `data`? (Without the paths: there rarely is.)
    Only mappings and lists go on the stack: most values are texts and numbers. (The loaders build
    plain dicts, lists and floats: exact types are compared, the fastest test.)"""
    if type(data) is not dict and type(data) is not list:
        return type(data) is float and not math.isfinite(data)
    stack = [data]
    while stack:
        node = stack.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append(value)
            elif kind is float and not math.isfinite(value):
                return True
    return False


def _check_numbers(doc: Document, spec: Spec, errors: Errors) -> None:
    """NaN and infinity have no JSON (so no Argo) form; integer settings must fit Argo's fields."""
    data = spec.data  # every value as written
    stack: list[tuple[tuple, Any]] = [((), data)] if _has_non_finite(data) else []
    while stack:
        path, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            doc.error(errors, path, f"{'NaN' if node != node else 'infinity'} cannot be passed to Argo "
                      "(JSON has no such number)", "quote it to pass the text, e.g. '.nan'")
        elif isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
    settings = [("parallelism",)]
    defaults = spec.defaults
    limited = [(defaults.where, defaults.data)] + [(t.where, t.written) for t in spec.tasks.values()
                                                   if not _LIMITED.isdisjoint(t.written)]  # as written
    for base, body in limited:
        if not _LIMITED.isdisjoint(body):
            settings += [base + ("retry",), base + ("retry", "limit"), base + ("timeout",), base + ("resources", "gpu")]
    for path in settings:
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if not isinstance(node, int) or isinstance(node, bool):  # the common case (unset): nothing to compare
            continue
        limit = INT32_MAX if path[-1] != "timeout" else 10**9  # seconds; Go durations end at ~292 years
        if isinstance(node, int) and not isinstance(node, bool) and node > limit:
            what = f"task '{path[1]}' " + ".".join(path[2:]) if path[0] == "tasks" else ".".join(path)
            doc.error(errors, path, f"{what} is {node}; the largest value Argo takes is {limit:,}")


def _check_task_fields(doc: Document, task: Defaults | Task, errors: Errors) -> None:
    """`defaults` or a task as written: its Argo task name, gpu_type, env names."""
    base = task.where
    argo = mapping(task.data.get("argo"))  # `defaults` may write one too (the schema check says if it may)
    name = mapping(argo.get("task")).get("name")
    if isinstance(name, str) and not re.fullmatch(patterns.ARGO_TASK_NAME, name):
        doc.error(errors, base + ("argo", "task", "name"), f"'{name}' is not a task name Argo accepts",
                  "letters, digits and '-', starting with a letter or digit, at most 128 characters")
    res = task.resources
    if res is not None:
        if res.gpu_type is not None and not res.gpu:
            doc.error(errors, base + ("resources", "gpu_type"), "gpu_type is set but gpu is not", "add gpu: 1", key=True)
    for k in task.env:
        if not ENV_NAME.match(str(k)) or str(k).startswith("HERASPEC_"):
            doc.error(errors, base + ("env", k), f"'{k}' is not a valid environment variable name"
                      + (" (HERASPEC_ is reserved)" if str(k).startswith("HERASPEC_") else ""), key=True)


def _check_volumes(doc: Document, task: Task, sizes: dict, errors: Errors) -> None:
    """A task's volumes as written (`task.own`): one kind each, claims, mount paths, names, sizes."""
    res = task.resources
    if res is None:
        return
    name = task.name
    mounts: dict[str, tuple] = {}
    for vol in res.mounts:
        path, v = vol.where, vol.data  # presence of each key, as written
        if ("size" in v) == ("claim" in v):
            doc.error(errors, path, "a volume needs either 'size' (a new volume) or 'claim' (an existing one)")
            continue
        claim = vol.claim
        for m in re.finditer(r"\{\{\s*(.*?)\s*\}\}", claim if isinstance(claim, str) else ""):
            if not m.group(1).startswith("workflow."):
                # operator.go substituteGlobalVariables: spec.volumes (where a claim goes) sees only the
                # workflow's global variables; any other tag reaches Kubernetes as written
                doc.error(errors, path + ("claim",), f"'{m.group()}' cannot name a claim: Argo substitutes only "
                          "global variables ({{workflow.parameters.NAME}}, {{workflow.name}}) in the workflow's "
                          "volumes, so the pod would ask for a PersistentVolumeClaim named literally "
                          f"'{claim}'", "name the claim in the spec or through a workflow parameter: "
                          "{{workflow.parameters.NAME}}", offset=m.start())
        mp = vol.mount_path
        if isinstance(mp, str):
            if not mp.startswith("/"):
                doc.error(errors, path + ("mount_path",), f"mount_path '{mp}' must be an absolute path")
            if mp in mounts:
                doc.error(errors, path + ("mount_path",), f"two volumes are mounted at '{mp}'")
            mounts[mp] = path
        vname = vol.name or vol.claim or dag.volume_name(name)
        if isinstance(vname, str) and not DNS1123.match(vname):
            doc.error(errors, path + ("name",), f"volume name '{vname}' is not a valid Kubernetes name")
        elif isinstance(vname, str) and len(vname) > 63:  # a pod's volume names are DNS labels
            doc.error(errors, path + ("name",), f"volume name '{vname}' is {len(vname)} characters; "
                      "Kubernetes allows at most 63", "give the volume a shorter 'name'")
        if "size" in v and isinstance(vname, str):
            prev = sizes.setdefault(vname, (v["size"], path))
            if prev[0] != v["size"]:
                doc.error(errors, path + ("size",), f"volume '{vname}' is {prev[0]} elsewhere and {v['size']} here",
                          "tasks sharing a volume must agree on its size")


def _check_refs(doc: Document, task: Task, spec: Spec, params: dict, errors: Errors,
                unsure: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    base, name = task.where, task.name
    fe = task.data.get("foreach")  # written, in any shape (a wrong one is still a foreach: no follow-on error)
    args = task.data.get("args")
    uses_item = False
    for kind, target, path in dag.arg_refs(task):
        if kind == "from":
            compose.check_key(doc, path, compose.at(args, path[len(base) + 1:]), spec, errors, unsure)
        if kind == "param" and target not in params:
            doc.error(errors, path + ("param",), f"unknown parameter '{target}'", hint_close(str(target), list(params), "parameters"))
        if kind == "workflow" and target not in compose.WORKFLOW_VALUES:
            doc.error(errors, path + ("workflow",), f"unknown workflow value {target!r}",
                      "one of: " + ", ".join(compose.WORKFLOW_VALUES))
        elif kind == "workflow" and target in compose.EXIT_ONLY:
            doc.error(errors, path + ("workflow",), f"{{workflow: {target}}} is set for the workflow's exit handler only",
                      "use it in the spec-level on_exit")
        if kind == "item":
            uses_item = True
            if fe is None:
                doc.error(errors, path, f"task '{name}' uses {{item}} but has no 'foreach'", "add foreach: [...]")
    if isinstance(fe, dict) and "from" in fe:
        compose.check_key(doc, base + ("foreach",), fe, spec, errors, unsure)
    outputs = task.outputs if "outputs" in task.data else None  # (the membership test: cheaper, for most)
    if outputs and task.function is None and name not in unsure:
        doc.error(errors, base + ("outputs",), f"task '{name}' has no function: only a function's result has named fields",
                  "a container task's result is its standard output: use {from: TASK}", key=True)
    if outputs and "result" in outputs:
        doc.error(errors, base + ("outputs", "result"), "'result' is the name of the whole return value",
                  "give this output another name", key=True)
    if isinstance(fe, dict) and "param" in fe and fe["param"] not in params:
        doc.error(errors, base + ("foreach", "param"), f"unknown parameter '{fe['param']}'",
                  hint_close(str(fe["param"]), list(params), "parameters"))
    if fe is not None and not uses_item:
        doc.error(errors, base + ("foreach",), f"task '{name}' fans out with 'foreach' but no argument uses the item",
                  "pass it with {item: true} (or {item: KEY} for a field of a mapping item)", key=True)
    if fe is not None and task.args_listed and task.function is not None:
        doc.error(errors, base + ("foreach",), "use either 'foreach' or a list of argument sets in 'args', not both", key=True)
