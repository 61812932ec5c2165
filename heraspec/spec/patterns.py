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
