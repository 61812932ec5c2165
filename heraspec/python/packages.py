"""Third-party packages a task declares (`packages`, `pip_index_url`, `pip_extra_index_urls` at spec,
`defaults` and task level) and the check that every import of the carried code is covered.

    parse(text) -> (canonical distribution name, requirement) or an error message
    for_task(data, task) -> PackageSet | None       the merged set (task wins per distribution)
    uncovered(imports, packages) -> [(Import, message, hint)]

Merging: spec-level `packages`, then `defaults.packages`, then the task's; a later level replaces an
earlier requirement of the same distribution (names compared as PEP 503 canonical names), so a task
can pin a different version. The index settings: the task's, else `defaults`', else the spec's.

An import is covered when its top-level name is the canonical name of a declared distribution
(`requests`), or a declared distribution provides it: per this machine's installed metadata
(`importlib.metadata.packages_distributions()`) or the table of well-known names below (`sklearn`
is `scikit-learn`). A declared distribution that is not installed here and not in the table may
provide any name, so while one is declared no import is reported (nothing certain can be said).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from ..record import Record

if TYPE_CHECKING:
    from .modules import Import

__all__ = ["CARRIED_LIMIT", "PackageSet", "bare_python_image", "for_task", "misnamed", "parse", "shadowed", "uncovered"]

# Argo keeps the whole Workflow object (every template's script) in etcd, whose request limit is
# about 1.5 MiB (Kubernetes answers "request is too large" past it; Argo's own docs say ~1 MiB).
# One template's carried code is limited well below, so a few templates still fit.
CARRIED_LIMIT = 256 * 1024

# Import names whose distribution is named differently (the usual surprises).
KNOWN: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn",),
    "yaml": ("PyYAML",),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
    "PIL": ("Pillow",),
    "bs4": ("beautifulsoup4",),
    "dateutil": ("python-dateutil",),
    "skimage": ("scikit-image",),
    "attr": ("attrs",),
    "jwt": ("PyJWT",),
    "dotenv": ("python-dotenv",),
    "google": ("protobuf", "google-cloud-storage", "google-api-core", "google-auth"),
    "serial": ("pyserial",),
    "Crypto": ("pycryptodome",),
    "OpenSSL": ("pyOpenSSL",),
    "docx": ("python-docx",),
    "pptx": ("python-pptx",),
    "git": ("GitPython",),
    "zmq": ("pyzmq",),
    "fitz": ("PyMuPDF",),
    "magic": ("python-magic",),
    "MySQLdb": ("mysqlclient",),
    "psycopg2": ("psycopg2-binary", "psycopg2"),
    "tomli_w": ("tomli-w",),
    "multipart": ("python-multipart",),
    "jose": ("python-jose",),
    "Levenshtein": ("python-Levenshtein", "levenshtein"),
    "sentencepiece": ("sentencepiece",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "umap": ("umap-learn",),
    "lightgbm": ("lightgbm",),
    "ruamel": ("ruamel.yaml",),
}

# Import names that are not the distribution to install (on the index, that name is nothing, a stub that
# fails to build, or something else): `packages: [sklearn]` is an error naming the right distribution.
NOT_DISTRIBUTIONS = ("sklearn", "yaml", "cv2", "PIL", "bs4", "dateutil", "skimage", "OpenSSL", "Crypto", "MySQLdb",
                     "zmq", "dotenv")


def misnamed(name: str) -> str | None:
    """The distribution to list for an import name written in `packages:` (`sklearn` -> scikit-learn)."""
    for imp in NOT_DISTRIBUTIONS:
        if canonical(imp) == canonical(name):
            return KNOWN[imp][0]
    return None


# Distributions imported under their own name, so that declaring one says nothing about other imports.
SAME_NAME = ("numpy", "pandas", "scipy", "requests", "torch", "matplotlib", "seaborn", "polars", "pyarrow", "boto3",
             "httpx", "pydantic", "click", "rich", "tqdm", "xgboost", "statsmodels", "sympy", "networkx", "jinja2",
             "sqlalchemy", "lxml", "toolz", "tabulate", "humanize", "joblib", "numba", "tensorflow", "keras",
             "transformers", "datasets", "openai", "fastapi", "flask", "django", "redis", "pymongo", "psutil",
             "shapely", "pyproj", "geopandas", "plotly", "dask", "duckdb", "orjson", "ujson", "six", "typer", "arrow",
             "pendulum", "pytz", "tzdata", "markdown", "regex", "nltk", "spacy", "gensim", "catboost", "optuna",
             "mlflow", "wandb", "s3fs", "fsspec", "gcsfs", "smart_open", "tenacity", "cloudpickle", "dill", "h5py",
             "tables", "openpyxl", "xlrd", "pyodbc", "pymysql", "kafka", "pika", "paramiko", "cryptography",
             "certifi", "urllib3", "idna", "chardet", "charset_normalizer", "packaging", "attrs", "typing_extensions")

_PYTHON_IMAGE = re.compile(r"^(docker\.io/)?(library/)?python(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$")


def bare_python_image(image: str) -> bool:
    """The official `python` images hold the standard library, pip and setuptools only."""
    return bool(_PYTHON_IMAGE.match(image))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=4096)  # a big spec merges the same few requirements for every task
def parse(text: str) -> tuple[str, str] | str:
    """(canonical distribution name, the requirement as written), or why pip cannot use it."""
    from packaging.requirements import InvalidRequirement, Requirement

    if not text.strip():
        return "an empty package requirement"
    if "{{" in text:
        return f"package requirement '{text}' contains '{{{{', which Argo would substitute"
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        why = str(e).splitlines()[0]
        return f"'{text}' is not a requirement pip can read: {why}"
    return canonical(req.name), text.strip()


class PackageSet(Record):
    __slots__ = ("packages", "index_url", "extra_index_urls", "index_secret", "locked", "python")

    packages: tuple[str, ...]  # requirements, sorted by canonical name
    index_url: str | None
    extra_index_urls: tuple[str, ...]
    index_secret: tuple[str, str] | None  # (Secret, key) holding the index URL: the pod's PIP_INDEX_URL
    locked: tuple[str, ...]  # from the lock file: `name==version --hash=sha256:...` lines
    python: str  # the Python the pins were resolved for (with `locked`)

    def __init__(self, packages: tuple[str, ...], index_url: str | None = None, extra_index_urls: tuple[str, ...] = (),
                 index_secret: tuple[str, str] | None = None, locked: tuple[str, ...] = (), python: str = "") -> None:
        self.packages = packages
        self.index_url = index_url
        self.extra_index_urls = extra_index_urls
        self.index_secret = index_secret
        self.locked = locked
        self.python = python

    def env_value(self) -> str:
        """The template's HERASPEC_PACKAGES value (JSON): what the script installs (with `locked`: exactly
        those pins, hashes required, nothing resolved)."""
        out: dict[str, Any] = {"packages": list(self.packages)}
        if self.index_url:
            out["index_url"] = self.index_url
        if self.extra_index_urls:
            out["extra_index_urls"] = list(self.extra_index_urls)
        if self.locked:
            out["locked"] = list(self.locked)
        return json.dumps(out, separators=(",", ":"))

    def identity(self) -> dict[str, Any]:
        """What the installed environment depends on: the pins when locked (equal locks, one environment)."""
        data = json.loads(self.env_value())
        if self.locked:
            data.pop("packages")
        return data

    @staticmethod
    def from_env(text: str) -> PackageSet:
        data = json.loads(text)
        return PackageSet(tuple(data["packages"]), data.get("index_url"), tuple(data.get("extra_index_urls", ())),
                          locked=tuple(data.get("locked", ())))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def merged(levels: list[list]) -> dict[str, str]:
    """canonical name -> requirement; later levels win per distribution (unreadable ones skipped)."""
    out: dict[str, str] = {}
    for level in levels:
        for text in level:
            parsed = parse(text) if isinstance(text, str) else None
            if isinstance(parsed, tuple):
                out[parsed[0]] = parsed[1]
    return out


def for_task(data: dict, task: dict, defaults: dict | None = None, own_only: bool = False) -> PackageSet | None:
    """The packages a task installs: spec-level, then `defaults`, then the task's own (task wins).
    `own_only`: an exit handler's, which installs only what it lists itself."""
    defaults = defaults if defaults is not None else (data.get("defaults") if isinstance(data.get("defaults"), dict) else {})
    levels = [_list(task.get("packages"))] if own_only else [
        _list(data.get("packages")), _list(defaults.get("packages")), _list(task.get("packages"))]
    if not any(levels):
        return None
    reqs = merged(levels)
    if not reqs:
        return None

    def setting(key: str) -> Any:
        for level in (task, defaults, data):
            if level.get(key) is not None:
                return level[key]
        return None

    extra = setting("pip_extra_index_urls")
    index = setting("pip_index_url")
    secret = (str(index.get("secret")), str(index.get("key"))) if isinstance(index, dict) else None
    return PackageSet(tuple(reqs[k] for k in sorted(reqs)), index if isinstance(index, str) else None,
                      tuple(extra) if isinstance(extra, list) else (), secret)


@lru_cache(maxsize=1)
def _installed() -> dict[str, list[str]]:
    """Import name -> distributions installed here (where heraspec runs)."""
    from importlib.metadata import packages_distributions

    try:
        return packages_distributions()
    except Exception:  # broken metadata of some installed distribution must not break validate
        return {}


@lru_cache(maxsize=1)
def _provides() -> dict[str, set[str]]:
    """Canonical distribution name -> import names, from the table and the installed metadata."""
    out: dict[str, set[str]] = {}
    for name, dists in [*KNOWN.items(), *((n, (n,)) for n in SAME_NAME), *_installed().items()]:
        for d in dists:
            out.setdefault(canonical(d), set()).add(name)
    return out


@lru_cache(maxsize=1024)  # a big spec asks once per task, for few distinct (imports, packages)
def uncovered(imports: "tuple[Import, ...]", packages: PackageSet | None) -> list[tuple["Import", str, str]]:
    """Imports that the pod of a bare python image would not have: (import, message, hint)."""
    if all(i.optional for i in imports):  # nothing to look up: skip reading every installed distribution
        return []
    declared = {canonical(parse(p)[0]) for p in (packages.packages if packages else ())}  # type: ignore[index]
    provides = _provides()
    names = {i.name for i in imports if not i.optional}
    unknown = [d for d in declared if d not in provides and d not in {canonical(n) for n in names}]
    if unknown:  # a declared distribution we know nothing about may provide them
        return []
    out = []
    seen: set[str] = set()
    for imp in imports:
        if imp.optional or imp.name in seen:
            continue
        if canonical(imp.name) in declared or any(imp.name in provides.get(d, ()) for d in declared):
            continue
        seen.add(imp.name)
        local = _installed().get(imp.name, [])
        dist = (KNOWN.get(imp.name) or local or [imp.name])[0]
        here = (f"; it is installed where heraspec runs ({local[0]}), but the pod has only what packages lists"
                if local else "")
        message = (f"'import {imp.name}': '{imp.name}' is not in the standard library, not a module of your project "
                   f"and not in this task's packages, so the pod will not have it{here}")
        hint = f"add it to the task's (or the spec's) packages: packages: [{dist}]"
        if dist != imp.name:
            hint += f" (the distribution that provides '{imp.name}')"
        beside = _beside(imp)
        if beside is not None and (imp.name in KNOWN or imp.name in SAME_NAME or local):  # both can be meant
            hint += f", or, for {beside[0]} beside it, `from . import {imp.name}`"
        elif beside is not None:  # `sys.path.insert(0, os.path.dirname(__file__)); import helpers`
            message = (f"'import {imp.name}': your project has no top-level module '{imp.name}'; {beside[0]} "
                       f"beside it is the module '{beside[1]}', so the pod will not find '{imp.name}'")
            hint = (f"import it from its package: `from . import {imp.name}` (a sys.path change at run time is "
                    "not followed)")
        out.append((imp, message, hint))
    return out


def _beside(imp: "Import") -> tuple[str, str] | None:
    """('pkg/helpers.py', 'pkg.helpers'): module `imp.name` in the importing file's own folder, a
    package (it has `__init__.py`), when it is there."""
    folder = os.path.dirname(imp.file)
    if not os.path.isfile(os.path.join(folder, "__init__.py")):
        return None
    for candidate in (f"{imp.name}.py", f"{imp.name}/__init__.py"):
        if os.path.isfile(os.path.join(folder, candidate)):
            package = os.path.basename(folder)
            return f"{package}/{candidate}", f"{package}.{imp.name}"
    return None


def shadowed(names: set[str], packages: PackageSet | None) -> list[tuple[str, str]]:
    """(module, requirement) for each top-level module of the project that a declared distribution
    also provides: the carried module would hide the installed one in the pod (it is imported first)."""
    if packages is None:
        return []
    provides = _provides()
    out = []
    for req in packages.packages:
        dist = canonical(parse(req)[0])  # type: ignore[index]
        for name in sorted(names):
            if canonical(name) == dist or name in provides.get(dist, ()):
                out.append((name, req))
    return out
