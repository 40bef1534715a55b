"""What a process prints, as ``proc.output`` records: its stdout or stderr read line by line.

A line written in pieces (a row of dots, a prompt) is shown as it grows: a
``proc.output`` with ``partial`` carries the line so far, and the next one
(partial again, or the line ended) takes its place.  A line read from a pipe is
stamped when it is read, a moment after it was printed (see
:func:`printed_before_exit`); one a process wrote into its records (what Python
prints: ``proc.wrote``, see ``mpviz.sync.printing``) when it was written.
"""

from __future__ import annotations

import codecs
import os
import stat

from mpviz.telemetry import Event

# A line printed in pieces (a prompt, a row of dots) is shown as it is after
# it has not grown for this long: its pieces written together come as one.
PARTIAL_NS = 100_000_000
# The longest printed line kept whole; the rest of a longer one is cut off.
MAX_PRINTED_LINE = 1000


def readable_stream(fd: int) -> bool:
    """A pipe or a socket: what a process's stdout and stderr handed over must be (a file, a
    device: not what a process prints on, and a selector cannot wait on it)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class Printed:
    """The read end of a process's stdout or stderr, and the line not yet complete.

    (A plain class, not a dataclass: a watched program started headless waits for this module,
    and dataclasses' imports cost ~7 ms.)"""

    def __init__(self, fd: int, pid: int, stream: str) -> None:
        self.fd = fd
        self.pid = pid
        self.stream = stream  # "out" or "err"
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.partial = ""  # the line not ended yet
        self.since_ns = 0  # when it last grew
        self.shown = ""  # what of it the last partial record showed
        self.cut = False  # the line is past MAX_PRINTED_LINE: the rest of it is dropped

    @property
    def unshown(self) -> bool:
        return self.partial != self.shown

    def feed(self, chunk: bytes, now: int, into: list[Event]) -> None:
        """Bytes read from the pipe at ``now``: the lines they end."""
        *lines, rest = self.decoder.decode(chunk).split("\n")
        for line in lines:
            if self.cut:  # the end of a line already cut off
                self.cut = False
                continue
            into.append(self.line(self.partial + line, now))
            self.partial = self.shown = ""
        if self.cut:
            return
        if rest:
            self.partial += rest
            self.since_ns = now
        if len(self.partial) > MAX_PRINTED_LINE:
            into.append(self.line(self.partial, now))
            self.partial = self.shown = ""
            self.cut = True

    def end(self, now: int, into: list[Event]) -> None:
        """Every writer has closed the pipe: a line left unended is ended here, as the process left it."""
        text = self.partial + self.decoder.decode(b"", final=True)
        if text or self.shown:
            into.append(self.line(text, now))
        self.partial = self.shown = ""

    def show_partial(self, now: int, into: list[Event], everything: bool = False) -> None:
        """A line written in pieces that stopped growing a while ago: shown as it is so far.
        ``everything``: the run ends, and so does the line."""
        if everything and (self.partial or self.shown):
            into.append(self.line(self.partial, now))
            self.partial = self.shown = ""
        elif self.unshown and now - self.since_ns >= PARTIAL_NS:
            into.append(self.line(self.partial, now, partial=True))
            self.shown = self.partial

    def show_partial_before(self, t: int, into: list[Event]) -> None:
        """Before a chunk read at ``t`` (by the early reader): the line so far, if it had stopped
        growing long enough by then, shown when a read here would have shown it."""
        if self.unshown and t - self.since_ns >= PARTIAL_NS:
            into.append(self.line(self.partial, self.since_ns + PARTIAL_NS, partial=True))
            self.shown = self.partial

    def line(self, text: str, t: int, partial: bool = False) -> Event:
        """A line of this output (``partial``: a line not ended yet, as it is so far)."""
        if not partial:
            text = text.removesuffix("\r")
        if len(text) > MAX_PRINTED_LINE:
            text = text[: MAX_PRINTED_LINE - 1] + "…"
        data: dict[str, object] = {"stream": self.stream, "text": text}
        if partial:
            data["partial"] = True
        return Event(t, self.pid, "proc.output", "", data)


def printed_before_exit(events: list[Event]) -> None:
    """A line is stamped when it is read, a moment after it was printed; a process prints
    nothing after its end, so its exit read with its lines goes after the last of them.

    (The exit moves, not the lines: lines read earlier and still held back must stay
    before them, in the order the process wrote them.)"""
    last: dict[int, int] = {}
    for event in events:
        if event.kind == "proc.output":
            last[event.pid] = max(last.get(event.pid, 0), event.t_ns)
    if not last:
        return
    for i, event in enumerate(events):
        printed = last.get(event.pid)
        if event.kind == "proc.exit" and printed is not None and event.t_ns <= printed:
            events[i] = event._replace(t_ns=printed + 1)
