"""Real code in corner shapes: decorators that are not plain functions, definitions Python never binds
on import, star imports limited by `__all__`, generator functions. Each package is written as its
author would, then put through `validate`, the compiled script run as Argo's executor runs it (a
bare `python -I` in an empty folder) and `heraspec run`: validate's verdict must match what the pod
does, and what runs must return what calling the function directly returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import heraspec
from heraspec.python.pod.names import INPUT_PREFIX
from tests import test_realcode as realcode
from tests.argo_exec import pod_env, run_task
from tests.argo_schema import assert_argo_valid
from tests.cli import heraspec as cli

pytestmark = pytest.mark.usefixtures("fresh_functions")


def write(root: Path, files: dict[str, str]) -> Path:
    src = root / "src"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    return src


def spec(root: Path, cases: dict[str, tuple[str, dict]]) -> Path:
    lines = ["name: corners", "tasks:"]
    lines += [f"  {task}: {{function: '{ref}', args: {json.dumps(args)}}}" for task, (ref, args) in cases.items()]
    path = root / "spec.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def direct(src: Path, ref: str, args: dict) -> object:
    """What `from module import function; function(**args)` gives in a fresh interpreter."""
    return realcode.direct(ref, args, root=src)


# --- decorators whose result is not a plain function -------------------------------------------------

DECORATED = {
    "shop/__init__.py": "",
    "shop/models.py": (
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Item:\n    name: str\n    price: float\n"),
    "shop/util.py": (
        "import functools\n\n\ndef traced(fn):\n    @functools.wraps(fn)\n    def inner(*args, **kwargs):\n"
        "        return fn(*args, **kwargs)\n    return inner\n\n\n"
        "def plain(fn):\n    def inner(*args, **kwargs):\n        return fn(*args, **kwargs)\n    return inner\n"),
    "shop/steps.py": '''\
import functools
from functools import lru_cache

from .models import Item
from .util import plain, traced


class CountCalls:
    """A class-based decorator, as the tutorials write it."""

    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


class Bare:
    """A callable object that does not copy the function's attributes."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


@lru_cache(maxsize=None)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@functools.cache
def tenfold(n: int) -> int:
    return n * 10


@CountCalls
def counted(x: int) -> int:
    return x + 1


@Bare
def bare(x: int) -> int:
    return x + 2


@traced
def total(it: Item, n: int) -> str:
    return f"{type(it).__name__}:{it.price * n}"


@plain
def kept(it: Item) -> str:
    return type(it).__name__
''',
}

DECORATED_CASES = {
    "fib": ("shop.steps:fib", {"n": 10}),
    "tenfold": ("shop.steps:tenfold", {"n": 3}),
    "counted": ("shop.steps:counted", {"x": 2}),
    "bare": ("shop.steps:bare", {"x": 2}),
    "total": ("shop.steps:total", {"it": {"name": "pen", "price": 2.5}, "n": 2}),
    "kept": ("shop.steps:kept", {"it": {"name": "pen", "price": 2.5}}),
}
# `total` gets its dataclass rebuilt (the decorator lives in another module, whose globals have no Item)
# `kept`: its decorator (of another module) keeps nothing of the def: the class is found in its module
EXPECTED = {"fib": 55, "tenfold": 30, "counted": 3, "bare": 4, "total": "Item:5.0", "kept": "Item"}


def test_decorated_functions_run_in_the_pod_as_they_run_in_python(tmp_path: Path) -> None:
    src = write(tmp_path, DECORATED)
    path = spec(tmp_path, DECORATED_CASES)
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    assert_argo_valid(compiled.manifest)
    for task in DECORATED_CASES:
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == EXPECTED[task], task
    for task in ("fib", "tenfold", "counted", "bare"):
        assert direct(src, *DECORATED_CASES[task]) == EXPECTED[task]
    run = cli("run", str(path), "--path", str(src), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {t: v["result"] for t, v in json.loads(run.stdout)["tasks"].items()} == EXPECTED


def test_a_value_a_decorated_function_refuses_is_named_not_a_traceback(tmp_path: Path) -> None:
    src = write(tmp_path, DECORATED)
    path = spec(tmp_path, {"counted": ("shop.steps:counted", {"x": 1}), "bare": ("shop.steps:bare", {"x": 1})})
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    env = {"x": "abc"}  # what an upstream result could bring: not an int
    for task, shown in (("counted", "counted(x): expected int"), ("bare", "(x): expected")):
        tmpl = next(t for t in compiled.manifest["spec"]["templates"] if t["name"] == task)
        folder = tmp_path / "pods" / task
        folder.mkdir(parents=True)
        (folder / "script.py").write_text(tmpl["script"]["source"], encoding="utf-8")
        full = {**pod_env(compiled.manifest, tmpl), **{INPUT_PREFIX + k: v for k, v in env.items()},
                "HERASPEC_RESULT_PATH": str(folder / "result.json")}
        proc = subprocess.run([sys.executable, "-I", "script.py"], cwd=folder, env=full, capture_output=True,
                              text=True)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert shown in proc.stderr and "'abc' (str)" in proc.stderr, proc.stderr


# --- definitions Python never binds when the module is imported ---------------------------------------

UNBOUND = {
    "pk/__init__.py": "",
    "pk/impl.py": '''\
from typing import TYPE_CHECKING
import typing


def main() -> int:
    return 0


if __name__ == "__main__":
    def only_as_script() -> int:
        return 1

if TYPE_CHECKING:
    def only_for_mypy() -> int: ...

if typing.TYPE_CHECKING:
    def stub_then_real(x: int) -> int: ...
else:
    def stub_then_real(x: int, y: int = 5) -> int:
        return x + y


def dropped() -> int:
    return 3


del dropped
''',
}


def test_a_def_python_never_binds_on_import_is_refused_at_its_line(tmp_path: Path) -> None:
    src = write(tmp_path, UNBOUND)
    path = spec(tmp_path, {"script": ("pk.impl:only_as_script", {}), "mypy": ("pk.impl:only_for_mypy", {}),
                           "dropped": ("pk.impl:dropped", {})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("spec.yaml:3:22: error: 'only_as_script' is defined in module 'pk.impl' only under "
            "`if __name__ == \"__main__\":`, which does not run when the module is imported (src/pk/impl.py:9:1)") in out
    assert ("spec.yaml:4:20: error: 'only_for_mypy' is defined in module 'pk.impl' only under `if TYPE_CHECKING:`"
            in out and "(src/pk/impl.py:13:1)" in out)
    assert "'dropped' in module 'pk.impl' is deleted by `del`" in out and "(src/pk/impl.py:27:1)" in out
    assert out.count("hint: define the function at the module's top level") == 2 and "3 errors" in out
    for ref in ("only_as_script", "only_for_mypy", "dropped"):  # Python agrees: none of them can be imported
        code = f"import sys; sys.path.insert(0, {str(src)!r}); from pk.impl import {ref}"
        proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
        assert proc.returncode == 1 and f"cannot import name '{ref}'" in proc.stderr


def test_the_def_of_the_branch_that_runs_is_the_function(tmp_path: Path) -> None:
    # `if TYPE_CHECKING: <stub> else: <real def>`: the parameters are the real def's
    src = write(tmp_path, UNBOUND)
    path = spec(tmp_path, {"real": ("pk.impl:stub_then_real", {"x": 1, "y": 2})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    assert run_task(compiled.manifest, "real", tmp_path / "pod")[0] == 3 == direct(src, "pk.impl:stub_then_real",
                                                                                   {"x": 1, "y": 2})


# --- star imports bind what `__all__` lists, or the names not starting with '_' ------------------------

STARS = {
    "api/__init__.py": "from .public import *\nfrom .loose import *\n",
    "api/public.py": '__all__ = ["listed"]\n__all__ += ["added"]\n\n\ndef listed() -> int:\n    return 1\n\n\n'
                     'def added() -> int:\n    return 2\n\n\ndef unlisted() -> int:\n    return 3\n',
    "api/loose.py": "def visible() -> int:\n    return 4\n\n\ndef _private() -> int:\n    return 5\n",
}


def test_a_star_import_binds_what_python_binds(tmp_path: Path) -> None:
    src = write(tmp_path, STARS)
    ok = {"listed": ("api:listed", {}), "added": ("api:added", {}), "visible": ("api:visible", {})}
    path = spec(tmp_path, ok)
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    for task, (ref, args) in ok.items():
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == direct(src, ref, args), task


def test_a_name_a_star_import_leaves_out_is_refused_with_where_it_is(tmp_path: Path) -> None:
    src = write(tmp_path, STARS)
    path = spec(tmp_path, {"unlisted": ("api:unlisted", {}), "private": ("api:_private", {})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("spec.yaml:3:24: error: function 'unlisted' not found in module 'api' (src/api/__init__.py): the star "
            "import from 'api.public' leaves it out (it is not in its `__all__`)") in out
    assert "hint: reference 'api.public:unlisted', or export it from 'api.public'" in out
    assert "the star import from 'api.loose' leaves it out (its name starts with '_')" in out
    for ref in ("unlisted", "_private"):  # Python agrees
        code = f"import sys; sys.path.insert(0, {str(src)!r}); from api import {ref}"
        proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
        assert proc.returncode == 1 and f"cannot import name '{ref}'" in proc.stderr


# --- generator functions ---------------------------------------------------------------------------------

GENERATORS = {
    "gen/__init__.py": "",
    "gen/steps.py": '''\
import contextlib
from typing import Iterator


def numbers(n: int) -> Iterator[int]:
    for i in range(n):
        if i % 2:
            yield i


def collected(fn):
    def inner(*args, **kwargs):
        return list(fn(*args, **kwargs))
    return inner


@collected
def odds(n: int) -> list[int]:
    yield from range(1, n, 2)


def squares(n: int) -> list[int]:
    def each():
        yield from range(n)
    return [x * x for x in each()]
''',
}


def test_a_generator_function_is_refused_at_its_yield(tmp_path: Path) -> None:
    src = write(tmp_path, GENERATORS)
    path = spec(tmp_path, {"numbers": ("gen.steps:numbers", {"n": 4})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("spec.yaml:3:23: error: 'numbers' is a generator function: calling it returns a generator, which has "
            "no JSON form to be its result (src/gen/steps.py:8:13)") in out
    assert "hint: collect the items and return them (return list(...))" in out
    ran = cli("run", str(path), "--path", str(src), "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert ran.returncode == 1 and "'numbers' is a generator function" in ran.stderr  # before any task starts
    assert "Running" not in ran.stderr


def test_a_decorated_generator_and_a_nested_one_run(tmp_path: Path) -> None:
    src = write(tmp_path, GENERATORS)
    cases = {"odds": ("gen.steps:odds", {"n": 6}), "squares": ("gen.steps:squares", {"n": 3})}
    path = spec(tmp_path, cases)
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    for task, (ref, args) in cases.items():
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == direct(src, ref, args), task


# --- a sibling imported by its bare name (the script-style `sys.path` trick) -------------------------------

SIBLINGS = {
    "oldstyle/__init__.py": "",
    "oldstyle/helpers.py": "def double(x):\n    return 2 * x\n",
    "oldstyle/yaml.py": "def load(text):\n    return text\n",
    "oldstyle/main.py": ("import os\nimport sys\n\nsys.path.insert(0, os.path.dirname(__file__))\nimport helpers\n"
                         "import yaml\n\n\ndef run(x: int) -> int:\n    return helpers.double(x)\n"),
}


def test_a_sibling_imported_by_its_bare_name_gets_the_relative_import_as_the_fix(tmp_path: Path) -> None:
    src = write(tmp_path, SIBLINGS)
    path = spec(tmp_path, {"old": ("oldstyle.main:run", {"x": 2})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("error: 'import helpers': your project has no top-level module 'helpers'; oldstyle/helpers.py beside it "
            "is the module 'oldstyle.helpers', so the pod will not find 'helpers' (src/oldstyle/main.py:5:1)") in out
    assert "hint: import it from its package: `from . import helpers`" in out
    # `yaml` may be PyYAML or the module beside it: both fixes are named
    assert "packages: [PyYAML] (the distribution that provides 'yaml'), or, for oldstyle/yaml.py beside it, " \
           "`from . import yaml`" in out


def test_a_name_made_by_module_getattr_is_refused_with_the_module_that_defines_it(tmp_path: Path) -> None:
    src = write(tmp_path, {
        "lazy/__init__.py": ("import importlib\n\n\ndef __getattr__(name):\n    if name == 'train':\n"
                             "        return importlib.import_module('.impl', __name__).train\n"
                             "    raise AttributeError(name)\n"),
        "lazy/impl.py": "def train(n: int) -> int:\n    return n * 3\n",
    })
    path = spec(tmp_path, {"lazy": ("lazy:train", {"n": 2})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert "error: function 'train' not found in module 'lazy' (src/lazy/__init__.py)" in out
    assert ("hint: 'lazy' makes names on access with `__getattr__`, which heraspec cannot follow without importing "
            "it: reference the module that defines 'train' ('lazy.impl:train')") in out
    path = spec(tmp_path, {"lazy": ("lazy.impl:train", {"n": 2})})  # the fix works
    assert cli("validate", str(path), "--path", str(src), cwd=tmp_path).returncode == 0


def test_a_name_bound_to_a_method_or_a_partial_says_what_it_holds(tmp_path: Path) -> None:
    src = write(tmp_path, {"tools.py": (
        "from functools import partial\n\n\nclass Tools:\n    @staticmethod\n    def add(a: int, b: int) -> int:\n"
        "        return a + b\n\n\ndef train(epochs: int) -> int:\n    return epochs\n\n\n"
        "add = Tools.add\nfast = partial(train, epochs=5)\nLIMIT = 3\n")})
    path = spec(tmp_path, {"add": ("tools:add", {"a": 1, "b": 2}), "fast": ("tools:fast", {}),
                           "limit": ("tools:LIMIT", {})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("'add' in module 'tools' is a variable holding `Tools.add`, not a def whose parameters can be read "
            "(src/tools.py:14:1)\n  hint: write `def add(...)` with named parameters that calls it") in out
    assert "'fast' in module 'tools' is a variable holding `partial(train, epochs=5)`" in out
    assert "'LIMIT' in module 'tools' is a variable, not a function (src/tools.py:16:1)\n" in out


# --- a class named through its module: `models.Item` ---------------------------------------------------

THROUGH_MODULE = {
    "shop/__init__.py": "",
    "shop/models.py": ("from dataclasses import dataclass\n\n\n@dataclass\nclass Item:\n    name: str\n"
                       "    price: float\n"),
    "shop/steps.py": '''\
from __future__ import annotations

import typing
from typing import Optional

import shop.models
import shop.models as m
from . import models


def relative(it: models.Item, n: int) -> float:
    return it.price * n


def aliased(its: list[m.Item]) -> float:
    return sum(i.price for i in its)


def dotted(it: Optional[shop.models.Item] = None) -> str:
    return type(it).__name__


def anything(x: typing.Any) -> str:
    return type(x).__name__
''',
}


def test_a_parameter_annotated_with_a_class_through_its_module_receives_the_object(tmp_path: Path) -> None:
    src = write(tmp_path, THROUGH_MODULE)
    item = {"name": "pen", "price": 2.5}
    cases = {"relative": ("shop.steps:relative", {"it": item, "n": 2}),
             "aliased": ("shop.steps:aliased", {"its": [item, item]}),
             "dotted": ("shop.steps:dotted", {"it": item}),
             "anything": ("shop.steps:anything", {"x": item})}
    expected = {"relative": 5.0, "aliased": 5.0, "dotted": "Item", "anything": "dict"}
    path = spec(tmp_path, cases)
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    for task in cases:
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == expected[task], task
    run = cli("run", str(path), "--path", str(src), "--json", "--workdir", str(tmp_path / "run"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {t: v["result"] for t, v in json.loads(run.stdout)["tasks"].items()} == expected


# --- worker processes started with spawn or forkserver (Python 3.14's default on Linux) ---------------

WORKERS = {
    "par/__init__.py": "",
    "par/models.py": "from dataclasses import dataclass\n\n\n@dataclass\nclass Square:\n    n: int\n    sq: int\n",
    "par/steps.py": '''\
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from .models import Square


def square(n):
    return Square(n, n * n)


def squares(n: int, method: str) -> list[int]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        return [s.sq for s in pool.map(square, range(n))]
''',
}


def test_worker_processes_started_by_spawn_or_forkserver_import_the_carried_code(tmp_path: Path) -> None:
    # each such worker runs the task's script file again (as __mp_main__): it must serve the carried
    # modules (the worker unpickles par.steps.square and par.models.Square) and not call the function again
    src = write(tmp_path, WORKERS)
    cases = {"spawn": ("par.steps:squares", {"n": 4, "method": "spawn"}),
             "forkserver": ("par.steps:squares", {"n": 4, "method": "forkserver"})}
    path = spec(tmp_path, cases)
    (compiled,) = heraspec.compile([str(path)], path=[str(src)])
    for task, (ref, args) in cases.items():
        assert run_task(compiled.manifest, task, tmp_path / "pods" / task)[0] == [0, 1, 4, 9] == direct(src, ref, args)
    # and under heraspec run, in a run folder deep enough that its own tmp would be too long a path
    # for forkserver's Unix socket (107 bytes): the task's TMPDIR is then a short link to it
    workdir = tmp_path / ("deep-run-folder-" * 6) / "run"
    run = cli("run", str(path), "--path", str(src), "--json", "--workdir", str(workdir), cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {k: t["result"] for k, t in json.loads(run.stdout)["tasks"].items()} == {"spawn": [0, 1, 4, 9],
                                                                                     "forkserver": [0, 1, 4, 9]}


def test_a_multiprocessing_manager_runs_in_a_deep_run_folder(tmp_path: Path) -> None:
    # a Manager listens on a Unix socket in TMPDIR, whatever the start method
    src = write(tmp_path, {"shared.py": "import multiprocessing\n\n\ndef share(n: int) -> int:\n"
                                        "    with multiprocessing.Manager() as m:\n        d = m.dict()\n"
                                        "        d['n'] = n\n        return d['n'] * 2\n"})
    path = spec(tmp_path, {"share": ("shared:share", {"n": 21})})
    workdir = tmp_path / ("deep-run-folder-" * 6) / "run"
    run = cli("run", str(path), "--path", str(src), "--json", "--workdir", str(workdir), cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["tasks"]["share"]["result"] == 42
    links = [p for p in Path(tempfile.gettempdir()).glob("heraspec-*") if p.is_symlink()
             and str(workdir) in os.readlink(p)]
    assert links == []  # the short link ends with its task


def test_a_singledispatch_function_is_refused_at_its_decorator(tmp_path: Path) -> None:
    # the task calls its function with keyword arguments; singledispatch needs the first by position
    src = write(tmp_path, {"dispatch.py": (
        "from functools import singledispatch\n\n\n@singledispatch\ndef process(x) -> str:\n    return 'obj'\n\n\n"
        "@process.register\ndef _(x: int) -> str:\n    return 'int'\n")})
    path = spec(tmp_path, {"process": ("dispatch:process", {"x": 3})})
    proc = cli("validate", str(path), "--path", str(src), cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert ("spec.yaml:3:23: error: 'process' is a @singledispatch function, which needs its first argument by "
            "position; a task calls its function with keyword arguments (src/dispatch.py:4:2)") in out
    code = f"import sys; sys.path.insert(0, {str(src)!r}); from dispatch import process; process(x=3)"
    python = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
    assert "TypeError: process requires at least 1 positional argument" in python.stderr  # what the pod would do


def test_a_spawned_worker_does_not_install_the_tasks_packages_again(tmp_path: Path) -> None:
    # the worker runs the script file again, install_packages() included: pip ran once, in the task
    program = tmp_path / "task.py"
    program.write_text(
        "import multiprocessing, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from heraspec.python.pod import install_packages\n\n\n"
        "def worker():\n    install_packages()\n\n\n"
        "if __name__ == '__main__':\n    install_packages()\n"
        "    p = multiprocessing.get_context('spawn').Process(target=worker)\n    p.start()\n    p.join()\n"
        "    sys.exit(p.exitcode)\n", encoding="utf-8")
    log = tmp_path / "pip.log"  # pip appends each run's log here
    env = {"PATH": "/usr/bin:/bin", "HERASPEC_PACKAGES": json.dumps({"packages": ["pip"]}), "PIP_LOG": str(log)}
    proc = subprocess.run([sys.executable, "-I", str(program)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().count("Requirement already satisfied: pip") == 1
