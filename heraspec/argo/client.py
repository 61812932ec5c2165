"""A small Argo Server REST client over httpx: JSON calls with retries, capped reads, newline-
delimited JSON streams (watch, logs), and the server's answers shaped into ArgoError (argo/resources.py).

Only the apply stage imports this module; httpx is imported when a client is built, so
`heraspec validate` never pays for it. Where the server is and the token it takes come from
argo/connection.py; the token never reaches a log line or an error text.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
from typing import Any, Callable, Iterator, Mapping

from ..errors import UsageError
from ..textsafe import printable
from .connection import Connection, redact, shown
from .resources import GRPC_CODES, ArgoError

# what heraspec reads of one answer, or of one line of a watch/log stream (a line carries a whole
# Workflow): enough for any object the Kubernetes API can store, bounded against a hostile server
MAX_BYTES_ENV = "HERASPEC_ARGO_MAX_MB"
DEFAULT_MAX_MB = 64
MAX_ERROR_BODY = 1 << 20  # of an error answer only the message is shown
TRANSIENT_STATUS = frozenset({502, 503, 504})


class ArgoClient:
    """JSON calls to one Argo Server over one pooled httpx.Client (thread-safe; share it)."""

    def __init__(
        self,
        connection: Connection,
        *,
        transport: Any = None,
        retry_delay: float = 0.2,
        max_tries: int = 4,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_bytes: int | None = None,
        log: Callable[[str], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ):
        import httpx

        self.connection = connection
        self.retry_delay = retry_delay
        self.max_tries = max(1, max_tries)
        self.connect_timeout = connect_timeout
        self.max_bytes = max_bytes if max_bytes is not None else _max_bytes_from_env()
        self._log = log
        for warning in connection.warnings:
            (warn or _stderr)(warning)
        verify: bool | ssl.SSLContext = True
        if connection.base_url.startswith("https://"):
            if not connection.verify_tls:
                verify = False
                (warn or _stderr)("warning: TLS certificate verification is disabled "
                                  "(insecure skip verify); anyone on the path can read the token")
            elif connection.ca_cert:
                verify = ssl.create_default_context(cafile=connection.ca_cert)
        headers = {"Accept": "application/json"}
        if connection.authorization:
            headers["Authorization"] = connection.authorization
        self._http = httpx.Client(
            base_url=connection.base_url,
            verify=verify,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def __repr__(self) -> str:
        return f"ArgoClient({self.connection.base_url!r})"

    def __enter__(self) -> "ArgoClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        return redact(text, self.connection.secrets)

    def shown(self, text: Any) -> str:
        """Text the server sent, fit to put in a message: one line, no control characters, no token."""
        return shown(text, self.connection.secrets)

    def log(self, text: str) -> None:
        if self._log:
            self._log(self.redact(text))

    def sleep_backoff(self, attempt: int) -> None:
        time.sleep(self.retry_delay * (2**attempt))

    # -- plain JSON calls ---------------------------------------------------------------------

    def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None,
                retry: bool | None = None) -> dict:
        """One call; transient failures are retried with backoff only when `retry` (default: the
        method is idempotent — GET, PUT with a resourceVersion, DELETE). POST is never retried
        here: creating twice is not harmless, the caller decides (see apply's own-name check)."""
        if retry is None:
            retry = method in ("GET", "PUT", "DELETE")
        tries = self.max_tries if retry else 1
        for attempt in range(tries):
            try:
                return self._once(method, path, body, params)
            except ArgoError as e:
                if not (e.transient and attempt + 1 < tries):
                    raise
                self.log(f"argo: {method} {path}: {e}; retrying")
                self.sleep_backoff(attempt)
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> dict:
        return self.request("GET", path, **kw)

    def _once(self, method: str, path: str, body: Any, params: Mapping[str, str] | None) -> dict:
        import httpx

        started = time.monotonic()
        try:
            with self._http.stream(method, path, json=body, params=params) as resp:
                status = resp.status_code
                self._refuse_redirect(resp, f"{method} {path}")
                raw = self._read_capped(resp, MAX_ERROR_BODY if status >= 400 else self.max_bytes)
        except httpx.HTTPError as e:
            self.log(f"argo: {method} {path} -> {type(e).__name__}")
            raise self._transport_error(e) from None
        self.log(f"argo: {method} {path} -> {status} ({(time.monotonic() - started) * 1000:.0f} ms)")
        content_type = resp.headers.get("content-type", "")
        if status >= 400:
            if raw is None:
                raise ArgoError(f"HTTP {status} from the Argo server with an error body larger than "
                                f"{MAX_ERROR_BODY >> 20} MiB (not read)", status=status,
                                transient=status in TRANSIENT_STATUS)
            raise self._http_error(status, content_type, raw.decode("utf-8", "replace"))
        if raw is None:
            raise self._too_large(f"the answer to {method} {path}")
        if not raw and method != "DELETE":
            # Argo answers every create, read and update with the object; an empty 2xx comes from
            # something else on the path, and taking it for success would report writes never made
            raise ArgoError(f"the Argo server answered {method} {path} with HTTP {status} and an empty body; "
                            "is ARGO_SERVER / --base-href pointing at the Argo Server?", status=status)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            raise ArgoError(f"the Argo server answered HTTP {status} with a body that is not "
                            f"JSON: {self._snippet(raw.decode('utf-8', 'replace'))}", status=status) from None
        return data if isinstance(data, dict) else {"result": data}

    def _refuse_redirect(self, resp: Any, what: str) -> None:
        """A 3xx is never success: heraspec does not follow redirects (the token must not travel to
        another host), and an SSO proxy in front of the Argo Server answers 302 to its login page."""
        status = resp.status_code
        if not 300 <= status < 400:
            return
        location = resp.headers.get("location", "")
        target = f" to {self.shown(location.split('?', 1)[0][:200])}" if location else ""
        raise ArgoError(f"{what}: the server redirected (HTTP {status}{target}) instead of answering; "
                        "a proxy in front of the Argo Server may be asking for a login (use a token it accepts "
                        "or reach the Argo Server directly), or the address or --base-href / ARGO_BASE_HREF "
                        "is wrong", status=status)

    def _read_capped(self, resp: Any, limit: int) -> bytes | None:
        """The whole body, or None once it passes `limit` bytes (the rest is never read)."""
        buf = bytearray()
        for chunk in resp.iter_bytes():
            buf += chunk
            if len(buf) > limit:
                return None
        return bytes(buf)

    def _too_large(self, what: str) -> ArgoError:
        return ArgoError(f"{what} is larger than {self.max_bytes >> 20} MiB, the most heraspec reads of one "
                         f"answer or stream line; stopped reading (raise the limit with {MAX_BYTES_ENV}=<MiB> "
                         "if the server is right to send that much)")

    # -- newline-delimited JSON streams (watch, logs) -----------------------------------------

    def stream(self, path: str, params: Mapping[str, str], *, read_timeout: float | None) -> Iterator[dict]:
        """Yield each `result` of a grpc-gateway stream. A break raises ArgoError(transient=True);
        an `error` line raises it with Argo's message; a line over `max_bytes` raises it
        (not transient: reconnecting would read it again). Closing the generator closes the socket."""
        import httpx

        timeout = httpx.Timeout(read_timeout, connect=self.connect_timeout)
        try:
            with self._http.stream("GET", path, params=params, timeout=timeout) as resp:
                self.log(f"argo: GET {path} (stream) -> {resp.status_code}")
                self._refuse_redirect(resp, f"GET {path}")
                if resp.status_code >= 400:
                    raw = self._read_capped(resp, MAX_ERROR_BODY)
                    if raw is None:
                        raise ArgoError(f"HTTP {resp.status_code} from the Argo server with an error body larger "
                                        f"than {MAX_ERROR_BODY >> 20} MiB (not read)", status=resp.status_code)
                    raise self._http_error(resp.status_code, resp.headers.get("content-type", ""),
                                           raw.decode("utf-8", "replace"))
                for line in self._lines(resp, f"a line of the stream from {path}"):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError:
                        raise ArgoError(f"unreadable line in the stream from {path}: "
                                        f"{self._snippet(line.decode('utf-8', 'replace'))}", transient=True) from None
                    if isinstance(item, dict) and isinstance(item.get("error"), dict):
                        err = item["error"]
                        raise ArgoError(self.shown(err.get("message", err)), status=err.get("http_code"),
                                        code=err.get("grpc_code"))
                    if isinstance(item, dict) and isinstance(item.get("result"), dict):
                        yield item["result"]
        except httpx.HTTPError as e:
            raise self._transport_error(e, during="stream from " + path) from None

    def _lines(self, resp: Any, what: str) -> Iterator[bytes]:
        """Newline-separated lines, none longer than `max_bytes` (an endless line is refused, not
        buffered). Each byte is searched once, so a long line costs linear time."""
        buf, searched = bytearray(), 0
        for chunk in resp.iter_bytes():
            buf += chunk
            while True:
                end = buf.find(b"\n", searched)
                if end < 0:
                    searched = len(buf)
                    break
                yield bytes(buf[:end])
                del buf[:end + 1]
                searched = 0
            if len(buf) > self.max_bytes:
                raise self._too_large(what)
        if buf:
            yield bytes(buf)

    # -- error shaping ------------------------------------------------------------------------

    def _snippet(self, text: str, limit: int = 200) -> str:
        text = " ".join(text[:limit * 4].split())
        return self.redact(printable(repr(text[:limit] + ("..." if len(text) > limit else ""))))

    def _http_error(self, status: int, content_type: str, text: str) -> ArgoError:
        transient = status in TRANSIENT_STATUS
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and ("message" in data or "code" in data):
            code = data.get("code") if isinstance(data.get("code"), int) else None
            message = data.get("message") or data.get("error") or GRPC_CODES.get(code or 2, "error")
            return ArgoError(self.shown(message), status=status, code=code, transient=transient)
        kind = (content_type.split(";")[0] or "no content type") if text.strip() else "empty"
        detail = f" ({kind} body: {self._snippet(text)})" if text.strip() else " (empty body)"
        hint = "; is ARGO_SERVER / ARGO_BASE_HREF pointing at the Argo Server?" if status in (404, 405) else ""
        return ArgoError(f"HTTP {status} from the Argo server without an Argo error message{detail}{hint}",
                         status=status, transient=transient)

    def _transport_error(self, exc: Exception, during: str = "") -> ArgoError:
        import httpx

        url = self.connection.base_url
        detail = self.shown(str(exc) or type(exc).__name__)
        hint = ""
        if isinstance(exc, httpx.ConnectError) and ("SSL" in detail or "certificate" in detail.lower()):
            hint = ("; TLS failed: for a self-signed certificate pass --ca-cert or set "
                    "ARGO_INSECURE_SKIP_VERIFY=true, for a plain-HTTP server set ARGO_SECURE=false")
        elif isinstance(exc, httpx.ConnectError):
            hint = "; is the server running (kubectl -n argo port-forward svc/argo-server 2746:2746)?"
        what = f"{during} failed" if during else f"cannot reach the Argo server at {url}"
        # timeouts, resets, refused connections: worth another try; TLS and protocol mistakes are not
        transient = (isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))
                     and not hint.startswith("; TLS"))
        return ArgoError(f"{what} ({type(exc).__name__}: {detail}){hint}", transient=transient)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def _max_bytes_from_env() -> int:
    raw = os.environ.get(MAX_BYTES_ENV, "")
    try:
        mb = int(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        raise UsageError(f"{MAX_BYTES_ENV} must be a whole number of MiB, not {printable(repr(raw))}") from None
    if mb < 1:
        raise UsageError(f"{MAX_BYTES_ENV} must be at least 1 (MiB)")
    return mb << 20
