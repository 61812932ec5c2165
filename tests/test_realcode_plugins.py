"""Plugin packages: a package lists its own modules (pkgutil.iter_modules / walk_packages over a
package's `__path__`) and imports each by a computed name. Written as their authors write them,
then put through `validate`, the compiled script run as Argo's executor runs it and `heraspec run`:
each must give what calling the function directly in Python gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import heraspec
from tests.argo_exec import run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli
from tests.test_realcode_corners import direct, spec, write

pytestmark = pytest.mark.usefixtures("fresh_functions")

PLUGINS = {
    # the common plugin shape: the package imports every module of its folder by a computed name
    "plugins/__init__.py": (
        "import importlib\nimport pkgutil\n\nREGISTRY = {}\n\n"
        "for m in pkgutil.iter_modules(__path__):\n    importlib.import_module(f\"{__name__}.{m.name}\")\n\n\n"
        "def names() -> list:\n    return sorted(REGISTRY)\n\n\n"
        "def listed() -> list:\n    return [m.name for m in pkgutil.iter_modules(__path__)]\n"),
    "plugins/alpha.py": "from . import REGISTRY\n\nREGISTRY['alpha'] = len\n",
    "plugins/beta.py": "from . import REGISTRY\nfrom .helpers import double\n\nREGISTRY['beta'] = double\n",
    "plugins/helpers.py": "def double(x):\n    return 2 * x\n",
    "plugins/README.md": "not a module\n",
    # walk_packages over a package with a subpackage (and one deeper), from pkgutil's names imported
    "tools/__init__.py": (
        "from importlib import import_module\nfrom pkgutil import walk_packages as walk\n\nFOUND = []\n\n"
        "for info in walk(__path__, __name__ + '.'):\n    import_module(info.name)\n\n\n"
        "def found() -> list:\n    return sorted(FOUND)\n"),
    "tools/hammer.py": "from tools import FOUND\n\nFOUND.append(__name__)\n",
    "tools/power/__init__.py": "from tools import FOUND\n\nFOUND.append(__name__)\n",
    "tools/power/drill.py": "from tools import FOUND\n\nFOUND.append(__name__)\n",
    "tools/power/deep/__init__.py": "",
    "tools/power/deep/laser.py": "from tools import FOUND\n\nFOUND.append(__name__)\n",
    # a package listed from another module, in a function body
    "app.py": (
        "import importlib\nimport pkgutil\n\nimport handlers\n\n\n"
        "def handle(x: int) -> dict:\n    out = {}\n"
        "    for m in pkgutil.iter_modules(handlers.__path__):\n"
        "        out[m.name] = importlib.import_module('handlers.' + m.name).handle(x)\n    return out\n"),
    "handlers/__init__.py": "",
    "handlers/add.py": "def handle(x):\n    return x + 1\n",
    "handlers/mul.py": "from .shared import FACTOR\n\n\ndef handle(x):\n    return x * FACTOR\n",
    "handlers/shared.py": "FACTOR = 10\n\n\ndef handle(x):\n    return None\n",
}
CASES = {
    "names": ("plugins:names", {}),
    "listed": ("plugins:listed", {}),
    "found": ("tools:found", {}),
    "handle": ("app:handle", {"x": 4}),
}
EXPECTED = {
    "names": ["alpha", "beta"],
    "listed": ["alpha", "beta", "helpers"],
    "found": ["tools.hammer", "tools.power", "tools.power.deep.laser", "tools.power.drill"],
    "handle": {"add": 5, "mul": 40, "shared": None},
}


SHAPES = {  # the shape -> its tasks
    "own-path": ("names", "listed"),  # the package lists its own __path__ (iter_modules)
    "walk-subpackages": ("found",),  # walk_packages: the subpackages' modules too
    "listed-from-another-module": ("handle",),  # pkgutil.iter_modules(handlers.__path__)
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_plugin_package_gives_what_python_gives_in_the_pod_and_under_heraspec_run(tmp_path: Path,
                                                                                    shape: str) -> None:
    src = write(tmp_path, PLUGINS)
    cases = {task: CASES[task] for task in SHAPES[shape]}
    path = spec(tmp_path, cases)
    for task, (ref, args) in cases.items():
        assert direct(src, ref, args) == EXPECTED[task], task
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    assert_argo_valid(compiled.manifest)
    for task in cases:
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == EXPECTED[task], task
    run = cli("run", str(path), "--path", str(src), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {t: v["result"] for t, v in json.loads(run.stdout)["tasks"].items()} == {t: EXPECTED[t] for t in cases}


def test_a_plugin_module_with_a_broken_import_is_a_located_error(tmp_path: Path) -> None:
    files = {k: v for k, v in PLUGINS.items() if k.startswith("plugins/")}
    files["plugins/gamma.py"] = "from . import REGISTRY\nfrom .helpers import tripple\n\nREGISTRY['gamma'] = tripple\n"
    src = write(tmp_path, files)
    path = spec(tmp_path, {"names": CASES["names"]})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    gamma = src / "plugins" / "gamma.py"
    assert (f"{path}:3:" in proc.stderr and "error: cannot import name 'tripple' from 'plugins.helpers'" in proc.stderr
            and "(src/plugins/gamma.py:2:1)" in proc.stderr), proc.stderr
    # and a plugin Python cannot even compile is the same error as in any carried module
    gamma.write_text("from . import REGISTRY\n\nREGISTRY['gamma'] = (\n", encoding="utf-8")
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error:" in proc.stderr and "src/plugins/gamma.py:3:" in proc.stderr, proc.stderr


LOADER = {
    "plugins/__init__.py": PLUGINS["plugins/__init__.py"],
    "plugins/alpha.py": PLUGINS["plugins/alpha.py"],
    "plugins/beta.py": PLUGINS["plugins/beta.py"],
    "plugins/helpers.py": PLUGINS["plugins/helpers.py"],
    "handlers/__init__.py": "",
    "handlers/add.py": PLUGINS["handlers/add.py"],
    "loader.py": (
        "import importlib\n\nimport plugins\n\n\n"
        "def by_prefix(name: str) -> str:\n    return importlib.import_module(f'handlers.{name}').__name__\n\n\n"
        "def listed(name: str) -> str:\n    return importlib.import_module('plugins.' + name).__name__\n\n\n"
        "def unknown(name: str) -> str:\n    return importlib.import_module(name).__name__\n\n\n"
        "def third_party(name: str) -> str:\n    return __import__('email.' + name).__name__\n"),
}


def test_a_computed_import_of_a_first_party_module_no_listing_carries_is_a_located_note(tmp_path: Path) -> None:
    src = write(tmp_path, LOADER)
    cases = {"prefix": ("loader:by_prefix", {"name": "add"}), "listed": ("loader:listed", {"name": "alpha"}),
             "unknown": ("loader:unknown", {"name": "json"}), "third": ("loader:third_party", {"name": "utils"})}
    path = spec(tmp_path, cases)
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    notes = [line for line in proc.stderr.splitlines() if ": note: " in line]
    # one note, once for the four tasks that carry loader.py, where the import is; `plugins` is listed by
    # its __init__ (its modules are carried), `name` alone may be anything, `email` is the standard library's
    assert len(notes) == 1, proc.stderr
    assert notes[0].startswith(f"{src / 'loader.py'}:7:12: note: this import's module name is computed: heraspec "
                               "cannot know which module of 'handlers' it names"), notes
    assert "import the module by name, or list the package's modules" in notes[0]
    # a `code: image` task carries nothing: its image has the code, so no note
    image = tmp_path / "image.yaml"
    image.write_text("name: image\ndefaults: {code: image, image: ghcr.io/acme/loader:1}\ntasks:\n"
                     "  prefix: {function: 'loader:by_prefix', args: {name: add}}\n", encoding="utf-8")
    proc = cli("validate", str(image), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0 and ": note: " not in proc.stderr, proc.stderr
    # what the note says: the pod does not have it; the listed package's module is there
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    assert run_task(compiled.manifest, "listed", tmp_path / "pods" / "listed")[0] == "plugins.alpha"
    with pytest.raises(AssertionError, match="No module named 'handlers"):
        run_task(compiled.manifest, "prefix", tmp_path / "pods" / "prefix")
