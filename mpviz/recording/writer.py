"""Writing a recording: a header line, then one record a line (JSONL), as the run goes.

Opened once, by the run, after the command line's checks
(:func:`mpviz.files.unwritable`): never onto a file the lesson itself writes,
never a FIFO that no one reads.  A write that fails (a full disk) is
remembered in ``error`` and stops the recording; the run decides what to do
about it, no traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mpviz.files import same_file
from mpviz.recording.reader import MAX_RECORD_LINE
from mpviz.telemetry import Event, wire

# One encoder for every record (json.dumps with an argument makes a new one each time).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dump_line(event: Event) -> str:
    return _ENCODER.encode(list(event))


def readable_line(event: Event) -> str | None:
    """The record as a line the reader takes back (checked as it will be: by its kind, every
    number finite, every text bounded, the line within ``MAX_RECORD_LINE``); None if it would not."""
    try:
        wire.check(tuple(event))
        line = dump_line(event)
    except ValueError:  # Malformed, or a number JSON has no word for
        return None
    return line if len(line.encode()) < MAX_RECORD_LINE else None


def header(
    subject: dict[str, Any], speed: float, seed: int | None, method: str, scheduled: bool = False
) -> dict[str, Any]:
    """A recording's header: what ran (``{"lesson", "params"}`` or ``{"program", "argv"}``) and how
    (``scheduled``: a scheduled run, whose decisions the recording holds)."""
    return {
        **subject,
        "speed": speed,
        "seed": seed,
        "start_method": method,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        **({"scheduled": True} if scheduled else {}),
    }


class Recorder:
    """Writes every record of a run to a JSONL file, for ``mpviz replay``, ``stats`` and ``export``."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.error = ""
        # Records the reader would not take back (a record made here that no check saw): left out.
        self.left_out = 0
        # O_NONBLOCK for the open only: a FIFO that no one reads is refused (ENXIO) instead of waited on.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
        os.set_blocking(fd, True)
        self._file: TextIO | None = open(fd, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.write_lines([json.dumps({"mpviz": 1, **header}, ensure_ascii=False)])

    def write(self, events: Iterable[Event]) -> None:
        lines = []
        for event in events:
            line = readable_line(event)
            if line is None:
                self.left_out += 1
            else:
                lines.append(line)
        self.write_lines(lines)

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


def open_recorder(path: Path | None, header: dict[str, Any], files: Iterable[tuple[str, str]] = ()) -> Recorder | None:
    """The run's recording (None: not asked for): never onto a file the lesson writes (``files``: flag, path).

    Raises ValueError with one short sentence for the user.
    """
    if path is None:
        return None
    for flag, file in files:
        if same_file(file, path):
            raise ValueError(f"{flag} and --record name the same file: {path}")
    try:
        return Recorder(path, header)
    except OSError as exc:
        reason = "no one reads it" if exc.errno == errno.ENXIO else exc.strerror or str(exc)
        raise ValueError(f"cannot write {path}: {reason}") from None
