"""One attempt of one task for `heraspec run`: map the template's paths into the attempt folder,
build the command line and environment, run it as one subprocess, collect its outputs.

`prepare` turns a substituted script/container template into a `Prep` (or raises `TaskError`, which
ends the task in Error); `execute` runs it and always returns an `Outcome`. The local choices this
part makes (paths, environment, `python` meaning this interpreter) are described in runner.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .repository import ArtifactError, TaskArtifacts, e2big
from ..document.patterns import is_dns_label
from .expr import parse_duration
from .forkserver import STARTUP_ENV, Forked, ForkServer
from .pathmap import launch_argv
from .pumps import Pumps
from ..python.script import IMAGE_MARKER, INSTALL_FAILED, PACKAGES_ENV, SCRIPT_MARKER, image_runtime

# Receives each line a task prints (stdout and stderr, without the newline), from a reader thread.
LineSink = Callable[[str], None]

_UNSUPPORTED = ("steps", "resource", "suspend", "http", "data", "plugin", "containerSet")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
PIPE_GRACE_S = 1.0  # how long a finished task's pipes are read for what its leftovers still print


class TaskError(Exception):
    """This task cannot run locally; it ends in Error with this message."""



def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


@dataclass
class Outcome:
    phase: str
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str | None = None
    exit_code: int | None = None
    artifacts: dict[str, str] = field(default_factory=dict)  # output artifact name -> repository key
    str_result: bool = False  # the script marked its result as a str (`heraspec run` shows it as one)
    # the pod node's message as Argo's controller sets it, where it differs from `message` (which says
    # more): operator.go inferFailedReason; read by `{{workflow.failures}}` (exithandler.py)
    argo_message: str | None = None


POD_DEADLINE = "Pod was active on the node longer than the specified deadline"  # kubelet, pod.Status.Message


def main_failed(rc: int) -> str:
    """operator.go inferFailedReason for a pod whose main container exited non-zero (kubelet's
    Terminated.Reason "Error", no termination message): `main: Error (exit code N)`; a process killed
    by signal S exits 128+S in a container."""
    return f"main: Error (exit code {rc if rc >= 0 else 128 - rc})"


@dataclass
class Prep:
    argv: list[str]
    env: dict[str, str]
    folder: Path
    timeout: float | None
    files: dict[Path, str]
    mkdirs: list[Path]
    outputs: list[tuple[str, Path | None, str | None]]  # name, mapped path, default
    # a heraspec script: (its HERASPEC_PACKAGES or None, code from the image) -> runs in an env (envs.py)
    python_env: tuple[str | None, bool] | None = None
    fork_key: tuple | None = None  # set by _use_env: start it from this fork server (forkserver.py)
    artifacts: TaskArtifacts | None = None  # inputs to place, outputs to collect (artifacts.py)
    timeout_message: str | None = None  # why `timeout` kills it, when not the template's timeout
    on_exit: bool = False  # part of an exit handler: still started and left running when the run is stopped
    # a Python script: the pod paths it may open -> their local places, mapped as it opens them (pathmap.py)
    paths: dict[str, str] = field(default_factory=dict)
    script: str = ""  # the script file (in argv), for a Python script
    run_dir: str = ""  # paths inside it are never mapped
    tmp_link: tuple[str, str] | None = None  # (short TMPDIR, the task's tmp folder it links to): task_tmpdir



class Processes:
    """The subprocesses running now, so that a cancelled run can kill them all."""

    def __init__(self, lock: threading.Condition):
        self.lock = lock
        self.live: dict[subprocess.Popen | Forked, bool] = {}  # each running task -> part of an exit handler
        self.cancelled = False  # nothing starts any more
        self.stopped = False  # only exit handlers start (`argo stop`)
        self.servers: dict[tuple, ForkServer] = {}  # heraspec scripts' fork servers, by _fork_key
        self.pumps = Pumps()  # one thread copies every task's output (pumps.py)

    def server(self, key: tuple) -> ForkServer:
        """The running fork server for this key: a new one when there is none or it has died."""
        with self.lock:
            old = self.servers.get(key)
            if old is None or not old.alive():
                if old is not None:
                    old.close()
                python, flags, startup = key
                self.servers[key] = ForkServer(python, list(flags), dict(startup))
            return self.servers[key]

    def fork(self, key: tuple, argv: list[str], env: dict[str, str], cwd: str, stdout: int | None,
             stderr: int | None, paths: tuple | None = None) -> Forked:
        """A task started by the fork server for `key`; once more from a new server if that one
        died (OSError: the server was killed between tasks or while starting this one)."""
        try:
            return self.server(key).spawn(argv, env, cwd, stdout, stderr, paths)
        except OSError:
            return self.server(key).spawn(argv, env, cwd, stdout, stderr, paths)

    def stop(self) -> None:
        """`argo stop`: kill the running tasks but exit handlers', start only exit handlers from now on."""
        self.stopped = True
        with self.lock:
            for proc, on_exit in list(self.live.items()):
                if not on_exit:
                    kill(proc)

    def kill_all(self) -> None:
        """At the end of a run (or on cancel): kill what still runs and stop the fork servers."""
        self.cancelled = True
        with self.lock:
            for proc in list(self.live):
                kill(proc)
            servers, self.servers = list(self.servers.values()), {}
        for s in servers:
            s.close()


# A Unix socket's path has at most 107 bytes (sun_path), and multiprocessing makes its sockets in
# TMPDIR (pymp-XXXXXXXX/listener-XXXXXXXX, ~32 more): a Manager, or a Pool started by forkserver or
# spawn, fails in a deep run folder. The pod's TMPDIR is /tmp.
LONGEST_TMPDIR = 64


def task_tmpdir(folder: Path) -> tuple[str, str | None]:
    """The task's temporary folder (inside its run folder), and, when that path is too long for the
    sockets made in it, a short link to it in the system's temporary folder to give as TMPDIR
    instead (made before the task starts, removed when it ends)."""
    tmp = os.path.abspath(folder / "tmp")
    if len(tmp.encode()) <= LONGEST_TMPDIR:
        return tmp, None
    import tempfile

    return tmp, os.path.join(tempfile.gettempdir(), "heraspec-" + hashlib.sha256(tmp.encode()).hexdigest()[:16])


def _link_tmp(link: str, target: str) -> None:
    try:
        os.symlink(target, link)
    except FileExistsError:  # left by a run that was killed: the same folder, so the same target
        if os.path.realpath(link) != os.path.realpath(target):
            os.unlink(link)
            os.symlink(target, link)


def inside(base: Path, path: str) -> Path:
    """A container path mapped under ``base``: absolute as the pod sees it, so ``..`` stops at the
    root (``/../../etc/x`` is ``/etc/x`` in a pod, ``<base>/etc/x`` here) and never leaves ``base``."""
    return base / posixpath.normpath("/" + str(path)).lstrip("/")


def _volume_dir(run_dir: Path, vm: dict) -> Path:
    # Kubernetes refuses these too (ValidateVolumeMounts: a DNS-1123 name, a relative subPath without '..')
    name, sub = str(vm.get("name", "")), str(vm.get("subPath") or "")
    if not is_dns_label(name):
        raise TaskError(f"volume mount {name!r}: a volume name is lowercase letters, digits and '-' (at most 63)")
    if sub.startswith("/") or ".." in sub.split("/"):
        raise TaskError(f"volume mount {name!r}: subPath {sub!r} must be a relative path without '..'")
    return run_dir / "volumes" / name / sub


def prepare(t: dict, name: str, folder: Path, run_dir: Path, code_path: tuple[str, ...] = (),
            scripts: Path | None = None) -> Prep:
    """`code_path`: the project's folders, what the image of a `code: image` task would have installed;
    `scripts`: a folder where tasks running the same script text share one file (a run that keeps no
    work files: one file less to create per task), else each task's folder holds its own."""
    kind = "script" if "script" in t else "container" if "container" in t else None
    if kind is None:
        what = next((k for k in _UNSUPPORTED if k in t), "this kind of")
        raise TaskError(f"template {name!r}: {what} templates are not supported by heraspec run")
    c = t[kind] or {}
    outs = t.get("outputs") or {}
    mapping: dict[str, Path] = {}
    files: dict[Path, str] = {}
    for a in as_list((t.get("inputs") or {}).get("artifacts")):
        if a.get("path"):  # placed by artifacts.plan (raw ones too)
            mapping[a["path"]] = inside(folder, a["path"])
    for p in as_list(outs.get("parameters")) + as_list(outs.get("artifacts")):
        path = (p.get("valueFrom") or {}).get("path") or p.get("path")
        if path:
            mapping[path] = inside(folder, path)
    for vm in as_list(c.get("volumeMounts")):
        mapping[vm["mountPath"]] = _volume_dir(run_dir, vm)
    result_path = (folder / "tmp/heraspec/result.json", "")
    for p in as_list(outs.get("parameters")):
        if p["name"] == "result" and (p.get("valueFrom") or {}).get("path"):
            result_path = (mapping[p["valueFrom"]["path"]], p["valueFrom"]["path"])
    source = c.get("source")
    keep = {result_path[1]} if source and "HERASPEC_RESULT_PATH" in source else set()
    pattern = "|".join(re.escape(p) for p in sorted(set(mapping) - keep, key=len, reverse=True))
    regex = re.compile(rf"(?<![\w./-])({pattern})(?![\w.-])") if pattern else None

    def rewrite(s: str) -> str:
        return regex.sub(lambda m: str(mapping[m.group(1)]), s) if regex else s

    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    tmp, tmp_link = task_tmpdir(folder)
    env.update(TMPDIR=tmp_link or tmp, HERASPEC_RESULT_PATH=str(result_path[0]))
    for e in as_list(c.get("env")):
        if "valueFrom" in e:
            if e["name"] not in os.environ:
                ref = e["valueFrom"]
                src = next(iter(ref), "valueFrom")
                what = f"{src} {json.dumps(ref[src], sort_keys=True)}" if isinstance(ref.get(src), dict) else src
                raise TaskError(f"env var {e['name']} comes from {what}, which heraspec run cannot read; "
                                f"set {e['name']} in heraspec's environment to provide it")
            env[e["name"]] = os.environ[e["name"]]
        else:
            env[e["name"]] = rewrite(str(e.get("value", "")))
    command = [rewrite(str(x)) for x in as_list(c.get("command"))]
    args = [rewrite(str(x)) for x in as_list(c.get("args"))]
    if not command:
        raise TaskError(f"template {name!r} has no command: the image's entrypoint cannot be used locally")
    python_script = kind == "script" and bool(_PYTHON.match(Path(command[0]).name))
    if kind == "script":
        # a Python script's text is never edited: its paths are mapped as it opens them (pathmap.py)
        text = str(source or "") if python_script else rewrite(str(source or ""))
        suffix = ".py" if python_script else ""
        if scripts is None:
            script = folder / f"script{suffix}"
        else:  # as in Argo, where every pod of a template runs /argo/staging/script
            script = scripts / (hashlib.sha256(text.encode()).hexdigest()[:24] + suffix)
        files[script] = text
        command.append(str(script))
    python_env = None
    if _PYTHON.match(Path(command[0]).name):
        command[0] = sys.executable
        env.setdefault("PYTHONUNBUFFERED", "1")  # so `heraspec run` shows print() as it happens
        if kind == "script" and str(source).startswith(SCRIPT_MARKER):  # heraspec's own: run as its pod would
            image = IMAGE_MARKER in str(source)
            python_env = (env.get(PACKAGES_ENV), image)
            if image:  # the image has heraspec's pod runtime installed, and the project's code
                runtime = image_runtime(str(run_dir.absolute() / ".heraspec" / "image"))
                env["PYTHONPATH"] = os.pathsep.join([*code_path, runtime])
    elif shutil.which(command[0], path=env.get("PATH")) is None:
        raise TaskError(f"command {command[0]!r} is not available on this machine; "
                        "heraspec run cannot run container tasks locally")
    # template timeout / activeDeadlineSeconds become the pod's activeDeadlineSeconds (operator.go
    # executeTemplate, workflowpod.go): the pod is killed and the node Failed
    limits = [parse_duration(t["timeout"])] if t.get("timeout") else []
    if t.get("activeDeadlineSeconds") not in (None, ""):
        limits.append(float(t["activeDeadlineSeconds"]))
    params = [(p["name"], mapping[p["valueFrom"]["path"]] if (p.get("valueFrom") or {}).get("path") else None,
               (p.get("valueFrom") or {}).get("default", p.get("value")))
              for p in as_list(outs.get("parameters"))]
    mkdirs = [folder / "tmp"] + [p.parent for p in mapping.values()] + [p for p in mapping.values()
                                                                           if "volumes" in p.parts]
    prep = Prep(command + args, env, folder, min(limits) if limits else None, files, mkdirs, params, python_env)
    if tmp_link:
        prep.tmp_link = (tmp_link, tmp)
    if python_script:
        prep.paths = {pod: str(local.absolute()) for pod, local in mapping.items() if pod not in keep}
        prep.script, prep.run_dir = command[-1], str(run_dir.absolute())
    return prep

def _use_env(prep: Prep, on_line: LineSink | None) -> Outcome | None:
    """Run a heraspec script with the Python its pod would have (envs.py): isolated (`-I`), or with
    the project on PYTHONPATH for `code: image` (`-s`); None, or the Outcome of a failed install."""
    from .envs import EnvError, python_for
    from ..python.packages import PackageSet

    wanted, image = prep.python_env  # type: ignore[misc]
    try:
        python = python_for(PackageSet.from_env(wanted) if wanted else None, on_line)
    except EnvError as e:
        # as the pod's script ends (runtime.PACKAGES): the installer's whole output in the task's log
        prep.folder.mkdir(parents=True, exist_ok=True)
        (prep.folder / "stdout.log").write_text("", encoding="utf-8")
        (prep.folder / "stderr.log").write_text(e.output or str(e) + "\n", encoding="utf-8")
        return Outcome("Failed", str(e), exit_code=INSTALL_FAILED, argo_message=main_failed(INSTALL_FAILED))
    prep.argv[:1] = [python, "-s" if image else "-I", "-u"]  # -u: print() shows as it happens
    if wanted:
        prep.env[PACKAGES_ENV + "_INSTALLED"] = wanted  # the script's pip step is done
    if not image and not _too_big(prep.env):  # -I reads no PYTHON* variables: one server serves all
        prep.fork_key = (python, ("-I", "-u"), tuple((k, prep.env[k]) for k in STARTUP_ENV if k in prep.env))
    return None


def _too_big(env: dict[str, str]) -> bool:
    """Would exec refuse this environment (E2BIG)? A forked task never execs: such a task is started
    as a new process instead, so that it fails here as it would in the pod (artifacts.e2big)."""
    sizes = [len(k.encode()) + len(v.encode()) + 2 for k, v in env.items()]
    return max(sizes, default=0) >= 128 * 1024 or sum(sizes) >= 1 << 20


def execute(prep: Prep, procs: Processes, on_line: LineSink | None = None) -> Outcome:
    try:
        if prep.python_env is not None:
            failed = _use_env(prep, on_line)
            if failed is not None:
                return failed
        if prep.tmp_link is not None:
            _link_tmp(*prep.tmp_link)
        return _attempt(prep, procs, on_line)
    except Exception as e:  # a bug or an OS problem must end this task, not hang the run
        return Outcome("Error", f"heraspec run could not run this task: {type(e).__name__}: {e}")
    finally:
        if prep.tmp_link is not None and os.path.islink(prep.tmp_link[0]):
            os.unlink(prep.tmp_link[0])

def _attempt(prep: Prep, procs: Processes, on_line: LineSink | None = None) -> Outcome:
    for d in prep.mkdirs:
        d.mkdir(parents=True, exist_ok=True)
    for path, text in prep.files.items():
        if path.parent != prep.folder:  # a shared script (prepare's `scripts`): written once, whole
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f"{path.name}.{threading.get_ident()}")
                part.write_text(text)
                os.replace(part, path)
            continue
        path.write_text(text)
    if prep.artifacts is not None:
        try:
            prep.artifacts.place()
        except (ArtifactError, OSError) as e:
            return Outcome("Error", f"cannot place input artifacts: {e}")
    out_log, err_log = prep.folder / "stdout.log", prep.folder / "stderr.log"
    timed_out = False
    with open(out_log, "wb") as fo, open(err_log, "wb") as fe:
        if procs.cancelled or (procs.stopped and not prep.on_exit):
            return Outcome("Error", "cancelled")
        # Without a line sink the files are the task's stdout/stderr; with one, the pipes are copied
        # into the files and the sink as the task prints (pumps.py).
        pipe = subprocess.PIPE if on_line is not None else None
        proc: subprocess.Popen | Forked
        try:
            if prep.fork_key is not None:  # the same script, forked from a warm interpreter (forkserver.py)
                paths = (sorted(prep.paths.items()), [prep.run_dir]) if prep.paths else None
                proc = procs.fork(prep.fork_key, prep.argv[3:], prep.env, str(prep.folder),
                                  None if pipe else fo.fileno(), None if pipe else fe.fileno(), paths)
            else:
                argv = launch_argv(prep.argv, prep.script, prep.paths, prep.run_dir) if prep.paths else prep.argv
                proc = subprocess.Popen(argv, cwd=prep.folder, env=prep.env, stdin=subprocess.DEVNULL,
                                        stdout=pipe or fo, stderr=pipe or fe, start_new_session=True)
        except OSError as e:
            return Outcome("Error", e2big(prep.env, e) or f"cannot start {prep.argv[0]!r}: {e}")
        copies = [procs.pumps.add(src, log, on_line)
                  for src, log in ((proc.stdout, fo), (proc.stderr, fe)) if src is not None and on_line]
        with procs.lock:
            procs.live[proc] = prep.on_exit
            if procs.cancelled or (procs.stopped and not prep.on_exit):  # stopped while it started
                kill(proc)
        try:
            rc = proc.wait(timeout=prep.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill(proc)
            rc = proc.wait()
        finally:
            with procs.lock:
                procs.live.pop(proc, None)
            if not all(c.wait(timeout=PIPE_GRACE_S) for c in copies):
                # A pod ends when its main process does (the container's processes go with it): kill
                # what the task left behind holding its pipes, in its session or in one of its own
                # (a detached helper), then stop reading whatever still holds them
                kill(proc)
                for pid in pipe_holders([c.inode for c in copies if not c.done]):
                    kill_session(pid)
                for c in copies:
                    if not c.wait(timeout=PIPE_GRACE_S):
                        procs.pumps.drop(c)
                        c.wait()
    stdout = captured_result(out_log)
    if timed_out:
        # the template's timeout is the pod's activeDeadlineSeconds: the kubelet's message (inferFailedReason:
        # pod.Status.Message first); a maxDuration deadline is the executor's (executor.go, ARGO_DEADLINE)
        return Outcome("Failed", prep.timeout_message or f"timed out after {prep.timeout:g}s (template timeout): killed",
                       {}, stdout, rc, argo_message=prep.timeout_message or POD_DEADLINE)
    if rc != 0:
        tail = last_lines(err_log, 1)
        why = "cancelled" if procs.cancelled or (procs.stopped and not prep.on_exit) else f"exit code {rc}" + (f": {tail[0][:300]}" if tail else "")
        return Outcome("Failed", why, {}, stdout, rc, argo_message=None if why == "cancelled" else main_failed(rc))
    outputs: dict[str, str] = {}
    for name, path, default in prep.outputs:
        if path is not None and path.is_file():
            # bytes as the executor reads them (no newline translation); one newline trimmed
            text = path.read_bytes().decode("utf-8", errors="replace")
            outputs[name] = text[:-1] if text.endswith("\n") else text
        elif default is not None:
            outputs[name] = str(default)
        else:
            return Outcome("Error", f"output parameter {name!r}: {path} was not written", outputs, stdout, rc)
    arts: dict[str, str] = {}
    if prep.artifacts is not None:
        try:
            arts = prep.artifacts.collect()
        except (ArtifactError, OSError) as e:
            return Outcome("Error", str(e), outputs, stdout, rc)
    (prep.folder / "outputs.json").write_text(json.dumps({"parameters": outputs, "artifacts": arts, "result": stdout},
                                                         indent=2))
    marked = any(n == "result" and p is not None and p.with_name(p.name + ".str").is_file() for n, p, _ in prep.outputs)
    return Outcome("Succeeded", "", outputs, stdout, rc, arts, marked)


# Argo's executor keeps the last 256 kB of a script's stdout as outputs.result, one final newline
# trimmed first (executor.go CaptureScriptResult, maxAnnotationSize); the whole output stays in stdout.log
RESULT_LIMIT = 256 * 1024


def captured_result(path: Path) -> str:
    """A task's outputs.result from its stdout log, reading only its end: memory is bounded whatever it printed."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - RESULT_LIMIT - 1))
        data = f.read()
    data = data[:-1] if data.endswith(b"\n") else data
    return data[-RESULT_LIMIT:].decode("utf-8", errors="replace")


def last_lines(path: Path, count: int, window: int = 64 * 1024) -> list[str]:
    """The last `count` non-blank lines of a log, read from its last `window` bytes only."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - window))
            data = f.read()
    except OSError:
        return []
    return [ln for ln in data.decode("utf-8", errors="replace").splitlines() if ln.strip()][-count:]


def kill(proc: subprocess.Popen | Forked) -> None:
    if isinstance(proc, Forked):  # its group, and its server continued (it reports the exit code)
        return proc.kill()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def pipe_holders(inodes: list[int | None]) -> list[int]:
    """The other processes holding one of these pipes open (Linux's /proc; elsewhere none found)."""
    wanted = {f"pipe:[{i}]" for i in inodes if i is not None}
    found: list[int] = []
    if not wanted:
        return found
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return found
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found


def kill_session(pid: int) -> None:
    """Kill a process and its process group, unless that group is heraspec's own."""
    try:
        group = os.getpgid(pid)
        if group != os.getpgrp():
            os.killpg(group, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
