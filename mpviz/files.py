"""The files a user names, checked and written, with one wording: the system's own (``os.strerror``).

Checked before anything starts, so that a refused run creates nothing and
says why in one line.  Written (:func:`written`: ``mpviz export -o``,
``--trace-out``) as the ticket file is: through a symlink to its target; a
regular file replaced whole or not at all, keeping its mode; a character
device or a FIFO written to as it is (a FIFO nobody reads is refused), never
replaced by a regular file.  An output that is one of the run's inputs is
refused before anything starts (:func:`same_file`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from typing import TextIO


def unwritable(path: Path) -> str:
    """Why a file cannot be written at ``path`` (empty if it can).

    It creates nothing and opens nothing (a FIFO's reader would see its end):
    the file is opened once, by whoever writes it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        folder = path.parent
        try:
            if not stat.S_ISDIR(folder.stat().st_mode):
                return os.strerror(errno.ENOTDIR)
        except OSError as exc:
            return exc.strerror or str(exc)
        return "" if os.access(folder, os.W_OK | os.X_OK) else os.strerror(errno.EACCES)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISDIR(mode):
        return os.strerror(errno.EISDIR)
    if stat.S_ISBLK(mode):
        return "it is a block device"
    return "" if os.access(path, os.W_OK) else os.strerror(errno.EACCES)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode, or (not made yet) the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _umask() -> int:
    """This process's umask, read without changing it (``os.umask`` sets it, for every thread)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


class CannotWrite(Exception):
    """An output could not be written: ``cannot write PATH: the system's reason``."""


@contextlib.contextmanager
def written(path: Path) -> Iterator[TextIO]:
    """A text file to write ``path`` with, as the ticket file is written (see the module).

    CannotWrite, with the system's reason, if it cannot be opened or written (a FIFO that nobody
    reads: "No such device or address"); a regular file is then left as it was."""
    try:
        with _written(path) as f:
            yield f
    except OSError as exc:
        raise CannotWrite(f"cannot write {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _written(path: Path) -> Iterator[TextIO]:
    target = Path(os.path.realpath(path))  # through a symlink: its target is what is written
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        # Written to as it is: a device takes the bytes, a FIFO's reader reads them.  Without
        # blocking for the open: a FIFO nobody reads would wait for ever (ENXIO instead).
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(fd, True)
        with open(fd, "w", encoding="utf-8") as f:
            yield f
        return
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "not a regular file, a FIFO or a character device", str(path))
    keep = stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask()
    # Whole or not at all: a temp file beside it, then renamed over it.
    import tempfile  # here: the command line imports this module before a program's early start

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with open(fd, "w", encoding="utf-8") as f:
            yield f
        os.chmod(tmp, keep)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def stdout_to_devnull() -> None:
    """Point the real stdout at /dev/null: its reader went away (``| head``), and the interpreter's
    last flush must find nothing to break on (no BrokenPipeError at exit)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
