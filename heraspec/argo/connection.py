"""Where and how to reach the Argo Server, following the argo CLI's conventions: options over
ARGO_SERVER / ARGO_SECURE / ARGO_INSECURE_SKIP_VERIFY / ARGO_BASE_HREF / ARGO_NAMESPACE / ARGO_TOKEN.

Bad options are a UsageError (no server, unreadable token file or CA bundle). The bearer token is a
secret: it is kept out of every repr, and `redact` / `shown` hide it in any text heraspec prints,
including messages the server echoes back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import UsageError
from ..document.patterns import NAME_HINT, namespace_problem
from ..textsafe import printable

DEFAULT_NAMESPACE = "argo"
MIN_TOKEN_CHARS = 8  # shorter cannot be a real credential, and its redaction would garble output


def _secure(value: str | None) -> tuple[bool | None, str | None]:
    """ARGO_SECURE as the argo CLI reads it: plain HTTP only for the exact string `false`
    (AddAPIClientFlagsToCmd: `os.Getenv("ARGO_SECURE") != "false"`); any other value keeps TLS, so
    a token is never sent in clear because of a spelling, with a warning when it looked like a no."""
    if value is None or value == "":
        return None, None
    if value == "false":
        return False, None
    if value.strip().lower() in ("false", "0", "f", "no", "n", "off"):
        return True, (f"warning: ARGO_SECURE={printable(repr(value))} is not 'false' (the only value the argo CLI "
                      "reads as plain HTTP); using TLS")
    return True, None


def _insecure_skip_verify(value: str | None) -> tuple[bool, str | None]:
    """ARGO_INSECURE_SKIP_VERIFY as the argo CLI reads it: only the exact string `true` turns
    certificate checks off (cmd/argo/commands/client/conn.go, AddAPIClientFlagsToCmd, v4.1.2:
    `os.Getenv("ARGO_INSECURE_SKIP_VERIFY") == "true"`). Anything else keeps them on — a typo
    (`flase`, `n`, `" "`) must never weaken TLS — with a warning when the value is not a plain
    "no"."""
    if value is None or value == "" or value == "true":
        return value == "true", None
    if value.strip().lower() in ("false", "0", "f", "no", "n", "off"):
        return False, None
    return False, (f"warning: ARGO_INSECURE_SKIP_VERIFY={printable(repr(value))} is not 'true' (the only value the "
                   "argo CLI accepts); TLS certificate verification stays on")


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the Argo Server; built by `Connection.resolve` from options and env."""

    base_url: str
    verify_tls: bool = True
    ca_cert: str | None = None
    # for manifests without metadata.namespace: namespace= / -n, else ARGO_NAMESPACE, else "argo"
    default_namespace: str = DEFAULT_NAMESPACE
    authorization: str | None = field(default=None, repr=False)
    # where default_namespace came from, to say so: "namespace option", "ARGO_NAMESPACE" or "default"
    namespace_source: str = "default"
    warnings: tuple[str, ...] = ()  # about the options themselves; the client prints them once

    @classmethod
    def resolve(
        cls,
        *,
        server: str | None = None,
        secure: bool | None = None,
        insecure_skip_verify: bool | None = None,
        ca_cert: str | None = None,
        base_href: str | None = None,
        namespace: str | None = None,
        token: str | None = None,
        token_file: str | None = None,
        env: Mapping[str, str] | None = None,
        require_server: bool = True,
    ) -> "Connection":
        """``require_server=False`` (a client dry run, which sends nothing) accepts no server."""
        env = os.environ if env is None else env
        server = server or env.get("ARGO_SERVER")
        if not server and not require_server:
            server = "argo-server.invalid"  # never contacted; only request paths are shown
        if not server:
            raise UsageError("no Argo server given: set ARGO_SERVER=host:port or pass --server")
        warnings = []
        if secure is None and "://" not in server:
            secure, warning = _secure(env.get("ARGO_SECURE"))
            warnings += [warning] if warning else []
        if "://" in server:  # a full URL: its scheme decides TLS
            scheme, _, rest = server.partition("://")
            if scheme not in ("http", "https"):
                raise UsageError(f"unsupported scheme in Argo server {server!r}: use http or https")
            secure, server = scheme == "https", rest
        if secure is None:
            secure = True
        if insecure_skip_verify is None:
            insecure_skip_verify, warning = _insecure_skip_verify(env.get("ARGO_INSECURE_SKIP_VERIFY"))
            warnings += [warning] if warning else []
        host, _, path = server.partition("/")
        href = base_href if base_href is not None else env.get("ARGO_BASE_HREF", "")
        prefix = "/".join(p for p in (path.strip("/"), href.strip("/")) if p)
        base_url = f"{'https' if secure else 'http'}://{host}" + (f"/{prefix}" if prefix else "")
        if ca_cert and not os.path.isfile(ca_cert):
            raise UsageError(f"CA bundle {ca_cert!r} is not a readable file")
        default_namespace = namespace or env.get("ARGO_NAMESPACE") or DEFAULT_NAMESPACE
        if problem := namespace_problem(default_namespace):
            source = "namespace" if namespace else "ARGO_NAMESPACE"
            raise UsageError(f"{source}: {problem} ({NAME_HINT}, at most 63 characters)")
        return cls(
            base_url=base_url,
            verify_tls=not insecure_skip_verify,
            ca_cert=ca_cert,
            default_namespace=default_namespace,
            authorization=_authorization(token, token_file, env),
            namespace_source="namespace option" if namespace else "ARGO_NAMESPACE" if env.get("ARGO_NAMESPACE")
            else "default",
            warnings=tuple(warnings),
        )

    def ui_url(self, namespace: str, name: str) -> str:
        """The Argo UI page of a Workflow (the UI is served with the API, under the same base href)."""
        return f"{self.base_url}/workflows/{namespace}/{name}"

    def namespace_for(self, manifest: Mapping[str, Any]) -> str:
        return (manifest.get("metadata") or {}).get("namespace") or self.default_namespace

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings to scrub from any text we show: the header value and the bare token."""
        if not self.authorization:
            return ()
        bare = self.authorization.partition(" ")[2] or self.authorization
        return tuple(sorted({self.authorization, bare}, key=len, reverse=True))


def _authorization(token: str | None, token_file: str | None, env: Mapping[str, str]) -> str | None:
    if token is None and token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read()
        except OSError as e:  # the message names the file, never its content
            raise UsageError(f"cannot read token file {token_file!r}: {e.strerror}") from None
    if token is None:
        token = env.get("ARGO_TOKEN")
    token = (token or "").strip()
    if not token:
        return None
    # `argo auth token` prints "Bearer ..."; a bare token (kubectl create token) gets the scheme
    value = token if token.split(" ", 1)[0] in ("Bearer", "Basic") else f"Bearer {token}"
    if not value.isascii() or any(c in value for c in "\r\n\t") or not value.isprintable():
        raise UsageError("the Argo token contains characters that cannot be sent in an HTTP header")
    bare = value.partition(" ")[2].strip()
    if len(bare) < MIN_TOKEN_CHARS:
        # it is hidden in everything heraspec prints: one that short would blank ordinary words
        raise UsageError(f"the Argo token is {len(bare)} characters long, too short to be a real token "
                         f"(at least {MIN_TOKEN_CHARS}); check ARGO_TOKEN / --token / --token-file")
    return value


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def shown(text: Any, secrets: tuple[str, ...], *, keep_lines: bool = False) -> str:
    """Server text made fit to print: control characters neutralised, then the token hidden
    (in that order, so an escape cannot split the token past the redaction)."""
    return redact(printable(text, keep_lines=keep_lines), secrets)
