"""One thread copies every running task's stdout and stderr to its log files and its line sink.

    pumps = Pumps(); copy = pumps.add(pipe, log, on_line); ...; copy.wait(timeout) -> bool

Two reader threads per task cost more than a small task itself: each `Thread.start()` waits for
the new thread to take the GIL. Here one thread (started on demand, gone after a second with
nothing to read) waits on all the pipes at once. Each pipe is copied to its log byte for byte as it
arrives (flushed, so a log shows what a task printed so far), and each line is handed to the sink
decoded, after a carriage return only the text a terminal would show; a last line without a
newline is handed over at end of file. A line longer than LINE_LIMIT is handed over cut there
(the log keeps it whole): what the copy holds is bounded, whatever the task prints.

`Pumps.drop(copy)` stops copying a pipe before its end of file: a finished task's pipe that a
process it left behind still holds (see attempt.py).
"""

from __future__ import annotations

import os
import selectors
import threading
from typing import IO, Callable

__all__ = ["Copy", "Pumps"]

_IDLE_S = 1.0  # the thread ends after this long with no pipe to read, and starts again when needed
LINE_LIMIT = 64 * 1024  # bytes of one line handed to the sink; the rest of the line goes only to the log
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes a dropped copy still reads from what its pipe holds
CUT = " … (line cut at 64 KiB: the log has it whole)"


class Copy:
    """One pipe being copied; done at its end of file."""

    def __init__(self, pipe: IO[bytes], log: IO[bytes], on_line: Callable[[str], None]):
        self.pipe, self.log, self.on_line = pipe, log, on_line
        self.partial: list[bytes] = []  # the pieces of an unfinished line, at most LINE_LIMIT bytes
        self.held = 0  # their length
        self.cut = False  # the unfinished line is longer than LINE_LIMIT: the rest is dropped
        self._done = threading.Event()
        try:  # the pipe's identity: /proc/PID/fd of every process holding either end shows it
            self.inode = os.fstat(pipe.fileno()).st_ino
        except (OSError, ValueError):
            self.inode = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def feed(self, data: bytes) -> None:
        try:
            self.log.write(data)
            self.log.flush()
        except (OSError, ValueError):  # a full disk, a closed log: the lines are still shown
            pass
        start = 0
        while True:
            end = data.find(b"\n", start)
            piece = data[start:] if end < 0 else data[start:end]
            if not self.cut:  # kept in pieces, so a long line costs its length once, up to LINE_LIMIT
                room = LINE_LIMIT - self.held
                if len(piece) > room:
                    piece, self.cut = piece[:room], True
                if piece:
                    self.partial.append(piece)
                    self.held += len(piece)
            if end < 0:
                return
            self._flush_line()
            start = end + 1

    def _flush_line(self) -> None:
        raw, cut = b"".join(self.partial), self.cut
        self.partial, self.held, self.cut = [], 0, False
        self._emit(raw, CUT if cut else "")

    def drain(self, limit: int = DRAIN_LIMIT) -> None:
        """Copy what the pipe already holds, without waiting for more (at most `limit` bytes): a copy
        dropped because something still holds the pipe keeps every byte the task wrote before, even when
        this thread got no CPU during the grace."""
        try:
            fd = self.pipe.fileno()
            os.set_blocking(fd, False)
            while limit > 0:
                data = os.read(fd, min(65536, limit))
                if not data:
                    return
                self.feed(data)
                limit -= len(data)
        except (BlockingIOError, OSError, ValueError):
            pass

    def end(self) -> None:
        try:
            if self.partial:
                self._flush_line()
            self.pipe.close()
        finally:
            self._done.set()

    def _emit(self, raw: bytes, tail: str = "") -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        try:
            self.on_line(text.rsplit("\r", 1)[-1] + tail)
        except Exception:  # noqa: BLE001  the display failing must not stop the copy to the log
            pass


class Pumps:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._new: list[Copy] = []
        self._thread: threading.Thread | None = None
        self._wake = (-1, -1)  # the thread's own pipe, to wake it when a pipe is added
        self._dropped: list[Copy] = []  # copies to end before their end of file (drop)

    def add(self, pipe: IO[bytes], log: IO[bytes], on_line: Callable[[str], None]) -> Copy:
        copy = Copy(pipe, log, on_line)
        with self._lock:
            self._new.append(copy)
            if self._thread is None:
                wake = os.pipe()
                os.set_blocking(wake[1], False)
                thread = threading.Thread(target=self._loop, args=(wake[0],), name="heraspec-output", daemon=True)
                try:
                    thread.start()
                except BaseException:  # no thread to be had: this task fails (execute), the next may start one
                    self._new.remove(copy)
                    os.close(wake[0])
                    os.close(wake[1])
                    raise
                self._thread, self._wake = thread, wake
            else:
                try:
                    os.write(self._wake[1], b"x")
                except BlockingIOError:  # already woken
                    pass
        return copy

    def drop(self, copy: Copy) -> None:
        """Stop copying this pipe now (its copy ends as at end of file): a process the task left
        behind may hold the pipe open for ever."""
        with self._lock:
            if copy.done:
                return
            if copy in self._new or self._thread is None:
                if copy in self._new:
                    self._new.remove(copy)
                copy.drain()
                copy.end()
                return
            self._dropped.append(copy)
            try:
                os.write(self._wake[1], b"x")
            except BlockingIOError:
                pass

    def _loop(self, wake: int) -> None:
        sel = selectors.DefaultSelector()
        sel.register(wake, selectors.EVENT_READ)
        copies = 0
        try:
            while True:
                with self._lock:
                    if copies == 0 and not self._new:
                        if self._idle(sel, wake):
                            self._thread = None
                            os.close(self._wake[1])
                            os.close(wake)
                            return
                    for c in self._new:  # (after _idle too: what it woke for)
                        sel.register(c.pipe.fileno(), selectors.EVENT_READ, c)
                    copies += len(self._new)
                    self._new.clear()
                    for c in self._dropped:
                        if not c.done:
                            sel.unregister(c.pipe.fileno())
                            copies -= 1
                            c.drain()
                            c.end()
                    self._dropped.clear()
                for key, _ in sel.select():
                    if key.data is None:
                        os.read(wake, 4096)
                        continue
                    copy: Copy = key.data
                    if copy.done:  # dropped while this select ran
                        continue
                    try:
                        data = os.read(key.fd, 65536)
                    except OSError:
                        data = b""
                    if data:
                        copy.feed(data)
                    else:
                        sel.unregister(key.fd)
                        copies -= 1
                        copy.end()
        except BaseException:
            # never leave a task waiting on a copy that cannot end: end them all, and let the next add
            # start a new thread
            with self._lock:
                ending = [k.data for k in sel.get_map().values() if k.data is not None] + self._new
                self._new, self._dropped, self._thread = [], [], None
                for fd in self._wake:
                    os.close(fd)
            for c in ending:
                c.end()
            raise
        finally:
            sel.close()

    def _idle(self, sel: selectors.BaseSelector, wake: int) -> bool:
        """With the lock held and nothing to read: True to end the thread (nothing came for a while)."""
        self._lock.release()
        try:
            if sel.select(_IDLE_S):
                os.read(wake, 4096)
        finally:
            self._lock.acquire()
        return not self._new
