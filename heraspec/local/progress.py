"""What ``heraspec run`` shows while it runs and when it ends; everything goes to one stream (stderr).

A Reporter receives events from the runner's single loop thread, in order:
``run_started`` once, then ``task_started`` / ``task_retrying`` / ``task_finished`` as they happen
(fan-out children and nested DAG tasks too; a Skipped or Omitted task only finishes), then
``run_finished``. ``task_output`` comes from the threads reading the tasks' pipes, at any time
between a task's start and finish: every reporter method takes the one lock, so lines from parallel
tasks never mix within a line. On a terminal, LiveReporter keeps a redrawn block of the running
tasks under the lines of finished ones and of task output (plain ANSI, no dependency); elsewhere
PlainReporter writes one line per event, e.g. ``  ✓ prep_data  Succeeded  0.21s``, and one per line
a task prints, prefixed with its label as ``docker compose up`` does: ``train(2) | epoch 1``.

Names are Argo node names (``prep-data``, ``fan(0:a)``, ``outer.inner``); ``task_names`` maps the
leading task names back to the user's spec names everywhere they are shown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, TextIO

from ..textsafe import printable

if TYPE_CHECKING:
    from .results import RunResult, TaskResult

__all__ = ["Reporter", "PlainReporter", "LiveReporter", "make_reporter", "summary_text", "to_json", "display_name",
           "label"]

_SYMBOLS = {"Succeeded": ("✓", "ok"), "Failed": ("✗", "FAIL"), "Error": ("✗", "ERR"), "Skipped": ("○", "skip"),
            "Omitted": ("–", "omit"), "Running": ("▶", ">"), "Retrying": ("↻", "retry"),
            "cached": ("✓", "ok")}
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Reporter(Protocol):
    def run_started(self, name: str, run_dir: Path, notes: list[str]) -> None: ...
    def task_started(self, task: TaskResult) -> None: ...
    def task_retrying(self, task: TaskResult, delay_s: float) -> None: ...
    def task_finished(self, task: TaskResult) -> None: ...
    def run_finished(self, result: RunResult) -> None: ...
    # Optional: one line (no newline) a task printed on stdout or stderr.
    # def task_output(self, task: TaskResult, line: str) -> None: ...
    # Optional: a signal is stopping the run (runner.Stopper).
    # def run_stopping(self, signum: int) -> None: ...


_QUOTED = re.compile(r"(exit code -?\d+): (.*)", re.S)  # attempt.py's message: the code, then stderr's last line


def short_message(message: str) -> str:
    """A failure's message without the stderr line it quotes (`exit code 1`): that line is shown
    once, at the end of the task's log tail in the summary."""
    m = _QUOTED.fullmatch(message)
    return m.group(1) if m else message


def display_name(name: str, task_names: Mapping[str, str]) -> str:
    """``prep-data(0:x)`` -> ``prep_data(0:x)``: map each task segment before any loop item text."""
    head, sep, tail = name.partition("(")
    return ".".join(task_names.get(s, s) for s in head.split(".")) + sep + tail


# A fan-out child's "(index:item text)"; the item text may hold anything, so it ends at the name's
# end or before the "." of a nested task name.
_ITEM = re.compile(r"\((\d+):.*?\)(?=$|\.[A-Za-z0-9])")


def label(name: str, task_names: Mapping[str, str]) -> str:
    """The prefix of a task's output lines: ``train(2:{"lr":0.1})`` -> ``train(2)``,
    ``outer.prep-data`` -> ``outer.prep_data``."""
    short = _ITEM.sub(lambda m: f"({m.group(1)})", name)
    return ".".join(display_name(seg, task_names) for seg in short.split("."))


# Colours of task labels on a terminal, as `docker compose up` gives each service its own.
_COLOURS = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _unicode_ok(stream: TextIO) -> bool:
    try:
        "✓✗○–▶↻⠋".encode(getattr(stream, "encoding", None) or "ascii")
        return True
    except (LookupError, UnicodeEncodeError):
        return False


class PlainReporter:
    """One line per event, for logs and pipes."""

    colour = False

    def __init__(self, stream: TextIO, task_names: Mapping[str, str] | None = None, output: bool = True):
        self.stream, self.names = stream, dict(task_names or {})
        self.unicode = _unicode_ok(stream)
        self.lock = threading.Lock()
        self.output = output
        self.width = max((len(n) for n in self.names.values()), default=0)
        self.labels: dict[str, str] = {}  # node name -> its prefix, coloured on a terminal

    def task_output(self, task: TaskResult, line: str) -> None:
        if not self.output:
            return
        with self.lock:
            tag = self.labels.get(task.name)
            if tag is None:
                tag = label(task.name, self.names)
                self.width = max(self.width, len(tag))
                if self.colour and not os.environ.get("NO_COLOR"):
                    tag = f"\x1b[{_COLOURS[len(self.labels) % len(_COLOURS)]}m{tag}\x1b[0m"
                self.labels[task.name] = tag
            pad = " " * max(0, self.width - len(_ANSI.sub("", tag)))
        # the task's text is foreign: its control characters are shown, never obeyed (textsafe)
        self.write(f"{tag}{pad} | {printable(line, keep_lines=True)}")

    def sym(self, phase: str) -> str:
        pair = _SYMBOLS.get(phase, ("?", "?"))
        return pair[0] if self.unicode else pair[1]

    def write(self, text: str) -> None:
        with self.lock:
            try:
                self.stream.write(text + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # the terminal is gone (SIGHUP): the run goes on, its files say it all
                pass

    def line(self, task: TaskResult, phase: str, extra: str = "") -> str:
        name = printable(display_name(task.name, self.names))  # a fan-out item's text is in the name
        return f"  {self.sym(phase)} {name}  {phase}{'  ' + extra if extra else ''}"

    def run_started(self, name: str, run_dir: Path, notes: list[str]) -> None:
        self.write(f"heraspec run: {name} (run folder {run_dir})")
        for note in notes:
            self.write(f"  note: {note}")

    def task_started(self, task: TaskResult) -> None:
        self.write(self.line(task, "Running"))

    def task_retrying(self, task: TaskResult, delay_s: float) -> None:
        self.write(self.line(task, "Retrying", f"attempt {task.attempts + 1} in {_duration(delay_s)}"
                                               f" ({printable(short_message(task.message))})"))

    def finished_line(self, task: TaskResult) -> str:
        extra = _duration(task.duration_s)
        if task.message and task.phase != "Succeeded":  # the stderr line it quotes is shown once, in the summary
            extra += f"  ({printable(short_message(task.message))})"
        return self.line(task, shown_phase(task), extra)

    def task_finished(self, task: TaskResult) -> None:
        self.write(self.finished_line(task))

    def run_stopping(self, signum: int) -> None:
        import signal

        self.write(f"  stopping ({signal.Signals(signum).name}) as `argo stop` does: the running tasks are killed, "
                   "the exit handler runs; a second signal ends heraspec at once")

    def run_finished(self, result: RunResult) -> None:
        pass


class LiveReporter(PlainReporter):
    """Finished tasks and task output scroll up as lines; the running ones stay in a block redrawn
    below them."""

    colour = True

    def __init__(self, stream: TextIO, task_names: Mapping[str, str] | None = None, output: bool = True,
                 interval: float = 0.1):
        super().__init__(stream, task_names, output)
        self.running: dict[str, tuple[TaskResult, float]] = {}
        self.drawn = 0
        self.frame = 0
        self.stop = threading.Event()
        self.ticker = threading.Thread(target=self._tick, args=(interval,), daemon=True)

    def _tick(self, interval: float) -> None:
        while not self.stop.wait(interval):
            with self.lock:
                self.frame += 1
                self._redraw([])

    def _redraw(self, lines: list[str]) -> None:
        # Called with the lock held: erase the old block, print new permanent lines, draw the block.
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        out = "\r\x1b[2K" + "\x1b[1A\x1b[2K" * self.drawn if self.drawn else ""
        out += "".join(ln + "\n" for ln in lines)
        block = []
        spin = _SPINNER[self.frame % len(_SPINNER)] if self.unicode else "-\\|/"[self.frame % 4]
        now = time.monotonic()
        for task, t0 in list(self.running.values())[:12]:
            block.append(f"  {spin} {printable(display_name(task.name, self.names))}  Running  {_duration(now - t0)}"[:width])
        if len(self.running) > 12:
            block.append(f"  … and {len(self.running) - 12} more running")
        out += "".join(ln + "\n" for ln in block)
        self.drawn = len(block)
        try:
            self.stream.write(out)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal is gone (SIGHUP)
            pass

    def write(self, text: str) -> None:
        with self.lock:
            self._redraw([text])

    def run_started(self, name: str, run_dir: Path, notes: list[str]) -> None:
        super().run_started(name, run_dir, notes)
        self.ticker.start()

    def task_started(self, task: TaskResult) -> None:
        with self.lock:
            self.running[task.name] = (task, time.monotonic())
            self._redraw([])

    def task_finished(self, task: TaskResult) -> None:
        with self.lock:
            self.running.pop(task.name, None)
            self._redraw([self.finished_line(task)])

    def run_finished(self, result: RunResult) -> None:
        self.close()

    def close(self) -> None:
        """Stop redrawing and erase the running block (also after an interrupted run)."""
        self.stop.set()
        if self.ticker.is_alive():
            self.ticker.join()
        with self.lock:
            self.running.clear()
            self._redraw([])


def make_reporter(stream: TextIO, task_names: Mapping[str, str] | None = None, output: bool = True) -> Reporter:
    """A LiveReporter on a terminal, else a PlainReporter; ``output=False`` (``--quiet``) hides what
    the tasks print (it stays in their log files)."""
    tty = getattr(stream, "isatty", lambda: False)()
    return (LiveReporter if tty else PlainReporter)(stream, task_names, output)


def _preview(value: Any, limit: int = 40) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = printable(" ".join(text.split()))  # one table row per task, whatever the value holds
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(path: Path | None, lines: int = 5) -> list[str]:
    if path is None:
        return []
    from .attempt import last_lines

    return last_lines(path.with_name("stderr.log"), lines)


# Python's message for a missing file; a path not starting with "/" (or "~") was relative to the task.
_MISSING = re.compile(r"(?:FileNotFoundError|No such file or directory).*?: '((?![/~])[^']+)'")


def _hint(tail: list[str], folder: Path | None) -> str | None:
    """Why a relative path fails in a task: each task runs in its own folder, as a pod does."""
    for ln in reversed(tail):
        m = _MISSING.search(ln)
        if m:
            where = f" ({folder})" if folder is not None else ""
            return (f"  hint: '{m.group(1)}' is a relative path, and each task runs in its own empty folder{where}, "
                    "not where you started heraspec (in a pod too). Pass the path as an argument: an absolute "
                    "path locally; on a cluster, a file in the image or on a volume")
    return None


def _returned_file(artifacts: Mapping[str, str]) -> Path:
    """A task's returned file: in its output artifact's folder, heraspec's layout has one entry."""
    path = Path(next(iter(artifacts.values())))
    entries = sorted(path.iterdir()) if path.is_dir() else []
    return entries[0] if len(entries) == 1 else path


def _file_preview(artifacts: Mapping[str, str], run_dir: Path) -> str:
    """Where a task's returned file is: its output artifact, relative to the run folder."""
    shown = _returned_file(artifacts)
    try:
        return printable(str(shown.relative_to(run_dir)))
    except ValueError:
        return printable(str(shown))


def _result_cell(task: TaskResult, run_dir: Path) -> str:
    """The summary's result column: the value, else the returned file, else (a fan-out whose items
    returned files) the names of the items' files, as a list."""
    if task.result is not None:
        return _preview(task.result)
    if task.artifacts:
        return _file_preview(task.artifacts, run_dir)
    files = [_returned_file(c.artifacts).name for c in task.children if c.phase == "Succeeded" and c.artifacts]
    return _preview(files) if files else ""


def shown_phase(task: TaskResult) -> str:
    """`cached` for a task whose result came from the cache (Argo: Succeeded, memoization hit)."""
    return "cached" if task.phase == "Succeeded" and getattr(task, "cached", False) else task.phase


def summary_text(result: RunResult, task_names: Mapping[str, str] | None = None) -> str:
    """The end-of-run table (task, phase, duration, result preview), failures' details, the run folder."""
    names = dict(task_names or {})
    rows = [("task", "phase", "duration", "result")]
    failed = []

    def add(task: TaskResult, indent: str) -> None:
        extra = f" ({len(task.children)} items)" if task.children and "(" in (task.children[0].name) else ""
        rows.append((indent + printable(display_name(task.name, names)) + extra, shown_phase(task), _duration(task.duration_s),
                     _result_cell(task, result.run_dir)))
        if task.phase in ("Failed", "Error") and not task.children:
            failed.append(task)
        for child in task.children:
            if child.phase in ("Failed", "Error") or "(" not in child.name:
                add(child, indent + "  ")

    for task in result.tasks.values():
        add(task, "")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = ["", *("  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3] for r in rows)]
    out = [ln.rstrip() for ln in out]
    for task in failed:
        tail = _tail(task.log_path)
        m = _QUOTED.fullmatch(task.message)
        # the quoted stderr line is the tail's last: shown there, once
        message = m.group(1) if m and tail and tail[-1].startswith(m.group(2)) else task.message
        out.append(f"\n{printable(display_name(task.name, names))}: {task.phase}: {printable(message)}")
        if task.log_path is not None:
            out.append(f"  logs: {task.log_path.parent}")
        out.extend(f"  | {printable(ln)}" for ln in tail)
        hint = _hint(tail, task.log_path.parent if task.log_path is not None else None)
        if hint:
            out.append(hint)
    decided = [(display_name(t.name, names), t.cache) for t in result.tasks.values() if t.cache]
    if decided:
        out.append("\ncache:")
        out.extend(f"  {printable(n)}: {printable(why)}" for n, why in decided)
    stopped = _stopped(result, names)
    if stopped:
        out.append("\n" + stopped)
    message = f" ({result.message})" if getattr(result, "message", "") else ""
    out.append(f"\nWorkflow {result.phase}{message} in {_duration(result.duration_s)}; run folder: {result.run_dir}\n")
    return "\n".join(out)


def _leaves(tasks: list[TaskResult]) -> list[TaskResult]:
    out: list[TaskResult] = []
    for t in tasks:
        out.extend(_leaves(t.children) if t.children else [t])
    return out


def _stopped(result: RunResult, names: Mapping[str, str]) -> str:
    """For a run stopped by a signal: which tasks it interrupted and which it never started."""
    signum = getattr(result, "stopped_by", None)
    if signum is None:
        return ""
    import signal

    from .results import STOPPED_PENDING, STOPPED_RUNNING, STOPPED_WORKFLOW

    leaves = _leaves(list(result.tasks.values()))
    # interrupted: running, or waiting out a retry's back-off (scheduler.Runner._begin)
    killed = [printable(display_name(t.name, names)) for t in leaves if t.message in (STOPPED_RUNNING, STOPPED_WORKFLOW)]
    pending = [printable(display_name(t.name, names)) for t in leaves if t.message == STOPPED_PENDING]
    text = (f"Stopped by {signal.Signals(signum).name}, as `argo stop` stops a workflow: "
            f"interrupted: {', '.join(killed) or 'none'}; not started: {', '.join(pending) or 'none'}")
    return text + ("; the exit handler ran" if "onExit" in result.tasks else "")


def _node(task: TaskResult, names: Mapping[str, str]) -> dict[str, Any]:
    node: dict[str, Any] = {"phase": task.phase, "result": task.result, "duration_s": task.duration_s,
                            "attempts": task.attempts}
    named = {k: v for k, v in task.outputs.items() if k != "result"}
    if named:
        node["outputs"] = named
    if task.message:
        node["message"] = task.message
    if task.cached:
        node["cached"] = True
    if task.cache:
        node["cache"] = task.cache
    if task.artifacts:
        node["artifacts"] = dict(task.artifacts)
    if task.children and "(" in task.children[0].name:
        node["items"] = len(task.children)
    if task.children:
        node["children"] = [{"name": display_name(c.name, names), **_node(c, names)} for c in task.children]
    return node


def to_json(result: RunResult, task_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{"phase", "run_dir", "duration_s", ["message"], ["stopped_by"], "tasks": {spec name: {"phase", "result", "duration_s",
    "attempts", ["message"], ["artifacts"], ["items"], ["children"]}}}``; ``artifacts`` maps each output
    artifact to its local path in the run's repository (``<run_dir>/artifacts/<key>``). A fan-out's ``attempts`` is the most any of
    its ``items`` children needed (1: nothing was retried)."""
    names = dict(task_names or {})
    out: dict[str, Any] = {"phase": result.phase, "run_dir": str(result.run_dir), "duration_s": result.duration_s,
                           "tasks": {display_name(n, names): _node(t, names) for n, t in result.tasks.items()}}
    if getattr(result, "message", ""):
        out["message"] = result.message
    if getattr(result, "stopped_by", None) is not None:
        import signal

        out["stopped_by"] = signal.Signals(result.stopped_by).name
    return out
