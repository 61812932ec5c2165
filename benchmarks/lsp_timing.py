"""How soon `heraspec lsp` publishes diagnostics after a change, for a 50-task and a 1,000-task spec.

    python benchmarks/lsp_timing.py [REPEATS]

Starts the real server over stdio (the test client of tests/lsp/client.py), opens a generated spec
(function tasks with arguments, `{from: ...}`, retries and resources, in a chain), then sends
REPEATS changes, each editing one argument value, and times each from sending `didChange` to
receiving the `publishDiagnostics` of that version (the server's debounce included). Prints the
median and the worst of each size. Limits (issue 30): 50 tasks within 200 ms, 1,000 under 2 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lsp.client import LspClient  # noqa: E402

STEPS = '''\
def work(i: int, label: str = "x") -> int:
    """One step of the chain."""
    return i * 2
'''
LIMITS = {50: 0.2, 1000: 2.0}


def spec(n: int, value: int) -> str:
    lines = ["# yaml-language-server: $schema=heraspec.schema.json", "name: chain", "image: python:3.12",
             "defaults: {resources: {memory: 1Gi}}", "tasks:",
             f"  t0: {{function: steps:work, args: {{i: {value}, label: first}}, retry: 2}}"]
    for k in range(1, n):
        lines.append(f"  t{k}: {{function: steps:work, args: {{i: {{from: t{k - 1}}}}}, retry: 2, "
                     f"resources: {{cpu: 1}}}}")
    return "\n".join(lines) + "\n"


def measure(client: LspClient, folder: Path, n: int, repeats: int) -> list[float]:
    path = folder / f"chain{n}.heraspec.yaml"
    path.write_text(spec(n, 0))
    uri = path.as_uri()
    client.open(uri, "yaml", spec(n, 0))
    client.notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 1)
    times = []
    for version in range(2, repeats + 2):
        start = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": spec(n, version)}]})
        diags = client.notification("textDocument/publishDiagnostics",
                                    lambda p, v=version: p["uri"] == uri and p.get("version") == v)
        times.append(time.perf_counter() - start)
        assert diags["diagnostics"] == [], diags["diagnostics"][:3]
    return times


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "steps.py").write_text(STEPS)
        client = LspClient([sys.executable, "-m", "heraspec", "lsp"], cwd=tmp)
        try:
            client.initialize(folder)
            for n in (50, 1000):
                times = measure(client, folder, n, repeats)
                worst, median = max(times), statistics.median(times)
                print(f"{n:>5} tasks: first diagnostics {median * 1000:.0f} ms after a change (median of "
                      f"{repeats}), worst {worst * 1000:.0f} ms; limit {LIMITS[n] * 1000:.0f} ms: "
                      f"{'met' if worst <= LIMITS[n] else 'MISSED'}")
        finally:
            client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
