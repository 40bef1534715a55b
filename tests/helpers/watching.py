"""Records of this process and of every process it starts, read as the dashboard reads them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mpviz.runtime.channels import Channels
from mpviz.sync import boot
from mpviz.telemetry import Event, install_reporter, now_ns, uninstall_reporter
from mpviz.telemetry.reporter import SocketReporter


class Records:
    """What the reader got so far; thread-safe."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def extend(self, events: list[Event]) -> None:
        with self._lock:
            self.events.extend(events)

    def of(self, kind: str, obj: str | None = None) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.kind == kind and (obj is None or e.obj == obj)]

    def wait_for(self, kind: str, n: int, obj: str | None = None, timeout: float = 30) -> list[Event]:
        """At least ``n`` records of ``kind`` (about ``obj``), once they have come."""
        deadline = time.monotonic() + timeout
        while len(got := self.of(kind, obj)) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} {kind} records, not {n}")
            time.sleep(0.02)
        return got


@contextmanager
def watching() -> Iterator[Records]:
    """This process reports to a socket like the dashboard's, and so does every process it starts."""
    channels = Channels(lambda pid: Event(now_ns(), pid, "proc.exit", "", {"code": None}))
    got = Records()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            got.extend(channels.read(0.05))

    reader = threading.Thread(target=read, name="records", daemon=True)
    reader.start()
    reporter = SocketReporter(channels.endpoint)
    install_reporter(reporter)
    outside, boot.current = boot.current, boot.Setup(endpoint=channels.endpoint)
    try:
        yield got
    finally:
        boot.current = outside
        uninstall_reporter()
        reporter.flush()
        stop.set()
        reader.join(5)
        got.extend(channels.flush())
        channels.close()
