"""heraspec/local/pathmap.py: a Python task reaches pod paths through its file functions, and only
there. A real interpreter runs a real script through the launcher (`python -c LAUNCH ...`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from heraspec.local.pathmap import launch_argv

SCRIPT = r'''
import glob, json, os, shutil, sys
from pathlib import Path

os.makedirs("/vol/a", exist_ok=True)
Path("/vol/a/x.txt").write_text("x")
with open(b"/vol/a/bytes.txt", "w") as f:
    f.write("b")
shutil.copy("/vol/a/x.txt", "/vol/a/y.txt")
os.rename("/vol/a/y.txt", "/vol/a/z.txt")
open("relative.txt", "w").write("here")
inside = os.path.join(os.environ["RUN"], "vol", "kept.txt")  # a path already in the run folder
open(inside, "w").write("k")
print(json.dumps({
    "listed": sorted(os.listdir("/vol/a")),
    "globbed": sorted(glob.glob("/vol/a/*.txt")),
    "exists": [os.path.exists(p) for p in ("/vol/a/z.txt", "/vol/a/y.txt", "/volume/a", "/vol/../vol/a/x.txt")],
    "strings": ["/vol", "/vol/a/x.txt", str(Path("/vol/a/x.txt"))],
    "pathlib": [Path("/vol/a/x.txt").read_text(), Path("/vol/a/z.txt").stat().st_size, Path("/vol/a").is_dir(),
                sorted(p.name for p in Path("/vol/a").iterdir())],
    "argv": sys.argv[1:], "file": __file__, "name": __name__,
}))
'''


def test_file_functions_map_pod_paths_and_nothing_else(tmp_path: Path) -> None:
    run = tmp_path / "run"
    volume = run / "volumes" / "v"
    volume.mkdir(parents=True)
    (run / "vol").mkdir()
    task = run / "task"
    task.mkdir()
    script = task / "script.py"
    script.write_text(SCRIPT)
    argv = launch_argv([sys.executable, "-I", "-u", str(script), "arg1"], str(script), {"/vol": str(volume)}, str(run))
    done = subprocess.run(argv, cwd=task, capture_output=True, text=True, env={"RUN": str(run)})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["listed"] == ["bytes.txt", "x.txt", "z.txt"]
    assert out["globbed"] == ["/vol/a/bytes.txt", "/vol/a/x.txt", "/vol/a/z.txt"]  # the pod's names, as in the pod
    assert out["exists"] == [True, False, False, True]
    assert out["strings"] == ["/vol", "/vol/a/x.txt", "/vol/a/x.txt"]
    assert out["pathlib"] == ["x", 1, True, ["bytes.txt", "x.txt", "z.txt"]]  # Path's own calls too (3.10: its accessor)
    assert out["argv"] == ["arg1"] and out["file"] == str(script) and out["name"] == "__main__"
    assert sorted(p.name for p in (volume / "a").iterdir()) == ["bytes.txt", "x.txt", "z.txt"]
    assert (task / "relative.txt").read_text() == "here" and (run / "vol" / "kept.txt").read_text() == "k"


def test_a_failing_script_shows_its_own_traceback(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("def f():\n    raise ValueError('nope')\n\nf()\n")
    argv = launch_argv([sys.executable, "-I", str(script)], str(script), {"/vol": str(tmp_path / "v")}, str(tmp_path))
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    fresh = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == fresh.returncode == 1
    assert done.stderr == fresh.stderr  # no frame of the launcher
