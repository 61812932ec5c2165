"""Regular expressions of the spec's string forms, shared by the model (the schema) and the checks.

Kept free of imports so the validate path can use them without loading pydantic.
"""

TASK_NAME = r"^[a-zA-Z0-9][-_a-zA-Z0-9]*$"
FUNCTION_REF = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
CPU = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)m?$"
# a field of a task's result: dotted keys (`metrics.accuracy`); Argo output parameter names
RESULT_KEY = r"^[^.]+(\.[^.]+)*$"
OUTPUT_NAME = r"^[-a-zA-Z0-9_]+$"

# Kubernetes object names (a DNS-1123 subdomain) and namespaces (a DNS-1123 label). Argo caps
# object names at 63 characters and a CronWorkflow's at 52 (it appends a timestamp to the Workflows
# it starts): workflow/validate/validate.go, maxCharsInObjectName and ValidateCronWorkflow.
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NAME_LIMITS = {"CronWorkflow": 52}


def name_problem(kind: str, name: object) -> str | None:
    """Why `name` cannot be a `kind`'s metadata.name (None when it can). It goes into request URLs."""
    import re

    limit = NAME_LIMITS.get(kind, 63)
    if not isinstance(name, str):
        return f"name {name!r} is not a string"
    if len(name) > limit:
        return f"name '{name}' is {len(name)} characters; a {kind} name has at most {limit}"
    if not re.match(K8S_NAME, name):
        return f"name {name!r} is not a valid Kubernetes name"
    return None


def namespace_problem(namespace: object) -> str | None:
    import re

    if not isinstance(namespace, str) or len(namespace) > 63 or not re.match(NAMESPACE, namespace):
        return f"namespace {namespace!r} is not a valid Kubernetes namespace"
    return None


NAME_HINT = "use lowercase letters, digits and '-', starting and ending with a letter or digit"
