"""The pipes the processes of a run print on, as the channels read them (see channels.py).

Each pipe is read as its process's lines (:class:`mpviz.runtime.printed.Printed`),
from the channels' one selector: only the reading thread reads; any thread may
add a pipe or ask who still prints, under the channels' lock (which also
guards the selector).
"""

from __future__ import annotations

import operator
import os
import selectors
import threading

from mpviz.runtime.printed import Printed, readable_stream
from mpviz.telemetry import Event, now_ns

_T_NS = operator.itemgetter(0)  # a record's time


class Outputs:
    """The open pipes, by descriptor."""

    def __init__(self, selector: selectors.BaseSelector, lock: threading.Lock, chunk: int) -> None:
        self._selector = selector
        self._lock = lock
        self._chunk = chunk  # read at most this much at a time
        self._by_fd: dict[int, Printed] = {}
        # What processes wrote into their records (``proc.wrote``: see mpviz.sync.printing), by
        # (pid, descriptor): its lines are made here, each stamped when it was written.
        self._written: dict[tuple[int, int], Printed] = {}

    def add(self, pid: int, fd: int, stream: str) -> None:
        """A pipe ``pid`` prints on (``stream``: out or err), read as its output from now on."""
        os.set_blocking(fd, False)
        output = Printed(fd, pid, stream)
        with self._lock:
            self._selector.register(fd, selectors.EVENT_READ, output)
            self._by_fd[fd] = output

    def add_handed(self, event: Event, fds: list[int]) -> None:
        """The pipes a process handed over with its first message (``event``, which names them)."""
        streams = event.data.get("streams", ())
        names = list(streams) if isinstance(streams, list | tuple) else []
        for fd, stream in zip(fds, names, strict=False):
            if readable_stream(fd):
                self.add(event.pid, fd, "err" if stream == "err" else "out")
            else:  # a file, a device: not what a process prints on, and a selector cannot wait on it
                os.close(fd)
        for fd in fds[len(names) :]:
            os.close(fd)

    def get(self, fd: int) -> Printed | None:
        return self._by_fd.get(fd)

    def printing(self) -> set[int]:
        """The processes whose output is still open: someone may still write on it."""
        with self._lock:
            return {output.pid for output in self._by_fd.values()}

    def of(self, pid: int | None = None) -> list[Printed]:
        """The open pipes (of ``pid``; None: every one)."""
        with self._lock:
            return [o for o in self._by_fd.values() if pid is None or o.pid == pid]

    def unshown(self) -> bool:
        """Whether a line written in pieces waits to be shown as it is so far."""
        return any(o.unshown for o in self._by_fd.values()) or any(o.unshown for o in self._written.values())

    def written(self, got: list[Event]) -> None:
        """The writes processes made into their records (``proc.wrote``), in ``got``, replaced by the
        lines they end (each stamped when its end was written: in order with the process's records);
        and a process's line left unended when it exited, ended there."""
        wrote: list[Event] = []
        exits: list[Event] = []
        for event in got:
            kind = event.kind
            if kind == "proc.wrote":
                wrote.append(event)
            elif kind == "proc.exit":
                exits.append(event)
        if not wrote and not (exits and self._written):
            return
        lines: list[Event] = []
        if wrote:
            got[:] = [event for event in got if event.kind != "proc.wrote"]
            # In the order they were written: a batch puts a process's ring before its connection,
            # where its first records went (a line's first pieces among them).
            for event in sorted(wrote, key=_T_NS):
                fd = 2 if event.data.get("fd") == 2 else 1
                output = self._written.get((event.pid, fd))
                if output is None:
                    output = self._written[(event.pid, fd)] = Printed(-1, event.pid, "err" if fd == 2 else "out")
                text = event.data.get("text", "")
                output.feed(text.encode("latin-1", "replace"), event.t_ns, lines)
        for event in exits:
            # Its last line, unended: ended where the process left it (as its pipe's end ends a line).
            for fd in (1, 2):
                output = self._written.pop((event.pid, fd), None)
                if output is not None:
                    output.end(output.since_ns, lines)
        got.extend(lines)

    def read(self, output: Printed, into: list[Event]) -> None:
        """What is waiting on one pipe, as lines; its end, if every writer closed it."""
        # Stamped before the read: the process may write more, and end, the moment the read
        # frees its pipe, before this thread gets on (a line stamped after its process's end
        # is moved before the end, and would then pass lines read later: see printed_before_exit).
        now = now_ns()
        try:
            chunk = os.read(output.fd, self._chunk)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.end(output, now, into)
            return
        output.feed(chunk, now, into)

    def end(self, output: Printed, now: int, into: list[Event]) -> None:
        """Every writer has closed it: its last line, and the pipe let go."""
        output.end(now, into)
        with self._lock:
            if self._by_fd.pop(output.fd, None) is not None:
                self._selector.unregister(output.fd)
        os.close(output.fd)
        # Its process has ended (or closed it): what it wrote into its records is let go too, unless
        # a line of it waits for its end (still to be read from its records, or ended at its exit).
        key = (output.pid, 2 if output.stream == "err" else 1)
        written = self._written.get(key)
        if written is not None and not written.partial and not written.shown:
            del self._written[key]

    def show_partials(self, now: int, into: list[Event], everything: bool = False) -> None:
        """Lines written in pieces that stopped growing a while ago: shown as they are so far.

        ``everything``: the run ends, and so do those lines."""
        for output in [*self._by_fd.values(), *self._written.values()]:
            output.show_partial(now, into, everything)

    def close(self) -> None:
        """Every pipe let go (the selector is the channels' to close)."""
        with self._lock:
            outputs = list(self._by_fd.values())
            self._by_fd.clear()
            self._written.clear()
        for output in outputs:
            os.close(output.fd)
