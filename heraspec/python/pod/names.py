"""Names the compiler, the local runner and the script share: environment variables, paths, limits."""

# --- names the compiler, the local runner and the script share ----------------------------------------

INPUT_PREFIX = "HERASPEC_IN_"  # each parameter's text is in env HERASPEC_IN_<name>
DEFAULT_MARKER = "__heraspec_default__"  # the env value meaning "let Python apply the default"
PLAN_ENV = "HERASPEC_PLAN"  # per task: how to read inputs that are results (read_input)
RESULT_PATH = "/tmp/heraspec/result.json"  # the result parameter's file
RESULT_PATH_ENV = "HERASPEC_RESULT_PATH"  # moves it (the local runner sets it)
RESULT_MODE_ENV = "HERASPEC_RESULT"  # where the result goes: "file" or "artifact" (unset: a parameter)
OUTPUTS_ENV = "HERASPEC_OUTPUTS"  # named outputs: {output name: dotted key path}, JSON
ARTIFACT_DIR = "/tmp/heraspec/artifacts"  # in/<param>/<entry> and out/result/<entry> (artifact_paths.py)
ARTIFACT_DIR_ENV = "HERASPEC_ARTIFACT_DIR"  # moves it (the local runner sets it)
ONE = "__heraspec_artifact__"  # an input's env value: it is the folder in/<param>
MANY = "__heraspec_artifacts__"  # an input's env value: it is in/<param>/<index>/..., a fan-in
VALUE_FILE = "value.json"  # a value sent through the artifact repository (`result: artifact`)
# Argo puts each input of a script in one environment variable; Linux refuses (E2BIG) a variable of
# MAX_ARG_STRLEN = 128 KiB or more, which Argo also knows as common.MaxEnvVarLen (workflow/common/
# common.go). A result passed as a parameter must leave room for the consumer's variable name.
PARAMETER_LIMIT = 128 * 1024 - 1024
PACKAGES_ENV = "HERASPEC_PACKAGES"  # the task's packages, JSON (install_packages)
INSTALL_FAILED = 97  # the exit code of a failed install: the retry strategy does not retry it
RUNTIME_FILE = "<heraspec runtime>"  # the file name a workflow's scripts run the shared runtime under (carried.py)
