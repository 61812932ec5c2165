"""The runtime of a heraspec script task: read the inputs, check them, call the function, write its result.

    main(module, name, kinds)    in the pod: `module.name(**inputs)`, its result written where Argo reads it

This is the program an Argo `script` template runs (`python -I`), the same locally (`heraspec run`)
and in the pod. It imports only the standard library and nothing of heraspec: with `code: carry`
(the default) script.py copies the parts a template uses, whole top-level definitions as written
in the modules of this package (pod_source.py), in this order: names, packages, carried, decode,
boundary, files, results, entry, into one text: in a Workflow, the parts its templates use, once,
in the workflow's parameter with the carried code (the script runs it from env HERASPEC_CODE);
in a WorkflowTemplate's script, that template's parts; with `code: image` the script imports
`main` from this package, installed in the image with heraspec. The compiler's own checks call
`decode` and `coerce` here, so that they and the pods read values alike.

Kinds (the compiler's reading of each annotation, see functions.Param.annotation): None (no
annotation, or Any), "str" "int" "float" "bool" "list" "dict", "list:KIND" "dict:KIND" (the
elements' kind), "tuple" "set" "frozenset" (":KIND" for their elements), "model:NAME" (a class of the
user's code, or "model:MODULE.NAME" through a module it imports: a dataclass, NamedTuple, Enum,
TypedDict or Pydantic model), "path" "paths" (files, read by the artifact code). A parameter's kind
ending in " | None" admits None (an Optional[str] reads the text `null` as None unless its plan is
"str"); any other annotated parameter refuses it. Plans (from the compiler, per task, in env
PLAN_ENV): "str" (the text is a str result, kept as it is), "json" (a literal written as JSON because
its own text would be misread: the str "42"), "agg" / "agg:str" (Argo's aggregate of a fanned-out
task's results) and "item" or
"item+PLAN" ({{item.KEY}}, whose strings keep their JSON escapes, then read as PLAN).

A function whose kind or plan a template never uses is left out of its script, and so is the
branch of an `if` that calls an optional one left out (pod_source.OPTIONAL). Everything else stays
as it is written, comments included. The modules import each other by relative imports only
(`from .decode import coerce`), which a script, holding them all in one namespace, leaves out.
"""

from .names import (
    ARTIFACT_DIR, ARTIFACT_DIR_ENV, DEFAULT_MARKER, INPUT_PREFIX, INSTALL_FAILED, MANY, ONE,
    OUTPUTS_ENV, PACKAGES_ENV, PARAMETER_LIMIT, PLAN_ENV, RESULT_MODE_ENV, RESULT_PATH, RESULT_PATH_ENV,
    RUNTIME_FILE, VALUE_FILE,
)
from .packages import install_packages, pip_reason
from .carried import (
    CarriedFileLoader, CarriedFinder, CarriedLoader, serve_carried_modules, unpack_code, write_data_files,
)
from .decode import (
    Unfit, coerce, coerce_bool, coerce_dict, coerce_float, coerce_frozenset, coerce_int, coerce_list, coerce_model,
    coerce_set, coerce_str, coerce_tuple, decode, decoded_container, is_null_text, number_in, read_aggregate,
    read_input, read_item_field, read_json_literal, rebuild,
)
from .boundary import (
    fits, fits_bool, fits_dict, fits_element, fits_float, fits_frozenset, fits_int, fits_list, fits_model, fits_set,
    fits_tuple, refuse_unfit,
)
from .files import artifact_root, only_entry, read_artifact, write_file_result
from .results import (
    argo_unsafe, json_text, plain, publish, refuse_result, result_text, utf8_text, way_out, write_result_parameter,
    write_value_artifact, write_value_result,
)
from .entry import main
