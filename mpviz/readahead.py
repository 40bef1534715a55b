"""A recording read by a process of its own, ahead of whoever takes its records.

For one long pass over a recording (``mpviz stats``, ``mpviz export``), reading
it — each line decoded and checked, the records put in time order — is a fifth
of the work: done by another process, on the other CPU, while this one feeds the
model and the trace.

That process is this module, run by the same Python (``python -m
mpviz.readahead FILE``).  It reads the recording with
:func:`~mpviz.recording.reader.read_all`, as this process would, and writes
the records to its standard output in batches, each a length and a marshal of
plain tuples; then the bad lines it skipped, or the reason it stopped.
:class:`Ahead` gives them back as a :class:`~mpviz.recording.reader.Stream`
does: the same records, in the same order, the same count of bad lines, the
same :class:`~mpviz.telemetry.Malformed`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import marshal
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mpviz.recording.reader import read_all
from mpviz.telemetry import Event, Malformed

# Records sent at a time.
BATCH = 2000
# Objects made and not yet freed before the cycle collector runs (700 by default).
COLLECTS_AT = 20_000
# A batch's length, before it.
_LENGTH = struct.Struct("<I")
# An Event from the plain tuple sent, as it was before it was sent.
_event = functools.partial(tuple.__new__, Event)


class Ahead:
    """The records of a recording, from a process of its own (see the module).

    Iterate once; then ``bad`` and ``first_bad`` say what was skipped, as a
    Stream's do.  Malformed if the recording stops being one, OSError if the
    process ends without saying why.  ``close`` ends the process."""

    def __init__(self, path: Path) -> None:
        self.bad = 0
        self.first_bad = ""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, os.fspath(path)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )

    def __iter__(self) -> Iterator[Event]:
        out = self._proc.stdout
        assert out is not None
        while True:
            sent = _receive(out)
            if type(sent) is list:
                yield from map(_event, sent)
            elif type(sent) is dict and "error" in sent:
                raise Malformed(sent["error"])
            elif type(sent) is dict and "bad" in sent:
                self.bad, self.first_bad = sent["bad"], sent["first_bad"]
                return
            else:
                code = self._proc.wait()
                raise OSError(f"the process reading it ended before the end (exit code {code})")

    def close(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _receive(f: IO[bytes]) -> Any:
    """What the process sent next; None at the end of its output."""
    head = f.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = f.read(size)
    return marshal.loads(data) if len(data) == size else None


def _send(f: IO[bytes], value: Any) -> None:
    data = marshal.dumps(value)
    f.write(_LENGTH.pack(len(data)))
    f.write(data)


def main(argv: list[str]) -> int:
    """Read the recording ``argv[0]`` and send its records (see the module)."""
    # Ctrl-C is for the process that reads from this one: this one ends when its output closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Records in the reader's window and in a batch live a while: the cycle collector would run
    # every few hundred of them, for cycles they never make.
    gc.set_threshold(COLLECTS_AT, *gc.get_threshold()[1:])
    out = sys.stdout.buffer
    try:
        try:
            _, stream = read_all(Path(argv[0]))
            with contextlib.closing(stream):
                batch = []
                for event in stream:
                    batch.append(tuple(event))
                    if len(batch) == BATCH:
                        _send(out, batch)
                        batch = []
                _send(out, batch)
        except (OSError, Malformed) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _send(out, {"error": reason})
        else:
            _send(out, {"bad": stream.bad, "first_bad": stream.first_bad})
        out.flush()
    except BrokenPipeError:
        os._exit(0)  # its reader went away: nobody to tell, not even at exit
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
