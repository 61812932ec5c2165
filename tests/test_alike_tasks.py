"""Tasks running one function are each checked with their own settings.

`heraspec validate` checks a function task's body once per distinct body (bodies._clean_key: the
function, the settings of its code and the names of its args), so that a 5,000-task chain running one
function is fast (and whether a body's `function` is misspelt once per set of keys it writes). These
tests put tasks that are alike in all but one of those before the one that differs, and expect every
error of the one that differs, at its own position.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli import errors_of, in_process as cli

# `frobnicate` is no module of the project, of the standard library or installed: a pod of a bare
# python image lacks it unless the task installs it, runs another image or imports from its image
STEPS = "import frobnicate\n\n\ndef work(i: int) -> int:\n    return i * 2\n"

UNCOVERED = ("error: 'import frobnicate': 'frobnicate' is not in the standard library, not a module of your "
             "project and not in this task's packages, so the pod will not have it ({steps}:1:1)")


def validate(capsys, project: Path, tasks: str) -> tuple[int, list[str]]:
    (project / "spec.yaml").write_text("name: alike\ntasks:\n" + tasks)
    code, _, err = cli(capsys, "validate", str(project / "spec.yaml"))
    return code, errors_of(err)


def at(tasks: str, task: str, word: str) -> str:
    """"LINE:COL" in the spec `validate` writes of the first `word` in the line of `task`."""
    lines = tasks.split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith(f"  {task}:"))
    return f"{n + 3}:{lines[n].index(word) + 1}"


def test_a_task_lacking_the_setting_its_clean_siblings_have_is_reported(project: Path, capsys):
    tasks = """\
  on_image: {function: steps:work, args: {i: 1}, image: my/python:1}
  installs: {function: steps:work, args: {i: 1}, packages: [frobnicate]}
  from_image: {function: steps:work, args: {i: 1}, code: image}
  bare: {function: steps:work, args: {i: 2}}
"""
    code, errors = validate(capsys, project, tasks)
    assert code == 1 and errors == [at(tasks, "bare", "steps:") + ": " + UNCOVERED.format(steps=project / "steps.py")]


def test_a_task_whose_args_differ_from_its_clean_siblings_is_reported(project: Path, capsys):
    tasks = """\
  a: {function: steps:work, args: {i: 1}, image: my/python:1}
  b: {function: steps:work, args: {i: 2}, image: my/python:1}
  unknown: {function: steps:work, args: {i: 3, nope: 2}, image: my/python:1}
  empty: {function: steps:work, args: {}, image: my/python:1}
  none: {function: steps:work, image: my/python:1}
"""
    code, errors = validate(capsys, project, tasks)
    assert code == 1 and errors == [
        at(tasks, "unknown", "nope") + ": error: work() has no parameter 'nope'",
        at(tasks, "empty", "{}") + ": error: work() is missing argument 'i'",
        at(tasks, "none", "none") + ": error: work() is missing argument 'i'",
    ]


def test_tasks_alike_to_a_faulty_one_are_each_reported_once_as_one_error(project: Path, capsys):
    # the same problem in several tasks is one error naming them all (semantic._one_per_cause)
    tasks = """\
  a: {function: steps:work, args: {i: 1}}
  b: {function: steps:work, args: {i: 2}}
  c: {function: steps:work, args: {i: 3}, image: my/python:1}
  d: {function: steps:work, args: {i: 4}}
"""
    code, errors = validate(capsys, project, tasks)
    assert code == 1 and errors == [at(tasks, "a", "steps:") + ": " + UNCOVERED.format(steps=project / "steps.py")
                                    + "; this affects 3 tasks: 'a', 'b', 'd'"]


def test_a_misspelt_function_among_tasks_with_the_same_number_of_keys_is_reported_once(project: Path, capsys):
    # the schema check says `fucntion` is misspelt; whether `b` runs a function is then unknown, so
    # nothing follows from it (no "has no function" for its outputs), however alike its siblings are
    tasks = """\
  a: {function: steps:work, args: {i: 1}, outputs: {doubled: value}, image: my/python:1}
  b: {fucntion: steps:work, args: {i: 1}, outputs: {doubled: value}, image: my/python:1}
"""
    code, errors = validate(capsys, project, tasks)
    assert code == 1 and errors == [at(tasks, "b", "fucntion") + ": error: unknown key 'fucntion' in task 'b'"]


def test_a_task_that_also_runs_a_command_or_template_is_reported_beside_its_clean_siblings(project: Path, capsys):
    tasks = """\
  a: {function: steps:work, args: {i: 1}, image: my/python:1}
  command: {function: steps:work, args: {i: 1}, image: my/python:1, command: [echo]}
  template: {function: steps:work, args: {i: 1}, image: my/python:1, template_ref: {name: t, template: main}}
  pipeline: {function: steps:work, args: {i: 1}, image: my/python:1, pipeline: other.yaml}
"""
    code, errors = validate(capsys, project, tasks)
    assert code == 1 and errors == [
        at(tasks, "command", "command: [") + ": error: task 'command' has both 'function' and 'command'",
        at(tasks, "template", "function") + ": error: task 'template' runs a template_ref: it has no 'function'",
        at(tasks, "pipeline", "function") + ": error: task 'pipeline' runs a pipeline: it has no 'function'",
        at(tasks, "pipeline", "other.yaml") + ": error: pipeline file 'other.yaml' not found",
    ]
