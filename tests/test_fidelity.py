"""The local executor follows Argo's controller (v4.1.2) where a run's shape depends on it (issue 20):
`depends` (dag.go evaluateDependsLogic, ancestry.go expandDependency), `when` (steps.go
shouldExecute, govaluate), phases of skipped/omitted/failed tasks (dag.go assessDAGPhase), retry
`limit` counting (operator.go processNodeRetries) and template `timeout`. Through `heraspec run`;
each manifest is also compiled and validated against Argo's schema."""

from __future__ import annotations

from pathlib import Path

from tests.test_compose import compile_and_run, phases as _phases

# a step that fails its first two attempts (it counts them in the file `path`)
FLAKY = '''\
def flaky(path: str) -> int:
    import os
    n = int(open(path).read()) if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(str(n + 1))
    if n < 2:
        raise SystemExit("attempt %d fails" % (n + 1))
    return n + 1
'''
STEPS = '''\
def ok(x=0):
    return x


def boom(x=None):
    raise SystemExit("boom")


def pick(x: int) -> int:
    if x == 2:
        raise SystemExit("two")
    return x


''' + FLAKY + '''

def nap(x=None):
    import time
    time.sleep(60)
'''


def _run(tmp_path: Path, spec: str) -> tuple[int, dict]:
    return compile_and_run(tmp_path, spec, STEPS)


def test_depends_and_the_phases_dependents_see(tmp_path: Path) -> None:
    # expandDependency: a bare dependency accepts Succeeded or Skipped; an Omitted task (its depends
    # false) is a phase dependents can ask for; assessDAGPhase: an Omitted leaf takes its failed
    # branch's phase, so the workflow fails
    code, data = _run(tmp_path, """\
name: fid-depends
tasks:
  a: {function: steps:ok, args: {x: 1}}
  bad: {function: steps:boom}
  skipped: {function: steps:ok, when: "heads == tails", after: [a]}
  after_skip: {function: steps:ok, after: [skipped]}
  omitted: {function: steps:ok, after: [bad]}
  after_omit: {function: steps:ok, depends: "omitted.Omitted && bad.Failed"}
  neither: {function: steps:ok, depends: "omitted.Succeeded || omitted.Skipped"}
""")
    assert _phases(data) == {"a": "Succeeded", "bad": "Failed", "skipped": "Skipped", "after_skip": "Succeeded",
                             "omitted": "Omitted", "after_omit": "Succeeded", "neither": "Omitted"}
    assert (code, data["phase"]) == (1, "Failed")


def test_a_handled_failure_inside_the_dag_does_not_fail_the_workflow(tmp_path: Path) -> None:
    # assessDAGPhase looks at the target (leaf) tasks' branches only: `bad` is not a leaf
    code, data = _run(tmp_path, """\
name: fid-handled
tasks:
  bad: {function: steps:boom}
  cleanup: {function: steps:ok, depends: "bad.Failed"}
  unused: {function: steps:ok, depends: "bad.Succeeded"}
  last: {function: steps:ok, depends: "cleanup || unused"}
""")
    assert _phases(data) == {"bad": "Failed", "cleanup": "Succeeded", "unused": "Omitted", "last": "Succeeded"}
    assert (code, data["phase"]) == (0, "Succeeded")


def test_any_succeeded_and_all_failed_look_at_the_fan_out_children(tmp_path: Path) -> None:
    # evaluateDependsLogic: AnySucceeded/AllFailed over a TaskGroup's children; the group is Failed
    code, data = _run(tmp_path, """\
name: fid-fanout
tasks:
  fan: {function: steps:pick, foreach: [1, 2, 3], args: {x: {item: true}}}
  some: {function: steps:ok, depends: "fan.AnySucceeded"}
  none: {function: steps:ok, depends: "fan.AllFailed"}
""")
    assert _phases(data) == {"fan": "Failed", "some": "Succeeded", "none": "Omitted"}
    assert [c["phase"] for c in data["tasks"]["fan"]["children"]] == ["Succeeded", "Failed", "Succeeded"]
    assert data["phase"] == "Failed"  # `none` is Omitted on a failed branch


def test_when_compares_as_govaluate(tmp_path: Path) -> None:
    # shouldExecute: bare words are strings; numbers compare as numbers (10 > 9, though "10" < "9");
    # a number never equals a string; strings compare lexically
    code, data = _run(tmp_path, """\
name: fid-when
tasks:
  numbers: {function: steps:ok, when: "10 > 9"}
  mixed: {function: steps:ok, when: "5 == '5'"}
  words: {function: steps:ok, when: "abc < abd && heads != tails"}
  quoted: {function: steps:ok, when: "'10' > '9'"}
""")
    assert _phases(data) == {"numbers": "Succeeded", "mixed": "Skipped", "words": "Succeeded", "quoted": "Skipped"}
    assert code == 0


def test_retry_limit_counts_retries_after_the_first_attempt(tmp_path: Path) -> None:
    # processNodeRetries: stop when the attempts made exceed `limit` (limit N: N + 1 attempts)
    code, data = _run(tmp_path, f"""\
name: fid-retry
tasks:
  enough: {{function: steps:flaky, args: {{path: "{tmp_path / 'enough.count'}"}}, retry: 2}}
  short: {{function: steps:flaky, args: {{path: "{tmp_path / 'short.count'}"}}, retry: 1}}
""")
    enough, short = data["tasks"]["enough"], data["tasks"]["short"]
    assert (enough["phase"], enough["attempts"], enough["result"]) == ("Succeeded", 3, 3)
    assert (short["phase"], short["attempts"]) == ("Failed", 2)
    assert (tmp_path / "short.count").read_text() == "2"
    assert code == 1


def test_a_template_timeout_fails_the_task_and_its_dependents_are_omitted(tmp_path: Path) -> None:
    # the template's timeout is the pod's deadline: the node Fails (no retry without a retryStrategy)
    code, data = _run(tmp_path, """\
name: fid-timeout
tasks:
  slow: {function: steps:nap, timeout: 3s}
  next: {function: steps:ok, after: [slow]}
""")
    assert _phases(data) == {"slow": "Failed", "next": "Omitted"}
    assert "timed out" in data["tasks"]["slow"]["message"]
    assert (code, data["phase"]) == (1, "Failed")
