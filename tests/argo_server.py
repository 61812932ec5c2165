"""A stand-in Argo Server for tests: real HTTP on 127.0.0.1, in a thread, with Argo's REST behaviour.

Routes come from Argo Server's swagger.json: the subset in tests/data/argo-swagger.json (made by
scripts/argo_swagger_subset.py), or the upstream file under --argo-src; request bodies are checked
against their swagger definitions (unknown fields rejected), and every object against Argo's JSON
Schema in strict mode (tests/argo_schema.py). Errors are grpc-gateway bodies `{"code": <gRPC code>, "message"}`.

Test controls:
- `token=`: expected bearer token (else 401, code 16); `echo_auth=True` puts the received header
  into the 401 message, as a careless proxy would, so redaction is tested against the worst case.
- Workflows advance one step (Running → node Running → Succeeded/Failed) each time a watcher or a
  GET observes them (`auto_advance`), or by `advance()` / `finish()`. The final phase comes from the
  label `heraspec.test/outcome` or `default_outcome`.
- `fault(method, path_regex, action, times=1, ...)`: 503/any status, `html` (non-JSON body),
  `drop` (processed, then the connection closed without an answer), `drop_before` (not processed),
  `delay`, `bump` (someone else updates the object first, so a PUT conflicts), `break_stream`
  (a stream cut mid-way after `after_events` events), and the hostile ones: `redirect` (a 3xx with
  an empty body and a Location, as an SSO proxy answers), `huge` (an answer of `size` bytes, sent
  while the client reads), `endless_line` (a stream that sends `size` bytes without a newline),
  `foreign` (the watch sends another Workflow's finished state first; `same_name=True`: our name
  with another uid), `race` (another client creates the object, `mutate`d, just before this POST),
  `gate` (each matching request is answered, and the answer held at `barrier` until all its parties
  have theirs: real concurrency, deterministic).
  `Fault.sent` counts the bytes a `huge` / `endless_line` fault got out before the client hung up.
- `state.logs[name]` (or `state.logs["*"]`): the log lines of a Workflow; `state.decorate(wf)`:
  called on each Workflow after it advances, to put hostile text in its status.
- `requests`: the request log (method, path, query, body) for assertions.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

from tests import argo_schema
from tests.argo_schema import argo_errors

COLLECTIONS = {"workflows": "Workflow", "workflow-templates": "WorkflowTemplate",
               "cluster-workflow-templates": "ClusterWorkflowTemplate", "cron-workflows": "CronWorkflow"}
BODY_KEYS = {"Workflow": "workflow", "WorkflowTemplate": "template", "ClusterWorkflowTemplate": "template",
             "CronWorkflow": "cronWorkflow"}
PLURAL = {"Workflow": "workflows", "WorkflowTemplate": "workflowtemplates",
          "ClusterWorkflowTemplate": "clusterworkflowtemplates", "CronWorkflow": "cronworkflows"}
CREATOR = {"workflows.argoproj.io/creator": "system-serviceaccount-argo-argo-server",
           "workflows.argoproj.io/creator-preferred-username": "argo-server"}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OUTCOME_LABEL = "heraspec.test/outcome"
SWAGGER = Path(__file__).resolve().parent / "data" / "argo-swagger.json"
DONE = ("Succeeded", "Failed", "Error")


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Fault:
    method: str
    path: str  # a regex searched in the request path (after the base href)
    action: str  # status | html | drop | drop_before | delay | bump | break_stream
    times: int = 1
    status: int = 503
    delay: float = 0.0
    after_events: int = 1
    size: int = 0
    location: str = "https://sso.example.com/oauth2/start?rd=%2Fapi%2Fv1"
    same_name: bool = False
    mutate: Any = None
    barrier: Any = None  # a threading.Barrier, for `gate`
    sent: int = 0
    message: str = "the server is currently unable to handle the request"


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    fault: str | None = None


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern
    body_def: str | None


@lru_cache(maxsize=None)
def _load_routes() -> tuple[list[Route], dict]:
    path = argo_schema.upstream("swagger.json") if argo_schema.argo_src is not None else SWAGGER
    swagger = json.loads(path.read_text())
    routes = []
    for template, ops in swagger["paths"].items():
        regex = "^" + "".join(f"(?P<{part[1:-1].replace('.', '_')}>[^/]+)" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]+\})", template)) + "$"
        for method, op in ops.items():
            body = next((p["schema"]["$ref"].rsplit("/", 1)[1] for p in op.get("parameters", [])
                         if p.get("in") == "body" and "$ref" in p.get("schema", {})), None)
            routes.append(Route(method.upper(), template, re.compile(regex), body))
    # literal segments first: `/workflows/{ns}/lint` before `/workflows/{ns}/{name}`
    routes.sort(key=lambda r: r.template.count("{"))
    return routes, swagger["definitions"]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ArgoState:
    """The store and the knobs; every method is safe to call from the test thread."""

    def __init__(self, *, token: str | None, echo_auth: bool, auto_advance: bool, default_outcome: str):
        self.token, self.echo_auth = token, echo_auth
        self.auto_advance, self.default_outcome = auto_advance, default_outcome
        self.routes, self.definitions = _load_routes()
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.steps: dict[tuple[str, str], int] = {}
        self.logs: dict[str, list[str]] = {}
        self.requests: list[Logged] = []
        self.faults: list[Fault] = []
        self.decorate: Any = None
        self.cond = threading.Condition(threading.RLock())
        self._rv = 1000
        self.stopped = False

    # -- test-facing helpers --------------------------------------------------------------------

    def count(self, method: str | None = None, path: str | None = None) -> int:
        with self.cond:
            return sum(1 for r in self.requests if (method is None or r.method == method)
                       and (path is None or re.search(path, r.path)))

    def of_kind(self, kind: str) -> list[dict]:
        with self.cond:
            return [o for (k, _, _), o in self.objects.items() if k == kind]

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        with self.cond:
            return self.objects.get((kind, namespace if kind != "ClusterWorkflowTemplate" else "", name))

    def touch(self, kind: str, namespace: str, name: str, mutate=None) -> None:
        """Another writer updates the object: a new resourceVersion (and whatever `mutate` does)."""
        with self.cond:
            obj = self.objects[(kind, namespace if kind != "ClusterWorkflowTemplate" else "", name)]
            if mutate:
                mutate(obj)
            obj["metadata"]["resourceVersion"] = self._next_rv()
            self.cond.notify_all()

    def advance(self, namespace: str, name: str) -> None:
        with self.cond:
            self._advance(namespace, name)

    def finish(self, namespace: str, name: str, phase: str = "Succeeded") -> None:
        with self.cond:
            wf = self.objects[("Workflow", namespace, name)]
            wf.setdefault("metadata", {}).setdefault("labels", {})[OUTCOME_LABEL] = phase
            while (wf.get("status") or {}).get("phase") not in DONE:
                self._advance(namespace, name)

    # -- internals (called with the lock held) --------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _advance(self, namespace: str, name: str) -> None:
        wf = self.objects.get(("Workflow", namespace, name))
        if wf is None or (wf.get("status") or {}).get("phase") in DONE:
            return
        step = self.steps.get((namespace, name), 0) + 1
        self.steps[(namespace, name)] = step
        spec = wf.get("spec") or {}
        entry = spec.get("entrypoint") or "main"
        tasks = [t["name"] for tpl in spec.get("templates") or [] if tpl.get("name") == entry
                 for t in ((tpl.get("dag") or {}).get("tasks") or [])] or [entry]
        outcome = ((wf["metadata"].get("labels") or {}).get(OUTCOME_LABEL) or self.default_outcome)
        final = step >= 3
        node_phase = (outcome if final else "Running") if step >= 2 else "Pending"
        nodes = {name: {"id": name, "name": name, "displayName": name, "type": "DAG", "startedAt": "0",
                        "phase": outcome if final else "Running"}}
        for i, task in enumerate(tasks):
            node_id = f"{name}-{1000 + i}"
            nodes[node_id] = {"id": node_id, "name": f"{name}.{task}", "displayName": task, "type": "Pod",
                              "startedAt": str(i + 1), "phase": node_phase}
        status = {"phase": outcome if final else "Running", "startedAt": _now(), "nodes": nodes}
        if final:
            status["finishedAt"] = _now()
            if outcome != "Succeeded":
                status["message"] = f"child '{name}-1000' failed"
        wf["status"] = status
        wf["metadata"].setdefault("labels", {})["workflows.argoproj.io/phase"] = status["phase"]
        wf["metadata"]["resourceVersion"] = self._next_rv()
        if self.decorate:
            self.decorate(wf)
        self.cond.notify_all()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.cond:
            for f in self.faults:
                if f.times > 0 and f.method == method and re.search(f.path, path):
                    f.times -= 1
                    return f
        return None

    # -- the API ---------------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for r in self.routes:
            m = r.pattern.match(path)
            if m:
                if r.method == method:
                    return r, m.groupdict()
                allowed = True
        if allowed:
            raise ApiError(405, 12, "Method Not Allowed")
        raise ApiError(404, 5, "Not Found")

    def check_body(self, route: Route, raw: bytes) -> dict:
        try:
            body = json.loads(raw or b"{}")
        except ValueError as e:
            raise ApiError(400, 3, f"invalid character in request body: {e}") from None
        if not isinstance(body, dict):
            raise ApiError(400, 3, "request body must be a JSON object")
        self._check_shape(body, route.body_def or "", "")
        return body

    def _check_shape(self, value: dict, definition: str, where: str) -> None:
        props = self.definitions.get(definition, {}).get("properties", {})
        for key, v in value.items():
            if key not in props:
                raise ApiError(400, 3, f'unknown field "{where}{key}" in {definition.rsplit(".", 1)[-1]}')
            p = props[key]
            ref = p.get("$ref", "").rsplit("/", 1)[-1]
            expected = {"string": str, "boolean": bool, "array": list}.get(p.get("type", ""))
            if expected and not isinstance(v, expected):
                raise ApiError(400, 3, f"{where}{key}: expected {p['type']}")
            if ref.startswith("io.k8s.") and isinstance(v, dict):
                self._check_shape(v, ref, f"{where}{key}.")

    def check_object(self, kind: str, obj: Any, namespace: str | None) -> dict:
        if not isinstance(obj, dict):
            raise ApiError(400, 3, f"{BODY_KEYS[kind]} is required")
        if obj.get("kind", kind) != kind:
            raise ApiError(400, 3, f"kind {obj.get('kind')!r} sent to the {kind} endpoint")
        if obj.get("apiVersion", "argoproj.io/v1alpha1") != "argoproj.io/v1alpha1":
            raise ApiError(400, 3, f"apiVersion {obj.get('apiVersion')!r} is not argoproj.io/v1alpha1")
        obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, **obj}
        md = obj.setdefault("metadata", {})
        if namespace is not None:
            if md.get("namespace") not in (None, namespace):
                raise ApiError(400, 3, f"namespace {md['namespace']!r} does not match the request's {namespace!r}")
            md["namespace"] = namespace
        errors = argo_errors(obj)
        if errors:
            raise ApiError(400, 3, f"{kind} is invalid: " + "; ".join(errors[:5]))
        name = md.get("name")
        limit = 52 if kind == "CronWorkflow" else 63
        if name is not None and (len(name) > limit or not DNS1123.match(name)):
            raise ApiError(400, 3, f'metadata.name: Invalid value: "{name}": must be a lowercase RFC 1123 '
                                   f"subdomain of at most {limit} characters")
        spec = obj.get("spec") or {}
        spec = spec.get("workflowSpec", spec) if kind == "CronWorkflow" else spec
        names = {t.get("name") for t in spec.get("templates") or []}
        ref = spec.get("workflowTemplateRef")
        if ref:
            ref_kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
            if self.get(ref_kind, namespace or "", ref.get("name", "")) is None:
                raise ApiError(400, 3, f'{PLURAL[ref_kind]}.argoproj.io "{ref.get("name")}" not found')
        elif spec.get("entrypoint") and spec["entrypoint"] not in names:
            raise ApiError(400, 3, f'spec.entrypoint: template "{spec["entrypoint"]}" not found')
        elif kind in ("Workflow", "CronWorkflow") and not spec.get("entrypoint"):
            raise ApiError(400, 3, "spec.entrypoint: Required value")
        return obj

    def create(self, kind: str, namespace: str | None, body: dict, *, lint: bool = False) -> dict:
        obj = self.check_object(kind, body.get(BODY_KEYS[kind]), namespace)
        md = obj["metadata"]
        dry = lint or body.get("serverDryRun") or "All" in ((body.get("createOptions") or {}).get("dryRun") or [])
        with self.cond:
            if not md.get("name"):
                if not md.get("generateName"):
                    raise ApiError(400, 3, "metadata.name: Required value: name or generateName is required")
                md["name"] = md.pop("generateName") + secrets.token_hex(3)[:5]
            key = (kind, namespace or "", md["name"])
            if key in self.objects and not lint:
                raise ApiError(409, 6, f'{PLURAL[kind]}.argoproj.io "{md["name"]}" already exists')
            self._server_fields(obj, None)
            if not dry:
                self.objects[key] = obj
                self.cond.notify_all()
            return json.loads(json.dumps(obj))

    def update(self, kind: str, namespace: str | None, name: str, body: dict) -> dict:
        obj = self.check_object(kind, body.get(BODY_KEYS[kind]), namespace)
        md = obj["metadata"]
        if md.get("name") != name:
            raise ApiError(400, 3, f"metadata.name {md.get('name')!r} does not match the URL's {name!r}")
        with self.cond:
            key = (kind, namespace or "", name)
            live = self.objects.get(key)
            if live is None:
                raise ApiError(404, 5, f'{PLURAL[kind]}.argoproj.io "{name}" not found')
            if not md.get("resourceVersion"):
                raise ApiError(400, 3, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")
            if md["resourceVersion"] != live["metadata"]["resourceVersion"]:
                raise ApiError(409, 10, f'Operation cannot be fulfilled on {PLURAL[kind]}.argoproj.io "{name}": the '
                                        "object has been modified; please apply your changes to the latest version "
                                        "and try again")
            self._server_fields(obj, live)
            self.objects[key] = obj
            self.cond.notify_all()
            return json.loads(json.dumps(obj))

    def _server_fields(self, obj: dict, live: dict | None) -> None:
        """What the real server adds: identity, versions, creator labels, Go's empty structs."""
        md = obj["metadata"]
        old = (live or {}).get("metadata") or {}
        md["uid"] = old.get("uid") or str(uuid.uuid4())
        md["creationTimestamp"] = old.get("creationTimestamp") or _now()
        md["resourceVersion"] = self._next_rv()
        changed = live is None or live.get("spec") != obj.get("spec")
        md["generation"] = (old.get("generation") or 0) + (1 if changed else 0)
        md["labels"] = {**CREATOR, **(md.get("labels") or {})}
        md["managedFields"] = [{"manager": "argo", "operation": "Update" if live else "Create", "time": _now()}]
        spec = obj.get("spec") or {}
        spec = spec.get("workflowSpec", spec) if obj["kind"] == "CronWorkflow" else spec
        spec.setdefault("arguments", {})
        for tpl in spec.get("templates") or []:
            for key in ("inputs", "outputs", "metadata"):
                tpl.setdefault(key, {})
            for body in ("script", "container"):
                if isinstance(tpl.get(body), dict):
                    tpl[body].setdefault("resources", {})

    def delete(self, kind: str, namespace: str | None, name: str) -> dict:
        with self.cond:
            if self.objects.pop((kind, namespace or "", name), None) is None:
                raise ApiError(404, 5, f'{PLURAL[kind]}.argoproj.io "{name}" not found')
            self.cond.notify_all()
        return {}

    def read(self, kind: str, namespace: str | None, name: str) -> dict:
        with self.cond:
            obj = self.objects.get((kind, namespace or "", name))
            if obj is None:
                raise ApiError(404, 5, f'{PLURAL[kind]}.argoproj.io "{name}" not found')
            if kind == "Workflow" and self.auto_advance:
                result = json.loads(json.dumps(obj))
                self._advance(namespace or "", name)  # the next poll sees the next step
                return result
            return json.loads(json.dumps(obj))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _handle(self) -> None:
        st = self.server.state
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = url.path
        try:
            body_log: Any = json.loads(raw) if raw else None
        except ValueError:
            body_log = raw.decode(errors="replace")
        prefix = self.server.base_href
        fault = None
        in_prefix = not prefix or path == prefix or path.startswith(prefix + "/")
        if in_prefix:
            path = path[len(prefix):] or "/"
            fault = st.take_fault(self.command, path)
        with st.cond:
            st.requests.append(Logged(self.command, path, query, body_log, fault.action if fault else None))
        if fault and fault.action == "drop_before":
            self.close_connection = True
            return
        if fault and fault.action == "status":
            return self._send(fault.status, {"code": 14, "message": fault.message})
        if fault and fault.action == "html":
            return self._send(fault.status, f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>",
                              content_type="text/html")
        if fault and fault.action == "delay":
            time.sleep(fault.delay)
        if fault and fault.action == "redirect":
            self.send_response(fault.status if 300 <= fault.status < 400 else 302)
            self.send_header("Location", fault.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault and fault.action == "huge":
            return self._send_huge(fault)
        if fault and fault.action == "race" and self.command == "POST" and in_prefix:
            self._race(path, raw, fault)
        try:
            if not in_prefix:
                raise ApiError(404, 5, "Not Found")
            self._auth()
            route, params = st.route(self.command, path)
            if fault and fault.action == "bump":
                kind = COLLECTIONS.get(route.template.split("/")[3], "")
                if st.get(kind, params.get("namespace", ""), params.get("name", "")) is not None:
                    st.touch(kind, params.get("namespace", ""), params["name"])
            status, result = 200, self._dispatch(route, params, query, raw, fault)
            if result is None:  # streamed
                return
        except ApiError as e:
            status, result = e.status, {"code": e.code, "message": e.message}
        if fault and fault.action == "drop":  # processed, but the answer never arrives
            self.close_connection = True
            return
        if fault and fault.action == "gate":
            # answered already, sent once every party has its answer: a thread scheduled late after the
            # barrier cannot see what another party's client did next
            try:
                fault.barrier.wait(timeout=25)  # under the client's 30 s read timeout: no retried GET
            except threading.BrokenBarrierError:
                pass
        self._send(status, result)

    def _send_huge(self, fault: Fault) -> None:
        """`fault.size` bytes of a JSON-looking error body, written while the client keeps reading."""
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(fault.size))
        self.end_headers()
        self._pour(fault, b'{"code": 13, "message": "', fault.size)
        self.close_connection = True

    def _pour(self, fault: Fault, head: bytes, size: int, chunked: bool = False) -> None:
        piece, head = b"x" * (1 << 20), head[:size]
        try:
            self.wfile.write(f"{len(head):x}\r\n".encode() + head + b"\r\n" if chunked else head)
            fault.sent = len(head)
            while fault.sent < size and not self.server.state.stopped:
                n = min(len(piece), size - fault.sent)
                self.wfile.write(f"{n:x}\r\n".encode() + piece[:n] + b"\r\n" if chunked else piece[:n])
                fault.sent += n
            self.wfile.flush()
        except OSError:  # the client stopped reading and hung up: what we measure
            pass

    def _race(self, path: str, raw: bytes, fault: Fault) -> None:
        """Another client's POST of the same object lands first (changed by `fault.mutate`)."""
        st = self.server.state
        try:
            route, params = st.route("POST", path)
            kind = COLLECTIONS[route.template.split("/")[3]]
            body = json.loads(raw)
            obj = copy.deepcopy(body[BODY_KEYS[kind]])
            if fault.mutate:
                fault.mutate(obj)
            st.create(kind, params.get("namespace"), {**body, BODY_KEYS[kind]: obj})
        except (ApiError, KeyError, ValueError):
            pass

    def _auth(self) -> None:
        st = self.server.state
        if st.token is None:
            return
        got = self.headers.get("Authorization")
        if got != f"Bearer {st.token}":
            extra = f" (received Authorization: {got})" if st.echo_auth else ""
            raise ApiError(401, 16, "token not valid. More info: https://argo-workflows.readthedocs.io/en/latest/faq/"
                           + extra)

    def _dispatch(self, route: Route, params: dict[str, str], query: dict, raw: bytes, fault: Fault | None) -> Any:
        st = self.server.state
        parts = route.template.split("/")  # ["", "api", "v1", collection, ...]
        ns = params.get("namespace")
        if parts[3] == "workflow-events":
            return self._watch(ns or "", query, fault)
        if route.template.endswith("/{name}/log"):
            return self._logs(ns or "", params["name"], fault)
        kind = COLLECTIONS.get(parts[3])
        if kind is None:
            raise ApiError(501, 12, f"{route.method} {route.template} is not implemented by the test server")
        rest = route.template.split("/")[4 + (1 if "{namespace}" in route.template else 0):]
        if route.method == "POST" and rest == []:
            return st.create(kind, ns, st.check_body(route, raw))
        if route.method == "POST" and rest == ["lint"]:
            return st.create(kind, ns, st.check_body(route, raw), lint=True)
        if route.method == "GET" and rest == ["{name}"]:
            return st.read(kind, ns, params["name"])
        if route.method == "PUT" and rest == ["{name}"]:
            return st.update(kind, ns, params["name"], st.check_body(route, raw))
        if route.method == "DELETE" and rest == ["{name}"]:
            return st.delete(kind, ns, params["name"])
        if route.method == "GET" and rest == []:
            with st.cond:
                items = [o for (k, n, _), o in st.objects.items() if k == kind and n == (ns or "")]
                return {"metadata": {}, "items": json.loads(json.dumps(items))}
        raise ApiError(501, 12, f"{route.method} {route.template} is not implemented by the test server")

    # -- responses -----------------------------------------------------------------------------

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, item: dict) -> None:
        data = (json.dumps(item) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _break_stream(self) -> None:
        self.wfile.write(b'1a\r\n{"result": {"type": "MOD')  # half a chunk, then the line goes dead
        self.wfile.flush()
        self.close_connection = True

    def _watch(self, ns: str, query: dict, fault: Fault | None) -> None:
        st = self.server.state
        selector = query.get("listOptions.fieldSelector", "")
        name = selector.partition("metadata.name=")[2].split(",")[0]
        self._start_stream()
        if fault and fault.action == "endless_line":
            return self._endless(fault)
        if fault and fault.action == "foreign":
            self._foreign(ns, name, fault)
        sent_rv, events = None, 0
        deadline = time.monotonic() + 60  # a forgotten watcher must not keep the server alive
        while not st.stopped and time.monotonic() < deadline:
            with st.cond:
                wf = st.objects.get(("Workflow", ns, name))
                if wf is None:
                    if sent_rv is not None:
                        self._chunk({"result": {"type": "DELETED", "object": {"metadata": {"name": name}}}})
                        break
                    st.cond.wait(0.05)
                    continue
                if wf["metadata"]["resourceVersion"] == sent_rv:
                    st.cond.wait(0.05)
                    continue
                snapshot = json.loads(json.dumps(wf))
                sent_rv = wf["metadata"]["resourceVersion"]
                if st.auto_advance:
                    st._advance(ns, name)
            if fault and fault.action == "break_stream" and events >= fault.after_events:
                return self._break_stream()
            self._chunk({"result": {"type": "ADDED" if events == 0 else "MODIFIED", "object": snapshot}})
            events += 1
            if (snapshot.get("status") or {}).get("phase") in DONE:
                break
        self._end_stream()

    def _endless(self, fault: Fault) -> None:
        self._pour(fault, b'{"result": {"type": "MODIFIED", "object": {"metadata": {"name": "', fault.size, chunked=True)
        self.close_connection = True

    def _foreign(self, ns: str, name: str, fault: Fault) -> None:
        """Another Workflow's finished state, as a server ignoring the field selector would send."""
        other = name if fault.same_name else f"other-{name}"
        self._chunk({"result": {"type": "MODIFIED", "object": {
            "metadata": {"name": other, "namespace": ns, "uid": str(uuid.uuid4()), "resourceVersion": "1"},
            "status": {"phase": "Succeeded", "nodes": {}}}}})

    def _logs(self, ns: str, name: str, fault: Fault | None = None) -> None:
        st = self.server.state
        if st.get("Workflow", ns, name) is None:
            raise ApiError(404, 5, f'workflows.argoproj.io "{name}" not found')
        self._start_stream()
        if fault and fault.action == "endless_line":
            return self._endless(fault)
        for line in st.logs.get(name) or st.logs.get("*") or [f"hello from {name}"]:
            self._chunk({"result": {"content": line, "podName": f"{name}-main-1000"}})
        self._end_stream()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ArgoState
    base_href: str

    def get_request(self) -> tuple[Any, Any]:
        # As Go's net/http does (and so Argo's server): no Nagle delay, or each small response
        # waits ~40 ms for the client's delayed ACK and request timings (benchmarks/run.py) lie.
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)  # a client that hung up is not news


class ArgoTestServer:
    """`with ArgoTestServer(token="t") as srv:` → srv.server ("127.0.0.1:PORT"), srv.state, srv.fault()."""

    def __init__(self, *, token: str | None = None, echo_auth: bool = False, auto_advance: bool = True,
                 default_outcome: str = "Succeeded", base_href: str = "", tls: tuple[str, str] | None = None):
        self.state = ArgoState(token=token, echo_auth=echo_auth, auto_advance=auto_advance,
                               default_outcome=default_outcome)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.state = self.state
        self._httpd.base_href = "/" + base_href.strip("/") if base_href.strip("/") else ""
        self.tls = tls is not None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def server(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.server}{self._httpd.base_href}"

    def fault(self, method: str, path: str, action: str = "status", **kw: Any) -> Fault:
        f = Fault(method, path, action, **kw)
        with self.state.cond:
            self.state.faults.append(f)
        return f

    def start(self) -> "ArgoTestServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "ArgoTestServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


TOKEN = "s3cret-test-token-0123456789"


def serve(**kw: Any) -> Iterator[ArgoTestServer]:
    """Body of the test files' `argo` fixture: a fresh server expecting TOKEN that echoes bad
    Authorization headers into its 401s (the worst case for redaction)."""
    with ArgoTestServer(**{"token": TOKEN, "echo_auth": True, **kw}) as srv:
        yield srv


def self_signed_certificate(folder) -> tuple[str, str]:
    """A throw-away certificate for 127.0.0.1 (cert, key paths), made with openssl; skips without it."""
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    d = Path(folder)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")
