"""The shapes of the spec values the model keeps as plain data: durations, quantities, the
references inside `args` and `env`, and the small mappings (`cache`, `ttl`, `semaphore`, ...)
no stage reads as a node. Declared once here, in `schematypes`' words; `nodes`' keys use them and
`schemagen` writes them into the JSON Schema.
"""

from __future__ import annotations

from .patterns import ARTIFACT_URL, CPU, INDEX_URL, QUANTITY, RESULT_KEY, SPAN
from .schematypes import ANY, Bool, Int, ListOf, MapOf, Num, Obj, OneOf, Str

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
