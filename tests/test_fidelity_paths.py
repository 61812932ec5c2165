"""`heraspec run` on the paths where something goes wrong gives Argo v4.1.2's workflow phase, node
phases and values (issue 27). Each test names the Go function it mirrors; each spec is compiled and
validated against Argo's schema before it runs."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import heraspec
from heraspec.cli.local_run import run_manifest
from tests.argo_exec import workflow_spec
from tests.cli import heraspec as cli
from tests.test_compose import compile_and_run, phases
from tests.test_fidelity import FLAKY

STEPS = '''\
def ok(x=0):
    return x


def text(x: str = "") -> str:
    return x


def listing():
    return [1, None, "s"]


def kind(x=None):
    return type(x).__name__


def boom(x=None):
    raise SystemExit("boom")


def err(x=None):
    raise SystemExit(3)


def stamp(path: str, fail_first: bool = False) -> float:
    import os
    import time
    first = not os.path.exists(path + ".n")
    open(path + ".n", "a").write("x")
    start = time.time()
    time.sleep(0.5)
    with open(path, "a") as f:
        f.write(f"{start} {time.time()}\\n")
    if fail_first and first:
        raise SystemExit("first attempt fails")
    return start


def napping(seconds: float = 3) -> str:
    import time
    time.sleep(seconds)
    return "done"


''' + FLAKY + '''

def names(failures: str) -> list:
    import json
    rows = json.loads(failures)  # Argo's value: strconv.Quote of the JSON list
    rows = json.loads(rows) if isinstance(rows, str) else rows
    return [row["displayName"] for row in rows or []]


def rows(failures: str) -> list:
    import json
    return [[r["displayName"], r["message"], r["phase"]] for r in json.loads(json.loads(failures)) or []]


def logged(log: str, item: str) -> str:
    import time
    if item == "slow":
        time.sleep(4)  # the fast item's hook starts and ends well within this, even under load
    with open(log, "a") as f:
        f.write(f"end {item}\\n")
    return item


def hooked(log: str, item: str) -> str:
    with open(log, "a") as f:
        f.write(f"hook {item}\\n")
    return item


def slow_second(path: str) -> int:
    import os
    import time
    n = int(open(path).read()) if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(str(n + 1))
    if n == 0:
        raise SystemExit("first attempt fails")
    time.sleep(6)
    return n + 1
'''


def run_spec(tmp_path: Path, spec: str) -> tuple[int, dict]:
    return compile_and_run(tmp_path, spec, STEPS)


def test_a_leaf_skipped_after_a_handled_failure_fails_the_workflow(tmp_path: Path) -> None:
    # dag.go assessDAGPhase: `report` is Skipped, not Completed, so it inherits the Failed branch
    # phase of `a` (kept going by continueOn): the workflow is Failed (upstream issue #13967)
    code, data = run_spec(tmp_path, """\
name: fid-skipped-leaf
tasks:
  a: {function: steps:boom, continue_on: [failed]}
  report: {function: steps:ok, after: [a], when: "1 == 2"}
""")
    assert phases(data) == {"a": "Failed", "report": "Skipped"}
    assert (code, data["phase"]) == (1, "Failed")
    assert "argoproj/argo-workflows#13967" in data["tasks"]["report"]["message"]


def test_the_phase_walk_goes_through_a_nested_dag(tmp_path: Path) -> None:
    # dag.go assessDAGPhase walks node.Children from the boundary; a nested DAG node's children are its
    # inner root tasks, and the outer tasks after it hang from its outbound nodes (operator.go
    # getOutboundNodes: the inner targets', dag.go updateOutboundNodesForTargetTasks). The inner `y`
    # Failed (continueOn: the sub-pipeline Succeeded), so the Skipped `z` after it inherits Failed
    (tmp_path / "sub.yaml").write_text("name: sub\ntasks:\n  y: {function: steps:boom, continue_on: [failed]}\n")
    code, data = run_spec(tmp_path, """\
name: fid-nested-walk
tasks:
  p: {pipeline: sub.yaml}
  z: {function: steps:ok, after: [p], when: "1 == 2"}
""")
    assert phases(data) == {"p": "Succeeded", "z": "Skipped"}
    assert (code, data["phase"]) == (1, "Failed")
    assert "argoproj/argo-workflows#13967" in data["tasks"]["z"]["message"]


def test_a_leaf_ending_in_error_makes_the_workflow_error(tmp_path: Path) -> None:
    # dag.go assessDAGPhase: the target's branch phase is Error, which is the DAG's (and the
    # workflow's, operate) phase; not Failed
    code, data = run_spec(tmp_path, """\
name: fid-error-leaf
tasks:
  a: {function: steps:text, args: {x: model.pkl}}
  b: {function: steps:ok, after: [a], when: "{{tasks.a.outputs.parameters.result}} == x"}
""")
    assert phases(data) == {"a": "Succeeded", "b": "Error"}
    assert (code, data["phase"]) == (1, "Error")


def test_when_is_lexed_as_govaluate_does(tmp_path: Path) -> None:
    # steps.go shouldExecute (govaluate parseTokens/readToken): a dotted word is an accessor, a word
    # starting with '_' an invalid token, arithmetic and hex evaluate, a non-ASCII word is a string.
    # The refused texts arrive through a task's value (a literal one is refused at validate)
    code, data = run_spec(tmp_path, """\
name: fid-when-lexing
tasks:
  word: {function: steps:text, args: {x: model.pkl}}
  under_word: {function: steps:text, args: {x: _x}}
  quoted: {function: steps:text, args: {x: 'a"b'}}
  dotted: {function: steps:ok, after: [word], when: "{{tasks.word.outputs.parameters.result}} == x"}
  under: {function: steps:ok, after: [under_word], when: "{{tasks.under_word.outputs.parameters.result}} == x"}
  quote: {function: steps:ok, after: [quoted], when: "'{{tasks.quoted.outputs.parameters.result}}' == x"}
  arith: {function: steps:ok, args: {x: 1}, when: "1 + 2 == 0x3"}
  accent: {function: steps:ok, args: {x: 2}, when: "héllo == héllo"}
  ternary: {function: steps:ok, args: {x: 3}, when: "(2 > 1 ? yes : no) == yes"}
""")
    assert {k: v for k, v in phases(data).items() if k not in ("word", "under_word", "quoted")} == {
        "dotted": "Error", "under": "Error", "quote": "Error", "arith": "Succeeded", "accent": "Succeeded",
        "ternary": "Succeeded"}
    tasks = data["tasks"]
    assert "Unable to access unexported field 'pkl' in token 'model.pkl'" in tasks["dotted"]["message"]
    assert "Invalid token: '_'" in tasks["under"]["message"]
    assert "Unclosed string literal" in tasks["quote"]["message"]
    assert (tasks["arith"]["result"], tasks["accent"]["result"], tasks["ternary"]["result"]) == (1, 2, 3)


def test_a_null_item_reaches_the_function_as_none(tmp_path: Path) -> None:
    # operator.go processItem: a null wfv1.Item (withParam from a task's list) is GetType's List and
    # GetListVal's nil slice, so {{item}} is json.Marshal(nil) = "null"; generateNodeName prints []
    code, data = run_spec(tmp_path, """\
name: fid-null-item
tasks:
  gen: {function: steps:listing}
  k: {function: steps:kind, foreach: {from: gen}, args: {x: {item: true}}}
""")
    assert code == 0
    k = data["tasks"]["k"]
    assert k["result"] == ["int", "NoneType", "str"]
    assert [c["name"] for c in k["children"]] == ["k(0:1)", "k(1:[])", "k(2:s)"]


def test_a_fan_out_whose_items_are_all_skipped_is_succeeded(tmp_path: Path) -> None:
    # dag.go executeDAGTask: the TaskGroup's phase is Succeeded unless a child Failed or Errored;
    # so `k.Succeeded` holds and `k.Skipped` does not
    code, data = run_spec(tmp_path, """\
name: fid-all-skipped
tasks:
  k: {function: steps:ok, foreach: [1, 2], args: {x: {item: true}}, when: "{{item}} > 5"}
  if_ok: {function: steps:ok, depends: "k.Succeeded"}
  if_skipped: {function: steps:ok, depends: "k.Skipped"}
""")
    assert phases(data) == {"k": "Succeeded", "if_ok": "Succeeded", "if_skipped": "Omitted"}
    assert [c["phase"] for c in data["tasks"]["k"]["children"]] == ["Skipped", "Skipped"]
    assert (code, data["phase"]) == (0, "Succeeded")


def test_max_duration_is_the_deadline_of_later_attempts(tmp_path: Path) -> None:
    # operator.go processNodeRetries: from the second attempt on, the first attempt's start plus
    # backoff.maxDuration is the pod's executionDeadline (ARGO_DEADLINE): the 6 s second attempt is
    # killed ("Step exceeded its deadline") and the task fails instead of succeeding
    t0 = time.monotonic()
    code, data = run_spec(tmp_path, f"""\
name: fid-max-duration
tasks:
  s:
    function: steps:slow_second
    args: {{path: "{tmp_path / 'count'}"}}
    retry: {{limit: 3, backoff: {{duration: 1s, max_duration: 3s}}}}
""")
    assert time.monotonic() - t0 < 6 + 5
    s = data["tasks"]["s"]
    assert (s["phase"], s["attempts"]) == ("Failed", 2)
    assert s["message"].startswith("Max duration limit exceeded") and "Step exceeded its deadline" in s["message"]
    assert (code, data["phase"]) == (1, "Failed")


def test_with_sequence_counts_down_and_formats_as_go(tmp_path: Path) -> None:
    # operator.go expandSequence: a negative count counts down from start; each number through
    # fmt.Sprintf(format): %v prints the number, %s prints %!s(int=N)
    code, data = run_spec(tmp_path, """\
name: fid-sequence
tasks:
  down:
    function: steps:ok
    args: {x: "{{item}}"}
    argo: {task: {withSequence: {start: "2", count: "-2", format: "%v"}}}
  verb:
    function: steps:ok
    args: {x: "{{item}}"}
    argo: {task: {withSequence: {count: "1", format: "n%s"}}}
""")
    assert data["tasks"]["down"]["result"] == [2, 1, 0, -1]
    assert data["tasks"]["verb"]["result"] == ["n%!s(int=0)"]
    assert code == 0


def test_a_consumer_of_a_skipped_producer_gets_its_input_default(tmp_path: Path) -> None:
    # scope.go addSkippedNodeOutputsToScope + markAbsentOptionalArgs, common/util.go ProcessArgs:
    # the Skipped producer's output is an absent optional, so the consumer's own input default
    # applies (`x=None` -> default "null"); with no default the consumer ends in Error
    code, data = run_spec(tmp_path, """\
name: fid-absent
tasks:
  p: {function: steps:ok, args: {x: 1}, when: "1 == 2"}
  c: {function: steps:kind, args: {x: {from: p}}}
  d: {function: steps:slow_second, args: {path: {from: p}}}
""")
    assert phases(data) == {"p": "Skipped", "c": "Succeeded", "d": "Error"}
    assert data["tasks"]["c"]["result"] == "NoneType"
    assert "inputs.parameters.path: argument references an absent optional" in data["tasks"]["d"]["message"]


def test_a_retried_task_keeps_its_mutex_through_the_back_off(tmp_path: Path) -> None:
    # dag.go executeDAGTask: the lock is released when the task's (Retry) node is fulfilled, so no
    # other task holding the same mutex runs between a's failed attempt and its retry
    code, data = run_spec(tmp_path, f"""\
name: fid-mutex
tasks:
  a: {{function: steps:stamp, args: {{path: "{tmp_path / 'a'}", fail_first: true}}, mutex: m,
      retry: {{limit: 1, backoff: {{duration: 2s}}}}}}
  b: {{function: steps:stamp, args: {{path: "{tmp_path / 'b'}"}}, mutex: m}}
""")
    assert code == 0 and phases(data) == {"a": "Succeeded", "b": "Succeeded"}
    a = [tuple(map(float, ln.split())) for ln in (tmp_path / "a").read_text().splitlines()]
    (b_start, b_end), = [tuple(map(float, ln.split())) for ln in (tmp_path / "b").read_text().splitlines()]
    assert len(a) == 2
    assert b_start >= a[1][1] or b_end <= a[0][0]  # b ran before a's first attempt or after its last


def test_a_failed_tasks_exit_hook_sees_its_missing_output_as_written(tmp_path: Path) -> None:
    # exit_handler.go resolveExitTmplArgument: ReplaceStrictAny without strict prefixes leaves a tag
    # that does not resolve as written; the hook runs instead of ending in Error
    code, data = run_spec(tmp_path, """\
name: fid-hook-args
tasks:
  a: {function: steps:boom, continue_on: [failed], on_exit: {function: steps:ok, args: {x: {from: a}}}}
  b: {function: steps:ok, after: [a]}
""")
    hook = data["tasks"]["a.onExit"]
    assert hook["phase"] == "Succeeded"
    assert hook["result"] == "{{tasks.a.outputs.parameters.result}}"


def test_the_exit_handler_has_no_workflow_deadline(tmp_path: Path) -> None:
    # workflowpod.go getDeadline: an exit-handler pod (onExitPod) gets no activeDeadlineSeconds
    code, data = run_spec(tmp_path, """\
name: fid-exit-deadline
deadline: 2s
tasks:
  a: {function: steps:ok}
on_exit: {function: steps:napping, args: {seconds: 3}}
""")
    assert data["tasks"]["onExit"]["phase"] == "Succeeded"
    assert (code, data["phase"]) == (0, "Succeeded")


def test_an_exit_hook_on_a_fan_out_runs_per_child_and_for_the_group(tmp_path: Path) -> None:
    # dag.go executeDAGTask: runOnExitNode for each expanded child that Completed, with that child's
    # outputs as the task's (exit_handler.go resolveExitTmplArgument); then, once the TaskGroup node
    # is Completed, for the group node (its aggregated outputs)
    code, data = run_spec(tmp_path, """\
name: fid-fan-hook
tasks:
  k:
    function: steps:ok
    foreach: [1, 2, 7]
    args: {x: {item: true}}
    when: "{{item}} < 5"
    on_exit: {function: steps:ok, args: {x: {from: k}}}
""")
    tasks = data["tasks"]
    hooks = {n: t for n, t in tasks.items() if n.endswith(".onExit")}
    assert sorted(hooks) == ["k(0:1).onExit", "k(1:2).onExit", "k.onExit"]
    assert (hooks["k(0:1).onExit"]["result"], hooks["k(1:2).onExit"]["result"]) == (1, 2)
    assert hooks["k.onExit"]["result"] == [1, 2]
    assert code == 0


def test_a_template_with_fail_fast_starts_nothing_after_a_failure(tmp_path: Path) -> None:
    # operator.go checkParallelism: with the template's failFast, a failed child of the DAG stops
    # every later task from starting (ErrParallelismReached); the DAG ends Failed
    code, data = run_spec(tmp_path, """\
name: fid-fail-fast
tasks:
  bad: {function: steps:boom}
  slow: {function: steps:napping, args: {seconds: 1.5}}
  later: {function: steps:ok, after: [slow], args: {x: 2}}
argo: {spec: {templates: [{name: main, failFast: true}]}}
""")
    assert phases(data) == {"bad": "Failed", "slow": "Succeeded", "later": "Pending"}
    assert (code, data["phase"]) == (1, "Failed")


def test_a_consumer_of_a_fan_out_whose_items_were_all_skipped_says_argo_would_wait(tmp_path: Path) -> None:
    # dag.go executeDAGTask (groupPhase Succeeded) + resolveDependencyReferences (a missing variable
    # requeues): Argo v4.1.2 never ends this workflow; the local run ends the consumer in Error and
    # says so rather than promise an outcome
    code, data = run_spec(tmp_path, """\
name: fid-wait-forever
tasks:
  k: {function: steps:ok, foreach: [1, 2], args: {x: {item: true}}, when: "{{item}} > 5"}
  use: {function: steps:kind, args: {x: {from: k}}}
""")
    assert phases(data) == {"k": "Succeeded", "use": "Error"}
    assert "on Argo v4.1.2 this task would wait for ever" in data["tasks"]["use"]["message"]
    assert code == 1


def test_a_fan_out_childs_exit_hook_starts_when_that_child_ends(tmp_path: Path) -> None:
    # dag.go executeDAGTask walks the expanded children in order: a Completed child gets its hook
    # (runOnExitNode) in that pass, a running child is passed over, and the walk returns at a hook
    # not yet fulfilled. So `fast`'s hook runs while `slow` still runs; `slow`'s after `fast`'s hook.
    log = tmp_path / "order.log"
    code, data = run_spec(tmp_path, f"""\
name: fid-fan-hook-early
tasks:
  k:
    function: steps:logged
    foreach: [slow, fast]
    args: {{log: "{log}", item: {{item: true}}}}
    on_exit: {{function: steps:hooked, args: {{log: "{log}", item: {{from: k}}}}}}
""")
    assert code == 0
    assert log.read_text().splitlines() == ["end fast", "hook fast", "end slow", "hook slow", 'hook ["slow","fast"]']


def test_workflow_failures_list_every_failed_attempt(tmp_path: Path) -> None:
    # operator.go operate: workflow.failures holds every node whose phase is Failed or Error; a retried
    # task's attempts are pod nodes NAME(i) under its Retry node, listed even when a later one succeeded
    code, data = run_spec(tmp_path, f"""\
name: fid-failures
tasks:
  f: {{function: steps:flaky, args: {{path: "{tmp_path / 'n'}"}}, retry: 2}}
  b: {{function: steps:boom}}
on_exit: {{function: steps:names, args: {{failures: {{workflow: failures}}}}}}
""")
    assert phases(data)["f"] == "Succeeded" and data["tasks"]["f"]["attempts"] == 3
    assert data["tasks"]["onExit"]["result"] == ["fid-failures", "f(0)", "f(1)", "b"]
    assert code == 1


def test_workflow_failures_carry_argos_node_messages(tmp_path: Path) -> None:
    # operator.go operate builds workflow.failures from each Failed/Error node's Message: a pod's from
    # inferFailedReason ("main: Error (exit code N)"; a template timeout is the pod's
    # activeDeadlineSeconds, so the kubelet's pod.Status.Message), a Retry node's from
    # processNodeRetries ("No more retries left"), and none for the DAG and TaskGroup nodes (dag.go
    # markNodePhase without a message)
    code, data = run_spec(tmp_path, """\
name: fid-messages
tasks:
  b: {function: steps:boom}
  e: {function: steps:err}
  r: {function: steps:boom, retry: 1}
  t: {function: steps:napping, args: {seconds: 6}, timeout: 3s}
  g: {function: steps:boom, foreach: [1], args: {x: {item: true}}}
on_exit: {function: steps:rows, args: {failures: {workflow: failures}}}
""")
    assert code == 1
    assert data["tasks"]["onExit"]["result"] == [
        ["fid-messages", "", "Failed"],
        ["b", "main: Error (exit code 1)", "Failed"],
        ["e", "main: Error (exit code 3)", "Failed"],
        ["r", "No more retries left", "Failed"],
        ["r(0)", "main: Error (exit code 1)", "Failed"],
        ["r(1)", "main: Error (exit code 1)", "Failed"],
        ["t", "Pod was active on the node longer than the specified deadline", "Failed"],
        ["g", "", "Failed"],
        ["g(0:1)", "main: Error (exit code 1)", "Failed"]]
    # the run's own messages still say more
    assert "boom" in data["tasks"]["b"]["message"] and "timed out" in data["tasks"]["t"]["message"]


def test_a_failed_retried_task_with_an_exit_hook_does_not_fail_the_workflow(tmp_path: Path) -> None:
    # operator.go getOutboundNodes: a Retry node's outbound node is its last child, the exit hook
    # node; assessDAGPhase gives the Omitted task after it the hook's Succeeded, so Argo v4.1.2
    # reports the workflow Succeeded (an Argo defect): heraspec run does the same and says so
    code, data = run_spec(tmp_path, """\
name: fid-retry-hook
tasks:
  a: {function: steps:boom, retry: 1, on_exit: {function: steps:ok}}
  b: {function: steps:ok, after: [a]}
""")
    assert phases(data) == {"a": "Failed", "b": "Omitted", "a.onExit": "Succeeded"}
    assert (code, data["phase"]) == (0, "Succeeded")
    assert "argoproj/argo-workflows#11589" in data["tasks"]["a"]["message"]


def test_workflow_status_is_the_first_failed_leaf_in_name_order(tmp_path: Path) -> None:
    # dag.go findLeafTaskNames sorts the leaves by name; assessDAGPhase (fail fast) takes the first
    # failed one: `a_fail` (Failed) before `z_err` (Error), whatever order the spec lists them in
    code, data = run_spec(tmp_path, """\
name: fid-status-order
tasks:
  word: {function: steps:text, args: {x: model.pkl}}
  z_err: {function: steps:ok, after: [word], when: "{{tasks.word.outputs.parameters.result}} == x"}
  a_fail: {function: steps:boom}
on_exit: {function: steps:ok, args: {x: {workflow: status}}}
""")
    assert phases(data)["z_err"] == "Error" and phases(data)["a_fail"] == "Failed"
    assert data["tasks"]["onExit"]["result"] == "Failed"  # {{workflow.status}}
    assert (code, data["phase"]) == (1, "Failed")


def test_a_retry_expression_without_a_policy_retries_errors_too(tmp_path: Path) -> None:
    # workflow_types.go RetryPolicyActual: with an expression and no retryPolicy the policy is Always,
    # so an attempt ending in Error (its output file missing: the wait container fails) is retried
    # (operator.go processNodeRetries), here as on the cluster
    code, data = run_spec(tmp_path, """\
name: fid-expr-policy
tasks:
  c:
    image: alpine
    command: [sh, -c, "true"]
    retry: 2
    argo:
      template:
        retryStrategy: {expression: 'lastRetry.exitCode != "97"'}
        outputs: {parameters: [{name: o, valueFrom: {path: /tmp/o.txt}}]}
on_exit: {function: steps:rows, args: {failures: {workflow: failures}}}
""")
    assert (code, data["phase"]) == (1, "Error")
    assert (data["tasks"]["c"]["phase"], data["tasks"]["c"]["attempts"]) == ("Error", 3)
    assert [r[:3:2] for r in data["tasks"]["onExit"]["result"]] == [
        ["fid-expr-policy", "Error"], ["c", "Error"], ["c(0)", "Error"], ["c(1)", "Error"], ["c(2)", "Error"]]
    assert data["tasks"]["onExit"]["result"][1][1] == "No more retries left"


def test_a_back_off_past_max_duration_ends_the_retries_before_the_limit(tmp_path: Path) -> None:
    # operator.go processNodeRetries checks the back-off against maxDuration before the limit: the
    # second attempt's 10s wait would end past the 6s maxDuration, so the Retry node ends with
    # "Backoff would exceed max duration limit", not "No more retries left"
    code, data = run_spec(tmp_path, """\
name: fid-backoff-order
tasks:
  a: {function: steps:boom, retry: {limit: 1, backoff: {duration: 1s, factor: 10, max_duration: 6s}}}
on_exit: {function: steps:rows, args: {failures: {workflow: failures}}}
""")
    assert (code, data["tasks"]["a"]["attempts"]) == (1, 2)
    assert data["tasks"]["onExit"]["result"][1] == ["a", "Backoff would exceed max duration limit", "Failed"]


def test_a_failure_that_is_not_retried_waits_out_its_back_off_first(tmp_path: Path) -> None:
    # operator.go processNodeRetries waits the back-off (while retries are left) before it reads the
    # retryPolicy: an OnError task that Failed ends only after its 3s back-off, once
    code, data = run_spec(tmp_path, """\
name: fid-backoff-first
tasks:
  a: {function: steps:boom, retry: {limit: 2, policy: OnError, backoff: {duration: 3s}}}
""")
    a = data["tasks"]["a"]
    assert (code, a["phase"], a["attempts"]) == (1, "Failed", 1)
    assert a["duration_s"] >= 3.0


def test_the_workflow_deadline_ends_a_retry_in_its_back_off(tmp_path: Path) -> None:
    # operator.go processNodeRetries: once the workflow's deadline (getWorkflowDeadline: the start to
    # the second + activeDeadlineSeconds) has passed, a Retry node whose attempt failed ends at once,
    # "retry exceeded workflow deadline <time>", not after its 60s back-off
    start = time.monotonic()
    code, data = run_spec(tmp_path, """\
name: fid-deadline-backoff
deadline: 2s
tasks:
  a: {function: steps:boom, retry: {limit: 3, backoff: {duration: 60s}}}
on_exit: {function: steps:rows, args: {failures: {workflow: failures}}}
""")
    assert time.monotonic() - start < 40
    assert (code, data["phase"], data["tasks"]["a"]["attempts"]) == (1, "Failed", 1)
    rows = data["tasks"]["onExit"]["result"]
    assert rows[1][0] == "a" and rows[1][1].startswith("retry exceeded workflow deadline 20")
    assert rows[1][1].endswith(" +0000 UTC") and rows[2] == ["a(0)", "main: Error (exit code 1)", "Failed"]


def test_a_fan_outs_false_when_skips_each_item_and_its_group_succeeds(tmp_path: Path) -> None:
    # dag.go executeDAGTask expands the task first (expandTask), then evaluates `when` on each expanded
    # task: every item is Skipped and the TaskGroup is Succeeded, so `h.Skipped` is false and, the
    # group being Completed, assessDAGPhase does not pass `a`'s handled failure on to the leaf `g`
    code, data = run_spec(tmp_path, """\
name: fid-fan-out-when
tasks:
  a: {function: steps:boom, continue_on: [failed]}
  g: {function: steps:ok, foreach: [1, 2], args: {x: {item: true}}, after: [a], when: "{{tasks.a.status}} == Succeeded"}
  h: {function: steps:ok, foreach: [1], args: {x: {item: true}}, after: [a], when: "{{tasks.a.status}} == Succeeded"}
  s: {function: steps:ok, depends: "h.Skipped"}
""")
    assert phases(data) == {"a": "Failed", "g": "Succeeded", "h": "Succeeded", "s": "Omitted"}
    assert [c["phase"] for c in data["tasks"]["g"]["children"]] == ["Skipped", "Skipped"]
    assert data["tasks"]["g"]["children"][0]["message"] == "when 'Failed == Succeeded' evaluated false"
    assert (code, data["phase"]) == (0, "Succeeded")


def test_a_target_omitted_after_an_unhandled_failure_has_no_defect_note(tmp_path: Path) -> None:
    # dag.go assessDAGPhase: `b` (Omitted) inherits `a`'s Failed, which is how a failed task that is not
    # a target fails the DAG; only a handled failure (continueOn) passed on this way is the upstream
    # defect #13967 the run's message names
    code, data = run_spec(tmp_path, """\
name: fid-plain-failure
tasks:
  a: {function: steps:boom}
  b: {function: steps:ok, after: [a]}
""")
    assert phases(data) == {"a": "Failed", "b": "Omitted"}
    assert (code, data["phase"]) == (1, "Failed")
    assert "13967" not in data["tasks"]["b"]["message"]


def test_a_consumer_of_a_failed_producers_output_says_argo_would_wait(tmp_path: Path) -> None:
    # dag.go resolveDependencyReferences: ReplaceStrictAny fails on the missing
    # {{tasks.a.outputs.parameters.result}} with "failed to resolve", a missing variable
    # (IsMissingVariableErr), so Argo v4.1.2 requeues `use` for ever after `a` failed (continue_on let
    # it run); the local run ends it in Error and says so
    code, data = run_spec(tmp_path, """\
name: fid-failed-producer
tasks:
  a: {function: steps:boom, continue_on: [failed]}
  use: {function: steps:kind, args: {x: {from: a}}}
  c: {image: sh, command: [echo, hi], when: "1 == 2"}
  read: {function: steps:kind, args: {x: {from: c}}}
""")
    # and a Skipped container's {{tasks.c.outputs.result}}: scope.go addSkippedNodeOutputsToScope
    # gives a Skipped node its declared output parameters only
    assert phases(data) == {"a": "Failed", "use": "Error", "c": "Skipped", "read": "Error"}
    assert "on Argo v4.1.2 this task would wait for ever" in data["tasks"]["use"]["message"]
    assert "'a' ended Failed without this output" in data["tasks"]["use"]["message"]
    assert "'c' was Skipped and has no such output" in data["tasks"]["read"]["message"]
    assert code == 1


def test_validate_notes_a_reader_of_a_producer_that_continues_on_failure(tmp_path: Path) -> None:
    # the spec is valid, and runs as written while `a` succeeds; when it fails, Argo requeues `use`
    # for ever (the test above): validate says so where the result is read, and not for a reader
    # that waits only for a.Succeeded, nor for a task that reads nothing of `a`
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "spec.yaml"
    spec.write_text("""\
name: fid-note
tasks:
  a: {function: steps:boom, continue_on: [failed, error]}
  use: {function: steps:text, args: {x: {from: a}}}
  safe: {function: steps:text, args: {x: {from: a}}, depends: a.Succeeded}
  after: {function: steps:ok, after: [a]}
""")
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 0
    notes = [line for line in proc.stderr.splitlines() if ": note: " in line]
    assert len(notes) == 1, proc.stderr
    assert notes[0].startswith(f"{spec}:4:")
    assert "if 'a' fails or errors, 'use' still runs" in notes[0] and "waits for ever" in notes[0]
    assert notes[0].endswith("give 'use' depends: a.Succeeded")
    spec.write_text(spec.read_text().replace("continue_on: [failed, error]", "retry: 1"))
    assert ": note: " not in cli("validate", str(spec), cwd=tmp_path).stderr


SHORT_TIMEOUTS = """\
name: fid-short-timeout
tasks:
  t: {{function: steps:stamp, args: {{path: "{marker}"}}, timeout: {t}}}
  r: {{function: steps:ok, timeout: {r}, retry: {{limit: 1, policy: Always}}}}
  after: {{function: steps:ok, after: [t]}}
on_exit: {{function: steps:rows, args: {{failures: {{workflow: failures}}}}}}
"""


def test_validate_refuses_a_timeout_of_two_seconds_or_less(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(STEPS)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SHORT_TIMEOUTS.format(marker=tmp_path / "ran", t="2s", r="1500ms"))
    proc = cli("validate", str(spec), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.count("before its pod starts") == 2 and "give it more than 2s" in proc.stderr
    assert f"{spec}:3:" in proc.stderr and f"{spec}:4:" in proc.stderr
    spec.write_text(SHORT_TIMEOUTS.format(marker=tmp_path / "ran", t="2.5s", r="3s"))  # 2 whole seconds left: a pod
    assert cli("validate", str(spec), cwd=tmp_path).returncode == 0


def test_a_timeout_of_two_seconds_or_less_ends_the_task_in_error_before_it_starts(tmp_path: Path) -> None:
    # workflowpod.go build: the pod's activeDeadlineSeconds is int64(node start + timeout - now), and
    # at 1 or less no pod is created ("NODE exceeded its deadline"): operator.go executeTemplate marks
    # the node Error and, without a retryPolicy retrying errors, dag.go executeDAGTask marks the task
    # "task 'NODE' errored: …"; with `Always` the Retry node tries again up to its limit.
    # validate refuses such a spec (above); a manifest edited after compile still runs as Argo would
    (tmp_path / "steps.py").write_text(STEPS)
    marker = tmp_path / "ran"
    spec = tmp_path / "spec.yaml"
    spec.write_text(SHORT_TIMEOUTS.format(marker=marker, t="30s", r="40s"))
    (compiled,) = heraspec.compile([str(spec)])
    for tmpl in workflow_spec(compiled.manifest)["templates"]:
        if tmpl.get("timeout") in ("30s", "40s"):
            tmpl["timeout"] = {"30s": "2s", "40s": "1s"}[tmpl["timeout"]]
    out = io.StringIO()
    code = run_manifest(compiled.manifest, task_names=compiled.task_names, parameters={}, parallelism=None,
                        as_json=True, workdir=str(tmp_path / "run"), keep=False, stdout=out, stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert phases(data) == {"t": "Error", "r": "Error", "after": "Omitted", "onExit": "Succeeded"}
    assert not marker.exists()  # no attempt started
    assert "use 3s or more" in data["tasks"]["t"]["message"]
    assert (code, data["phase"]) == (1, "Error")
    rows = data["tasks"]["onExit"]["result"]
    assert rows[1:] == [["t", "task 'fid-short-timeout.t' errored: fid-short-timeout.t exceeded its deadline", "Error"],
                        ["r", "No more retries left", "Error"],
                        ["r(0)", "fid-short-timeout.r(0) exceeded its deadline", "Error"],
                        ["r(1)", "fid-short-timeout.r(1) exceeded its deadline", "Error"]]


def test_exit_hooks_run_past_the_workflow_deadline(tmp_path: Path) -> None:
    # workflowpod.go build gives an onExit pod no workflow deadline, exec_control.go does not kill it
    # at the deadline and failNodesWithoutCreatedPodsAfterDeadlineOrShutdown spares it
    # (IsPartOfExitHandler): `a`'s hook starts after `a` was stopped at the deadline, `b`'s runs on
    # through it; both Succeed while the workflow fails
    code, data = run_spec(tmp_path, """\
name: fid-deadline-hooks
deadline: 3s
tasks:
  a: {function: steps:napping, args: {seconds: 10}, on_exit: {function: steps:ok, args: {x: 1}}}
  b: {function: steps:ok, on_exit: {function: steps:napping, args: {seconds: 5}}}
""")
    assert phases(data) == {"a": "Failed", "b": "Succeeded", "a.onExit": "Succeeded", "b.onExit": "Succeeded"}
    assert (data["tasks"]["a.onExit"]["result"], data["tasks"]["b.onExit"]["result"]) == (1, "done")
    assert (code, data["phase"]) == (1, "Failed")


def test_fail_fast_stops_the_items_of_a_fan_out_not_started_yet(tmp_path: Path) -> None:
    # operator.go checkParallelism: with the template's failFast, once a pod under the DAG failed no
    # node under it starts (ErrParallelismReached), items of a running fan-out included; the DAG ends
    # Failed once no pod of it runs. With parallelism 1, the items after the failed first never start
    code, data = run_spec(tmp_path, """\
name: fid-fail-fast-items
tasks:
  g: {function: steps:boom, foreach: [1, 2, 3], args: {x: {item: true}}}
on_exit: {function: steps:rows, args: {failures: {workflow: failures}}}
argo: {spec: {templates: [{name: main, failFast: true, parallelism: 1}]}}
""")
    assert [c["phase"] for c in data["tasks"]["g"]["children"]] == ["Failed", "Pending", "Pending"]
    assert (code, data["phase"]) == (1, "Failed")
    # checkParallelism marks the DAG node with its message, which operate makes the workflow's
    fail_fast = "template has failed or errored children and failFast enabled"
    assert data["message"] == fail_fast
    assert data["tasks"]["onExit"]["result"][0] == ["fid-fail-fast-items", fail_fast, "Failed"]


def test_a_fan_outs_own_exit_hook_counts_in_any_succeeded_and_all_failed(tmp_path: Path) -> None:
    # exit_handler.go runOnExitNode adds the group's exit hook node to the TaskGroup node's children,
    # and dag.go evaluateDependsLogic counts every child for AnySucceeded/AllFailed (an Argo defect):
    # with every item Failed and the hook Succeeded, `g.AllFailed` is false and `g.AnySucceeded` true
    code, data = run_spec(tmp_path, """\
name: fid-group-hook-depends
tasks:
  g: {function: steps:boom, foreach: [1, 2], args: {x: {item: true}}, continue_on: [failed], on_exit: {function: steps:ok}}
  all: {function: steps:ok, depends: "g.AllFailed"}
  any: {function: steps:ok, depends: "g.AnySucceeded"}
""")
    assert (phases(data)["g.onExit"], phases(data)["all"], phases(data)["any"]) == ("Succeeded", "Omitted", "Succeeded")
    assert "g.AllFailed counts the fan-out's own exit hook" in data["tasks"]["all"]["message"]
    assert data["tasks"]["any"]["message"].startswith("(on Argo v4.1.2 g.AnySucceeded counts the fan-out's own exit hook")
    assert code == 1  # `all`, Omitted, inherits the items' Failed (assessDAGPhase)


def test_a_fan_outs_failed_own_exit_hook_passes_its_phase_to_a_skipped_task_after_it(tmp_path: Path) -> None:
    # operator.go getOutboundNodes(TaskGroup) walks the group node's children, its exit hook node among
    # them (runOnExitNode: addChildNode), so `s` also hangs from the failed hook and, Skipped, inherits
    # its Failed in assessDAGPhase: the workflow fails though every item Succeeded (an Argo defect)
    code, data = run_spec(tmp_path, """\
name: fid-group-hook-phase
tasks:
  g: {function: steps:ok, foreach: [1, 2], args: {x: {item: true}}, on_exit: {function: steps:boom}}
  s: {function: steps:ok, after: [g], when: "1 == 2"}
""")
    assert (phases(data)["g"], phases(data)["g.onExit"], phases(data)["s"]) == ("Succeeded", "Failed", "Skipped")
    assert (code, data["phase"]) == (1, "Failed")
