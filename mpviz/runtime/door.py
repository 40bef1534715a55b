"""Where a run's processes find the dashboard: a private directory with the socket they report
on and the file they read the run's speed from.

Made first, and cheaply (the standard library alone): a watched program run
headless starts as soon as its door exists, while the dashboard's own
modules still load (:mod:`mpviz.runtime.early`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from mpviz.runtime.early import EarlyReader


class Door:
    """A private directory (only this user's processes can reach it): ``endpoint``, the socket every
    process of the run connects to, listening; ``speed_file``, the run's speed as a double."""

    def __init__(self, speed: float = 1.0) -> None:
        self.dir = _private_dir()
        self.endpoint = os.path.join(self.dir, "records")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.endpoint)
        self.listener.listen(socket.SOMAXCONN)
        self.listener.setblocking(False)
        self.speed_file = os.path.join(self.dir, "speed")
        with open(self.speed_file, "wb") as f:
            f.write(struct.pack("d", speed))
        # A program started early: what its processes print, read while the dashboard loads
        # (the channels take it over).
        self.early: EarlyReader | None = None

    def set_speed(self, speed: float) -> None:
        # In place: the processes have the file mapped, and a truncated one would kill them (SIGBUS).
        with open(self.speed_file, "r+b") as f:
            f.write(struct.pack("d", speed))

    def close(self) -> None:
        if self.early is not None:
            self.early.close()
            self.early = None
        self.listener.close()
        # What the directory holds (the socket, the speed, notes of records lost), then itself:
        # flat, so no shutil (~2.6 ms at the end of every run).
        with contextlib.suppress(OSError), os.scandir(self.dir) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.dir)


def _private_dir() -> str:
    """A new directory only this user can enter, as ``tempfile.mkdtemp`` makes one (without
    importing tempfile, whose imports cost a run's start ~7 ms)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    while True:
        path = os.path.join(base, f"mpviz-{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        except OSError:  # no such TMPDIR, a read-only one: wherever tempfile finds room
            import tempfile

            return tempfile.mkdtemp(prefix="mpviz-")
        return path
