"""Artifacts for `heraspec run`: a local artifact repository in the run folder, and placing a task's
input artifacts / collecting its output artifacts as Argo's executor does.

- The repository is `<run_dir>/artifacts/<key>`. An output artifact with a key (`s3: {key: ...}`,
  relocated into the workflow's repository by Argo, `ArtifactLocation.Relocate`) is stored there
  under that key; one without is stored under Argo's default key `{{workflow.name}}/{{pod.name}}`
  joined with the file name, as `saveArtifactFromFile` (workflow/executor/executor.go) does with
  `archive: none`. Files are stored unarchived whatever the strategy: locally nothing is uploaded.
- An input artifact is found from its argument (Argo's `ProcessArgs` keeps the argument's source and
  the template's `path`): `from: {{tasks.X.outputs.artifacts.N}}` and key-only artifacts read the
  local repository (a key naming a folder gives the whole prefix, like the S3 driver's directory
  load), and a key no task of this run wrote is read from `--artifacts DIR/<key>`; `s3` with a bucket and `gcs` read `--artifacts DIR` as `DIR/<bucket>/<key>`; `http` is
  downloaded (once per run) into `<run_dir>/downloads`; `raw` is written as text. The file or folder
  is copied to the template's `path` inside the attempt folder (`loadArtifact` places it there).
- Nothing is written outside the run folder: keys and paths that would leave it are refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..python.artifact_paths import ARTIFACT_DIR, ARTIFACT_DIR_ENV, PARAMETER_LIMIT, VALUE_FILE


class ArtifactError(Exception):
    """An input cannot be found or an output cannot be stored; the task ends in Error with this."""


class _Downgrade(Exception):
    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


def _no_downgrade_handler():
    import urllib.request

    class NoDowngrade(urllib.request.HTTPRedirectHandler):
        """Follows redirects as urllib does, except from https to plain http, where what was asked for
        over an encrypted connection would arrive unencrypted (and could be changed on the way)."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            from urllib.parse import urljoin, urlsplit

            target = urljoin(req.full_url, newurl)
            if urlsplit(req.full_url).scheme == "https" and urlsplit(target).scheme != "https":
                raise _Downgrade(target)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return NoDowngrade


class Store:
    """The run's artifact repository and the external data folder (`--artifacts DIR`)."""

    def __init__(self, run_dir: Path, external: Path | None):
        self.run_dir, self.external = run_dir, external
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.run_dir / "artifacts"

    def path(self, key: str) -> Path:
        clean = posixpath.normpath("/" + key.replace("\\", "/")).lstrip("/")
        if not clean or clean.startswith(".."):
            raise ArtifactError(f"artifact key {key!r} is not a path inside the repository")
        return self.root / clean

    def locate(self, art: dict) -> Path | str:
        """The local file or folder an argument artifact names (or the text of a raw one)."""
        name = art.get("name")
        if "raw" in art:
            return str((art["raw"] or {}).get("data", ""))
        if "from" in art:
            return self._existing(self.path(str(art["from"])), f"input artifact {name!r} (from {art['from']})")
        s3, gcs, http = art.get("s3"), art.get("gcs"), art.get("http")
        if isinstance(s3, dict) and not s3.get("bucket"):
            # a key in the workflow's repository: written by this run, else from outside (--artifacts DIR/KEY)
            key = str(s3.get("key", ""))
            local = self.path(key)
            if not local.exists() and self.external is not None:
                local = self.external / self.path(key).relative_to(self.root)
            what = f"input artifact {name!r} (key {key!r} in the artifact repository" + \
                (", or --artifacts DIR/KEY)" if self.external is not None else "; pass --artifacts DIR to read DIR/KEY)")
            return self._existing(local, what)
        if isinstance(s3, dict) or isinstance(gcs, dict):
            loc, scheme = (s3, "s3") if isinstance(s3, dict) else (gcs, "gs")
            url = f"{scheme}://{loc.get('bucket')}/{loc.get('key', '')}"
            if self.external is None:
                raise ArtifactError(f"input artifact {name!r} comes from {url}: heraspec run reads it from a local "
                                    "folder; pass --artifacts DIR (the file is then DIR/BUCKET/KEY)")
            rel = posixpath.normpath(f"{loc.get('bucket')}/{loc.get('key', '')}")
            if rel.startswith("..") or rel.startswith("/"):
                raise ArtifactError(f"input artifact {name!r}: {url} is not a bucket and key")
            return self._existing(self.external / rel, f"input artifact {name!r} ({url}, read from --artifacts)")
        if isinstance(http, dict) and http.get("url"):
            return self._download(str(http["url"]), str(name))
        raise ArtifactError(f"input artifact {name!r} has no location heraspec run can read "
                            "(supported: from, raw, s3, gcs, http)")

    @staticmethod
    def _existing(path: Path, what: str) -> Path:
        if not path.exists():
            raise ArtifactError(f"{what}: {path} does not exist")
        return path

    def _download(self, url: str, name: str) -> Path:
        import urllib.error
        import urllib.request

        folder = self.run_dir / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]
        target = folder / (posixpath.basename(url.split("?")[0].rstrip("/")) or "data")
        with self._lock:  # every consumer of one URL shares one download
            if target.exists():
                return target
            folder.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            opener = urllib.request.build_opener(_no_downgrade_handler())
            try:
                with opener.open(url, timeout=60) as resp, open(part, "wb") as out:
                    shutil.copyfileobj(resp, out)
            except _Downgrade as e:
                part.unlink(missing_ok=True)
                raise ArtifactError(f"input artifact {name!r}: cannot download {url}: it redirects to {e.target}, "
                                    "which is not encrypted (https to http is refused)") from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                part.unlink(missing_ok=True)
                why = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", e)
                raise ArtifactError(f"input artifact {name!r}: cannot download {url}: {why}") from None
            part.replace(target)
        return target

    def save(self, src: Path, key: str) -> Path:
        dst = self.path(key)
        if dst.exists():  # a retried attempt, or a key written twice: the last write wins, as in a bucket
            shutil.rmtree(dst) if dst.is_dir() and not dst.is_symlink() else dst.unlink()
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dst))
        return dst


@dataclass
class TaskArtifacts:
    """The artifact work of one attempt: what to place before it runs and collect after."""

    store: Store
    copies: list[tuple[Path | str, Path]] = field(default_factory=list)  # source (or raw text), destination
    outputs: list[tuple[str, Path, str, bool]] = field(default_factory=list)  # name, mapped path, key, optional

    def place(self) -> None:
        for src, dst in self.copies:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(src, str):
                dst.write_text(src)
            elif src.is_dir():
                shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)

    def collect(self) -> dict[str, str]:
        """Output artifacts into the repository: name -> key. Raises ArtifactError for a missing one."""
        out: dict[str, str] = {}
        for name, path, key, optional in self.outputs:
            if not path.exists():
                if optional:
                    continue
                raise ArtifactError(f"output artifact {name!r}: {path} was not written")
            self.store.save(path, key)
            out[name] = key
        return out


def plan(tmpl: dict, arguments: list[dict], folder: Path, store: Store, default_key: str,
         env: dict[str, str], inside: Callable[[Path, str], Path]) -> TaskArtifacts:
    """Resolve a substituted template's input artifacts against the task's argument artifacts (both
    substituted) and its output artifacts' keys; `inside` maps a container path into the attempt
    folder (attempt.inside). Raises ArtifactError."""
    work = TaskArtifacts(store)
    given = {a.get("name"): a for a in arguments if isinstance(a, dict)}
    for a in (tmpl.get("inputs") or {}).get("artifacts") or []:
        arg = given.get(a.get("name"), a)  # Argo: the argument's location, the template's path
        if not any(k in arg for k in ("from", "raw", "s3", "gcs", "http")):
            if a.get("optional"):
                continue
            raise ArtifactError(f"input artifact {a.get('name')!r} was not supplied")
        work.copies.append((store.locate({**arg, "name": a.get("name")}), inside(folder, str(a["path"]))))
    for a in (tmpl.get("outputs") or {}).get("artifacts") or []:
        if not a.get("path"):
            continue
        loc = next((a[k] for k in ("s3", "gcs", "oss", "azure", "hdfs") if isinstance(a.get(k), dict)), {})
        key = loc.get("key") or loc.get("blob") or loc.get("path") or posixpath.join(default_key, posixpath.basename(
            a["path"].rstrip("/")))
        work.outputs.append((str(a["name"]), inside(folder, str(a["path"])), str(key), bool(a.get("optional"))))
    env[ARTIFACT_DIR_ENV] = str(inside(folder, ARTIFACT_DIR))
    return work


def e2big(env: dict[str, str], error: OSError) -> str | None:
    """A clear message when the OS refused the environment (one variable of 128 KiB or more)."""
    if error.errno != errno.E2BIG:
        return None
    name, value = max(env.items(), key=lambda kv: len(kv[0]) + len(kv[1]))
    size = len(name.encode()) + len(value.encode()) + 1
    what = f"input '{name.removeprefix('HERASPEC_IN_')}'" if name.startswith("HERASPEC_IN_") else f"env var {name}"
    return (f"{what} is {size:,} bytes: Linux refuses one environment variable of 128 KiB or more (E2BIG), and Argo "
            f"passes each input through one, so the pod would fail too (Argo issue #7527). Send the producer's result "
            f"through the artifact repository with `result: artifact` (values under {PARAMETER_LIMIT:,} bytes fit "
            "a parameter; a fan-in adds its items' sizes)")


def local_path(store: Store, key: str) -> str:
    return os.fspath(store.path(key))


def value_text(store: Store, key: str | None) -> str | None:
    """The JSON text of a `result: artifact` value (heraspec's `value.json`), for the run's summary."""
    path = store.path(key) / VALUE_FILE if key else None
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else None
