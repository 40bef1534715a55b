"""Pipe: multiprocessing's own Connection ends, reporting every message.

An end is a ``multiprocessing.connection.Connection`` subclass, so the whole
API (``send_bytes``, ``recv_bytes_into``, ``poll``, ``fileno`` …), its errors
and ``multiprocessing.connection.wait`` are multiprocessing's.  It pickles
like one, and unpickles as ours.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing import connection, reduction

from mpviz.sync import turns
from mpviz.sync.base import GLANCE, item_text, pass_as_theirs, readable
from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say
from mpviz.sync.turns import GO, resume, turn
from mpviz.telemetry import now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any

# What a record shows of a message sent as bytes.
_BYTES_SHOWN = 64


class Connection(connection.Connection):
    """One end of a ``Pipe``: ``end`` is 0 or 1, ``id`` the pipe's."""

    id: str = ""
    name: str = ""
    end: int = 0
    # multiprocessing's checks (typeshed does not declare them)
    _check_closed: Callable[[], None]
    _check_readable: Callable[[], None]

    def send(self, obj: Any) -> None:
        if turns.on:
            turn("pipe.send", self.id, {"end": self.end})
        t = now_ns()
        super().send(obj)
        say("pipe.send", self.id, {"end": self.end, "item": item_text(obj)}, t_ns=t)

    def send_bytes(self, buf: Any, offset: int = 0, size: int | None = None) -> None:
        if turns.on:
            turn("pipe.send", self.id, {"end": self.end})
        t = now_ns()
        super().send_bytes(buf, offset, size)
        say("pipe.send", self.id, {"end": self.end, "item": item_text(_head(buf, offset, size))}, t_ns=t)

    def _wait_for_data(self) -> bytes:
        """Take the receive's turn, and report it if it has to wait (multiprocessing's errors for a
        closed or write-only end stand); the scheduler's answer."""
        answer = turn("pipe.recv", self.id, {"end": self.end}) if turns.on else GO
        self._check_closed()  # multiprocessing's checks, and its errors
        self._check_readable()
        if not readable(self.fileno(), GLANCE):
            say("pipe.recv_blocked", self.id, {"end": self.end})
        return answer

    def recv(self) -> Any:
        answer = self._wait_for_data()
        obj = super().recv()
        say("pipe.recv", self.id, {"end": self.end, "item": item_text(obj)})
        resume(answer, self.id, "pipe.recv")
        return obj

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        answer = self._wait_for_data()
        data = super().recv_bytes(maxlength)
        say("pipe.recv", self.id, {"end": self.end, "item": item_text(data[:_BYTES_SHOWN])})
        resume(answer, self.id, "pipe.recv")
        return data

    def recv_bytes_into(self, buf: Any, offset: int = 0) -> int:
        answer = self._wait_for_data()
        size = super().recv_bytes_into(buf, offset)
        say("pipe.recv", self.id, {"end": self.end, "item": item_text(_head(buf, offset, size))})
        resume(answer, self.id, "pipe.recv")
        return size


def _head(buf: Any, offset: int, size: int | None) -> bytes:
    """The first bytes of a message, as ``send_bytes`` counts them (a buffer it accepted, so no error here)."""
    with memoryview(buf) as view, view.cast("B") if view.itemsize > 1 else view as octets:
        end = octets.nbytes if size is None else offset + size
        return bytes(octets[offset : min(end, offset + _BYTES_SHOWN)])


def _take(conn: connection.Connection, prim_id: str, name: str, end: int) -> Connection:
    """Ours, on the descriptor of one of multiprocessing's ends (which lets go of it, so never closes it)."""
    handle = conn.fileno()
    conn._handle = None  # type: ignore[attr-defined]
    return _make(handle, conn.readable, conn.writable, prim_id, name, end)


def _make(handle: int, readable: bool, writable: bool, prim_id: str, name: str, end: int) -> Connection:
    conn = Connection(handle, readable, writable)
    conn.id, conn.name, conn.end = prim_id, name, end
    return conn


def Pipe(duplex: bool = True, *, name: str | None = None) -> tuple[Connection, Connection]:  # noqa: N802 - mirrors multiprocessing.Pipe
    """``multiprocessing.Pipe``: two connected ends (end 0 only receives when ``duplex`` is false)."""
    a, b = connection.Pipe(duplex)
    prim_id, name = new_prim("pipe", name, duplex=duplex)
    return _take(a, prim_id, name, 0), _take(b, prim_id, name, 1)


def _rebuild(dup: Any, readable: bool, writable: bool, prim_id: str, name: str, end: int) -> Connection:
    return _make(dup.detach(), readable, writable, prim_id, name, end)


def _reduce(conn: Connection) -> tuple[Any, ...]:
    # multiprocessing.connection.reduce_connection, keeping what makes it ours.
    dup = reduction.DupFd(conn.fileno())
    return _rebuild, (dup, conn.readable, conn.writable, conn.id, conn.name, conn.end)


reduction.register(Connection, _reduce)


# What a program gets passes for multiprocessing's own (see base.pass_as_theirs).
pass_as_theirs(Connection)
