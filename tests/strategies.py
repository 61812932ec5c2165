"""Hypothesis strategies for heraspec specs: valid specs, their YAML/TOML text, and mutations of it.

`specs()` draws spec data that must validate, compile to strict-valid Argo and (with trivial
functions from STEPS_SOURCE) run locally. It also returns the expected result of every function
task, computed with the documented passing rules (strings as they are, anything else as JSON; the
function decodes JSON where it parses, `str` keeps the raw text), so a run can be checked value by
value. `to_yaml` / `to_toml` are tiny writers (every string quoted, so YAML 1.1/1.2 differences and
TOML bare-word rules never change a value). `mutations()` breaks a spec's text in the ways people
and tools do: deleted or swapped lines, bad indentation, renamed keys, wrong types, junk, truncation,
byte flips.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from heraspec.argo.arguments import encode
from heraspec.check.task_rules import EXPR_KEYWORDS
from heraspec.check.dag import argo_name, build_graph
from heraspec.local.expr import item_str
from heraspec.python.script import argo_unsafe, coerce, decode as _decode

# --- the trivial functions every generated spec calls -----------------------------------------

STEPS_SOURCE = '''\
def identity(x):
    return x


def pair(a, b=None):
    return [a, b]


def concat(a: str, b: str = "-") -> str:
    return a + b


def make_list(n: int = 2) -> list:
    return list(range(n))


def size(xs: list) -> int:
    return len(xs)


def nothing():
    return None
'''

# name -> [(param, annotation, required, default value)]
FUNCTIONS: dict[str, list[tuple[str, str | None, bool, Any]]] = {
    "identity": [("x", None, True, None)],
    "pair": [("a", None, True, None), ("b", None, False, None)],
    "concat": [("a", "str", True, None), ("b", "str", False, "-")],
    "make_list": [("n", "int", False, 2)],
    "size": [("xs", "list", True, None)],
    "nothing": [],
}
SECRET_ENV = {"API_TOKEN": "token-from-env"}  # the local runner reads {secret} env vars from its own env


_FUNCTION_OF: dict[str, str] = {}  # task -> function, for the example being drawn
_ARRIVES: dict[str, Any] = {}  # fanned-out task -> what its consumers receive (Argo's aggregation)


def _through_go(v: Any) -> Any:
    """A JSON value after Go decodes it into interface{} and encodes it again: numbers become float64
    and print as encoding/json prints floats ('f' format with the shortest digits below 1e21)."""
    if isinstance(v, dict):
        return {k: _through_go(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_through_go(x) for x in v]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    f = float(v)
    if f == 0 or not 1e-6 <= abs(f) < 1e21:
        return json.loads(repr(f)) if f else 0
    text = format(Decimal(repr(f)), "f")
    return json.loads(text.rstrip("0").rstrip(".") if "." in text else text)


def _argo_fan_in(results: list) -> list:
    """aggregatedJSONValueList: children's values are decoded (through Go) only when every one is a
    JSON object or array; otherwise each arrives as its own text, which the consumer decodes exactly."""
    if results and all(isinstance(r, (dict, list)) for r in results):
        return [_through_go(r) for r in results]
    return results


def call(fn: str, kwargs: dict[str, Any]) -> Any:
    """What the function returns for decoded arguments (STEPS_SOURCE, in Python)."""
    if fn == "identity":
        return kwargs["x"]
    if fn == "pair":
        return [kwargs["a"], kwargs.get("b")]
    if fn == "concat":
        return kwargs["a"] + kwargs.get("b", "-")
    if fn == "make_list":
        return list(range(kwargs.get("n", 2)))
    if fn == "size":
        return len(kwargs["xs"])
    return None


# --- scalar and JSON values -------------------------------------------------------------------

# text users pass: any printable character, newlines and tabs; no "{{" (Argo's own tags, documented
# as passed through for Argo to substitute) and no "[[" (a values placeholder)
_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x2FFFF) | st.sampled_from("\n\t")
texts = st.text(_CHARS, max_size=12).filter(lambda s: "{{" not in s and "[[" not in s and argo_unsafe(s) is None)
# text that is not JSON, so it is the same whether the function decodes it or not
words = st.from_regex(r"[a-z][a-z ._-]{0,10}", fullmatch=True)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)  # TOML integers are 64-bit
floats = st.floats(allow_nan=False, allow_infinity=False, width=32)
scalars = st.one_of(ints, texts, st.booleans(), floats)
_keys = texts.filter(lambda k: k not in ("from", "param", "item"))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(_keys, inner, max_size=3), max_leaves=6)

task_names = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,12}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
    st.integers(40, 128).map(lambda n: ("t_" * 64)[: n - 1] + "z"),  # long, up to the limit
).filter(lambda n: not (n[0].isdigit() or n.lower() in ("true", "false")  # Argo: no digit first with depends
                            or argo_name(n).replace("-", "_") in EXPR_KEYWORDS))
param_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
dns = st.from_regex(r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
# built once: hypothesis validates every new strategy object, which costs more than drawing
_parameters = st.dictionaries(param_names, st.one_of(ints, words, st.lists(st.integers(0, 9), min_size=1, max_size=3)),
                              max_size=3)
_json_lists = st.lists(json_values, max_size=3)
_items = st.lists(st.one_of(st.integers(0, 99), words, st.dictionaries(st.sampled_from(["k", "v"]), st.integers(0, 9),
                                                                      min_size=2)), min_size=1, max_size=3)
_small = st.integers(0, 2)
_chain = st.lists(st.integers(0, 1000), min_size=4, max_size=4)


def arg_text(value: Any) -> str:
    """The text a literal argument reaches the script as."""
    return encode(value)


def decoded(value: Any, annotation: str | None) -> Any:
    """A literal value as the function receives it: a str whose text would read as something else
    travels as JSON (the compiler's "json" plan), so it arrives as the str."""
    if isinstance(value, str) and annotation != "str" and _decode(value, annotation) != value:
        return coerce(value, annotation)
    return _decode(arg_text(value), annotation)


# --- specs ------------------------------------------------------------------------------------


@dataclass
class Generated:
    data: dict
    expected: dict[str, Any] = field(default_factory=dict)  # function task -> result (fan-out: list)
    secret_env: bool = False


@st.composite
def specs(draw: Any, *, max_tasks: int = 7, extras: bool = True) -> Generated:
    """A valid spec; every function task's expected result is known. `extras` adds settings the
    local runner does not change results for (resources, volumes, retry, env, argo, labels...)."""
    kind = draw(st.sampled_from(["Workflow", "Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate",
                                 "CronWorkflow"]))
    data: dict[str, Any] = {"kind": kind}
    name = draw(dns)
    if kind == "Workflow" and draw(st.booleans()):
        data["generate_name"] = name + "-"
    else:
        data["name"] = name
    if kind == "CronWorkflow":
        data["schedule"] = draw(st.sampled_from(["0 3 * * *", ["0 3 * * *", "30 4 * * 1"], "@hourly"]))
        if draw(st.booleans()):
            data["timezone"] = "Europe/Paris"
        if draw(st.booleans()):
            data["concurrency_policy"] = draw(st.sampled_from(["Allow", "Forbid", "Replace"]))
    if kind != "ClusterWorkflowTemplate" and draw(st.booleans()):
        data["namespace"] = draw(dns)
    params: dict[str, Any] = draw(_parameters)
    if params:
        data["parameters"] = params
    secret = False
    if extras:
        if draw(st.booleans()):
            data["labels"] = {"team": draw(dns), "app.kubernetes.io/name": "heraspec"}
        if draw(st.booleans()):
            data["annotations"] = {"owner": "jane@example.com", "note": draw(texts)}
        if draw(st.booleans()):
            data["service_account"] = "argo-workflow"
        if draw(st.booleans()):
            data["parallelism"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            data["image"] = draw(st.sampled_from(["python:3.11", "ghcr.io/acme/trainer:1.4"]))
        if draw(st.booleans()):
            data["defaults"] = draw(_task_settings(defaults=True))
        if draw(st.booleans()):
            gc = {"podGC": {"strategy": "OnPodSuccess"}}
            data["argo"] = {"spec": {"workflowSpec": gc} if kind == "CronWorkflow" else gc}

    names: list[str] = []
    for _ in range(draw(st.integers(1, max_tasks))):
        t = draw(task_names)
        if argo_name(t) not in {argo_name(n) for n in names}:
            names.append(t)

    tasks: dict[str, dict] = {}
    expected: dict[str, Any] = {}
    _ARRIVES.clear()
    lists: set[str] = set()  # tasks whose result is a list
    fn_tasks: list[str] = []
    edges: list[str] = []
    list_params = [p for p, v in params.items() if isinstance(v, list)]
    int_params = [p for p, v in params.items() if isinstance(v, int) and 0 <= v <= 5]
    for i, tname in enumerate(names):
        earlier = names[:i]
        task: dict[str, Any] = {}
        container = extras and draw(st.integers(0, 9)) == 0
        if container:
            task["image"] = "python:3.12"
            task["command"] = ["python"]
            cargs: list[Any] = ["-c", "import sys; print(sys.argv[1:])"]
            if fn_tasks and draw(st.booleans()):
                cargs.append({"from": draw(st.sampled_from(fn_tasks))})
            cargs.append(draw(words))
            task["args"] = cargs
        else:
            fn = draw(st.sampled_from(list(FUNCTIONS)))
            task["function"] = f"steps:{fn}"
            _FUNCTION_OF[tname] = fn
            result = _draw_call(draw, fn, task, tname, expected, fn_tasks, lists, params, list_params, int_params)
            expected[tname] = result
            fn_tasks.append(tname)
            fanned = "foreach" in task or isinstance(task.get("args"), list)
            if fanned:
                _ARRIVES[tname] = _argo_fan_in(result)
            if fanned or fn == "make_list":
                lists.add(tname)
        # edges to earlier tasks, written in every way the spec allows
        deps = [e for e in earlier if draw(_small) == 0][:3]
        for d in deps:
            how = draw(st.sampled_from(["after", "edges", "depends"]))
            if how == "after":
                task.setdefault("after", []).append(d)
            elif how == "edges":
                edges.append(f"{d} >> {tname}")
            else:
                task["depends"] = " && ".join(filter(None, [task.get("depends"),
                                                           d + draw(st.sampled_from(["", ".Succeeded"]))]))
        if extras and draw(st.integers(0, 2)) == 0:
            settings = draw(_task_settings(defaults=False))
            volume = (settings.get("resources") or {}).get("volume")
            if volume and len(argo_name(tname)) > 59:  # the default name <task>-vol would be too long
                volume["name"] = "data"
            secret = secret or any(isinstance(v, dict) and "secret" in v for v in (settings.get("env") or {}).values())
            task.update(settings)
        if extras and draw(st.integers(0, 5)) == 0:
            task["argo"] = {"template": {"nodeSelector": {"pool": "cpu"}}}
        if extras and draw(st.integers(0, 5)) == 0:
            task["continue_on"] = draw(st.sampled_from([["failed"], ["failed", "error"], ["error"]]))
        tasks[tname] = task
    if len(names) >= 3 and draw(st.booleans()):  # a chain with a group: A >> [B, C] >> D
        a, b, c, d = sorted(x % len(names) for x in draw(_chain))
        if a < b < c < d or (a < b and b == c and c < d):
            mid = names[b] if b == c else f"[{names[b]}, {names[c]}]"
            edges.append(f"{names[a]} >> {mid} >> {names[d]}")
    if edges:
        data["edges"] = edges
    data["tasks"] = tasks
    graph = build_graph(data)
    for tname, task in tasks.items():  # continue_on works through the depends of the tasks after it
        if "continue_on" in task and graph.deps and tname not in {d.src for d in graph.deps}:
            del task["continue_on"]
    if extras:
        secret = secret or any(isinstance(v, dict) and "secret" in v
                               for v in ((data.get("defaults") or {}).get("env") or {}).values())
    return Generated(data, expected, secret)


def _draw_call(draw: Any, fn: str, task: dict, tname: str, expected: dict, fn_tasks: list[str], lists: set[str],
               params: dict, list_params: list[str], int_params: list[str]) -> Any:
    """Fill task args (and maybe foreach / a list of argument sets); return the expected result."""
    sig = FUNCTIONS[fn]

    def value_for(pname: str, ann: str | None) -> tuple[Any, Any]:
        """(spec value, decoded value) for one argument."""
        if ann == "list":
            choices = [("lit", None)] + [("from", t) for t in fn_tasks if t in lists] + [("param", p) for p in list_params]
        elif ann == "int":
            choices = [("lit", None)] + [("param", p) for p in int_params]
        elif ann == "str":
            choices = [("lit", None)] + [("param", p) for p in params]
        else:
            choices = [("lit", None)] + [("from", t) for t in fn_tasks] + [("param", p) for p in params] + [("nest", None)]
        kind, target = draw(st.sampled_from(choices))
        if kind == "from":
            return {"from": target}, _ARRIVES.get(target, expected[target])
        if kind == "param":
            return {"param": target}, _decode(arg_text(params[target]), ann)
        nestable = [t for t in fn_tasks if t not in lists]  # no fan-in nested in a list (DESIGN.md, limits)
        if kind == "nest" and nestable:
            t = draw(st.sampled_from(nestable))
            lit = draw(json_values)
            return [lit, {"from": t}], [_decode(arg_text(lit), None), expected[t]]
        if ann == "list":
            v = draw(_json_lists)
        elif ann == "int":
            v = draw(st.integers(1, 4))
        elif ann == "str":
            v = draw(texts)
        else:
            v = draw(json_values)
        return v, decoded(v, ann)

    fan = draw(st.sampled_from(["none", "none", "foreach", "foreach_from", "foreach_param", "sets"]))
    item_params = [(p, a) for p, a, _r, _d in sig if a in (None, "str")]
    if fan.startswith("foreach") and item_params:
        pname, ann = draw(st.sampled_from(item_params))
        if fan == "foreach_from" and any(t in lists and t != tname for t in fn_tasks):
            src = draw(st.sampled_from([t for t in fn_tasks if t in lists]))
            task["foreach"] = {"from": src}
            items = _ARRIVES.get(src, expected[src])
        elif fan == "foreach_param" and list_params:
            p = draw(st.sampled_from(list_params))
            task["foreach"] = {"param": p}
            items = params[p]
        else:
            items = draw(_items)
            task["foreach"] = items
        key = None
        if items and all(isinstance(x, dict) and "k" in x for x in items) and draw(st.booleans()):
            key = "k"
        args: dict[str, Any] = {pname: {"item": key if key else True}}
        fixed = {}
        for p, a, req, default in sig:
            if p == pname:
                continue
            if req or draw(st.booleans()):
                args[p], fixed[p] = value_for(p, a)
        task["args"] = args
        # items of a fanned-out `-> str` producer arrive as the strs (the compiler's "str" plan)
        src = task["foreach"].get("from") if isinstance(task["foreach"], dict) else None
        str_items = not key and src is not None and _FUNCTION_OF.get(src) == "concat" and src in lists
        out = []
        for x in items:
            v = x[key] if key else x
            out.append(call(fn, {**fixed, pname: v if str_items else _decode(item_str(v), ann)}))
        return out
    if fan == "sets" and sig:
        sets = []
        results = []
        for _ in range(draw(st.integers(1, 3))):
            s, kw = {}, {}
            for p, a, req, default in sig:
                if req or draw(st.booleans()):
                    s[p], kw[p] = value_for(p, a)
            sets.append(s)
            results.append(call(fn, kw))
        task["args"] = sets
        return results
    args = {}
    kw = {}
    for p, a, req, default in sig:
        if req or draw(st.booleans()):
            args[p], kw[p] = value_for(p, a)
    if args or draw(st.booleans()):
        task["args"] = args
    return call(fn, kw)


@st.composite
def _task_settings(draw: Any, *, defaults: bool) -> dict:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        res: dict[str, Any] = {}
        if draw(st.booleans()):
            res["cpu"] = draw(st.sampled_from([1, 4, 0.5, "500m", "2", False]))  # false: no request
        if draw(st.booleans()):
            res["memory"] = draw(st.sampled_from(["512Mi", "4Gi", "1G", "100M", False]))
        if draw(st.booleans()):
            res["gpu"] = draw(st.integers(1, 2))
            if draw(st.booleans()):
                res["gpu_type"] = "amd.com/gpu"
        if draw(st.booleans()):
            res["limits"] = draw(st.sampled_from([True, {"memory": "8Gi"}, {"cpu": 4}]))
        if not defaults and draw(st.booleans()):
            res["volume"] = {"size": "1Gi", "mount_path": "/vol"}
            if draw(st.booleans()):
                res["volumes"] = [{"claim": "shared-data", "mount_path": "/data", "read_only": True}]
        out["resources"] = res
    if draw(st.booleans()):
        out["retry"] = draw(st.sampled_from([0, 2, {"limit": 1, "backoff": {"duration": "1s", "factor": 2},
                                                    "policy": "Always"}]))
    if draw(st.booleans()):
        out["timeout"] = draw(st.sampled_from(["10m", "1h30m", 600]))
    if draw(st.booleans()):
        env: dict[str, Any] = {"LOG_LEVEL": draw(st.sampled_from(["debug", 3, True]))}
        if draw(st.booleans()):
            env["API_TOKEN"] = {"secret": "api-credentials", "key": "token"}
        out["env"] = env
    return out


# --- writers ----------------------------------------------------------------------------------


def quote(s: str) -> str:
    """A double-quoted string both YAML and TOML read back exactly."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def _scalar(v: Any, fmt: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return quote(v)
    raise TypeError(f"no {fmt} scalar for {v!r}")


def _flow(v: Any, fmt: str) -> str:
    if isinstance(v, dict):
        sep = " = " if fmt == "toml" else ": "
        return "{" + ", ".join(_key(k, fmt) + sep + _flow(x, fmt) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x, fmt) for x in v) + "]"
    return _scalar(v, fmt)


_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")


def _key(k: str, fmt: str) -> str:
    if fmt == "toml" and _BARE.match(k):
        return k
    if fmt == "yaml" and re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", k) and k not in ("true", "false", "null", "y", "n"):
        return k
    return quote(k)


def to_yaml(data: dict, *, flow_depth: int = 2) -> str:
    """Block mappings down to `flow_depth`, flow (JSON-like) style below it."""
    lines: list[str] = []

    def block(d: dict, depth: int) -> None:
        pad = "  " * depth
        for k, v in d.items():
            if isinstance(v, dict) and v and depth < flow_depth:
                lines.append(f"{pad}{_key(k, 'yaml')}:")
                block(v, depth + 1)
            elif isinstance(v, list) and v and depth < flow_depth:
                lines.append(f"{pad}{_key(k, 'yaml')}:")
                for x in v:
                    lines.append(f"{pad}  - {_flow(x, 'yaml')}")
            else:
                lines.append(f"{pad}{_key(k, 'yaml')}: {_flow(v, 'yaml')}")

    block(data, 0)
    return "\n".join(lines) + "\n"


def to_toml(data: dict) -> str:
    """Top-level values, then one [table] per mapping down to tasks.NAME; inline tables below."""
    lines: list[str] = []

    def table(d: dict, prefix: tuple[str, ...], depth: int) -> None:
        subs = []
        for k, v in d.items():
            if isinstance(v, dict) and depth < 2 and (v or depth == 0):
                subs.append((k, v))
            else:
                lines.append(f"{_key(k, 'toml')} = {_flow(v, 'toml')}")
        for k, v in subs:
            path = prefix + (k,)
            lines.append("")
            lines.append("[" + ".".join(_key(p, "toml") for p in path) + "]")
            table(v, path, depth + 1)

    table(data, (), 0)
    return "\n".join(lines).lstrip("\n") + "\n"


# --- mutations --------------------------------------------------------------------------------

JUNK = [":", ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "!!python/object/apply:os.system ['true']",
        "!!binary", "<<: *a", "\t", '"', "'", "#", "%YAML 1.1\n", "---\n", "...\n", "@", "`", "|", ">", "? ",
        "=", "[[ x ]]", "{{", "\\", "\ufeff", "\r", "\r\n", "\u2028", "é", "=[", "[[tasks]]", "[tasks]\n",
        "99999999999999999999999999", "-1", ".nan", ".inf", "null", "~", "true", "0x", "1e999", "'''", '"""']
WRONG = ["[1, 2]", "{a: 1}", "null", "true", "-1", '"x"', "99999999999999999999999", ".nan", "[]", "{}", "0",
         "steps:", "'A >> B'", "[{from: A}]", "{from: nope}", "{param: nope}", "{item: true}", "1.5"]
KEYS = ["tasks", "function", "args", "after", "edges", "kind", "name", "foreach", "resources", "retry", "from",
        "param", "item", "depends", "timeout", "env", "schedule", "generate_name", "image", "command"]


@st.composite
def mutations(draw: Any, text: str) -> bytes:
    """1 to 3 breaking edits of a spec's text, as bytes (some edits make invalid UTF-8)."""
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "dup", "swap", "indent", "truncate", "flip", "junk", "rename",
                                   "wrong", "wrong"]))
        lines = data.split(b"\n")
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            change = draw(st.sampled_from([b" ", b"  ", b"\t", b"   "]))
            lines[i] = lines[i][len(change):] if draw(st.booleans()) and lines[i].startswith(change) else change + lines[i]
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
            continue
        elif op == "flip" and data:
            pos = draw(st.integers(0, len(data) - 1))
            b = bytearray(data)
            b[pos] = draw(st.integers(0, 255))
            data = bytes(b)
            continue
        elif op == "junk":
            pos = draw(st.integers(0, len(data)))
            junk = draw(st.sampled_from(JUNK)).encode()
            data = data[:pos] + junk + data[pos:]
            continue
        elif op == "rename":
            old, new = draw(st.sampled_from(KEYS)), draw(st.sampled_from(KEYS + ["", "1", "true", "Tasks", "tasks ",
                                                                                  "функция", "a b"]))
            data = data.replace(old.encode(), new.encode(), draw(st.integers(1, 3)))
            continue
        elif op == "wrong":
            line = lines[i]
            sep = b": " if b": " in line else b" = " if b" = " in line else None
            if sep:
                head = line.split(sep, 1)[0]
                lines[i] = head + sep + draw(st.sampled_from(WRONG)).encode()
        data = b"\n".join(lines)
    return data
