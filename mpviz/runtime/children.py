"""A child of the supervisor as the supervisor holds it: what it must be (``Supervised``), what
the dashboard calls it (``Child``), and how its end is waited for and its exit code read
(``ended``, ``reap``)."""

from __future__ import annotations

import selectors
import threading
import time
from typing import Protocol


class Supervised(Protocol):
    """A child of the supervisor: a lesson's process, or a watched program's main."""

    @property
    def pid(self) -> int: ...

    @property
    def sentinel(self) -> int: ...

    @property
    def exitcode(self) -> int | None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def kill(self) -> None: ...

    def close(self) -> None: ...


class Child:
    """A child of the supervisor, and what the dashboard calls it.  (Not a dataclass: a run's start pays
    for each one made, see mpviz.value.)"""

    __slots__ = ("label", "process", "role")

    def __init__(self, process: Supervised, role: str, label: str) -> None:
        self.process, self.role, self.label = process, role, label


def ended(sentinels: list[int], timeout: float | None) -> list[int]:
    """The sentinels readable within ``timeout`` s (their processes ended), as
    ``multiprocessing.connection.wait`` answers for descriptors, without its import (~4 ms
    beside a program's start)."""
    with selectors.PollSelector() as selector:
        for fd in sentinels:
            selector.register(fd, selectors.EVENT_READ)
        return [key.fd for key, _ in selector.select(timeout)]


def reap(process: Supervised, lock: threading.Lock, timeout: float | None = None) -> int | None:
    """The exit code of a child, once it has ended (None: still running).

    Waits on the sentinel, then asks under ``lock``: two threads calling
    ``waitpid`` for the same child race, and the loser sees no exit code at all.
    The sentinel fires a moment before the child can be reaped, hence the retries.
    """
    if not ended([process.sentinel], timeout):
        return None
    deadline = time.monotonic() + 1.0
    while True:
        with lock:
            code = process.exitcode
        if code is not None or time.monotonic() > deadline:
            return code
        time.sleep(0.001)
