"""A small Language Server Protocol client for tests: JSON-RPC 2.0 over stdio, Content-Length framing.

It starts a real server as a subprocess, reads its messages on a background thread, answers the
requests servers send to clients (`workspace/configuration`, `client/registerCapability`, ...)
and lets a test wait, with a timeout, for a response or a notification. Every wait has a timeout,
so a hung server fails the test instead of hanging CI.

    with LspClient(["node", SERVER, "--stdio"], settings={"yaml": {...}}) as lsp:
        lsp.initialize(root_uri)
        lsp.open(uri, "yaml", text)
        lsp.notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
        items = lsp.request("textDocument/completion", {...})
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

TIMEOUT = 30.0  # seconds for any one answer; generous, the servers answer in well under a second


class LspError(RuntimeError):
    """The server answered with an error, died, or did not answer in time."""


class LspClient:
    def __init__(self, command: Sequence[str], *, settings: dict | None = None, cwd: str | None = None,
                 timeout: float = TIMEOUT):
        self.settings = settings or {}
        self.timeout = timeout
        self.proc = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=cwd)
        self._write_lock = threading.Lock()
        self._next_id = 0
        self._responses: dict[int, queue.Queue] = {}
        self._notifications: list[dict] = []
        self._cond = threading.Condition()
        self._stderr: list[bytes] = []
        self._closed = False
        threading.Thread(target=self._read_loop, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # --- context management -------------------------------------------------------------------

    def __enter__(self) -> "LspClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
                self.proc.wait(timeout=5)
        except (LspError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    # --- the protocol -------------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        with self._write_lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def request(self, method: str, params: Any, *, timeout: float | None = None) -> Any:
        with self._cond:
            self._next_id += 1
            rid = self._next_id
            box: queue.Queue = queue.Queue()
            self._responses[rid] = box
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        try:
            msg = box.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise LspError(f"no answer to {method} within {timeout or self.timeout}s{self._stderr_tail()}") from None
        if msg is None:
            raise LspError(f"the server exited before answering {method}{self._stderr_tail()}")
        if "error" in msg:
            raise LspError(f"{method} failed: {msg['error']}")
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def notification(self, method: str, match: Callable[[dict], bool] = lambda p: True, *,
                     timeout: float | None = None) -> dict:
        """The params of the first notification `method` (received so far or later) that `match`es."""
        limit = timeout or self.timeout
        with self._cond:
            found = self._cond.wait_for(lambda: self._find(method, match) is not None or self._dead(), timeout=limit)
            hit = self._find(method, match)
        if hit is not None:
            return hit
        why = "the server exited" if found else f"nothing within {limit}s"
        raise LspError(f"no {method} notification: {why}{self._stderr_tail()}")

    def _find(self, method: str, match: Callable[[dict], bool]) -> dict | None:
        for n in self._notifications:
            if n.get("method") == method and match(n.get("params") or {}):
                return n.get("params") or {}
        return None

    def _dead(self) -> bool:
        return self.proc.poll() is not None

    # --- conveniences for tests -------------------------------------------------------------------

    def initialize(self, root: Path) -> dict:
        caps = {
            "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": True},
                          "workspaceFolders": True},
            "textDocument": {
                "synchronization": {"dynamicRegistration": False},
                "completion": {"completionItem": {"snippetSupport": True,
                                                  "documentationFormat": ["markdown", "plaintext"]}},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "publishDiagnostics": {"relatedInformation": True},
            },
        }
        result = self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(), "capabilities": caps,
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "initializationOptions": {},
        })
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": self.settings})
        return result

    def open(self, uri: str, language: str, text: str) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language,
                                                              "version": 1, "text": text}})

    # --- the reader ---------------------------------------------------------------------------

    def _answer_server_request(self, msg: dict) -> None:
        method, params = msg["method"], msg.get("params") or {}
        if method == "workspace/configuration":
            result: Any = [self.settings.get(item.get("section", ""), None) for item in params.get("items", [])]
        elif method == "workspace/workspaceFolders":
            result = []
        else:  # client/registerCapability, window/workDoneProgress/create, ...: accept
            result = None
        self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                if length is None:
                    continue
                msg = json.loads(out.read(length).decode("utf-8"))
                if "method" in msg and "id" in msg:
                    self._answer_server_request(msg)
                elif "method" in msg:
                    with self._cond:
                        self._notifications.append(msg)
                        self._cond.notify_all()
                elif "id" in msg:
                    with self._cond:
                        box = self._responses.pop(msg["id"], None)
                    if box is not None:
                        box.put(msg)
        except (OSError, ValueError):
            return
        finally:
            with self._cond:
                for box in self._responses.values():
                    box.put(None)
                self._responses.clear()
                self._cond.notify_all()

    def _drain_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in iter(err.readline, b""):
            self._stderr.append(line)
            del self._stderr[:-50]

    def _stderr_tail(self) -> str:
        tail = b"".join(self._stderr[-10:]).decode("utf-8", "replace").strip()
        return f"\nserver stderr:\n{tail}" if tail else ""
