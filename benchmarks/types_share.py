"""The type check's own time inside `validate` of generated chains/fan-ins (in-process; the machine is shared, so
the check is timed apart from the rest of the run): python benchmarks/types_share.py"""
import sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases
from heraspec.errors import Errors
from heraspec import pipeline
from heraspec.check import types
spent = []
real = types.check
def timed(*a, **k):
    t = time.perf_counter(); real(*a, **k); spent.append(time.perf_counter() - t)
types.check = timed
for shape in ("chain", "fanin"):
    for n in (1000, 5000, 20000):
        folder = Path(f"/tmp/heraspec-types-share/{shape}-{n}")
        spec, _ = cases.write_dag_case(folder, shape, n)
        spent.clear()
        t = time.perf_counter(); errors = Errors(); pipeline.check_files([str(spec)], errors); total = time.perf_counter() - t
        assert not errors, errors.format()
        print(f"{shape} {n:>6}: validate stages {total*1000:7.0f} ms, of which the type check {sum(spent)*1000:6.1f} ms "
              f"({sum(spent)/n*1e6:.1f} µs/task)")
