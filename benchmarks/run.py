"""heraspec against Hera, side by side, as whole processes: `python benchmarks/run.py [--quick]`.

Writes benchmarks/RESULTS.md (or only prints it, with --no-write). Every number is the wall time of
a whole process (subprocess + time.perf_counter), repeated; the commands of one comparison run
interleaved (A B C A B C ...) so background load hits them alike, and each ratio is against the
anchor of the same run. Peak memory is each child's own ru_maxrss (os.wait4).

Cases:
  1. start-up: `heraspec validate examples/diamond.yaml` vs `python -c "import hera.workflows"` vs
     `python -c pass`;
  2. compile: chains and fan-ins of N tasks, heraspec (YAML and JSON) vs a Hera program building the
     same DAG and printing to_yaml(); output bytes per task; peak memory;
  3. run: a 200-way fan-out and a 200-task chain of trivial tasks vs spawning `python -I -c pass`
     200 times (with the same parallelism, and one after another); 8 tasks sleeping 0.3 s, to show
     independent tasks overlap;
  5. cache (alone: `--cases cache`): the ML example (examples/ml-pipeline.yaml with `defaults: {cache:
     true}`) run with an empty cache vs rerun with every task's result cached;
  4. apply: 50 WorkflowTemplates against the test Argo server (tests/argo_server.py, in a
     subprocess on 127.0.0.1) with 20 ms added per request vs the same GET+POST calls one by one.
  6. fit: the largest chain and fan-in whose compiled manifest (compact JSON, as the API server
     stores it) stays under Argo's 1 MiB object limit, heraspec vs Hera, and one function's template.
Children run with bytecode caching on (PYTHONDONTWRITEBYTECODE removed) after a warm-up run, as
for an installed package. Run it from a virtual environment with heraspec and hera installed
(README, Development): the interpreter and its .pth files, and the disk of the work folders, are
reported with the machine. This is a report, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402  (benchmarks/cases.py, next to this file)

PY = sys.executable
TOKEN = "bench-token"


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Sample:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    out_bytes: int = 0
    failed: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def iqr(self) -> tuple[float, float]:
        if len(self.times) < 4:
            return min(self.times, default=float("nan")), max(self.times, default=float("nan"))
        q = statistics.quantiles(self.times, n=4)
        return q[0], q[2]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' installs keep .pyc files
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def run_once(argv: list[str], *, cwd: Path, env: dict[str, str], stdout_path: Path | None = None,
             setup=None, timeout: float | None = None) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in KiB, stdout bytes, error text) for one whole process; one running longer
    than `timeout` seconds is killed, and its error says so (its RSS is then the peak it had reached)."""
    if setup is not None:
        setup()
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err_path = Path(tempfile.mktemp(prefix="bench-err-"))
    try:
        with open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            timer = threading.Timer(timeout, proc.kill) if timeout else None
            if timer:
                timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
            if timer:
                timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        size = stdout_path.stat().st_size if stdout_path else 0
        error = ""
        if timeout and elapsed >= timeout and proc.returncode == -signal.SIGKILL:
            error = f"stopped after {timeout:,.0f} s (peak RSS by then {usage.ru_maxrss / 1024:,.0f} MiB)"
        elif proc.returncode != 0:
            error = f"exit {proc.returncode}: " + err_path.read_text(errors="replace").strip()[-300:]
        return elapsed, usage.ru_maxrss, size, error
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
        err_path.unlink(missing_ok=True)


WARMUP = 1  # untimed rounds before the timed ones (0 with --quick)


def measure(samples: list[Sample], *, repeat: int, cwd: Path, env: dict[str, str], warmup: int | None = None,
            keep_output: Path | None = None, setups: dict[str, object] | None = None,
            timeout: float | None = None) -> list[Sample]:
    """Run each sample's command `repeat` times, interleaved, after `warmup` untimed rounds."""
    warmup = WARMUP if warmup is None else warmup
    for rnd in range(warmup + repeat):
        for s in samples:
            if s.failed:
                continue
            path = keep_output / (s.label.replace(" ", "_").replace("/", "_") + ".out") if keep_output else None
            setup = (setups or {}).get(s.label)
            t, rss, size, error = run_once(s.argv, cwd=cwd, env=env, stdout_path=path, setup=setup, timeout=timeout)
            if error:
                s.failed = error
                continue
            if rnd >= warmup:
                s.times.append(t)
                s.rss_kb.append(rss)
                s.out_bytes = size
    return samples


# --- the cases ---------------------------------------------------------------------------------

@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Target:
    what: str
    value: float
    limit: float
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


def ms(x: float) -> str:
    return f"{x * 1000:,.0f} ms" if x < 10 else f"{x:,.1f} s"


def spread(s: Sample) -> str:
    lo, hi = s.iqr()
    kind = "IQR" if len(s.times) >= 4 else "min–max"
    return f"{kind} {ms(lo)}–{ms(hi)}"


def row(s: Sample, anchor: Sample | None, extra: list[str] | None = None) -> list[str]:
    if s.failed:
        return [s.label, "failed: " + s.failed.replace("|", "/").replace("\n", " ")[:160], "", "", ""] + \
            ([""] * len(extra or []))
    ratio = f"{s.median / anchor.median:.3f}×" if anchor is not None and not anchor.failed else ""
    return [s.label, ms(s.median), spread(s), f"{ms(min(s.times))} / {ms(max(s.times))}", ratio] + (extra or [])


def case_startup(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    samples = [
        Sample("python -c pass", [PY, "-c", "pass"]),
        Sample("python -c 'import hera.workflows'", [PY, "-c", "import hera.workflows"]),
        Sample("heraspec validate examples/diamond.yaml", [PY, "-m", "heraspec", "validate", "examples/diamond.yaml"]),
    ]
    folder = work / "modules"
    cases.write_module_case(folder)
    sizes = [Sample("heraspec validate: a function in a 2-line module", [PY, "-m", "heraspec", "validate", "small.yaml"]),
             Sample("heraspec validate: a function in a 5,000-line module", [PY, "-m", "heraspec", "validate", "big.yaml"])]
    measure(samples, repeat=cfg.repeat_startup, cwd=ROOT, env=env)
    measure(sizes, repeat=cfg.repeat_startup, cwd=folder, env=env)
    bare, hera, mine = samples
    t = Table("1. Cold start: `heraspec validate` (pre-commit hook, editor save)",
              ["command", "median", "spread", "min / max", "× Hera import"])
    t.rows = [row(s, hera) for s in samples + sizes]
    targets = []
    small, big = sizes
    if not (small.failed or big.failed):
        lo, mid = min(big.times) / min(small.times), big.median / small.median
        t.notes.append(f"A function in a 5,000-line module (834 helpers it does not use, `benchmarks/cases.py`) "
                       f"validates in {lo:.2f}× the time of one in a 2-line module by min, {mid:.2f}× by median.")
        targets.append(Target("validate: 5,000-line module ÷ 2-line module (min)", lo, 1.5))
    if not (hera.failed or mine.failed or bare.failed):
        t.notes.append(f"Hera's import is {hera.median / bare.median:.1f}× a bare interpreter start here; "
                       f"heraspec validate is {mine.median / bare.median:.1f}×.")
        t.notes.append(f"heraspec validate examples/diamond.yaml ÷ Hera's import: {mine.median / hera.median:.3f} by "
                       f"median, {min(mine.times) / min(hera.times):.3f} by min.")
        targets.append(Target("cold validate ÷ Hera import (median)", mine.median / hera.median, 0.13))
    return t, targets


def case_compile(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    t = Table("2. Compile: generated DAGs (heraspec compile vs a Hera program building the same DAG + to_yaml())",
              ["case", "median", "spread", "min / max", "× Hera", "bytes/task", "peak RSS", "RSS/task"])
    targets = []
    outdir = work / "outputs"
    outdir.mkdir(exist_ok=True)
    first: dict[tuple[str, int], tuple[int, float]] = {}  # (shape, sample) -> (tasks, peak RSS KiB) at the smallest size
    per_task: dict[tuple[str, int], float] = {}  # the same -> KiB per further task, at the latest size
    reached: dict[tuple[str, int], int] = {}  # the same -> the size that per-task figure is at
    stopped: dict[tuple[str, str], str] = {}  # (shape, tool) -> why larger sizes are not run
    for n in sorted(cfg.sizes):
        for shape in ("chain", "fanin"):
            folder = work / f"{shape}-{n}"
            spec, hera_prog = cases.write_dag_case(folder, shape, n)
            samples = [
                Sample(f"Hera {shape} {n:,}", [PY, str(hera_prog), shape, str(n)]),
                Sample(f"heraspec {shape} {n:,} (YAML)", [PY, "-m", "heraspec", "compile", spec.name]),
                Sample(f"heraspec {shape} {n:,} (--format json)", [PY, "-m", "heraspec", "compile", spec.name,
                                                                  "--format", "json"]),
            ]
            if n <= 5000:
                measure(samples, repeat=cfg.repeat_compile, cwd=folder, env=env, keep_output=outdir)
            else:  # Hera takes minutes here: one run of it, a few of heraspec
                measure(samples[1:], repeat=max(1, cfg.repeat_compile // 2), cwd=folder, env=env, keep_output=outdir)
                if (shape, "Hera") in stopped:  # it ran out of time at a smaller size: it would again
                    samples[0].failed = stopped[(shape, "Hera")]
                else:
                    measure(samples[:1], repeat=1, warmup=0, cwd=folder, env=env, keep_output=outdir,
                            timeout=cfg.hera_timeout)
                    if samples[0].failed.startswith("stopped"):
                        stopped[(shape, "Hera")] = f"not run: stopped at {n:,} tasks"
            hera = samples[0]
            tasks = n if shape == "chain" else n + 1
            for i, s in enumerate(samples):
                if s.failed:
                    t.rows.append(row(s, hera, ["", "", ""]))
                    continue
                rss = statistics.median(s.rss_kb)
                base = first.setdefault((shape, i), (tasks, rss))
                slope = ""
                if tasks > base[0]:
                    per_task[(shape, i)] = (rss - base[1]) / (tasks - base[0])
                    reached[(shape, i)] = n
                    slope = f"{per_task[(shape, i)]:,.2f} KiB"
                t.rows.append(row(s, hera, [f"{s.out_bytes / tasks:,.0f}", f"{rss / 1024:,.0f} MiB", slope]))
            if shape == "chain" and n == 5000 and not (hera.failed or samples[1].failed):
                targets.append(Target("compile 5,000-task chain ÷ Hera build + to_yaml (median)",
                                      samples[1].median / hera.median, 0.20))
                t.notes.append(f"heraspec compile of the 5,000-task chain ÷ Hera's build + to_yaml: "
                               f"{samples[1].median / hera.median:.3f} by median, "
                               f"{min(samples[1].times) / min(hera.times):.3f} by min.")
                targets.append(Target("compile 5,000-task chain: output bytes ÷ Hera's", samples[1].out_bytes / hera.out_bytes, 1.0))
    big = max(cfg.sizes)
    for shape in ("chain", "fanin"):
        mine, hera_kib = per_task.get((shape, 1)), per_task.get((shape, 0))
        if mine is not None and hera_kib:
            at = reached[(shape, 0)]
            if at == big:
                what = f"compile {big:,}-task {shape}: peak RSS per task ÷ Hera's"
            else:  # Hera did not finish the largest size: heraspec's slope there against Hera's last one
                what = (f"compile {big:,}-task {shape}: peak RSS per task ÷ Hera's at {at:,} "
                        f"(Hera stopped after {cfg.hera_timeout:,.0f} s at {big:,})")
            targets.append(Target(what, mine / hera_kib, 1.0))
    if stopped:
        t.notes.append(f"Hera runs are stopped after {cfg.hera_timeout:,.0f} s (`--hera-timeout`): its fan-in "
                       "build grows with the square of the task count (each `>>` into the sink splits its whole "
                       "`depends` string again: `Task._get_dependency_tasks`), so a 100,000-task fan-in takes over an hour.")
    if len(cfg.sizes) > 1:
        t.notes.append(f"RSS/task: (peak RSS at N − peak RSS at {min(cfg.sizes):,} tasks) ÷ (N − {min(cfg.sizes):,}), "
                       "each peak the median of the child's ru_maxrss over its runs: what each further task costs, "
                       "without the interpreter and imports.")
    t.notes.append("Same DAG both ways: one function, N tasks each with one argument, `after`/`>>` edges. Each "
                   "argument is one flow-style line, `- {name: i, value: \"1\"}` (as in Argo's own examples), where "
                   "Hera writes two block lines: 9 bytes less per task. heraspec's one template is several KB "
                   "larger than Hera's (table 6 has its bytes, part by part): it declares the `result` output, passes inputs through env, decodes them by "
                   "annotation and writes the return value, and requests the default 1 CPU / 4Gi (Hera's script "
                   "returns nothing and breaks on `'''` in a value). `--format json` into a file is compact, as the API server stores it.")
    return t, targets


def _spawner(n: int, parallel: int) -> list[str]:
    code = ("import subprocess, sys\nfrom concurrent.futures import ThreadPoolExecutor\n"
            f"with ThreadPoolExecutor({parallel}) as ex:\n"
            f"    rcs = list(ex.map(lambda _: subprocess.run([sys.executable, '-I', '-c', 'pass']).returncode, "
            f"range({n})))\nsys.exit(max(rcs))\n")
    return [PY, "-c", code]


def _per_task(big: Sample, one: Sample, n: int, stat) -> float:
    return (stat(big.times) - stat(one.times)) / (n - 1)


def case_run(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    n, par = cfg.run_tasks, os.cpu_count() or 1
    folder = work / "run"
    cases.write_steps(folder)
    (folder / "many.yaml").write_text(cases.independent_spec(n))
    (folder / "chain.yaml").write_text(cases.dag_spec("chain", n))
    (folder / "one.yaml").write_text(cases.independent_spec(1))
    naps = 8
    (folder / "naps.yaml").write_text(cases.independent_spec(naps, function="steps:nap", name="bench-naps"))
    runs = folder / "runs"

    def fresh() -> None:
        shutil.rmtree(runs, ignore_errors=True)

    def heraspec_run(spec: str, p: int) -> list[str]:
        return [PY, "-m", "heraspec", "run", spec, "--parallelism", str(p), "--workdir", str(runs / "w")]

    samples = [
        Sample(f"{n} × python -I -c pass, {par} at a time", _spawner(n, par)),
        Sample(f"{n} × python -I -c pass, one after another", _spawner(n, 1)),
        Sample("1 × python -I -c pass (from a spawner)", _spawner(1, 1)),
        Sample(f"heraspec run: {n}-way fan-out (independent tasks), --parallelism {par}", heraspec_run("many.yaml", par)),
        Sample(f"heraspec run: {n}-task chain", heraspec_run("chain.yaml", par)),
        Sample("heraspec run: 1 task", heraspec_run("one.yaml", par)),
        Sample(f"heraspec run: {naps} tasks sleeping 0.3 s, --parallelism {naps}", heraspec_run("naps.yaml", naps)),
        Sample(f"heraspec run: {naps} tasks sleeping 0.3 s, --parallelism 1", heraspec_run("naps.yaml", 1)),
    ]
    setups = {s.label: fresh for s in samples if s.label.startswith("heraspec")}
    measure(samples, repeat=cfg.repeat_run, cwd=folder, env=env, setups=setups)
    spawn_par, spawn_seq, spawn_one, many, chain, one, nap_par, nap_seq = samples
    t = Table(f"3. Local run: {n} trivial tasks as a fan-out and as a chain (each task a fresh `python -I` process "
              "or a fork of a warm one)", ["command", "median", "spread", "min / max", f"× {n} spawns, {par} at a time"])
    t.rows = [row(s, spawn_par) for s in samples]
    targets = []
    if not any(s.failed for s in samples):
        for label, mine, bare in (("fan-out", many, spawn_par), ("chain", chain, spawn_seq)):
            lo = _per_task(mine, one, n, min) / _per_task(bare, spawn_one, n, min)
            mid = _per_task(mine, one, n, statistics.median) / _per_task(bare, spawn_one, n, statistics.median)
            t.notes.append(f"Cost of each further task, {label}: heraspec {ms(_per_task(mine, one, n, min))} (min) / "
                           f"{ms(_per_task(mine, one, n, statistics.median))} (median), a bare `python -I -c pass` "
                           f"{ms(_per_task(bare, spawn_one, n, min))} / {ms(_per_task(bare, spawn_one, n, statistics.median))}"
                           f" → {lo:.2f}× by min, {mid:.2f}× by median.")
            targets.append(Target(f"run, {n}-task {label}: cost per further task ÷ a bare `python -I` spawn (min)", lo, 1.0))
        t.notes.append(f"Parallelism: {naps} tasks of 0.3 s take {ms(nap_par.median)} with --parallelism {naps} "
                       f"and {ms(nap_seq.median)} with --parallelism 1 (at least {naps * 0.3:.1f} s one after another): "
                       "independent tasks overlap.")
        targets.append(Target(f"run: {naps} × 0.3 s tasks, serial ÷ parallel wall time", nap_seq.median / nap_par.median,
                              2.0, higher_is_better=True))
    return t, targets


def case_cache(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    folder = work / "cache"
    folder.mkdir()
    example = ROOT / "examples"
    shutil.copytree(example / "mlpipe" if (example / "mlpipe").is_dir() else ROOT / "heraspec" / "examples" / "mlpipe",
                    folder / "mlpipe")
    text = (example / "ml-pipeline.yaml").read_text()
    (folder / "ml.yaml").write_text(text.replace("defaults:\n", "defaults:\n  cache: true\n", 1))
    runs, cache = folder / "runs", folder / ".heraspec" / "cache"

    def first() -> None:  # an empty cache: every task runs (and fills it for the rerun)
        shutil.rmtree(runs, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    def rerun() -> None:
        shutil.rmtree(runs, ignore_errors=True)

    argv = [PY, "-m", "heraspec", "run", "ml.yaml", "--quiet", "--workdir", str(runs / "w")]
    samples = [Sample("heraspec run examples/ml-pipeline.yaml, empty cache", argv),
               Sample("heraspec run examples/ml-pipeline.yaml, every task cached", list(argv))]
    measure(samples, repeat=cfg.repeat_run, cwd=folder, env=env, setups={samples[0].label: first, samples[1].label: rerun})
    t = Table("5. Cached rerun: the ML example (4 tasks, 7 pods: train fans out over 4 settings) with `defaults: {cache: true}`",
              ["command", "median", "spread", "min / max", "× first run"])
    t.rows = [row(s, samples[0]) for s in samples]
    if not any(s.failed for s in samples):
        t.notes.append(f"A fully cached rerun takes {ms(samples[1].median)} against {ms(samples[0].median)} for the "
                       f"first run ({samples[0].median / samples[1].median:.1f}× faster): no task process starts, "
                       "each result is read from .heraspec/cache.")
    return t, []


MIB = 1024 * 1024


def stored_bytes(path: Path) -> int:
    """A manifest's size as the Argo API server stores it: compact JSON as Go's encoding/json writes it
    (`<`, `>`, `&`, U+2028 and U+2029 escaped as \\uXXXX), in UTF-8."""
    text = json.dumps(json.loads(path.read_bytes()), ensure_ascii=False, separators=(",", ":"))
    for c in "<>&\u2028\u2029":
        text = text.replace(c, "\\u%04x" % ord(c))
    return len(text.encode("utf-8"))


def largest_fit(size, limit: int, first: int, second: int) -> tuple[int, int, int]:
    """(n, size(n), size(n + 1)) for the largest n with size(n) <= limit: predicted from two sizes with
    the linear model size(n) = a + b·n, then confirmed by building n and n + 1 (stepping by the local
    slope until n fits and n + 1 does not)."""
    s1, s2 = size(first), size(second)
    n = first + (limit - s1) * (second - first) // (s2 - s1)
    for _ in range(12):
        here, after = size(n), size(n + 1)
        if here <= limit < after:
            return n, here, after
        step = max(after - here, 1)
        n = n - max(1, -(-(here - limit) // step)) if here > limit else n + max(1, (limit - after) // step)
    raise RuntimeError(f"no fit found near {n}")


def template_parts(manifest: Path, folder: Path) -> list[tuple[str, int]]:
    """heraspec's `work` template by part, in the bytes Argo stores: the fields around the script, the
    script (a few lines running the workflow's runtime and code), and the workflow's parameter it
    reads, once per workflow: the runtime (decoding the inputs, writing the result) and the module."""
    spec = json.loads(manifest.read_bytes())["spec"]
    (tmpl,) = [x for x in spec["templates"] if x["name"] == "work"]
    code = {p["name"]: p["value"] for p in spec.get("arguments", {}).get("parameters", [])}.get("heraspec-code", "")

    def size(text: str) -> int:
        one = folder / "part.json"
        one.write_text(json.dumps(text, ensure_ascii=False))
        return stored_bytes(one) - 2

    whole = dict(tmpl, script={k: v for k, v in tmpl["script"].items() if k != "source"})
    one = folder / "part.json"
    one.write_text(json.dumps(whole, ensure_ascii=False, separators=(",", ":")))
    return [("the fields besides the source (inputs, result output, env, resources)", stored_bytes(one)),
            ("the script: unpack the workflow's heraspec-code parameter, run the runtime, serve the module, "
             "call the function", size(tmpl["script"]["source"])),
            ("the workflow's heraspec-code parameter, once per workflow: the runtime its templates use "
             "(decoding by annotation, writing the result exactly, messages) and the module, packed", size(code))]


HERA_RUNNER = '''\
import json
import sys

from hera.workflows import DAG, Workflow, script


@script(image="python:3.12", constructor="runner")
def work(i: int) -> int:
    return i * 2


with Workflow(name="bench-runner", entrypoint="main") as w:
    with DAG(name="main"):
        work(name="t0", arguments={"i": 1})
(tmpl,) = [t for t in w.to_dict()["spec"]["templates"] if t["name"] == "work"]
sys.stdout.write(json.dumps(tmpl, ensure_ascii=False, separators=(",", ":")))
'''


def hera_runner_template(folder: Path, env: dict[str, str]) -> int | None:
    """Hera's template when a function must return a value: `constructor="runner"` runs
    `python -m hera.workflows.runner`, so the image must hold hera and the function's code."""
    prog, out = folder / "hera_runner.py", folder / "hera_runner.json"
    prog.write_text(HERA_RUNNER)
    _, _, _, error = run_once([PY, prog.name], cwd=folder, env=env, stdout_path=out)
    return None if error else stored_bytes(out)


def case_fit(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    limit = 64 * 1024 if cfg.quick else MIB
    first, second = (100, 200) if cfg.quick else (1000, 2000)
    folder = work / "fit"
    cases.write_steps(folder)
    hera_prog = folder / "hera_build.py"
    hera_prog.write_text(cases.HERA_PROGRAM)
    shown = f"{limit // 1024:,} KiB" if limit < MIB else f"{limit // MIB} MiB"
    t = Table(f"6. Largest DAG under Argo's {shown} object limit (compact JSON, as the API server stores it)",
              ["measure", "heraspec", "Hera", "heraspec ÷ Hera"])
    targets: list[Target] = []
    builds: dict[tuple[str, str, int], tuple[int, Path]] = {}

    def build(tool: str, shape: str, n: int) -> int:
        key = (tool, shape, n)
        if key not in builds:
            out = folder / f"{tool}-{shape}-{n}.json"
            if tool == "heraspec":
                spec = folder / f"{shape}-{n}.yaml"
                spec.write_text(cases.dag_spec(shape, n))
                argv, stdout = [PY, "-m", "heraspec", "compile", spec.name, "--format", "json", "-o", str(out)], None
            else:
                argv, stdout = [PY, hera_prog.name, shape, str(n), "json"], out
            _, _, _, error = run_once(argv, cwd=folder, env=env, stdout_path=stdout)
            if error:
                raise RuntimeError(f"{tool} {shape} {n}: {error}")
            builds[key] = (stored_bytes(out), out)
        return builds[key][0]

    def template_bytes(path: Path) -> int:
        (tmpl,) = [x for x in json.loads(path.read_bytes())["spec"]["templates"] if x["name"] == "work"]
        one = folder / "template.json"
        one.write_text(json.dumps(tmpl))
        return stored_bytes(one)

    found: dict[tuple[str, str], tuple[int, int, int]] = {}
    try:
        for shape in ("chain", "fanin"):
            for tool in ("heraspec", "Hera"):
                found[tool, shape] = largest_fit(lambda n: build(tool, shape, n), limit, first, second)
    except RuntimeError as e:
        t.rows.append(["failed: " + str(e).replace("|", "/").replace("\n", " ")[:160], "", "", ""])
        return t, targets
    for shape, what in (("chain", "chain of N tasks"), ("fanin", "fan-in of N tasks into one")):
        (n, here, after), (hn, hhere, hafter) = found["heraspec", shape], found["Hera", shape]
        t.rows.append([f"largest {what}", f"{n:,}", f"{hn:,}", f"{n / hn:.4f}"])
        t.rows.append([f"{shape}: bytes at N / N+1", f"{here:,} / {after:,}", f"{hhere:,} / {hafter:,}", ""])
        t.rows.append([f"{shape}: bytes of task N+1", f"{after - here:,}", f"{hafter - hhere:,}",
                       f"{(after - here) / (hafter - hhere):.3f}"])
        targets.append(Target(f"largest {what} under {shown}: heraspec ÷ Hera", n / hn, 1.0, higher_is_better=True))
    mine = template_bytes(builds["heraspec", "chain", found["heraspec", "chain"][0]][1])
    theirs = template_bytes(builds["Hera", "chain", found["Hera", "chain"][0]][1])
    t.rows.append(["the `work` template (bytes)", f"{mine:,}", f"{theirs:,}", f"{mine / theirs:.1f}×"])
    parts = template_parts(builds["heraspec", "chain", found["heraspec", "chain"][0]][1], folder)
    for what, size in parts:
        t.rows.append([f"… of which {what}", f"{size:,}", "", ""])
    runner = hera_runner_template(folder, env)
    if runner is not None:
        t.rows.append(["Hera's `runner` template for `work` (hera and the code in the image)", "", f"{runner:,}", ""])
    t.notes.append(f"N predicted from {first:,} and {second:,} tasks (size = a + b·N), then N and N+1 built for real "
                   f"({len(builds)} builds in all): `python -m heraspec compile SPEC --format json -o FILE` (compact into "
                   "a file) and the Hera program of `benchmarks/cases.py` printing `json.dumps(w.to_dict())` compactly; "
                   "bytes counted as Go's encoding/json writes them (`<`, `>`, `&` as `\\u003c`…).")
    t.notes.append("Per task the two manifests are the same bytes (name, template, depends, one argument): the "
                   "difference is the one template. heraspec's `work` template carries the function as a module table "
                   "and importer (tracebacks name the user's file and line), decodes the input by its annotation, writes "
                   "the return value exactly (refusing values without an exact JSON form and results over the 128 KiB an "
                   "environment variable holds), declares the `result` output and passes inputs through env, so its source "
                   "never holds `{{`; it carries only the decoder branches its annotations use and the plans its callers "
                   "pass, without comments. Hera's default script inlines the body as top-level code: it writes no "
                   "result, and this one would not run (`return` outside a function is a SyntaxError); it also breaks "
                   "on `'''` in a value and reads a str input such as `\"42\"` as a number.")
    return t, targets


SERVER = '''\
import sys
sys.path.insert(0, sys.argv[1])
from tests.argo_server import ArgoTestServer
srv = ArgoTestServer(token=sys.argv[2]).start()
for method in ("GET", "POST", "PUT"):
    srv.fault(method, ".", "delay", times=10**9, delay=float(sys.argv[3]))
print(srv.server, flush=True)
sys.stdin.read()
srv.stop()
'''


def case_apply(cfg: argparse.Namespace, work: Path, env: dict[str, str]) -> tuple[Table, list[Target]]:
    n, delay = cfg.apply_templates, 0.02
    t = Table(f"4. Apply: {n} WorkflowTemplates, test Argo server with {delay * 1000:.0f} ms added per request",
              ["command", "median", "spread", "min / max", "× sequential calls"])
    if not (ROOT.parent / "shared" / "argo" / "swagger.json").is_file():
        t.notes.append("skipped: the test server needs ../shared/argo (absent here)")
        return t, []
    folder = work / "apply"
    cases.write_steps(folder)
    specs = []
    for k in range(n):
        p = folder / f"template-{k}.yaml"
        p.write_text(cases.template_spec(k).replace("namespace: argo\n", ""))
        specs.append(p.name)
    (folder / "sequential.py").write_text(cases.SEQUENTIAL_APPLY)
    server = subprocess.Popen([PY, "-c", SERVER, str(ROOT), TOKEN, str(delay)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        address = server.stdout.readline().strip()  # type: ignore[union-attr]
        if not address:
            t.notes.append("skipped: the test server did not start")
            return t, []
        sys.path.insert(0, str(ROOT))
        import heraspec

        manifests = [c.manifest for c in heraspec.compile([str(folder / s) for s in specs], namespace="NS")]
        counter = iter(range(10**6))
        current = {"ns": ""}

        def new_namespace() -> None:  # every repetition creates all templates afresh
            ns = f"bench-{next(counter)}"
            current["ns"] = ns
            docs = json.loads(json.dumps(manifests).replace('"NS"', json.dumps(ns)))
            (folder / "manifests.json").write_text(json.dumps(docs))
            mine.argv[-1] = ns  # the sequential loop reads the namespace from manifests.json

        mine = Sample(f"heraspec apply ({n} specs)", [PY, "-m", "heraspec", "apply", *specs, "--server", address,
                                                      "--plaintext", "--token", TOKEN, "-n", "NS"])
        seq = Sample(f"sequential httpx loop: GET + POST × {n}", [PY, "sequential.py", address, TOKEN, str(folder)])
        measure([seq, mine], repeat=cfg.repeat_apply, cwd=folder, env=env,
                setups={seq.label: new_namespace, mine.label: new_namespace})
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    t.rows = [row(seq, seq), row(mine, seq)]
    targets = []
    if not (seq.failed or mine.failed):
        t.notes.append(f"heraspec apply is {seq.median / mine.median:.1f}× faster, its whole process included "
                       "(start-up, validating and compiling the specs); requests run up to 16 at a time "
                       "(a bounded thread pool), each template GET (absent) then POST.")
        targets.append(Target(f"apply {n} templates: sequential ÷ heraspec", seq.median / mine.median, 5.0,
                              higher_is_better=True))
    return t, targets


# --- the report --------------------------------------------------------------------------------

def machine(workdir: str) -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    mem = "unknown"
    try:
        kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass

    def version(dist: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(dist)
        except Exception:
            return "not installed"

    try:
        import yaml

        libyaml = "with libyaml" if hasattr(yaml, "CSafeLoader") else "pure Python"
    except ImportError:
        libyaml = ""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [("CPU", cpu), ("cores", str(os.cpu_count())), ("memory", mem), ("OS", platform.platform()),
            ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
            ("heraspec", version("heraspec")), ("hera", version("hera")),
            ("PyYAML", f"{version('PyYAML')} {libyaml}"), ("interpreter", _interpreter()),
            ("work folders", _disk(workdir)), ("load average at start (1/5/15 min)", load)]


def _interpreter() -> str:
    """Which Python, and what its start reads: each .pth file in site-packages runs at every start
    (a bare `python -I` spawn included), so a cluttered base interpreter makes spawns dearer."""
    import site

    venv = "a virtual environment" if sys.prefix != sys.base_prefix else "not a virtual environment"
    pth = sum(len(list(Path(d).glob("*.pth"))) for d in site.getsitepackages() if Path(d).is_dir())
    return f"{sys.executable} ({venv}; {pth} .pth file{'s' if pth != 1 else ''} in site-packages)"


def _disk(folder: str) -> str:
    """The file system of the work folders, and what creating a folder and a file there costs (median
    of 50): every task of `heraspec run` creates a few (its folder, tmp/, logs, result, outputs.json)."""
    mounts = [ln.split() for ln in Path("/proc/mounts").read_text().splitlines()] if Path("/proc/mounts").exists() else []
    real = os.path.realpath(folder)
    fs = max((m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
             key=lambda m: len(m[1]), default=["?", "?", "?"])[2]
    times = []
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for i in range(50):
            t = time.perf_counter()
            os.mkdir(f"{tmp}/d{i}")
            with open(f"{tmp}/d{i}/f", "wb") as f:
                f.write(b"x" * 100)
            times.append(time.perf_counter() - t)
    return f"{real} ({fs}; a folder and a file created in {statistics.median(times) * 1e6:,.0f} µs)"


def render(info: list[tuple[str, str]], tables: list[Table], targets: list[Target], cfg: argparse.Namespace,
           started: datetime, seconds: float) -> str:
    out = ["# heraspec vs Hera: benchmark results", "",
           f"Generated by `python benchmarks/run.py{' --quick' if cfg.quick else ''}"
           f"{' --sizes ' + cfg.sizes_arg if cfg.sizes_arg else ''}{' --repeat %d' % cfg.repeat if cfg.repeat else ''}` on "
           f"{started.strftime('%Y-%m-%d %H:%M UTC')} in {seconds:,.0f} s. Wall time of whole processes, "
           "median and min of repeated runs (compared commands interleaved), ratios against the anchor of the same run; "
           "on a shared machine compare by min (the load average is in the table below).",
           "", "| machine | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in info]
    out += ["", "## Targets", "", "| target | measured | limit | |", "|---|---|---|---|"]
    for tg in targets:
        op = "≥" if tg.higher_is_better else "≤"
        out.append(f"| {tg.what} | {tg.value:.3f} | {op} {tg.limit:g} | {'met' if tg.met else '**missed**'} |")
    for t in tables:
        out += ["", f"## {t.title}", "", "| " + " | ".join(t.header) + " |", "|" + "---|" * len(t.header)]
        out += ["| " + " | ".join(r) + " |" for r in t.rows]
        if t.notes:
            out.append("")
            out += [f"- {n}" for n in t.notes]
    out += ["", "## Method", "",
            "- Each number is one whole process, started with `subprocess` and timed with `time.perf_counter`; peak "
            "memory is that child's `ru_maxrss` from `os.wait4`. One untimed warm-up round first.",
            "- Children run with bytecode caching on (`PYTHONDONTWRITEBYTECODE` removed), as an installed package "
            "does; heraspec runs from this checkout (`python -m heraspec`).",
            "- The machine may be shared: the spread columns show how steady each number was; ratios come from "
            "interleaved runs, so they hold better than the absolute times.",
            "- Specs, steps module and Hera programs: `benchmarks/cases.py`."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (a smoke run)")
    p.add_argument("--no-write", action="store_true", help="print the report instead of writing RESULTS.md")
    p.add_argument("--cases", default="startup,compile,run,apply,cache,fit", help="comma-separated subset")
    p.add_argument("--output", default=str(HERE / "RESULTS.md"))
    p.add_argument("--repeat", type=int, help="timed runs per command (default 5; 15 for start-up)")
    p.add_argument("--sizes", dest="sizes_arg", help="compile sizes, comma-separated (default 1000,5000,20000,100000)")
    p.add_argument("--workdir", default=str(HERE),
                   help="where the work folders go (default: benchmarks/, on the project's disk as a project's "
                        ".heraspec/runs is; a slow /tmp makes every file a task writes cost more)")
    p.add_argument("--hera-timeout", type=float, default=300.0,
                   help="stop one Hera compile run after this many seconds (default 300)")
    cfg = p.parse_args(argv)
    global WARMUP
    WARMUP = 0 if cfg.quick else 1
    if cfg.quick:
        cfg.sizes, cfg.run_tasks, cfg.apply_templates = [20], 4, 4
        cfg.repeat_startup = cfg.repeat_compile = cfg.repeat_run = cfg.repeat_apply = 1
    else:
        cfg.sizes, cfg.run_tasks, cfg.apply_templates = [1000, 5000, 20000, 100000], 200, 50
        cfg.repeat_startup, cfg.repeat_compile, cfg.repeat_run, cfg.repeat_apply = 15, 5, 5, 5
    if cfg.sizes_arg:
        cfg.sizes = [int(x) for x in cfg.sizes_arg.split(",")]
    if cfg.repeat:
        cfg.repeat_compile = cfg.repeat_run = cfg.repeat_apply = cfg.repeat
        cfg.repeat_startup = 3 * cfg.repeat
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    info = machine(cfg.workdir)
    env = child_env()
    runners = {"startup": case_startup, "compile": case_compile, "run": case_run, "apply": case_apply,
               "cache": case_cache, "fit": case_fit}
    tables, targets = [], []
    with tempfile.TemporaryDirectory(prefix="heraspec-bench-", dir=cfg.workdir) as tmp:
        for name in cfg.cases.split(","):
            print(f"benchmark: {name} ...", file=sys.stderr, flush=True)
            table, tg = runners[name.strip()](cfg, Path(tmp), env)
            tables.append(table)
            targets += tg
    text = render(info, tables, targets, cfg, started, time.perf_counter() - t0)
    if cfg.no_write:
        sys.stdout.write(text)
    else:
        out = Path(cfg.output)
        old = out.read_text(encoding="utf-8") if out.is_file() else ""
        if KEPT in old:  # sections other scripts measured (benchmarks/lsp_timing.py) stay
            text += "\n" + old[old.index(KEPT):]
        out.write_text(text, encoding="utf-8")
        print(f"wrote {cfg.output}", file=sys.stderr)
    return 0


KEPT = "<!-- measured by other scripts; run.py keeps what follows -->"


if __name__ == "__main__":
    sys.exit(main())
