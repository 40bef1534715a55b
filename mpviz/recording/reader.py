"""Reading a recording: its header, and a stream of its records, every field checked, in time order.

A recording is JSONL: a header (``{"mpviz": 1, "lesson": …}``, ``"program"``, or
``"program"`` and ``"attached"``: the pid)
then one record a line, ``[t_ns, pid, kind, obj, data]``.  Whatever a file
holds, reading it never hangs, never takes memory in proportion to its size,
and never hands the model a value of the wrong kind:

* only a regular file is opened (a FIFO or a device is refused, not read);
* the header's lesson parameters pass the same checks as the command line's;
* a record line is checked field by field, by its kind, as a connection's
  records are (:func:`mpviz.telemetry.wire.check`), and by the lesson's own
  ``facts`` for ``data.value``; a bad line among the first
  records refuses the file (it is not a recording), a bad line later on is
  counted and skipped (:class:`Stream` keeps the count and the first one);
* records a little out of time order (two processes' records written in
  the other order) are sorted within a window of ``REORDER`` records; one
  further back, or a jump of more than a day, stops the stream with its line
  number (:class:`~mpviz.telemetry.Malformed`).

:class:`Stream` reads from any byte offset, and its position can be saved
and restored, so that a replay can start again from a checkpoint.
"""

from __future__ import annotations

import errno
import heapq
import itertools
import json
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from mpviz.lesson import Lesson
from mpviz.program import Attached, Program, Watched
from mpviz.registry import lesson_class
from mpviz.shown import visible
from mpviz.telemetry import Event, Malformed, wire

# The longest line of a recording read whole (a record is at most 4 KiB on the wire).
MAX_RECORD_LINE = 64 * 1024
# Records held back to be sorted in time order.
REORDER = 1024
# A record this much later than every one before it is not from the same run.
MAX_GAP_NS = 24 * 3600 * 1_000_000_000


def open_regular(path: Path) -> BinaryIO:
    """The file, opened for reading if it is a regular file; OSError or Malformed otherwise.

    Opened without blocking first: a FIFO with no writer would block the open itself."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise Malformed("not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- the header -------------------------------------------------------------------------


@dataclass
class Header:
    """What a recording says about itself: a lesson and its checked parameters, or a program (``Watched``)."""

    raw: dict[str, Any]
    name: str  # the lesson's name, or the program's
    lesson: type[Lesson]
    params: dict[str, Any] = field(default_factory=dict)
    size: int = 0  # bytes of the header line: records start there

    @property
    def facts(self) -> dict[str, Any]:
        return self.lesson.facts


HEADER_FIELDS: dict[str, Callable[[Any], bool]] = {
    "lesson": lambda v: isinstance(v, str),
    "program": lambda v: isinstance(v, str),
    "params": lambda v: isinstance(v, dict),
    "speed": lambda v: wire.number(v) and v > 0,
    "seed": lambda v: v is None or wire.whole(v),
    "start_method": lambda v: isinstance(v, str),
    "recorded": lambda v: isinstance(v, str),
    "argv": lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v),
    "attached": lambda v: wire.count(v) and v > 0,
}


def read_header(f: BinaryIO) -> Header:
    """Line 1 of an open recording, checked; Malformed with the reason otherwise."""
    line = f.readline(MAX_RECORD_LINE + 1)
    if not line:
        raise Malformed("empty file, not an mpviz recording")
    if len(line) > MAX_RECORD_LINE:
        raise Malformed("line 1 is too long: not an mpviz recording")
    try:
        raw = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Malformed("line 1 is not JSON: not an mpviz recording") from None
    if not isinstance(raw, dict) or raw.get("mpviz") != 1:
        raise Malformed("line 1 is not an mpviz recording header")
    for key, ok in HEADER_FIELDS.items():
        if key in raw and not ok(raw[key]):
            raise Malformed(f"line 1: {key} {_shown(raw[key])} is not what a recording holds")
    program = raw.get("program")
    if program and "attached" in raw:
        params = {"pid": raw["attached"], "name": program, "argv": raw.get("argv") or []}
        return Header(raw, Attached.called(params), Attached, params, size=len(line))
    if program:
        watched = Program.from_argv(raw.get("argv") or [program])
        return Header(raw, visible(program), Watched, {"program": watched}, size=len(line))
    name = raw.get("lesson")
    try:
        lesson = lesson_class(str(name))
    except KeyError:
        raise Malformed(f"recording of an unknown lesson {name!r}") from None
    recorded = raw.get("params", {})
    params = {}
    for param in lesson.params:
        value = recorded.get(param.name, param.default)
        try:
            params[param.name] = param.check(value)
        except ValueError as exc:
            raise Malformed(f"line 1: {param.flag} {exc}") from None
    return Header(raw, lesson.name, lesson, params, len(line))


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


# --- the records -----------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


# One decoder for every line (json.loads with an argument makes a new one each time).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def check_event(value: Any, facts: dict[str, Any]) -> Event:
    """A parsed line as an event, every field checked by its kind (:func:`mpviz.telemetry.wire.check`,
    as a connection's records are); Malformed with the reason otherwise.

    ``facts`` are the types of the lesson's ``data.value`` fields (``Lesson.facts``)."""
    return _Checker(facts)(value)


class _Checker:
    """:func:`check_event` for one lesson's ``facts``, made once for a stream.

    The lesson's facts decide only fields of ``data.value`` records: any other record is given to
    :func:`~mpviz.telemetry.wire.check` with nothing to ask, which is what it does when asking
    answers None (no call per field)."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self._facts = facts

    def _fact(self, kind: str, key: str, value: Any) -> bool | None:
        facts = self._facts
        if kind != "data.value" or key not in facts:
            return None
        return type(value) in facts[key] if isinstance(facts[key], tuple) else type(value) is facts[key]

    def __call__(self, value: Any) -> Event:
        asks = self._facts and type(value) is list and len(value) == 5 and value[2] == "data.value"
        return wire.check(value, self._fact if asks else None)


def decode_line(text: str) -> Any:
    """A line of JSON (``\n`` at its end or not) as ``json.JSONDecoder.decode`` reads it, the same
    value or the same error: its C scanner is called straight away, and the whole decoder only
    for what that does not settle (white space in front, something after the value)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    if end == len(text) or (end == len(text) - 1 and text[end] == "\n"):
        return value
    return _DECODER.decode(text)


@dataclass
class Position:
    """Where a stream is: what a checkpoint saves to start reading again from there."""

    offset: int  # of the next line to read
    line: int  # its number
    held: list[tuple[int, int, Event]]  # read, not yet given out (a heap: time, line, event)
    given_ns: int  # the time of the last event given out
    latest_ns: int  # the latest time read


class Stream:
    """The records of an open recording from ``position`` on: checked, and in time order.

    Iterating gives events; a bad line is skipped and counted (``bad``, and
    ``first_bad`` for the first one).  Out of order beyond the window, or a
    jump of more than a day, raises Malformed with the line number.
    """

    def __init__(self, f: BinaryIO, position: Position, facts: dict[str, Any]) -> None:
        self._f = f
        self._check = _Checker(facts)
        self._offset = position.offset
        self._line = position.line
        # Held records in time order: a deque while they come in order (nearly always), a heap
        # from the first that does not, until it is empty again.  A sorted deque is a heap too.
        held = list(position.held)
        self._in_order = all(a[:2] <= b[:2] for a, b in itertools.pairwise(held))
        self._held: deque[tuple[int, int, Event]] | list[tuple[int, int, Event]] = (
            deque(held) if self._in_order else held
        )
        self._given_ns = position.given_ns
        self._latest_ns = position.latest_ns
        self._eof = False
        self.bad = 0
        self.first_bad = ""
        f.seek(position.offset)

    @staticmethod
    def start_position(header: Header) -> Position:
        """Where the records of a recording begin: line 2."""
        return Position(header.size, 2, [], 0, 0)

    def position(self) -> Position:
        return Position(self._offset, self._line, list(self._held), self._given_ns, self._latest_ns)

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        while len(self._held) < REORDER and not self._eof:
            self._read_one()
        held = self._held
        if not held:
            raise StopIteration
        if self._in_order:
            t_ns, _, event = held.popleft()  # type: ignore[union-attr]
        else:
            t_ns, _, event = heapq.heappop(held)  # type: ignore[arg-type]
            if not held:
                self._held, self._in_order = deque(), True
        self._given_ns = t_ns
        return event

    def peek_ns(self) -> int | None:
        """The time of the next event, or None at the end (reads ahead as ``next`` would)."""
        while len(self._held) < REORDER and not self._eof:
            self._read_one()
        return self._held[0][0] if self._held else None

    def check_start(self) -> int | None:
        """Read the first window: a bad line there means the file is not a recording (Malformed).

        The time of the first record (None: there is none)."""
        first = self.peek_ns()
        if self.bad:
            raise Malformed(self.first_bad)
        return first

    def _read_one(self) -> None:
        number = self._line
        raw = self._f.readline(MAX_RECORD_LINE + 1)
        if not raw:
            self._eof = True
            return
        self._line += 1
        self._offset += len(raw)
        if len(raw) > MAX_RECORD_LINE and not raw.endswith(b"\n"):
            self._offset += self._skip_rest()
            self._bad(number, "longer than 64 KiB")
            return
        if raw.isspace():
            return
        try:
            event = self._check(decode_line(raw.decode()))
        except Malformed as exc:
            self._bad(number, str(exc))
            return
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
            self._bad(number, "not JSON")
            return
        t_ns = event.t_ns
        if self._latest_ns and t_ns > self._latest_ns + MAX_GAP_NS:
            gap = (t_ns - self._latest_ns) / 1e9
            raise Malformed(f"line {number}: a jump of {gap:.3g} s after the records before it: not one run")
        if t_ns < self._given_ns:
            back = (self._given_ns - t_ns) / 1e9
            raise Malformed(f"line {number}: {back:.3g} s before records already read: not in time order")
        if t_ns > self._latest_ns:
            self._latest_ns = t_ns
        held = self._held
        if not self._in_order:
            heapq.heappush(held, (t_ns, number, event))  # type: ignore[arg-type]
        elif not held or t_ns >= held[-1][0]:
            held.append((t_ns, number, event))
        else:
            self._held = held = list(held)
            self._in_order = False
            heapq.heappush(held, (t_ns, number, event))

    def _skip_rest(self) -> int:
        """Skip to the end of an overlong line, in bounded steps; the bytes skipped."""
        skipped = 0
        while chunk := self._f.readline(MAX_RECORD_LINE):
            skipped += len(chunk)
            if chunk.endswith(b"\n"):
                break
        return skipped

    def close(self) -> None:
        self._f.close()

    def _bad(self, number: int, reason: str) -> None:
        self.bad += 1
        if not self.first_bad:
            self.first_bad = f"line {number}: {reason}"


def read_all(path: Path) -> tuple[Header, Stream]:
    """A recording opened for one pass (``mpviz stats``, ``mpviz export``): its header and its stream."""
    f = open_regular(path)
    try:
        header = read_header(f)
        stream = Stream(f, Stream.start_position(header), header.facts)
        stream.check_start()
    except BaseException:
        f.close()
        raise
    return header, stream
