"""What a process prints through ``sys.stdout``/``sys.stderr``, written into its records.

A process's output pipe is read by the dashboard a moment after each write,
and its records are stamped when they are made: a line printed while a lock
is held would otherwise be shown after the release that followed it.  So a
write through Python's streams goes into the process's records instead
(``proc.wrote``, stamped before it is made, in order with its operations),
and the dashboard makes its lines from them (``mpviz.runtime.outputs``).

Nothing is ever lost for it: a write the records cannot take now (the ring
full, the connection's backlog full, a write too big, a signal handler's
print in the middle of a record, no connection) goes on the pipe as before,
and so does every later one of that stream in this process (its lines stay in
the order they were written).  What is written on the descriptor itself
(``os.write``, a C library, a subprocess) goes on the pipe, stamped when read.
A program that points the descriptor elsewhere (``os.dup2`` of a file onto 1)
is written there: each write checks the descriptor is still the pipe.
"""

from __future__ import annotations

import io
import os
import sys

from mpviz.telemetry import Event, now_ns, record

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# The most of a write one record carries (a longer write is several records).
CHUNK = 1024

# This process's pipes, by descriptor: (device, inode) as they were taken (a forked child takes its own).
_pipes: dict[int, tuple[int, int]] = {}


class FileIO(io.FileIO):
    """The raw stream under a taken ``sys.stdout``/``sys.stderr`` (its name is io's: a program that
    looks at ``sys.stdout.buffer.raw`` sees what it would see unwatched, but for this class)."""

    # The process (pid) in which this stream went back to its pipe for good, if one did.
    _on_pipe = 0

    def write(self, b: ReadableBuffer, /) -> int:
        if self._on_pipe != os.getpid():
            data = bytes(b)
            try:
                done = self._recorded(data)
            except Exception:  # (never the program's problem: the pipe takes it)
                done = 0
            if done == len(data):
                return done
            if done is not None:  # refused: this stream's writes go on the pipe from now on
                self._on_pipe = os.getpid()
                if done:
                    # The rest on the pipe, here: under ``python -u`` no buffer would write it.
                    return done + super().write(memoryview(data)[done:])
        return super().write(b)

    def _recorded(self, data: bytes) -> int | None:
        """How much of ``data`` went into this process's records (0: none, refused); None: not for
        the records now (no connection, or the descriptor is not the pipe), written as it is."""
        fd = self.fileno()
        pipe = _pipes.get(fd)
        printed = record.printed
        if pipe is None or printed is None:
            return None
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != pipe:
            return None  # the program pointed the descriptor elsewhere: written there
        pid = os.getpid()
        done = 0
        while done < len(data):
            chunk = data[done : done + CHUNK]
            text = chunk.decode("latin-1")  # (bytes as they are: the dashboard decodes the lines)
            if not printed(Event(now_ns(), pid, "proc.wrote", "", {"fd": fd, "text": text})):
                break
            done += len(chunk)
        return done


def take(fd: int) -> None:
    """``sys.stdout`` (fd 1) or ``sys.stderr`` (2), now a pipe to the dashboard: written into the
    records from now on (a stream the program replaced, or one already taken, is left as it is)."""
    name = "stdout" if fd == 1 else "stderr"
    try:
        st = os.fstat(fd)
    except OSError:
        return
    _pipes[fd] = (st.st_dev, st.st_ino)
    stream = getattr(sys, name)
    if not isinstance(stream, io.TextIOWrapper):
        return
    # Buffered, or not (``python -u``, PYTHONUNBUFFERED: the text layer writes straight to the raw one).
    buffer = stream.buffer
    old = buffer.raw if isinstance(buffer, io.BufferedWriter) else buffer
    if not isinstance(old, io.FileIO):
        return
    try:
        if stream.fileno() != fd:
            return
    except (OSError, ValueError):
        return
    if isinstance(old, FileIO):
        return  # a forked child's, taken in its parent: the same object writes for this process now
    stream.flush()
    raw = FileIO(fd, "wb", closefd=False)
    raw.name = old.name  # ("<stdout>"; settable, as Python's own start sets it)
    taken = io.TextIOWrapper(
        io.BufferedWriter(raw) if old is not buffer else raw,
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=True,  # (a print shows when it is made)
        write_through=stream.write_through,
    )
    taken.mode = stream.mode  # type: ignore[misc]
    setattr(sys, name, taken)
    if getattr(sys, f"__{name}__") is stream:
        setattr(sys, f"__{name}__", taken)


FileIO.__module__ = io.FileIO.__module__
FileIO.__qualname__ = io.FileIO.__qualname__
