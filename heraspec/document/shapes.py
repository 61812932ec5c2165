"""The types a spec value is declared as: plain, immutable data, cheap to build at import.

    Str(pattern=, min_length=, max_length=)   Int(ge=, le=)   Num(gt=)   Bool()   Null()
    Const(value)   Enum(*values)   ListOf(item)   MapOf(value, names=, min_size=)   OneOf(*types)
    ANY (any value)   Obj(name, {key: type}, required=)   a node class of document/nodes.py

and, in those words, the shapes several keys share or the model keeps as plain data: durations,
quantities, the references inside `args` and `env`, the small mappings (`cache`, `ttl`, ...).
Each `nodes.Key` carries one (`Key.of`); an `Obj` is a mapping the model keeps as plain data, a node
class one it reads as a node. Nothing here knows JSON Schema: `schemagen` writes the schema from
these declarations, and is imported only by that command, the tests and the language server, never
on `validate`'s path.
"""

from __future__ import annotations

from typing import Any

from .patterns import ARTIFACT_URL, CPU, INDEX_URL, QUANTITY, RESULT_KEY, SPAN




class SchemaType:
    """A value's declared type. Equal when of the same class with the same parts."""

    __slots__ = ()

    def _parts(self) -> tuple:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._parts() == self._parts()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._parts()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{s}={v!r}" for s, v in zip(self.__slots__, self._parts()) if v is not None)
        return f"{type(self).__name__}({shown})"


class Str(SchemaType):
    __slots__ = ("pattern", "min_length", "max_length")

    def __init__(self, pattern: str | None = None, *, min_length: int | None = None, max_length: int | None = None):
        self.pattern, self.min_length, self.max_length = pattern, min_length, max_length


class Int(SchemaType):
    """An integer (never a bool), `ge` <= it <= `le`."""

    __slots__ = ("ge", "le")

    def __init__(self, *, ge: int | None = None, le: int | None = None):
        self.ge, self.le = ge, le


class Num(SchemaType):
    """Any number (an integer too) above `gt`."""

    __slots__ = ("gt",)

    def __init__(self, *, gt: float | None = None):
        self.gt = gt


class Bool(SchemaType):
    __slots__ = ()


class Null(SchemaType):
    """An explicit `null` (YAML `~`), where it means something other than absent."""

    __slots__ = ()


class Const(SchemaType):
    """Exactly this one value (`False`: `cpu: false` requests none)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class Enum(SchemaType):
    """One of these strings."""

    __slots__ = ("values",)

    def __init__(self, *values: str):
        self.values = values


class ListOf(SchemaType):
    __slots__ = ("item",)

    def __init__(self, item: Any):
        self.item = item


class MapOf(SchemaType):
    """A mapping of any keys (each matching `names`, when given; at least `min_size` of them) to values of one type."""

    __slots__ = ("value", "names", "min_size")

    def __init__(self, value: Any, *, names: Str | None = None, min_size: int | None = None):
        self.value, self.names, self.min_size = value, names, min_size


class OneOf(SchemaType):
    """A value of any of these types (JSON Schema's `anyOf`; nested OneOfs read as one)."""

    __slots__ = ("types",)

    def __init__(self, *types: Any):
        self.types = types


class AnyValue(SchemaType):
    __slots__ = ()


ANY = AnyValue()


class Obj(SchemaType):
    """A mapping of exactly these keys, kept as plain data by the model: `name` is its definition
    in the schema, `required` the keys it must have."""

    __slots__ = ("name", "keys", "required")

    def __init__(self, name: str, keys: dict[str, Any], *, required: tuple[str, ...] = ()):
        self.name, self.keys, self.required = name, keys, required

    def __hash__(self) -> int:
        return hash((Obj, self.name))


# --- shapes -----------------------------------------------------------------------------------
# one duration syntax everywhere (patterns.SPAN): Go's units plus `d`, or a number of seconds
Duration = OneOf(Str(SPAN), Int(ge=0))
Span = Str(SPAN)
Quantity = Str(QUANTITY)
Cpu = OneOf(Num(gt=0), Str(CPU))
IndexUrl = Str(INDEX_URL)
StrMap = MapOf(Str())
AnyMap = MapOf(ANY)
Packages = ListOf(Str(min_length=1))
Strings = ListOf(Str())

# --- references -------------------------------------------------------------------------------
FromRef = Obj("FromRef", {"from": Str(), "key": Str(RESULT_KEY)}, required=("from",))
ParamRef = Obj("ParamRef", {"param": Str()}, required=("param",))
SecretRef = Obj("SecretRef", {"secret": Str(), "key": Str()}, required=("secret", "key"))
ConfigMapRef = Obj("ConfigMapRef", {"config_map": Str(), "key": Str()}, required=("config_map", "key"))
RepositoryKey = Obj("RepositoryKey", {"key": Str(min_length=1)}, required=("key",))
ArtifactRef = Obj("ArtifactRef", {"artifact": OneOf(Str(ARTIFACT_URL), RepositoryKey), "endpoint": Str(),
                                  "secret": Str()}, required=("artifact",))

EnvValue = OneOf(Str(), Int(), Num(), Bool(), SecretRef, ConfigMapRef)
# `{artifact: ...}` is listed for editors (completion, hover); any other value is accepted here and checked later
Args = OneOf(MapOf(OneOf(ArtifactRef, ANY)), ListOf(ANY))
IndexSource = OneOf(IndexUrl, SecretRef)

# --- small mappings ---------------------------------------------------------------------------
ArtifactRepositoryRef = Obj("ArtifactRepositoryRef", {"config_map": Str(), "key": Str()})
Semaphore = Obj("Semaphore", {"config_map": Str(), "key": Str()}, required=("config_map", "key"))
Cache = Obj("Cache", {"max_age": Duration, "config_map": Str()})
Ttl = Obj("Ttl", {"after_completion": Duration, "after_success": Duration, "after_failure": Duration})
ArgoTask = Obj("ArgoTask", {"task": AnyMap, "template": AnyMap})
