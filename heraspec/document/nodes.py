"""The spec's typed model: a loaded spec as a tree of small frozen nodes, `defaults` applied.

    build_model(doc) -> Spec      for every loaded spec mapping, once (pipeline._check_doc)
    from_data(data) -> Spec       the same for plain data (no positions: compile_spec without a model)

Read by the checks (check/*: also for a spec with schema errors), the compiler (argo/compiler.py,
a valid spec's: pipeline.Checked.spec), graph.py and the language server's hover. A value of the
wrong shape, which the schema check reports, reads as absent (`Key`), so no reader fails on it or
reports it again; `Task.own` is a task as written, for a check locating a problem where it is written.

Each node holds its mapping as loaded (`data`) and its data path in the document (`where`), as
Jinja's nodes keep `lineno`: a late stage reports a located error with `spec.error(errors, node,
message, hint)` (or reads `spec.pos(node)`) through the document's own positions, computed only
when asked for. Each spec key is a `Key` that reads it from `data` on access, typed: a nested node,
a tuple, the default when absent.

A task's `data` is its settings after `defaults` (`settings.effective`: resources and env merge key
by key, the task winning; scheduling maps merge; the rest replace), so no reader applies them again;
`Task.settings` is that mapping, for the helpers that still take a task's dict.

Each key also declares what its value may be (`Key.of`, in the words of `shapes.py`: `Str(pattern=...)`,
`OneOf(...)`, a shared shape such as `Duration`, a node class) and whether it is required:
`schemagen` writes the JSON Schema (`schemas/heraspec.schema.json`) from these declarations alone,
so the model and the schema cannot drift.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, KeysView, Mapping

from ..record import Frozen
from .patterns import ARGO_FIELD_NAME_MAX, FUNCTION_REF, OUTPUT_NAME, RESULT_KEY, TASK_NAME
from .settings import effective
from .shapes import (ANY, AnyMap, Args, ArgoTask, ArtifactRepositoryRef, Bool, Cache, Const, Cpu, Duration, Enum,
                     EnvValue, FromRef, IndexSource, IndexUrl, Int, ListOf, MapOf, Null, OneOf, Packages, ParamRef,
                     Quantity, Semaphore, Span, Str, StrMap, Strings, Ttl)

if TYPE_CHECKING:
    from ..errors import Errors
    from .load import Document

Where = tuple  # a node's data path in its document: ("tasks", "train", "resources")

_REF_KEYS = ("from", "param", "item", "workflow")


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class SpecNode(Frozen):
    """The base of every node class: immutable once built, slotted, equal when of the same class with
    equal `_fields` (hashable when they are): `record.Frozen`. Each class writes its own `__init__`,
    setting its slots through `object.__setattr__`."""

    __slots__ = ()


def is_node(value: Any) -> bool:
    """A node class (what `schemagen` writes a definition for when it declares keys)."""
    return isinstance(value, type) and issubclass(value, SpecNode)


_set = object.__setattr__


class _View(SpecNode):
    """A node over one mapping of the spec: `data` as loaded, `where` its data path."""

    __slots__ = _fields = ("data", "where")

    def __init__(self, data: Mapping[str, Any], where: Where) -> None:
        _set(self, "data", data)
        _set(self, "where", where)


class Key:
    """One spec key of a node, read from the node's mapping (`node.data`) when asked for: `read`
    turns a present value into its typed form (it gets the value and its data path); an absent
    or null one is `default`; `node` is the node class it gives (its schema definition), `read`
    itself when that is a node class; `of` the type its value is declared as (`shapes.py`; the
    node class by default), `required` whether it must be present. Reading on access keeps building
    the model to one small object per task (a 5,000-task spec builds in about the time
    `settings.effective` takes)."""

    __slots__ = ("key", "read", "default", "node", "of", "required")

    def __init__(self, read: Callable[[Any, Where], Any] | None = None, *, key: str | None = None,
                 default: Any = None, node: type | None = None, of: Any = None, required: bool = False):
        self.key, self.read, self.default = key, read, default
        self.node = node if node is not None else read if isinstance(read, type) else None
        self.of, self.required = of if of is not None else self.node, required

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = self.key or name

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        value = node.data.get(self.key)
        if value is None:
            return self.default
        read = self.read
        if read is None:  # a plain value: one of another shape than its default reads as the default
            default = self.default
            return value if default is None or isinstance(value, _SHAPE.get(type(default), type(default))) else default
        if read is _tuple or type(read) is type:  # a list; a node's mapping
            if not isinstance(value, list if read is _tuple else dict):
                return self.default
            return read(value, node.where + (self.key,))
        try:
            return _sound(read(value, node.where + (self.key,)), self.default)
        except (TypeError, ValueError, AttributeError):  # wrong-shaped: the schema check reports it
            return self.default


# Tolerance: the model is also built for a spec with schema errors (so every check reads it); a value
# of the wrong shape, which the schema check reports, reads as absent (the key's default) and a node
# over a wrong-shaped mapping is never made, so no reader fails on it or reports it again.
_SHAPE: dict[type, type | tuple[type, ...]] = {MappingProxyType: dict, tuple: list, bool: bool, str: str}


def _sound(value: Any, default: Any) -> Any:
    """A key's typed value, or `default` when it is a node over a wrong-shaped mapping; a tuple
    keeps only its sound items (each node keeps its own data path)."""
    if type(value) is tuple:
        return tuple(v for v in value if not hasattr(v, "data") or isinstance(v.data, dict))
    if hasattr(value, "data") and not isinstance(value.data, dict):
        return default
    return value


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one (a wrong-shaped value reads as absent)."""
    return value if isinstance(value, dict) else _EMPTY


def key_nodes(cls: type) -> dict[str, type | None]:
    """The spec keys a node class reads (what its schema definition must declare), each with the
    node class it gives (None for a plain value)."""
    return {v.key: v.node for c in reversed(cls.__mro__) for v in vars(c).values() if isinstance(v, Key)}


def schema_keys(cls: type) -> set[str]:
    """The spec keys a node class reads (what its schema definition must declare)."""
    return set(key_nodes(cls))


def _tuple(value: Any, where: Where) -> tuple:
    return tuple(value)


# --- values -----------------------------------------------------------------------------------


class Ref(SpecNode):
    """`{from: T[, key: K]}`, `{param: P}`, `{item: true | K}` or `{workflow: status}`."""

    __slots__ = _fields = ("kind", "target", "key", "where")
    kind: str  # "from" | "param" | "item" | "workflow"
    target: Any
    key: str | None
    where: Where

    def __init__(self, kind: str, target: Any, key: str | None, where: Where) -> None:
        _set(self, "kind", kind)
        _set(self, "target", target)
        _set(self, "key", key)
        _set(self, "where", where)


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


class Arg(SpecNode):
    """One argument of a task: its value as written, and the reference it is (if the whole value is one)."""

    __slots__ = _fields = ("name", "value", "ref", "where")
    name: str
    value: Any
    ref: Ref | None
    where: Where

    def __init__(self, name: str, value: Any, ref: Ref | None, where: Where) -> None:
        _set(self, "name", name)
        _set(self, "value", value)
        _set(self, "ref", ref)
        _set(self, "where", where)


ArgSet = tuple[Arg, ...]


def _arg_set(values: Mapping[str, Any], where: Where) -> ArgSet:
    out = []
    for k, v in values.items():  # once per argument of every task the checks read: kept lean
        at = where + (k,)
        out.append(Arg(k, v, ref_of(v, at) if type(v) is dict else None, at))
    return tuple(out)


class Parameter(SpecNode):
    """A workflow parameter and its default (`parameters: {NAME: DEFAULT}`)."""

    __slots__ = _fields = ("name", "default", "where")
    name: str
    default: Any
    where: Where

    def __init__(self, name: str, default: Any, where: Where) -> None:
        _set(self, "name", name)
        _set(self, "default", default)
        _set(self, "where", where)


# --- task parts -------------------------------------------------------------------------------
# Each node is a view: `data` is its mapping as validated (a task's after `defaults`), `where` its path.


class Backoff(_View):
    __slots__ = ()
    duration = Key(of=Span)
    factor = Key(of=Int(ge=1))
    max_duration = Key(of=Span)


class Retry(_View):
    """`retry: N` reads as `{limit: N}`."""

    __slots__ = ()
    limit = Key(of=Int(ge=0), required=True)
    backoff = Key(Backoff)
    policy = Key(of=Enum("Always", "OnFailure", "OnError", "OnTransientError"))


def _retry(value: Any, where: Where) -> Retry:
    return Retry({"limit": value} if isinstance(value, int) else value, where)


class Volume(_View):
    __slots__ = ()
    mount_path = Key(of=Str(), required=True)
    size = Key(of=Quantity)
    claim = Key(of=Str())
    name = Key(of=Str())
    storage_class = Key(of=Str())
    access_mode = Key(of=Enum("ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"))
    read_only = Key(of=Bool())


class Limits(_View):
    __slots__ = ()
    cpu = Key(of=Cpu)
    memory = Key(of=Quantity)


class Resources(_View):
    """A task's resources after `defaults` and the default request (1 CPU, 4Gi; a limit without a
    request sets the request); `cpu`/`memory` False or None request none."""

    __slots__ = ()
    cpu = Key(of=OneOf(Cpu, Const(False), Null()))  # false or null: no request
    memory = Key(of=OneOf(Quantity, Const(False), Null()))
    ephemeral_storage = Key(of=Quantity)
    gpu = Key(of=Int(ge=0))
    gpu_type = Key(of=Str())
    limits = Key(lambda v, w: Limits(v, w) if isinstance(v, dict) else v, node=Limits,  # True, False or Limits
                 of=OneOf(Bool(), Limits))
    volume = Key(Volume)
    volumes = Key(lambda v, w: tuple(Volume(x, w + (i,)) for i, x in enumerate(v)), default=(), node=Volume,
                  of=ListOf(Volume))

    @property
    def mounts(self) -> tuple[Volume, ...]:
        """`volume` then `volumes`: what the task mounts, in order."""
        one = self.volume
        return ((one,) if one is not None else ()) + self.volumes


class TemplateRef(_View):
    __slots__ = ()
    name = Key(of=Str(), required=True)
    template = Key(of=Str(), required=True)
    cluster = Key(default=False, of=Bool())


class WorkflowTemplateRef(_View):
    __slots__ = ()
    name = Key(of=Str(), required=True)
    cluster = Key(default=False, of=Bool())


def _arg_sets(args: Any, function: Any, where: Where) -> tuple[ArgSet, ...]:
    """A mapping is one argument set; a function task's list, one set per item (a fan-out); a
    container task's list is its container args (`container_args`), no set."""
    if isinstance(args, dict):
        return (_arg_set(args, where),)
    if isinstance(args, list) and function is not None:  # an item not a mapping: the checks report it
        return tuple(_arg_set(s, where + (i,)) for i, s in enumerate(args) if isinstance(s, dict))
    return ()


class _ArgsKey(Key):
    """`args` as argument sets: one for a mapping, one per item of a function task's list, none
    for a container task (its list is `container_args`). Built on first read and kept in the
    node's `_args` slot (not one of its fields): several checks read every task's."""

    __slots__ = ()

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        sets = node._args
        if sets is None:  # not read yet
            sets = _arg_sets(node.data.get("args"), node.data.get("function"), node.where + ("args",))
            _set(node, "_args", sets)
        return sets


class _ExitKey(Key):
    """`on_exit`, read with the spec's `defaults` applied (never `cache`: an exit handler always
    runs); an exit handler has none of its own."""

    __slots__ = ()

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        body = node.data.get("on_exit")
        if not body or not isinstance(body, dict):
            return None
        defaults = mapping(node.data.get("defaults")) if isinstance(node, Spec) else node.defaults
        settings = {k: v for k, v in effective(body, defaults).items() if k != "cache"}
        return ExitHandler(settings, node.where + ("on_exit",))


class _Body:
    """What a task and an exit handler share: the function or container they run and its settings."""

    __slots__ = ()
    data: Mapping[str, Any]
    where: Where
    function = Key(of=Str(FUNCTION_REF))
    image = Key(of=Str())
    command = Key(_tuple, of=Strings)
    env = Key(default=_EMPTY, of=MapOf(EnvValue))
    resources = Key(Resources)
    retry = Key(_retry, node=Retry, of=OneOf(Int(), Retry))
    timeout = Key(of=Duration)
    packages = Key(_tuple, default=(), of=Packages)  # the body's own (python/packages.for_task merges the levels)
    args = _ArgsKey(key="args", of=Args)

    @property
    def settings(self) -> Mapping[str, Any]:
        """The body's keys after `defaults` (`settings.effective`), for helpers taking a dict."""
        return self.data

    @property
    def container_args(self) -> tuple | None:
        args = self.data.get("args")
        return tuple(args) if isinstance(args, list) and self.data.get("function") is None else None

    @property
    def args_listed(self) -> bool:
        """`args` written as a list: argument sets (a function task) or container args."""
        return isinstance(self.data.get("args"), list)

    @property
    def is_container(self) -> bool:
        """Runs an image's command (its result is its standard output)."""
        return "function" not in self.data and "command" in self.data


class ExitHandler(_Body, _View):
    """`on_exit` of the workflow or of one task: a function or a container body with its args, read
    with `defaults` applied but never `cache` (an exit handler always runs)."""

    __slots__ = ("_args",)  # `args`, once read (_ArgsKey)

    def __init__(self, data: Mapping[str, Any], where: Where) -> None:
        _set(self, "data", data)
        _set(self, "where", where)
        _set(self, "_args", None)


class _SharedKeys:
    """What a spec, a task and `defaults` share: the package index, the service account and the
    pod's scheduling keys (for a spec, the workflow-wide ones; an exit handler has none of them)."""

    __slots__ = ()
    pip_index_url = Key(of=IndexSource)
    pip_extra_index_urls = Key(_tuple, default=(), of=ListOf(IndexUrl))
    service_account = Key(of=Str())
    node_selector = Key(default=_EMPTY, of=StrMap)
    tolerations = Key(_tuple, default=(), of=ListOf(AnyMap))
    affinity = Key(of=AnyMap)
    priority_class = Key(of=Str())
    pod_labels = Key(default=_EMPTY, of=StrMap)
    pod_annotations = Key(default=_EMPTY, of=StrMap)
    mutex = Key(of=Str(min_length=1))
    semaphore = Key(of=Semaphore)


class _PodKeys(_SharedKeys):
    """What a task and `defaults` share beyond the body and `_SharedKeys`: caching and the image pull
    policy."""

    __slots__ = ()
    cache = Key(of=OneOf(Bool(), Cache))
    image_pull_policy = Key(of=Enum("Always", "IfNotPresent", "Never"))


class Task(_Body, _PodKeys, SpecNode):
    """One task, read after `defaults` (`data` is `settings.effective` of what it writes)."""

    __slots__ = ("name", "data", "written", "defaults", "where", "_args")  # _args: `args`, once read (_ArgsKey)
    _fields = ("name", "data", "written", "defaults", "where")
    name: str
    data: Mapping[str, Any]
    written: Mapping[str, Any]  # the task's own keys, as written
    defaults: Mapping[str, Any]
    where: Where

    def __init__(self, name: str, data: Mapping[str, Any], written: Mapping[str, Any], defaults: Mapping[str, Any],
                 where: Where) -> None:
        _set(self, "name", name)
        _set(self, "data", data)
        _set(self, "written", written)
        _set(self, "defaults", defaults)
        _set(self, "where", where)
        _set(self, "_args", None)
    pipeline = Key(of=Str())
    on_exit = _ExitKey(key="on_exit", node=ExitHandler)
    template_ref = Key(TemplateRef)
    after = Key(_tuple, default=(), of=Strings)
    depends = Key(of=Str())
    when = Key(of=Str())
    # the items, or the reference giving them
    foreach = Key(lambda v, w: v if isinstance(v, list) else ref_of(v, w), of=OneOf(ListOf(ANY), FromRef, ParamRef))
    outputs = Key(default=_EMPTY, of=MapOf(Str(RESULT_KEY), names=Str(OUTPUT_NAME)))
    continue_on = Key(_tuple, default=(), of=ListOf(Enum("failed", "error")))
    argo = Key(default=_EMPTY, of=ArgoTask)  # {task: {...}, template: {...}}
    code = Key(default="carry", of=Enum("carry", "image"))
    result = Key(default="parameter", of=Enum("parameter", "artifact"))

    @property
    def own(self) -> "Task":
        """The task as written, `defaults` not applied: for a check that locates a problem where
        the task writes it."""
        return Task(self.name, self.written, self.written, _EMPTY, self.where)


class Defaults(_PodKeys, _View):
    """`defaults` as written (what every task inherits)."""

    __slots__ = ()
    image = Key(of=Str())
    resources = Key(Resources)  # as written: a task's own `resources` has them merged
    retry = Key(_retry, node=Retry, of=OneOf(Int(), Retry))
    timeout = Key(of=Duration)
    env = Key(default=_EMPTY, of=MapOf(EnvValue))
    packages = Key(_tuple, default=(), of=Packages)
    code = Key(of=Enum("carry", "image"))
    result = Key(of=Enum("parameter", "artifact"))


class _TasksKey(Key):
    """`tasks`: the task nodes the spec was built with (each after `defaults`, built once by `from_data`)."""

    __slots__ = ()

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        return self if node is None else node._tasks


class Spec(_SharedKeys, SpecNode):
    """A schema-valid spec: `data` the mapping it was built from, `tasks` its tasks after
    `defaults`, `document` the loaded file (None when built from plain data: `pos` is then (0, 0))."""

    __slots__ = ("data", "_tasks", "document", "where")
    _fields = ("data", "tasks", "document", "where")
    data: Mapping[str, Any]
    document: "Document | None"
    where: Where

    def __init__(self, data: Mapping[str, Any], tasks: Mapping[str, Task], document: "Document | None" = None,
                 where: Where = ()) -> None:
        _set(self, "data", data)
        _set(self, "_tasks", tasks)
        _set(self, "document", document)
        _set(self, "where", where)

    tasks = _TasksKey(key="tasks", node=Task, of=MapOf(Task, names=Str(TASK_NAME, max_length=ARGO_FIELD_NAME_MAX),
                                                        min_size=1))
    schema_ = Key(key="$schema", of=Str())
    kind = Key(default="Workflow", of=Enum("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"))
    name = Key(of=Str())
    generate_name = Key(of=Str())
    namespace = Key(of=Str())
    image = Key(default="python:3.12", of=Str())
    labels = Key(default=_EMPTY, of=StrMap)
    annotations = Key(default=_EMPTY, of=StrMap)
    parallelism = Key(of=Int(ge=1))
    parameters = Key(lambda v, w: tuple(Parameter(k, x, w + (k,)) for k, x in v.items()), default=(), of=AnyMap)
    defaults = Key(Defaults, default=Defaults(_EMPTY, ("defaults",)))
    packages = Key(_tuple, default=(), of=Packages)
    result = Key(of=Str())
    workflow_template_ref = Key(WorkflowTemplateRef)
    artifact_repository = Key(of=ArtifactRepositoryRef)
    edges = Key(_tuple, default=(), of=Strings)
    schedule = Key(lambda v, w: (v,) if isinstance(v, str) else tuple(v), default=(), of=OneOf(Str(), Strings))
    timezone = Key(of=Str())
    concurrency_policy = Key(of=Enum("Allow", "Forbid", "Replace"))
    deadline = Key(of=Duration)
    ttl = Key(of=Ttl)
    pod_gc = Key(of=Enum("on_pod_completion", "on_pod_success", "on_workflow_completion", "on_workflow_success"))
    archive_logs = Key(of=Bool())
    priority = Key(of=Int(ge=-(2**31), le=2**31 - 1))
    argo = Key(default=_EMPTY, of=AnyMap)
    on_exit = _ExitKey(key="on_exit", node=ExitHandler)

    @property
    def path(self) -> str:
        return self.document.path if self.document is not None else ""

    @property
    def task_names(self) -> KeysView:
        """Every name under `tasks`, in order, also of a task whose body is not a mapping (which
        has no node in `tasks`)."""
        return mapping(self.data.get("tasks")).keys()

    def pos(self, node: Any, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of a node (or a data path) in its file, or of its key (key=True);
        (0, 0) without a document."""
        where = node if isinstance(node, tuple) else node.where
        return self.document.pos(where, key=key) if self.document is not None else (0, 0)

    def error(self, errors: "Errors", node: Any, message: str, hint: str | None = None) -> None:
        """A located error at a node (or a data path)."""
        line, col = self.pos(node)
        errors.add(self.path, line, col, message, hint)


# --- building ---------------------------------------------------------------------------------


def build_model(doc: "Document") -> Spec:
    """The model of a loaded spec mapping (built once, in pipeline.py, before the checks), also
    when the schema check found problems: see `Key` on wrong-shaped values."""
    return from_data(doc.data, doc)


def from_data(data: Mapping[str, Any], doc: "Document | None" = None) -> Spec:
    """The model of spec data: each task's settings after `defaults`, once. A task whose body is
    not a mapping has no node (`Spec.task_names` still names it); a wrong-shaped `defaults` is none."""
    defaults = mapping(data.get("defaults"))
    tasks = {name: Task(name, effective(t, defaults), t, defaults, ("tasks", name))
             for name, t in mapping(data.get("tasks")).items() if isinstance(t, dict)}
    return Spec(data, tasks, doc)
