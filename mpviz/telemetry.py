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
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from multiprocessing.connection import Connection
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


def encode(event: Event) -> bytes:
    payload = pickle.dumps(tuple(event), protocol=pickle.HIGHEST_PROTOCOL)
    if len(payload) > MAX_RECORD_BYTES:
        # Keep the record, drop what made it too big.
        payload = pickle.dumps((*event[:4], {"truncated": True}), protocol=pickle.HIGHEST_PROTOCOL)
    return payload


class Malformed(ValueError):
    """A record on a channel that is not a valid event."""


def decode(payload: bytes) -> Event:
    try:
        value = pickle.loads(payload)
    except Exception as exc:  # pickle raises many types; all mean "malformed"
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


class ChannelReporter:
    """A child's reporter: every record goes down its pipe at once.

    Sending at once (no buffering in the child) means a killed child loses
    nothing it reported, and the dashboard sees each step as it happens.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __call__(self, event: Event) -> None:
        # try/except rather than contextlib.suppress: this runs for every record.
        try:  # noqa: SIM105
            self.conn.send_bytes(encode(event))
        except OSError:
            pass  # the dashboard is gone; the watchdog ends this process shortly


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
        self._file: TextIO | None = path.open("w", encoding="utf-8")
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
