"""Whether, and when, a failed attempt of a task with a ``retryStrategy`` is tried again, for
`heraspec run`: workflow/controller/operator.go ``processNodeRetries`` (Argo v4.1.2), in its order.

1. The workflow's deadline or a shutdown ends the Retry node first (the scheduler's part).
2. With a ``backoff``: past ``maxDuration`` (counted from the first attempt's start) the node ends,
   "Max duration limit exceeded"; a backoff without ``duration`` is the node's error; the wait is
   ``duration * factor**(attempts - 1)`` (``factor`` > 0), at most ``cap``; a wait ending after the
   maxDuration deadline ends the node, "Backoff would exceed max duration limit". While a ``limit``
   is set and not used up, the controller waits here and decides 3-5 only after the wait: a
   failure that is then not retried still waits out its back-off first. Without a ``limit`` there
   is no wait.
3. The policy, ``RetryPolicyActual``: the one given, else OnFailure, but Always when an
   ``expression`` is set. OnTransientError retries only what ``IsTransientErr`` calls transient
   (Kubernetes API and network errors), which no local attempt ends with.
4. ``limit``: more attempts than ``limit`` + 1 ends the node, "No more retries left".
5. ``expression`` false ends it, "retryStrategy.expression evaluated to false".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .expr import ExprError, parse_duration

__all__ = ["Verdict", "verdict", "policy", "MAX_DURATION", "BACKOFF_EXCEEDS", "NO_RETRIES", "EXPRESSION_FALSE"]

MAX_DURATION = "Max duration limit exceeded"
BACKOFF_EXCEEDS = "Backoff would exceed max duration limit"
NO_RETRIES = "No more retries left"
EXPRESSION_FALSE = "retryStrategy.expression evaluated to false"

_LAST_EXIT = re.compile(r'^\s*lastRetry\.exitCode\s*!=\s*"(-?\d+)"\s*$')


@dataclass
class Verdict:
    """What follows a failed attempt: after `wait` seconds, another attempt (`retry`), or the end of
    the Retry node with `message` (None: its last attempt's message, as Argo copies it)."""

    wait: float
    retry: bool
    message: str | None = None


def policy(retry: dict) -> str:
    """workflow_types.go RetryStrategy.RetryPolicyActual."""
    given = str(retry.get("retryPolicy") or "")
    if given:
        return given
    return "Always" if retry.get("expression") else "OnFailure"


def _expression(retry: dict, exit_code: int | None) -> bool:
    """retryStrategy.expression, for the one form heraspec writes (`lastRetry.exitCode != "97"`: a
    failed package install is not retried; lastRetry.exitCode is "-1" when the attempt has none);
    any other expression is not evaluated here (retried; `heraspec run` notes it before it starts)."""
    m = _LAST_EXIT.match(str(retry.get("expression") or ""))
    return not m or str(exit_code if exit_code is not None else -1) != m.group(1)


def known_expression(expression: str) -> bool:
    """Whether `heraspec run` evaluates this retryStrategy.expression (else it retries as if true)."""
    return _LAST_EXIT.match(expression) is not None


def verdict(retry: dict, phase: str, exit_code: int | None, attempts: int, elapsed: float) -> Verdict:
    """processNodeRetries after attempt number `attempts` (1-based) ended Failed or Error, `elapsed`
    seconds after the first attempt started. ExprError: the strategy is invalid (the node's error)."""
    limit_text = retry.get("limit")
    limit = int(str(limit_text)) if limit_text not in (None, "") else None
    wait = 0.0
    backoff = retry.get("backoff")
    if isinstance(backoff, dict):  # Backoff != nil
        left = None
        if backoff.get("maxDuration"):
            left = parse_duration(backoff["maxDuration"]) - elapsed
            if left < 0:
                return Verdict(0.0, False, MAX_DURATION)
        if not backoff.get("duration"):
            raise ExprError("no base duration specified for retryStrategy")
        wait = parse_duration(backoff["duration"])
        factor = int(str(backoff.get("factor") or 0))
        if factor > 0:
            wait *= factor ** (attempts - 1)
        if backoff.get("cap"):
            wait = min(wait, parse_duration(backoff["cap"]))
        if left is not None and wait > left:
            return Verdict(0.0, False, BACKOFF_EXCEEDS)
        if limit is None or attempts > limit:  # the controller waits only while retries are left
            wait = 0.0
    retried = {"Always": ("Failed", "Error"), "OnFailure": ("Failed",), "OnError": ("Error",)}
    actual = policy(retry)
    if actual not in retried and actual != "OnTransientError":
        raise ExprError(f"{actual} is not a valid RetryPolicy")
    if phase not in retried.get(actual, ()):
        return Verdict(wait, False)
    if limit is not None and attempts > limit:
        return Verdict(wait, False, NO_RETRIES)
    if not _expression(retry, exit_code):
        return Verdict(wait, False, EXPRESSION_FALSE)
    return Verdict(wait, True)
