"""What the benchmarks run: generated specs, steps modules and the equivalent Hera programs.

Everything is written into a scratch folder; nothing here times anything (run.py does).
The Hera programs build the same DAG as the heraspec specs: one `@script` function, N tasks each
with one argument, joined as a chain (`a >> b >> ...`) or a fan-in (`[...] >> sink`), and print
`to_yaml()` (or, with a third argument `json`, the compact JSON of `to_dict()`).
"""

from __future__ import annotations

from pathlib import Path

STEPS = '''\
"""Benchmark steps: heraspec reads this file with ast; it never imports it."""


def work(i: int) -> int:
    return i * 2


def noop(i: int) -> int:
    return i


def nap(i: int, seconds: float = 0.3) -> int:
    import time

    time.sleep(seconds)
    return i
'''

HERA_PROGRAM = '''\
import json
import sys

from hera.workflows import DAG, Workflow, script


@script(image="python:3.12")
def work(i: int) -> int:
    return i * 2


def main(shape: str, n: int) -> None:
    with Workflow(name="bench-{shape}".format(shape=shape), entrypoint="main") as w:
        with DAG(name="main"):
            tasks = [work(name="t%d" % k, arguments={"i": k}) for k in range(n)]
            if shape == "chain":
                for a, b in zip(tasks, tasks[1:]):
                    a >> b
            else:
                sink = work(name="sink", arguments={"i": n})
                tasks >> sink
    if len(sys.argv) > 3 and sys.argv[3] == "json":  # compact, as the API server stores it
        sys.stdout.write(json.dumps(w.to_dict(), ensure_ascii=False, separators=(",", ":")))
    else:
        sys.stdout.write(w.to_yaml())


main(sys.argv[1], int(sys.argv[2]))
'''

SEQUENTIAL_APPLY = '''\
import json, sys

import httpx

server, token, folder = sys.argv[1], sys.argv[2], sys.argv[3]
docs = json.load(open(folder + "/manifests.json"))
with httpx.Client(base_url="http://" + server, headers={"Authorization": "Bearer " + token}) as c:
    for m in docs:
        path = "/api/v1/workflow-templates/" + m["metadata"]["namespace"]
        r = c.get(path + "/" + m["metadata"]["name"])
        assert r.status_code == 404, r.text
        r = c.post(path, json={"template": m, "namespace": m["metadata"]["namespace"]})
        assert r.status_code == 200, r.text
'''


def write_steps(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "steps.py"
    path.write_text(STEPS)
    return path


def dag_spec(shape: str, n: int, *, name: str | None = None) -> str:
    """A heraspec spec of n tasks calling steps:work: a chain t0 >> t1 >> ..., or a fan-in into `sink`."""
    lines = [f"name: {name or 'bench-' + shape}", "image: python:3.12", "tasks:"]
    for k in range(n):
        after = f", after: [t{k - 1}]" if shape == "chain" and k else ""
        lines.append(f"  t{k}: {{function: steps:work, args: {{i: {k}}}{after}}}")
    if shape == "fanin":
        lines.append(f"  sink: {{function: steps:work, args: {{i: {n}}}}}")
        lines.append("edges:")
        lines.append("  - '[" + ", ".join(f"t{k}" for k in range(n)) + "] >> sink'")
    return "\n".join(lines) + "\n"


def independent_spec(n: int, *, function: str = "steps:noop", name: str = "bench-run") -> str:
    """n tasks with no edges between them."""
    lines = [f"name: {name}", "tasks:"]
    lines += [f"  t{k}: {{function: {function}, args: {{i: {k}}}}}" for k in range(n)]
    return "\n".join(lines) + "\n"


def template_spec(k: int, namespace: str = "argo") -> str:
    """One small WorkflowTemplate (for the apply case)."""
    return (f"kind: WorkflowTemplate\nname: bench-template-{k}\nnamespace: {namespace}\ntasks:\n"
            f"  a: {{function: steps:work, args: {{i: {k}}}}}\n"
            f"  b: {{function: steps:work, args: {{i: {{from: a}}}}}}\n")


def write_dag_case(folder: Path, shape: str, n: int) -> tuple[Path, Path]:
    """The spec file and the Hera program for one compile case."""
    write_steps(folder)
    spec = folder / f"{shape}-{n}.yaml"
    spec.write_text(dag_spec(shape, n))
    hera = folder / "hera_build.py"
    hera.write_text(HERA_PROGRAM)
    return spec, hera


def write_module_case(folder: Path) -> None:
    """The same small function at the end of a 5,000-line module of unrelated helpers and alone in a
    2-line module (both modules import the same names), with a one-task spec for each."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["import os, json", "", "CONST = 1", ""]
    k = 0
    while len(lines) < 4997:
        lines += [f"def helper_{k}(x: int, y: str = 'a') -> int:", f"    z = x + {k}", "    if z > 10:",
                  f"        return helper_{max(k - 1, 0)}(z - 1) if {k} else z", "    return z * CONST", ""]
        k += 1
    lines += ["def target(n: int) -> int:", "    return n + 1"]
    (folder / "bigmod.py").write_text("\n".join(lines) + "\n")
    (folder / "smallmod.py").write_text("import os, json\ndef target(n: int) -> int:\n    return n + 1\n")
    for name in ("big", "small"):
        (folder / f"{name}.yaml").write_text(f"name: {name}\ntasks:\n  a: {{function: {name}mod:target, args: {{n: 1}}}}\n")
