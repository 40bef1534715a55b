"""New connections to the channels' socket: accepted as they come, and a rest when out of descriptors.

Out of descriptors, the listener would be ready again at once, for ever: it is
taken out of the selector for ``REST_NS`` and put back when a read comes after.
A process that connects meanwhile is not stalled (its connect is done); its
records wait in its socket.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
from collections.abc import Callable

from mpviz.runtime.trust import Trust
from mpviz.telemetry import now_ns

# Out of descriptors: the listener rests this long before it accepts again.
REST_NS = 500_000_000


class Listening:
    """``take(sock)`` is called with each connection accepted; the selector and its lock are the channels'."""

    def __init__(
        self,
        listener: socket.socket,
        selector: selectors.BaseSelector,
        lock: threading.Lock,
        trust: Trust,
        take: Callable[[socket.socket], object],
    ) -> None:
        self.listener = listener
        self._selector, self._lock, self._trust, self._take = selector, lock, trust, take
        self._resting_until = 0  # out of descriptors: the listener rests until then
        selector.register(listener, selectors.EVENT_READ, listener)

    def accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._rest()
                return
            self._take(sock)

    def wait(self, timeout: float) -> float:
        """How long a read may wait (the listener back once its rest is over)."""
        if not self._resting_until:
            return timeout
        left = self._resting_until - now_ns()
        if left > 0:
            return min(timeout, left / 1e9)
        self._resting_until = 0
        with self._lock:
            self._selector.register(self.listener, selectors.EVENT_READ, self.listener)
        return timeout

    def _rest(self) -> None:
        self._trust.refused["connections"] += 1
        if not self._resting_until:
            with self._lock:
                self._selector.unregister(self.listener)
        self._resting_until = now_ns() + REST_NS
