"""Regular expressions of the spec's string forms, shared by the model (its schema types) and the checks.

Kept free of imports: the validate path loads it.
"""

TASK_NAME = r"^[a-zA-Z0-9][-_a-zA-Z0-9]*$"
FUNCTION_REF = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
CPU = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)m?$"
# a field of a task's result: dotted keys (`metrics.accuracy`); Argo output parameter names
# an Argo task name as Argo checks it (workflow/util IsValidWorkflowFieldName: at most 128 characters);
# what `argo: {task: {name: ...}}` may set, and what heraspec run makes a folder of
ARGO_TASK_NAME = r"^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$"
RESULT_KEY = r"^[^.]+(\.[^.]+)*$"
# Argo's longest template, task and step name (workflow/validate/validate.go, isValidWorkflowFieldName:
# workflowFieldMaxLength)
ARGO_FIELD_NAME_MAX = 128
# Argo's controller marks a template called this deep Error (workflow/controller/controller.go
# maxAllowedStackDepth; operator.go executeTemplate: currentStackDepth >= maxStackDepth gives
# ErrMaxDepthExceeded, whose text, with help.ConfigureMaximumRecursionDepth for v4.1, is below)
ARGO_MAX_STACK_DEPTH = 100
ARGO_MAX_DEPTH_MESSAGE = ("Maximum recursion depth exceeded. See "
                          "https://argo-workflows.readthedocs.io/en/release-4.1/scaling/#maximum-recursion-depth")
OUTPUT_NAME = r"^[-a-zA-Z0-9_]+$"
# a package index URL: no Argo "{{" in what the template carries
INDEX_URL = r"^(https?|file)://[^\s{}]+$"
# where an artifact from outside the workflow is
ARTIFACT_URL = r"^(s3|gs|https?)://[^/]+/.+"

# Kubernetes object names (a DNS-1123 subdomain) and namespaces (a DNS-1123 label). Argo caps
# object names at 63 characters and a CronWorkflow's at 52 (it appends a timestamp to the Workflows
# it starts): workflow/validate/validate.go, maxCharsInObjectName and ValidateCronWorkflow.
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAME_LIMITS = {"CronWorkflow": 52}


def name_problem(kind: str | None, name: object) -> str | None:
    """Why `name` cannot be a `kind`'s metadata.name (None when it can). It goes into request URLs.
    `kind` None: a resource of unknown kind (at most 63 characters)."""
    import re

    limit = NAME_LIMITS.get(kind or "", 63)
    if not isinstance(name, str):
        return f"name {name!r} is not a string"
    if len(name) > limit:
        return f"name '{name}' is {len(name)} characters; a {kind or 'resource'} name has at most {limit}"
    if not re.match(K8S_NAME, name):
        return f"name {name!r} is not a valid Kubernetes name"
    return None


def is_dns_label(value: object) -> bool:
    """apimachinery IsDNS1123Label, the form of namespaces and volume names: NAMESPACE's form, the
    whole text (no trailing newline), at most 63 characters."""
    import re

    return isinstance(value, str) and len(value) <= 63 and re.fullmatch(NAMESPACE[1:-1], value) is not None


def namespace_problem(namespace: object) -> str | None:
    if not is_dns_label(namespace):
        return f"namespace {namespace!r} is not a valid Kubernetes namespace"
    return None


def generate_name_problem(prefix: object, key: str = "generateName") -> str | None:
    """Why `prefix` cannot be a Workflow's generateName (Kubernetes appends 5 characters to it)."""
    import re

    if not isinstance(prefix, str) or len(prefix) > 58 or not re.match(K8S_NAME, prefix.rstrip("-") or "-"):
        return f"{key} {prefix!r} is not a valid name prefix"
    return None


NAME_HINT = "use lowercase letters, digits and '-', starting and ending with a letter or digit"
GENERATE_NAME_HINT = "lowercase letters, digits and '-', at most 58 characters (5 are added)"


# heraspec's one duration syntax for the production keys (`deadline`, `ttl`, `cache.max_age`, `pod_gc`
# delays): Go's units plus `d` (24h), e.g. `90s`, `10m`, `2h`, `1d`, `1h30m`. Argo reads seconds
# (activeDeadlineSeconds, ttlStrategy) or Go's time.ParseDuration (memoize.maxAge), which has no `d`:
# `seconds` and `go_duration` write each form.
SPAN = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$"
_SPAN_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: object) -> float | None:
    """Seconds in a SPAN (or a bare number of seconds); None when it is not one."""
    import re

    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    if not isinstance(value, str) or not re.match(SPAN, value):
        return None
    return sum(float(n) * _SPAN_UNITS[u] for n, _, u in re.findall(r"([0-9]+(\.[0-9]+)?)(ns|us|µs|ms|s|m|h|d)", value))


def go_duration(value: object) -> str:
    """A SPAN as Go's time.ParseDuration reads it: days become hours, a bare number seconds."""
    import re

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value}s"
    return re.sub(r"([0-9]+(?:\.[0-9]+)?)d", lambda m: f"{_fmt(float(m.group(1)) * 24)}h", str(value))


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


# --- credentials in URLs --------------------------------------------------------------------------
# `https://user:token@host/simple` is refused wherever a spec takes a URL (`pip_index_url`,
# `pip_extra_index_urls`, artifact URLs): the manifest would carry it in clear for anyone who can
# read the Workflow. Messages show the URL redacted, never the credentials.
# scheme://[userinfo@]host...: RFC 3986 authority; userinfo ends at the last '@' before the path
URL_USERINFO = r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/?#]*@)(?P<rest>.*)$"


def url_userinfo(url: str) -> bool:
    """The URL has a `user@` or `user:password@` part."""
    import re

    return bool(re.match(URL_USERINFO, url, re.S))


def url_redacted(url: str) -> str:
    """The URL with its credentials shown as `***@`."""
    import re

    m = re.match(URL_USERINFO, url, re.S)
    return f"{m.group('scheme')}***@{m.group('rest')}" if m else url
