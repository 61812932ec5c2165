"""What a local run reports: each task's result, the run's result, the error that stops a run
before it starts, and the messages `argo stop` leaves. The runner fills them; the progress display
and the exit handler's values read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import HeraspecError


class RunError(HeraspecError):
    """The manifest cannot be run at all (no entrypoint, unknown template, a dependency cycle...)."""


@dataclass
class TaskResult:
    name: str
    phase: str = "Pending"
    started: datetime | None = None
    finished: datetime | None = None
    duration_s: float = 0.0
    result: Any = None
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    log_path: Path | None = None
    children: list[TaskResult] = field(default_factory=list)
    attempts: int = 0
    artifacts: dict[str, str] = field(default_factory=dict)  # output artifact name -> local path
    cached: bool = False  # its result came from the cache (memoize), nothing ran
    cache: str = ""  # with `cache`: "cached", or "ran: <why>" (memo.py)
    # the node's message as Argo's controller sets it, where it differs from `message` (which says more
    # locally): `{{workflow.failures}}` reads it (exithandler.py)
    argo_message: str | None = None
    # a retried task's failed attempts (Argo's pod nodes under its Retry node): (index, phase, Argo's
    # message of that pod node, finished)
    failed_attempts: list[tuple[int, str, str, datetime]] = field(default_factory=list)


@dataclass
class RunResult:
    phase: str
    tasks: dict[str, TaskResult]
    run_dir: Path
    duration_s: float
    workflow_name: str = ""
    message: str = ""  # the workflow's message (Argo's status.message), e.g. when it was stopped
    stopped_by: int | None = None  # the signal that stopped the run (SIGINT, SIGTERM, SIGHUP), if one did


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# `argo stop` (ShutdownStrategyStop, operator.go / exec_control.go / workflowpod.go): running pods
# are terminated and their nodes failed, nodes not yet started fail, exit handlers still run
# (ShouldExecute(isOnExitPod)), and the workflow's message says so.
STOP = "Stop"
STOPPED_RUNNING = f"workflow shutdown with strategy:  {STOP}"  # handleExecutionControlError
STOPPED_PENDING = f"workflow shutdown with strategy: {STOP}"  # markNodeFailedOnShutdown
STOPPED_WORKFLOW = f"Stopped with strategy '{STOP}'"  # operator.go operate
