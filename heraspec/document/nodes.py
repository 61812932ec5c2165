"""The spec's typed model: a schema-valid spec as a tree of small frozen nodes, `defaults` applied.

    build_model(doc) -> Spec         once per spec, after `schema.check_schema` found no problem
    from_data(data) -> Spec       the same for plain data (no positions: the Python API's compile)

Every node keeps `where`, its data path in the document, as Jinja's nodes keep `lineno`: a late
stage reports a located error with `spec.error(errors, node, message, hint)` (or reads
`spec.pos(node)`), through the document's own positions, which are computed only when asked for.

A task's settings are read after `defaults` (`settings.effective`: resources and env merge key by
key, the task winning; scheduling maps merge; the rest replace), so no reader applies them again:
`Task.settings` is that mapping, for the helpers that still take a task's dict, and the typed
fields (`image`, `resources`, `retry`, ...) are the same values as nodes.

The field names are the spec's keys (metadata `key` where a name differs, `schema=False` for what
the model derives). tests/test_model.py holds them equal to the properties of the committed JSON
Schema's definitions (generated from `model.py`), so the model and the schema cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Mapping

from .settings import effective

if TYPE_CHECKING:
    from ..errors import Errors
    from .load import Document

Where = tuple  # a node's data path in its document: ("tasks", "train", "resources")

_REF_KEYS = ("from", "param", "item", "workflow")


def _key(name: str) -> Any:
    return field(metadata={"key": name})


def _derived(default: Any = None) -> Any:
    return field(default=default, metadata={"schema": False})


def schema_keys(cls: type) -> set[str]:
    """The spec keys a node class reads (what its schema definition must declare)."""
    return {f.metadata.get("key", f.name) for f in fields(cls) if f.metadata.get("schema", True)}


# --- values -----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Ref:
    """`{from: T[, key: K]}`, `{param: P}`, `{item: true | K}` or `{workflow: status}`."""

    kind: str  # "from" | "param" | "item" | "workflow"
    target: Any
    key: str | None
    where: Where


def ref_of(value: Any, where: Where) -> Ref | None:
    """The reference a value is, when the whole value is one (dag.is_ref's forms)."""
    if type(value) is not dict:
        return None
    n = len(value)
    if n == 1:
        k = next(iter(value))
        return Ref(k, value[k], None, where) if k in _REF_KEYS else None
    if n == 2 and "from" in value and "key" in value:
        return Ref("from", value["from"], value["key"], where)
    return None


@dataclass(slots=True, frozen=True)
class Arg:
    """One argument of a task: its value as written, and the reference it is (if the whole value is one)."""

    name: str
    value: Any
    ref: Ref | None
    where: Where


ArgSet = tuple[Arg, ...]


def _arg_set(values: Mapping[str, Any], where: Where) -> ArgSet:
    return tuple(Arg(k, v, ref_of(v, where + (k,)), where + (k,)) for k, v in values.items())


@dataclass(slots=True, frozen=True)
class Parameter:
    """A workflow parameter and its default (`parameters: {NAME: DEFAULT}`)."""

    name: str
    default: Any
    where: Where


# --- task parts -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Backoff:
    duration: str | None
    factor: int | None
    max_duration: str | None
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class Retry:
    """`retry: N` is `Retry(limit=N)`."""

    limit: int
    backoff: Backoff | None
    policy: str | None
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class Volume:
    mount_path: str
    size: str | None
    claim: str | None
    name: str | None
    storage_class: str | None
    access_mode: str | None
    read_only: bool | None
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class Limits:
    cpu: Any
    memory: str | None
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class Resources:
    """A task's resources after `defaults` and the default request (1 CPU, 4Gi; a limit without a
    request sets the request); `cpu`/`memory` False or None request none. `volume` and `volumes` are
    one tuple, in that order."""

    cpu: Any
    memory: Any
    ephemeral_storage: str | None
    gpu: int | None
    gpu_type: str | None
    limits: bool | Limits | None
    volume: tuple[Volume, ...] = _key("volume")
    volumes: tuple[Volume, ...] = _key("volumes")
    where: Where = _derived(())

    @property
    def mounts(self) -> tuple[Volume, ...]:
        return self.volume + self.volumes


@dataclass(slots=True, frozen=True)
class TemplateRef:
    name: str
    template: str
    cluster: bool
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class WorkflowTemplateRef:
    name: str
    cluster: bool
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class ExitHandler:
    """`on_exit` of the workflow or of one task: a function or a container body with its args, read
    with `defaults` applied (but never `cache`: an exit handler always runs)."""

    function: str | None
    image: str | None
    command: tuple[str, ...] | None
    args: tuple[ArgSet, ...] = _key("args")
    env: Mapping[str, Any] = _key("env")
    resources: Resources | None = _key("resources")
    retry: Retry | None = _key("retry")
    timeout: Any = _key("timeout")
    packages: tuple[str, ...] = _key("packages")  # only its own: an exit handler installs no others
    container_args: tuple | None = _derived()
    settings: Mapping[str, Any] = _derived()
    where: Where = _derived(())


@dataclass(slots=True, frozen=True)
class Task:
    """One task, its settings after `defaults`. `args` are its argument sets (one for a mapping,
    several for a fan-out over a list of mappings, none for a container task, whose list is
    `container_args`)."""

    name: str = _derived("")
    function: str | None = None
    pipeline: str | None = None
    template_ref: TemplateRef | None = None
    image: str | None = None
    command: tuple[str, ...] | None = None
    args: tuple[ArgSet, ...] = ()
    container_args: tuple | None = _derived()
    after: tuple[str, ...] = ()
    depends: str | None = None
    when: str | None = None
    foreach: tuple | Ref | None = None  # the items, or the reference giving them
    outputs: Mapping[str, str] = field(default_factory=dict)
    continue_on: tuple[str, ...] = ()
    on_exit: ExitHandler | None = None
    argo: Mapping[str, Any] = field(default_factory=dict)  # {task: {...}, template: {...}}
    resources: Resources | None = None
    retry: Retry | None = None
    timeout: Any = None
    env: Mapping[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()  # as the task writes them (python/packages.for_task merges the levels)
    pip_index_url: Any = None
    pip_extra_index_urls: tuple[str, ...] = ()
    code: str = "carry"
    result: str = "parameter"
    cache: Any = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple = ()
    affinity: Mapping[str, Any] | None = None
    priority_class: str | None = None
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    mutex: str | None = None
    semaphore: Mapping[str, str] | None = None
    image_pull_policy: str | None = None
    service_account: str | None = None
    settings: Mapping[str, Any] = _derived()  # the task's keys after defaults (settings.effective)
    where: Where = _derived(())

    @property
    def fans_out(self) -> bool:
        """Argo runs it once per item (check/files.fans_out): a `foreach`, or a function task with
        a list of argument sets."""
        return self.foreach is not None or (self.function is not None and self.args_listed)

    @property
    def args_listed(self) -> bool:
        """`args` written as a list: argument sets (a function task) or container args."""
        return isinstance(self.settings.get("args"), list)

    @property
    def is_container(self) -> bool:
        return self.function is None and self.command is not None


@dataclass(slots=True, frozen=True)
class Defaults:
    """`defaults` as written (what every task inherits)."""

    image: str | None = None
    resources: Mapping[str, Any] = field(default_factory=dict)
    retry: Retry | None = None
    timeout: Any = None
    env: Mapping[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    pip_index_url: Any = None
    pip_extra_index_urls: tuple[str, ...] = ()
    code: str | None = None
    result: str | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple = ()
    affinity: Mapping[str, Any] | None = None
    priority_class: str | None = None
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    mutex: str | None = None
    semaphore: Mapping[str, str] | None = None
    image_pull_policy: str | None = None
    service_account: str | None = None
    cache: Any = None
    written: Mapping[str, Any] = _derived()
    where: Where = _derived(("defaults",))


@dataclass(slots=True, frozen=True)
class Spec:
    """A schema-valid spec. `data` is the mapping it was built from, `document` the loaded file
    (None when built from plain data: `pos` is then (0, 0))."""

    kind: str
    name: str | None
    generate_name: str | None
    namespace: str | None
    image: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    service_account: str | None
    parallelism: int | None
    parameters: tuple[Parameter, ...]
    defaults: Defaults
    packages: tuple[str, ...]
    pip_index_url: Any
    pip_extra_index_urls: tuple[str, ...]
    result: str | None
    workflow_template_ref: WorkflowTemplateRef | None
    tasks: Mapping[str, Task]
    artifact_repository: Mapping[str, str] | None
    edges: tuple[str, ...]
    schedule: tuple[str, ...]
    timezone: str | None
    concurrency_policy: str | None
    node_selector: Mapping[str, str]
    tolerations: tuple
    affinity: Mapping[str, Any] | None
    priority_class: str | None
    pod_labels: Mapping[str, str]
    pod_annotations: Mapping[str, str]
    mutex: str | None
    semaphore: Mapping[str, str] | None
    deadline: Any
    ttl: Mapping[str, Any] | None
    pod_gc: str | None
    archive_logs: bool | None
    priority: int | None
    on_exit: ExitHandler | None
    argo: Mapping[str, Any]
    schema_: str | None = _key("$schema")
    data: Mapping[str, Any] = _derived()
    document: "Document | None" = _derived()
    where: Where = _derived(())

    @property
    def path(self) -> str:
        return self.document.path if self.document is not None else ""

    def pos(self, node: Any) -> tuple[int, int]:
        """1-based (line, col) of a node (or a data path) in its file; (0, 0) without a document."""
        where = node if isinstance(node, tuple) else node.where
        return self.document.pos(where) if self.document is not None else (0, 0)

    def error(self, errors: "Errors", node: Any, message: str, hint: str | None = None) -> None:
        """A located error at a node (or a data path)."""
        line, col = self.pos(node)
        errors.add(self.path, line, col, message, hint)


# --- building ---------------------------------------------------------------------------------


def build_model(doc: "Document") -> Spec:
    """The model of a loaded spec that passed `schema.check_schema` (built once, in pipeline.py)."""
    return from_data(doc.data, doc)


def from_data(data: Mapping[str, Any], doc: "Document | None" = None) -> Spec:
    """The model of schema-valid spec data."""
    g = data.get
    defaults_data = g("defaults") or {}
    defaults = _defaults(defaults_data)
    tasks = {name: _task(name, t, defaults_data) for name, t in (g("tasks") or {}).items()}
    schedule = g("schedule")
    wtref = g("workflow_template_ref")
    return Spec(
        kind=g("kind", "Workflow"), name=g("name"), generate_name=g("generate_name"), namespace=g("namespace"),
        image=g("image", "python:3.12"), labels=g("labels") or {}, annotations=g("annotations") or {},
        service_account=g("service_account"), parallelism=g("parallelism"),
        parameters=tuple(Parameter(k, v, ("parameters", k)) for k, v in (g("parameters") or {}).items()),
        defaults=defaults, packages=tuple(g("packages") or ()), pip_index_url=g("pip_index_url"),
        pip_extra_index_urls=tuple(g("pip_extra_index_urls") or ()), result=g("result"),
        workflow_template_ref=WorkflowTemplateRef(wtref["name"], bool(wtref.get("cluster")),
                                                  ("workflow_template_ref",)) if wtref else None,
        tasks=tasks, artifact_repository=g("artifact_repository"), edges=tuple(g("edges") or ()),
        schedule=(schedule,) if isinstance(schedule, str) else tuple(schedule or ()), timezone=g("timezone"),
        concurrency_policy=g("concurrency_policy"), node_selector=g("node_selector") or {},
        tolerations=tuple(g("tolerations") or ()), affinity=g("affinity"), priority_class=g("priority_class"),
        pod_labels=g("pod_labels") or {}, pod_annotations=g("pod_annotations") or {}, mutex=g("mutex"),
        semaphore=g("semaphore"), deadline=g("deadline"), ttl=g("ttl"), pod_gc=g("pod_gc"),
        archive_logs=g("archive_logs"), priority=g("priority"),
        on_exit=_exit(g("on_exit"), defaults_data, ("on_exit",)) if g("on_exit") else None,
        argo=g("argo") or {}, schema_=g("$schema"), data=data, document=doc)


def _retry(value: Any, where: Where) -> Retry | None:
    if value is None:
        return None
    if isinstance(value, int):
        return Retry(value, None, None, where)
    b = value.get("backoff")
    backoff = Backoff(b.get("duration"), b.get("factor"), b.get("max_duration"), where + ("backoff",)) if b else None
    return Retry(value["limit"], backoff, value.get("policy"), where)


def _volume(v: Mapping[str, Any], where: Where) -> Volume:
    g = v.get
    return Volume(v["mount_path"], g("size"), g("claim"), g("name"), g("storage_class"), g("access_mode"),
                  g("read_only"), where)


def _resources(res: Mapping[str, Any], where: Where) -> Resources:
    g = res.get
    limits = g("limits")
    if isinstance(limits, dict):
        limits = Limits(limits.get("cpu"), limits.get("memory"), where + ("limits",))
    one = (_volume(res["volume"], where + ("volume",)),) if g("volume") else ()
    many = tuple(_volume(v, where + ("volumes", i)) for i, v in enumerate(g("volumes") or ()))
    return Resources(g("cpu"), g("memory"), g("ephemeral_storage"), g("gpu"), g("gpu_type"), limits, one, many, where)


def _arg_sets(args: Any, function: Any, where: Where) -> tuple[tuple[ArgSet, ...], tuple | None]:
    """(argument sets, container args): a mapping is one set; a list is sets for a function task
    (a fan-out) and the container's args otherwise."""
    if isinstance(args, dict):
        return (_arg_set(args, where),), None
    if isinstance(args, list):
        if function is None:
            return (), tuple(args)
        return tuple(_arg_set(s, where + (i,)) for i, s in enumerate(args)), None
    return (), None


def _defaults(d: Mapping[str, Any]) -> Defaults:
    g = d.get
    return Defaults(
        image=g("image"), resources=g("resources") or {}, retry=_retry(g("retry"), ("defaults", "retry")),
        timeout=g("timeout"), env=g("env") or {}, packages=tuple(g("packages") or ()), pip_index_url=g("pip_index_url"),
        pip_extra_index_urls=tuple(g("pip_extra_index_urls") or ()), code=g("code"), result=g("result"),
        node_selector=g("node_selector") or {}, tolerations=tuple(g("tolerations") or ()), affinity=g("affinity"),
        priority_class=g("priority_class"), pod_labels=g("pod_labels") or {}, pod_annotations=g("pod_annotations") or {},
        mutex=g("mutex"), semaphore=g("semaphore"), image_pull_policy=g("image_pull_policy"),
        service_account=g("service_account"), cache=g("cache"), written=d)


def _task(name: str, written: Mapping[str, Any], defaults: Mapping[str, Any]) -> Task:
    where = ("tasks", name)
    s = effective(written, defaults)
    g = s.get
    function = g("function")
    args, container_args = _arg_sets(g("args"), function, where + ("args",))
    fe = g("foreach")
    foreach = tuple(fe) if isinstance(fe, list) else ref_of(fe, where + ("foreach",)) if fe is not None else None
    ref = g("template_ref")
    command = g("command")
    own = written.get  # the keys a task has only as written (defaults never give them)
    return Task(
        name=name, function=function, pipeline=g("pipeline"),
        template_ref=TemplateRef(ref["name"], ref["template"], bool(ref.get("cluster")),
                                 where + ("template_ref",)) if ref else None,
        image=g("image"), command=tuple(command) if command is not None else None, args=args,
        container_args=container_args, after=tuple(own("after") or ()), depends=own("depends"), when=own("when"),
        foreach=foreach, outputs=own("outputs") or {}, continue_on=tuple(own("continue_on") or ()),
        on_exit=_exit(own("on_exit"), defaults, where + ("on_exit",)) if own("on_exit") else None,
        argo=own("argo") or {}, resources=_resources(s["resources"], where + ("resources",)),
        retry=_retry(g("retry"), where + ("retry",)), timeout=g("timeout"), env=g("env") or {},
        packages=tuple(own("packages") or ()), pip_index_url=g("pip_index_url"),
        pip_extra_index_urls=tuple(g("pip_extra_index_urls") or ()), code=g("code") or "carry",
        result=g("result") or "parameter", cache=g("cache"), node_selector=g("node_selector") or {},
        tolerations=tuple(g("tolerations") or ()), affinity=g("affinity"), priority_class=g("priority_class"),
        pod_labels=g("pod_labels") or {}, pod_annotations=g("pod_annotations") or {}, mutex=g("mutex"),
        semaphore=g("semaphore"), image_pull_policy=g("image_pull_policy"), service_account=g("service_account"),
        settings=s, where=where)


def _exit(body: Mapping[str, Any], defaults: Mapping[str, Any], where: Where) -> ExitHandler:
    s = {k: v for k, v in effective(body, defaults).items() if k != "cache"}
    g = s.get
    function = g("function")
    args, container_args = _arg_sets(g("args"), function, where + ("args",))
    command = g("command")
    return ExitHandler(
        function=function, image=g("image"), command=tuple(command) if command is not None else None, args=args,
        env=g("env") or {}, resources=_resources(s["resources"], where + ("resources",)),
        retry=_retry(g("retry"), where + ("retry",)), timeout=g("timeout"), packages=tuple(body.get("packages") or ()),
        container_args=container_args, settings=s, where=where)
