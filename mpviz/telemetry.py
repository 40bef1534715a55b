"""The event record, the per-process reporter and the wire format of a channel.

Every process that takes part in a lesson reports what it does as small flat
records, ``Event(t_ns, pid, kind, obj, data)``:

* ``t_ns`` — ``time.monotonic_ns()``, system-wide on Linux, so records from
  different processes can be put in one order;
* ``pid`` — the process the record is about (the reporter itself, except for
  the ``proc.*`` records that a parent writes about its child);
* ``kind`` — a dotted name: ``lock.acquired``, ``queue.put``, ``proc.state`` …;
* ``obj`` — the primitive or state the record concerns (``"rooms"``,
  ``"singing"``);
* ``data`` — a small dict of plain values.

A child writes its records to its own one-way pipe (a
``multiprocessing.connection.Connection``); the dashboard reads all pipes in
one thread.  This module holds only the record, the wire format and the
process-wide reporter: it imports nothing but the standard library, because
every child imports it.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

# A pipe write of at most PIPE_BUF bytes is atomic on POSIX: a record can never
# be torn by a writer killed or stopped mid-write, and several processes (a
# lesson process and the processes it starts itself) may share one pipe.
# ``Connection.send_bytes`` adds a 4-byte header and writes both in one call.
MAX_RECORD_BYTES = 4096 - 4

# The longest text a record carries for an item, a message or an error.
MAX_TEXT = 200


class Event(NamedTuple):
    t_ns: int
    pid: int
    kind: str
    obj: str
    data: dict[str, Any]


def now_ns() -> int:
    return time.monotonic_ns()


def short(value: object) -> str:
    """A bounded, printable form of an item for a record."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


# --- the process-wide reporter ----------------------------------------------

Reporter = Callable[[Event], None]


def _discard(event: Event) -> None:
    """Reporter of a process that nobody watches: primitives still work."""


_reporter: Reporter = _discard


def install_reporter(reporter: Reporter) -> None:
    global _reporter
    _reporter = reporter


def uninstall_reporter() -> None:
    install_reporter(_discard)


def emit(
    kind: str, obj: str = "", data: dict[str, Any] | None = None, *, t_ns: int | None = None, pid: int | None = None
) -> None:
    """Send one record through this process's reporter.

    ``obj`` may be a ``StrEnum`` member (a lesson's words): it travels as the
    plain string, so that no reader has to import the lesson to read it.
    """
    _reporter(
        Event(now_ns() if t_ns is None else t_ns, os.getpid() if pid is None else pid, kind, str(obj), data or {})
    )


def report(state: str, **data: Any) -> None:
    """Say what this process is doing now, in words ("singing", "bought a ticket").

    This is the one call lesson code makes besides using the primitives: it
    names the states the lesson is about.
    """
    emit("proc.state", state, data)


# --- the wire ---------------------------------------------------------------


# A record on the wire is ``marshal`` of the plain tuple: fast, and unlike
# pickle it cannot make the dashboard import or run anything, whatever a
# watched program writes on its connection.  Every process of a run is the
# same interpreter, so the format is the same at both ends.

PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """``value`` made of plain types only (anything else as its short repr)."""
    if type(value) in PLAIN:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return short(value)


def encode(event: Event) -> bytes:
    try:
        payload = marshal.dumps(tuple(event))
    except ValueError:  # a value of a type marshal does not know (an enum, a user's class)
        payload = marshal.dumps((*event[:4], _plain(event.data)))
    if len(payload) > MAX_RECORD_BYTES:
        # Keep the record, drop what made it too big.
        payload = marshal.dumps((*event[:4], {"truncated": True}))
    return payload


def frame(event: Event) -> bytes:
    """The record with its length in front, as it goes down a connection."""
    payload = encode(event)
    return _LENGTH.pack(len(payload)) + payload


_LENGTH = struct.Struct("!I")
HEADER = _LENGTH.size


class Malformed(ValueError):
    """A record on a channel that is not a valid event."""


def decode(payload: bytes) -> Event:
    try:
        value = marshal.loads(payload)
    except (ValueError, EOFError, TypeError) as exc:  # all mean "malformed"
        raise Malformed(f"undecodable record: {exc.__class__.__name__}") from exc
    return validate(value)


def validate(value: Any) -> Event:
    if (
        isinstance(value, (tuple, list))
        and len(value) == 5
        and type(value[0]) is int
        and type(value[1]) is int
        and isinstance(value[2], str)
        and isinstance(value[3], str)
        and isinstance(value[4], dict)
    ):
        return Event(*value)
    raise Malformed(f"not an event: {short(value)}")


# Where a process sends its records: the dashboard's socket, named in the
# environment of a watched program (a lesson's processes get it in their config).
ENDPOINT_ENV = "MPVIZ_ENDPOINT"
# A watched program's speed: the path of a file holding one double, mapped by every process.
SPEED_ENV = "MPVIZ_SPEED_FILE"

# What a process keeps while the dashboard cannot take its records; past
# this, records are dropped and counted, never waited for.
BACKLOG_BYTES = 4 << 20

# How long a process's last act waits for the dashboard to take what is left.
LAST_FLUSH_S = 2.0


def lost_note(endpoint: str, pid: int, n: int | None = None) -> str:
    """The note of records a process could not send before it ended (written if ``n``); its path."""
    path = os.path.join(os.path.dirname(endpoint), f"lost.{pid}")
    if n:
        with contextlib.suppress(OSError), open(path, "w", encoding="ascii") as f:
            f.write(str(n))
    return path


def frames(data: bytes | bytearray) -> int:
    """How many records (whole or begun) a run of frames holds."""
    pos = count = 0
    while pos < len(data):
        if len(data) - pos < HEADER:
            return count + 1
        pos += HEADER + _LENGTH.unpack_from(data, pos)[0]
        count += 1
    return count


class SocketReporter:
    """A process's reporter: its own connection to the dashboard's socket.

    The observer must never stall the observed: a record the socket cannot
    take right now waits in a bounded backlog, which a helper thread sends as
    soon as it can; past the bound, records are dropped and counted, and a
    ``proc.lost`` record says how many once the socket takes records again.
    Each process connects on its own (a forked child reconnects: see
    :meth:`forked`), so a record is never shared half-written, and a process
    killed or stopped mid-write stalls nobody else's records.
    """

    def __init__(self, path: str, fds: tuple[int, ...] = (), hello: Event | None = None) -> None:
        self.path = path
        self.pid = os.getpid()  # a forked child finds a reporter that is not its own
        # Reentrant: a signal handler of the program may use a primitive while
        # this very thread is in the middle of a record.
        self._lock = threading.RLock()
        self._backlog = bytearray()
        self._lost = 0
        self._flusher: threading.Thread | None = None
        self._sock = self._connect(fds, hello)

    def _connect(self, fds: tuple[int, ...], hello: Event | None) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        if hello is not None:
            # The first message, blocking: it may carry descriptors (the
            # process's stdout and stderr) that the dashboard reads from then on.
            socket.send_fds(sock, [frame(hello)], list(fds))
        sock.setblocking(False)
        return sock

    def __call__(self, event: Event) -> None:
        data = frame(event)
        with self._lock:
            if self._backlog or self._lost:
                self._keep(data)
                return
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                return  # the dashboard is gone; the watchdog ends this process shortly
            if sent == 0:
                self._keep(data)
            elif sent < len(data):
                # The rest of a record already half on the wire must follow it, whatever the bound.
                self._backlog += data[sent:]
                self._start_flusher()

    def _keep(self, data: bytes) -> None:
        """Under the lock: a whole record into the backlog, or dropped and counted if it is full."""
        if len(self._backlog) + len(data) > BACKLOG_BYTES:
            self._lost += 1
        else:
            self._backlog += data
        self._start_flusher()

    def _start_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush, name="mpviz-flush", daemon=True)
            self._flusher.start()

    def _flush(self) -> None:
        """The helper thread: send the backlog as the socket takes it, then end."""
        while True:
            with self._lock:
                if self._lost and not self._backlog:
                    self._backlog += frame(Event(now_ns(), os.getpid(), "proc.lost", "", {"n": self._lost}))
                    self._lost = 0
                if not self._backlog:
                    self._flusher = None
                    return
                try:
                    sent = self._sock.send(self._backlog)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._backlog.clear()
                    self._flusher = None
                    return
                del self._backlog[:sent]
            if sent == 0:
                select.select([], [self._sock], [], 1.0)

    def flush(self, timeout: float = LAST_FLUSH_S) -> None:
        """Send what is left, waiting at most ``timeout`` s for each part: a process's last act.

        The connection stays open: records made later (the exits of children
        that multiprocessing joins at the very end) still go out; the process's
        exit closes it."""
        with self._lock:
            if not self._backlog and not self._lost:
                return
            try:
                self._sock.settimeout(timeout)
                while self._backlog:
                    del self._backlog[: self._sock.send(self._backlog)]
                if self._lost:
                    self._sock.sendall(frame(Event(now_ns(), os.getpid(), "proc.lost", "", {"n": self._lost})))
            except OSError:
                # The dashboard is gone, or stopped: what is left goes with the
                # process.  Say how much in a note beside the socket, which the
                # dashboard reads when this connection closes.
                lost_note(self.path, os.getpid(), self._lost + frames(self._backlog))
            finally:
                self._backlog.clear()
                self._lost = 0
                with contextlib.suppress(OSError):
                    self._sock.setblocking(False)

    def wait_hang_up(self) -> None:
        """Block until the dashboard closes its end (it died): the watchdog's wait."""
        sock = self._sock
        while True:
            try:
                readable, _, _ = select.select([sock], [], [])
            except (OSError, ValueError):
                return  # closed here
            if readable:
                try:
                    if not sock.recv(1, socket.MSG_PEEK):
                        return
                except BlockingIOError:
                    continue
                except OSError:
                    return

    def forked(self) -> None:
        """In a child just forked: forget the parent's connection (without closing the parent's end).

        The lock may have been held by another thread of the parent at the
        fork: a new one.  The caller connects a new reporter for the child."""
        self._lock = threading.RLock()
        self._backlog.clear()
        self._lost = 0
        self._flusher = None
        # Closes only this process's copy of the descriptor: the parent's
        # connection stays open, and its end of file still means the parent ended.
        self._sock.close()


# --- recordings (JSONL) -------------------------------------------------------


def dump_line(event: Event) -> str:
    return json.dumps(list(event), ensure_ascii=False, separators=(",", ":"))


def recording_header(
    lesson: str, params: dict[str, Any], speed: float, seed: int | None, method: str
) -> dict[str, Any]:
    return {
        "lesson": lesson,
        "params": params,
        "speed": speed,
        "seed": seed,
        "start_method": method,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class Recorder:
    """Writes every record of a run to a JSONL file, for ``mpviz replay`` and tests.

    A write that fails (a full disk) is remembered in ``error`` and stops the
    recording; the run decides what to do about it, no traceback.
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.error = ""
        # O_NONBLOCK for the open only: a FIFO that no one reads is refused (ENXIO) instead of waited on.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
        os.set_blocking(fd, True)
        self._file: TextIO | None = open(fd, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.write_lines([json.dumps({"mpviz": 1, **header}, ensure_ascii=False)])

    def write(self, events: Iterable[Event]) -> None:
        self.write_lines(dump_line(e) for e in events)

    def write_lines(self, lines: Iterable[str]) -> None:
        if self._file is None:
            return
        try:
            self._file.writelines(line + "\n" for line in lines)
            self._file.flush()
        except OSError as exc:
            self.error = f"cannot write {self.path}: {exc.strerror or exc}"
            self.close()

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # the error, if any, is already in self.error
                self._file.close()
            self._file = None


def read_recording(lines: Iterable[str]) -> tuple[dict[str, Any], Iterator[Event]]:
    """Split a recording into its header and its events.

    Raises ``Malformed`` (with the line number) for anything that is not a
    recording; callers turn that into one line for the user.
    """
    it = iter(enumerate(lines, 1))
    try:
        _, first = next(it)
    except StopIteration:
        raise Malformed("empty file, not an mpviz recording") from None
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        raise Malformed("line 1 is not JSON: not an mpviz recording") from None
    if not isinstance(header, dict) or header.get("mpviz") != 1:
        raise Malformed("line 1 is not an mpviz recording header")

    def events() -> Iterator[Event]:
        for number, line in it:
            if not line.strip():
                continue
            try:
                yield validate(json.loads(line))
            except (json.JSONDecodeError, Malformed) as exc:
                raise Malformed(f"line {number}: {exc}") from None

    return header, events()
